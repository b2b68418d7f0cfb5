"""For you: /for-you, /api/me/for-you, the cold-start forms and the private for-you Atom feed.

On a copy of the real slice database (``community``: its first day, 2025-03-18, has 336 papers, the
first 160 of them with vectors): a library of a few Gaussian-splatting papers of that day ranks the
day's other Gaussian-splatting papers first, page and JSON, each with why naming saved papers;
hiding a paper drops it; a new member sees the cold start (three forms, each tried: categories,
"papers like mine", pasted ids and BibTeX) and trending papers in the chosen categories until the
library holds three papers; the private feed (read with feedparser) says why in each entry; anonymous
viewers get 401 (API) or 303 to /login (page); user B never sees A's recommendations or library.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import feedparser
import pytest
from community_fixtures import Member, Site, add_member, browser, community, form_headers  # noqa: F401
from web_fixtures import assert_no_inline_code, embedded_ids

from paperradar.web import foryou, schemas

DAY = "2025-03-18"  # the slice's first day: its first 160 papers have vectors
TOPIC = "gaussian splatting"
SAVED = 4  # of the day's Gaussian-splatting papers, saved to the library; the others are to be found


def topical(row: dict[str, Any]) -> bool:
    return TOPIC in f"{row['title']} {row['abstract']}".lower()


@pytest.fixture(scope="module")
def topic(community: Site) -> dict[str, list[str]]:  # noqa: F811
    """The embedded papers of DAY on the topic: those to save and those the ranking should find."""
    ids = [i for i in embedded_ids(community.store) if (row := community.store.get(i)) and row["published"] == DAY
           and topical(row)]
    assert len(ids) >= SAVED + 4, ids  # the slice holds ten or so
    return {"saved": ids[:SAVED], "others": ids[SAVED:]}


@pytest.fixture(scope="module")
def reader(community: Site, topic: dict[str, list[str]]) -> Member:  # noqa: F811
    """A member whose library is the topic's first papers."""
    member = add_member(community.store, "reader@example.org", name="Reader")
    with community.client() as c:
        for paper_id in topic["saved"]:
            r = c.put(f"/api/me/library/{paper_id}", json={}, headers=member.bearer)
            assert r.status_code == 200, r.text
    return member


def for_you(site: Site, member: Member, **params: Any) -> dict[str, Any]:
    with site.client() as c:
        r = c.get("/api/me/for-you", params=params, headers=member.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    schemas.ForYou.model_validate(body)  # the documented shape, no undocumented key
    return body


# -- anonymous ----------------------------------------------------------------------------------


def test_anonymous_viewers_are_sent_to_sign_in_or_refused(community: Site) -> None:  # noqa: F811
    with community.client() as c:
        page = c.get(f"/for-you?date={DAY}")
        assert page.status_code == 303
        assert page.headers["location"] == "/login?next=" + quote(f"/for-you?date={DAY}", safe="/")
        api = c.get("/api/me/for-you", params={"date": DAY})
        assert api.status_code == 401 and api.json()["error"]["status"] == 401
        assert "Bearer" in api.headers.get("www-authenticate", "")
        for path in ("/for-you/categories", "/for-you/author", "/for-you/papers"):
            assert c.post(path, data={"category": "cs.CV"}).status_code == 401, path
        assert c.post("/api/me/feeds", json={"scope": "for-you"}).status_code == 401
        home = c.get("/")
        assert 'href="/for-you"' not in home.text  # the header link is for signed-in members


def test_bad_parameters_are_400s_naming_them(community: Site, reader: Member) -> None:  # noqa: F811
    with community.client() as c:
        for params, name in (({"date": "yesterday"}, "date"), ({"date": "2025-02-30"}, "date"),
                             ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "ten"}, "limit")):
            r = c.get("/api/me/for-you", params=params, headers=reader.bearer)
            assert r.status_code == 400 and name in r.json()["error"]["message"], (params, r.text)


# -- recommendations -------------------------------------------------------------------------------


