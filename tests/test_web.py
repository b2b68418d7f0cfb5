"""Every route and its JSON twin, in-process (Starlette's TestClient) on the real slice database."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urlencode

import feedparser
import pytest
from conftest import shared
from web_fixtures import CSP, alternate, assert_no_inline_code, embedded_ids

PAGES = [
    "/", "/?date=2025-03-20", "/?date=2025-03-20&period=week", "/?date=2025-03-20&period=month",
    "/?date=2025-03-20&category=cs.CL", "/trending", "/trending?date=2025-03-26", "/search",
    "/search?q=language+models", "/papers/2503.15485", "/papers/2503.99901", "/authors/Zineng%20Tang",
    "/categories", "/categories/cs.CL", "/categories/cs.CL?page=2", "/api",
]
TWINS = {
    "/?date=2025-03-20": "/api/feed?date=2025-03-20",
    "/trending": "/api/trending",
    "/search?q=language+models": "/api/search?q=language+models",
    "/papers/2503.15485": "/api/paper/2503.15485",
    "/authors/Zineng%20Tang": "/api/authors/Zineng%20Tang",
    "/categories": "/api/categories",
    "/categories/cs.CL": "/api/categories/cs.CL",
}


def get_json(client, url: str, status: int = 200):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_with_security_headers_and_no_inline_code(client, url) -> None:
    r = client.get(url)
    assert r.status_code == 200, (url, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"].startswith(CSP)
    assert "object-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"
    assert re.fullmatch(r"app;dur=\d+\.\d\d", r.headers["server-timing"])
    assert_no_inline_code(r.text)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in r.text
    assert alternate(r.text, "application/json"), "every page names its JSON twin"


@pytest.mark.parametrize("page, twin", TWINS.items())
def test_each_page_links_its_json_twin(client, page, twin) -> None:
    assert alternate(client.get(page).text, "application/json") == twin
    get_json(client, twin)


def test_static_files_and_openapi(client) -> None:
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "clipboard" in js.text
    spec = get_json(client, "/openapi.json")
    paths = set(spec["paths"])
    for path in ["/api/feed", "/api/daily_papers", "/api/trending", "/api/search", "/api/papers/search",
                 "/api/paper/{paper_id}", "/api/papers/{paper_id}",
                 "/api/papers/{paper_id}/similar", "/api/papers/{paper_id}/bibtex", "/api/papers/{paper_id}/votes",
                 "/api/authors/{name}", "/api/categories", "/api/categories/{category}", "/api/stats",
                 "/feeds/daily.atom", "/feeds/trending.atom", "/feeds/search.atom", "/feeds/categories/{category}.atom"]:
        assert path in paths, path
    assert not any(p.startswith(("/papers", "/search", "/trending", "/authors")) for p in paths)
    assert spec["paths"]["/api/papers/search"]["get"]["parameters"][0]["name"] == "q"
    assert client.get("/docs").status_code == 404  # no CDN-loaded docs page


# -- the daily feed --------------------------------------------------------------


def test_feed_defaults_to_the_newest_day(client, web_store) -> None:
    data = get_json(client, "/api/feed")
    latest = web_store.latest_day()
    assert data["period"] == {"kind": "day", "start": latest, "end": latest, "label": latest}
    html = client.get("/").text
    assert f'value="{latest}"' in html  # the date picker shows it


def test_feed_day_week_month_counts_and_navigation(client, web_db) -> None:
    truth_day = sum(t.first_listed == "2025-03-20" for t in web_db.truth.values())
    data = get_json(client, "/api/feed?date=2025-03-20&list=all")
    assert data["total"] == truth_day and data["pages"] == -(-truth_day // 50)
    assert len(data["papers"]) == min(50, truth_day)
    ups = [p["upvotes"] for p in data["papers"]]
    assert ups == sorted(ups, reverse=True) and ups[0] > 0  # most upvoted first
    assert data["previous"] == "/api/feed?date=2025-03-19&list=all" and data["next"] == "/api/feed?date=2025-03-21&list=all"
    days = {d["date"]: d["count"] for d in data["days"]}  # a day shows its week's days
    assert days["2025-03-20"] == truth_day and set(days) <= {f"2025-03-{d}" for d in range(17, 24)}
    assert sum(c["count"] for c in data["categories"] if c["category"] == "cs.CL") == sum(
        t.first_listed == "2025-03-20" and "cs.CL" in t.categories for t in web_db.truth.values())

    week = get_json(client, "/api/feed?date=2025-03-20&period=week&list=all")
    assert week["period"]["start"] == "2025-03-17" and week["period"]["end"] == "2025-03-23"
    assert week["total"] == sum("2025-03-17" <= (t.first_listed or "") <= "2025-03-23" for t in web_db.truth.values()) + 2
    assert week["next"] == "/api/feed?date=2025-03-24&period=week&list=all"
    month = get_json(client, "/api/feed?date=2025-03-20&period=month&list=all")
    assert month["period"]["label"] == "2025-03" and month["next"] == "/api/feed?date=2025-04-01&period=month&list=all"
    assert sum(d["count"] for d in month["days"]) == month["total"]

    html = client.get("/?date=2025-03-20&list=all").text
    assert "Thursday 20 March 2025" in html and f"<strong>{truth_day}</strong> papers" in html
    assert 'href="/?date=2025-03-19&amp;list=all"' in html and 'href="/?date=2025-03-21&amp;list=all"' in html
    assert 'href="/?date=2025-03-20&amp;period=week&amp;list=all"' in html
    assert '<input type="date" name="date" value="2025-03-20">' in html


def test_feed_category_filter_and_pages(client, web_db) -> None:
    want = sum(t.first_listed == "2025-03-20" and "cs.CL" in t.categories for t in web_db.truth.values())
    data = get_json(client, "/api/feed?date=2025-03-20&category=cs.CL&list=all")
    assert data["total"] == want and all("cs.CL" in p["categories"] for p in data["papers"])
    page2 = get_json(client, "/api/feed?date=2025-03-20&page=2&list=all")
    first = get_json(client, "/api/feed?date=2025-03-20&list=all")
    assert not {p["id"] for p in page2["papers"]} & {p["id"] for p in first["papers"]}
    html = client.get("/?date=2025-03-20&category=cs.CL").text
    assert '<option value="cs.CL" selected>' in html
    assert get_json(client, "/api/feed?date=1999-01-01")["total"] == 0
    assert "No papers were listed" in client.get("/?date=1999-01-01").text


def test_the_home_page_shows_the_days_featured_papers_with_a_switch_to_all(client, web_db) -> None:
    """Issue 11: the day's featured list (here: Hugging Face's), most upvoted first; "all new on arXiv" a click away."""
    featured = get_json(client, "/api/feed?date=2025-03-20")
    everything = get_json(client, "/api/feed?date=2025-03-20&list=all")
    assert featured["showing"] == "featured" and everything["showing"] == "all"
    assert 0 < featured["total"] == featured["featured_total"] < everything["total"] == featured["all_total"]
    assert all(p["featured"]["day"] == "2025-03-20" and p["featured"]["source"] == "huggingface"
               for p in featured["papers"])
    ups = [p["upvotes"] for p in featured["papers"]]
    assert ups == sorted(ups, reverse=True)
    html = client.get("/?date=2025-03-20").text
    assert "Featured papers of Thursday 20 March 2025" in html
    assert f'<strong aria-current="page">Featured ({featured["total"]})</strong>' in html
    assert f'href="/?date=2025-03-20&amp;list=all">All new on arXiv ({everything["total"]})</a>' in html
    assert client.get("/api/feed?date=2025-03-20&list=nonsense").status_code == 400


def test_daily_papers_has_hugging_faces_shape(client, web_db) -> None:
    """HF's list of the day (the papers HF featured, not every paper arXiv listed), in HF's JSON;
    tests/test_hf_client.py drives it with HF's own client."""
    day = "2025-03-20"
    ours = get_json(client, f"/api/daily_papers?date={day}")
    theirs = json.loads(shared(f"data/hf-daily-papers/{day}.json").read_text(encoding="utf-8"))
    assert isinstance(ours, list) and ours
    assert [e["paper"]["id"] for e in ours] == [e["paper"]["id"] for e in theirs]
    for entry, hf in zip(ours, theirs, strict=True):
        assert set(entry) <= set(hf) | {"summary"} and set(entry["paper"]) <= set(hf["paper"]) | {"mediaUrls"}
        paper = entry["paper"]
        assert {"id", "title", "summary", "authors", "publishedAt", "upvotes"} <= set(paper)
        assert paper["authors"] == hf["paper"]["authors"] and paper["publishedAt"] == hf["paper"]["publishedAt"]
        assert entry["numComments"] == hf["numComments"]
    by_id = {e["paper"]["id"]: e for e in ours}
    for entry in theirs:  # every paper HF listed that day (first listed then) is there, with its upvotes
        truth = web_db.truth[entry["paper"]["id"]]
        if truth.first_listed == day:
            assert by_id[entry["paper"]["id"]]["paper"]["upvotes"] == truth.upvotes
    ups = [e["paper"]["upvotes"] for e in ours]
    assert ups == sorted(ups, reverse=True)
    # A client written for HF: the same code reads both.
    titles = [e["paper"]["title"] for e in ours if e["paper"]["upvotes"] > 0]
    assert titles and all(isinstance(t, str) for t in titles)
    assert len(get_json(client, f"/api/daily_papers?date={day}&limit=3")) == 3
    assert get_json(client, f"/api/daily_papers?date={day}&limit=3&p=1")[0] == ours[3]
    assert get_json(client, "/api/daily_papers?date=1999-01-01") == []
    newest = get_json(client, "/api/daily_papers?date=2025-03-25")  # the newest day HF featured papers
    assert get_json(client, "/api/daily_papers")[:len(newest)] == newest


