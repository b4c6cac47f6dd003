"""Web pages as papers (saved agenda pages, decision and minutes records), and the sidecar fields a fetch writes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.records import DocumentMeta
from ingest.html import html_text
from ingest.metadata import load_sidecar_metadata
from ingest.parse import ParseError, parse_file, sniff_format
from ingest.structure import blocks_from_document
from server.routes.views import web_link

DATA = Path(__file__).resolve().parent / "data" / "moderngov"


def test_a_decision_page_keeps_its_headings_and_paragraphs_and_drops_hidden_text():
    text = html_text((DATA / "lgsf_decision_detail.html").read_text())
    lines = [line for line in text.splitlines() if line]
    assert lines[:2] == ["# Decision details", "## Minutes of Previous Meeting"]
    assert "### Decision:" in lines
    assert ("The Minutes of the Policy Committee meeting on 23 September 2015 were approved as a correct record."
            in lines)
    assert "Is Key decision?: No" in lines
    assert "\u2022 polc2 - 23.09.2015 PDF 119 KB" in lines


def test_a_table_of_decisions_becomes_rows_under_its_caption_without_screen_reader_text():
    text = html_text((DATA / "lgsf_decisions_list.html").read_text())
    blocks = text.split("\n\n")
    assert blocks[0] == "Decisions published"
    rows = blocks[1].splitlines()
    assert rows[0] == "Title\tDate\tEffective from\tCall-ins"
    assert rows[2] == "Admission of the Public\t03/11/2025\t03/11/2025\tNot for call-in"
    assert "ref:" not in text


def test_scripts_styles_and_nested_tables_are_handled_as_a_browser_would():
    markup = ("<html><head><title>Agenda - Test Council</title><style>p {color: red}</style></head><body>"
              "<script>alert('x')</script><h2>Items</h2><p>One<br>Two</p>"
              "<table><tr><td>A<table><tr><td>x</td><td>y</td></tr></table></td><td>B</td></tr></table>"
              "<ul><li>first<li>second</ul><p>18<sup>th</sup> November</p></body></html>")
    assert html_text(markup).split("\n\n") == [
        "# Agenda - Test Council", "## Items", "One", "Two", "A x y\tB", "\u2022 first", "\u2022 second", "18th November",
    ]


def test_html_is_recognised_by_extension_or_doctype_but_a_text_file_quoting_tags_stays_text(tmp_path):
    page = tmp_path / "agenda.html"
    page.write_text("<p>Cabinet agenda</p>")
    saved = tmp_path / "saved.txt"
    saved.write_text("\ufeff  <!DOCTYPE html><html><body><p>Minutes</p></body></html>")
    quoting = tmp_path / "paper.txt"
    quoting.write_text("The report mentions <b>bold</b> text and <script> tags.")
    assert [sniff_format(p) for p in (page, saved, quoting)] == ["html", "html", "txt"]


def test_an_html_paper_parses_into_headings_paragraphs_and_a_table(tmp_path):
    path = tmp_path / "minutes.html"
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Minutes, Cabinet, 21 November 2025</title></head><body>"
        "<h1>Minutes, Cabinet, 21 November 2025</h1><h2>55. Final Proposals (agenda item 6)</h2>"
        "<p>Cabinet considered the report of the Head of Paid Service.</p>"
        "<table><tr><th>Option</th><th>Councils</th></tr><tr><td>Option 1</td><td>1</td></tr>"
        "<tr><td>Option 3</td><td>2</td></tr></table></body></html>",
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert parsed.format == "html" and not parsed.has_pages
    blocks = blocks_from_document(parsed)
    assert [b.kind for b in blocks] == ["heading", "heading", "paragraph", "table"]
    assert blocks[2].section == "55. Final Proposals (agenda item 6)"
    assert blocks[3].text.splitlines() == ["55. Final Proposals (agenda item 6)", "Option 1 | Councils: 1", "Option 3 | Councils: 2"]
    assert blocks[3].header == ["Option", "Councils"]


def test_a_web_page_without_text_is_refused_by_name(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><head><script>var x = 1;</script></head><body><img src='x.png'></body></html>")
    with pytest.raises(ParseError) as raised:
        parse_file(path)
    assert str(raised.value) == f"{path}: web page has no text"


def test_sidecar_fields_of_a_fetched_paper_are_read_and_typed(tmp_path):
    (tmp_path / "paper.pdf.meta.json").write_text(json.dumps({
        "authority": "Gloucester City Council", "committee": "Cabinet", "date": "2025-11-21", "title": "Final proposals",
        "agenda_item": "6", "agenda_item_title": "Final Proposals", "source_url": "https://democracy.example.gov.uk/x?ID=1",
        "decision": True, "fetched_at": "2026-11-30T10:00:00+00:00", "moderngov": {"key": "a1", "bytes": 10},
    }))
    (tmp_path / "minutes.html.meta.json").write_text(json.dumps({"decision": "false", "committee": "Council"}))
    records = load_sidecar_metadata(tmp_path)
    meta = DocumentMeta().merged_with(records["paper"])
    assert meta.decision is True and meta.agenda_item == "6" and meta.source_url.endswith("?ID=1")
    assert meta.fetched_at == "2026-11-30T10:00:00+00:00" and meta.authority == "Gloucester City Council"
    assert DocumentMeta(decision=True).merged_with(records["minutes"]).decision is False


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>", "//evil.example/x", "file:///etc/passwd"])
def test_a_source_url_that_is_not_a_web_address_is_refused_and_never_linked(tmp_path, url):
    path = tmp_path / "paper.meta.json"
    path.write_text(json.dumps({"source_url": url}))
    with pytest.raises(ValueError) as raised:
        load_sidecar_metadata(tmp_path)
    assert str(raised.value).startswith(f"{path}: metadata for 'paper': source_url")
    assert web_link(url) is None
    assert web_link("https://democracy.example.gov.uk/ieListDocuments.aspx?MId=1") is not None