def test_a_library_on_one_topic_ranks_that_topic_first_with_why(community: Site, reader: Member,  # noqa: F811
                                                                 topic: dict[str, list[str]]) -> None:
    body = for_you(community, reader, date=DAY, limit=20)
    assert body["cold"] is False and body["positives"] >= SAVED and body["date"] == DAY
    ids = [p["id"] for p in body["papers"]]
    assert len(ids) == body["total"] == 20 and len(set(ids)) == 20
    assert not set(ids) & set(topic["saved"])  # the library is never recommended back
    assert all(p["date"] == DAY for p in body["papers"])  # the papers of the day asked
    rows = {i: community.store.get(i) for i in ids}
    top = [i for i in ids[:5] if topical(rows[i])]
    assert topical(rows[ids[0]]) and len(top) >= 3, [rows[i]["title"] for i in ids[:5]]
    found = [i for i in ids[:10] if i in topic["others"]]
    assert len(found) >= 3, (found, topic["others"])
    scores = [p["score"] for p in body["papers"]]
    assert scores == sorted(scores, reverse=True)
    saved_titles = {i: community.store.get(i)["title"] for i in topic["saved"]}
    for paper in body["papers"][:5]:
        why = paper["why"]
        assert why and 1 <= len(why["near"]) <= 3 and why["terms"], paper["id"]
        for near in why["near"]:  # saved papers that exist, named by their titles
            assert near["id"] in saved_titles and near["title"] == saved_titles[near["id"]]
            assert near["url"] == f"/papers/{near['id']}"
    assert body["previous"] == "/api/me/for-you?date=2025-03-17&limit=20"
    assert body["next"] == "/api/me/for-you?date=2025-03-19&limit=20"


def test_the_page_shows_the_ranking_with_why_and_day_navigation(community: Site, reader: Member,  # noqa: F811
                                                                 topic: dict[str, list[str]]) -> None:
    body = for_you(community, reader, date=DAY)
    client, _ = browser(community, reader)
    with client:
        page = client.get(f"/for-you?date={DAY}")
        short = client.get(f"/for-you?date={DAY}&limit=5").text
        assert client.get(f"/for-you?date={DAY}&limit=500").status_code == 400
    assert re.findall(r'<li class="paper" id="p-([^"]+)"', short) == [p["id"] for p in body["papers"][:5]]
    assert 'href="/for-you?date=2025-03-19&amp;limit=5"' in short
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert_no_inline_code(html)
    assert "For you: Tuesday 18 March 2025" in html
    cards = re.findall(r'<li class="paper" id="p-([^"]+)"', html)
    assert cards == [p["id"] for p in body["papers"]]  # the page and its twin agree
    first = html.split('<li class="paper"')[1]
    assert "close to: " in first and "terms: " in first
    near = re.findall(r'<span class="reason reason-near">close to: (.*?)</span>', first)[0]
    assert re.findall(r'href="/papers/([^"]+)"', near)
    assert set(re.findall(r'href="/papers/([^"]+)"', near)) <= set(topic["saved"])
    assert 'href="/for-you?date=2025-03-17"' in html and 'href="/for-you?date=2025-03-19"' in html
    assert '<a href="/for-you">For you</a>' in html  # the header link, signed in
    assert 'href="/api/me/for-you?date=2025-03-18"' in html  # the JSON twin
    assert 'id="start"' not in html  # no cold start: the library has enough


def test_a_hidden_paper_is_never_shown(community: Site) -> None:  # noqa: F811
    member = add_member(community.store, "hider@example.org")
    topic_ids = [i for i in embedded_ids(community.store) if topical(community.store.get(i))]
    with community.client() as c:
        for paper_id in topic_ids[:SAVED]:
            assert c.put(f"/api/me/library/{paper_id}", json={}, headers=member.bearer).status_code == 200
        before = [p["id"] for p in for_you(community, member, date=DAY)["papers"]]
        assert c.put(f"/api/me/hidden/{before[0]}", headers=member.bearer).status_code == 200
    after = [p["id"] for p in for_you(community, member, date=DAY)["papers"]]
    assert before[0] not in after and after[0] != before[0]
    client, _ = browser(community, member)
    with client:
        html = client.get(f"/for-you?date={DAY}").text
    assert f'id="p-{before[0]}"' not in html


def test_user_b_never_sees_user_a_s_recommendations(community: Site, reader: Member,  # noqa: F811
                                                    topic: dict[str, list[str]]) -> None:
    other = add_member(community.store, "other@example.org")
    mine = for_you(community, reader, date=DAY)
    theirs = for_you(community, other, date=DAY)
    assert theirs["cold"] is True and theirs["positives"] == 0
    assert all(p["why"] is None for p in theirs["papers"])
    client, _ = browser(community, other)
    with client:
        html = client.get(f"/for-you?date={DAY}").text
    for paper_id in topic["saved"]:  # A's library appears nowhere on B's page
        assert f"/papers/{paper_id}\"" not in html or f'id="p-{paper_id}"' in html
    assert "close to: " not in html and 'id="start"' in html
    assert mine["papers"] != theirs["papers"]