# -- trending ------------------------------------------------------------------------


def test_trending_states_its_formula_and_ranks_by_it(client) -> None:
    html = client.get("/trending?date=2025-03-26").text
    assert "score = upvotes / (age_hours + 2) ^ 1.8" in unescape(html)
    data = get_json(client, "/api/trending?date=2025-03-26")
    assert data["formula"] == "score = upvotes / (age_hours + 2) ^ 1.8" and data["window_days"] == 14
    assert data["as_of"] == "2025-03-27T00:00:00Z"
    trends = [p["trend"] for p in data["papers"]]
    assert trends == sorted(trends, reverse=True) and len(trends) == 30 and data["total"] > 30
    for p in data["papers"]:
        assert p["trend"] == pytest.approx(p["upvotes"] / (p["age_hours"] + 2) ** 1.8, rel=1e-5)
    page2 = get_json(client, "/api/trending?date=2025-03-26&page=2")
    assert page2["papers"][0]["trend"] <= trends[-1]
    default = get_json(client, "/api/trending")
    assert default["as_of"] == "2025-04-04T00:00:00Z"  # the newest day's end: the slice is old
    assert get_json(client, "/api/trending?category=cs.CL&date=2025-03-26")["papers"][0]["categories"].count("cs.CL")


# -- search --------------------------------------------------------------------------


