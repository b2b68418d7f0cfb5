"""Follows, /following and private Atom feeds.

The store (every backend): follows are per user and unique with their filters in canonical form,
the "seen" mark only moves forward, feed tokens are found by hash only while live, and deleting a
user deletes both. The web (a copy of the real slice database, served in-process): the API with
bearer tokens never shows or changes another user's follows or feeds (404), 401 without
credentials, 400s naming the field, /following lists new papers with the right reasons and a GET
changes nothing, the follow buttons' forms with the session cookie and CSRF token, the private
feeds (a token in the URL is the credential; revoked: 404 at once) and escaping of saved queries
and collection names in pages and feeds.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import feedparser
import pytest
from community_fixtures import Site, add_member, browser, community, form_headers  # noqa: F401
from fuzzing import run_schemathesis
from web_fixtures import assert_no_inline_code

from paperradar import accounts
from paperradar.model import Paper
from paperradar.rank import following
from paperradar.store.follows import filters_key

HOSTILE_QUERY = "<script>alert(1)</script> scriptalert"
TODAY = datetime.now(UTC).date()


# -- the store ----------------------------------------------------------------------------------


def test_follows_are_per_user_unique_and_canonical(store) -> None:
    ada = store.add_user("ada@example.org")
    bob = store.add_user("bob@example.org")
    first, created = store.add_follow(ada.id, "search", "llm", {"until": "2025-02-01", "category": "cs.CL",
                                                               "author": None, "mode": ""})
    assert created and first["filters"] == {"category": "cs.CL", "until": "2025-02-01"}
    again, created = store.add_follow(ada.id, "search", "llm", {"category": "cs.CL", "until": "2025-02-01"})
    assert not created and again["id"] == first["id"]
    other, created = store.add_follow(ada.id, "search", "llm", {"category": "cs.CV"})
    assert created and other["id"] != first["id"]
    store.add_follow(ada.id, "author", "Ada Lovelace")
    mine, _ = store.add_follow(bob.id, "author", "Ada Lovelace")
    assert [f["kind"] for f in store.follows(ada.id)] == ["author", "search", "search"]
    assert store.follow_count(ada.id) == 3 and store.follow_count(bob.id) == 1
    assert store.find_follow(ada.id, "search", "llm", {"until": "2025-02-01", "category": "cs.CL"}) == first["id"]
    assert store.find_follow(ada.id, "search", "llm") is None
    assert filters_key({"b": "2", "a": "1", "c": None}) == '{"a":"1","b":"2"}'
    with pytest.raises(ValueError):
        store.add_follow(ada.id, "planet", "Mars")
    # Bob cannot remove Ada's follow; Ada can, once.
    assert store.remove_follow(bob.id, first["id"]) is None
    assert store.find_follow(ada.id, "search", "llm", {"category": "cs.CL", "until": "2025-02-01"}) == first["id"]
    assert store.remove_follow(ada.id, first["id"])["value"] == "llm"
    assert store.remove_follow(ada.id, first["id"]) is None
    assert store.follows(bob.id) == [mine]


def test_you_following_answers_as_find_follow_from_one_read(store) -> None:
    from paperradar.web.personal import You

    ada = store.add_user("ada@example.org")
    bob = store.add_user("bob@example.org")
    author, _ = store.add_follow(ada.id, "author", "Ada Lovelace")
    category, _ = store.add_follow(ada.id, "category", "cs.CL")
    search, _ = store.add_follow(ada.id, "search", "llm", {"category": "cs.CL", "until": "2025-02-01"})
    store.add_follow(bob.id, "author", "Bob Builder")

    class Counting:  # the store, counting how often the page would read the follows
        reads = 0

        def follows(self, user_id: int) -> list:
            Counting.reads += 1
            return store.follows(user_id)

    you = You(Counting(), ada)  # type: ignore[arg-type]
    asked = [("author", "Ada Lovelace", None, author["id"]), ("category", "CS.cl", None, category["id"]),
             ("search", "llm", {"until": "2025-02-01", "category": "cs.CL", "author": ""}, search["id"]),
             ("search", "llm", None, None), ("search", "llm", {"category": "cs.CL"}, None),
             ("author", "ada lovelace", None, None), ("author", "Bob Builder", None, None),
             ("category", "Ada Lovelace", None, None)]
    for kind, value, filters, expected in asked:
        assert you.following(kind, value, filters) == expected == store.find_follow(ada.id, kind, value, filters), (
            kind, value, filters)
    assert Counting.reads == 1  # one query for the whole page, however many buttons
    assert You(Counting(), None).following("author", "Ada Lovelace") is None and Counting.reads == 1


def test_the_seen_mark_moves_forward_only(store) -> None:
    ada = store.add_user("ada@example.org")
    assert store.following_seen_at(ada.id) is None
    assert store.set_following_seen_at(ada.id, "2025-03-02T10:00:00Z") == "2025-03-02T10:00:00Z"
    assert store.set_following_seen_at(ada.id, "2025-03-01T10:00:00Z") == "2025-03-02T10:00:00Z"
    assert store.set_following_seen_at(ada.id, "2025-01-01T00:00:00Z", only_forward=False) == "2025-01-01T00:00:00Z"
    assert store.set_following_seen_at(9999, "2025-01-01T00:00:00Z") is None


def test_feed_tokens_are_found_by_hash_while_live_and_go_with_the_user(store) -> None:
    ada = store.add_user("ada@example.org")
    bob = store.add_user("bob@example.org")
    row = store.add_feed_token(ada.id, "h" * 64, "collection:Reading list")
    store.add_feed_token(ada.id, "i" * 64, "following")
    assert store.feed_token("h" * 64) == (row["id"], ada.id, "collection:Reading list")
    assert store.feed_token("x" * 64) is None
    assert [f["scope"] for f in store.feed_tokens(ada.id)] == ["following", "collection:Reading list"]
    assert all("token_hash" not in f for f in store.feed_tokens(ada.id))
    assert store.revoke_feed_token(bob.id, row["id"]) is None and store.feed_token("h" * 64) is not None
    revoked = store.revoke_feed_token(ada.id, row["id"])
    assert revoked["revoked_at"] and store.feed_token("h" * 64) is None
    assert store.revoke_feed_token(ada.id, row["id"])["revoked_at"] == revoked["revoked_at"]  # the first date stays
    assert store.live_feed_tokens(ada.id) == 1
    store.disable_user("ada@example.org")
    assert store.feed_token("i" * 64) is None  # a disabled user's feeds stop
    store.add_follow(ada.id, "category", "cs.CL")
    data = store.user_data("ada@example.org")
    assert [f["value"] for f in data["follows"]] == ["cs.CL"]
    assert [f["scope"] for f in data["private_feeds"]] == ["collection:Reading list", "following"]
    assert "h" * 64 not in json.dumps(data)
    assert store.delete_user("ada@example.org")
    for table in ("follows", "feed_tokens"):
        assert store.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE user = ?", (ada.id,)).fetchone()[0] == 0


def test_new_in_category_reads_the_window(store) -> None:
    store.merge([Paper(title=f"P{i}", id=f"2501.{i:05d}", arxiv_id=f"2501.{i:05d}", categories=["cs.CL"],
                       published=f"2025-01-{10 + i:02d}", source="test") for i in range(5)], "test")
    rows = store.new_in_category("CS.cl", "2025-01-12", "2000-01-01T00:00:00Z", 10)
    assert [r["published"] for r in rows] == ["2025-01-14", "2025-01-13", "2025-01-12"]
    assert store.new_in_category("cs.CL", "2025-01-01", "2999-01-01T00:00:00Z") == []  # all arrived before


def test_reasons_in_words() -> None:
    assert following.describe({"kind": "author", "value": "Ada"}) == "author Ada"
    assert following.describe({"kind": "category", "value": "cs.CL"}) == "category cs.CL"
    assert (following.describe({"kind": "search", "value": "llm", "filters": {"category": "cs.CL", "mode": "keyword"}})
            == "search 'llm' (in cs.CL, mode keyword)")
    assert following.listed_since("2025-03-28T10:00:00Z") == "2025-03-21"


# -- the web ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def members(community: Site):  # noqa: F811
    return add_member(community.store, "ada@example.org", name="Ada"), add_member(community.store, "bob@example.org")


def _category(site: Site, low: int = 5, high: int = 60) -> str:
    """A category of the slice with a handful of papers (fewer than a follow reads)."""
    return next(c for c, n in site.store.category_counts() if low <= n <= high and "." in c)


def _author(site: Site) -> tuple[str, list[dict]]:
    """An author of the slice with two papers or more, and those papers."""
    rows = site.store.conn.execute("SELECT authors FROM papers WHERE published >= '2025-03-20'").fetchall()
    counts: dict[str, int] = {}
    for (authors,) in rows:
        for name in json.loads(authors):
            counts[name] = counts.get(name, 0) + 1
    name = max(sorted(counts), key=lambda n: counts[n])
    from paperradar.rank.authors import author_papers
    papers, _ = author_papers(site.radar, name, 500)
    return name, papers


def _mine(client, member, kind: str, value: str, filters: dict | None = None) -> dict:
    r = client.post("/api/me/follows", json={"kind": kind, "value": value, "filters": filters},
                    headers=member.bearer)
    assert r.status_code == 201, r.text
    return r.json()


def _clear(site: Site, member) -> None:
    for f in site.store.follows(member.user.id):
        site.store.remove_follow(member.user.id, f["id"])


def test_follow_api_is_per_user(community, members) -> None:  # noqa: F811
    ada, bob = members
    client = community.client()
    r = client.post("/api/me/follows", json={"kind": "author", "value": "Zineng Tang"}, headers=ada.bearer)
    assert r.status_code == 201
    made = r.json()
    assert made["kind"] == "author" and made["url"] == "/authors/Zineng%20Tang" and made["text"] == "author Zineng Tang"
    again = client.post("/api/me/follows", json={"kind": "author", "value": " Zineng Tang "}, headers=ada.bearer)
    assert again.status_code == 201 and again.json()["id"] == made["id"]  # idempotent: the same follow
    assert [f["id"] for f in client.get("/api/me/follows", headers=ada.bearer).json()["follows"]] == [made["id"]]
    assert client.get("/api/me/follows", headers=bob.bearer).json() == {"follows": []}
    r = client.delete(f"/api/me/follows/{made['id']}", headers=bob.bearer)
    assert r.status_code == 404 and "no follow" in r.json()["error"]["message"]
    assert community.store.follow_count(ada.user.id) == 1
    for bad_id in ("99999999", "0"):
        assert client.delete(f"/api/me/follows/{bad_id}", headers=ada.bearer).status_code == 404
    r = client.delete(f"/api/me/follows/{made['id']}", headers=ada.bearer)
    assert r.status_code == 200 and r.json()["id"] == made["id"]
    assert client.delete(f"/api/me/follows/{made['id']}", headers=ada.bearer).status_code == 404
    category = _mine(client, ada, "category", "CS.cl")  # categories as arXiv writes them
    assert category["value"] == "cs.CL" and _mine(client, ada, "category", "cs.CL")["id"] == category["id"]
    assert community.store.find_follow(ada.user.id, "category", "Cs.Cl") == category["id"]
    inverted = _mine(client, ada, "search", "llm", {"since": "2025-03-02", "until": "2025-03-01"})  # as /search
    assert inverted["filters"] == {"since": "2025-03-02", "until": "2025-03-01"}
    search = _mine(client, ada, "search", "diffusion", {"category": "cs.cv", "mode": "hybrid", "since": "2025-03-01"})
    assert search["filters"] == {"category": "cs.CV", "since": "2025-03-01"}  # hybrid is the default: left out
    assert search["url"] == "/search?q=diffusion&category=cs.CV&since=2025-03-01"
    _clear(community, ada)


def test_too_many_follows_is_a_409(community, members, monkeypatch) -> None:  # noqa: F811
    from paperradar.web import follows as web_follows

    ada, _ = members
    client = community.client()
    monkeypatch.setattr(web_follows, "MAX_SEARCHES", 1)
    monkeypatch.setattr(web_follows, "MAX_FOLLOWS", 2)
    _mine(client, ada, "search", "one")
    r = client.post("/api/me/follows", json={"kind": "search", "value": "two"}, headers=ada.bearer)
    assert r.status_code == 409 and "1 searches" in r.json()["error"]["message"]
    _mine(client, ada, "search", "one")  # following it again is still fine
    _mine(client, ada, "author", "Ada")
    r = client.post("/api/me/follows", json={"kind": "author", "value": "Bob"}, headers=ada.bearer)
    assert r.status_code == 409 and "2 things" in r.json()["error"]["message"]
    assert community.store.follow_count(ada.user.id) == 2
    _clear(community, ada)


def test_anonymous_gets_401_and_the_page_sends_to_login(community) -> None:  # noqa: F811
    client = community.client()
    calls = [("GET", "/api/me/follows", None), ("POST", "/api/me/follows", {"kind": "author", "value": "X"}),
             ("DELETE", "/api/me/follows/1", None), ("GET", "/api/me/following", None),
             ("POST", "/api/me/following/seen", None), ("GET", "/api/me/feeds", None),
             ("POST", "/api/me/feeds", {"scope": "following"}), ("DELETE", "/api/me/feeds/1", None)]
    for method, path, body in calls:
        r = client.request(method, path, json=body)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["www-authenticate"].startswith("Bearer")
        r = client.request(method, path, json=body, headers={"Authorization": "Bearer prt_nottoken"})
        assert r.status_code == 401, (method, path)
    r = client.get("/following")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/following"
    for path in ("/following/add", "/following/1/remove", "/following/seen", "/settings/feeds",
                 "/settings/feeds/1/revoke"):
        assert client.post(path, data={"kind": "author", "value": "X"}).status_code == 401, path


@pytest.mark.parametrize(("body", "message"), [
    ({"kind": "planet", "value": "Mars"}, "kind"),
    ({"value": "Mars"}, "kind"),
    ({"kind": "author", "value": "   "}, "value is empty"),
    ({"kind": "author", "value": "a\x00b"}, "value contains control characters"),
    ({"kind": "author", "value": "x" * 301}, "value is too long"),
    ({"kind": "category", "value": "<b>"}, "value must be an arXiv category"),
    ({"kind": "search", "value": ""}, "value is empty"),
    ({"kind": "search", "value": "x" * 10_001}, "value is too long"),
    ({"kind": "author", "value": "Ada", "filters": {"category": "cs.CL"}}, "body.author.filters: Input should be None"),
    ({"kind": "search", "value": "llm", "filters": {"category": "c s"}}, "filters.category must be an arXiv category"),
    ({"kind": "search", "value": "llm", "filters": {"since": "2025-02-30"}}, "filters.since must be a date"),
    ({"kind": "search", "value": "llm", "filters": {"until": "soon"}}, "filters.until must be a date"),
    ({"kind": "search", "value": "llm", "filters": {"mode": "fuzzy"}}, "filters.mode must be one of"),
    ({"kind": "search", "value": "llm", "filters": {"author": "a\x01"}}, "filters.author contains control"),
    ({"kind": "search", "value": "llm", "filters": {"colour": "red"}}, "filters.colour"),
    ({"kind": "search", "value": "llm", "extra": 1}, "extra"),
])
def test_bad_follows_get_a_400_naming_the_field(community, members, body, message) -> None:  # noqa: F811
    ada, _ = members
    r = community.client().post("/api/me/follows", json=body, headers=ada.bearer)
    assert r.status_code == 400, (body, r.status_code, r.text)
    assert message in r.json()["error"]["message"], r.json()
    assert community.store.follow_count(ada.user.id) == 0  # nothing half-written


def test_following_lists_new_papers_with_their_reasons(community, members) -> None:  # noqa: F811
    ada, bob = members
    client = community.client()
    category = _category(community)
    name, by_author = _author(community)
    author_follow = _mine(client, ada, "author", name)
    category_follow = _mine(client, ada, "category", category)
    store = community.store
    store.set_following_seen_at(ada.user.id, "2025-03-01T00:00:00Z", only_forward=False)  # before the slice
    before = store.following_seen_at(ada.user.id)
    r = client.get("/api/me/following", headers=ada.bearer)
    assert r.status_code == 200
    body = r.json()
    assert store.following_seen_at(ada.user.id) == before  # reading changes nothing
    assert body["since"] == "2025-03-01T00:00:00Z" and body["listed_since"] == "2025-02-22"
    by_id = {p["id"]: {x["text"] for x in p["reasons"]} for p in body["papers"]}
    in_category = {r["id"] for r in store.category_papers(category, 500)[0]}
    assert {p for p, why in by_id.items() if f"category {category}" in why} == in_category
    assert {p for p, why in by_id.items() if f"author {name}" in why} == {r["id"] for r in by_author}
    assert body["total"] == len(in_category | {r["id"] for r in by_author}) == len(body["papers"])
    both = in_category & {r["id"] for r in by_author}
    for pid in both:  # a paper matching two follows is listed once, with both reasons
        assert by_id[pid] == {f"category {category}", f"author {name}"}
    dates = [p["date"] for p in body["papers"]]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert {p["follow"] for p in body["papers"][0]["reasons"]} <= {author_follow["id"], category_follow["id"]}
    # Bob follows nothing and sees none of it.
    assert client.get("/api/me/following", headers=bob.bearer).json()["papers"] == []
    # A later mark: only papers first listed at most a week before it.
    store.set_following_seen_at(ada.user.id, "2025-03-28T12:00:00Z", only_forward=False)
    late = client.get("/api/me/following", headers=ada.bearer).json()
    assert late["listed_since"] == "2025-03-21" and 0 < late["total"] < body["total"]
    assert all(p["date"] >= "2025-03-21" for p in late["papers"])
    assert client.get("/api/me/following?since=2025-03-01", headers=ada.bearer).json()["total"] == body["total"]
    r = client.get("/api/me/following?since=yesterday", headers=ada.bearer)
    assert r.status_code == 400 and "since must be a date" in r.json()["error"]["message"]
    # The page: the same papers, each saying why, and the follows with their unfollow buttons.
    page = client.get("/following", headers=ada.bearer)
    assert page.status_code == 200
    assert f"category {category}" in page.text and f'action="/following/{author_follow["id"]}/remove"' in page.text
    assert f"<strong>{late['total']}</strong> new paper" in page.text and "Mark all as seen" in page.text
    assert store.following_seen_at(ada.user.id) == "2025-03-28T12:00:00Z"  # the page changed nothing either
    # Marking as seen: nothing is new any more (every paper arrived before now).
    r = client.post("/api/me/following/seen", headers=ada.bearer)
    assert r.status_code == 200 and r.json()["seen_at"] > "2025-03-28T12:00:00Z"
    assert client.get("/api/me/following", headers=ada.bearer).json()["total"] == 0
    r = client.post("/api/me/following/seen", json={"at": "2025-01-01T00:00:00Z"}, headers=ada.bearer)
    assert r.json()["seen_at"] > "2025-03-28T12:00:00Z"  # never backwards
    r = client.post("/api/me/following/seen", json={"at": "2025-03-28T14:00:00+02:00"}, headers=ada.bearer)
    assert r.status_code == 200  # an RFC 3339 time with an offset is read in UTC (and the mark stays)
    r = client.post("/api/me/following/seen", json={"at": "March"}, headers=ada.bearer)
    assert r.status_code == 400 and "at must be a time such as" in r.json()["error"]["message"]
    _clear(community, ada)


def test_hidden_papers_are_left_out(community, members) -> None:  # noqa: F811
    ada, _ = members
    client = community.client()
    _mine(client, ada, "category", _category(community))
    community.store.set_following_seen_at(ada.user.id, "2025-03-01T00:00:00Z", only_forward=False)
    everything = client.get("/api/me/following", headers=ada.bearer).json()
    hidden = everything["papers"][0]["id"]
    assert client.put(f"/api/me/hidden/{hidden}", headers=ada.bearer).status_code in (200, 201)
    rest = client.get("/api/me/following", headers=ada.bearer).json()
    assert rest["total"] == everything["total"] - 1 and hidden not in [p["id"] for p in rest["papers"]]
    assert client.delete(f"/api/me/hidden/{hidden}", headers=ada.bearer).status_code == 200
    _clear(community, ada)


def test_a_saved_search_matches_its_new_results(community, members) -> None:  # noqa: F811
    ada, _ = members
    client = community.client()
    category = _category(community, 20, 200)
    follow = _mine(client, ada, "search", "model", {"category": category, "mode": "keyword"})
    community.store.set_following_seen_at(ada.user.id, "2025-03-01T00:00:00Z", only_forward=False)
    body = client.get("/api/me/following", headers=ada.bearer).json()
    assert 0 < body["total"] <= following.SEARCH_TOP
    reason = f"search 'model' (in {category}, mode keyword)"
    for paper in body["papers"]:
        assert category.lower() in [c.lower() for c in paper["categories"]]
        assert [x["text"] for x in paper["reasons"]] == [reason] and paper["reasons"][0]["follow"] == follow["id"]
    _clear(community, ada)


def _fresh_paper(site: Site, pid: str, title: str, category: str, author: str = "Fresh Author") -> None:
    """A paper first listed today, stored now (new to everyone), indexed for search."""
    site.store.merge([Paper(title=title, abstract=f"{title}. We study it.", authors=[author], categories=[category],
                            id=pid, arxiv_id=pid, published=TODAY.isoformat(), source="test")], "test")
    site.radar.refresh()


def test_private_feeds(community, members) -> None:  # noqa: F811
    ada, bob = members
    client = community.client()
    _fresh_paper(community, "2999.00001", "Scriptalert detection in the wild", "cs.CR")
    _mine(client, ada, "category", "cs.CR")
    _mine(client, ada, "search", HOSTILE_QUERY, {"mode": "keyword"})
    r = client.post("/api/me/feeds", json={"scope": "following"}, headers=ada.bearer)
    assert r.status_code == 201, r.text
    made = r.json()
    url = made["url"]
    assert url.startswith("http://testserver/feeds/private/pfd_") and url.endswith(".atom")
    token = url.rsplit("/", 1)[1].removesuffix(".atom")
    assert token not in json.dumps(community.store.feed_tokens(ada.user.id))  # only its hash is kept
    listed = client.get("/api/me/feeds", headers=ada.bearer).json()["feeds"]
    assert [f["id"] for f in listed] == [made["id"]] and "url" not in listed[0] and token not in json.dumps(listed)
    assert client.get("/api/me/feeds", headers=bob.bearer).json() == {"feeds": []}
    # No cookie, no header: the token is the credential.
    r = community.client().get(url.removeprefix("http://testserver"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    assert r.headers["cache-control"].startswith("private") and "noindex" in r.headers["x-robots-tag"]
    parsed = feedparser.parse(r.content)
    assert not parsed.bozo, parsed.bozo_exception
    entry = next(e for e in parsed.entries if e.link.endswith("/papers/2999.00001"))
    assert "category cs.CR" in entry.summary and "<script>alert(1)</script>" in entry.summary
    assert b"<script>" not in r.content and b"&lt;script&gt;alert(1)&lt;/script&gt;" in r.content
    # The same saved query on the page: escaped.
    page = client.get("/following", headers=ada.bearer)
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    # Bob cannot revoke it; Ada can, and it stops at once.
    assert client.delete(f"/api/me/feeds/{made['id']}", headers=bob.bearer).status_code == 404
    assert community.client().get(url.removeprefix("http://testserver")).status_code == 200
    r = client.delete(f"/api/me/feeds/{made['id']}", headers=ada.bearer)
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = community.client().get(url.removeprefix("http://testserver"))
    assert r.status_code == 404 and "no such feed" in r.json()["error"]["message"]
    for wrong in ("pfd_" + "A" * 43, "x", token[:-1], token + "A"):
        assert community.client().get(f"/feeds/private/{wrong}.atom").status_code == 404
    # A disabled user's feeds stop.
    other = client.post("/api/me/feeds", json={"scope": "following"}, headers=bob.bearer).json()["url"]
    assert community.client().get(other.removeprefix("http://testserver")).status_code == 200
    community.store.disable_user(bob.email)
    assert community.client().get(other.removeprefix("http://testserver")).status_code == 404
    community.store.conn.execute("UPDATE users SET disabled_at = NULL WHERE id = ?", (bob.user.id,))
    _clear(community, ada)


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"scope": "everything"}, 400, "scope"),
    ({"scope": "collection"}, 400, "collection is required"),
    ({"scope": "following", "collection": "Reading list"}, 400, "body.following.collection: Extra inputs"),
    ({"scope": "collection", "collection": "  "}, 400, "collection is required"),
    ({"scope": "collection", "collection": "No such collection"}, 404, "you have no collection named"),
])
def test_bad_feed_requests(community, members, body, status, message) -> None:  # noqa: F811
    ada, _ = members
    r = community.client().post("/api/me/feeds", json=body, headers=ada.bearer)
    assert r.status_code == status and message in r.json()["error"]["message"], r.text


def test_collection_feeds_are_private_and_escaped(community, members) -> None:  # noqa: F811
    ada, bob = members
    name = '<script>alert("c")</script> & co'
    client = community.client()
    r = client.put("/api/me/library/2503.15485", json={"collections": [name], "note": ""}, headers=ada.bearer)
    assert r.status_code in (200, 201), r.text
    made = client.post("/api/me/feeds", json={"scope": "collection", "collection": name}, headers=ada.bearer)
    assert made.status_code == 201, made.text
    assert made.json()["collection"] == name
    r = community.client().get(made.json()["url"].removeprefix("http://testserver"))
    assert r.status_code == 200 and b"<script>" not in r.content
    parsed = feedparser.parse(r.content)
    assert parsed.feed.title == f"paperradar: collection {name}"
    assert [e.link.rsplit("/", 1)[1] for e in parsed.entries] == ["2503.15485"]
    # Bob cannot make a feed of Ada's collection.
    r = client.post("/api/me/feeds", json={"scope": "collection", "collection": name}, headers=bob.bearer)
    assert r.status_code == 404
    # The settings page lists it, its name escaped.
    page = client.get("/settings", headers=ada.bearer)
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#34;c&#34;)&lt;/script&gt; &amp; co" in page.text
    # Renamed or deleted, the collection's feed ends (a new link names the new name).
    assert client.patch(f"/api/me/collections/{quote(name, safe='')}", json={"name": "Renamed"},
                        headers=ada.bearer).status_code == 200
    assert community.client().get(made.json()["url"].removeprefix("http://testserver")).status_code == 404
    again = client.post("/api/me/feeds", json={"scope": "collection", "collection": "Renamed"}, headers=ada.bearer)
    assert community.client().get(again.json()["url"].removeprefix("http://testserver")).status_code == 200
    assert client.delete("/api/me/collections/Renamed", headers=ada.bearer).status_code == 200
    assert community.client().get(again.json()["url"].removeprefix("http://testserver")).status_code == 404


def test_the_follow_buttons_with_the_session_cookie(community, members) -> None:  # noqa: F811
    ada, _ = members
    page, csrf = browser(community, ada)
    r = page.get("/authors/Zineng%20Tang")
    assert r.status_code == 200 and 'action="/following/add"' in r.text and ">Follow</button>" in r.text
    # Without the CSRF token, or from another site: refused, nothing written.
    form = {"kind": "author", "value": "Zineng Tang"}
    assert page.post("/following/add", data=form, headers=form_headers()).status_code == 403
    assert page.post("/following/add", data=form | {"csrf_token": csrf},
                     headers={"Origin": "https://evil.example"}).status_code == 403
    assert community.store.follow_count(ada.user.id) == 0
    r = page.post("/following/add", data=form | {"csrf_token": csrf}, headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == "/authors/Zineng%20Tang"
    (follow,) = community.store.follows(ada.user.id)
    r = page.get("/authors/Zineng%20Tang")
    assert f'action="/following/{follow["id"]}/remove"' in r.text and "Following ✓" in r.text
    # A category, going back to a local `next` (a foreign one is ignored).
    r = page.post("/following/add", data={"kind": "category", "value": "cs.CV", "next": "//evil.example/x",
                                          "csrf_token": csrf}, headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == "/categories/cs.CV"
    assert "Following ✓" in page.get("/categories/cs.CV").text
    # A search with its filters: the search page shows it followed with exactly these filters.
    r = page.post("/following/add", data={"kind": "search", "value": "video", "category": "cs.CV", "mode": "keyword",
                                          "since": "", "csrf_token": csrf}, headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == "/search?q=video&category=cs.CV&mode=keyword"
    assert "Following ✓" in page.get("/search?q=video&category=cs.CV&mode=keyword").text
    assert "Follow this search" in page.get("/search?q=video&category=cs.CV").text
    r = page.post("/following/add", data={"kind": "search", "value": "video", "since": "2025-13-01",
                                          "csrf_token": csrf}, headers=form_headers())
    assert r.status_code == 400 and "since must be a date" in r.text
    # /following and its buttons.
    r = page.get("/following")
    assert r.status_code == 200 and "What you follow" in r.text
    for html in (r.text, page.get("/authors/Zineng%20Tang").text, page.get("/settings").text,
                 page.get("/search?q=video&category=cs.CV").text):
        assert_no_inline_code(html)
    r = page.post(f"/following/{follow['id']}/remove", data={"csrf_token": csrf, "next": "/following"},
                  headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == "/following"
    assert community.store.find_follow(ada.user.id, "author", "Zineng Tang") is None
    assert page.post(f"/following/{follow['id']}/remove", data={"csrf_token": csrf},
                     headers=form_headers()).status_code == 404
    # Mark all as seen: up to the moment the page was made.
    at = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    community.store.set_following_seen_at(ada.user.id, "2025-01-01T00:00:00Z", only_forward=False)
    r = page.post("/following/seen", data={"csrf_token": csrf, "at": at}, headers=form_headers())
    assert r.status_code == 303 and community.store.following_seen_at(ada.user.id) == at
    # Private feeds from the settings page: the URL shown once, then listed without it; revoked there.
    settings = page.get("/settings")
    assert 'id="feeds"' in settings.text and 'action="/settings/feeds"' in settings.text
    r = page.post("/settings/feeds", data={"scope": "following", "csrf_token": csrf}, headers=form_headers())
    assert r.status_code == 201 and "/feeds/private/pfd_" in r.text
    feed = community.store.feed_tokens(ada.user.id)[0]
    settings = page.get("/settings")
    assert "/feeds/private/pfd_" not in settings.text
    assert f'action="/settings/feeds/{feed["id"]}/revoke"' in settings.text
    r = page.post(f"/settings/feeds/{feed['id']}/revoke", data={"csrf_token": csrf}, headers=form_headers())
    assert r.status_code == 303 and community.store.feed_tokens(ada.user.id)[0]["revoked_at"]
    # A collection's feed, picked from the list the section offers.
    community.store.save_paper(ada.user.id, "2503.15485")
    assert 'value="collection:Reading list"' in page.get("/settings").text
    r = page.post("/settings/feeds", data={"scope": "collection:Reading list", "csrf_token": csrf},
                  headers=form_headers())
    assert r.status_code == 201 and "your collection <q>Reading list</q>" in r.text
    assert community.store.feed_tokens(ada.user.id)[0]["scope"] == "collection:Reading list"
    # A hostile query on the search page, signed in: the follow form carries it escaped.
    r = page.get("/search", params={"q": HOSTILE_QUERY, "mode": "keyword"})
    assert r.status_code == 200 and "Follow this search" in r.text and "<script>alert(1)" not in r.text
    assert 'name="value" value="&lt;script&gt;alert(1)&lt;/script&gt; scriptalert"' in r.text
    _clear(community, ada)


def test_anonymous_pages_show_no_follow_form(community, members) -> None:  # noqa: F811
    r = community.client().get("/authors/Zineng%20Tang")
    assert r.status_code == 200 and "/following/add" not in r.text and 'href="/login">Sign in</a> to follow' in r.text


def test_a_feed_token_is_stored_as_its_hash(community, members) -> None:  # noqa: F811
    ada, _ = members
    r = community.client().post("/api/me/feeds", json={"scope": "following"}, headers=ada.bearer)
    token = r.json()["url"].rsplit("/", 1)[1].removesuffix(".atom")
    assert community.store.feed_token(accounts.hash_secret(token))[1] == ada.user.id
    community.store.revoke_feed_token(ada.user.id, r.json()["id"])


def test_schemathesis_with_credentials_over_the_follow_routes(community, tmp_path) -> None:  # noqa: F811
    """/openapi.json tells the truth about these routes for a signed-in caller too (the app-wide
    schemathesis run of test_openapi.py has no credentials, so it only ever sees their 401s)."""
    member = add_member(community.store, "fuzz@example.org")
    _, report, _ = run_schemathesis(community.app, 60, headers=member.bearer, home=tmp_path,
                                    include={"path_regex": r"^/api/me/(follows|following|feeds)|^/feeds/private/"})
    assert re.search(r"Tested: 9\b", report), report
    assert "FAILURES" not in report and re.search(r"\d+ generated, (\d+) passed", report), report


def test_marks_and_days_at_the_start_of_the_calendar_are_no_500(community, members) -> None:  # noqa: F811
    """A mark or ``since`` in the first week of year 1 (the fuzzer found it): the listing window
    would start before the calendar does; it starts with it instead."""
    from paperradar.rank import following

    assert following.listed_since("0001-01-03T00:00:00Z") == "0001-01-01"
    assert following.listed_since("2025-03-20T10:00:00Z") == "2025-03-13"
    client = community.client()
    member = members[0]
    r = client.get("/api/me/following?since=0001-01-01", headers=member.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["listed_since"] == "0001-01-01"
