"""Safety of every route, enumerated from the app's route table (a new route is covered by default).

User A (alice) fills the site with her data: a vote, a comment, a submission, a saved paper with a
note in a collection, a hidden paper, follows (an author, a saved search), a private feed and an API
token, with markup in every text she typed. Then, for every route:

- anonymous: every state-changing route answers 401 (sign-in and registration excepted: they are
  how one gets credentials, and are guarded by their origin);
- with A's cookie: a request from another origin, or without the CSRF token, is a 403 and changes
  nothing; every GET changes nothing;
- as user B (cookie for pages and forms, bearer token for the API), with A's ids in the path: no
  page or answer shows A's private data (note, collection, saved search, token label, email), and
  no request changes A's data (A's rows are compared before and after);
- as A: every page, feed and answer shows her markup escaped (never as live HTML);
- a JSON body with a wrong type in any field is a 400 naming the field, and writes nothing.

The counts (routes covered, requests made) are printed for the closing note.
"""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from community_fixtures import ORIGIN, Member, Site, add_member, community, sign_in  # noqa: F401
from fastapi.testclient import TestClient
from starlette.routing import Route

SECRET = "7f3"
NAME = f"Alice <img src=x onerror=alert(1)> {SECRET}"
EMAIL = f"alice-{SECRET}@example.org"
NOTE = f"ALPHA-NOTE-{SECRET} <script>alert(2)</script>"
COLLECTION = f"ALPHA-COLL-{SECRET} <b onmouseover=alert(1)>x</b>"
QUERY = f"ALPHA-QUERY-{SECRET} <svg onload=alert(3)>"
LABEL = f"<i>ALPHA-TOKEN-{SECRET}</i>"
COMMENT = "hi <script>alert(4)</script> [x](javascript:alert(5)) <img src=y onerror=alert(6)>"
PRIVATE = [f"ALPHA-NOTE-{SECRET}", f"ALPHA-COLL-{SECRET}", f"ALPHA-QUERY-{SECRET}", f"ALPHA-TOKEN-{SECRET}", EMAIL]
LIVE_MARKUP = ["<img src=x onerror", "<img src=y onerror", "<script>alert", "<b onmouseover", "<svg onload",
               'href="javascript:', "<i>ALPHA-TOKEN"]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PRE_AUTH = {("POST", "/login"), ("POST", "/register"),  # how credentials are got: origin-checked only
            ("POST", "/login/link"), ("POST", "/reset"),  # ... or a mailed link asked for
            ("POST", "/subscribe"), ("POST", "/api/subscriptions"),  # the digest: anyone may ask (double opt-in)
            # a mailed link's button: the link's token is the credential (and the Origin is checked)
            ("POST", "/login/link/{token}"), ("POST", "/reset/{token}"), ("POST", "/register/confirm/{token}"),
            ("POST", "/confirm/{token}"), ("POST", "/unsubscribe/{token}")}
ONE_CLICK = {("POST", "/unsubscribe/{token}")}  # RFC 8058: a mail provider's POST, from no page: no Origin asked
ENDS_SESSIONS = {("POST", "/logout"), ("POST", "/settings/sign-out-everywhere"), ("POST", "/settings/delete")}
COUNTS: dict[str, int] = {}


def count(kind: str, n: int = 1) -> None:
    COUNTS[kind] = COUNTS.get(kind, 0) + n


# -- the route table ------------------------------------------------------------------------


def routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route, from the app's own table (included routers opened)."""
    found: list[tuple[str, str]] = []
    pending = list(app.router.routes)
    while pending:
        route = pending.pop(0)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending[:0] = inner.routes
        elif isinstance(route, Route) and route.methods:
            found += [(m, route.path) for m in sorted(route.methods - {"HEAD"})]
    return found


