"""parse_file on the real corpus and on every kind of bad file, each made in tmp_path."""
from __future__ import annotations

import shutil
import tracemalloc
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from ingest.parse import ParseError, parse_file, sniff_format
from sample_files import text_pdf, zip_bomb_docx

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
PAPERS = sorted(CORPUS.glob("*.pdf")) + sorted(CORPUS.glob("*.txt"))
SMALL_PDF = CORPUS / "kent_2025-03_cabinet_family-hubs-call-in-report.pdf"
QPR = CORPUS / "kent_2025-03_cabinet_quarterly-performance-report-q3-2024-25.pdf"



def problem_of(path: Path) -> str:
    with pytest.raises(ParseError) as caught:
        parse_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    return caught.value.problem


@pytest.mark.parametrize("path", PAPERS, ids=lambda p: p.name)
def test_every_corpus_paper_parses_to_text(path):
    parsed = parse_file(path)
    assert parsed.doc_id == path.stem
    assert parsed.meta.title is None  # metadata is not this stage's job
    table_words = sum(len(cell.split()) for table in parsed.tables for row in [table.header, *table.rows] for cell in row)
    assert sum(len(page.split()) for page in parsed.pages) + table_words > 300
    if path.suffix == ".pdf":
        assert parsed.format == "pdf" and parsed.has_pages and len(parsed.pages) > 1
    else:
        assert parsed.format == "txt" and not parsed.has_pages and len(parsed.pages) == 1


def test_corpus_has_all_40_papers():
    assert len(PAPERS) == 40


def test_footnote_digit_is_kept_apart_from_the_number_it_follows():
    page = parse_file(QPR).pages[2]
    assert "17 of the 38[1] indicators" in page
    assert "381 indicators" not in page


def test_format_is_sniffed_from_content_not_name(tmp_path):
    disguised = tmp_path / "agenda.txt"
    shutil.copy(SMALL_PDF, disguised)
    assert sniff_format(disguised) == "pdf"
    notes = tmp_path / "notes.md"
    notes.write_text("# Heading\n\nSome text.\n")
    assert sniff_format(notes) == "md"


def test_binary_file_named_pdf_is_refused(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(bytes(range(256)) * 20)
    assert "not a PDF" in problem_of(path)


def test_unknown_binary_is_refused(tmp_path):
    path = tmp_path / "blob.dat"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    assert "unrecognised binary" in problem_of(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert problem_of(path) == "empty file"


def test_zero_page_pdf(tmp_path):
    path = tmp_path / "no pages.pdf"
    with open(path, "wb") as handle:
        PdfWriter().write(handle)
    assert problem_of(path) == "PDF has no pages"


def test_truncated_pdf(tmp_path):
    path = tmp_path / "truncated.pdf"
    data = SMALL_PDF.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    problem = problem_of(path)
    assert "corrupt or truncated PDF" in problem or "no text layer" in problem


def test_corrupt_pdf(tmp_path):
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"this is not a pdf body at all\n" * 50)
    assert "corrupt or truncated PDF" in problem_of(path)


def test_encrypted_pdf_with_a_password_is_refused(tmp_path):
    path = text_pdf(tmp_path / "locked.pdf", [["Secret cabinet paper text."]], user_password="secret")
    assert problem_of(path) == "encrypted PDF; it needs a password"


def test_encrypted_pdf_with_empty_user_password_is_parsed(tmp_path):
    path = text_pdf(tmp_path / "owner-only.pdf", [["The vacancy rate target is 10 per cent."]], user_password="")
    parsed = parse_file(path)
    assert "vacancy rate target is 10 per cent" in parsed.pages[0]


def test_pdf_without_text_layer_needs_ocr(tmp_path):
    path = tmp_path / "scan.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as handle:
        writer.write(handle)
    assert problem_of(path) == "no text layer; needs OCR"


def test_huge_pdf_parses_page_by_page_in_bounded_memory(tmp_path):
    pages = [
        [f"Paragraph {n} records {page * 7 + n * 3} placements for looked after children." for n in range(45)]
        for page in range(200)
    ]
    path = text_pdf(tmp_path / "huge.pdf", pages)
    tracemalloc.start()
    try:
        parsed = parse_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(parsed.pages) == 200
    assert "Paragraph 20 records 1453 placements" in parsed.pages[199]
    text_bytes = sum(len(page) for page in parsed.pages)
    # Memory follows the text kept (cleaning compares pages), not the file's parsed objects.
    assert peak < 15 * text_bytes, (peak, text_bytes)


@pytest.mark.parametrize(
    "encoding, prefix",
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("cp1252", b"")],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "windows-1252"],
)
def test_text_encodings_decode_correctly(tmp_path, encoding, prefix):
    text = "The Council’s budget is £4.2m – a “fair” settlement for Café staff.\n"
    path = tmp_path / "paper.txt"
    path.write_bytes(prefix + text.encode(encoding))
    parsed = parse_file(path)
    assert parsed.pages == [text.strip()]


def test_file_names_with_spaces_and_non_ascii(tmp_path):
    path = tmp_path / "Comité paper – März 2025.txt"
    path.write_text("1. Paragraph one of the paper.\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.doc_id == "Comité paper – März 2025"
    assert "Paragraph one" in parsed.pages[0]


def test_docx_keeps_order_headings_and_tables(tmp_path):
    document = docx.Document()
    document.add_heading("Fostering Service Review", level=1)
    document.add_paragraph("1. The service recruited 40 households this year.")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("Measure", "Value"), ("Households", "40"), ("Vacancy rate", "10%")]):
        for cell, value in zip(row.cells, cells):
            cell.text = value
    document.add_paragraph("2. Recruitment continues next year.")
    path = tmp_path / "review.docx"
    document.save(path)

    parsed = parse_file(path)
    assert parsed.format == "docx" and not parsed.has_pages
    text = parsed.pages[0]
    assert text.index("# Fostering Service Review") < text.index("1. The service") < text.index("Measure\tValue")
    assert "Measure\tValue\nHouseholds\t40\nVacancy rate\t10%" in text
    assert text.index("Vacancy rate\t10%") < text.index("2. Recruitment")


def test_docx_zip_bomb_is_refused_before_inflating(tmp_path):
    path = zip_bomb_docx(tmp_path / "bomb.docx")
    assert path.stat().st_size < 1024 * 1024
    assert "zip bomb" in problem_of(path)


def test_zip_that_is_not_a_word_document(tmp_path):
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "not a Word document" in problem_of(path)
