"""Submit to Daily Papers: by arXiv id or URL, on the form /submit and with POST /api/daily_papers.

On a copy of the real slice (``community``): papers it stores are submitted, a paper it lacks is
refused with the reason while live sources are off; then a fresh site with live sources aimed at
the local arXiv stand-in (``tests/sync_server.py``), which fetches what it lacks.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from community_fixtures import ORIGIN, Member, Site, add_member, browser, community, form_headers  # noqa: F401
from fastapi.testclient import TestClient
from helpers import cli_json
from pydantic import TypeAdapter
from sync_server import FixtureServer, services, write_config  # noqa: F401  (fixtures used by name)

from paperradar.app import Radar
from paperradar.config import Settings
from paperradar.sync.config import load_config
from paperradar.web import create_app, schemas

ENTRY = TypeAdapter(schemas.HfDailyEntry)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture(scope="module")
def members(community: Site) -> dict[str, Member]:  # noqa: F811
    return {"ann": add_member(community.store, "ann@example.org", name="Ann <Lab>"),
            "bob": add_member(community.store, "bob.smith@example.org")}  # no name: shown as "bob.smith"


@pytest.fixture(scope="module")
def papers(community: Site) -> list[str]:  # noqa: F811
    """Stored arXiv papers no list featured: one for each test that submits."""
    rows, _ = community.store.feed("2025-03-24", "2025-03-24", None, 50, 0)
    featured = community.store.featured_of([r["rowid"] for r in rows])
    ids = [r["id"] for r in rows if r["rowid"] not in featured]
    assert len(ids) >= 6
    return ids


def submit(client: TestClient, body: object, **headers: str):
    return client.post("/api/daily_papers", json=body, headers=headers)


def test_submit_by_api_lists_it_today_with_the_submitters_name(community, members, papers) -> None:  # noqa: F811
    client, ann = community.client(), members["ann"]
    pid = papers[0]  # a stored arXiv paper Hugging Face did not feature
    r = submit(client, {"paper": pid}, **ann.bearer)
    assert r.status_code == 201, r.text
    entry = r.json()
    ENTRY.validate_python(entry)  # the shape GET /api/daily_papers lists
    assert entry["paper"]["id"] == pid and entry["submittedBy"] == {"name": "Ann <Lab>"}
    assert entry["paper"]["submittedOnDailyBy"] == {"user": "Ann <Lab>"}
    assert entry["paper"]["submittedOnDailyAt"].startswith(today())
    listed = client.get(f"/api/daily_papers?date={today()}").json()
    assert [e["paper"]["id"] for e in listed] == [pid] and listed[0]["submittedBy"] == {"name": "Ann <Lab>"}
    assert client.get(f"/api/papers/{pid}").json()["submittedOnDailyBy"] == {"user": "Ann <Lab>"}
    featured = community.store.get(pid)["featured"]
    assert [(f["day"], f["source"], f["submitted_by"]) for f in featured] == [(today(), "local", str(ann.user.id))]

    # The day's list on the site: the card says who submitted it, escaped; never the email.
    page = client.get(f"/?date={today()}").text
    assert f'id="p-{pid}"' in page and '<span class="submitted">Submitted by Ann &lt;Lab&gt;</span>' in page
    paper = client.get(f"/papers/{pid}").text
    assert f'<a href="/?date={today()}">{today()}</a>, submitted by Ann &lt;Lab&gt;' in paper
    assert "Ann <Lab>" not in page and "Ann <Lab>" not in paper
    for text in (page, paper, str(listed), client.get(f"/api/papers/{pid}").text):
        assert "ann@example.org" not in text


def test_one_submission_per_paper_and_day(community, members, papers) -> None:  # noqa: F811
    client = community.client()
    pid = papers[1]
    assert submit(client, {"paper": pid}, **members["ann"].bearer).status_code == 201
    for spelling in (pid, f"{pid}v2", f"https://arxiv.org/abs/{pid}v1", f"https://arxiv.org/pdf/{pid}",
                     f"https://huggingface.co/papers/{pid}"):
        r = submit(client, {"paper": spelling}, **members["bob"].bearer)
        assert r.status_code == 409, spelling
        assert "already on today's list" in r.json()["error"]["message"] and "Ann <Lab>" in r.json()["error"]["message"]
    assert [f["submitted_by"] for f in community.store.get(pid)["featured"]] == [str(members["ann"].user.id)]


def test_a_paper_hugging_face_featured_today_is_not_submitted_again(community, members) -> None:  # noqa: F811
    pid = "2503.15485"
    community.store.add_featured(pid, today(), "huggingface", submitted_by="akhaliq")
    r = submit(community.client(), {"paper": pid}, **members["bob"].bearer)
    assert r.status_code == 409 and "akhaliq on Hugging Face" in r.json()["error"]["message"]


def test_arxiv_id_as_hugging_face_names_it(community, members, papers) -> None:  # noqa: F811
    r = submit(community.client(), {"arxivId": f"arXiv:{papers[2]}v1"}, **members["bob"].bearer)
    assert r.status_code == 201, r.text
    assert r.json()["paper"]["id"] == papers[2] and r.json()["submittedBy"] == {"name": "bob.smith"}


@pytest.mark.parametrize(("body", "named"), [
    ({}, "paper is required"),
    ({"paper": "not an id"}, "paper must be an arXiv id"),
    ({"paper": "   "}, "paper is required"),
    ({"arxivId": "12345"}, "arxivId must be an arXiv id"),
    ({"paper": "https://evil.example/abs/2503.17363"}, "paper must be an arXiv id"),
    ({"paper": "2503.17363\u0000"}, "paper contains control characters"),
    ({"paper": "x" * 301}, "paper"),
    ({"paper": 2503.17363}, "paper"),
    ({"paper": "2503.17363", "extra": 1}, "extra"),
    ([], "body"),
])
def test_bad_input_is_a_400_naming_the_field(community, members, body, named) -> None:  # noqa: F811
    r = submit(community.client(), body, **members["bob"].bearer)
    assert r.status_code == 400, (body, r.text)
    assert named in r.json()["error"]["message"]


def test_unknown_paper_with_live_sources_off_says_why(community, members) -> None:  # noqa: F811
    r = submit(community.client(), {"paper": "1605.08386"}, **members["bob"].bearer)
    assert r.status_code == 409
    message = r.json()["error"]["message"]
    assert "1605.08386 is not stored on this site" in message and "live sources are off" in message
    assert "paperradar serve --sync" in message
    assert community.store.get("1605.08386") is None


def test_credentials_and_csrf(community, members, papers) -> None:  # noqa: F811
    client, pid = community.client(), papers[3]
    assert submit(client, {"paper": pid}).status_code == 401
    assert submit(client, {"paper": pid}, Authorization="Bearer prt_nope").status_code == 401
    browser_client, csrf = browser(community, members["bob"])
    assert submit(browser_client, {"paper": pid}, Origin=ORIGIN).status_code == 403  # no CSRF token
    assert submit(browser_client, {"paper": pid}, Origin="https://evil.example",
                  **{"X-CSRF-Token": csrf}).status_code == 403
    assert community.store.get(pid)["featured"] == []
    r = submit(browser_client, {"paper": pid}, **form_headers(csrf))
    assert r.status_code == 201 and r.json()["submittedBy"] == {"name": "bob.smith"}


def test_the_submit_form(community, members, papers) -> None:  # noqa: F811
    pid = papers[4]
    anonymous = community.client().get("/submit")
    assert anonymous.status_code == 200 and '<a href="/login?next=/submit">Sign in</a>' in anonymous.text
    assert 'name="paper"' not in anonymous.text
    client, csrf = browser(community, members["bob"])
    page = client.get(f"/submit?paper={pid}")
    assert page.status_code == 200 and f'value="{pid}"' in page.text and 'name="csrf_token"' in page.text
    assert "live sources are off" in page.text

    assert client.post("/submit", data={"paper": pid}, headers=form_headers()).status_code == 403
    r = client.post("/submit", data={"paper": f"https://arxiv.org/abs/{pid}v2", "csrf_token": csrf},
                    headers=form_headers())
    assert r.status_code == 303 and r.headers["location"] == f"/?date={today()}#p-{pid}"
    day = client.get(r.headers["location"]).text
    assert '<span class="submitted">Submitted by bob.smith</span>' in day
    assert "bob.smith@example.org" not in community.client().get(r.headers["location"]).text

    again = client.post("/submit", data={"paper": pid, "csrf_token": csrf}, headers=form_headers())
    assert again.status_code == 409 and "already on today&#39;s list" in again.text and 'name="paper"' in again.text
    bad = client.post("/submit", data={"paper": "<script>alert(1)</script>", "csrf_token": csrf},
                      headers=form_headers())
    assert bad.status_code == 400 and "paper must be an arXiv id" in bad.text
    assert "<script>alert(1)</script>" not in bad.text and 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in bad.text
    missing = client.post("/submit", data={"csrf_token": csrf}, headers=form_headers())
    assert missing.status_code == 400 and "paper is required" in missing.text


def test_hugging_face_submitters_are_named_as_such(community) -> None:  # noqa: F811
    page = community.client().get("/?date=2025-03-20").text
    names = re.findall(r'<span class="submitted">Submitted by ([^<]+)</span>', page)
    assert names and all(name.endswith(" on Hugging Face") for name in names)


def test_members_are_named_not_numbered_and_found_by_name(community, members, papers, capsys) -> None:  # noqa: F811
    client, ann, bob = community.client(), members["ann"], members["bob"]
    pid, hf_pid = papers[5], "2503.15485"
    assert submit(client, {"paper": pid}, **bob.bearer).status_code == 201
    community.store.add_featured(hf_pid, today(), "huggingface", submitted_by="bob.smith")  # HF's user of that name

    # /api/feed and /api/paper/{id}: the display name, as the pages and HF's shapes say it.
    feed = client.get("/api/feed", params={"date": today(), "list": "featured"}).json()
    schemas.Feed.model_validate(feed)
    featured = {p["id"]: p["featured"] for p in feed["papers"]}
    assert featured[pid]["source"] == "local" and featured[pid]["submitted_by"] == "bob.smith"
    paper = client.get(f"/api/paper/{pid}").json()
    schemas.FullPaper.model_validate(paper)
    assert [(f["source"], f["submitted_by"]) for f in paper["featured"]] == [("local", "bob.smith")]
    local = [f for f in featured.values() if f["source"] == "local"]
    assert local and not any(f["submitted_by"].isdigit() for f in local)  # never a user id
    assert "@example.org" not in str(feed) + str(paper)
    assert str(bob.user.id) == community.store.get(pid)["featured"][0]["submitted_by"]  # (stored by id)
    # The command line names members the same way.
    (row,) = [r for r in cli_json(capsys, "--db", community.path, "feed", "--date", today(), "--featured")
              if r["id"] == pid]
    assert row["featured"]["submitted_by"] == "bob.smith"
    shown = cli_json(capsys, "--db", community.path, "show", pid)
    assert [f["submitted_by"] for f in shown["featured"]] == ["bob.smith"]

    # ?submitter=NAME: Hugging Face's user of that name and the members shown as it; never an id or email.
    def submitted_by(name: str) -> set[str]:
        r = client.get("/api/daily_papers", params={"date": today(), "submitter": name})
        assert r.status_code == 200, r.text
        return {e["paper"]["id"] for e in r.json()}

    def local_by(member: Member) -> set[str]:  # what the store says the member submitted today
        rows = community.store.featured_papers(today(), today(), limit=1000)[0]
        return {r["id"] for r, f in rows if f.source == "local" and f.submitted_by == str(member.user.id)}

    assert pid in local_by(bob) and hf_pid not in local_by(bob)
    assert submitted_by("bob.smith") == local_by(bob) | {hf_pid}
    assert submitted_by("Ann <Lab>") == local_by(ann) and not local_by(ann) & local_by(bob)
    assert submitted_by(str(bob.user.id)) == set() and submitted_by(bob.email) == set()
    community.store.set_user_name(bob.user.id, "Robert")  # a new name: shown and matched at once
    try:
        assert submitted_by("Robert") == local_by(bob) and submitted_by("bob.smith") == {hf_pid}
        assert client.get(f"/api/paper/{pid}").json()["featured"][0]["submitted_by"] == "Robert"
    finally:
        community.store.set_user_name(bob.user.id, None)


def test_the_store_matches_a_submitter_by_display_name(store) -> None:
    from paperradar.model import Paper

    store.merge([Paper(title=f"P{i}", arxiv_id=f"2506.0000{i}", id=f"2506.0000{i}", source="t") for i in (1, 2, 3)],
                "t")
    ada = store.add_user("ada@example.org", name="  Ada L  ")
    ada2 = store.add_user("ada.l@example.org", name="Ada L")  # two members shown alike: both match
    anon = store.add_user("x.y@example.org")
    store.add_featured("2506.00001", "2025-06-16", submitted_by=str(ada.id))
    store.add_featured("2506.00002", "2025-06-16", submitted_by=str(ada2.id))
    store.add_featured("2506.00003", "2025-06-16", submitted_by=str(anon.id))

    def ids(name: str) -> list[str]:
        return sorted(r["id"] for r, _ in store.featured_papers("2025-06-16", "2025-06-16", submitter=name)[0])

    assert ids("Ada L") == ["2506.00001", "2506.00002"] and ids("x.y") == ["2506.00003"]
    assert ids(str(anon.id)) == [] and ids("x.y@example.org") == [] and ids("  Ada L  ") == []
    assert store.featured_papers("2025-06-16", "2025-06-16", submitter="Ada L")[1] == 2


# -- live sources on -----------------------------------------------------------------------------


@pytest.fixture
def live_site(tmp_path: Path, services: FixtureServer, store):  # noqa: F811
    """An empty site of each backend (conftest's ``store``) that fetches from the fixture arXiv."""
    config = load_config(str(write_config(tmp_path / "sync.toml", services)))
    client = TestClient(create_app(Radar(store, settings=Settings(live=config))), follow_redirects=False)
    member = add_member(store, "cy@example.org", name="Cy")
    return store, client, member, services


def test_live_sources_fetch_a_paper_the_site_lacks(live_site) -> None:
    store, client, cy, server = live_site
    assert "A paper this site does not have yet is fetched from arXiv" in browser_page(client, cy)
    r = submit(client, {"paper": "https://arxiv.org/abs/1605.08386v1"}, **cy.bearer)
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "Heat-bath random walks with Markov bases" and r.json()["submittedBy"] == {"name": "Cy"}
    asked = server.seen("/api/query")
    assert len(asked) == 1 and asked[0].params["id_list"] == "1605.08386"
    stored = store.get("1605.08386")
    assert stored is not None and "arxiv-api" in {s["source"] for s in stored["sources"]}
    hits = client.get("/api/search?q=heat-bath%20random%20walks&mode=keyword").json()["papers"]
    assert hits and hits[0]["id"] == "1605.08386"  # in the keyword index too
    assert [e["paper"]["id"] for e in client.get(f"/api/daily_papers?date={today()}").json()] == ["1605.08386"]
    assert submit(client, {"paper": "1605.08386"}, **cy.bearer).status_code == 409  # stored now: not fetched again
    assert len(server.seen("/api/query")) == 1


def test_live_sources_unknown_on_arxiv_or_unreachable(live_site) -> None:
    store, client, cy, server = live_site
    r = submit(client, {"paper": "0000.0000"}, **cy.bearer)
    assert r.status_code == 404 and "arXiv has no paper with id 0000.0000" in r.json()["error"]["message"]
    server.fail_next("/api/query", "status", times=5, code=500)
    r = submit(client, {"paper": "astro-ph/0601001"}, **cy.bearer)
    assert r.status_code == 502 and "arXiv could not be asked for astro-ph/0601001" in r.json()["error"]["message"]
    assert store.get("astro-ph/0601001") is None
    r = submit(client, {"paper": "astro-ph/0601001"}, **cy.bearer)  # arXiv answers again
    assert r.status_code == 201 and r.json()["paper"]["id"] == "astro-ph/0601001"


def browser_page(client: TestClient, member: Member) -> str:
    """/submit as the member sees it (signed in through /login)."""
    r = client.post("/login", data={"email": member.email, "password": member.password}, headers={"Origin": ORIGIN})
    assert r.status_code == 303, r.text
    return client.get("/submit").text