def test_search_highlights_and_pages(client) -> None:
    html = client.get("/search?q=language+models&mode=keyword").text
    assert "<mark>" in html and '<textarea id="q" name="q"' in html
    assert 'rel="next" href="/search?q=language+models&amp;mode=keyword&amp;page=2"' in html
    data = get_json(client, "/api/search?q=language+models&mode=keyword")
    assert len(data["papers"]) == 20 and data["next"] == "/api/search?q=language+models&mode=keyword&page=2"
    assert all("<mark>" in p["snippet_html"] for p in data["papers"] if "snippet_html" in p)
    page2 = get_json(client, data["next"])
    assert page2["page"] == 2 and page2["previous"] == "/api/search?q=language+models&mode=keyword"
    assert not {p["id"] for p in page2["papers"]} & {p["id"] for p in data["papers"]}


def test_search_filters(client, web_db) -> None:
    data = get_json(client, "/api/search?q=model&category=cs.CV&since=2025-03-19&until=2025-03-20")
    assert data["filters"] == {"category": "cs.CV", "author": None, "since": "2025-03-19", "until": "2025-03-20"}
    assert data["papers"] and all("cs.CV" in p["categories"] and "2025-03-19" <= p["date"] <= "2025-03-20"
                                  for p in data["papers"])
    by_author = get_json(client, "/api/search?q=price&mode=keyword&author=Jos%C3%A9+%C3%91%C3%BA%C3%B1ez")
    assert [p["id"] for p in by_author["papers"]] == ["2503.99902"]