class World:
    """A's data and the values that fill each route's path for A's objects."""

    def __init__(self, site: Site, alice: Member, bob: Member, papers: list[str], author: str) -> None:
        self.site, self.alice, self.bob, self.papers, self.author = site, alice, bob, papers, author
        self.values: dict[str, str] = {}

    def fill(self, path: str, as_owner: bool = True) -> str:
        def value(m: re.Match[str]) -> str:
            name = m[1]
            if name == "name":
                text = COLLECTION if "/collections/" in path else self.author
            elif name == "token" and not as_owner:
                text = "pft_not-a-real-token"  # B does not know A's private feed secret
            else:
                text = self.values.get(name, "x")
            return quote(text, safe="/:" if name == "paper_id" else "")
        return re.sub(r"\{(\w+)(?::path)?\}", value, path)


def fingerprint(store: Any, user_id: int | None = None) -> dict[str, list[tuple]]:
    """What the community tables hold (of one user, when given), without the bookkeeping a read may do
    (a token's or session's last use)."""
    conn = store.conn  # the store's own connection: the same reads on SQLite and PostgreSQL
    mine = {"users": "id", "sessions": "user", "api_tokens": "user", "votes": "user", "comments": "user",
            "saved": "user", "collections": "user", "hidden": "user", "follows": "user", "feed_tokens": "user"}
    skip = {"api_tokens": {"last_used_at"}, "sessions": {"last_seen_at"}}
    out: dict[str, list[tuple]] = {}
    for table in (*mine, "collection_papers", "featured", "upvotes", "invites"):
        columns = [c for c in _columns(conn, table) if c not in skip.get(table, set())]
        where, args = "", ()
        if user_id is not None:
            if table in mine:
                where, args = f"WHERE {mine[table]} = ?", (user_id,)
            elif table == "collection_papers":
                where, args = "WHERE collection IN (SELECT id FROM collections WHERE user = ?)", (user_id,)
            elif table == "featured":
                where, args = "WHERE submitted_by = ?", (str(user_id),)
            else:
                continue
        out[table] = sorted(tuple(r) for r in conn.execute(f"SELECT {', '.join(columns)} FROM {table} {where}", args))
    if user_id is None:  # (another user may add papers: an import into their library)
        out["papers"] = [tuple(conn.execute("SELECT COUNT(*), MAX(seq) FROM papers").fetchone())]
    return out


def _columns(conn: Any, table: str) -> list[str]:
    """A table's columns in their order, on either backend."""
    if isinstance(conn, sqlite3.Connection):
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    return [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                       "'public' AND table_name = ? ORDER BY ordinal_position", (table,))]


@pytest.fixture(scope="module")
def world(community: Site) -> Iterator[World]:  # noqa: F811
    store = community.store
    alice = add_member(store, EMAIL, name=NAME)
    bob = add_member(store, f"bob-{SECRET}@example.org", name="Bob")
    ids = [r[0] for r in store.conn.execute(
        "SELECT id FROM papers WHERE id NOT IN (SELECT p.id FROM featured f JOIN papers p ON p.rowid = f.paper)"
        " AND id LIKE '25%' ORDER BY rowid LIMIT 3")]
    author = store.get(ids[0])["authors"][0]  # type: ignore[index]
    w = World(community, alice, bob, ids, author)
    c, h = community.client(), alice.bearer
    ok = [c.post(f"/api/papers/{ids[0]}/votes", headers=h),
          c.post(f"/api/papers/{ids[0]}/comments", json={"body": COMMENT}, headers=h),
          c.post("/api/daily_papers", json={"paper": ids[2]}, headers=h),
          c.put(f"/api/me/library/{ids[0]}", json={"collections": [COLLECTION], "note": NOTE}, headers=h),
          c.put(f"/api/me/hidden/{ids[1]}", headers=h),
          c.post("/api/me/follows", json={"kind": "author", "value": author}, headers=h),
          c.post("/api/me/follows", json={"kind": "search", "value": QUERY}, headers=h),
          c.post("/api/me/tokens", json={"label": LABEL}, headers=h)]
    feed = c.post("/api/me/feeds", json={"scope": "collection", "collection": COLLECTION}, headers=h)
    for r in [*ok, feed]:
        assert r.status_code in (200, 201), (r.request.url, r.status_code, r.text[:300])
    token_url = feed.json()["url"]
    w.values = {
        "paper_id": ids[0], "category": "cs.CV", "collection": COLLECTION,
        "comment_id": str(ok[1].json()["id"]), "follow_id": str(ok[6].json()["id"]),
        "feed_id": str(feed.json()["id"]), "token_id": str(ok[7].json()["id"]),
        "token": token_url.rsplit("/", 1)[1].removesuffix(".atom"),
    }
    yield w


