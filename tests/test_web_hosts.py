"""Absolute URLs come from the site's base URL, never from a request's Host header; unknown hosts get 400."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

import feedparser
from starlette.testclient import TestClient
from web_fixtures import Server

from paperradar.app import Radar
from paperradar.config import Settings
from paperradar.web import create_app

BASE = "https://papers.example.org/radar"


def _client(store, settings: Settings, base: str = "http://127.0.0.1") -> TestClient:
    return TestClient(create_app(Radar(store, settings=settings), catch_up_index=False), base_url=base)


def _links(feed: bytes) -> list[str]:
    return re.findall(rb'href="([^"]+)"', feed)


def test_feeds_link_to_the_base_url_and_ids_do_not_follow_the_host(web_store) -> None:
    settings = Settings(base_url=BASE, hosts=("127.0.0.1", "localhost", "papers.example.org"))
    feeds = []
    for base in ("http://127.0.0.1", "http://localhost:8000"):
        with _client(web_store, settings, base) as client:
            response = client.get("/feeds/daily.atom?date=2025-03-20")
            assert response.status_code == 200
            feeds.append(response.content)
            parsed = feedparser.parse(response.content)
            assert parsed.entries and not parsed.bozo
            assert all(link.startswith(BASE.encode()) or not link.startswith(b"http://") for link in _links(response.content))
            assert parsed.entries[0].link.startswith(BASE + "/papers/")
            assert parsed.feed.id.startswith("tag:paperradar,") and parsed.entries[0].id.startswith("tag:paperradar,")
    ids = [[e.id for e in feedparser.parse(f).entries] + [feedparser.parse(f).feed.id] for f in feeds]
    assert ids[0] == ids[1]  # the same feed read through two addresses: the same ids


def test_an_unknown_host_is_refused_and_never_echoed(web_store) -> None:
    with _client(web_store, Settings(hosts=("127.0.0.1",))) as client:
        assert client.get("/feeds/trending.atom").status_code == 200
        refused = client.get("/feeds/trending.atom", headers={"host": "evil.example"})
        assert refused.status_code == 400 and b"evil.example" not in refused.content
        assert client.get("/", headers={"host": "evil.example"}).status_code == 400


def test_without_a_base_url_links_use_the_checked_host(web_store) -> None:
    with _client(web_store, Settings(hosts=("127.0.0.1",))) as client:
        feed = client.get("/feeds/daily.atom?date=2025-03-20").content
    assert feedparser.parse(feed).entries[0].link.startswith("http://127.0.0.1/papers/")


def _get(base: str, path: str, host: str | None = None) -> tuple[int, bytes]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path, headers={"Host": host} if host else {})
    response = conn.getresponse()
    return response.status, response.read()


def test_the_real_server_takes_the_base_url_from_the_option_and_the_environment(web_store) -> None:
    for args, env in ((("--base-url", BASE), {}), ((), {"PAPERRADAR_BASE_URL": BASE})):
        server = Server(web_store.path, *args, env=env)
        try:
            status, feed = _get(server.base, "/feeds/daily.atom?date=2025-03-20")
            assert status == 200 and feedparser.parse(feed).entries[0].link.startswith(BASE + "/papers/")
            assert _get(server.base, "/", host="evil.example")[0] == 400
            assert _get(server.base, "/", host="papers.example.org")[0] == 200  # the base URL's own host
        finally:
            assert server.stop() == 0
