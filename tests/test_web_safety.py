"""Hostile input: every text escaped, bad parameters a clear 4xx (never a 500), huge queries refused."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from web_fixtures import CSP, asgi_get, assert_no_inline_code

HOSTILE_VALUES = [
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "'", '"', "\\", "*", "**", "a*b*", '"unbalanced',
    "((((", "))", "{{7*7}}", "${7*7}", "%00", "\x00", "nul\x00byte", "\x1b[31m", "\u202e\u0000", "\ud800",
    "title:", "author:", "OR", "NOT", "-", "--", "-a -b", "AND OR NOT", "&amp;", "&#0;", "../../etc/passwd",
    "SELECT * FROM papers; --", "'; DROP TABLE papers; --", "🙂" * 50, "x" * 5000, "é" * 300, " ", "",
]
ROUTES = [
    "/search?q={v}", "/search?q=model&mode={v}", "/search?q=model&category={v}", "/search?q=model&author={v}",
    "/search?q=model&since={v}", "/search?q=model&until={v}", "/search?q=model&page={v}",
    "/api/search?q={v}", "/api/search?q=x&mode={v}", "/api/search?q=x&page={v}",
    "/api/papers/search?q={v}", "/api/papers/search?q=x&limit={v}",
    "/?date={v}", "/?period={v}", "/?category={v}", "/?page={v}", "/api/feed?date={v}", "/api/feed?category={v}",
    "/api/daily_papers?date={v}", "/api/daily_papers?limit={v}", "/api/daily_papers?p={v}",
    "/api/daily_papers?week={v}", "/api/daily_papers?month={v}", "/api/daily_papers?submitter={v}",
    "/api/daily_papers?sort={v}", "/api/daily_papers?date=2025-03-20&week={v}",
    "/trending?date={v}", "/trending?category={v}", "/api/trending?page={v}",
    "/papers/{v}", "/papers/{v}.md", "/api/paper/{v}", "/api/papers/{v}", "/api/papers/{v}/similar", "/api/papers/2503.15485/similar?facet={v}",
    "/api/papers/2503.15485/similar?limit={v}", "/api/papers/{v}/bibtex", "/api/papers/{v}/votes",
    "/papers/2503.15485?facet={v}", "/authors/{v}", "/api/authors/{v}", "/authors/Zineng%20Tang?page={v}",
    "/categories/{v}", "/api/categories/{v}", "/categories/cs.CL?page={v}",
    "/feeds/search.atom?q={v}", "/feeds/search.atom?q=x&mode={v}", "/feeds/daily.atom?category={v}",
    "/feeds/trending.atom?category={v}", "/feeds/categories/{v}.atom",
]


@pytest.mark.parametrize("route", ROUTES)
def test_hostile_parameters_never_cause_a_server_error_and_are_escaped(client, route) -> None:
    for value in HOSTILE_VALUES:
        encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
        r = client.get(route.format(v=encoded))
        assert r.status_code < 500, (route, value, r.status_code, r.text[:300])
        assert r.status_code in (200, 307, 308, 400, 404, 409, 413), (route, value, r.status_code)
        assert r.headers["content-security-policy"].startswith(CSP)
        body, kind = r.text, r.headers.get("content-type", "")
        if r.is_redirect:
            continue
        assert kind.startswith(("text/html", "application/json", "application/atom+xml", "application/x-bibtex",
                                "text/plain")), kind
        if not kind.startswith("application/json"):  # JSON carries text as it is (and is served as JSON, nosniff)
            assert "<script>alert" not in body and "<img src=x" not in body, (route, value)
        if kind.startswith("text/html"):
            assert_no_inline_code(body)
        if r.status_code == 400:  # a sentence saying what was wrong
            message = r.json()["error"]["message"] if route.startswith(("/api", "/feeds")) else body
            assert re.search(r"must be|contains control|too long|is after|is empty|required|unknown", message), message


def test_bad_parameters_get_clear_messages(client) -> None:
    cases = {
        "/?date=2025-02-30": "date must be a date written YYYY-MM-DD",
        "/?period=year": "period must be one of day, week, month",
        "/?page=0": "page must be from 1 to 500",
        "/?page=abc": "page must be a whole number",
        "/search?q=x&mode=fuzzy": "mode must be one of hybrid, keyword, semantic",
        "/search?q=x%00y": "q contains control characters",
        "/?category=%3Cb%3E": "category must be an arXiv category",
    }
    for url, message in cases.items():
        r = client.get(url)
        assert r.status_code == 400, url
        assert message in r.text.replace("&#39;", "'"), (url, r.text[-800:])
        api = client.get(url.replace("/?", "/api/feed?").replace("/search?", "/api/search?"))
        assert api.status_code == 400 and message in api.json()["error"]["message"]


def test_an_inverted_date_range_finds_nothing_and_says_why(client) -> None:
    """Valid dates whose range is empty: no result (not an error: each value is valid), and the page says why."""
    html = client.get("/search?q=model&since=2025-04-01&until=2025-03-01")
    assert html.status_code == 200 and "since (2025-04-01) is after until (2025-03-01)" in html.text
    api = client.get("/api/search?q=model&since=2025-04-01&until=2025-03-01")
    assert api.status_code == 200 and api.json()["papers"] == []


def test_a_huge_query_is_refused_clearly(client) -> None:
    r = client.get("/search", params={"q": "word " * 2100})  # 10,500 characters
    assert r.status_code == 400 and "q is too long: 10,500 characters (at most 10,000)" in r.text
    api = client.get("/api/search", params={"q": "word " * 2100})
    assert api.status_code == 400 and api.json()["error"]["message"].startswith("q is too long")
    status, _, body = asgi_get(client.app, "/search", ("q=" + quote("é" * 24_000)).encode())  # 144 kB encoded
    assert status == 414 and b"query string too long" in body
    longest = ("q=" + quote("\U0001F600" * 10_000)).encode()  # the longest q the parameter allows: 120 kB
    assert asgi_get(client.app, "/api/search", longest)[0] == 200
    assert client.get("/search", params={"q": "word " * 1900}).status_code == 200  # a long abstract is fine


def test_hostile_records_are_escaped_everywhere(client) -> None:
    pages = ["/?date=2025-03-19", "/papers/2503.99901", "/papers/2503.99902", "/categories/cs.CR",
             "/authors/Jos%C3%A9%20%C3%91%C3%BA%C3%B1ez", "/search?q=alert&mode=keyword", "/search?q=brace&mode=keyword"]
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold</b>" not in html, url
        assert "</textarea><b>" not in html, url  # the BibTeX box cannot be closed from a title
        assert_no_inline_code(html)
    html = client.get("/papers/2503.99901").text
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; &amp; Co:" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "{{ 7*7 }}" in html
    assert '<a href="/authors/Eve%20%22Quote%22%20%3CEvil%3E">Eve &#34;Quote&#34; &lt;Evil&gt;</a>' in html
    assert '<a href="/authors/Mallory%2FSlash">' in html
    assert "javascript:" not in html
    api = client.get("/api/paper/2503.99901").json()
    assert api["title"].startswith("<script>alert('t')</script>")  # JSON carries the text as it is


def test_unknown_routes_and_methods(client) -> None:
    r = client.get("/wp-admin/../../etc/passwd")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert client.post("/search").status_code == 405
    assert client.post("/api/papers/search").json()["error"]["status"] == 405
    assert client.get("/static/../app.py").status_code == 404