def bodies(w: World, method: str, path: str, csrf: str) -> dict[str, Any]:
    """A request's body: JSON for the API (a plausible one for each route), form fields for pages."""
    if path.startswith("/api/"):
        known = {
            ("POST", "/api/daily_papers"): {"paper": w.papers[1]},
            ("POST", "/api/me/tokens"): {"label": "B's"},
            ("POST", "/api/papers/{paper_id:path}/comments"): {"body": "B's comment"},
            ("PUT", "/api/comments/{comment_id}"): {"body": "B was here"},
            ("POST", "/api/me/follows"): {"kind": "category", "value": "cs.CL"},
            ("POST", "/api/me/feeds"): {"scope": "collection", "collection": COLLECTION},
            ("PUT", "/api/me/library/{paper_id:path}"): {"collections": ["B-COLL"], "note": "B's note"},
            ("PATCH", "/api/me/collections/{name:path}"): {"name": "B-RENAMED"},
            ("POST", "/api/me/following/seen"): {},
        }
        if (method, path) == ("POST", "/api/me/import/library"):
            return {"content": b"@article{b1, title={B's paper}, author={B, B}, year={2025}}",
                    "headers": {"Content-Type": "application/x-bibtex"}}
        return {"json": known[(method, path)]} if (method, path) in known else {}
    return {"data": {"csrf_token": csrf, "vote": "up", "paper": w.papers[1], "body": "B's text",
                     "collections_given": "1", "collection": "B-COLL", "note": "B's note", "name": COLLECTION,
                     "new_name": "B-RENAMED", "kind": "category", "value": "cs.CL", "scope": "collection",
                     "label": "B's", "password": "not the password", "current_password": "not the password",
                     "new_password": "a new long password", "email": w.bob.email, "next": "/"}}


def send(client: TestClient, method: str, url: str, headers: dict[str, str], body: dict[str, Any]) -> Any:
    """The request, its body's own headers (a file's Content-Type) added to ``headers``."""
    body = dict(body)
    return client.request(method, url, headers=headers | body.pop("headers", {}), **body)


# -- anonymous --------------------------------------------------------------------------------


def test_every_state_change_needs_credentials(world: World) -> None:
    client = world.site.client()
    before = fingerprint(world.site.store)
    checked = 0
    for method, path in routes(world.site.app):
        if method not in WRITES or (method, path) in PRE_AUTH:
            continue
        r = send(client, method, world.fill(path), {"Origin": ORIGIN}, bodies(world, method, path, ""))
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        checked += 1
    count("anonymous state-changing routes", checked)
    count("requests", checked)
    assert checked >= 40
    assert fingerprint(world.site.store) == before


# -- A's cookie from another site, without the token; GETs -------------------------------------


