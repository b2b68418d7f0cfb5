"""One polite HTTP client for every live source.

Politeness is the whole point of this module: arXiv asks for at most one
request every 3 seconds and a User-Agent that says who is calling, and both
arXiv (OAI-PMH flow control) and Hugging Face answer 503/429 with a
Retry-After when busy. So every request here

* waits its turn per host (``delay`` seconds since the previous request to
  that host started),
* says who it is (``paperradar/VERSION (...; mailto:CONTACT)``),
* honours 503/429 Retry-After (and gives up at once, clearly, when the server
  asks for a longer wait than ``max_wait``),
* retries network errors, 5xx answers and bodies its caller rejects with
  exponential backoff and jitter, a bounded number of times, then raises
  :class:`FetchError` with the last reason.

Other 4xx answers are not retried: asking again would get the same answer.

httpx does the HTTP (keep-alive, gzip, redirects, timeouts). Pacing and
retries stay here, as no library does them this way: httpx retries only
failed connections; urllib3's ``Retry`` retries inside one call (skipping
the per-host pause), cannot retry a body the caller rejects, sleeps any
Retry-After with ``time.sleep`` (no ``max_wait``, no waking when the
scheduler stops) and waits 0 s before its first retry; tenacity would need
the same wait and give-up code as configuration, longer than the loop.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from .. import __version__
from .config import HttpSettings

log = logging.getLogger("paperradar.sync")

_RETRY_AFTER_STATUSES = (429, 503)
_warned_no_contact = False


class FetchError(Exception):
    """A request failed for good: tries used up, or an answer not worth retrying."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class HttpStatusError(FetchError):
    """The server answered with an HTTP error (4xx) that asking again would not change."""

    def __init__(self, url: str, status: int, body: bytes) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status
        self.body = body


class InvalidBody(Exception):
    """Raised by a caller's ``check``: the answer was damaged (e.g. invalid XML); fetch it again."""


@dataclass(eq=False)  # eq would make it unhashable, which exceptions should not be
class _TryAgain(Exception):
    """One try failed in a way that asking again may fix; ``wait`` is the server's Retry-After, if any."""

    reason: str
    wait: float | None = None


@dataclass
class Response:
    url: str  # the URL asked for, with its query
    status: int
    body: bytes  # decompressed
    headers: httpx.Headers


def user_agent(contact: str) -> str:
    """A descriptive User-Agent; warns once per process when no contact is configured."""
    global _warned_no_contact
    if contact:
        return f"paperradar/{__version__} (self-hosted research-paper discovery; mailto:{contact})"
    if not _warned_no_contact:
        _warned_no_contact = True
        log.warning("no contact configured: set `contact = \"you@example.org\"` in the config file so that "
                    "arXiv and Hugging Face can reach you instead of blocking you")
    return f"paperradar/{__version__} (self-hosted research-paper discovery; no contact configured)"


class PoliteClient:
    """GET with per-host pacing, Retry-After, backoff with jitter and bounded tries.

    Safe to share between threads; ``sleep``, ``clock`` and ``jitter`` can be
    replaced in tests (and ``sleep`` by an event's ``wait``, so that a stop
    cuts a pause short).
    """

    def __init__(
        self,
        contact: str,
        settings: HttpSettings,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.user_agent = user_agent(contact)
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.jitter = jitter
        self.requests = 0  # requests sent, retries included
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()
        self._http = httpx.Client(
            headers={"User-Agent": self.user_agent},
            timeout=settings.timeout,
            follow_redirects=True,
            verify=ssl.create_default_context(),  # the system's trust store, as with urllib, not certifi's
        )
        weakref.finalize(self, self._http.close)  # kept-alive connections end with the client

    def get(
        self,
        url: str,
        params: dict[str, str] | None = None,
        *,
        delay: float = 0.0,
        check: Callable[[Response], None] | None = None,
    ) -> Response:
        """Fetch ``url`` (with ``params`` as its query) and return the 2xx answer.

        ``delay`` is the pause this source wants between requests to one host.
        ``check`` may raise :class:`InvalidBody` to have a damaged answer
        fetched again; anything else it raises goes straight to the caller.
        """
        full = url + ("?" + urllib.parse.urlencode(params) if params else "")
        tries = self.settings.tries
        reason = "no tries allowed"
        for attempt in range(1, tries + 1):
            try:
                return self._try(full, delay, check)
            except _TryAgain as failure:
                reason, wait = failure.reason, failure.wait
            if attempt < tries:
                wait = self._backoff(attempt) if wait is None else wait
                log.warning("%s: %s; retrying in %.1f s (try %d of %d)",
                            full, reason, wait, attempt + 1, tries)
                self.sleep(wait)
        raise FetchError(full, f"gave up after {tries} {'try' if tries == 1 else 'tries'}: {reason}")

    def _try(self, url: str, delay: float, check: Callable[[Response], None] | None) -> Response:
        """One request, judged: the answer, :class:`_TryAgain`, or a :class:`FetchError` for good."""
        try:
            response = self._once(url, delay)
        except httpx.TooManyRedirects as exc:
            raise FetchError(url, str(exc)) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise _TryAgain(_describe(exc)) from exc
        status = response.status
        if 200 <= status < 300:
            try:
                if check is not None:
                    check(response)
            except InvalidBody as exc:
                raise _TryAgain(f"damaged answer: {exc}") from exc
            return response
        if status in _RETRY_AFTER_STATUSES:
            wait = _retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > self.settings.max_wait:
                raise FetchError(url, f"HTTP {status}: the server asks to retry after {wait:.0f} s, "
                                      f"more than max_wait ({self.settings.max_wait:.0f} s); try again later")
            raise _TryAgain(f"HTTP {status}", wait)
        if status >= 500:
            raise _TryAgain(f"HTTP {status}")
        raise HttpStatusError(url, status, response.body)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        base = min(self.settings.max_wait, self.settings.backoff * 2 ** (attempt - 1))
        return base / 2 + base / 2 * self.jitter()

    def _wait_turn(self, host: str, delay: float) -> None:
        """Sleep until ``delay`` seconds have passed since the last request to ``host`` started."""
        with self._lock:
            last = self._last.get(host)
            now = self.clock()
            if last is not None and now < last + delay:
                self.sleep(last + delay - now)
            self._last[host] = self.clock()
            self.requests += 1

    def _once(self, url: str, delay: float) -> Response:
        """Send one GET after this host's pause; 4xx/5xx answers are returned too (arXiv's error feed)."""
        self._wait_turn(urllib.parse.urlsplit(url).netloc, delay)
        answer = self._http.get(url)
        return Response(url, answer.status_code, answer.content, answer.headers)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _describe(exc: httpx.HTTPError) -> str:
    """One line for a network error."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({exc})"
    if isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError)):
        return f"connection broken mid-answer ({exc})"
    if isinstance(exc, httpx.DecodingError):
        return f"damaged compressed answer ({exc})"
    return f"{type(exc).__name__}: {exc}"
