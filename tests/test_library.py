"""The library: saved papers in collections with a private note, hidden papers, export and import.

The store on every backend (the default collection, replacing collections, deleting one, hiding,
matching an import, a deleted user's library), then the web on a copy of the real slice
(``community``): the API with bearer tokens (each user sees only their own library), anonymous
requests, the forms with the session cookie and its CSRF token, hidden papers left out of the
listings, escaping; exports that ``paperradar import`` reads back as the same papers; importing
Zotero's exports into a collection.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
from community_fixtures import ORIGIN, Member, Site, add_member, browser, community, form_headers  # noqa: F401
from conftest import shared
from fuzzing import run_schemathesis
from helpers import cli

from paperradar.ids import title_key
from paperradar.model import Paper
from paperradar.sources.common import finish
from paperradar.store import open_store
from paperradar.store.library import DEFAULT_COLLECTION
from paperradar.web import library as web_library

ZOTERO = "fixtures/zotero_exports/"
OLD_STYLE = "hep-th/9901001"  # an id with a "/"
CSL_MARKUP = re.compile(r"</?(?:i|b|sup|sub|sc|span)(?:\s[^>]*)?>")


def record(title: str, arxiv_id: str | None = None, doi: str | None = None, source_id: str | None = None,
           **fields: Any) -> Paper:
    _, paper = finish(Paper(title=title, arxiv_id=arxiv_id, doi=doi, source_id=source_id, source="tests",
                            **fields), 1)
    assert isinstance(paper, Paper)
    return paper


# -- the store ---------------------------------------------------------------------------------


def test_saving_puts_a_paper_in_the_default_collection_and_replacing_keeps_the_invariant(store) -> None:
    store.merge([record("Alpha", "2503.00001"), record("Beta", "2503.00002"), record("Gamma", OLD_STYLE)], "t")
    ann = store.add_user("ann@example.org")
    assert store.collections(ann.id) == [] and store.library(ann.id) == ([], 0)

    entry = store.save_paper(ann.id, "2503.00001")
    assert entry["collections"] == [DEFAULT_COLLECTION] and entry["note"] == ""
    assert store.save_paper(ann.id, "2503.00001", note="read §3")["note"] == "read §3"
    assert store.save_paper(ann.id, "2503.00001")["note"] == "read §3"  # None keeps the note
    assert store.save_paper(ann.id, "2503.00001", ["Theory", "A/B"])["collections"] == ["A/B", "Theory"]
    assert store.save_paper(ann.id, "2503.00001")["collections"] == ["A/B", "Theory"]  # None keeps them
    assert store.save_paper(ann.id, "2503.00001", [])["collections"] == [DEFAULT_COLLECTION]  # []: the default
    assert store.save_paper(ann.id, "no-such-paper") is None
    store.save_paper(ann.id, OLD_STYLE, ["Theory"], "old")
    store.save_paper(ann.id, "2503.00002", ["Theory", DEFAULT_COLLECTION])

    counts = {c["name"]: c["papers"] for c in store.collections(ann.id)}
    assert counts == {DEFAULT_COLLECTION: 2, "A/B": 0, "Theory": 2}
    assert next(c["name"] for c in store.collections(ann.id)) == DEFAULT_COLLECTION
    entries, total = store.library(ann.id)
    assert total == 3 and {e["paper"]["id"] for e in entries} == {"2503.00001", "2503.00002", OLD_STYLE}
    theory, n = store.library(ann.id, "Theory")
    assert n == 2 and {e["paper"]["id"] for e in theory} == {OLD_STYLE, "2503.00002"}
    assert store.library(ann.id, "theory") is None  # names are exact
    assert store.library(ann.id, "Theory", limit=1, offset=1)[0][0]["paper"]["id"] in {OLD_STYLE, "2503.00002"}

    assert store.rename_collection(ann.id, "Theory", DEFAULT_COLLECTION) == "taken"
    assert store.rename_collection(ann.id, "Nope", "X") == "unknown"
    assert store.rename_collection(ann.id, "Theory", "Physics") == "renamed"
    # Deleting a collection: its papers in no other collection leave the library (with their notes).
    assert store.delete_collection(ann.id, "Physics") == 1  # OLD_STYLE was only there; 2503.00002 stays
    assert store.saved_ids(ann.id) == {"2503.00001", "2503.00002"}
    assert store.library_entry(ann.id, "2503.00002")["collections"] == [DEFAULT_COLLECTION]
    assert store.delete_collection(ann.id, "Physics") is None
    assert store.unsave_paper(ann.id, "2503.00001") and not store.unsave_paper(ann.id, "2503.00001")
    assert store.library_entry(ann.id, "2503.00001") is None
    assert store.collections(ann.id)[0] == {"name": DEFAULT_COLLECTION, "papers": 1,
                                            "created_at": store.collections(ann.id)[0]["created_at"]}


def test_hiding_is_apart_from_saving_and_each_user_has_their_own(store) -> None:
    store.merge([record("Alpha", "2503.00001"), record("Beta", "2503.00002")], "t")
    ann, bob = store.add_user("ann@example.org"), store.add_user("bob@example.org")
    store.save_paper(ann.id, "2503.00001", ["Mine"], "ann's note")
    at = store.hide_paper(ann.id, "2503.00001")
    assert at and store.hide_paper(ann.id, "2503.00001") == at  # the first time stays
    assert store.hide_paper(ann.id, "no-such-paper") is None
    assert store.hidden_ids(ann.id) == {"2503.00001"} and store.saved_ids(ann.id) == {"2503.00001"}
    assert [h["paper"]["id"] for h in store.hidden_papers(ann.id)] == ["2503.00001"]
    assert store.hidden_ids(bob.id) == set() and store.saved_ids(bob.id) == set()
    assert store.collections(bob.id) == [] and store.library(bob.id, "Mine") is None
    assert store.delete_collection(bob.id, "Mine") is None and store.rename_collection(bob.id, "Mine", "X") == "unknown"
    assert not store.unsave_paper(bob.id, "2503.00001") and store.saved_ids(ann.id) == {"2503.00001"}
    assert store.unhide_paper(ann.id, "2503.00001") and not store.unhide_paper(ann.id, "2503.00001")
    assert not store.unhide_paper(ann.id, "no-such-paper")


def test_import_matches_by_arxiv_id_doi_key_and_title_and_stores_the_rest(store) -> None:
    store.merge([record("Stored arXiv paper", "2503.00001"), record("Stored DOI paper", doi="10.1000/abc"),
                 record("A Title Only Paper"), record("Keyed paper", source_id="smith2020keyed")], "t")
    ann = store.add_user("ann@example.org")
    before = store.count()
    papers = [
        record("Whatever the file calls it", "2503.00001v2"),  # arXiv id (any version)
        record("Another title", doi="10.1000/ABC"),  # DOI (case folded)
        record("a title-only  paper!"),  # title, folded
        record("Keyed paper, as Zotero has it", source_id="smith2020keyed"),  # the key this store was given
        record("A brand new paper", "2504.00009"),
        record("A new paper without ids", source_id="zotero-key-1"),
        record("A brand new paper", "2504.00009"),  # twice in the file: one paper
    ]
    done = store.import_to_library(ann.id, "Imported", papers, "library import")
    statuses = [s for _, s in done.papers]
    assert statuses == ["matched"] * 4 + ["added"] * 3
    ids = [pid for pid, _ in done.papers]
    assert ids[:4] == ["2503.00001", "doi:10.1000/abc", title_key("A Title Only Paper"), "smith2020keyed"]
    assert ids[4] == ids[6] == "2504.00009" and ids[5] == "zotero-key-1"
    assert store.count() == before + 2 and done.merged.new == 2
    assert store.get("2503.00001")["title"] == "Stored arXiv paper"  # a match is left as stored
    assert {c["name"]: c["papers"] for c in store.collections(ann.id)} == {"Imported": 6}
    store.save_paper(ann.id, "2503.00001", note="kept")
    again = store.import_to_library(ann.id, "Imported", papers[:1], "library import")
    assert again.papers == [("2503.00001", "matched")] and store.library_entry(ann.id, "2503.00001")["note"] == "kept"
    # An arXiv record never matches another arXiv paper by title.
    other = store.import_to_library(ann.id, "Imported", [record("Stored arXiv paper", "2504.00010")], "x")
    assert other.papers == [("2504.00010", "added")]


def test_a_deleted_users_library_goes_and_is_in_their_export_first(store) -> None:
    store.merge([record("Alpha", "2503.00001"), record("Beta", "2503.00002")], "t")
    ann = store.add_user("ann@example.org")
    store.save_paper(ann.id, "2503.00001", ["A", "B"], "my <note>")
    store.hide_paper(ann.id, "2503.00002")
    data = store.user_data("ann@example.org")["library"]
    assert [c["name"] for c in data["collections"]] == ["A", "B"]
    assert data["saved"] == [{"paper": "2503.00001", "title": "Alpha", "note": "my <note>",
                              "saved_at": data["saved"][0]["saved_at"], "collections": ["A", "B"]}]
    assert [h["paper"] for h in data["hidden"]] == ["2503.00002"]
    assert store.delete_user("ann@example.org")
    conn = store.conn
    for table in ("saved", "collections", "collection_papers", "hidden"):
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table


# -- the web: fixtures ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(community: Site) -> Site:  # noqa: F811
    community.store.merge([record("Old <b>style</b> paper", OLD_STYLE, published="2025-03-20",
                                  authors=["Ada Lovelace"], categories=["hep-th"])], "tests")
    return community


@pytest.fixture(scope="module")
def members(site: Site) -> dict[str, Member]:
    return {name: add_member(site.store, f"{name}@library.example") for name in ("ann", "bob", "cyd", "dee", "eve")}


def some_papers(site: Site, n: int, day: str = "2025-03-19") -> list[str]:
    rows, _ = site.store.feed(day, day, None, n, 0)
    assert len(rows) == n
    return [r["id"] for r in rows]


# -- the API --------------------------------------------------------------------------------


def test_api_save_list_change_and_remove_with_a_token(site, members) -> None:
    client, ann = site.client(), members["ann"]
    first, second = some_papers(site, 2)
    r = client.put(f"/api/me/library/{first}", json={}, headers=ann.bearer)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == first and body["collections"] == [DEFAULT_COLLECTION] and body["note"] == ""
    assert body["url"] == f"/papers/{first}" and body["title"] == site.store.get(first)["title"]
    r = client.put(f"/api/me/library/{first}", json={"collections": [" Reading group ", "Theory", "Theory"],
                                                     "note": "  line one\nline two  "}, headers=ann.bearer)
    assert r.json()["collections"] == ["Reading group", "Theory"] and r.json()["note"] == "line one\nline two"
    r = client.put(f"/api/me/library/{OLD_STYLE}", json={"note": "slash id"}, headers=ann.bearer)
    assert r.status_code == 200 and r.json()["id"] == OLD_STYLE
    client.put(f"/api/me/library/{second}v1", json={"collections": ["Theory"]}, headers=ann.bearer)  # any spelling

    library = client.get("/api/me/library", headers=ann.bearer).json()
    assert library["collection"] is None and library["total"] == 3
    assert next(p["id"] for p in library["papers"]) == second  # newest saved first
    assert {c["name"]: c["papers"] for c in library["collections"]} == {
        DEFAULT_COLLECTION: 1, "Reading group": 1, "Theory": 2}
    theory = client.get("/api/me/library", params={"collection": "Theory"}, headers=ann.bearer).json()
    assert theory["collection"] == "Theory" and {p["id"] for p in theory["papers"]} == {first, second}
    assert client.get("/api/me/library", params={"collection": "  "}, headers=ann.bearer).json()["total"] == 3
    r = client.get("/api/me/library", params={"collection": "Nope"}, headers=ann.bearer)
    assert r.status_code == 404 and "Nope" in r.json()["error"]["message"]

    r = client.patch("/api/me/collections/Reading%20group", json={"name": "Group/2025"}, headers=ann.bearer)
    assert r.status_code == 200 and r.json()["name"] == "Group/2025" and r.json()["papers"] == 1
    r = client.patch("/api/me/collections/Group%2F2025", json={"name": "Theory"}, headers=ann.bearer)
    assert r.status_code == 409 and "Theory" in r.json()["error"]["message"]
    assert client.get("/api/me/library", params={"collection": "Group/2025"}, headers=ann.bearer).json()["total"] == 1
    r = client.delete("/api/me/collections/Theory", headers=ann.bearer)
    assert r.json() == {"name": "Theory", "deleted": True, "left_library": 1}  # second was only there
    assert site.store.saved_ids(ann.user.id) == {first, OLD_STYLE}

    r = client.delete(f"/api/me/library/{OLD_STYLE}", headers=ann.bearer)
    assert r.json() == {"id": OLD_STYLE, "saved": False, "was_saved": True}
    assert client.delete(f"/api/me/library/{OLD_STYLE}", headers=ann.bearer).json()["was_saved"] is False
    assert client.delete("/api/me/library/no-such-paper", headers=ann.bearer).status_code == 404
    assert client.put("/api/me/library/no-such-paper", json={}, headers=ann.bearer).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"collections": ["ok", "bad\x00name"]}, "collections"),
    ({"collections": ["two\nlines"]}, "collections"),
    ({"collections": ["   "]}, "collections"),
    ({"collections": ["x" * 101]}, "collections"),
    ({"collections": [".."]}, "collections"),
    ({"collections": [str(i) for i in range(51)]}, "collections"),
    ({"collections": "Theory"}, "collections"),
    ({"collections": [7]}, "collections"),
    ({"note": "x" * 10_001}, "note"),
    ({"note": "nul \x00"}, "note"),
    ({"note": 5}, "note"),
    ({"notes": "typo"}, "notes"),
])
def test_api_bad_bodies_are_400s_naming_the_field_and_change_nothing(site, members, body, field) -> None:
    client, bob = site.client(), members["bob"]
    pid = some_papers(site, 1)[0]
    r = client.put(f"/api/me/library/{pid}", json=body, headers=bob.bearer)
    assert r.status_code == 400 and field in r.json()["error"]["message"], r.text
    assert pid not in site.store.saved_ids(bob.user.id)
    r = client.put(f"/api/me/library/{pid}", content=b"not json", headers={**bob.bearer, "content-type": "application/json"})
    assert r.status_code == 400


def test_one_user_never_sees_or_changes_another_users_library(site, members) -> None:
    client, cyd, dee = site.client(), members["cyd"], members["dee"]
    pid = some_papers(site, 3)[2]
    client.put(f"/api/me/library/{pid}", json={"collections": ["Cyd secret"], "note": "cyd's note"}, headers=cyd.bearer)
    client.put(f"/api/me/hidden/{pid}", headers=cyd.bearer)
    assert client.get("/api/me/library", headers=dee.bearer).json() == {
        "collection": None, "total": 0, "collections": [], "papers": []}
    assert client.get("/api/me/hidden", headers=dee.bearer).json() == {"total": 0, "papers": []}
    assert client.get("/api/me/library", params={"collection": "Cyd secret"}, headers=dee.bearer).status_code == 404
    assert client.get("/api/me/export/library", params={"collection": "Cyd secret"},
                      headers=dee.bearer).status_code == 404
    assert "cyd's note" not in client.get("/api/me/export/library", headers=dee.bearer).text
    assert client.patch("/api/me/collections/Cyd%20secret", json={"name": "Mine"}, headers=dee.bearer).status_code == 404
    assert client.delete("/api/me/collections/Cyd%20secret", headers=dee.bearer).status_code == 404
    assert client.delete(f"/api/me/library/{pid}", headers=dee.bearer).json()["was_saved"] is False
    client.delete(f"/api/me/hidden/{pid}", headers=dee.bearer)
    assert client.get("/library/Cyd%20secret", headers=dee.bearer).status_code == 404
    assert "cyd&#39;s note" not in client.get("/library", headers=dee.bearer).text
    # Cyd's library is as it was.
    entry = site.store.library_entry(cyd.user.id, pid)
    assert entry and entry["note"] == "cyd's note" and entry["collections"] == ["Cyd secret"]
    assert site.store.hidden_ids(cyd.user.id) == {pid}
    # dee's own save of the same paper is apart from cyd's.
    client.put(f"/api/me/library/{pid}", json={"note": "dee's"}, headers=dee.bearer)
    assert site.store.library_entry(cyd.user.id, pid)["note"] == "cyd's note"


def library_routes() -> list[tuple[str, str]]:
    """(method, path) of every route of web/library.py, from its route table."""
    out = []
    for route in web_library.router.routes:
        for method in sorted(route.methods - {"HEAD"}):  # type: ignore[attr-defined]
            out.append((method, route.path))  # type: ignore[attr-defined]
    return out


def test_anonymous_requests_get_401_or_the_sign_in_page_and_change_nothing(site) -> None:
    client = site.client()
    routes = library_routes()
    assert len(routes) >= 18
    pid = some_papers(site, 1)[0]
    for method, path in routes:
        url = path.replace("{paper_id:path}", pid).replace("{name:path}", "Theory").replace(
            "{collection:path}", "Theory")
        r = client.request(method, url, headers={"Origin": ORIGIN})
        if method == "GET" and not url.startswith("/api/"):
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), (method, url)
        else:
            assert r.status_code == 401, (method, url, r.status_code)
            if url.startswith("/api/"):
                assert r.headers["www-authenticate"].startswith("Bearer")
    r = client.get("/library/A%20b?page=2")
    assert r.headers["location"] == "/login?next=/library/A%20b%3Fpage%3D2"
    bad = client.put(f"/api/me/library/{pid}", json={}, headers={"Authorization": "Bearer prt_nope"})
    assert bad.status_code == 401 and "not valid" in bad.json()["error"]["message"]


# -- hidden papers in the listings -------------------------------------------------------------


def test_hidden_papers_leave_the_viewers_listings_unless_asked(site, members) -> None:
    client, eve = site.client(), members["eve"]
    day = "2025-03-19"
    shown = client.get("/api/feed", params={"date": day, "list": "all"}, headers=eve.bearer).json()["papers"]
    # A paper of the day that is also on the first page of one of its categories.
    pid, author, category, victim = "", "", "", {}
    for victim in shown:
        for category in victim["categories"]:
            listed = client.get(f"/api/categories/{category}").json()["papers"]
            if victim["id"] in [p["id"] for p in listed]:
                pid, author = victim["id"], victim["authors"][0]
                break
        if pid:
            break
    assert pid
    word = re.sub(r"[^A-Za-z ]", " ", victim["title"]).split()
    assert client.put(f"/api/me/hidden/{pid}", headers=eve.bearer).json()["hidden"] is True

    def ids(path: str, headers: dict[str, str] | None = None, **params: str) -> list[str]:
        r = client.get(path, params=params, headers=headers or {})
        assert r.status_code == 200, (path, r.text[:300])
        return [p["id"] for p in r.json()["papers"]]

    listings: list[tuple[str, dict[str, str]]] = [
        ("/api/feed", {"date": day, "list": "all"}),
        ("/api/search", {"q": " ".join(word[:6]), "mode": "keyword"}),
        (f"/api/authors/{author}", {}),
        (f"/api/categories/{category}", {}),
    ]
    for path, params in listings:
        assert pid in ids(path, **params), path  # anonymous: everything
        assert pid not in ids(path, eve.bearer, **params), path
        assert pid in ids(path, eve.bearer, **params, hidden="1"), path
        assert pid in ids(path, members["ann"].bearer, **params), path  # another user's hiding is theirs
    page = client.get("/", params={"date": day, "list": "all"}, headers=eve.bearer).text
    assert f'id="p-{pid}"' not in page
    page = client.get("/", params={"date": day, "list": "all", "hidden": "1"}, headers=eve.bearer).text
    assert f'id="p-{pid}"' in page and "Unhide" in page
    # Trending: a voted paper of the window, hidden.
    trending = client.get("/api/trending", params={"date": "2025-03-25"}, headers=eve.bearer).json()["papers"]
    top = trending[0]["id"]
    client.put(f"/api/me/hidden/{top}", headers=eve.bearer)
    assert top not in ids("/api/trending", eve.bearer, date="2025-03-25")
    assert top in ids("/api/trending", eve.bearer, date="2025-03-25", hidden="1")
    r = client.get("/api/feed", params={"hidden": "2"}, headers=eve.bearer)
    assert r.status_code == 400 and "hidden" in r.json()["error"]["message"]
    # hidden=1 stays on the next pages' links.
    feed = client.get("/api/feed", params={"date": day, "list": "all", "hidden": "1"}, headers=eve.bearer).json()
    assert "hidden=1" in feed["next"]
    assert client.delete(f"/api/me/hidden/{pid}", headers=eve.bearer).json() == {
        "id": pid, "hidden": False, "hidden_at": None}
    assert pid in ids("/api/feed", eve.bearer, date=day, list="all")
    hidden = client.get("/api/me/hidden", headers=eve.bearer).json()
    assert hidden["total"] == 1 and hidden["papers"][0]["id"] == top


# -- the forms, signed in with the session cookie ------------------------------------------------


def test_the_forms_with_the_session_cookie(site, members) -> None:
    ann = add_member(site.store, "forms@library.example")
    client, csrf = browser(site, ann)
    pid = some_papers(site, 4)[3]
    feed = client.get("/", params={"date": "2025-03-19", "list": "all"}).text
    assert f'action="/papers/{pid}/save"' in feed and f'action="/papers/{pid}/hide"' in feed

    refused = client.post(f"/papers/{pid}/save", data={}, headers=form_headers())
    assert refused.status_code == 403  # no CSRF token
    foreign = client.post(f"/papers/{pid}/save", data={"csrf_token": csrf}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and site.store.saved_ids(ann.user.id) == set()

    # A card's Save: back to the page it was on, at the card.
    r = client.post(f"/papers/{pid}/save", data={"csrf_token": csrf},
                    headers={"Origin": ORIGIN, "Referer": f"{ORIGIN}/?date=2025-03-19"})
    assert r.status_code == 303 and r.headers["location"] == f"/?date=2025-03-19#p-{pid}"
    assert site.store.library_entry(ann.user.id, pid)["collections"] == [DEFAULT_COLLECTION]
    assert "✓ Saved" in client.get("/", params={"date": "2025-03-19", "list": "all"}).text

    # The paper page's form: ticked collections, a new one, the note.
    page = client.get(f"/papers/{pid}").text
    assert 'id="library"' in page and f'name="collection" value="{DEFAULT_COLLECTION}" checked' in page
    r = client.post(f"/papers/{pid}/save", data={
        "csrf_token": csrf, "collections_given": "1", "collection": [DEFAULT_COLLECTION],
        "new_collection": "<i>Ideas</i>", "note": "<script>alert(1)</script>\nsecond line",
        "next": f"/papers/{pid}#library"}, headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{pid}#library"
    entry = site.store.library_entry(ann.user.id, pid)
    assert entry["collections"] == [DEFAULT_COLLECTION, "<i>Ideas</i>"]
    assert entry["note"] == "<script>alert(1)</script>\nsecond line"
    r = client.post(f"/papers/{pid}/save", data={"csrf_token": csrf, "collections_given": "1",
                                                 "new_collection": "bad\x01"}, headers=form_headers())
    assert r.status_code == 400 and "collection" in r.text
    r = client.post(f"/papers/{pid}/save", data={"csrf_token": csrf, "next": "//evil.example/x"},
                    headers=form_headers())
    assert r.headers["location"] == f"/papers/{pid}"  # not another site: the paper's page

    # Pages escape every user text.
    for url in ("/library", "/library/%3Ci%3EIdeas%3C%2Fi%3E", f"/papers/{pid}"):
        text = client.get(url).text
        assert "<script>alert(1)" not in text and "<i>Ideas</i>" not in text, url
        assert "&lt;i&gt;Ideas&lt;/i&gt;" in text, url
    library = client.get("/library").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in library and 'href="/library/%3Ci%3EIdeas%3C%2Fi%3E"' in library
    assert client.get("/library/Nope").status_code == 404
    assert client.get("/library?page=0").status_code == 400

    # Rename and delete from /library.
    r = client.post("/library/collections/rename", data={"csrf_token": csrf, "name": "<i>Ideas</i>",
                                                         "new_name": "Ideas/2025"}, headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == "/library/Ideas%2F2025"
    assert client.get(r.headers["location"]).status_code == 200
    r = client.post("/library/collections/rename", data={"csrf_token": csrf, "name": "Ideas/2025",
                                                         "new_name": DEFAULT_COLLECTION}, headers=form_headers())
    assert r.status_code == 409
    r = client.post("/library/collections/delete", data={"csrf_token": csrf, "name": "Ideas/2025"},
                    headers=form_headers())
    assert r.status_code == 303 and site.store.library_entry(ann.user.id, pid)["collections"] == [DEFAULT_COLLECTION]

    # Hide and unhide, unsave.
    r = client.post(f"/papers/{pid}/hide", data={"csrf_token": csrf, "next": "/library"}, headers=form_headers())
    assert r.status_code == 303 and pid in site.store.hidden_ids(ann.user.id)
    assert "Hidden papers (1)" in client.get("/library").text
    client.post(f"/papers/{pid}/unhide", data={"csrf_token": csrf}, headers=form_headers())
    assert site.store.hidden_ids(ann.user.id) == set()
    r = client.post(f"/papers/{pid}/unsave", data={"csrf_token": csrf, "next": "/library"}, headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == f"/library#p-{pid}"
    assert site.store.saved_ids(ann.user.id) == set()

    # The same routes through the API with the cookie: the CSRF header, else 403.
    assert client.put(f"/api/me/library/{pid}", json={}, headers={"Origin": ORIGIN}).status_code == 403
    assert client.put(f"/api/me/library/{pid}", json={}, headers=form_headers(csrf)).status_code == 200


def test_import_form_and_export_links_on_the_library_page(site, members) -> None:
    ann = add_member(site.store, "upload@library.example")
    client, csrf = browser(site, ann)
    ris = shared(ZOTERO + "zotero_ris_export_5items.ris").read_bytes()
    r = client.post("/library/import", data={"csrf_token": csrf, "collection": "Microbiome"},
                    files={"file": ("My Library.ris", ris, "application/x-research-info-systems")},
                    headers=form_headers())
    assert r.status_code == 200, r.text[:500]
    assert "Imported into" in r.text and "Microbiome" in r.text and "<strong>5</strong> added" in r.text
    assert {c["name"]: c["papers"] for c in site.store.collections(ann.user.id)} == {"Microbiome": 5}
    r = client.post("/library/import", data={"csrf_token": csrf, "collection": "Microbiome"},
                    files={"file": ("again.ris", ris, "text/plain")}, headers=form_headers())
    assert "<strong>5</strong> matched" in r.text
    r = client.post("/library/import", data={"csrf_token": csrf},
                    files={"file": ("x.png", b"\x89PNG\r\n\x1a\n\x00\x00binary", "image/png")}, headers=form_headers())
    assert r.status_code == 400 and "not a BibTeX, CSL-JSON or RIS file" in r.text
    r = client.post("/library/import", data={"csrf_token": csrf, "collection": "x"}, headers=form_headers())
    assert r.status_code == 400 and "file" in r.text
    big = ("big.bib", b"@misc{x, title={" + b"x" * (web_library.MAX_UPLOAD + 100_000) + b"}}", "text/plain")
    r = client.post("/library/import", data={}, files={"file": big}, headers=form_headers())
    assert r.status_code == 413 and "10 MB" in r.text  # refused on its length, before the form is read
    page = client.get("/library/Microbiome").text
    assert 'href="/api/me/export/library?format=ris&amp;collection=Microbiome"' in page
    r = client.get("/api/me/export/library?format=ris&collection=Microbiome")  # the link, with the cookie
    assert r.status_code == 200 and r.text.count("TY  - ") == 5
    assert r.headers["content-disposition"].startswith('attachment; filename="paperradar-Microbiome.ris"')


# -- export and its round trip through `paperradar import` -----------------------------------------


def test_exports_have_the_right_types_and_keep_notes_in_each_formats_field(site, members) -> None:
    client, bob = site.client(), members["bob"]
    pid = some_papers(site, 5)[4]
    hostile = "2503.99902"  # "Price of $5 and $10 % # & {unbalanced"
    note = 'Note with } brace, "quotes", <b>markup</b> and arXiv:2101.00001\nsecond line'
    for p in (pid, hostile):
        client.put(f"/api/me/library/{p}", json={"collections": ["Export é/1"], "note": note}, headers=bob.bearer)
    kinds = {"bibtex": "application/x-bibtex", "csl-json": "application/vnd.citationstyles.csl+json",
             "ris": "application/x-research-info-systems"}
    for fmt, kind in kinds.items():
        r = client.get("/api/me/export/library", params={"format": fmt, "collection": "Export é/1"},
                       headers=bob.bearer)
        assert r.status_code == 200 and r.headers["content-type"] == f"{kind}; charset=utf-8"
        disposition = r.headers["content-disposition"]
        ext = {"bibtex": "bib", "csl-json": "json", "ris": "ris"}[fmt]
        assert disposition == (f'attachment; filename="paperradar-Export-1.{ext}"; '
                               f"filename*=UTF-8''paperradar-Export%20%C3%A9%2F1.{ext}")
        if fmt == "bibtex":
            entries = bibtexparser.loads(r.text).entries
            assert len(entries) == 2 and all("<b>markup</b>" in e["annote"] for e in entries)
            assert all("\n" not in e["annote"] for e in entries)
        elif fmt == "csl-json":
            items = json.loads(r.text)
            assert {i["note"] for i in items} == {note.strip()} and {i["id"] for i in items} == {pid, hostile}
        else:
            assert r.text.count("\r\nN1  - Note with } brace") == 2 and "\nsecond line" not in r.text
    r = client.get("/api/me/export/library", params={"format": "pdf"}, headers=bob.bearer)
    assert r.status_code == 400 and "format" in r.json()["error"]["message"]
    default = client.get("/api/me/export/library", headers=bob.bearer)
    assert default.headers["content-type"].startswith("application/x-bibtex")
    assert 'filename="paperradar-library.bib"' in default.headers["content-disposition"]


def test_exports_round_trip_through_paperradar_import(site, members, capsys, tmp_path: Path) -> None:
    client, dee = site.client(), members["dee"]
    # Papers known by arXiv id (old and new style), by DOI only and by title only, beside the slice's.
    site.store.merge([record("A paper known by its DOI", doi="10.5555/library.1", authors=["Grace Hopper"],
                             published="2024-05-01", journal_ref="Journal of Tests 1"),
                      record("A paper known by its title alone", authors=["Plato", "Jean de la Fontaine"],
                             published="2023-01-01")], "tests")
    doi_id, title_id = "doi:10.5555/library.1", title_key("A paper known by its title alone")
    slice_ids = [p for p in some_papers(site, 41, day="2025-03-20") if p != OLD_STYLE][:40]
    wanted = slice_ids + [OLD_STYLE, doi_id, title_id, "2503.99901"]
    for i, pid in enumerate(wanted):
        r = client.put(f"/api/me/library/{pid}", json={"collections": ["Round trip"], "note": f"note {i} arXiv:2101.00001"},
                       headers=dee.bearer)
        assert r.status_code == 200, (pid, r.text)
    stored = {pid: site.store.get(pid) for pid in wanted}
    for fmt, ext in (("bibtex", "bib"), ("csl-json", "json"), ("ris", "ris")):
        r = client.get("/api/me/export/library", params={"format": fmt, "collection": "Round trip"}, headers=dee.bearer)
        path = tmp_path / f"export.{ext}"
        path.write_bytes(r.content)
        db = tmp_path / f"fresh-{ext}.db"
        code, out, err = cli(capsys, "--db", db, "import", path, "--no-progress", "--no-embed", "--json")
        assert code == 0, err
        summary = json.loads(out)
        assert summary["new"] == len(wanted) and summary["rejected"] == 0, (fmt, summary)
        assert summary["inputs"][0]["format"] == fmt
        fresh = open_store(str(db))
        try:
            for pid, row in stored.items():
                back = fresh.get(pid)
                assert back is not None, (fmt, pid)
                if fmt == "bibtex":  # TeX: "--" is an en dash, "~" a space, as BibTeX reads them
                    assert title_key(back["title"]) == title_key(row["title"]), (fmt, pid)
                    assert [a.replace("~", " ") for a in row["authors"]] == back["authors"], (fmt, pid)
                elif fmt == "csl-json":  # CSL titles are rich text: <b>, <i>, <sup>, ... are formatting
                    assert back["title"] == CSL_MARKUP.sub("", row["title"]), (fmt, pid)
                    assert back["authors"] == row["authors"], (fmt, pid)
                else:
                    assert back["title"] == row["title"] and back["authors"] == row["authors"], (fmt, pid)
            assert fresh.count() == len(wanted)
        finally:
            fresh.close()
    # And into a user's library on this site: every paper matched, none added.
    r = client.get("/api/me/export/library", params={"format": "csl-json", "collection": "Round trip"}, headers=dee.bearer)
    r = client.post("/api/me/import/library", params={"collection": "Again"}, content=r.content, headers=dee.bearer)
    assert r.status_code == 200 and r.json()["matched"] == len(wanted) and r.json()["added"] == 0


# -- import ------------------------------------------------------------------------------------


def test_api_import_of_zotero_exports_into_a_collection(site, members) -> None:
    client = site.client()
    cyd = add_member(site.store, "zotero@library.example")
    csl = shared(ZOTERO + "zotero_bbt_csljson_export_with_arxiv.json").read_bytes()
    before = site.store.count()
    r = client.post("/api/me/import/library", params={"collection": "Zotero"}, content=csl,
                    headers={**cyd.bearer, "content-type": "application/vnd.citationstyles.csl+json"})
    assert r.status_code == 200, r.text[:500]
    body = r.json()
    assert body["collection"] == "Zotero" and body["format"] == "csl-json" and body["records"] == 134
    assert body["matched"] + body["added"] + len(body["skipped"]) >= 100
    arxiv = [p for p in body["papers"] if re.fullmatch(r"\d{4}\.\d{4,5}", p["id"])]
    assert len(arxiv) >= 30  # the export's arXiv items, by their arXiv id
    assert all(p["line"] > 0 and p["status"] in ("matched", "added") for p in body["papers"])
    assert site.store.count() == before + body["added"]
    assert {c["name"]: c["papers"] for c in site.store.collections(cyd.user.id)} == {
        "Zotero": body["matched"] + body["added"]}
    # New papers are found by search at once.
    found = client.get("/api/search", params={"q": body["papers"][0]["title"], "mode": "keyword"}).json()["papers"]
    assert body["papers"][0]["id"] in [p["id"] for p in found]

    # A BibTeX file naming papers of this site: matched by arXiv id, DOI and title; a broken entry skipped.
    slice_id = some_papers(site, 1)[0]
    slice_title = site.store.get(slice_id)["title"]
    bib = (f"@article{{a, title={{Anything}}, eprint={{{slice_id}v1}}, archivePrefix={{arXiv}}}}\n"
           "@article{b, title={Something else}, doi={10.5555/LIBRARY.1}}\n"
           f"@inproceedings{{c, title={{{slice_title}}}}}\n"
           "@article{broken, title={No end\n"
           "@article{d, title={Entirely new paper from the library test}, author={Doe, Jane}}\n")
    r = client.post("/api/me/import/library", content=bib.encode(), headers=cyd.bearer)
    body = r.json()
    assert body["collection"] == DEFAULT_COLLECTION and body["format"] == "bibtex"
    assert [(p["id"], p["status"]) for p in body["papers"]] == [
        (slice_id, "matched"), ("doi:10.5555/library.1", "matched"), (slice_id, "matched"), ("d", "added")]
    assert body["matched"] == 2 and body["added"] == 1  # distinct papers
    assert body["skipped"] == [{"line": 4, "reason": "broken BibTeX", "detail": body["skipped"][0]["detail"]}]
    # The Zotero BibTeX export, with its @techreport arXiv items.
    zbib = shared(ZOTERO + "zotero_bibtex_export_mixed_arxiv_acl.bib").read_bytes()
    body = client.post("/api/me/import/library", params={"collection": "ACL"}, content=zbib,
                       headers=cyd.bearer).json()
    assert body["records"] == 50 and body["matched"] + body["added"] + len(body["skipped"]) >= 45


def test_api_import_refuses_bad_files_clearly(site, members) -> None:
    client, eve = site.client(), members["eve"]
    cases = [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x00\x01\x02binary" * 10, "not a BibTeX, CSL-JSON or RIS file"),
        (b'{"arxiv_id": "2503.00001", "listed": "2025-03-20"}\n', "not a BibTeX, CSL-JSON or RIS file (it looks like"),
        (b'[{"type": "article", "title": "x", "author": [{"family": "A"}]}', "cannot be read as csl-json"),
    ]
    for data, message in cases:
        r = client.post("/api/me/import/library", content=data, headers=eve.bearer)
        assert r.status_code == 400 and message in r.json()["error"]["message"], (data[:20], r.text)
    r = client.post("/api/me/import/library", params={"collection": "bad\x01"}, content=b"TY  - GEN\n", headers=eve.bearer)
    assert r.status_code == 400 and "collection" in r.json()["error"]["message"]
    too_big = b"TY  - GEN\r\nTI  - " + b"x" * (web_library.MAX_UPLOAD + 10)
    r = client.post("/api/me/import/library", content=too_big, headers=eve.bearer)
    assert r.status_code == 413 and "10 MB" in r.json()["error"]["message"]

    def chunks():
        yield b"TY  - GEN\r\nTI  - "
        for _ in range(11):
            yield b"x" * (1024 * 1024)

    r = client.post("/api/me/import/library", content=chunks(), headers=eve.bearer)  # no Content-Length
    assert r.status_code == 413
    assert site.store.collections(eve.user.id) == [] or all(
        c["name"] != "bad\x01" for c in site.store.collections(eve.user.id))


def test_the_openapi_document_describes_the_library(site) -> None:
    spec = site.client().get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [("/api/me/library", "get"), ("/api/me/library/{paper_id}", "put"),
                         ("/api/me/library/{paper_id}", "delete"), ("/api/me/export/library", "get"),
                         ("/api/me/import/library", "post"), ("/api/me/collections/{name}", "patch"),
                         ("/api/me/collections/{name}", "delete"), ("/api/me/hidden", "get"),
                         ("/api/me/hidden/{paper_id}", "put"), ("/api/me/hidden/{paper_id}", "delete")]:
        op = paths[path][method]
        assert op["security"] == [{"HTTPBearer": []}] and "401" in op["responses"], (method, path)
    put = paths["/api/me/library/{paper_id}"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/SaveRequest"}
    save = spec["components"]["schemas"]["SaveRequest"]
    assert save["additionalProperties"] is False and save["properties"]["collections"]["maxItems"] == 50
    exported = paths["/api/me/export/library"]["get"]["responses"]["200"]["content"]
    assert set(exported) == {"application/x-bibtex", "application/vnd.citationstyles.csl+json",
                             "application/x-research-info-systems"}
    for listing in ("/api/feed", "/api/search", "/api/trending", "/api/authors/{name}", "/api/categories/{category}"):
        names = [p["name"] for p in paths[listing]["get"]["parameters"]]
        assert "hidden" in names, listing


def test_schemathesis_signed_in_finds_no_failure_in_the_library_api(site, tmp_path) -> None:
    """test_openapi.py fuzzes every operation anonymously (the library's answer 401); here the library's
    operations are fuzzed with a member's token, so their bodies and parameters reach the real code."""
    fuzzer = add_member(site.store, "fuzzer@library.example")
    site.store.save_paper(fuzzer.user.id, some_papers(site, 1)[0], ["Theory"], "a note")
    code, report, _ = run_schemathesis(site.app, 60, headers=fuzzer.bearer, include={"tag": "library"},
                                       home=tmp_path)
    assert code == 0 and "No issues found" in report, report[-6000:]
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested[1]) == 10, report[-2000:]
