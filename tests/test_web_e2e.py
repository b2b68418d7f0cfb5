"""End to end in a real browser: Debian's headless Chromium, driven by Playwright, against
`paperradar serve` on 127.0.0.1. Browse the feed, change day, search, open a paper, follow a
similar paper; the same pages without JavaScript and on a phone. Screenshots go to
$PAPERRADAR_ARTIFACTS (default: test-artifacts/) under e2e/.

Playwright cannot download its own browser here (`playwright install` is never run): it
launches /usr/bin/chromium (Debian's chromium package, installed by .ci/run).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from web_fixtures import Server, embedded_ids

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(os.environ.get("PAPERRADAR_ARTIFACTS", ROOT / "test-artifacts")) / "e2e"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} missing: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(web_store) -> Iterator[Server]:
    """``paperradar serve`` over the web slice on each backend (the SQLite file, or PostgreSQL's clone)."""
    server = Server(web_store.path)
    yield server
    assert server.stop() == 0, server.output()


def page_of(browser, **options):  # type: ignore[no-untyped-def]
    """A fresh page that records console errors (CSP violations land there) and failed requests."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("requestfailed", lambda r: page.problems.append(f"failed: {r.url}"))
    return context, page


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_browse_change_day_search_open_a_paper_and_follow_a_similar_one(browser, site, web_store) -> None:
    context, page = page_of(browser, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base)
    # The feed of a day.
    page.goto(f"{site.base}/?date=2025-03-20")
    assert page.locator("h1").inner_text() == "Featured papers of Thursday 20 March 2025"  # the day's featured list
    page.get_by_role("link", name=re.compile(r"^All new on arXiv")).click()  # ... and the switch to all of them
    page.wait_for_url(re.compile(r"list=all"))
    assert page.locator("h1").inner_text() == "Papers of Thursday 20 March 2025"
    assert page.locator("li.paper").count() == 50
    assert page.locator(".votes").first.inner_text().startswith("▲ ")
    shot(page, "feed")
    # Change day: the next-day link, then the date picker.
    page.get_by_role("link", name="Next day →").click()
    page.wait_for_url(re.compile(r"date=2025-03-21"))
    assert "21 March 2025" in page.locator("h1").inner_text()
    page.locator('input[name="date"]').fill("2025-03-19")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"date=2025-03-19"))
    assert "19 March 2025" in page.locator("h1").inner_text()
    page.get_by_role("link", name="week", exact=True).click()
    page.wait_for_url(re.compile(r"period=week"))
    assert "2025-W12" in page.locator("h1").inner_text() and page.locator("ul.days li").count() >= 4

    # Search from the header box: an embedded paper's title finds the paper.
    pid = embedded_ids(web_store)[3]
    title = web_store.get(pid)["title"]
    page.locator('header input[name="q"]').fill(title)
    page.locator('header input[name="q"]').press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    results = page.locator("ol.papers li.paper")
    assert results.count() > 0 and page.locator("ol.papers mark").count() > 0
    shot(page, "search")
    # Open it.
    page.locator(f'ol.papers h3 a[href="/papers/{pid}"]').first.click()
    page.wait_for_url(f"{site.base}/papers/{pid}")
    assert page.locator("h1").inner_text().strip()[:20] == " ".join(title.split())[:20]
    assert page.locator("textarea#bibtex").input_value().startswith("@misc{")
    copy = page.get_by_role("button", name="Copy BibTeX")
    assert copy.is_visible()  # the script shows it; without JavaScript it stays hidden
    copy.click()
    page.wait_for_function("document.querySelector('button.copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()").startswith("@misc{")
    shot(page, "paper")
    # Follow a similar paper, then compare on a facet.
    similar = page.locator("#similar ol.papers h3 a")
    assert similar.count() == 10
    target = similar.first.get_attribute("href")
    similar.first.click()
    page.wait_for_url(f"{site.base}{target}")
    assert page.locator("h1").inner_text().strip()
    page.goto(f"{site.base}/papers/{pid}")
    page.get_by_role("link", name="method").click()
    page.wait_for_url(re.compile(r"facet=method"))
    assert page.locator("#similar ol.papers li").count() == 10
    shot(page, "similar-method")
    assert page.problems == [], page.problems
    context.close()


def test_every_page_works_without_javascript(browser, site) -> None:
    context, page = page_of(browser, java_script_enabled=False, viewport={"width": 1024, "height": 800})
    page.goto(f"{site.base}/?date=2025-03-20&list=all")
    page.locator('select[name="period"]').select_option("month")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"period=month"))
    assert page.locator("h1").inner_text() == "Papers of 2025-03"
    page.goto(f"{site.base}/search")
    page.locator("textarea#q").fill("robot manipulation")
    page.locator("form.search").get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=robot\+manipulation"))
    assert page.locator("ol.papers li.paper").count() == 20
    page.locator("ol.papers h3 a").first.click()
    page.wait_for_url(re.compile(r"/papers/"))
    assert page.locator("textarea#bibtex").is_visible()
    assert not page.get_by_role("button", name="Copy BibTeX").is_visible()
    page.goto(f"{site.base}/trending")
    assert "score = upvotes / (age_hours + 2) ^ 1.8" in page.locator("p.formula").inner_text()
    shot(page, "trending-no-js")
    assert page.problems == [], page.problems
    context.close()


def test_pages_fit_a_phone(browser, site) -> None:
    context, page = page_of(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2,
                            is_mobile=True, has_touch=True)
    for name, path in [("feed-phone", "/?date=2025-03-20"), ("paper-phone", "/papers/2503.99902"),
                       ("search-phone", "/search?q=diffusion"), ("trending-phone", "/trending")]:
        page.goto(site.base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)  # nothing wider than the screen
        if name == "paper-phone":  # TeX rendered as MathML, laid out by the browser
            assert page.locator("math").count() >= 2 and page.locator("math").first.bounding_box()["width"] > 0
        shot(page, name)
    assert page.problems == [], page.problems
    context.close()