# -- the cold start ------------------------------------------------------------------------------


def test_the_cold_start_page_asks_three_ways(community: Site) -> None:  # noqa: F811
    member = add_member(community.store, "newcomer@example.org")
    client, csrf = browser(community, member)
    with client:
        html = client.get(f"/for-you?date={DAY}").text
    assert_no_inline_code(html)
    start = html.split('id="start"')[1]
    for action in ("/for-you/categories", "/for-you/author", "/for-you/papers"):
        form = start.split(f'action="{action}"')[1].split("</form>")[0]
        assert f'name="csrf_token" value="{csrf}"' in form, action
    assert 'name="category" value="cs.CV"' in start  # the week's busiest categories as boxes
    assert 'name="author"' in start and '<textarea name="papers"' in start
    body = for_you(community, member, date=DAY)
    assert body["cold"] is True and body["min_positives"] == 3 and body["categories"] == []


def test_following_categories_shows_their_trending_papers(community: Site) -> None:  # noqa: F811
    member = add_member(community.store, "categories@example.org")
    client, csrf = browser(community, member)
    with client:
        forged = client.post("/for-you/categories", data={"category": "cs.CV"}, headers=form_headers())
        assert forged.status_code == 403  # no CSRF token
        bad = client.post("/for-you/categories", data={"csrf_token": csrf, "category": "not a category"},
                          headers=form_headers())
        assert bad.status_code == 400 and "category" in bad.text
        r = client.post("/for-you/categories", data={"csrf_token": csrf, "category": ["cs.CV", "cs.RO"],
                                                     "more": "cs.cl, cs.CV", "next": f"/for-you?date={DAY}"},
                        headers=form_headers())
        assert r.status_code == 303 and r.headers["location"] == f"/for-you?date={DAY}"
        follows = client.get("/api/me/follows").json()["follows"]
        assert sorted(f["value"] for f in follows if f["kind"] == "category") == ["cs.CL", "cs.CV", "cs.RO"]
        page = client.get(r.headers["location"]).text
    body = for_you(community, member, date=DAY)
    assert body["cold"] is True and body["categories"] == ["cs.CL", "cs.CV", "cs.RO"]
    assert body["papers"], "trending papers in the followed categories"
    for paper in body["papers"]:
        assert {"cs.CL", "cs.CV", "cs.RO"} & set(paper["categories"]), paper["categories"]
        assert paper["why"] is None
    assert "Trending papers in" in page and 'href="/categories/cs.RO"' in page
    assert re.findall(r'<li class="paper" id="p-([^"]+)"', page) == [p["id"] for p in body["papers"]]


def test_papers_like_mine_saves_an_author_s_papers_and_ends_the_cold_start(community: Site,  # noqa: F811
                                                                           topic: dict[str, list[str]]) -> None:
    member = add_member(community.store, "author@example.org")
    prolific = _prolific_author(community)
    client, csrf = browser(community, member)
    with client:
        missing = client.post("/for-you/author", data={"csrf_token": csrf, "author": "Nobody Atall Zzyzx"},
                              headers=form_headers())
        assert missing.status_code == 400 and "author" in missing.text
        r = client.post("/for-you/author", data={"csrf_token": csrf, "author": prolific},
                        headers=form_headers())
        assert r.status_code == 200, r.text[:500]
        library = client.get("/api/me/library", params={"collection": foryou.SEED_COLLECTION}).json()
    assert library["total"] >= 3
    for paper in library["papers"]:
        assert prolific in paper["authors"] and paper["collections"] == [foryou.SEED_COLLECTION]
        assert f'href="/papers/{paper["id"]}"' in r.text
    body = for_you(community, member, date=DAY)
    assert body["cold"] is False and body["positives"] >= 3
    assert not {p["id"] for p in body["papers"]} & {p["id"] for p in library["papers"]}


def _prolific_author(site: Site) -> str:
    """An author with at least three papers in the slice (found from the data, not written in)."""
    counts: dict[str, int] = {}
    for (authors,) in site.store.conn.execute("SELECT authors FROM papers WHERE published <= '2025-03-21'"):
        for name in re.findall(r'"((?:[^"\\]|\\.)*)"', authors):
            counts[name] = counts.get(name, 0) + 1
    name, n = max(counts.items(), key=lambda kv: kv[1])
    assert n >= 3
    return name