@pytest.mark.parametrize("mode", ["keyword", "hybrid", "semantic"])
def test_a_pasted_abstract_finds_its_paper(client, web_store, mode) -> None:
    rows = web_store.rows([web_store.get(pid)["rowid"] for pid in embedded_ids(web_store)[:40]])
    row = next(r for r in rows.values() if len(r["abstract"]) > 800)
    r = client.get("/search", params={"q": row["abstract"], "mode": mode})
    assert r.status_code == 200
    assert f'href="/papers/{row["id"]}"' in r.text.split('<ol class="papers">', 1)[1][:3000]
    data = get_json(client, "/api/search?" + urlencode({"q": row["abstract"], "mode": mode}))
    assert data["papers"][0]["id"] == row["id"] and data["mode"] == mode


def test_empty_search_shows_the_form(client) -> None:
    html = client.get("/search").text
    assert "Syntax:" in html and '<ol class="papers">' not in html
    assert get_json(client, "/api/search")["papers"] == []


# -- papers ----------------------------------------------------------------------------


def test_paper_page(client, web_store) -> None:
    html = client.get("/papers/2503.15485").text
    row = web_store.get("2503.15485")
    assert "TULIP: Towards Unified" in html and '<a href="/authors/Zineng%20Tang">Zineng Tang</a>' in html
    for href in ["https://arxiv.org/abs/2503.15485", "https://arxiv.org/pdf/2503.15485",
                 "https://huggingface.co/papers/2503.15485"]:
        assert f'href="{href}"' in html
    assert '<textarea id="bibtex" class="bibtex" readonly' in html and "@misc{tang2025tulip," in html
    assert f'<span class="votes">▲ {row["upvotes"]}</span>' in html and "huggingface" in html
    assert '<script src="/static/app.js" defer></script>' in html
    assert "Similar papers" in html and "Compare on:" in html
    for facet in ("background", "method", "result"):
        assert f'href="?facet={facet}#similar"' in html


def test_paper_page_renders_tex(client) -> None:
    html = client.get("/papers/2503.99902").text
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in html
    assert 'display="block"' in html and "<em>emphasis</em>" in html
    assert "We pay $4 per test" in html and r"$\frac{a}{$" in html  # prices and bad TeX stay text
    assert html.count("<p>") >= 2  # paragraphs


def test_paper_json_and_friends(client, web_store) -> None:
    paper = get_json(client, "/api/paper/2503.15485")
    assert paper["id"] == "2503.15485" and paper["links"]["pdf"] == "https://arxiv.org/pdf/2503.15485"
    assert paper["url"] == "/papers/2503.15485" and paper["bibtex"].startswith("@misc{tang2025tulip,")
    assert paper["upvotes"] == web_store.get("2503.15485")["upvotes"] and paper["sources"]
    bib = client.get("/api/papers/2503.15485/bibtex")
    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    assert bib.text == paper["bibtex"]
    votes = get_json(client, "/api/papers/2503.15485/votes")
    assert votes == {"users": 0, "huggingface": paper["upvotes"], "total": paper["upvotes"], "you": False}


