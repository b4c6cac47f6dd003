"""Metadata detection on the real corpus papers, and sidecar loading and precedence."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pypdf
import pytest

from core.records import DocumentMeta, ParsedDocument
from ingest.metadata import detect_metadata, load_sidecar_metadata, resolve_metadata

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

# The seed README's table, dates in ISO form ("March 2004" and "May 2009" as the 1st of the month).
SEED_TABLE = {
    "000_8455fbcf33d06d16": DocumentMeta(
        "Suffolk County Council", "Executive Committee", "2004-03-01",
        "Review update of performance of social care services to children and families", "E04/26"),
    "001_29f912cc4fd0f26b": DocumentMeta(
        "Sunderland City Council", "Corporate Parenting Board", "2016-02-01",
        "Sunderland Children's Services Progress Report", None),
    "002_4b913a1593e6a075": DocumentMeta(
        "Suffolk County Council", "Executive Committee", "2005-03-15",
        "Review of Children and Family Social Care Services", "E05/23"),
    "003_eccd24399c49994d": DocumentMeta(
        "Peterborough City Council", "Cabinet", "2013-09-23", "Children's Services Director's Update", None),
    "004_b4e36d0c51f0492b": DocumentMeta(
        "West Sussex County Council", "Cabinet Member for Children and Young People's Services", "2009-05-01",
        "Children's Delivery Programme", "CYP24 (08/09)"),
}

# What each seed's own text states; None where the paper is silent (000 has no date line, and
# the only paper numbers it prints are of other reports).
SEED_DETECTED = {
    "000_8455fbcf33d06d16": DocumentMeta(
        "Suffolk County Council", None, None,
        "Review update of performance of social care services to children and families", None),
    "001_29f912cc4fd0f26b": SEED_TABLE["001_29f912cc4fd0f26b"],
    "002_4b913a1593e6a075": SEED_TABLE["002_4b913a1593e6a075"],
    "003_eccd24399c49994d": SEED_TABLE["003_eccd24399c49994d"],
    "004_b4e36d0c51f0492b": SEED_TABLE["004_b4e36d0c51f0492b"],
}

KENT = "Kent County Council"
# Kent source list values, and what each paper's opening pages state.
KENT_TABLE = {
    "kent_2024-10_corporate-parenting-panel-minutes": (
        DocumentMeta(KENT, "Corporate Parenting Panel", "2024-10-29", "Corporate Parenting Panel minutes, 29 October 2024", None),
        DocumentMeta(KENT, "Corporate Parenting Panel", "2024-10-29", "Corporate Parenting Panel minutes, 29 October 2024", None),
    ),
    "kent_2025-01_cabinet_integrated-care-strategy-delivery-plan": (
        DocumentMeta(KENT, "Cabinet", "2025-01-30", "Decision 24/00115 - KCC Integrated Care Strategy Delivery Plan", "24/00115"),
        DocumentMeta(KENT, "Cabinet", "2025-01-30", "Kent County Council Integrated Care Strategy (KCC ICS) Delivery Plan", "24/00115"),
    ),
    "kent_2025-01_family-hubs-record-of-decision-24-00093": (
        DocumentMeta(KENT, "Cabinet Member decision", "2025-01-17", "Record of Decision 24/00093 - Commissioned Family Hub Contracts", "24/00093"),
        DocumentMeta(KENT, "Cabinet Member for Integrated Children's Services", None, "Commissioned Family Hub Contracts", "24/00093"),
    ),
    "kent_2025-03_council_minutes": (
        DocumentMeta(KENT, "County Council", "2025-03-13", "County Council minutes, 13 March 2025", None),
        DocumentMeta(KENT, "County Council", "2025-03-13", "County Council minutes, 13 March 2025", None),
    ),
    "kent_2025-03_council_questions-and-answers": (
        DocumentMeta(KENT, "County Council", "2025-03-13", "Questions put and answers given - County Council, 13 March 2025", None),
        DocumentMeta(KENT, "County Council", "2025-03-13", None, None),
    ),
    "kent_2025-03_cabinet_qpr-q3-2024-25-cover-report": (
        DocumentMeta(KENT, "Cabinet", "2025-03-04", "Quarterly Performance Report Q3 2024/25 - cover report", None),
        DocumentMeta(KENT, "Cabinet", "2025-03-04", "Quarterly Performance Report, Quarter 3, 2024/25", None),
    ),
}


def text_document(path: Path) -> ParsedDocument:
    return ParsedDocument(doc_id=path.stem, path=str(path), format="txt",
                          pages=[path.read_text(encoding="utf-8")], has_pages=False)


def pdf_document(path: Path, first_pages: int = 3) -> ParsedDocument:
    reader = pypdf.PdfReader(path)
    pages = [page.extract_text() or "" for page in reader.pages[:first_pages]]
    return ParsedDocument(doc_id=path.stem, path=str(path), format="pdf", pages=pages, has_pages=True)


@pytest.mark.parametrize("doc_id", sorted(SEED_DETECTED))
def test_detects_what_each_seed_states(doc_id):
    detected = detect_metadata(text_document(CORPUS / f"{doc_id}.txt"))
    assert asdict(detected) == asdict(SEED_DETECTED[doc_id])


@pytest.mark.parametrize("doc_id", sorted(SEED_TABLE))
def test_resolved_seed_metadata_equals_seed_table(doc_id):
    sidecars = load_sidecar_metadata(CORPUS)
    resolved = resolve_metadata(detect_metadata(text_document(CORPUS / f"{doc_id}.txt")), sidecars.get(doc_id))
    assert resolved == SEED_TABLE[doc_id]


@pytest.mark.parametrize("doc_id", sorted(KENT_TABLE))
def test_kent_pdf_detection_and_resolution(doc_id):
    listed, stated = KENT_TABLE[doc_id]
    detected = detect_metadata(pdf_document(CORPUS / f"{doc_id}.pdf"))
    assert detected == stated
    assert resolve_metadata(detected, load_sidecar_metadata(CORPUS).get(doc_id)) == listed


def test_body_dates_and_cited_papers_are_not_taken_as_the_papers_own():
    # 000 mentions "December 2004", "September 2003" and "(paper E03/102)" in its body.
    detected = detect_metadata(text_document(CORPUS / "000_8455fbcf33d06d16.txt"))
    assert detected.date is None and detected.reference is None
    # 002's own number is E05/23 even though it cites "(paper E04/26)" and "(paper E04/107)".
    assert detect_metadata(text_document(CORPUS / "002_4b913a1593e6a075.txt")).reference == "E05/23"


def test_corpus_sidecar_describes_every_paper_with_iso_dates():
    sidecars = load_sidecar_metadata(CORPUS)
    papers = {p.stem for p in CORPUS.iterdir() if p.suffix in {".pdf", ".txt"}}
    assert set(sidecars) == papers
    for doc_id, record in sidecars.items():
        assert {"authority", "committee", "date", "title"} <= set(record), doc_id
        assert len(record["date"]) == 10 and record["date"][4] == "-", doc_id


def test_sidecar_overrides_detected_values_field_by_field(tmp_path):
    (tmp_path / "metadata.yaml").write_text(
        "002_4b913a1593e6a075:\n"
        "  committee: Caring and Protecting Overview and Scrutiny Committee\n"
        "  date: '2005-03-16'\n"
        "  colour: blue\n",
        encoding="utf-8",
    )
    sidecar = load_sidecar_metadata(tmp_path)["002_4b913a1593e6a075"]
    assert sidecar == {"committee": "Caring and Protecting Overview and Scrutiny Committee", "date": "2005-03-16"}
    resolved = resolve_metadata(detect_metadata(text_document(CORPUS / "002_4b913a1593e6a075.txt")), sidecar)
    assert resolved.committee == "Caring and Protecting Overview and Scrutiny Committee"
    assert resolved.date == "2005-03-16"
    assert resolved.reference == "E05/23"  # not in the sidecar, so the detected value stands
    assert resolved.authority == "Suffolk County Council"


def test_meta_json_beside_a_paper_is_keyed_by_stem_and_wins_over_yaml(tmp_path):
    (tmp_path / "metadata.yaml").write_text(
        "minutes:\n  authority: Kent County Council\n  committee: Cabinet\n", encoding="utf-8")
    (tmp_path / "minutes.pdf.meta.json").write_text(
        json.dumps({"committee": "County Council", "date": "2025-03-13"}), encoding="utf-8")
    (tmp_path / "notes.meta.json").write_text(json.dumps({"title": "Notes"}), encoding="utf-8")
    sidecars = load_sidecar_metadata(tmp_path)
    assert sidecars["minutes"] == {"authority": "Kent County Council", "committee": "County Council", "date": "2025-03-13"}
    assert sidecars["notes"] == {"title": "Notes"}


def test_folder_without_sidecars_gives_nothing(tmp_path):
    (tmp_path / "paper.txt").write_text("A paper", encoding="utf-8")
    assert load_sidecar_metadata(tmp_path) == {}
    detected = DocumentMeta(authority="Kent County Council")
    assert resolve_metadata(detected, None) == detected


def test_malformed_yaml_error_names_file_and_line(tmp_path):
    path = tmp_path / "metadata.yaml"
    path.write_text("paper:\n  authority: Kent County Council\n  committee: [Cabinet\n  date: 2025-01-30\n", encoding="utf-8")
    with pytest.raises(ValueError) as raised:
        load_sidecar_metadata(tmp_path)
    message = str(raised.value)
    assert str(path) in message and "line 4" in message and "malformed YAML" in message


def test_non_iso_date_is_rejected_with_a_clear_message(tmp_path):
    (tmp_path / "metadata.yaml").write_text("paper:\n  date: 1 February 2016\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"'paper'.*'1 February 2016' is not an ISO date \(yyyy-mm-dd\)"):
        load_sidecar_metadata(tmp_path)
    (tmp_path / "metadata.yaml").write_text("paper:\n  date: '2016-02-30'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not an ISO date"):
        load_sidecar_metadata(tmp_path)


def test_sidecar_that_is_not_a_mapping_is_rejected(tmp_path):
    (tmp_path / "metadata.yaml").write_text("- paper\n- other\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_sidecar_metadata(tmp_path)


def test_malformed_meta_json_error_names_file_and_line(tmp_path):
    path = tmp_path / "paper.pdf.meta.json"
    path.write_text('{\n  "title": "Paper",\n  "date": \n}\n', encoding="utf-8")
    with pytest.raises(ValueError) as raised:
        load_sidecar_metadata(tmp_path)
    assert str(path) in str(raised.value) and "line 4" in str(raised.value)


@pytest.mark.parametrize("doc_id", sorted(SEED_DETECTED))
def test_detection_survives_whitespace_cleaning(doc_id):
    # Parsers collapse tabs and drop blank lines; the masthead must still be read the same way.
    raw = (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8")
    cleaned = "\n".join(" ".join(line.split()) for line in raw.splitlines() if line.strip())
    document = ParsedDocument(doc_id=doc_id, path="", format="txt", pages=[cleaned], has_pages=False)
    assert detect_metadata(document) == SEED_DETECTED[doc_id]


def test_numeric_looking_document_id_must_be_quoted(tmp_path):
    (tmp_path / "metadata.yaml").write_text("2024_01:\n  committee: Cabinet\n", encoding="utf-8")
    with pytest.raises(ValueError, match="202401 is not text; put it in quotes"):
        load_sidecar_metadata(tmp_path)
    (tmp_path / "metadata.yaml").write_text("'2024_01':\n  committee: Cabinet\n", encoding="utf-8")
    assert load_sidecar_metadata(tmp_path) == {"2024_01": {"committee": "Cabinet"}}
