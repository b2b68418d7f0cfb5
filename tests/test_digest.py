"""The email digest and the account mails, end to end against a real SMTP server (aiosmtpd, started here).

Subscribe on the site → the confirmation mail → confirm → ``paperradar digest send`` → the digest
arrives (headers, multipart, the same papers in the text and the HTML, the HTML rendered in Chromium
with a screenshot under $PAPERRADAR_ARTIFACTS/mail/) → the RFC 8058 one-click POST to its
List-Unsubscribe URL → the next send mails nothing. Also: a GET of a mailed link changes nothing,
the API never tells who subscribes, hostile titles are escaped, and the sign-in link, password reset
and `open` registration flows from the form to the signed-in browser.
"""

from __future__ import annotations

import email
import email.policy
import importlib.util
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from community_fixtures import ORIGIN, PASSWORD, Site, add_member, site_on
from conftest import ROOT
from fastapi.testclient import TestClient
from helpers import cli
from test_web_e2e import browser  # noqa: F401 - Chromium, launched once per module
from web_fixtures import WEB_BACKENDS

from paperradar.app import Radar
from paperradar.config import Settings
from paperradar.mail import digest as digests
from paperradar.mail.digest import Period, compose, gather
from paperradar.web import create_app
from paperradar.web.auth import SESSION_COOKIE

ARTIFACTS = Path(os.environ.get("PAPERRADAR_ARTIFACTS", ROOT / "test-artifacts")) / "mail"
SENDER = "paperradar digest <digest@example.org>"
DAY = date(2025, 3, 20)  # a day of the slice with featured papers
HOSTILE_ID = "2503.99901"  # web_fixtures.HOSTILE: markup in its title, authors and abstract


# -- a real SMTP server ----------------------------------------------------------------------------


