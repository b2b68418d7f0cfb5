"""The polite HTTP client against a local server: pacing, User-Agent, Retry-After, retries, faults."""

from __future__ import annotations

import logging

import pytest
from sync_server import FixtureServer, services  # noqa: F401  (fixture used by name)

from paperradar.sync import http
from paperradar.sync.config import HttpSettings
from paperradar.sync.http import FetchError, HttpStatusError, InvalidBody, PoliteClient, Response

FAST = HttpSettings(timeout=1.0, tries=3, backoff=0.05, max_wait=5.0)


def client(contact: str = "tests@example.org", **settings: float) -> PoliteClient:
    return PoliteClient(contact, HttpSettings(**{**vars(FAST), **settings}))


def rss_url(server: FixtureServer) -> str:
    return f"{server.base}/rss/cs.LG"


def test_user_agent_names_paperradar_and_the_contact(services):
    response = client().get(rss_url(services))
    assert response.status == 200 and response.body.startswith(b"<?xml")
    agent = services.requests[0].headers["User-Agent"]
    assert agent.startswith("paperradar/") and "mailto:tests@example.org" in agent


def test_without_a_contact_the_agent_is_still_descriptive_and_a_warning_is_given_once(services, monkeypatch, caplog):
    monkeypatch.setattr(http, "_warned_no_contact", False)
    with caplog.at_level(logging.WARNING, logger="paperradar.sync"):
        first, second = client(contact=""), client(contact="")
    first.get(rss_url(services))
    second.get(rss_url(services))
    agent = services.requests[0].headers["User-Agent"]
    assert agent.startswith("paperradar/") and "no contact configured" in agent
    assert sum("no contact configured" in r.getMessage() for r in caplog.records) == 1


def test_requests_to_one_host_are_spaced_by_the_delay(services):
    c = client()
    for _ in range(3):
        c.get(rss_url(services), delay=0.3)
    times = [r.at for r in services.requests]
    assert all(b - a >= 0.29 for a, b in zip(times, times[1:])), times
    assert c.requests == 3


def test_503_with_retry_after_is_honoured(services):
    services.fail_next("/rss", "503", retry_after=1)
    response = client().get(rss_url(services))
    assert response.status == 200
    first, second = services.requests
    assert second.at - first.at >= 0.95


def test_a_retry_after_longer_than_max_wait_fails_at_once_and_clearly(services):
    services.fail_next("/rss", "503", retry_after=3600)
    with pytest.raises(FetchError, match=r"retry after 3600 s, more than max_wait"):
        client().get(rss_url(services))
    assert len(services.requests) == 1


def test_a_connection_reset_mid_body_is_retried(services):
    services.fail_next("/rss", "reset")
    response = client().get(rss_url(services))
    assert response.body.rstrip().endswith(b"</rss>")
    assert len(services.requests) == 2


def test_an_answer_slower_than_the_timeout_is_retried(services):
    services.fail_next("/rss", "stall", seconds=3)
    response = client(timeout=0.4).get(rss_url(services))
    assert response.status == 200 and len(services.requests) == 2


def test_tries_are_bounded_then_the_error_is_clear(services):
    services.fail_next("/rss", "stall", times=2, seconds=3)
    with pytest.raises(FetchError, match=r"gave up after 2 tries: timed out"):
        client(timeout=0.3, tries=2).get(rss_url(services))
    assert len(services.requests) == 2


def test_a_damaged_body_is_fetched_again_when_the_check_rejects_it(services):
    def check(response: Response) -> None:
        if not response.body.rstrip().endswith(b"</rss>"):
            raise InvalidBody("cut short")

    services.fail_next("/rss", "invalid")
    assert client().get(rss_url(services), check=check).status == 200
    services.fail_next("/rss", "invalid", times=3)
    with pytest.raises(FetchError, match="damaged answer: cut short"):
        client().get(rss_url(services), check=check)


def test_server_errors_are_retried_with_growing_jittered_backoff(services):
    waits: list[float] = []
    services.fail_next("/rss", "status", times=3, code=500)
    c = PoliteClient("x@example.org", HttpSettings(timeout=1, tries=4, backoff=1.0, max_wait=3.0),
                     sleep=waits.append, jitter=lambda: 0.5)
    assert c.get(rss_url(services)).status == 200
    # equal jitter: half of min(max_wait, backoff * 2^n) fixed, half random (0.5 here)
    assert waits == [0.75, 1.5, 2.25]


def test_other_client_errors_are_not_retried(services):
    with pytest.raises(HttpStatusError) as caught:
        client().get(f"{services.base}/nowhere")
    assert caught.value.status == 404 and len(services.requests) == 1


def test_nothing_listening_is_a_network_error_after_the_tries(services):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(FetchError, match="gave up after 2 tries: cannot connect"):
        client(tries=2).get(f"http://127.0.0.1:{port}/")


def test_retry_after_as_an_http_date():
    assert http._retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert http._retry_after("120") == 120.0
    assert http._retry_after("soon") is None and http._retry_after(None) is None