def test_foreign_origin_or_missing_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    client = world.site.client()
    csrf = sign_in(client, world.alice)
    before = fingerprint(world.site.store)
    checked = 0
    for method, path in routes(world.site.app):
        if method not in WRITES or (method, path) in ONE_CLICK:
            continue
        url = world.fill(path)
        for headers, token in (({"Origin": "https://evil.example"}, csrf),
                               ({"Origin": "null", "Referer": "https://evil.example/page"}, csrf),
                               ({"Origin": ORIGIN}, "")):
            body = bodies(world, method, path, token)
            if token and "data" not in body:  # a script would send the token as a header
                headers = headers | {"X-CSRF-Token": token}
            r = send(client, method, url, headers, body)
            if (method, path) in PRE_AUTH and not headers.get("Referer") and headers["Origin"] == ORIGIN:
                continue  # sign-in and registration have no session token to check: their origin is checked
            assert r.status_code == 403, (method, path, headers, r.status_code, r.text[:200])
            checked += 1
    count("state-changing routes refused from a foreign origin or without the CSRF token", checked // 3)
    count("requests", checked)
    assert fingerprint(world.site.store) == before


def test_no_get_changes_state(world: World) -> None:
    client = world.site.client()
    sign_in(client, world.alice)
    before = fingerprint(world.site.store)
    checked = 0
    for method, path in routes(world.site.app):
        if method != "GET":
            continue
        for headers in ({}, world.alice.bearer):
            r = client.get(world.fill(path), headers=headers)
            assert r.status_code < 500, (path, r.status_code)
            checked += 1
    count("GET routes that change nothing", checked // 2)
    count("requests", checked)
    assert fingerprint(world.site.store) == before


# -- B and A's data --------------------------------------------------------------------------------


def test_user_b_never_sees_a_private_data(world: World) -> None:
    cookie_client = world.site.client()
    sign_in(cookie_client, world.bob)
    bearer_client = world.site.client()
    checked = 0
    for method, path in routes(world.site.app):
        if method != "GET":
            continue
        for client, headers in ((cookie_client, {}), (bearer_client, world.bob.bearer)):
            r = client.get(world.fill(path, as_owner=False), headers=headers)
            asked = str(r.request.url)
            for secret in PRIVATE:  # (a 404 may name what the request itself asked for)
                if quote(secret, safe="") not in asked and quote(secret, safe="/:") not in asked:
                    assert secret not in r.text, (path, secret)
            checked += 1
    count("GET routes read as another user", checked // 2)
    count("requests", checked)


def test_user_b_never_changes_a_data(world: World) -> None:
    store = world.site.store
    client = world.site.client()
    csrf = sign_in(client, world.bob)
    before = fingerprint(store, world.alice.user.id)
    checked, owned_refused = 0, 0
    table = routes(world.site.app)
    last = [r for r in table if r in ENDS_SESSIONS]
    for method, path in [r for r in table if r not in ENDS_SESSIONS] + last:
        if method not in WRITES or (method, path) in PRE_AUTH:
            continue
        url = world.fill(path, as_owner=False)
        headers = {"Origin": ORIGIN} | (world.bob.bearer if path.startswith("/api/") else {})
        r = send(client, method, url, headers, bodies(world, method, path, csrf))
        assert r.status_code < 500, (method, path, r.status_code, r.text[:200])
        if re.search(r"\{(comment_id|follow_id|feed_id|token_id|name:path)\}|/library/collections/", path):
            assert r.status_code in (400, 403, 404), (method, path, r.status_code, r.text[:200])
            owned_refused += 1
        checked += 1
    count("state-changing routes tried by another user on A's ids", checked)
    count("routes naming one of A's objects, refused to B", owned_refused)
    count("requests", checked)
    assert owned_refused >= 8
    assert fingerprint(store, world.alice.user.id) == before


# -- escaping ------------------------------------------------------------------------------------------


def test_every_page_feed_and_answer_escapes_what_users_typed(world: World) -> None:
    client = world.site.client()
    sign_in(client, world.alice)
    checked = 0
    pages = [world.fill(p) for m, p in routes(world.site.app) if m == "GET"]
    pages += [f"/papers/{world.papers[0]}", f"/library/{quote(COLLECTION, safe='')}", "/following", "/settings",
              f"/comments/{world.values['comment_id']}/edit", f"/search?q={quote(QUERY)}",
              f"/?date={world.site.store.get(world.papers[2])['published']}"]  # type: ignore[index]
    for url in pages:
        r = client.get(url)
        kind = r.headers.get("content-type", "")
        if "html" in kind:
            for raw in LIVE_MARKUP:
                assert raw not in r.text, (url, raw)
        elif "atom" in kind or "xml" in kind:
            root = ET.fromstring(r.content)  # well-formed
            assert not [el for el in root.iter() if el.tag.split("}")[-1] in ("script", "img", "svg")], url
            for raw in LIVE_MARKUP:
                assert raw not in r.text, (url, raw)
        elif "json" in kind:
            json.loads(r.content)  # a JSON string: the markup is text inside it
            assert r.headers["x-content-type-options"] == "nosniff"
        checked += 1
    count("pages, feeds and answers checked for escaping (as A)", checked)
    count("requests", checked)
    page = client.get(f"/papers/{world.papers[0]}").text
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in page  # the comment's markup shown as text
    assert "Alice &lt;img src=x onerror=alert(1)&gt;" in page  # the name in the comment, escaped


# -- bad bodies -------------------------------------------------------------------------------------------


def test_a_wrong_type_in_any_json_field_is_a_400_naming_it(world: World) -> None:
    client = world.site.client()
    spec = client.get("/openapi.json").json()
    models = spec["components"]["schemas"]
    before = fingerprint(world.site.store)
    checked = 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if not content:
                continue
            fields = _fields(content["schema"], models)
            tags = _tags(content["schema"], models)
            url = world.fill(re.sub(r"\{(\w+)\}", lambda m: "{" + m[1] + (":path" if m[1] in ("paper_id", "name") else "") + "}", path))
            for name in fields:
                body = tags.get(name, {}) | {name: [{"nested": True}]}
                r = client.request(method.upper(), url, json=body, headers=world.bob.bearer)
                assert r.status_code == 400, (method, path, name, r.status_code, r.text[:200])
                assert name in r.json()["error"]["message"], (method, path, name, r.json())
                checked += 1
    count("JSON fields given a wrong type (400 naming the field)", checked)
    count("requests", checked)
    assert checked >= 10
    assert fingerprint(world.site.store) == before


def _fields(schema: dict[str, Any], models: dict[str, Any]) -> set[str]:
    """The property names of a request body's schema (through $ref, anyOf and oneOf)."""
    if "$ref" in schema:
        return _fields(models[schema["$ref"].rsplit("/", 1)[1]], models)
    names = set(schema.get("properties", {}))
    for part in schema.get("anyOf", []) + schema.get("oneOf", []):
        names |= _fields(part, models)
    return names - {"kind", "scope"}  # the discriminators: a wrong one names the body's shape instead


def _tags(schema: dict[str, Any], models: dict[str, Any]) -> dict[str, dict[str, str]]:
    """For a body that is one of several shapes told apart by a tag (a follow's ``kind``), the tag
    that makes each field's shape: so the wrong type is found in the field, not in the tag."""
    schema = models[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
    tag = schema.get("discriminator", {})
    found: dict[str, dict[str, str]] = {}
    if not tag:  # one shape: its other required fields given, so the wrong type is the first error
        return {name: {other: "x" for other in schema.get("required", []) if other != name}
                for name in schema.get("properties", {})}
    for value, ref in tag.get("mapping", {}).items():
        variant = models[ref.rsplit("/", 1)[1]]
        base = {name: "x" for name in variant.get("required", [])} | {tag["propertyName"]: value}
        for name in _fields({"$ref": ref}, models):
            found.setdefault(name, base)
    return found


def test_zz_print_the_counts(capsys) -> None:
    """The tallies of the tests above (run last in this module), for the closing note."""
    with capsys.disabled():
        print("\nsafety tests: " + "; ".join(f"{kind}: {n}" for kind, n in COUNTS.items()))
    assert COUNTS.get("requests", 0) > 300