class Inbox:
    """aiosmtpd's handler: every message the server accepted, by recipient."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        with self.changed:
            self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
            self.changed.notify_all()
        return "250 OK: queued"

    def to(self, address: str) -> list[EmailMessage]:
        with self.changed:
            found = [content for rcpts, content in self.messages if address in rcpts]
        return [email.message_from_bytes(c, policy=email.policy.default) for c in found]  # type: ignore[misc]

    def wait(self, address: str, count: int = 1, timeout: float = 20.0) -> list[EmailMessage]:
        """The messages to ``address`` once there are ``count`` (the site delivers in a background thread)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while sum(address in r for r, _ in self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"no mail #{count} to {address} within {timeout} s"
                self.changed.wait(left)
        return self.to(address)


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port  # type: ignore[attr-defined]
    yield handler
    controller.stop()


@pytest.fixture(scope="module", params=WEB_BACKENDS)
def site(request: pytest.FixtureRequest, web_db, inbox: Inbox,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A copy of the slice that mails through ``inbox``: base URL = the TestClient's origin, open registration;
    on each backend (``site.path`` is what ``--db`` takes)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("PAPERRADAR_SMTP_URL", f"smtp://127.0.0.1:{inbox.port}")  # type: ignore[attr-defined]
    patch.setenv("PAPERRADAR_MAIL_FROM", SENDER)
    patch.delenv("PAPERRADAR_BASE_URL", raising=False)
    mail = SimpleNamespace(rate=0.0, tries=3, backoff=1.0, timeout=10.0)
    settings = Settings(base_url=ORIGIN, registration="open", mail=mail)
    with inbox.changed:  # the inbox is the module's: what the other backend's site was sent is not this one's
        inbox.messages.clear()
    with site_on(request, web_db, tmp_path_factory.mktemp("digest"), settings) as made:
        yield made
    patch.undo()


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text("[mail]\nrate = 0\nbackoff = 1\n", encoding="utf-8")
    return path


def links_in(message: EmailMessage) -> list[str]:
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    return re.findall(r"https?://\S+", text)


def link_to(message: EmailMessage, path: str) -> str:
    """The path (and token) of the mail's link that starts with ``path``."""
    found = [u for u in links_in(message) if urlsplit(u).path.startswith(path + "/")]
    assert found, (path, links_in(message))
    assert found[0].startswith(ORIGIN + path), found[0]  # absolute, from the base URL
    return urlsplit(found[0]).path


def status(site: Site, address: str) -> str | None:
    found = site.store.subscription(address)
    return found["status"] if found else None


# -- the HTML part, read ---------------------------------------------------------------------------


class MailHtml(HTMLParser):
    """What a mail client keeps of the HTML: links, and anything it would drop (style blocks, classes, scripts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.anchors: list[list[str]] = []  # [href, text]
        self.problems: list[str] = []
        self.styled = 0
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag in ("style", "script", "link", "img", "iframe", "object", "form"):
            self.problems.append(f"<{tag}>")
        if "class" in names or "id" in names:
            self.problems.append(f"class/id on <{tag}>")
        if any(n.startswith("on") for n in names):
            self.problems.append(f"handler on <{tag}>")
        if "style" in names:
            self.styled += 1
        if tag == "a":
            self.hrefs.append(names.get("href") or "")
            self._open = [names.get("href") or "", ""]
            self.anchors.append(self._open)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1] += data


def read_html(html: str) -> MailHtml:
    parser = MailHtml()
    parser.feed(html)
    parser.close()
    return parser


def paper_ids(html: str) -> list[str]:
    """The papers an HTML part lists, in order (each card has a link "On paperradar" to the paper's page;
    "close to your saved" links to other papers are not listed papers)."""
    seen: list[str] = []
    for href, text in read_html(html).anchors:
        m = re.fullmatch(re.escape(ORIGIN) + r"/papers/(.+)", href)
        if m and text.strip() == "On paperradar" and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def text_ids(text: str) -> list[str]:
    seen: list[str] = []
    for m in re.finditer(re.escape(ORIGIN) + r"/papers/(\S+)", text):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


# -- the whole flow --------------------------------------------------------------------------------


def test_subscribe_confirm_digest_one_click_unsubscribe_and_no_more_mail(site: Site, inbox: Inbox, capsys,
                                                                       tmp_path: Path) -> None:
    reader = "reader@example.org"
    client = site.client()
    # The form is on every page (the site mails), and the API takes the address.
    page = client.get("/")
    assert 'action="/subscribe"' in page.text and 'name="email"' in page.text
    r = client.post("/api/subscriptions", json={"email": reader, "frequency": "daily", "categories": []})
    assert r.status_code == 202, r.text
    assert status(site, reader) == "pending"
    (confirmation,) = inbox.wait(reader)
    assert confirmation["To"] == reader and "Confirm" in confirmation["Subject"]
    confirm = link_to(confirmation, "/confirm")
    # A GET of the link (a scanner, a preview) shows a button and confirms nothing.
    shown = client.get(confirm)
    assert shown.status_code == 200 and f'action="{confirm}"' in shown.text and 'method="post"' in shown.text
    assert status(site, reader) == "pending"
    done = client.post(confirm, headers={"Origin": ORIGIN})
    assert done.status_code == 200 and "You are subscribed" in done.text
    assert status(site, reader) == "active"
    assert client.post(confirm, headers={"Origin": ORIGIN}).status_code == 404  # single use

    # The day's digests are made and sent; the reader's arrives.
    config = config_file(tmp_path)
    rc, out, err = cli(capsys, "--db", site.path, "digest", "send", "--date", DAY.isoformat(),
                       "--base-url", ORIGIN, "--config", config)
    assert rc == 0, (out, err)
    mails = inbox.wait(reader, 2)
    digest = mails[1]
    assert "digest" in digest["Subject"] and digest["To"] == reader
    # Headers present and well formed.
    assert re.fullmatch(r"<digest\.daily\.2025-03-20\.\d+\.[0-9a-f]{16}@testserver>", digest["Message-ID"])
    assert parsedate_to_datetime(digest["Date"]).tzinfo is not None
    assert digest["List-Id"] == "paperradar daily digest <daily.digest.testserver>"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub = re.fullmatch(r"<(https?://[^>]+)>, <(mailto:[^>]+)>", " ".join(digest["List-Unsubscribe"].split()))
    assert unsub, digest["List-Unsubscribe"]
    one_click, mailto = unsub.groups()
    assert one_click.startswith(f"{ORIGIN}/unsubscribe/") and mailto.startswith("mailto:digest@example.org?subject=")
    assert digest["From"] == SENDER and digest["Auto-Submitted"] == "auto-generated"
    # multipart/alternative: the plain text, then the HTML; the same papers in both, in the same order.
    assert digest.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in digest.iter_parts()] == ["text/plain", "text/html"]
    text = digest.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = digest.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    listed = paper_ids(html)
    assert len(listed) >= 5 and listed == text_ids(text)
    featured = [row["id"] for row, _ in site.store.featured_papers("2025-03-20", "2025-03-20", None, None, 3, 0)[0]]
    assert listed[:3] == featured  # the day's most upvoted featured papers first
    for paper_id in listed:
        assert site.store.get(paper_id)["title"].split()[0] in text  # type: ignore[index]
    parsed = read_html(html)
    assert not parsed.problems, parsed.problems  # inline styles only: no <style>, classes, scripts or images
    assert parsed.styled > 20
    assert all(h.startswith((ORIGIN + "/", "https://")) for h in parsed.hrefs), parsed.hrefs  # all absolute
    assert one_click in parsed.hrefs and one_click in text

    # Exactly once: the same day again sends nothing new.
    rc, out, err = cli(capsys, "--db", site.path, "digest", "send", "--date", DAY.isoformat(),
                       "--base-url", ORIGIN, "--config", config)
    assert rc == 0, (out, err)
    time.sleep(0.5)
    assert len(inbox.to(reader)) == 2

    # The unsubscribe link: a GET shows a button and changes nothing ...
    path = urlsplit(one_click).path
    page = client.get(path)
    assert page.status_code == 200 and 'name="List-Unsubscribe" value="One-Click"' in page.text
    assert status(site, reader) == "active"
    # ... a POST without the one-click body does nothing ...
    stranger = TestClient(site.app, follow_redirects=False)  # no cookie, no Origin, no CSRF token
    assert stranger.post(path).status_code == 400
    assert status(site, reader) == "active"
    # ... and the RFC 8058 one-click POST unsubscribes, with no cookie, no Origin and no CSRF token.
    r = stranger.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "unsubscribed" in r.text
    assert status(site, reader) == "unsubscribed"
    assert stranger.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # idempotent

    # The next send: no mail to the reader.
    rc, out, err = cli(capsys, "--db", site.path, "digest", "send", "--date", "2025-03-21",
                       "--base-url", ORIGIN, "--config", config)
    assert rc == 0, (out, err)
    time.sleep(0.5)
    assert len(inbox.to(reader)) == 2


def test_the_api_never_tells_who_subscribes_and_limits_confirmations(site: Site, inbox: Inbox) -> None:
    client = site.client()
    known = "known@example.org"
    site.store.add_subscription(known, "daily", [], None, None, None, "tok-known")  # active already
    answers = [client.post("/api/subscriptions", json={"email": address})
               for address in (known, "fresh@example.org", "fresh@example.org")]
    assert {a.status_code for a in answers} == {202}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    inbox.wait("fresh@example.org", 2)
    time.sleep(0.5)
    assert inbox.to(known) == []  # an active subscription is not touched by a stranger
    assert site.store.subscription(known)["frequency"] == "daily"  # type: ignore[index]
    # A third confirmation in the hour is the last: the fourth request mails nothing (and says the same).
    assert client.post("/api/subscriptions", json={"email": "fresh@example.org"}).status_code == 202
    inbox.wait("fresh@example.org", 3)
    again = client.post("/api/subscriptions", json={"email": "fresh@example.org", "frequency": "weekly"})
    assert again.status_code == 202 and again.json() == answers[0].json()
    time.sleep(0.5)
    assert len(inbox.to("fresh@example.org")) == 3
    # Bad values name the field; a browser's request from another site is refused.
    bad = client.post("/api/subscriptions", json={"email": "no at sign"})
    assert bad.status_code == 400 and "email" in bad.json()["error"]["message"]
    bad = client.post("/api/subscriptions", json={"email": "a@example.org", "categories": ["<b>"]})
    assert bad.status_code == 400 and "categories" in bad.json()["error"]["message"]
    bad = client.post("/api/subscriptions", json={"email": "a@example.org\r\nBcc: victim@example.org"})
    assert bad.status_code == 400
    foreign = client.post("/api/subscriptions", json={"email": "a@example.org"}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and site.store.subscription("a@example.org") is None


def test_the_footer_form_posts_from_the_site_only(site: Site, inbox: Inbox) -> None:
    client = site.client()
    form = {"email": "footer@example.org", "frequency": "weekly", "categories": "cs.CV cs.CL"}
    assert client.post("/subscribe", data=form, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/subscribe", data=form).status_code == 403  # no Origin, no Referer
    r = client.post("/subscribe", data=form, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "Check your inbox" in r.text
    sub = site.store.subscription("footer@example.org")
    assert sub is not None and sub["frequency"] == "weekly" and sub["categories"] == ["cs.CV", "cs.CL"]
    inbox.wait("footer@example.org")
    r = client.post("/subscribe", data={**form, "categories": "not a category!"}, headers={"Origin": ORIGIN})
    assert r.status_code == 400 and "categories" in r.text


def test_a_signed_in_member_subscribes_their_own_address_at_once_with_a_personal_digest(site: Site) -> None:
    member = add_member(site.store, "member@example.org")
    client = site.client()
    r = client.post("/login", data={"email": member.email, "password": PASSWORD}, headers={"Origin": ORIGIN})
    assert r.status_code == 303
    page = client.get("/")
    token = re.search(r'action="/subscribe".*?name="csrf_token" value="([^"]+)"', page.text, re.DOTALL)
    assert token and 'value="member@example.org"' in page.text  # the form knows the member's address
    form = {"email": member.email, "frequency": "daily"}
    assert client.post("/subscribe", data=form, headers={"Origin": ORIGIN}).status_code == 403  # no CSRF token
    r = client.post("/subscribe", data={**form, "csrf_token": token.group(1)}, headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "You are subscribed" in r.text
    sub = site.store.subscription(member.email)
    assert sub["status"] == "active" and sub["user"] == member.user.id  # type: ignore[index]


# -- what a digest says ----------------------------------------------------------------------------


def hostile_setup(site: Site) -> dict:
    """An account following a hostile author, subscribed, with the hostile paper featured on its day."""
    store = site.store
    store.add_featured(HOSTILE_ID, "2025-03-19")
    user = store.get_user("hostile-reader@example.org") or add_member(store, "hostile-reader@example.org").user
    paper = store.get(HOSTILE_ID)
    store.add_follow(user.id, "author", paper["authors"][0])  # type: ignore[index]
    store.add_follow(user.id, "category", "cs.CR")
    sub, _ = store.add_subscription(user.email, "daily", [], user.id, None, None, "tok-hostile")
    return sub


def test_hostile_titles_and_follows_are_escaped_in_the_html_and_kept_to_one_line_in_the_text(site: Site) -> None:
    sub = hostile_setup(site)
    message = compose(site.radar, sub, Period("daily", date(2025, 3, 19)), ORIGIN, from_address=SENDER)
    assert message is not None
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert HOSTILE_ID in paper_ids(html) and HOSTILE_ID in text_ids(text)
    for raw in ("<script>alert", "</textarea><b>", "<img src=x", 'Eve "Quote" <Evil>', "<Evil>"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in html
    assert "&lt;Evil&gt;" in html  # the author in the card and in the follow's reason
    assert not read_html(html).problems
    title = site.store.get(HOSTILE_ID)["title"]  # type: ignore[index]
    assert f"* {title}" in text  # plain text is not markup: the title as it is, on its line
    gathered = gather(site.radar, sub, Period("daily", date(2025, 3, 19)))
    following = {s.key: s for s in gathered.sections}["following"]
    reasons = {i.id: i.why for i in following.items}
    assert any("author Eve" in line for line in reasons[HOSTILE_ID]), reasons[HOSTILE_ID]
    assert "\n" not in message["Subject"] and "<" not in message["Subject"]


def test_an_accounts_digest_has_what_it_follows_and_for_you_when_the_recommender_is_there(site: Site) -> None:
    sub = hostile_setup(site)  # follows an author and cs.CR; nothing saved (a cold start)
    gathered = gather(site.radar, sub, Period("daily", date(2025, 3, 19)))
    keys = [s.key for s in gathered.sections]
    assert keys[0] == "following" and keys[-1] == "trending"
    ids = gathered.papers
    assert len(ids) == len(set(ids))  # each paper once: the featured hostile paper is listed as followed
    following = gathered.sections[0]
    assert HOSTILE_ID in [i.id for i in following.items] and "featured" not in keys
    if importlib.util.find_spec("paperradar.rank.recommend") is None:  # written beside this: degrade until it is
        assert "for_you" not in keys and any("recommender" in n for n in gathered.notes)
    elif "for_you" in keys:  # cold: trending in the followed category, after what is followed
        section = gathered.sections[keys.index("for_you")]
        assert section.cold and section.title == "Trending in your categories" and keys.index("for_you") == 1
        assert all("cs.CR" in site.store.get(i.id)["categories"] for i in section.items)  # type: ignore[index]
    anonymous = gather(site.radar, {**sub, "user": None}, Period("daily", date(2025, 3, 19)))
    assert [s.key for s in anonymous.sections] == ["featured", "trending"]  # nothing personal without an account
    assert anonymous.papers[0] == HOSTILE_ID


def warm_setup(site: Site) -> tuple[dict, list[str]]:
    """An account with six saved cs.CV papers (enough for the recommender), subscribed; and those ids."""
    store = site.store
    user = store.get_user("warm@example.org") or add_member(store, "warm@example.org").user
    saved = [r[0] for r in store.conn.execute(
        "SELECT p.id FROM papers p JOIN paper_categories c ON c.paper = p.rowid WHERE c.category = 'cs.CV'"
        " AND p.published = '2025-03-18' ORDER BY p.rowid LIMIT 6")]
    for paper_id in saved:
        store.save_paper(user.id, paper_id)
    sub, _ = store.add_subscription(user.email, "daily", [], user.id, None, None, "tok-warm")
    return sub, saved


def test_for_you_papers_say_why_with_saved_papers_that_exist(site: Site) -> None:
    if importlib.util.find_spec("paperradar.rank.recommend") is None:
        pytest.skip("paperradar.rank.recommend is not written yet")
    sub, saved = warm_setup(site)
    gathered = gather(site.radar, sub, Period("daily", DAY))
    keys = [s.key for s in gathered.sections]
    assert "for_you" in keys, gathered.notes
    section = gathered.sections[keys.index("for_you")]
    assert keys[0] == "for_you" and not section.cold and section.items
    assert not {i.id for i in section.items} & set(saved)  # never what the reader saved
    named = [n for i in section.items for n in i.near]
    assert named and {n["id"] for n in named} <= set(saved)  # why names saved papers, which exist
    message = compose(site.radar, sub, Period("daily", DAY), ORIGIN)
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Close to your saved: " in text and "Close to your saved: " in html
    assert f'href="{ORIGIN}/papers/{named[0]["id"]}"' in html  # the saved paper, linked


def test_categories_limit_featured_and_trending_and_an_empty_digest_is_no_mail(site: Site) -> None:
    sub = {"id": 99, "email": "cats@example.org", "user": None, "categories": ["cs.CL"], "unsubscribe_token": "t"}
    gathered = gather(site.radar, sub, Period("weekly", DAY))
    assert gathered.papers
    for paper_id in gathered.papers:
        assert "cs.CL" in site.store.get(paper_id)["categories"]  # type: ignore[index]
    nothing = {**sub, "categories": ["q-bio.NC"]}
    assert compose(site.radar, nothing, Period("daily", date(2024, 1, 1)), ORIGIN) is None
    with pytest.raises(digests.NoBaseURL, match="base URL"):
        compose(site.radar, sub, Period("daily", DAY), None)
    assert Period("weekly", date(2025, 3, 19)).key == "2025-W12"
    assert (Period("weekly", DAY).start, Period("weekly", DAY).end) == (date(2025, 3, 17), date(2025, 3, 23))


# -- what a run's digests share (mail/digest.py: Shared) ---------------------------------------------


def shared_sections(digest: digests.Digest) -> dict[str, list[str]]:
    return {s.key: [i.id for i in s.items] for s in digest.sections if s.key in ("featured", "trending")}


def counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, calls: dict[str, int]) -> None:
    """Count the calls of ``owner.name`` in ``calls[name]``."""
    real = getattr(owner, name)

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls[name] = calls.get(name, 0) + 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def test_subscribers_with_the_same_categories_share_one_section_and_other_categories_get_their_own(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    period = Period("weekly", DAY)
    subs = [{"id": 900 + i, "email": f"shared{i}@example.org", "user": None, "categories": cats,
             "unsubscribe_token": f"shared-{i}"} for i, cats in enumerate((["cs.CL"], ["cs.cl"], ["cs.CV"]))]
    alone = [gather(site.radar, sub, period) for sub in subs]  # each made by itself: what it must list
    calls: dict[str, int] = {}
    counting(monkeypatch, site.store, "featured_papers", calls)
    counting(monkeypatch, digests.trends, "trending", calls)
    shared = digests.Shared()
    made = [gather(site.radar, sub, period, shared=shared) for sub in subs]
    assert calls == {"featured_papers": 1, "trending": 1}  # read once for the run, not once a subscriber
    assert [shared_sections(d) for d in made] == [shared_sections(d) for d in alone]
    same, other = shared_sections(made[0]), shared_sections(made[2])
    assert same["trending"] and same == shared_sections(made[1])  # cs.CL and cs.cl: one selection
    assert other["trending"] and other != same  # cs.CV: its own lists
    assert all("cs.CV" in site.store.get(i)["categories"] for i in other["trending"])  # type: ignore[index]
    cl, cv = frozenset({"cs.cl"}), frozenset({"cs.cv"})
    assert shared.lists(site.radar, period, cl) is shared.lists(site.radar, period, cl)
    assert shared.lists(site.radar, period, cv) is not shared.lists(site.radar, period, cl)


def test_digest_send_reads_the_shared_lists_once_per_run(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from paperradar.mail.subscribers import queue_digests

    for name in ("once-a", "once-b"):
        site.store.add_subscription(f"{name}@example.org", "daily", [], None, None, None, f"tok-{name}")
    calls: dict[str, int] = {}
    counting(monkeypatch, digests.trends, "trending", calls)
    made: list[str] = []
    outbox = SimpleNamespace(sender=SENDER, enqueue=lambda kind, message, to, **_: made.append(to) or len(made))
    for run in (1, 2):  # an outbox that keeps nothing: every subscriber is due in both runs
        report = queue_digests(site.radar, outbox, [Period("daily", date(2025, 3, 18))], ORIGIN)  # type: ignore[arg-type]
        assert report.made >= 2 and not report.errors, report
        assert calls == {"trending": run}  # once a run, not once a subscriber
    assert {"once-a@example.org", "once-b@example.org"} <= set(made)


def test_a_runs_shared_lists_hold_for_that_run_and_period_only(site: Site) -> None:
    sub = {"id": 910, "email": "runs@example.org", "user": None, "categories": [], "unsubscribe_token": "runs"}
    first = digests.Shared()
    days = [gather(site.radar, sub, Period("daily", d), shared=first) for d in (date(2025, 3, 19), DAY)]
    assert [shared_sections(d) for d in days] == [
        shared_sections(gather(site.radar, sub, Period("daily", d))) for d in (date(2025, 3, 19), DAY)]
    quiet = Period("daily", date(2023, 1, 2))  # a day with nothing featured
    assert "featured" not in shared_sections(gather(site.radar, sub, quiet, shared=first))
    site.store.add_featured(HOSTILE_ID, "2023-01-02")  # featured after the run read that day
    assert "featured" not in shared_sections(gather(site.radar, sub, quiet, shared=first))  # the run: as it read
    assert shared_sections(gather(site.radar, sub, quiet, shared=digests.Shared()))["featured"] == [HOSTILE_ID]


def test_readers_following_the_same_author_share_one_lookup_each_with_their_own_hidden_papers(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    first = hostile_setup(site)  # follows the hostile paper's first author and cs.CR
    store = site.store
    other = store.get_user("same-follows@example.org") or add_member(store, "same-follows@example.org").user
    for follow in store.follows(int(first["user"])):
        store.add_follow(other.id, follow["kind"], follow["value"], follow.get("filters"))
    store.hide_paper(other.id, HOSTILE_ID)
    second, _ = store.add_subscription(other.email, "daily", [], other.id, None, None, "tok-same-follows")
    period = Period("daily", date(2025, 3, 19))

    def following(digest: digests.Digest) -> list[tuple[str, list[str]]]:
        return [(i.id, i.why) for s in digest.sections if s.key == "following" for i in s.items]

    alone = [following(gather(site.radar, sub, period)) for sub in (first, second)]
    calls: dict[str, int] = {}
    counting(monkeypatch, digests, "new_papers", calls)
    shared = digests.Shared()
    made = [following(gather(site.radar, sub, period, shared=shared)) for sub in (first, second)]
    assert calls == {"new_papers": 2}  # the author and the category, once each for both readers
    assert made == alone
    assert HOSTILE_ID in [i for i, _ in made[0]] and HOSTILE_ID not in [i for i, _ in made[1]]


# -- the HTML part in a real browser ----------------------------------------------------------------


def test_the_html_part_renders_in_chromium_with_the_same_papers_as_the_text(site: Site, browser) -> None:  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sub = hostile_setup(site)
    message = compose(site.radar, sub, Period("daily", date(2025, 3, 19)), ORIGIN, from_address=SENDER)
    assert message is not None
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    (ARTIFACTS / "digest.html").write_text(html, encoding="utf-8")
    (ARTIFACTS / "digest.txt").write_text(text, encoding="utf-8")
    shots = [("digest", html, {"width": 900, "height": 1200}), ("digest-phone", html, {"width": 390, "height": 844})]
    if importlib.util.find_spec("paperradar.rank.recommend") is not None:  # an account's digest with "for you"
        warm = compose(site.radar, warm_setup(site)[0], Period("daily", DAY), ORIGIN, from_address=SENDER)
        assert warm is not None
        warm_html = warm.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
        (ARTIFACTS / "digest-for-you.html").write_text(warm_html, encoding="utf-8")
        assert paper_ids(warm_html) == text_ids(warm.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
        shots.append(("digest-for-you", warm_html, {"width": 900, "height": 1200}))
    requests: list[str] = []
    for name, html, viewport in shots:
        context = browser.new_context(viewport=viewport, java_script_enabled=False)  # type: ignore[attr-defined]
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.set_content(html, wait_until="load")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        shown = page.inner_text("body")
        for paper_id in paper_ids(html):
            title = " ".join(site.store.get(paper_id)["title"].split())  # type: ignore[index]
            assert title[:40] in " ".join(shown.split()), title  # every listed title is visible text
        if name != "digest-for-you":
            assert "<script>alert('t')</script>" in shown  # the hostile title shown as text, not run
        # the inline styles apply: the card width stays within the phone's screen, links are blue
        width = page.evaluate("document.querySelector('table table').getBoundingClientRect().width")
        assert width <= viewport["width"]
        color = page.evaluate("getComputedStyle(document.querySelector('a[href*=\"/papers/\"]')).color")
        assert color == "rgb(29, 78, 216)"
        context.close()
    assert [u for u in requests if not u.startswith(("about:", "data:"))] == []  # nothing loaded from outside
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert paper_ids(html) == text_ids(text)
    assert (ARTIFACTS / "digest.png").stat().st_size > 10_000


# -- account mails -----------------------------------------------------------------------------------


def test_sign_in_link_flow(site: Site, inbox: Inbox) -> None:
    member = add_member(site.store, "linker@example.org")
    client = site.client()
    page = client.get("/login")
    assert 'href="/login/link"' in page.text and 'href="/reset"' in page.text
    assert client.post("/login/link", data={"email": member.email}, headers={"Origin": "https://evil.example"}
                       ).status_code == 403
    asked = client.post("/login/link", data={"email": member.email}, headers={"Origin": ORIGIN})
    unknown = client.post("/login/link", data={"email": "nobody@example.org"}, headers={"Origin": ORIGIN})
    assert asked.status_code == unknown.status_code == 200
    assert asked.text.replace(member.email, "X") == unknown.text.replace("nobody@example.org", "X")  # the same
    (mail,) = inbox.wait(member.email)
    path = link_to(mail, "/login/link")
    token = path.rsplit("/", 1)[1]
    assert token not in str(site.store.conn.execute("SELECT * FROM mail_tokens").fetchall())  # only its hash
    for _ in range(2):  # a GET (a scanner) uses nothing
        shown = client.get(path)
        assert shown.status_code == 200 and f'action="{path}"' in shown.text
    assert SESSION_COOKIE not in client.cookies
    r = client.post(path, headers={"Origin": ORIGIN})
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["set-cookie"]
    assert client.get("/api/me").json()["email"] == member.email
    other = site.client()
    assert other.post(path, headers={"Origin": ORIGIN}).status_code == 404  # single use
    assert other.get(path).status_code == 404
    time.sleep(0.3)
    assert inbox.to("nobody@example.org") == []


def test_password_reset_flow(site: Site, inbox: Inbox) -> None:
    member = add_member(site.store, "forgetful@example.org")
    before = site.client()
    assert before.post("/login", data={"email": member.email, "password": PASSWORD},
                       headers={"Origin": ORIGIN}).status_code == 303
    client = site.client()
    assert client.get("/reset").status_code == 200
    assert client.post("/reset", data={"email": member.email}, headers={"Origin": ORIGIN}).status_code == 200
    (mail,) = inbox.wait(member.email)
    path = link_to(mail, "/reset")
    form = client.get(path)
    assert form.status_code == 200 and 'name="new_password"' in form.text
    short = client.post(path, data={"new_password": "short"}, headers={"Origin": ORIGIN})
    assert short.status_code == 400 and "too short" in short.text
    assert client.get(path).status_code == 200  # a refused password does not use the link
    new = "a brand new long password"
    r = client.post(path, data={"new_password": new}, headers={"Origin": ORIGIN})
    assert r.status_code == 303 and r.headers["location"] == "/settings" and SESSION_COOKIE in r.headers["set-cookie"]
    assert before.get("/api/me").status_code == 401  # the other session was signed out
    fresh = site.client()
    assert fresh.post("/login", data={"email": member.email, "password": PASSWORD},
                      headers={"Origin": ORIGIN}).status_code == 401
    assert fresh.post("/login", data={"email": member.email, "password": new},
                      headers={"Origin": ORIGIN}).status_code == 303
    assert site.client().post(path, data={"new_password": "yet another long one"},
                              headers={"Origin": ORIGIN}).status_code == 404  # single use


def test_open_registration_confirms_the_address_before_the_account_exists(site: Site, inbox: Inbox) -> None:
    client = site.client()
    newcomer = "newcomer@example.org"
    r = client.post("/register", data={"email": newcomer, "name": "New <b>comer</b>", "password": PASSWORD},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 200 and "Check your inbox" in r.text and SESSION_COOKIE not in client.cookies
    assert site.store.get_user(newcomer) is None  # nothing until the address is confirmed
    (mail,) = inbox.wait(newcomer)
    path = link_to(mail, "/register/confirm")
    assert client.get(path).status_code == 200 and site.store.get_user(newcomer) is None
    r = client.post(path, headers={"Origin": ORIGIN})
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["set-cookie"]
    me = client.get("/api/me").json()
    assert me["email"] == newcomer and me["name"] == "New <b>comer</b>"
    assert site.client().post(path, headers={"Origin": ORIGIN}).status_code == 404
    # Registering an address that has an account says the same, and mails the owner instead.
    again = site.client().post("/register", data={"email": newcomer, "password": PASSWORD},
                               headers={"Origin": ORIGIN})
    assert again.status_code == 200 and "Check your inbox" in again.text
    mails = inbox.wait(newcomer, 2)
    assert "already have" in mails[1]["Subject"] and not [u for u in links_in(mails[1]) if "/confirm/" in u]


# -- a site that does not mail ------------------------------------------------------------------------


def test_a_site_without_base_url_or_smtp_shows_no_form_and_says_why(site: Site, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    radar = Radar(site.store, settings=Settings(registration="open"))
    client = TestClient(create_app(radar, catch_up_index=False), follow_redirects=False)
    assert 'action="/subscribe"' not in client.get("/").text
    r = client.post("/api/subscriptions", json={"email": "x@example.org"})
    assert r.status_code == 403 and "base URL" in r.json()["error"]["message"]
    assert 'href="/login/link"' not in client.get("/login").text
    monkeypatch.delenv("PAPERRADAR_SMTP_URL")
    radar = Radar(site.store, settings=Settings(base_url=ORIGIN, registration="open"))
    client = TestClient(create_app(radar, catch_up_index=False), follow_redirects=False)
    r = client.post("/api/subscriptions", json={"email": "x@example.org"})
    assert r.status_code == 403 and "SMTP" in r.json()["error"]["message"]
    assert site.store.subscription("x@example.org") is None
    # Open registration without mail: the account is made at once, as before.
    r = client.post("/register", data={"email": "nomail@example.org", "password": PASSWORD},
                    headers={"Origin": ORIGIN})
    assert r.status_code == 303 and site.store.get_user("nomail@example.org") is not None


def test_schemathesis_finds_nothing_in_the_subscription_api_of_a_site_that_mails(site: Site, tmp_path: Path) -> None:
    """The whole API is fuzzed on a site that does not mail (tests/test_openapi.py: 403); here the route
    that does the work, on a site that does: every answer is one /openapi.json documents."""
    from fuzzing import run_schemathesis

    code, report, _ = run_schemathesis(site.app, 30, include={"path_regex": "^/api/subscriptions$"}, home=tmp_path)
    assert code == 0 and "No issues found" in report, report
