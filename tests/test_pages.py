"""The HTML pages rendered server-side (as with JavaScript off): chat, shared answers, papers, one paper, escaping."""
from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from conftest import INJECTED_ID
from answer_records import contract_record
from core.records import Filters
from core.settings import load_settings
from index.service import Scrutiny
from index.store import IndexReader
from ingest.pipeline import ingest_paths
from server.app import create_app
from server.routes.views import CONFIDENCE_TITLES, answer_card, answer_segments, excerpt_pieces, quote_section

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SUNDERLAND_QUESTION = "How many agency social workers did Sunderland have?"
SUNDERLAND_DOC = "001_29f912cc4fd0f26b"


class Outline(HTMLParser):
    """Tags, ids, labels and inline scripts of a page, for structural assertions."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.label_targets: set[str] = set()
        self.inline_scripts = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "label" and attributes.get("for"):
            self.label_targets.add(attributes["for"])
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.inline_scripts += 1

    def all(self, tag: str) -> list[dict]:
        return [attributes for name, attributes in self.tags if name == tag]

    def ids(self) -> list[str]:
        return [attributes["id"] for _, attributes in self.tags if "id" in attributes]


def initial_answer(html: str) -> dict:
    data = re.search(r'<script type="application/json" id="initial-answer">(.*?)</script>', html, re.S).group(1)
    return json.loads(data)


def test_chat_page_has_labelled_controls_landmarks_and_no_inline_script(client):
    response = client.get("/")
    assert response.status_code == 200
    page = Outline(response.text)
    for tag in ("header", "nav", "main", "footer"):
        assert page.all(tag), tag
    assert page.all("a")[0] == {"class": "skip-link", "href": "#main"}
    assert page.all("ol")[0]["aria-live"] == "polite"
    controls = [a for t in ("input", "select", "textarea") for a in page.all(t) if a.get("type") != "hidden"]
    assert len(controls) == 6
    assert all(control["id"] in page.label_targets for control in controls)
    assert page.inline_scripts == 0
    assert [s["src"] for s in page.all("script")] == ["/static/app.js"]
    form = page.all("form")[0]
    assert form["method"] == "get" and form["action"] == "/"
    councils = re.findall(r"<option(?: selected)?>([^<]+)</option>", response.text)
    assert {"Sunderland City Council", "Suffolk County Council", "Kent County Council"} <= set(councils)


def test_shared_question_url_renders_the_answer_server_side(client, corpus_scrutiny):
    response = client.get("/", params={"q": SUNDERLAND_QUESTION})
    assert response.status_code == 200
    html = response.text
    answer = corpus_scrutiny.ask(SUNDERLAND_QUESTION)
    assert answer.confidence in ("answer", "possible")
    assert f'<h3 class="answer-title" id="answer-0-title">{CONFIDENCE_TITLES[answer.confidence]}</h3>' in html
    first = answer.citations[0]
    assert first.doc_id == SUNDERLAND_DOC
    start, end = first.highlight
    spans = ",".join(f"{s}-{e}" for s, e in first.highlights)
    assert f'href="/documents/{SUNDERLAND_DOC}?hl={first.chunk_id}&amp;spans={spans}#chunk-{first.chunk_id}"' in html
    assert f"<mark>{escape(first.text[start:end])}</mark>" in html
    assert "79" in first.text[start:end]
    assert 'href="#answer-0-cite-1"' in html and 'id="answer-0-cite-1"' in html
    assert 'data-url="/?q=How+many+agency+social+workers+did+Sunderland+have%3F"' in html
    assert initial_answer(html) == {"answer": answer.to_json(), "filters": {}, "mode": None}


def test_filters_in_the_url_apply_and_show_as_removable_chips(client):
    params = {"q": "What was the social work vacancy rate?", "authority": "Suffolk County Council", "since": "2005-01-01"}
    html = client.get("/", params=params).text
    data = initial_answer(html)
    assert data["filters"] == {"authority": "Suffolk County Council", "since": "2005-01-01"}
    assert {c["doc_id"] for c in data["answer"]["citations"]} == {"002_4b913a1593e6a075"}
    assert "<option selected>Suffolk County Council</option>" in html
    assert 'name="since" value="01/01/2005"' in html
    chips = re.findall(r'<a class="chip" href="([^"]+)" data-filter="(\w+)">([^<]+)', html)
    assert [(name, label.strip()) for _, name, label in chips] == [
        ("authority", "Council: Suffolk County Council"), ("since", "From: 1 January 2005")]
    assert '<span class="tag">From: 1 January 2005</span>' in html
    remove_council = dict((name, href) for href, name, _ in chips)["authority"]
    assert "authority" not in remove_council and "since=2005-01-01" in remove_council and "q=What" in remove_council


def test_a_not_found_answer_looks_different_and_folds_the_nearest_passages(client):
    html = client.get("/", params={"q": "What is the population of Paris?"}).text
    data = initial_answer(html)["answer"]
    assert data["found"] is False and data["confidence"] == "not_found" and data["citations"]
    assert 'class="answer answer--not-found"' in html
    assert ">Not found in the papers</h3>" in html
    assert f'<details class="other-passages">\n      <summary>Nearest passages ({len(data["citations"])})</summary>' in html
    assert "Sources (" not in html
    assert html.count('<li class="citation"') == len(data["citations"])
    assert "<mark>" not in html and 'class="marker"' not in html


@pytest.mark.parametrize(("params", "message"), [
    ({"q": ""}, "the question is empty"),
    ({"q": "vacancy", "since": "March 2005"}, "From date must be a date like 15/03/2005"),
    ({"q": "vacancy", "until": "30/02/2005"}, "Until date must be a date like 15/03/2005"),
    ({"q": "vacancy", "since": "02/03/2006", "until": "2005-01-01"}, "From date (2 March 2006) is after Until date (1 January 2005)"),
    ({"q": "vacancy", "mode": "psychic"}, "Search method must be one of hybrid, bm25, dense"),
    ({"q": "vacancy", "doc_id": "../../etc/passwd"}, "no paper with id"),
])
def test_bad_input_on_the_chat_page_is_a_422_naming_the_field_by_its_label(client, params, message):
    response = client.get("/", params=params)
    assert response.status_code == 422
    alert = re.search(r'<div class="banner banner--error" role="alert" id="form-error"><p>(.*?)</p>', response.text, re.S)
    assert message in alert.group(1).replace("&#39;", "'")
    assert f">{escape(params['q'])}</textarea>" in response.text


def test_papers_page_lists_every_paper_sorts_by_date_and_searches_titles(client):
    html = client.get("/documents").text
    rows = re.findall(r'<td><a href="/documents/([^"]+)">', html)
    assert len(rows) == 40
    newest = re.findall(r'<td><time datetime="([\d-]+)">', html)
    assert newest == sorted(newest, reverse=True)
    assert 'aria-sort="descending"' in html
    oldest_html = client.get("/documents", params={"sort": "date"}).text
    oldest = re.findall(r'<td><time datetime="([\d-]+)">', oldest_html)
    assert oldest == sorted(oldest) and oldest[0] == "2004-03-01"
    found = client.get("/documents", params={"q": "family hubs"}).text
    titles = re.findall(r'<td><a href="/documents/[^"]+">([^<]+)</a>', found)
    assert titles and all("family hubs" in t.lower() for t in titles) and len(titles) < 40
    assert client.get("/documents", params={"sort": "pages"}).status_code == 422


def test_paper_page_shows_text_in_reading_order_with_the_cited_chunk_marked(client, corpus_index):
    reader = IndexReader.open(corpus_index.index_dir)
    chunks = reader.chunks_of(SUNDERLAND_DOC)
    cited = chunks[len(chunks) // 2].chunk_id
    html = client.get(f"/documents/{SUNDERLAND_DOC}", params={"hl": cited}).text
    assert re.findall(r'id="chunk-(\d+)"', html) == [str(c.chunk_id) for c in chunks]
    assert f'<div class="chunk chunk--cited" id="chunk-{cited}" tabindex="-1">' in html
    assert html.count("chunk--cited") == 1
    assert f'href="/documents/{SUNDERLAND_DOC}/file" download' in html
    assert "<dd>Sunderland City Council</dd>" in html and '<time datetime="2016-02-01">1 February 2016</time>' in html


def passage_quoting_a_later_paragraph(reader: IndexReader):
    """A real passage holding several numbered paragraphs, and the first sentence of its last one."""
    for document in reader.documents():
        for chunk in reader.chunks_of(document.doc_id):
            labels = list(re.finditer(r"^(\d{1,2}(?:\.\d{1,2})*)\.?[ \t]+(?=[A-Z])", chunk.text, re.M))
            if len(labels) >= 2 and labels[-1].group(1) != chunk.section:
                start = labels[-1].end()
                end = chunk.text.find(".", start) + 1
                if end > start:
                    return chunk, labels[-1].group(1), (start, end)
    raise AssertionError("no passage with several numbered paragraphs in the corpus")


def test_the_paper_page_highlights_the_quoted_sentences_and_labels_the_section_they_are_in(client, corpus_index):
    chunk, label, (start, end) = passage_quoting_a_later_paragraph(IndexReader.open(corpus_index.index_dir))
    first_end = chunk.text.find(" ", 10)
    html = client.get(f"/documents/{chunk.doc_id}", params={"hl": chunk.chunk_id, "spans": f"0-{first_end},{start}-{end}"}).text
    assert f'<mark class="quote">{escape(chunk.text[start:end])}</mark>' in html
    assert f'<mark class="quote">{escape(chunk.text[:first_end])}</mark>' in html
    assert html.count('<mark class="quote">') == 2
    cited = html[html.index(f'id="chunk-{chunk.chunk_id}"'):]
    shown = re.search(r'<p class="chunk-label">([^<]*)</p>', cited).group(1)
    assert shown.endswith(f"{label}") and ("sections" in shown or chunk.section in (None, label)), shown


def test_the_paper_page_highlights_a_cited_table_row_as_a_row(client, corpus_index):
    reader = IndexReader.open(corpus_index.index_dir)
    table = next(c for d in reader.documents() for c in reader.chunks_of(d.doc_id) if len(c.table_rows) >= 3)
    lines = table.text.split("\n")
    second = table.table_rows[1]  # the row number a citation gives, and the line it is printed on
    html = client.get(f"/documents/{table.doc_id}", params={"hl": table.chunk_id, "row": second.row}).text
    assert f'<span class="table-row table-row--cited"><mark class="quote">{escape(lines[second.line])}</mark></span>' in html
    assert html.count("table-row--cited") == 1
    assert html.count('<span class="table-row">') == len(lines) - 1


@pytest.mark.parametrize(("params", "message"), [
    ({"hl": "{chunk}", "spans": "5-2"}, "the span 5-2 is empty"),
    ({"hl": "{chunk}", "spans": "0-999999"}, "runs past the end of the passage"),
    ({"hl": "{chunk}", "spans": "1-2;3-4"}, "spans must be up to 20 character ranges"),
    ({"hl": "{chunk}", "spans": "\u00b9-\u00b2"}, "spans must be up to 20 character ranges"),
    ({"hl": "{chunk}", "spans": "1" * 4301 + "-2"}, "spans must be up to 20 character ranges"),
    ({"hl": "{chunk}", "spans": ",".join(["1-2"] * 21)}, "spans must be up to 20 character ranges"),
    ({"spans": "1-2"}, "spans need hl"),
    ({"hl": "{chunk}", "row": "0"}, "row 0 is not in the passage, which holds no table rows"),
    ({"hl": "{chunk}", "row": "9999"}, "row 9999 is not in the passage"),
    ({"hl": "{chunk}", "row": "-1"}, "row must be a row number"),
    ({"row": "2"}, "row needs hl"),
])
def test_marking_parameters_of_the_paper_page_are_checked_strictly(client, corpus_index, params, message):
    chunk = IndexReader.open(corpus_index.index_dir).chunks_of(SUNDERLAND_DOC)[0]
    params = {name: value.replace("{chunk}", str(chunk.chunk_id)) for name, value in params.items()}
    response = client.get(f"/documents/{SUNDERLAND_DOC}", params=params)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")


def test_a_pdf_paper_page_marks_its_pages(client, corpus_index):
    doc_id = "kent_2025-03_cabinet_qpr-q3-2024-25-cover-report"
    chunks = IndexReader.open(corpus_index.index_dir).chunks_of(doc_id)
    html = client.get(f"/documents/{doc_id}").text
    pages = sorted({c.page for c in chunks if c.page})
    assert re.findall(r'<p class="page-mark">Page (\d+)</p>', html) == [str(p) for p in pages]
    assert '<p class="chunk-label">page 1' in html


def test_original_files_download_with_their_content_type(client):
    pdf = client.get("/documents/kent_2025-01_cabinet_minutes/file")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf.content == (CORPUS / "kent_2025-01_cabinet_minutes.pdf").read_bytes()
    text = client.get(f"/documents/{SUNDERLAND_DOC}/file")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert 'filename="001_29f912cc4fd0f26b.txt"' in text.headers["content-disposition"]


@pytest.mark.parametrize("path", [
    "/documents/no_such_paper",
    "/documents/no_such_paper/file",
    "/documents/../../etc/passwd",
    "/documents/%2e%2e/%2e%2e/etc/passwd",
    "/documents/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/documents/..%2F..%2F..%2Fetc%2Fpasswd/file",
    "/documents/%252e%252e%252fetc%252fpasswd/file",
])
def test_unknown_and_traversal_paths_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text
    assert "<h1>Not found</h1>" in response.text


def test_a_paper_whose_file_has_gone_still_shows_but_its_download_is_404(tmp_path, shared_embedder):
    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(CORPUS / f"{SUNDERLAND_DOC}.txt", papers)
    settings = load_settings(tmp_path / "index")
    ingest_paths([papers], settings, shared_embedder)
    (papers / f"{SUNDERLAND_DOC}.txt").unlink()
    with TestClient(create_app(settings, Scrutiny(settings, shared_embedder))) as client:
        assert client.get(f"/documents/{SUNDERLAND_DOC}").status_code == 200
        missing = client.get(f"/documents/{SUNDERLAND_DOC}/file")
        assert missing.status_code == 404
        assert "no longer at its recorded place" in missing.text


def test_html_and_script_in_a_paper_are_escaped_everywhere(injected_client):
    paper = injected_client.get(f"/documents/{INJECTED_ID}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in paper
    assert "&lt;b&gt;bold&lt;/b&gt;" in paper
    assert "&lt;img src=x onerror=alert(2)&gt;" in paper
    assert "<h1>Library programme &lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;</h1>" in paper
    assert "<dd>Libraries &lt;i&gt;Scrutiny&lt;/i&gt; Board</dd>" in paper
    listing = injected_client.get("/documents").text
    assert "Library programme &lt;script&gt;" in listing
    for html in (paper, listing):
        assert "<script>alert" not in html and "<b>bold" not in html and "<img" not in html and "<i>Scrutiny" not in html

    chat = injected_client.get("/", params={"q": "How much did Testshire spend on the library modernisation programme?"}).text
    data = initial_answer(chat)
    assert data["answer"]["citations"][0]["doc_id"] == INJECTED_ID
    assert "<script>alert(1)</script>" in data["answer"]["citations"][0]["text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chat
    assert "<script>alert" not in chat and "<b>bold" not in chat
    # The data block the page's script reads cannot close its own <script> element.
    block = re.search(r'id="initial-answer">(.*?)</script>', chat, re.S).group(1)
    assert "<" not in block


def test_a_question_with_markup_is_echoed_as_text(client):
    html = client.get("/", params={"q": "<script>alert('q')</script> vacancy rate"}).text
    assert "&lt;script&gt;alert(&#39;q&#39;)&lt;/script&gt; vacancy rate" in html
    assert "<script>alert" not in html


def test_excerpts_are_cut_at_words_around_every_quoted_span_and_clamped():
    words = " ".join(f"w{i:03d}" for i in range(400))  # 1999 characters, every word 4 long
    near, far = words.index("w200"), words.index("w390")
    pieces = excerpt_pieces(words, [(near, near + 4), (near + 10, near + 14), (far, far + 4)], context=100)
    assert [p.text for p in pieces if p.marked] == ["w200", "w202", "w390"]
    plain = [p.text for p in pieces if not p.marked]
    assert plain[0].startswith("\u2026w18") and plain[0].endswith("w199 ")
    assert plain[1] == " w201 "  # two spans close together share one window
    assert plain[2].endswith("\u2026 ") and plain[3].startswith("\u2026w37")  # a far one opens its own, after a gap
    assert plain[4] == " w391 w392 w393 w394 w395 w396 w397 w398 w399"
    whole = excerpt_pieces("short text", [(6, 99)])
    assert [(p.text, p.marked) for p in whole] == [("short ", False), ("text", True)]
    opening = excerpt_pieces(words, [], context=100)
    assert len(opening) == 1 and opening[0].text.endswith("\u2026") and len(opening[0].text) <= 201


def test_the_section_of_a_quote_is_the_numbered_paragraph_it_sits_in():
    text = "3.1 The plan was agreed.\n3.2 Targets were set.\n3.3 The re-referral rate fell to 20%.\n2005 | rate: 20"
    assert quote_section(text, text.index("The re-referral"), "3.1") == "3.3"
    assert quote_section(text, text.index("Targets"), "3.1") == "3.2"
    assert quote_section(text, text.index("rate: 20"), "3.1") == "3.3"  # a table row or a year is not a label
    assert quote_section("No numbers here.", 3, "5") == "5"


def test_a_card_shows_the_lead_first_every_quoted_span_and_folds_the_uncited_passages():
    card = answer_card(contract_record(), "a", Filters(), None)
    assert card.title == "Answer" and [line.role for line in card.lines] == ["lead", "support"]
    assert [s.text for s in card.lines[0].segments] == ["\u201cThere were 79 agency social workers.\u201d ", "[1]"]
    assert [c.number for c in card.cited] == [1] and [c.number for c in card.others] == [2]
    assert [p.text for p in card.cited[0].pieces if p.marked] == [
        "There were 79 agency social workers.", "Most were in safeguarding teams."]
    assert [m.text for m in card.cited[0].meta] == [
        "Sunderland City Council", "Scrutiny", "1 February 2016", "page 3, section 4.2"]
    assert card.cited[0].href == "/documents/d1?hl=7&spans=24-60,61-93#chunk-7"
    assert card.cited[0].source_url == "https://example.org/paper.pdf"
    assert card.others[0].source_url is None  # only http(s) links are shown


def test_a_card_reads_confidence_read_as_notice_verdict_and_decision():
    possible = answer_card(contract_record(confidence="possible", read_as="Sunderland, agency social workers, 2015",
                                       verdict={"status": "not met", "text": "The target was 60; the outturn was 79."},
                                       decision_ref="24/00093"), "a", Filters(), None)
    assert possible.title == "Possible answer: check the source" and possible.confidence == "possible"
    assert possible.read_as == "Sunderland, agency social workers, 2015"
    assert possible.verdict_label == "Target not met"
    assert possible.decision_href == "/decisions/24%2F00093"
    not_found = answer_card(contract_record(confidence="not_found", found=False, lines=[], notice="No papers from Narnia.",
                                        answer="The papers do not appear to answer this question."), "a", Filters(), None)
    assert not_found.title == "Not found in the papers" and not_found.cited == [] and len(not_found.others) == 2
    assert [line.role for line in not_found.lines] == ["message"] and not_found.notice == "No papers from Narnia."


def test_a_card_from_a_record_without_the_newer_keys_falls_back_to_found_and_the_lines():
    old = contract_record()
    for key in ("confidence", "score", "read_as", "notice", "verdict", "decision_ref"):
        del old[key]
    for citation in old["citations"]:
        for key in ("highlights", "cited", "row", "source_url", "ocr"):
            del citation[key]
    old["answer"] = "Sunderland City Council, 2016-02-01: \u201cThere were 79 agency social workers.\u201d [1]"
    card = answer_card(old, "a", Filters(), None)
    assert card.title == "Answer" and [c.number for c in card.cited] == [1] and [c.number for c in card.others] == [2]
    # Both quoted sentences are found in the passage, though the record marks only the first.
    assert [p.text for p in card.cited[0].pieces if p.marked] == [
        "There were 79 agency social workers.", "Most were in safeguarding teams."]
    assert card.lines[0].segments[0].text.startswith("Sunderland City Council, 1 February 2016: ")


def test_answer_text_is_split_into_text_and_citation_markers():
    text = "Sunderland: \u201c79 agency social workers [115].\u201d [1]\nSuffolk: \u201cSee table [3]\u201d [2]"
    assert [(s.text, s.citation) for s in answer_segments(text, 2)] == [
        ("Sunderland: \u201c79 agency social workers [115].\u201d ", None), ("[1]", 1),
        ("\nSuffolk: \u201cSee table [3]\u201d ", None), ("[2]", 2)]
    assert [s.citation for s in answer_segments("\u201cQuoted.\u201d [7]", 2)] == [None]


STATIC = Path(__file__).resolve().parent.parent / "server" / "static"
# (foreground, background, minimum): text needs 4.5:1, borders and focus indicators 3:1 (WCAG 2.2 AA).
PALETTE_PAIRS = [
    ("text", "bg", 4.5), ("text", "surface", 4.5), ("muted", "bg", 4.5), ("muted", "surface", 4.5),
    ("link", "bg", 4.5), ("link", "surface", 4.5), ("link-visited", "bg", 4.5), ("brand-text", "brand", 4.5),
    ("brand", "bg", 4.5), ("found", "bg", 4.5), ("not-found-text", "not-found-bg", 4.5), ("text", "not-found-bg", 4.5),
    ("link", "not-found-bg", 4.5), ("muted", "not-found-bg", 4.5), ("mark-text", "mark-bg", 4.5),
    ("chip-text", "chip-bg", 4.5), ("error-text", "error-bg", 4.5), ("text", "error-bg", 4.5),
    ("text", "cited-bg", 4.5), ("muted", "cited-bg", 4.5), ("not-found-text", "cited-bg", 4.5),
    ("border", "bg", 3.0), ("focus", "brand", 3.0), ("focus-ring", "bg", 3.0), ("focus-ring", "surface", 3.0),
    ("not-found-border", "not-found-bg", 3.0), ("found", "bg", 3.0),
]


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_matches_known_ratios():
    assert round(contrast_ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54  # the familiar lightest AA grey on white


def test_every_palette_pair_meets_wcag_aa_contrast():
    css = (STATIC / "app.css").read_text()
    palette = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6});", css))
    low = {(fg, bg): round(contrast_ratio(palette[fg], palette[bg]), 2)
           for fg, bg, minimum in PALETTE_PAIRS if contrast_ratio(palette[fg], palette[bg]) < minimum}
    assert low == {}
