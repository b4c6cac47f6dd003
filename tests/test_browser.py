"""The chat page in real headless Chromium against uvicorn on a loopback port.

Covers what only a browser shows: asking without a reload, the conversation kept
across reloads, landing on the cited passage, filter chips, pasted markup shown as
text, keyboard focus, contrast, and the page at phone width.
"""
from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from conftest import INJECTED_ID
from server.app import create_app

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


def test_ask_see_the_answer_and_follow_a_citation_to_the_passage(page: Page, tmp_path):
    page.goto("/")
    ask(page, SUNDERLAND_QUESTION)
    exchange = page.locator("#conversation > li").last
    expect(exchange.locator(".answer-title")).to_have_text("Answer")
    expect(exchange.locator(".answer-text")).to_contain_text("79")
    expect(exchange.locator(".answer-text .marker").first).to_have_text("[1]")
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
    assert href.startswith(f"/documents/{SUNDERLAND_DOC}?hl={chunk_id}")
    link.click()
    page.wait_for_url(f"**/documents/{SUNDERLAND_DOC}?hl={chunk_id}#chunk-{chunk_id}")
    target = page.locator(f"#chunk-{chunk_id}")
    expect(target).to_have_class("chunk chunk--cited")
    expect(target).to_be_focused()
    expect(target).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target').id") == f"chunk-{chunk_id}"
    assert target.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 248, 214)"
    expect(target).to_contain_text("79")
    assert page.problems == []


def test_the_conversation_survives_a_reload_newest_last_and_can_be_cleared(page: Page):
    page.goto("/")
    ask(page, SUNDERLAND_QUESTION)
    ask(page, "What was Peterborough's year to date re-referral percentage?")
    page.reload()
    questions = page.locator("#conversation .question-bubble")
    expect(questions).to_have_count(2)
    expect(questions.nth(0)).to_contain_text("Sunderland")
    expect(questions.nth(1)).to_contain_text("Peterborough")
    expect(page.locator("#conversation .copy-link").first).to_be_visible()
    page.locator("#clear-conversation").click()
    expect(page.locator("#conversation > li")).to_have_count(0)
    assert page.evaluate("localStorage.getItem('scrutiny.conversation.v1')") == "[]"
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
    councils = exchange.locator(".citation-meta div:first-child dd").all_text_contents()
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
    expect(page.locator("#conversation .answer-text")).to_contain_text("79")
    expect(page.locator("#filter-chips a.chip")).to_have_text("Council: Sunderland City Council × (remove this filter)")
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
                ".answer-title", ".answer-text", ".marker", ".citation-title a", ".citation-number", ".citation-meta dt",
                ".excerpt", "mark", ".share-link", ".copy-link", "#ask-button", ".chip", ".tag", ".site-footer p"]


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