def test_versioned_ids_redirect_to_the_paper(client) -> None:
    r = client.get("/papers/2503.15485v2?facet=method")
    assert r.status_code == 308 and r.headers["location"] == "/papers/2503.15485?facet=method"
    assert get_json(client, "/api/paper/2503.15485v2")["id"] == "2503.15485"


def test_unknown_papers_are_404(client) -> None:
    r = client.get("/papers/2501.00000")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "no paper with id &#39;2501.00000&#39;" in r.text
    assert get_json(client, "/api/paper/2501.00000", 404) == {
        "error": {"status": 404, "message": "no paper with id '2501.00000'"}}
    for sub in ("similar", "bibtex", "votes"):
        assert client.get(f"/api/papers/2501.00000/{sub}").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert get_json(client, "/api/nothing", 404)["error"]["status"] == 404


def test_similar_papers_of_an_embedded_paper(client, web_store) -> None:
    pid = embedded_ids(web_store)[0]
    data = get_json(client, f"/api/papers/{pid}/similar")
    assert data["embedded"] is True and data["note"] is None and len(data["papers"]) == 10
    assert pid not in {p["id"] for p in data["papers"]}
    scores = [p["score"] for p in data["papers"]]
    assert scores == sorted(scores, reverse=True)
    assert set(data["papers"][0]["why"]) == {"keyword", "vector", "sentences"}
    html = client.get(f"/papers/{pid}").text
    similar_part = html.split('id="similar"', 1)[1]
    assert f'href="/papers/{data["papers"][0]["id"]}"' in similar_part
    method = get_json(client, f"/api/papers/{pid}/similar?facet=method&limit=5")
    assert method["facet"] == "method" and len(method["papers"]) == 5
    assert '<strong aria-current="true">method</strong>' in client.get(f"/papers/{pid}?facet=method").text
    assert client.get(f"/api/papers/{pid}/similar?facet=colour").status_code == 400
    assert client.get(f"/api/papers/{pid}/similar?limit=0").status_code == 400


def test_similar_papers_without_embeddings_say_so(client) -> None:
    assert "not computed yet" in client.get("/papers/2503.99901").text
    data = get_json(client, "/api/papers/2503.99901/similar?facet=method")
    assert data["papers"] == [] and data["embedded"] is False and "paperradar embed" in data["note"]
    assert data["facet"] == "method"


# -- authors and categories -------------------------------------------------------------


def test_author_page(client) -> None:
    html = client.get("/authors/Jos%C3%A9%20%C3%91%C3%BA%C3%B1ez").text
    assert "<strong>2</strong> papers" in html and 'href="/papers/2503.99901"' in html
    data = get_json(client, "/api/authors/Jos%C3%A9%20%C3%91%C3%BA%C3%B1ez")
    assert data["name"] == "José Ñúñez" and data["total"] == 2
    assert {"name": "Mallory/Slash", "papers": 1} in data["coauthors"]
    slash = get_json(client, "/api/authors/Mallory%2FSlash")
    assert slash["name"] == "Mallory/Slash" and slash["total"] == 1
    assert get_json(client, "/api/authors/Nobody%20At%20All")["total"] == 0


