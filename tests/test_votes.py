"""Votes: one per user (or the owner) per paper, counted apart from Hugging Face's and together in
every list.

The store on every backend (counts, idempotence, the owner's vote, a deleted user's votes), then
the web on a copy of the real slice (``community``): the API with bearer tokens, the button's form
with the session cookie and its CSRF token, the pages, trending; then ``paperradar vote``.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from community_fixtures import (  # noqa: F401
    ORIGIN,
    Member,
    Site,
    add_member,
    browser,
    community,
    database_on,
    form_headers,
    opened,
)
from helpers import cli, cli_json
from web_fixtures import WEB_BACKENDS, Server

from paperradar.model import Paper
from paperradar.sources.common import finish
from paperradar.web import schemas

OLD_STYLE = "hep-th/9901001"  # an id with a "/", stored in the community copy by the fixture below


def record(pid: str, title: str, upvotes: int | None = None, source: str = "arxiv-listing", **fields: Any) -> Paper:
    draft = Paper(title=title, arxiv_id=pid, source=source, upvotes=upvotes,
                  upvotes_at="2025-03-20" if upvotes is not None else None, **fields)
    _, paper = finish(draft, 1)
    assert isinstance(paper, Paper)
    return paper


# -- the store ---------------------------------------------------------------------------------


def test_counts_keep_users_and_hugging_face_apart_and_the_total_in_papers(store) -> None:
    store.merge([record("2503.00001", "Alpha", 7, source="hf-daily"), record("2503.00002", "Beta")], "t")
    ann = store.add_user("ann@example.org")
    bob = store.add_user("bob@example.org")
    assert store.vote_counts("2503.00001") == {"users": 0, "huggingface": 7, "total": 7}
    assert store.add_user_vote("2503.00001", ann.id) == {"users": 1, "huggingface": 7, "total": 8}
    assert store.add_user_vote("2503.00001", ann.id) == {"users": 1, "huggingface": 7, "total": 8}  # one vote each
    assert store.add_user_vote("2503.00001v2", bob.id) == {"users": 2, "huggingface": 7, "total": 9}  # any spelling
    assert store.add_user_vote("2503.00001") == {"users": 3, "huggingface": 7, "total": 10}  # the owner
    assert store.add_user_vote("2503.00001") == {"users": 3, "huggingface": 7, "total": 10}
    paper = store.get("2503.00001")
    assert paper["upvotes"] == 10  # what lists, trending and HF's `upvotes` read
    assert {s["site"]: s["count"] for s in paper["upvote_sources"]} == {"huggingface": 7, "local": 3}
    assert store.has_vote("2503.00001", ann.id) and store.has_vote("2503.00001") and not store.has_vote("2503.00002")
    assert store.voted_ids(ann.id) == {"2503.00001"} and store.voted_ids(bob.id) == {"2503.00001"}

    assert store.remove_user_vote("2503.00001", ann.id) == {"users": 2, "huggingface": 7, "total": 9}
    assert store.remove_user_vote("2503.00001", ann.id) == {"users": 2, "huggingface": 7, "total": 9}  # idempotent
    assert store.remove_user_vote("2503.00001") == {"users": 1, "huggingface": 7, "total": 8}  # only the owner's
    assert store.has_vote("2503.00001", bob.id) and not store.has_vote("2503.00001")
    assert store.remove_user_vote("2503.00002", bob.id) == {"users": 0, "huggingface": 0, "total": 0}
    assert store.get("2503.00002")["upvote_sources"] == []  # no vote: no local row, not a row of 0


def test_votes_survive_a_new_hugging_face_count(store) -> None:
    store.merge([record("2503.00001", "Alpha", 7, source="hf-daily")], "t")
    store.add_user_vote("2503.00001")
    fresher = record("2503.00001", "Alpha", 12, source="hf-daily")
    fresher.upvotes_at = "2025-03-21"
    store.merge([fresher], "t2")
    assert store.vote_counts("2503.00001") == {"users": 1, "huggingface": 12, "total": 13}
    assert store.get("2503.00001")["upvotes"] == 13


def test_unknown_paper_or_user_is_a_key_error_and_writes_nothing(store) -> None:
    store.merge([record("2503.00001", "Alpha")], "t")
    with pytest.raises(KeyError):
        store.add_user_vote("2503.99999")
    with pytest.raises(KeyError):
        store.add_user_vote("2503.00001", 12345)
    with pytest.raises(KeyError):
        store.remove_user_vote("2503.99999")
    with pytest.raises(KeyError):
        store.vote_counts("nonsense")
    assert store.vote_counts("2503.00001") == {"users": 0, "huggingface": 0, "total": 0}


def test_a_deleted_users_votes_go_and_the_counts_follow(store) -> None:
    store.merge([record("2503.00001", "Alpha", 4, source="hf-daily"), record("2503.00002", "Beta")], "t")
    ann = store.add_user("ann@example.org")
    bob = store.add_user("bob@example.org")
    for user in (ann, bob):
        store.add_user_vote("2503.00001", user.id)
    store.add_user_vote("2503.00002", ann.id)
    assert store.delete_user("ann@example.org")
    assert store.vote_counts("2503.00001") == {"users": 1, "huggingface": 4, "total": 5}
    assert store.get("2503.00001")["upvotes"] == 5
    assert store.get("2503.00002")["upvotes"] == 0 and store.get("2503.00002")["upvote_sources"] == []
    assert store.voted_ids(ann.id) == set() and store.voted_ids(bob.id) == {"2503.00001"}


def test_a_users_export_lists_their_votes(store) -> None:
    store.merge([record("2503.00001", "Alpha", 4, source="hf-daily"), record("2503.00002", "Beta")], "t")
    ann = store.add_user("ann@example.org")
    bob = store.add_user("bob@example.org")
    store.add_user_vote("2503.00002v1", ann.id)
    store.add_user_vote("2503.00001", ann.id)
    store.add_user_vote("2503.00001", bob.id)
    store.add_user_vote("2503.00001")  # the owner's: in nobody's export
    votes = store.user_data("ann@example.org")["votes"]
    assert sorted(v["paper"] for v in votes) == ["2503.00001", "2503.00002"]
    assert all(set(v) == {"paper", "created_at"} and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", v["created_at"])
               for v in votes)
    assert [v["paper"] for v in store.user_data("bob@example.org")["votes"]] == ["2503.00001"]
    store.remove_user_vote("2503.00002", ann.id)
    assert [v["paper"] for v in store.user_data("ann@example.org")["votes"]] == ["2503.00001"]


def test_local_counts_from_before_accounts_become_the_owners_vote(tmp_path) -> None:
    """Migration 7 on a database of migration 6 that has `paperradar vote` counts (site 'local').
    SQLite only: PostgreSQL support came after migration 7, so no PostgreSQL database of version 6 exists."""
    import sqlite3

    from paperradar.store import SQLiteStore
    from paperradar.store.migrations import MIGRATIONS, _statements

    path = tmp_path / "v6.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:6]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 6")
    for rowid, pid, local in ((1, "2503.00001", 3), (2, "2503.00002", 0), (3, "2503.00003", None)):
        conn.execute("INSERT INTO papers (rowid, id, title, title_key, upvotes, created_at, changed_at)"
                     " VALUES (?, ?, 'T', ?, ?, 'x', 'x')", (rowid, pid, pid, 5 + (local or 0)))
        conn.execute("INSERT INTO upvotes VALUES (?, 'huggingface', 5, '2025-03-20')", (rowid,))
        if local is not None:
            conn.execute("INSERT INTO upvotes VALUES (?, 'local', ?, '2025-03-21')", (rowid, local))
    conn.close()
    store = SQLiteStore(path)
    try:
        assert store.vote_counts("2503.00001") == {"users": 1, "huggingface": 5, "total": 6}
        assert store.has_vote("2503.00001") and store.get("2503.00001")["upvotes"] == 6
        assert store.vote_counts("2503.00002") == {"users": 0, "huggingface": 5, "total": 5}
        assert store.get("2503.00002")["upvotes"] == 5 and len(store.get("2503.00002")["upvote_sources"]) == 1
        # From here on the triggers count: the owner's vote is one, a user's adds one.
        assert store.add_user_vote("2503.00001")["total"] == 6
        user = store.add_user("ann@example.org")
        assert store.add_user_vote("2503.00003", user.id) == {"users": 1, "huggingface": 5, "total": 6}
        assert store.get("2503.00003")["upvotes"] == 6
    finally:
        store.close()


# -- the web ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(community: Site) -> Site:  # noqa: F811
    """The community copy, with an old-style paper (its id has a "/")."""
    community.store.merge([record(OLD_STYLE, "Old <b>style</b> paper", published="2025-03-20")], "tests")
    return community


@pytest.fixture(scope="module")
def members(site: Site) -> dict[str, Member]:
    return {name: add_member(site.store, f"{name}@example.org", name=name.title() if name != "bob" else None)
            for name in ("ann", "bob", "cyd", "dee")}


def votes_of(client, paper_id: str, **headers: str) -> dict[str, Any]:
    r = client.get(f"/api/papers/{paper_id}/votes", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_api_vote_and_take_it_back_with_a_token(site, members) -> None:
    client, ann, bob = site.client(), members["ann"], members["bob"]
    pid = "2503.15485"  # TULIP, with Hugging Face upvotes
    hf = site.store.vote_counts(pid)["huggingface"]
    assert hf > 0
    assert votes_of(client, pid) == {"users": 0, "huggingface": hf, "total": hf, "you": False}
    assert votes_of(client, pid, **ann.bearer)["you"] is False

    r = client.post(f"/api/papers/{pid}/votes", headers=ann.bearer)
    assert r.status_code == 200 and r.json() == {"users": 1, "huggingface": hf, "total": hf + 1, "you": True}
    again = client.post(f"/api/papers/{pid}/votes", headers=ann.bearer)
    assert again.json() == r.json()  # one vote per user
    assert client.post(f"/api/papers/{pid}v1/votes", headers=bob.bearer).json() == {
        "users": 2, "huggingface": hf, "total": hf + 2, "you": True}
    assert votes_of(client, pid, **ann.bearer)["you"] is True
    assert votes_of(client, pid) == {"users": 2, "huggingface": hf, "total": hf + 2, "you": False}
    assert site.store.get(pid)["upvotes"] == hf + 2  # the total every list reads
    assert client.get(f"/api/papers/{pid}").json()["upvotes"] == hf + 2  # Hugging Face's shape: the total

    gone = client.delete(f"/api/papers/{pid}/votes", headers=ann.bearer)
    assert gone.status_code == 200 and gone.json() == {"users": 1, "huggingface": hf, "total": hf + 1, "you": False}
    assert client.delete(f"/api/papers/{pid}/votes", headers=ann.bearer).json()["users"] == 1
    assert client.delete(f"/api/papers/{pid}/votes", headers=bob.bearer).json()["total"] == hf


def test_hugging_face_search_says_whether_you_upvoted(site) -> None:
    eve, fay = (add_member(site.store, f"{name}@search.example") for name in ("eve", "fay"))
    client, pid = site.client(), "2503.15485"
    title = site.store.get(pid)["title"]

    def upvoted(client=client, **headers: str) -> dict[str, bool]:
        r = client.get("/api/papers/search", params={"q": title, "limit": 20}, headers=headers)
        assert r.status_code == 200, r.text
        for entry in r.json():
            schemas.HfSearchEntry.model_validate(entry)
        return {e["paper"]["id"]: e["upvoted"] for e in r.json()}

    assert upvoted(**eve.bearer)[pid] is False
    assert client.post(f"/api/papers/{pid}/votes", headers=eve.bearer).status_code == 200
    mine = upvoted(**eve.bearer)
    assert mine[pid] is True and len(mine) > 1
    assert all(flag == (paper in site.store.voted_ids(eve.user.id)) for paper, flag in mine.items())
    assert not any(upvoted().values())  # anonymous: false, as on Hugging Face
    assert upvoted(**fay.bearer)[pid] is False  # someone else's vote is not yours
    assert upvoted(Authorization="Bearer prt_not-a-token")[pid] is False
    signed_in, _ = browser(site, eve)  # the session cookie counts as well
    assert upvoted(signed_in)[pid] is True
    # The account's data export lists the vote.
    exported = client.get("/api/me/export", headers=eve.bearer).json()
    assert [v["paper"] for v in exported["votes"]] == [pid] and exported["votes"][0]["created_at"]
    assert client.delete(f"/api/papers/{pid}/votes", headers=eve.bearer).status_code == 200
    assert upvoted(**eve.bearer)[pid] is False
    assert client.get("/api/me/export", headers=eve.bearer).json()["votes"] == []


def test_an_id_with_a_slash_and_an_unknown_paper(site, members) -> None:
    client, ann = site.client(), members["ann"]
    r = client.post(f"/api/papers/{OLD_STYLE}/votes", headers=ann.bearer)
    assert r.status_code == 200 and r.json()["users"] == 1
    assert OLD_STYLE in site.store.voted_ids(ann.user.id)
    assert client.delete(f"/api/papers/{OLD_STYLE}/votes", headers=ann.bearer).json()["users"] == 0
    for method in ("GET", "POST", "DELETE"):
        r = client.request(method, "/api/papers/2599.99999/votes", headers=ann.bearer)
        assert r.status_code == 404 and "2599.99999" in r.json()["error"]["message"], method


def test_api_without_or_with_bad_credentials_is_401_and_changes_nothing(site, members) -> None:
    client, pid = site.client(), "2503.15485"
    before = site.store.vote_counts(pid)
    for method in ("POST", "DELETE"):
        r = client.request(method, f"/api/papers/{pid}/votes")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer"), method
        r = client.request(method, f"/api/papers/{pid}/votes", headers={"Authorization": "Bearer prt_not-a-token"})
        assert r.status_code == 401 and "not valid" in r.json()["error"]["message"], method
    bad = client.get(f"/api/papers/{pid}/votes", headers={"Authorization": "Bearer prt_not-a-token"})
    assert bad.status_code == 401  # not an anonymous "you": false that would mislead the script
    assert site.store.vote_counts(pid) == before


def test_a_disabled_users_token_stops_voting(site) -> None:
    eve = add_member(site.store, "eve@example.org")
    client = site.client()
    assert client.post("/api/papers/2503.15485/votes", headers=eve.bearer).status_code == 200
    site.store.disable_user("eve@example.org")
    assert client.delete("/api/papers/2503.15485/votes", headers=eve.bearer).status_code == 401
    site.store.delete_user("eve@example.org")
    assert site.store.vote_counts("2503.15485")["users"] == 0  # her vote went with her account


def vote_form(p: str, page: str) -> re.Match[str] | None:
    """The vote form of paper ``p`` on a page: (action, api, vote, pressed, count)."""
    return re.search(
        rf'<form class="vote" action="(/papers/{re.escape(p)}/vote)" method="post" data-api="(/api/papers/{re.escape(p)}/votes)">'
        r'\s*<input type="hidden" name="csrf_token" value="[^"]+">'
        r'\s*<input type="hidden" name="vote" value="(up|down)">'
        r'\s*<button type="submit" class="vote-button" aria-pressed="(true|false)"[^>]*>▲ <span class="vote-count">(\d+)</span>',
        page)


def test_the_button_form_with_the_session_cookie(site, members) -> None:
    client, csrf = browser(site, members["cyd"])
    pid = "2503.99901"  # the hostile paper: nothing of it is unescaped around the button
    page = client.get(f"/papers/{pid}").text
    form = vote_form(pid, page)
    assert form and form[3] == "up" and form[4] == "false"
    count = int(form[5])

    refused = client.post(f"/papers/{pid}/vote", data={"vote": "up"}, headers=form_headers())
    assert refused.status_code == 403  # no CSRF token
    foreign = client.post(f"/papers/{pid}/vote", data={"vote": "up", "csrf_token": csrf},
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert site.store.vote_counts(pid)["users"] == 0

    r = client.post(f"/papers/{pid}/vote", data={"vote": "up", "csrf_token": csrf, "next": "/?date=2025-03-19"},
                    headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == f"/?date=2025-03-19#p-{pid}"
    page = client.get(f"/papers/{pid}").text
    form = vote_form(pid, page)
    assert form and form[3] == "down" and form[4] == "true" and int(form[5]) == count + 1
    assert '<span class="vote-users">1</span> on this site' in page

    # Without next: back to the page the form was on (same site only), else the paper's page.
    r = client.post(f"/papers/{pid}/vote", data={"vote": "down", "csrf_token": csrf},
                    headers={"Origin": ORIGIN, "Referer": f"{ORIGIN}/search?q=price"})
    assert r.status_code == 303 and r.headers["location"] == f"/search?q=price#p-{pid}"
    r = client.post(f"/papers/{pid}/vote", data={"vote": "up", "csrf_token": csrf, "next": "//evil.example/x"},
                    headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == f"/papers/{pid}"
    r = client.post(f"/papers/{pid}/vote", data={"vote": "sideways", "csrf_token": csrf}, headers=form_headers())
    assert r.status_code == 400 and "vote must be up or down" in r.text
    assert client.post(f"/papers/{pid}/vote", data={"vote": "down", "csrf_token": csrf},
                       headers=form_headers()).status_code == 303
    assert site.store.vote_counts(pid)["users"] == 0


def test_the_script_way_with_the_session_cookie(site, members) -> None:
    """What app.js sends: POST/DELETE to the API with the X-CSRF-Token header from the form."""
    client, csrf = browser(site, members["dee"])
    pid = "2503.15485"
    assert client.post(f"/api/papers/{pid}/votes", headers={"Origin": ORIGIN}).status_code == 403  # no token
    assert client.post(f"/api/papers/{pid}/votes",
                       headers={"Origin": "https://evil.example", "X-CSRF-Token": csrf}).status_code == 403
    r = client.post(f"/api/papers/{pid}/votes", headers=form_headers(csrf))
    assert r.status_code == 200 and r.json()["you"] is True
    assert votes_of(client, pid)["you"] is True  # the cookie says who "you" is
    r = client.delete(f"/api/papers/{pid}/votes", headers=form_headers(csrf))
    assert r.status_code == 200 and r.json()["you"] is False


def test_anonymous_pages_show_the_count_and_a_sign_in_link(site) -> None:
    client = site.client()
    pid = "2503.15485"
    page = client.get(f"/papers/{pid}").text
    counts = site.store.vote_counts(pid)
    assert 'class="vote"' not in page  # no form for a visitor
    assert f'<span class="votes">▲ {counts["total"]}</span>' in page
    assert f'{counts["users"]}</span> on this site, {counts["huggingface"]} on Hugging Face' in page
    assert '<a href="/login?next=%2Fpapers%2F2503.15485">sign in to vote</a>' in page
    feed = client.get("/?date=2025-03-20").text
    assert 'class="vote"' not in feed and '<span class="votes" title="upvotes">▲' in feed


def test_every_card_has_the_button_and_shows_your_votes(site, members) -> None:
    client, _ = browser(site, members["ann"])
    feed = client.get("/?date=2025-03-20")
    assert feed.status_code == 200 and '<script src="/static/app.js" defer></script>' in feed.text
    ids = re.findall(r'<li class="paper" id="p-([^"]+)">', feed.text)
    assert ids
    for pid in ids:
        assert vote_form(pid, feed.text), pid
    site.store.add_user_vote(ids[1], members["ann"].user.id)
    try:
        again = client.get("/?date=2025-03-20").text
        mine = vote_form(ids[1], again)
        assert mine and mine[4] == "true"
        assert all(vote_form(pid, again)[4] == "false" for pid in ids if pid != ids[1])  # type: ignore[index]
        other, _ = browser(site, members["bob"])
        assert vote_form(ids[1], other.get("/?date=2025-03-20").text)[4] == "false"  # type: ignore[index]
    finally:
        site.store.remove_user_vote(ids[1], members["ann"].user.id)


def test_a_local_vote_moves_a_paper_up_in_trending(site, members) -> None:
    client = site.client()
    date = "2025-03-25"
    ranked = client.get(f"/api/trending?date={date}").json()["papers"]
    # Two papers first listed the same day, the lower one within a few votes of the upper.
    pairs = [(a, b) for a, b in itertools.pairwise(ranked)
             if a["date"] == b["date"] and 0 <= a["upvotes"] - b["upvotes"] < len(members)]
    assert pairs, "no neighbours close enough in the slice's trending list"
    upper, lower = pairs[0]
    voters = list(members.values())[: upper["upvotes"] - lower["upvotes"] + 1]
    try:
        for member in voters:
            assert client.post(f"/api/papers/{lower['id']}/votes", headers=member.bearer).status_code == 200
        after = [p["id"] for p in client.get(f"/api/trending?date={date}").json()["papers"]]
        assert after.index(lower["id"]) < after.index(upper["id"])
        page = client.get(f"/trending?date={date}").text
        assert page.index(f'id="p-{lower["id"]}"') < page.index(f'id="p-{upper["id"]}"')
    finally:
        for member in voters:
            client.delete(f"/api/papers/{lower['id']}/votes", headers=member.bearer)
    restored = [p["id"] for p in client.get(f"/api/trending?date={date}").json()["papers"]]
    assert restored.index(upper["id"]) < restored.index(lower["id"])


def trending_ids(client, date: str) -> list[str]:
    """Every paper of the trending list (all its pages), best first."""
    first = client.get(f"/api/trending?date={date}").json()
    ids = [p["id"] for p in first["papers"]]
    for page in range(2, first["pages"] + 1):
        ids += [p["id"] for p in client.get(f"/api/trending?date={date}&page={page}").json()["papers"]]
    assert len(ids) == first["total"]
    return ids


def test_a_paper_without_upvotes_enters_trending_with_one_vote(site, members) -> None:
    client, ann = site.client(), members["ann"]
    date = "2025-03-25"
    listed = trending_ids(client, date)
    day = client.get("/api/feed?date=2025-03-24&list=all").json()["papers"]
    pid = next(p["id"] for p in day if p["upvotes"] == 0)
    assert pid not in listed  # trending counts only papers with upvotes
    client.post(f"/api/papers/{pid}/votes", headers=ann.bearer)
    try:
        after = trending_ids(client, date)
        assert pid in after and len(after) == len(listed) + 1
    finally:
        client.delete(f"/api/papers/{pid}/votes", headers=ann.bearer)
    assert trending_ids(client, date) == listed


# -- paperradar vote ------------------------------------------------------------------------------


def test_cli_vote_as_the_owner_and_as_a_user(capsys, site, members) -> None:
    db, pid = site.path, "2503.99902"
    assert cli_json(capsys, "--db", db, "vote", pid) == {"id": pid, "upvotes": 1, "users": 1, "huggingface": 0,
                                                         "voted": True}
    assert cli_json(capsys, "--db", db, "vote", pid, "--user", "ANN@example.org") == {
        "id": pid, "upvotes": 2, "users": 2, "huggingface": 0, "voted": True}
    assert cli_json(capsys, "--db", db, "vote", pid, "--user", "ann@example.org")["users"] == 2  # once each
    assert site.store.has_vote(pid) and site.store.has_vote(pid, members["ann"].user.id)
    # The site sees the CLI's vote as the account's own.
    assert votes_of(site.client(), pid, **members["ann"].bearer) == {"users": 2, "huggingface": 0, "total": 2,
                                                                    "you": True}
    code, out, _ = cli(capsys, "--db", db, "vote", pid, "--down")
    assert code == 0 and out.strip() == f"{pid}: 1 upvotes (1 on this site, 0 on Hugging Face)"
    assert not site.store.has_vote(pid) and site.store.has_vote(pid, members["ann"].user.id)  # only the owner's
    assert cli_json(capsys, "--db", db, "vote", pid, "--down", "--user", "ann@example.org")["upvotes"] == 0


def test_cli_vote_for_an_unknown_user_or_paper_exits_1(capsys, site) -> None:
    code, out, err = cli(capsys, "--db", site.path, "vote", "2503.99902", "--user", "nobody@example.org")
    assert code == 1 and out == ""
    assert err.strip() == "paperradar: no user with email 'nobody@example.org' (see `paperradar users list`)"
    code, _, err = cli(capsys, "--db", site.path, "vote", "2599.99999", "--user", "ann@example.org")
    assert code == 1 and err.strip() == "paperradar: no paper with id '2599.99999'"
    add_member(site.store, "gone@example.org")
    site.store.disable_user("gone@example.org")
    code, _, err = cli(capsys, "--db", site.path, "vote", "2503.99902", "--user", "gone@example.org")
    assert code == 1 and "disabled" in err
    assert site.store.vote_counts("2503.99902")["users"] == 0


# -- in a real browser --------------------------------------------------------------------------


@pytest.mark.parametrize("backend", WEB_BACKENDS)
def test_the_button_votes_without_a_reload_in_chromium(web_db, tmp_path, request, backend) -> None:
    """Debian's Chromium (see test_web_e2e.py) against `paperradar serve`: sign in on /login, press ▲
    on a card of the daily list: the count and the button change, the page is not reloaded, the
    vote is stored; pressed again, taken back. Then the same with JavaScript off: the form reloads."""
    import os

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{chromium} missing: apt-get install chromium")
        pytest.skip(f"{chromium} missing")
    with database_on(request, web_db, tmp_path / "site", backend) as path:
        with opened(path) as store:
            ann = add_member(store, "ann@example.org", name="Ann")
        _vote_in_chromium(chromium, Server(path), path, ann)


def _vote_in_chromium(chromium: Path, server: Server, path: Path | str, ann: Member) -> None:
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser_ = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
            for script in (True, False):
                context = browser_.new_context(java_script_enabled=script)
                page = context.new_page()
                problems: list[str] = []
                page.on("console", lambda m, seen=problems: m.type == "error" and seen.append(m.text))  # CSP too
                page.goto(f"{server.base}/login")
                page.fill("input[name=email]", ann.email)
                page.fill("input[name=password]", ann.password)
                page.click("form[action=\"/login\"] button[type=submit]")
                page.wait_for_url(f"{server.base}/")
                page.goto(f"{server.base}/?date=2025-03-20")
                card = page.locator("li.paper").nth(2 if script else 3)
                pid = (card.get_attribute("id") or "")[2:]
                button = card.locator("form.vote button")
                before = int(button.locator(".vote-count").inner_text())
                assert button.get_attribute("aria-pressed") == "false"
                if script:
                    page.evaluate("window.notReloaded = true")
                button.click()
                page.wait_for_function(
                    "([id, n]) => document.getElementById('p-' + id).querySelector('.vote-count').textContent == n",
                    arg=[pid, str(before + 1)])
                card = page.locator(f"li.paper[id='p-{pid}']")
                assert card.locator("form.vote button").get_attribute("aria-pressed") == "true"
                assert page.evaluate("window.notReloaded === true") is script  # with JS: the same page
                with opened(path) as check:
                    assert check.has_vote(pid, ann.user.id)
                card.locator("form.vote button").click()
                page.wait_for_function(
                    "([id, n]) => document.getElementById('p-' + id).querySelector('.vote-count').textContent == n",
                    arg=[pid, str(before)])
                assert page.locator(f"li.paper[id='p-{pid}'] form.vote button").get_attribute("aria-pressed") == "false"
                assert not problems, problems
                context.close()
            browser_.close()
    finally:
        assert server.stop() == 0, server.output()
