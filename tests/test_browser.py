"""The chat page in real headless Chromium against uvicorn on a loopback port.

Covers what only a browser shows: asking without a reload, the conversation kept
across reloads, landing on the cited passage, filter chips, pasted markup shown as
text, keyboard focus, contrast, and the page at phone width.
"""
from __future__ import annotations

import re
import socket
import threading
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from answer_records import contract_record
from conftest import INJECTED_ID
from core.records import Filters
from server.app import create_app, page_templates
from server.routes.views import CONFIDENCE_TITLES, answer_card

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SUNDERLAND_QUESTION = "How many agency social workers did Sunderland have?"
SUNDERLAND_DOC = "001_29f912cc4fd0f26b"
TIMEOUT_MS = 60_000  # answers are quick, but the test machine may be busy


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="module")
def base_url(injected_index, injected_scrutiny):
    """uvicorn serving the corpus plus the paper with injected markup."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(injected_index, injected_scrutiny), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{url}/api/health")
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, base_url: str):
    """A fresh context (empty localStorage) that records script errors and dialogs."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.problems = []
    tab.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    tab.on("console", lambda message: message.type == "error" and tab.problems.append(f"console: {message.text}"))
    tab.on("dialog", lambda dialog: (tab.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield tab
    context.close()


def ask(page: Page, question: str) -> None:
    before = page.locator("#conversation > li").count()
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    expect(page.locator("#conversation > li")).to_have_count(before + 1)


def test_ask_see_the_answer_and_follow_a_citation_to_the_passage(page: Page, base_url: str, tmp_path):
    level = httpx.post(f"{base_url}/api/ask", json={"question": SUNDERLAND_QUESTION}, timeout=30).json()["confidence"]
    assert level in ("answer", "possible")
    page.goto("/")
    ask(page, SUNDERLAND_QUESTION)
    exchange = page.locator("#conversation > li").last
    expect(exchange.locator(".answer-title")).to_have_text(CONFIDENCE_TITLES[level])
    expect(exchange.locator(".answer-line--lead")).to_contain_text("79")
    expect(exchange.locator(".answer-lines .marker").first).to_have_text("[1]")
    first = exchange.locator(".citation").first
    expect(first.locator("mark")).to_contain_text("79")
    expect(first.locator(".citation-meta")).to_contain_text("Sunderland City Council")
    assert page.url.endswith("/?q=How+many+agency+social+workers+did+Sunderland+have%3F")
    built_by_script = " ".join(exchange.locator("article.answer").inner_text().split())
    page.reload()  # the URL now renders the same answer server-side; both renderings must read the same
    rendered = page.locator("#conversation > li").last
    expect(rendered).to_have_id("answer-0")
    assert " ".join(rendered.locator("article.answer").inner_text().split()) == built_by_script

    screenshot = tmp_path / "chat-with-answer.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size > 10_000

    link = first.locator(".citation-title a")
    href = link.get_attribute("href")
    chunk_id = href.rsplit("#chunk-", 1)[1]
    assert href.startswith(f"/documents/{SUNDERLAND_DOC}?hl={chunk_id}&spans=")
    link.click()
    page.wait_for_url(f"**/documents/{SUNDERLAND_DOC}?hl={chunk_id}&spans=*#chunk-{chunk_id}")
    target = page.locator(f"#chunk-{chunk_id}")
    expect(target).to_have_class("chunk chunk--cited")
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target').id") == f"chunk-{chunk_id}"
    assert target.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 248, 214)"
    expect(target.locator("mark.quote").first).to_contain_text("79")
    assert page.problems == []


def test_the_conversation_survives_a_reload_newest_last_and_can_be_cleared(page: Page):
    page.goto("/")
    clear = page.locator("#clear-conversation")
    expect(clear).to_be_hidden()  # nothing to clear yet
    ask(page, SUNDERLAND_QUESTION)
    expect(clear).to_be_visible()
    ask(page, "What was Peterborough's year to date re-referral percentage?")
    page.reload()
    questions = page.locator("#conversation .question-bubble")
    expect(questions).to_have_count(2)
    expect(questions.nth(0)).to_contain_text("Sunderland")
    expect(questions.nth(1)).to_contain_text("Peterborough")
    expect(page.locator("#conversation .copy-link").first).to_be_visible()
    assert "q=" in page.url
    clear.click()
    expect(page.locator("#conversation > li")).to_have_count(0)
    expect(clear).to_be_hidden()
    assert clear.evaluate("el => getComputedStyle(el).display") == "none"
    assert "q=" not in page.url and page.url.endswith("/")
    assert page.evaluate("localStorage.getItem('scrutiny.conversation.v1')") == "[]"
    page.reload()
    expect(page.locator("#conversation > li")).to_have_count(0)
    expect(clear).to_be_hidden()
    assert page.problems == []


def test_copy_link_puts_the_shareable_url_on_the_clipboard(browser: Browser, base_url: str):
    context = browser.new_context(base_url=base_url, permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/?" + httpx.QueryParams({"q": SUNDERLAND_QUESTION, "authority": "Sunderland City Council"}).__str__())
    page.locator(".copy-link").first.click()
    expect(page.locator("#ask-status")).to_have_text("Link copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{base_url}/?q=How+many+agency+social+workers+did+Sunderland+have%3F&authority=Sunderland+City+Council"
    context.close()


def test_a_council_filter_applies_to_the_next_question_and_its_chip_removes_it(page: Page):
    page.goto("/")
    page.locator("#f-authority").select_option("Suffolk County Council")
    chip = page.locator("#filter-chips .chip")
    expect(chip).to_have_count(1)
    expect(chip).to_have_attribute("aria-label", "Remove filter Council: Suffolk County Council")
    ask(page, "What was the social work vacancy rate?")
    exchange = page.locator("#conversation > li").last
    expect(exchange.locator(".answer-filters")).to_contain_text("Council: Suffolk County Council")
    councils = [meta.split(" · ")[0] for meta in exchange.locator(".citation-meta").all_text_contents()]
    assert councils and set(councils) == {"Suffolk County Council"}
    chip.click()
    expect(page.locator("#filter-chips .chip")).to_have_count(0)
    expect(page.locator("#f-authority")).to_have_value("")
    expect(page.locator("#f-authority")).to_be_focused()
    assert page.problems == []


def test_script_in_a_paper_is_shown_as_text_and_never_runs(page: Page):
    page.goto("/")
    ask(page, "How much did Testshire spend on the library modernisation programme?")
    exchange = page.locator("#conversation > li").last
    first = exchange.locator(".citation").first
    expect(first.locator(".citation-title a")).to_have_text("Library programme <script>alert('title')</script>")
    expect(first.locator(".excerpt")).to_contain_text("<script>alert(1)</script>")
    expect(first.locator(".excerpt")).to_contain_text("<b>bold</b>")
    assert exchange.locator("script, b, img, i").count() == 0
    page.reload()  # the stored conversation is rebuilt from JSON, also as text
    expect(page.locator("#conversation .excerpt").first).to_contain_text("<img src=x onerror=alert(2)>")
    assert page.locator("#conversation script, #conversation img").count() == 0
    page.goto(f"/documents/{INJECTED_ID}")
    expect(page.locator("h1")).to_have_text("Library programme <script>alert('title')</script>")
    assert page.locator(".paper-text script, .paper-text img, .paper-text b").count() == 0
    assert page.problems == []


def test_the_form_works_with_javascript_off(browser: Browser, base_url: str):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/")
    page.locator("#question").fill(SUNDERLAND_QUESTION)
    page.locator("#f-authority").select_option("Sunderland City Council")
    page.locator("#ask-button").click()
    page.wait_for_url("**/?q=*")
    assert "authority=Sunderland+City+Council" in page.url
    expect(page.locator("#conversation .answer-line--lead")).to_contain_text("79")
    expect(page.locator("#filter-chips a.chip")).to_have_text("Council: Sunderland City Council × (remove this filter)")
    assert "Enter" not in page.locator("#question-hint").inner_text()  # no key handler without JavaScript
    expect(page.locator("#clear-conversation")).to_be_hidden()
    page.locator("#f-since").fill("01/01/2016")
    page.locator("#ask-button").click()
    page.wait_for_url("**since=01%2F01%2F2016*")
    expect(page.locator("#filter-chips a.chip").nth(1)).to_contain_text("From: 1 January 2016")
    expect(page.locator("#f-since")).to_have_value("01/01/2016")
    expect(page.locator("#conversation .answer-line--lead")).to_contain_text("79")
    context.close()


CONTRAST_SCRIPT = """selectors => {
  const parse = c => { const p = c.match(/[\\d.]+/g).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = c => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = el => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor); if (c.a > 0) return c; } return {r: 255, g: 255, b: 255}; };
  return Object.fromEntries(selectors.map(sel => {
    const el = document.querySelector(sel);
    if (!el) return [sel, null];
    const [a, b] = [luminance(parse(getComputedStyle(el).color)), luminance(background(el))];
    return [sel, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  }));
}"""
CHECKED_TEXT = ["body", ".site-name a", ".nav-list a", ".lead", "#question-hint", "label", "legend .hint", ".question-bubble",
                ".answer-title", ".answer-line--lead", ".marker", ".citation-title a", ".citation-number", ".citation-meta",
                ".excerpt", "mark", ".share-link", ".copy-link", "#ask-button", ".chip", ".tag", ".site-footer p",
                ".sources > summary", ".other-passages > summary"]


def test_accessibility_labels_landmarks_focus_contrast_and_phone_width(page: Page, browser: Browser, base_url: str):
    page.goto("/?q=What+was+the+social+work+vacancy+rate%3F&authority=Suffolk+County+Council")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
        .map(el => el.outerHTML)""")
    assert unlabelled == []
    for landmark in ("header", "nav", "main", "footer"):
        assert page.locator(landmark).count() >= 1, landmark
    assert page.locator("[aria-live=polite]#conversation").count() == 1
    assert page.evaluate("document.documentElement.lang") == "en-GB"

    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]")
    assert outline == ["solid", "3px"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.locator("#question").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "question"
    assert page.locator("#question").evaluate("el => getComputedStyle(el).outlineStyle") == "solid"

    ratios = page.evaluate(CONTRAST_SCRIPT, CHECKED_TEXT)
    missing = [sel for sel, ratio in ratios.items() if ratio is None]
    assert missing == []
    low = {sel: round(ratio, 2) for sel, ratio in ratios.items() if ratio < 4.5}
    assert low == {}

    phone = browser.new_context(base_url=base_url, viewport={"width": 375, "height": 740})
    phone.set_default_timeout(TIMEOUT_MS)
    small = phone.new_page()
    small.goto("/?q=How+many+agency+social+workers+did+Sunderland+have%3F")
    assert small.evaluate("document.documentElement.scrollWidth") <= 375
    expect(small.locator("#question")).to_be_visible()
    width = small.locator(".excerpt").first.evaluate("el => el.getBoundingClientRect().right")
    assert width <= 375
    phone.close()


# ---------------------------------------------------------------- the answer card, the paper page and /docs

QUOTED_SPANS_SCRIPT = """article => {
  const squash = text => text.replace(/\\s+/g, " ").trim();
  const numbers = [...article.querySelectorAll(".answer-lines .marker")].map(m => Number(m.textContent.slice(1, -1)));
  const lines = [...article.querySelectorAll(".answer-line")].map(p => {
    const quoted = /\\u201c(.*)\\u201d/s.exec(p.textContent);
    return quoted ? squash(quoted[1]) : null;
  });
  return lines.map((text, i) => {
    const card = article.querySelector(`[id$="-cite-${numbers[i]}"]`);
    const marks = card ? [...card.querySelectorAll(".excerpt mark")].map(m => squash(m.textContent)) : [];
    return {text, number: numbers[i], marked: marks.some(mark => mark.includes(text))};
  });
}"""


# Whether the chosen option's text fits the select, beside its padding and the arrow.
SELECT_FITS_SCRIPT = """el => {
  const style = getComputedStyle(el);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const text = context.measureText(el.options[el.selectedIndex].text).width;
  return text + parseFloat(style.paddingLeft) + parseFloat(style.paddingRight) + 24 <= el.clientWidth;
}"""


def screenshot(page: Page, folder, name: str, full_page: bool = True) -> None:
    """A screenshot kept in the test's tmp dir, for a person to look at."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_the_card_is_compact_quotes_first_and_folds_the_other_passages(page: Page, tmp_path):
    page.goto("/")
    ask(page, SUNDERLAND_QUESTION)
    article = page.locator("#conversation > li").last.locator("article.answer")
    children = article.evaluate("el => [...el.children].map(c => c.className || c.tagName)")
    assert children[:2] == ["answer-title", "answer-lines"]  # the answer before anything else
    sources = article.locator("details.sources")
    expect(sources).to_have_attribute("open", "")
    cited = sources.locator(".citation")
    others = article.locator("details.other-passages")
    expect(others.locator("summary")).to_have_text(re.compile(r"^Other passages \(\d+\)$"))
    assert others.evaluate("el => el.open") is False
    expect(others.locator(".citation").first).to_be_hidden()
    shown = cited.count() + others.locator(".citation").count()
    assert cited.count() >= 1 and shown == len(page.evaluate("JSON.parse(localStorage.getItem('scrutiny.conversation.v1'))[0].answer.citations"))
    for index in range(cited.count()):  # only cited sources are open, each with its quotation marked
        assert cited.nth(index).locator("mark").count() >= 1
    height = article.evaluate("el => el.getBoundingClientRect().height")
    assert height < 900, height
    others.locator("summary").click()
    expect(others.locator(".citation").first).to_be_visible()
    assert others.locator("mark").count() == 0
    screenshot(page, tmp_path, "chat-card-1280")
    assert page.problems == []


def test_every_quoted_sentence_is_highlighted_in_the_card_and_on_the_paper_page(page: Page, tmp_path):
    page.goto("/")
    ask(page, "What was the re-referral target?")
    article = page.locator("#conversation > li").last.locator("article.answer")
    quoted = article.evaluate(QUOTED_SPANS_SCRIPT)
    assert quoted and all(line["marked"] for line in quoted), quoted
    number = quoted[0]["number"]
    link = article.locator(f"[id$='-cite-{number}'] .citation-title a")
    link.click()
    page.wait_for_url("**/documents/**")
    target = page.locator(".chunk--cited")
    expect(target).to_be_focused()
    marks = [" ".join(m.split()) for m in target.locator("mark.quote").all_text_contents()]
    for line in quoted:
        if line["number"] == number:
            assert any(line["text"] in mark for mark in marks), (line, marks)
    strong = target.locator("mark.quote").first.evaluate("el => getComputedStyle(el).backgroundColor")
    passage = target.evaluate("el => getComputedStyle(el).backgroundColor")
    assert strong != passage  # the quotation stands out from the marked passage
    screenshot(page, tmp_path, "paper-cited-1280", full_page=False)  # the paper is long: the cited passage is in view
    page.set_viewport_size({"width": 375, "height": 740})
    target.scroll_into_view_if_needed()
    screenshot(page, tmp_path, "paper-cited-375", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.problems == []


def test_the_newest_answer_is_scrolled_to_and_focused_and_earlier_ones_fold(page: Page, tmp_path):
    page.goto("/")
    questions = [SUNDERLAND_QUESTION, "What was the re-referral target?",
                 "Did Suffolk meet its target for initial assessments within 7 working days?",
                 "What did the Cabinet Member decide about the Seashells and Millmead family hubs?",
                 "What is the population of Paris?", "and what about 2005?"]
    for question in questions:
        ask(page, question)
        newest = page.locator("#conversation > li").last.locator("article.answer")
        expect(newest).to_be_focused()
        expect(newest).to_be_in_viewport()
        expect(page.locator("#ask-status")).not_to_have_text("Searching the papers…")
    folded = page.evaluate("[...document.querySelectorAll('#conversation > li')].slice(0, -1)"
                           ".map(li => li.querySelector('details.sources')).filter(Boolean).map(d => d.open)")
    assert folded and not any(folded)
    for exchange in page.locator("#conversation > li").all()[:-1]:  # folded, each stays well under the 900 px window
        assert exchange.evaluate("el => el.getBoundingClientRect().height") < 600
    follow_up_link = page.locator("#conversation > li").last.locator(".share-link").get_attribute("href")
    shared = parse_qs(urlparse(follow_up_link).query)["q"][0]
    assert shared != "and what about 2005?" and "2005" in shared, "a follow-up's link asks the question it completed"
    paris = page.locator("#conversation > li").nth(4).locator("article.answer")
    expect(paris).to_have_class(re.compile("answer--not-found"))
    expect(paris.locator(".answer-title")).to_have_text("Not found in the papers")
    screenshot(page, tmp_path, "chat-conversation-1280")
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, tmp_path, "chat-conversation-375")
    assert page.problems == []


def test_the_api_docs_render_every_operation_offline(page: Page, tmp_path):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto("/docs")
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    paths = {text.replace("\u200b", "") for text in operations.all_text_contents()}
    assert {"/api/ask", "/api/search", "/api/documents", "/api/documents/{doc_id}", "/api/health"} <= paths
    assert page.get_by_text("Unable to render this definition").count() == 0
    page.locator(".opblock-summary-path", has_text="/api/ask").first.click()
    expect(page.locator(".opblock-body").first).to_contain_text("history")
    assert all(url.startswith(page.url.split("/docs")[0]) for url in requests), requests
    screenshot(page, tmp_path, "docs-1280")
    page.set_viewport_size({"width": 375, "height": 740})
    screenshot(page, tmp_path, "docs-375")
    assert page.problems == []


def test_pages_at_desktop_and_phone_width(browser: Browser, base_url: str, tmp_path):
    for width, height in ((1280, 900), (375, 740)):
        context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
        context.set_default_timeout(TIMEOUT_MS)
        tab = context.new_page()
        tab.goto("/?" + str(httpx.QueryParams({"q": SUNDERLAND_QUESTION})))
        for option in ("", "bm25", "dense"):
            tab.locator("#f-mode").select_option(option)
            assert tab.locator("#f-mode").evaluate(SELECT_FITS_SCRIPT), f"the search-method select cuts off {option!r}"
        for path, name in (("", "chat-shared"), ("/documents", "papers")):
            if path:
                tab.goto(path)
            assert tab.evaluate("document.documentElement.scrollWidth") <= width
            screenshot(tab, tmp_path, f"{name}-{width}")
        context.close()


def test_a_record_with_every_contract_key_renders_in_the_page_as_the_server_renders_it(page: Page):
    """The script's card and the server's card, from the same answer record: the script's is reached by
    restoring a stored conversation, which renders whatever the record holds."""
    record = contract_record(
        confidence="possible", read_as="Sunderland, agency social workers, 2015", notice="No papers from Narnia.",
        verdict={"status": "not met", "text": "The target was 60."}, decision_ref="24/00093")
    page.goto("/")
    page.evaluate("entry => localStorage.setItem('scrutiny.conversation.v1', JSON.stringify([entry]))",
                  {"answer": record, "filters": {"since": "2015-01-01"}, "mode": None})
    page.reload()
    article = page.locator("#conversation article.answer")
    expect(article).to_have_class(re.compile("answer--possible"))
    expect(article.locator(".answer-title")).to_have_text("Possible answer: check the source")
    expect(article.locator(".read-as")).to_have_text("Read as: Sunderland, agency social workers, 2015")
    expect(article.locator(".verdict")).to_have_text("Target not met. The target was 60.")
    expect(article.locator(".decision-link a")).to_have_attribute("href", "/decisions/24%2F00093")
    expect(article.locator(".sources mark")).to_have_text(["There were 79 agency social workers.",
                                                             "Most were in safeguarding teams."])
    expect(article.locator(".other-passages summary")).to_have_text("Other passages (1)")
    assert article.locator("a[href^='javascript']").count() == 0
    rendered_by_script = " ".join(article.inner_text().split())

    card = answer_card(record, "answer-0", Filters(since="2015-01-01"), None)
    html = page_templates().env.get_template("_answer.html").render(card=card)
    page.evaluate("""html => {
      const item = document.createElement('template');
      item.innerHTML = html;
      document.getElementById('conversation').append(item.content);
      document.querySelector('#answer-0 .copy-link').hidden = false;  // as the page's script shows it
    }""", html)
    rendered_by_server = " ".join(page.locator("#answer-0 article.answer").inner_text().split())
    assert rendered_by_script == rendered_by_server
    assert page.problems == []
