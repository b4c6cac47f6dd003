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
from core.records import Citation
from core.settings import load_settings
from index.service import Scrutiny
from index.store import IndexReader
from ingest.pipeline import ingest_paths
from server.app import create_app
from server.routes.views import answer_segments, excerpt_parts

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
    assert '<h3 class="answer-title" id="answer-0-title">Answer</h3>' in html
    answer = corpus_scrutiny.ask(SUNDERLAND_QUESTION)
    first = answer.citations[0]
    assert first.doc_id == SUNDERLAND_DOC
    assert f'href="/documents/{SUNDERLAND_DOC}?hl={first.chunk_id}#chunk-{first.chunk_id}"' in html
    start, end = first.highlight
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
    assert 'value="2005-01-01"' in html
    chips = re.findall(r'<a class="chip" href="([^"]+)" data-filter="(\w+)">([^<]+)', html)
    assert [(name, label.strip()) for _, name, label in chips] == [
        ("authority", "Council: Suffolk County Council"), ("since", "From: 2005-01-01")]
    remove_council = dict((name, href) for href, name, _ in chips)["authority"]
    assert "authority" not in remove_council and "since=2005-01-01" in remove_council and "q=What" in remove_council


def test_a_not_found_answer_looks_different_and_shows_the_nearest_passages(corpus_index, shared_embedder):
    # A bar no sentence can clear makes every answer "not found", whatever the retrieval tuning.
    settings = corpus_index.model_copy(deep=True)
    settings.answer.min_score = 2.0
    with TestClient(create_app(settings, Scrutiny(settings, shared_embedder))) as strict:
        html = strict.get("/", params={"q": SUNDERLAND_QUESTION}).text
    data = initial_answer(html)["answer"]
    assert data["found"] is False and data["citations"]
    assert 'class="answer answer--not-found"' in html
    assert ">Not found in the papers</h3>" in html
    assert ">Nearest passages</h4>" in html
    assert html.count('<li class="citation"') == len(data["citations"])
    assert "<mark>" not in html and 'class="marker"' not in html


@pytest.mark.parametrize(("params", "message"), [
    ({"q": ""}, "the question is empty"),
    ({"q": "vacancy", "since": "March 2005"}, "since must be a date like 2005-03-15"),
    ({"q": "vacancy", "mode": "psychic"}, "mode must be one of hybrid, bm25, dense"),
    ({"q": "vacancy", "doc_id": "../../etc/passwd"}, "no paper with id"),
])
def test_bad_input_on_the_chat_page_is_a_400_with_the_form_kept(client, params, message):
    response = client.get("/", params=params)
    assert response.status_code == 400
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
    assert client.get("/documents", params={"sort": "pages"}).status_code == 400


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


def citation_with(text: str, highlight: tuple[int, int] | None) -> Citation:
    return Citation(doc_id="d", title="t", authority="", committee="", date=None, page=None, section=None, text=text,
                    highlight=highlight, score=1.0)


def test_excerpts_are_cut_at_words_around_the_highlight_and_clamped():
    words = " ".join(f"w{i:03d}" for i in range(400))  # 1999 characters, every word 4 long
    start = words.index("w200")
    parts = excerpt_parts(citation_with(words, (start, start + 4)), context=100)
    assert parts.marked == "w200"
    assert parts.before.startswith("\u2026w18") and parts.before.endswith("w199 ")
    assert parts.after.startswith(" w201") and parts.after.endswith("\u2026")
    assert len(parts.before) <= 101 and len(parts.after) <= 101
    whole = excerpt_parts(citation_with("short text", (6, 99)))
    assert (whole.before, whole.marked, whole.after) == ("short ", "text", "")
    opening = excerpt_parts(citation_with(words, None), context=100)
    assert opening.marked == "" and opening.before.endswith("\u2026") and len(opening.before) <= 201


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