def test_pasted_ids_and_bibtex_go_into_the_library(community: Site, topic: dict[str, list[str]]) -> None:  # noqa: F811
    member = add_member(community.store, "paster@example.org")
    a, b = topic["saved"][:2]
    client, csrf = browser(community, member)
    with client:
        nothing = client.post("/for-you/papers", data={"csrf_token": csrf, "papers": "hello world"},
                              headers=form_headers())
        assert nothing.status_code == 400 and "papers" in nothing.text
        pasted = f"{a}\narXiv:{b}v2, 9912.99999 ; not-an-id"
        r = client.post("/for-you/papers", data={"csrf_token": csrf, "papers": pasted}, headers=form_headers())
        assert r.status_code == 200, r.text[:500]
        text = unescape(r.text)
        assert "not an arXiv id" in text and "not-an-id" in text and "9912.99999" in text
        saved = {p["id"] for p in client.get("/api/me/library").json()["papers"]}
        assert saved == {a, b}
        third = community.store.get(topic["saved"][2])
        bib = (f"@article{{x,\n  title = {{{third['title']}}},\n  eprint = {{{third['id']}}},\n"
               f"  archivePrefix = {{arXiv}},\n  year = {{2025}}\n}}\n")
        r = client.post("/for-you/papers", data={"csrf_token": csrf, "papers": bib}, headers=form_headers())
        assert r.status_code == 200 and f'href="/papers/{third["id"]}"' in r.text and "matched" in r.text
        library = client.get("/api/me/library").json()
    assert {p["id"] for p in library["papers"]} == {a, b, third["id"]}
    assert all(p["collections"] == [foryou.PASTE_COLLECTION] for p in library["papers"])
    assert for_you(community, member, date=DAY)["cold"] is False  # three positives


# -- the private feed ----------------------------------------------------------------------------


def test_the_private_for_you_feed(community: Site, reader: Member, topic: dict[str, list[str]]) -> None:  # noqa: F811
    with community.client() as c:
        r = c.post("/api/me/feeds", json={"scope": "for-you"}, headers=reader.bearer)
        assert r.status_code == 201, r.text
        made = r.json()
        schemas.NewPrivateFeed.model_validate(made)
        assert made["scope"] == "for-you" and made["collection"] is None
        assert c.post("/api/me/feeds", json={"scope": "for-you", "collection": "x"},
                      headers=reader.bearer).status_code == 400
        path = urlsplit(made["url"]).path
        feed = c.get(path)
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
        assert "private" in feed.headers["cache-control"] and "noindex" in feed.headers["x-robots-tag"]
        parsed = feedparser.parse(feed.content)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.feed.title == "paperradar: for you"
        assert parsed.entries, "the newest day's papers ranked for the reader"
        newest = foryou.newest_day_of(community.store).isoformat()
        body = for_you(community, reader, date=newest, limit=foryou.FEED_ENTRIES)
        assert [unquote(e.link.rsplit("/papers/", 1)[1]) for e in parsed.entries] == [p["id"] for p in body["papers"]]
        for entry in parsed.entries:
            assert entry.summary.startswith("For you"), entry.summary[:100]
        if body["papers"] and body["papers"][0]["why"] and body["papers"][0]["why"]["near"]:
            assert parsed.entries[0].summary.startswith("For you: close to: ")
        listed = c.get("/api/me/feeds", headers=reader.bearer).json()["feeds"]
        assert {"id": made["id"], "scope": "for-you"}.items() <= next(f for f in listed if f["id"] == made["id"]).items()
        other = add_member(community.store, "feedless@example.org")
        assert c.delete(f"/api/me/feeds/{made['id']}", headers=other.bearer).status_code == 404
        assert c.delete(f"/api/me/feeds/{made['id']}", headers=reader.bearer).status_code == 200
        assert c.get(path).status_code == 404  # revoked: at once


def test_the_settings_page_makes_a_for_you_feed(community: Site, reader: Member) -> None:  # noqa: F811
    client, csrf = browser(community, reader)
    with client:
        settings = client.get("/settings").text
        assert '<option value="for-you">For you</option>' in settings
        r = client.post("/settings/feeds", data={"csrf_token": csrf, "scope": "for-you"}, headers=form_headers())
        assert r.status_code == 201 and 'href="/for-you">For you</a>' in r.text
        url = re.search(r'<code id="new-feed">([^<]+)</code>', r.text).group(1)
        feed = client.get(urlsplit(unescape(url)).path)
        assert feed.status_code == 200 and feedparser.parse(feed.content).entries
        assert "for you" in client.get("/settings").text
