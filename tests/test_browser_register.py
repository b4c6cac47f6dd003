"""The commitments register and a decision trail in headless Chromium, at desktop (1280 px) and phone (375 px) widths."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from test_browser import TIMEOUT_MS, base_url, browser  # noqa: F401  (fixtures: one server and one browser per module)

pytestmark = pytest.mark.browser

# Elements wider than the viewport, or reaching past its right edge: what a reader would find cut off.
CLIPPED = """width => [...document.querySelectorAll('main *, header *')]
  .filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && (r.right > width + 1 || r.left < -1); })
  .map(el => el.tagName + '.' + el.className + ': ' + Math.round(el.getBoundingClientRect().right))"""


def open_page(browser: Browser, base_url: str, width: int, javascript: bool = True):
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900}, java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.mark.parametrize("width", [1280, 375])
def test_commitments_page_fits_the_screen_with_counts_and_pages(browser: Browser, base_url: str, width: int, tmp_path):
    context, page = open_page(browser, base_url, width)
    page.goto("/commitments")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(CLIPPED, width) == []
    rows = page.locator("table.register tbody tr")
    expect(rows).to_have_count(50)
    counts = {text.split(maxsplit=1)[1]: int(text.split()[0]) for text in page.locator(".status-counts a").all_inner_texts()}
    assert counts["All"] == sum(n for status, n in counts.items() if status != "All") > 50
    first = rows.first
    for label in ("Paper", "Commitment", "Target", "Due", "Status", "Latest report"):
        expect(first.locator(f'td[data-label="{label}"]')).to_be_visible()
    badge = first.locator(".badge")
    assert badge.evaluate("el => el.getBoundingClientRect().right") <= first.evaluate("el => el.getBoundingClientRect().right")
    if width == 375:  # one card per commitment: cells stacked, each with its label shown
        assert first.locator('td[data-label="Paper"]').evaluate("el => getComputedStyle(el).display") == "block"
        assert first.evaluate("el => el.getBoundingClientRect().width") <= 375
        first.screenshot(path=str(tmp_path / "commitment-card-375.png"))
    page.screenshot(path=str(tmp_path / f"commitments-{width}.png"), full_page=False)
    page.locator(".pager a[rel=next]").click()
    page.wait_for_url("**/commitments?page=2")
    expect(page.locator(".pager a[aria-current=page]")).to_have_text("2")
    expect(page.locator(".result-count")).to_contain_text("Showing 51–100")
    context.close()


def test_sorting_and_status_filters_work_without_javascript(browser: Browser, base_url: str, tmp_path):
    context, page = open_page(browser, base_url, 1280, javascript=False)
    page.goto("/commitments")
    page.locator("th.col-due a").click()
    page.wait_for_url("**/commitments?sort=due")
    expect(page.locator("th.col-due")).to_have_attribute("aria-sort", "ascending")
    dues = page.locator('td[data-label="Due"] time').evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dues and dues == sorted(dues)
    page.locator("th.col-due a").click()
    page.wait_for_url("**/commitments?sort=-due")
    dues = page.locator('td[data-label="Due"] time').evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dues == sorted(dues, reverse=True)
    page.locator("#c-authority").select_option("Suffolk County Council")
    page.locator("#c-status").select_option("not met")
    page.locator(".register-filters button").click()
    page.wait_for_url(re.compile(r".*authority=Suffolk.*status=not\+met.*sort=-due"))
    badges = page.locator("table.register .badge").all_inner_texts()
    assert badges and set(badges) == {"Not met"}
    expect(page.locator(".status-counts a[aria-current]")).to_contain_text("Not met")
    page.screenshot(path=str(tmp_path / "commitments-filtered-no-js.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_a_decision_trail_page_in_date_order_with_cited_quotes(browser: Browser, base_url: str, width: int, tmp_path):
    context, page = open_page(browser, base_url, width)
    page.goto("/documents/kent_2025-03_council_minutes")
    page.locator('a.reference-link', has_text="24/00093").click()
    page.wait_for_url("**/decisions/24%2F00093")
    expect(page.locator("h1")).to_contain_text("Decision 24/00093")
    steps = page.locator(".trail-step")
    expect(steps).to_have_count(7)
    dates = page.locator(".trail-date time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates == sorted(dates)
    expect(steps.first.locator(".trail-date")).to_have_text("17 January 2025")
    expect(steps.last).to_contain_text("RESOLVED that the County Council makes comments")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate(CLIPPED, width) == []
    page.screenshot(path=str(tmp_path / f"decision-trail-{width}.png"), full_page=True)
    cite = steps.last.locator(".trail-cite").first
    href = cite.get_attribute("href")
    cite.click()
    chunk = href.rsplit("#chunk-", 1)[1]
    page.wait_for_url(f"**/documents/kent_2025-03_council_minutes?hl={chunk}#chunk-{chunk}")
    expect(page.locator(f"#chunk-{chunk}")).to_contain_text("RESOLVED")
    context.close()
