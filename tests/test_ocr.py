"""Scanned pages: a real paper's pages rendered to pictures and wrapped as a PDF with no text layer,
read back by Tesseract, answerable, and cited to their page as "text recognised from a scan"."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter

from core.settings import OcrSettings, load_settings
from ingest.parse import ParseError, parse_file
from ingest.pipeline import ingest_paths
from sample_files import text_pdf
from server import cli as cli_module

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PAPER = CORPUS / "kent_2025-01_family-hubs-decision-report-24-00093.pdf"
QUESTIONNAIRES_PAGE = 11  # "A total of 1,016 formal questionnaires were returned ..."
LEASE_PAGE = 13  # "... a lease that costs circa £54,000 annually"
SCAN_DPI = 200


def scanned_pages(path: Path, pages: list[int]) -> Path:
    """`pages` of the paper as pictures only, one image per page, the way a scanner makes a PDF."""
    import pypdfium2 as pdfium

    source = pdfium.PdfDocument(str(PAPER))
    try:
        images = [source[number - 1].render(scale=SCAN_DPI / 72).to_pil().convert("L") for number in pages]
    finally:
        source.close()
    images[0].save(path, "PDF", resolution=SCAN_DPI, save_all=True, append_images=images[1:])
    return path


def paper_with_scanned_appendix(folder: Path) -> Path:
    """Page 1 of the paper as it is (a text layer), then two of its pages as scans: pages 2 and 3."""
    scans = scanned_pages(folder / "scans.pdf", [QUESTIONNAIRES_PAGE, LEASE_PAGE])
    writer = PdfWriter()
    writer.add_page(PdfReader(PAPER).pages[0])
    for page in PdfReader(scans).pages:
        writer.add_page(page)
    path = folder / "papers" / "family-hubs-with-scans.pdf"
    path.parent.mkdir()
    with open(path, "wb") as handle:
        writer.write(handle)
    scans.unlink()
    return path


@pytest.mark.slow
def test_scanned_pages_are_read_answerable_and_cited_to_their_page_as_a_scan(tmp_path, shared_embedder):
    from index.service import Scrutiny

    path = paper_with_scanned_appendix(tmp_path)
    assert [page.extract_text().strip() for page in PdfReader(path).pages[1:]] == ["", ""]  # no text layer at all

    parsed = parse_file(path, ocr=OcrSettings(dpi=SCAN_DPI, workers=2))
    assert parsed.ocr_pages == [2, 3]  # only the pages without a text layer, numbered as in the file
    assert "1,016" in parsed.pages[1] and "54,000" in parsed.pages[2]
    assert "Family Hub" in parsed.pages[0]

    settings = load_settings(tmp_path / "index")
    settings.ocr.dpi = SCAN_DPI
    report = ingest_paths([path.parent], settings, shared_embedder)
    assert report.added == [path.stem] and not report.skipped, report.skipped
    answer = Scrutiny(settings, shared_embedder).ask("How many questionnaires came back in the Family Hubs consultation?")
    assert answer.found and "1,016" in answer.answer, answer.answer
    quoted = answer.citations[answer.lines[0].citation - 1]
    assert quoted.page == 2 and quoted.ocr is True
    assert all(citation.ocr for citation in answer.citations if citation.page in (2, 3))
    assert quoted.to_json()["ocr"] is True
    # Passages wholly on the page with a text layer are not marked; those reaching a scanned page are.
    scrutiny = Scrutiny(settings, shared_embedder)
    document = scrutiny.documents[path.stem]
    chunks = scrutiny.state().reader.chunks_of(path.stem)
    assert document.ocr_pages == [2, 3]
    assert all(document.recognised_from_scan(c.page, c.page_end) == ((c.page_end or c.page) >= 2) for c in chunks)
    # The paper page says which pages were read from a scan.
    from fastapi.testclient import TestClient

    from server.app import create_app

    with TestClient(create_app(settings, scrutiny)) as client:
        page = client.get(f"/documents/{path.stem}").text
    marks = re.findall(r'<p class="page-mark">Page (\d+)( \(text recognised from a scan\))?</p>', page)
    assert marks and all(bool(scan) == (int(number) >= 2) for number, scan in marks), marks
    assert any(scan for _, scan in marks)


def test_no_ocr_keeps_the_old_refusal_for_a_scan(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    scanned_pages(folder / "scan.pdf", [QUESTIONNAIRES_PAGE])
    result = CliRunner().invoke(cli_module.cli, ["ingest", str(folder), "--index", str(tmp_path / "index"), "--quiet", "--no-ocr"])
    assert result.exit_code == 1
    assert f"skipped: {folder / 'scan.pdf'}: no text layer; needs OCR" in result.stderr.splitlines()


def test_ocr_that_cannot_run_says_why_and_keeps_the_message(tmp_path):
    scan = scanned_pages(tmp_path / "scan.pdf", [QUESTIONNAIRES_PAGE])
    with pytest.raises(ParseError) as missing_language:
        parse_file(scan, ocr=OcrSettings(language="zzz"))
    assert missing_language.value.problem == "no text layer; needs OCR (tesseract has no language data for zzz)"
    with pytest.raises(ParseError) as too_slow:
        parse_file(scan, ocr=OcrSettings(page_timeout=0.001))
    assert too_slow.value.problem == "no text layer; needs OCR (page 1: OCR stopped after 0.001 s)"


def test_blank_pages_are_not_sent_to_ocr_and_text_pages_are_left_alone(tmp_path):
    blank = tmp_path / "blank.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with open(blank, "wb") as handle:
        writer.write(handle)
    with pytest.raises(ParseError) as raised:
        parse_file(blank, ocr=OcrSettings(page_timeout=0.001))  # a page sent to Tesseract would time out instead
    assert raised.value.problem == "no text layer; needs OCR (OCR found no text)"
    with_text = text_pdf(tmp_path / "text.pdf", [["The vacancy rate was 12 per cent."], []])
    parsed = parse_file(with_text, ocr=OcrSettings(page_timeout=0.001))
    assert parsed.ocr_pages == [] and "vacancy rate was 12 per cent" in parsed.pages[0]
    assert parsed.warnings == ["no text on page(s) 2"]


def test_a_passage_is_marked_as_a_scan_when_any_of_its_pages_was_recognised():
    from core.records import Document, DocumentMeta

    document = Document("d", "d.pdf", "pdf", "0" * 64, 5, 3, DocumentMeta(), ocr_pages=[2, 3])
    assert not document.recognised_from_scan(1, 1) and not document.recognised_from_scan(4, 5)
    assert document.recognised_from_scan(1, 2) and document.recognised_from_scan(3, None)
    assert not document.recognised_from_scan(None, None)