def test_category_pages(client, web_db) -> None:
    total = sum("cs.CL" in t.categories for t in web_db.truth.values())
    data = get_json(client, "/api/categories/cs.CL")
    assert data["total"] == total and data["pages"] == -(-total // 50) and len(data["papers"]) == 50
    dates = [p["date"] for p in data["papers"]]
    assert dates == sorted(dates, reverse=True)
    assert 0 < data["primary"] <= total
    listing = get_json(client, "/api/categories")
    assert {"category": "cs.CL", "count": total, "name": "Computation and Language"} in listing  # arXiv's name
    assert all(item["name"] for item in listing)  # only arXiv categories are listed by name
    assert "<b>" + str(total) + "</b>" in client.get("/categories").text
    assert alternate(client.get("/categories/cs.CL").text, "application/atom+xml") == "/feeds/categories/cs.CL.atom"


def test_stats(client, web_store) -> None:
    assert get_json(client, "/api/stats")["papers"] == web_store.count()


# -- Atom -------------------------------------------------------------------------------


@pytest.mark.parametrize("url, entries", [
    ("/feeds/daily.atom", None), ("/feeds/daily.atom?category=cs.CL", None), ("/feeds/trending.atom", None),
    ("/feeds/search.atom?q=language+models", 50), ("/feeds/categories/cs.CL.atom", 50),
    ("/feeds/categories/cs.CR.atom", None),
])
def test_atom_feeds_are_valid(client, url, entries) -> None:
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(r.content)
    assert feed.bozo == 0, feed.bozo_exception
    assert feed.version == "atom10" and feed.feed.title.startswith("paperradar: ")
    assert feed.entries and (entries is None or len(feed.entries) == entries)
    for e in feed.entries:
        # ids do not depend on the address the feed was fetched through (issue 11: never from Host)
        assert e.id == "tag:paperradar,2025:" + e.link.removeprefix("http://testserver/")
        assert e.link.startswith("http://testserver/papers/")
        assert e.title and e.updated and e.published and e.authors
    assert any(link.rel == "self" for link in feed.feed.links)


def test_atom_escapes_hostile_text(client) -> None:
    r = client.get("/feeds/categories/cs.CR.atom")
    feed = feedparser.parse(r.content)
    assert feed.bozo == 0
    titles = {e.title for e in feed.entries}
    assert "<script>alert('t')</script> & Co: $x<y$ </textarea><b>bold</b>" in titles
    assert b"<script>" not in r.content


def test_feeds_are_linked_from_their_pages(client) -> None:
    assert alternate(client.get("/").text, "application/atom+xml") == "/feeds/daily.atom"
    assert alternate(client.get("/trending").text, "application/atom+xml") == "/feeds/trending.atom"
    assert alternate(client.get("/search?q=llm").text, "application/atom+xml") == "/feeds/search.atom?q=llm"


def test_api_page_lists_every_endpoint_and_robots(client) -> None:
    html = client.get("/api").text
    spec = client.get("/openapi.json").json()
    for path in spec["paths"]:
        assert f"<code>{path}</code>" in html
    assert "JSON twin" in html and 'href="/openapi.json"' in html
    robots = client.get("/robots.txt")
    assert robots.status_code == 200 and "Disallow: /api/" in robots.text


def test_a_failing_similar_ranking_does_not_break_the_paper_page(client, monkeypatch) -> None:
    from paperradar.web import papers

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("vector index unreadable")

    monkeypatch.setattr(papers, "similar", broken)
    r = client.get("/papers/2503.15485")
    assert r.status_code == 200 and "could not be computed just now" in r.text and "TULIP" in r.text
    assert "could not be computed" in get_json(client, "/api/papers/2503.15485/similar")["note"]


def test_local_votes_show_on_the_page_and_in_the_api(client, web_store, capsys) -> None:
    from helpers import cli

    before = get_json(client, "/api/papers/2503.15485/votes")
    assert before["users"] == 0 and before["total"] == before["huggingface"] > 0
    code, _, err = cli(capsys, "--db", web_store.path, "vote", "2503.15485")
    assert code == 0, err
    try:
        after = get_json(client, "/api/papers/2503.15485/votes")
        assert after == {"users": 1, "huggingface": before["huggingface"], "total": before["total"] + 1, "you": False}
        page = client.get("/papers/2503.15485").text
        assert f'<span class="votes">▲ {after["total"]}</span>' in page
        assert f'<span class="vote-users">1</span> on this site, {before["huggingface"]} on Hugging Face' in page
    finally:
        assert cli(capsys, "--db", web_store.path, "vote", "2503.15485", "--down")[0] == 0
    assert get_json(client, "/api/papers/2503.15485/votes")["total"] == before["total"]
