"""One polite HTTP client for every live source (standard library only).

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
"""

from __future__ import annotations

import gzip
import http.client
import logging
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from email.utils import parsedate_to_datetime

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


@dataclass
class Response:
    url: str  # the URL asked for, with its query
    status: int
    body: bytes
    headers: Message


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
    replaced in tests.
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
        reason = ""
        for attempt in range(1, tries + 1):
            wait: float | None = None
            try:
                response = self._once(full, delay)
            except (urllib.error.URLError, http.client.HTTPException, OSError, EOFError, zlib.error) as exc:
                reason = _describe(exc)
            else:
                if 200 <= response.status < 300:
                    if check is None:
                        return response
                    try:
                        check(response)
                        return response
                    except InvalidBody as exc:
                        reason = f"damaged answer: {exc}"
                elif response.status in _RETRY_AFTER_STATUSES:
                    reason = f"HTTP {response.status}"
                    wait = _retry_after(response.headers.get("Retry-After"))
                    if wait is not None and wait > self.settings.max_wait:
                        raise FetchError(full, f"HTTP {response.status}: the server asks to retry after {wait:.0f} s, "
                                               f"more than max_wait ({self.settings.max_wait:.0f} s); try again later")
                elif response.status >= 500:
                    reason = f"HTTP {response.status}"
                else:
                    raise HttpStatusError(full, response.status, response.body)
            if attempt == tries:
                break
            if wait is None:
                wait = self._backoff(attempt)
            log.warning("%s: %s; retrying in %.1f s (try %d of %d)", full, reason, wait, attempt + 1, tries)
            self.sleep(wait)
        raise FetchError(full, f"gave up after {tries} {'try' if tries == 1 else 'tries'}: {reason}")

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
        self._wait_turn(urllib.parse.urlsplit(url).netloc, delay)
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip"})
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout) as answer:
                status, headers, body = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as exc:  # 4xx/5xx still carry a body (arXiv's error feed)
            status, headers = exc.code, exc.headers
            body = exc.read()
        if (headers.get("Content-Encoding") or "").lower() == "gzip":
            body = gzip.decompress(body)
        return Response(url, status, body, headers)


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
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _describe(exc: BaseException) -> str:
    """One line for a network error."""
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        inner = exc.reason
        if isinstance(inner, TimeoutError) or "timed out" in str(inner):
            return "timed out"
        return f"cannot connect ({inner})"
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "timed out"
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection closed mid-answer ({len(exc.partial)} bytes read)"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
        return f"damaged gzip answer ({exc})"
    return f"{type(exc).__name__}: {exc}"
