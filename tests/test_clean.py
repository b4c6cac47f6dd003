"""Text repair, checked on real pages of the Kent PDFs and the seed text papers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from core.records import ParsedDocument
from ingest.clean import clean_pdf_pages, clean_text, join_line_end_hyphens, join_split_words, document_vocabulary
from ingest.parse import parse_file
from ingest.tables import TABLE_MARK, table_lines

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
FINANCE = CORPUS / "kent_2025-01_cabinet_finance-monitoring-q3-2024-25.pdf"
QPR = CORPUS / "kent_2025-03_cabinet_quarterly-performance-report-q3-2024-25.pdf"
MINUTES = CORPUS / "kent_2024-10_corporate-parenting-panel-minutes.pdf"
QUESTIONS = CORPUS / "kent_2025-03_council_questions-and-answers.pdf"


@pytest.fixture(scope="module")
def finance() -> ParsedDocument:
    return parse_file(FINANCE)


@pytest.fixture(scope="module")
def qpr() -> ParsedDocument:
    return parse_file(QPR)


@pytest.fixture(scope="module")
def finance_pages(finance) -> list[str]:
    return finance.pages


@pytest.fixture(scope="module")
def qpr_pages(qpr) -> list[str]:
    return qpr.pages


def page_as_read(document: ParsedDocument, index: int) -> str:
    """A page's text with each table's caption and row lines where the table stands, words joined by single spaces."""
    lines = []
    for line in document.pages[index].split("\n"):
        if line.startswith(TABLE_MARK):
            table = document.tables[int(line[len(TABLE_MARK):])]
            lines.extend(table_lines(table.caption, table.header, table.rows))
        else:
            lines.append(line)
    return " ".join(" ".join(lines).split())


def every_cell(document: ParsedDocument) -> list[str]:
    return [cell for table in document.tables for cell in [table.caption, *table.header, *(c for row in table.rows for c in row)]]


def test_page_x_of_y_footer_is_removed(finance_pages):
    raw = PdfReader(FINANCE).pages[11].extract_text()
    assert "Page 12 of 54" in raw
    assert not any(re.search(r"Page \d+ of 54", page) for page in finance_pages)


def test_appendix_header_and_bare_page_numbers_are_removed(qpr_pages):
    raw = PdfReader(QPR).pages[3].extract_text().splitlines()
    assert raw[0].strip() == "Appendix 1" and raw[1].strip() == "3"
    assert not any(line.strip() == "Appendix 1" for page in qpr_pages for line in page.splitlines())
    assert qpr_pages[3].startswith("Customer Services – Satisfaction with Contact Point")


def test_bare_page_number_at_top_of_minutes_is_removed():
    pages = parse_file(MINUTES).pages
    assert pages[1].startswith("Participation Team update")
    assert pages[2].startswith("1. Sue Chandler")


def test_question_numbers_are_not_mistaken_for_page_numbers():
    pages = parse_file(QUESTIONS).pages
    assert pages[0].startswith("Question 1")
    assert any(page.startswith("Question 2") for page in pages)


def test_split_words_are_joined(qpr, finance):
    # The road casualty table's headings ("Tota" / "l") are read as table cells, not page text.
    assert any("Tota l" in page.extract_text() for page in PdfReader(QPR).pages)
    # Its header rows ("Quarter 3" / "2024/25 ... 2023/24 ... 2019/20" / "Fatal Serious Slight Total" x 3) are one header.
    assert any(all(cells) and [cell.split()[-1] for cell in cells] == ["Fatal", "Serious", "Slight", "Total"] * 3
               for table in qpr.tables for cells in [table.header, *table.rows])
    assert not any("Tota l" in text for text in qpr.pages + every_cell(qpr))
    finance_text = "\n".join(finance.pages)
    assert "Real Variance Rephasing Variance" in finance_text
    assert not any("Rephasin g" in text for text in finance.pages + every_cell(finance))


def test_column_headings_broken_across_lines_are_joined(finance):
    # "Revenu" / "e" / "Forecas" / "t": each column's heading wraps at its own height, most of them inside tables.
    raw = [page.extract_text() for page in PdfReader(FINANCE).pages]
    broken = [i for i, text in enumerate(raw) if "Revenu \ne" in text or "Revenu\ne" in text]
    assert len(broken) >= 3
    for index in broken:
        text = page_as_read(finance, index)
        # Pages 9 and 10 print the header again over rows of the table begun on page 8: they are read under its header.
        continued = [table for table in finance.tables if index + 1 in table.row_pages and table.page < index + 1]
        headings = " ".join(continued[0].header) if continued else text
        assert not re.search(r"\bRevenu\b", text), (index + 1, text)
        assert all(f"Revenue {name}" in headings for name in ("Budget", "Forecast", "Variance")), (index + 1, headings)


def test_real_two_word_phrases_are_not_joined():
    text = "We found a way forward. Any one of them will do. A way out, anyone, away from it."
    assert join_split_words(text) == text


def test_curly_quotes_and_dashes_are_kept_for_display(qpr_pages):
    text = "\n".join(qpr_pages)
    assert "Children’s Services" in text
    assert "Customer Services – Satisfaction" in text


def test_running_header_repeated_title_goes_but_body_stays():
    bodies = ["Fostering grew.", "Adoption fell.", "Care leavers rose.", "Budgets held.", "Staffing improved.", "Complaints fell."]
    pages = [f"Annual Report\n{body}\nSee the appendix for detail.\n{n + 1}" for n, body in enumerate(bodies)]
    cleaned = clean_pdf_pages(pages)
    assert cleaned[4] == "Staffing improved."
    assert all("Annual Report" not in page for page in cleaned)


def test_line_end_hyphenation():
    vocabulary = document_vocabulary("recognised recognised multi year")
    text = "the service is recog-\nnised widely and multi-\nyear funding"
    assert join_line_end_hyphens(text, vocabulary) == "the service is recognised\nwidely and multi-year\nfunding"


def test_seed_text_split_words_and_footnotes():
    table = clean_text((CORPUS / "001_29f912cc4fd0f26b.txt").read_text())
    assert "\tJuly\tAugust\tSeptember\tOctober" in table
    seed = clean_text((CORPUS / "004_b4e36d0c51f0492b.txt").read_text())
    assert "14.2 fte[2] to 30 fte staff" in seed
    assert "£980,000[4]" in seed
    assert "[2] fte – full time equivalent" in seed


def test_clean_text_never_changes_real_words():
    original = (CORPUS / "000_8455fbcf33d06d16.txt").read_text()
    cleaned = clean_text(original)
    assert re.findall(r"[A-Za-z]+", cleaned) == re.findall(r"[A-Za-z]+", original)
