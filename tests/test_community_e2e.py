"""The community end to end in a real browser (issue 12): Debian's headless Chromium, driven by
Playwright, against `paperradar serve` in a subprocess, on a copy of the web tests' database with
one account added by `paperradar users add` first. A member signs in, votes (with JavaScript:
no page load), submits a paper to today's list, comments in Markdown and edits the comment,
saves the paper with a note into a new collection, follows one of its authors and sees that
author's new paper on /following, downloads the library as BibTeX, and signs out; then the vote
again without JavaScript (the plain form, a 303 round trip). Every page is watched for console
errors (CSP violations land there), uncaught script errors and failed requests.

The browser, its options, `page_of` and `shot` are test_web_e2e.py's (one place says where
Chromium is and that CI fails without it); screenshots go to $PAPERRADAR_ARTIFACTS/e2e.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from community_fixtures import PASSWORD, database_on
from conftest import ROOT
from test_web_e2e import browser, page_of, shot  # noqa: F401
from web_fixtures import WEB_BACKENDS, Server, embedded_ids

from paperradar.store import open_store

EMAIL = "ada@example.org"
NAME = "Ada <i>Lovelace</i> & co"  # shown in the header and as "Submitted by": as text, never markup
DAY = "2025-03-20"  # a day of the slice with a Hugging Face featured list


@dataclass
class Community:
    server: Server
    path: Path | str  # what --db takes: the SQLite file or the PostgreSQL URL
    folder: Path  # a scratch folder of its own
    submitted: str  # a stored paper featured on no day: the one submitted, commented, saved, followed
    author: str  # its first author, whose only papers are old ones


def cli(db: Path | str, *args: str, stdin: str | None = None) -> str:
    """The real `paperradar` command on ``db`` (a second process, as the site's owner runs it)."""
    done = subprocess.run([sys.executable, "-m", "paperradar", "--db", str(db), *args], check=False, cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout + done.stderr


@pytest.fixture(scope="module", params=WEB_BACKENDS)
def community(request: pytest.FixtureRequest, web_db,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Community]:
    """`paperradar serve` on a copy of the slice, on each backend."""
    folder = tmp_path_factory.mktemp("community-e2e")
    with database_on(request, web_db, folder) as path:
        yield from _served(path, folder)


def _served(path: Path | str, folder: Path) -> Iterator[Community]:
    cli(path, "users", "add", EMAIL, "--name", NAME, "--password-stdin", stdin=PASSWORD + "\n")
    store = open_store(str(path))
    try:  # a paper no list features, with a first author of a plain name (one link, one folded name)
        for pid in embedded_ids(store):
            row = store.get(pid)
            assert row is not None
            if not store.featured_of([row["rowid"]]) and re.fullmatch(r"[A-Za-z. -]+", row["authors"][0]):
                submitted, author = pid, row["authors"][0]
                break
        else:
            raise AssertionError("no unfeatured paper with a plain first author in the slice")
    finally:  # the server is the only process holding the database from here on
        getattr(store, "dispose", store.close)()
    server = Server(path)
    yield Community(server, path, folder, submitted, author)
    assert server.stop() == 0, server.output()


def sign_in(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    assert page.locator("nav.account a[href='/settings']").inner_text() == NAME


def votes(page, base: str, pid: str) -> dict:  # type: ignore[no-untyped-def]
    """GET /api/papers/{id}/votes with the page's own cookies (so `you` is this member)."""
    r = page.request.get(f"{base}/api/papers/{pid}/votes")
    assert r.status == 200, r.text()
    return r.json()  # type: ignore[no-any-return]


def test_member_votes_submits_comments_saves_follows_exports_and_signs_out(browser, community) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, pid, author = community.server.base, community.submitted, community.author
    context, page = page_of(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, base)

    # Vote on a card of the day's list: app.js sends it with fetch, the count changes in place.
    page.goto(f"{base}/?date={DAY}")
    card = page.locator("li.paper").first
    voted = card.get_attribute("id")[2:]  # type: ignore[index]
    form = card.locator("form.vote")
    button, count = form.locator("button"), form.locator(".vote-count")
    before = votes(page, base, voted)
    assert before["you"] is False and int(count.inner_text()) == before["total"]
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.evaluate("window.stillHere = true")  # gone if the page were reloaded or replaced
    with page.expect_response(lambda r: r.url == f"{base}/api{quote_path(voted)}/votes"
                              and r.request.method == "POST") as answer:
        button.click()
    assert answer.value.status == 200
    expect(count).to_have_text(str(before["total"] + 1))
    expect(button).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.stillHere") is True and loads == []
    after = votes(page, base, voted)
    assert after == {"users": before["users"] + 1, "huggingface": before["huggingface"],
                     "total": before["total"] + 1, "you": True}
    shot(page, "community-voted")
    with page.expect_response(lambda r: r.url.endswith("/votes") and r.request.method == "DELETE"):
        button.click()  # and back
    expect(count).to_have_text(str(before["total"]))
    expect(button).to_have_attribute("aria-pressed", "false")
    assert votes(page, base, voted) == before and loads == [] and page.evaluate("window.stillHere") is True

    # Submit a stored paper no list features: it is on today's list, "Submitted by" the member.
    today = datetime.now(UTC).date().isoformat()
    page.locator("nav.account").get_by_role("link", name="Submit").click()
    page.wait_for_url(f"{base}/submit")
    page.get_by_label("arXiv id or URL").fill(f"https://arxiv.org/abs/{pid}v1")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(re.escape(f"{base}/?date={today}") + ".*#p-"))
    submitted = page.locator(f"li.paper[id='p-{pid}']")
    expect(submitted).to_have_count(1)
    assert submitted.locator(".submitted").inner_text() == f"Submitted by {NAME}"
    assert submitted.locator(".submitted i").count() == 0  # the name's markup is text
    shot(page, "community-submitted")
    # The same paper again: refused, and the form says why.
    page.goto(f"{base}/submit")
    page.get_by_label("arXiv id or URL").fill(pid)
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("p.error")).to_contain_text("already on today's list")
    refused = "Failed to load resource: the server responded with a status of 409 (Conflict)"
    assert page.problems == [refused], page.problems  # the form came back as a 409: Chromium logs that
    page.problems.clear()

    # Comment in Markdown: **bold** is <strong>, a <script> is shown as the text it is; then edit it.
    submitted_page = f"{base}/papers/{pid}"
    page.goto(submitted_page)
    page.locator("#comment-body").fill("A **bold** claim <script>window.pwned = 1</script> about `code`.")
    page.get_by_role("button", name="Comment").click()
    page.wait_for_url(re.compile(re.escape(submitted_page) + r"#comment-\d+$"))
    comment = page.locator("article.comment")
    expect(comment).to_have_count(1)
    body = comment.locator(".comment-body")
    assert body.locator("strong").inner_text() == "bold" and body.locator("code").inner_text() == "code"
    assert "<script>window.pwned = 1</script>" in body.inner_text()
    assert body.locator("script").count() == 0 and page.evaluate("window.pwned") is None
    assert comment.locator(".author").inner_text() == NAME
    comment.get_by_role("link", name="Edit").click()
    page.wait_for_url(re.compile(r"/comments/\d+/edit"))
    page.locator("#comment-body").fill("On reflection, an *emphasised* claim.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(re.escape(submitted_page) + r".*#comment"))
    assert comment.locator(".comment-body em").inner_text() == "emphasised"
    assert "bold" not in comment.inner_text() and comment.locator(".edited").inner_text() == "edited"
    shot(page, "community-comment")

    # Save it with a note into a new collection; the collection's page lists it with the note.
    collection, note = "Ideas & <b>leads</b>", "Check §4 against <em>our</em> numbers & the appendix"
    library = page.locator("#library")
    library.get_by_label("New collection").fill(collection)
    library.get_by_label("Note (private)").fill(note)
    library.get_by_role("button", name="Save to library").click()
    page.wait_for_url(f"{submitted_page}#library")
    expect(library.get_by_role("button", name="Update")).to_be_visible()
    assert library.get_by_label("Note (private)").input_value() == note
    page.locator("nav.account").get_by_role("link", name="Library").click()
    page.wait_for_url(f"{base}/library")
    page.locator("nav.collections").get_by_role("link", name=f"{collection} (1)").click()
    page.wait_for_url(f"{base}/library/{quote(collection, safe='')}")
    assert page.locator("h1").inner_text() == f"Library: {collection}"
    entry = page.locator(f"li.paper[id='p-{pid}']")
    assert entry.locator("p.note").inner_text() == note and entry.locator("p.note em").count() == 0
    shot(page, "community-library")

    # Follow the paper's first author from the author page.
    page.goto(submitted_page)
    page.locator("p.authors").get_by_role("link", name=author, exact=True).click()
    page.wait_for_url(f"{base}/authors/{quote(author)}")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.wait_for_url(re.compile(re.escape(f"{base}/authors/")))
    expect(page.get_by_role("button", name=re.compile("^Following ✓"))).to_be_visible()

    # /following lists papers that *arrived* after the member's mark and were listed on arXiv at most
    # a week before it (rank/following.py). The slice's papers are from March 2025: the author's old
    # papers are rightly not new, so the page starts empty. Marking it as seen, then a new paper by the
    # author arriving the way a sync brings one (`paperradar import` by the owner, into the database
    # the server is running on), is the behaviour itself, with no clock or database edited by hand.
    page.locator("nav.account").get_by_role("link", name="Following").click()
    page.wait_for_url(f"{base}/following")
    expect(page.locator("p.empty").first).to_contain_text("Nothing new")
    follows = page.locator("ul.follow-list li")
    expect(follows).to_have_count(1)
    assert follows.locator("a").inner_text() == author
    as_of = page.locator("input[name='at']").get_attribute("value")
    page.get_by_role("button", name="Mark all as seen").click()
    page.wait_for_url(f"{base}/following")
    expect(page.locator("p.count")).to_contain_text("since")
    # New means stored strictly after the mark (whole seconds): let the clock pass it first.
    while datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") <= (as_of or ""):
        time.sleep(0.1)
    new_id = "2611.99001"
    record = {"arxiv_id": new_id, "title": "Follow-up results on an old idea", "listed": today,
              "abstract": "A new paper by an author the member follows, arriving after the mark.",
              "authors": ["Someone Else", author], "categories": ["cs.LG"]}
    jsonl = community.folder / "new-paper.jsonl"
    jsonl.write_text(json.dumps(record) + "\n", encoding="utf-8")
    cli(community.path, "import", str(jsonl), "--no-progress", "--no-embed")
    new = page.locator(f"li.paper[id='p-{new_id}']")
    for _ in range(50):  # the server's keyword reader sees another process's commit after tantivy's
        # reload delay (about half a second): a sync or import shows up on the next page after that
        page.goto(f"{base}/following")
        if new.count():
            break
        time.sleep(0.2)
    expect(new).to_have_count(1)
    assert new.locator("p.why").inner_text() == f"author {author}"
    assert page.locator("ol.following-papers li.paper").count() == 1  # only what is new since the mark
    shot(page, "community-following")

    # Export the library as BibTeX (a download): it parses, and holds the saved paper with its note.
    page.locator("nav.account").get_by_role("link", name="Library").click()
    page.wait_for_url(f"{base}/library")
    with page.expect_download() as download:
        page.locator("p.exports").get_by_role("link", name="BibTeX").click()
    assert download.value.suggested_filename.endswith(".bib")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    from bibtexparser.bparser import BibTexParser
    from bibtexparser.customization import convert_to_unicode

    entries = BibTexParser(common_strings=True, customization=convert_to_unicode).parse(text).entries
    assert len(entries) == 1, text  # (the note's "&" is written "\\&", as BibTeX needs)
    assert entries[0]["eprint"] == pid and entries[0]["annote"] == note, entries[0]

    # Sign out; the settings page then asks to sign in.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.goto(f"{base}/settings")
    assert page.url == f"{base}/login?next=/settings"
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.problems == [], page.problems
    context.close()


def test_vote_without_javascript_is_a_plain_form(browser, community) -> None:  # noqa: F811
    base = community.server.base
    context, page = page_of(browser, java_script_enabled=False, viewport={"width": 1024, "height": 800})
    sign_in(page, base)
    page.goto(f"{base}/?date={DAY}")
    card = page.locator("li.paper").nth(1)
    pid = card.get_attribute("id")[2:]  # type: ignore[index]
    before = votes(page, base, pid)
    assert card.locator("form.vote button").get_attribute("aria-pressed") == "false"
    with page.expect_response(lambda r: r.url.endswith(f"{quote_path(pid)}/vote")) as posted:
        card.locator("form.vote button").click()
    assert posted.value.status == 303 and posted.value.request.method == "POST"
    page.wait_for_url(f"{base}/?date={DAY}#p-{pid}")  # back at the card, the page made again
    card = page.locator(f"li.paper[id='p-{pid}']")
    assert card.locator("form.vote button").get_attribute("aria-pressed") == "true"
    assert int(card.locator(".vote-count").inner_text()) == before["total"] + 1
    assert votes(page, base, pid)["you"] is True
    shot(page, "community-voted-no-js")
    card.locator("form.vote button").click()  # and back
    page.wait_for_url(f"{base}/?date={DAY}#p-{pid}")
    assert page.locator(f"li.paper[id='p-{pid}'] form.vote button").get_attribute("aria-pressed") == "false"
    assert votes(page, base, pid) == before
    assert page.problems == [], page.problems
    context.close()


def quote_path(pid: str) -> str:
    """A paper page's path as the site writes it (old-style ids keep their slash)."""
    return "/papers/" + quote(pid, safe="/:")
