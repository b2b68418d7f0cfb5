"""A local stand-in for arXiv and Hugging Face: real captured answers, injected faults.

An ``http.server`` in a thread on 127.0.0.1 (ephemeral port) answers like
the real services, with the captured responses in ../shared/fixtures (and
the saved Hugging Face days in ../shared/data/hf-daily-papers), chosen by
the request's parameters:

* ``/oai`` (OAI-PMH ListRecords): a multi-page harvest built from real
  pages, and the real error answers (badResumptionToken for an unknown
  token, noRecordsMatch for ``set=moo`` or an empty from/until window,
  badArgument for another verb).
* ``/api/query`` (arXiv API): the captured answer for each captured
  ``id_list`` or query, the HTTP 400 error feed for ``id_list=abc``, the
  empty feed for ``id_list=0000.0000`` and for pages past the results.
* ``/rss/...``, ``/atom/...``: the captured rss.arxiv.org feeds.
* ``/api/daily_papers?date=D``: the saved HF answer of day D, ``[]`` for a
  day without one.

The captured OAI pages come from different harvests and only two have a
resumption token, so a multi-page harvest is made by serving real pages in
sequence and rewriting **only their resumptionToken element**: page i gets
token ``tok-i`` (added before ``</ListRecords>`` where the page had none),
and the last page gets an empty token, which ends a list in OAI-PMH.
Everything else in each page is byte for byte the captured answer.

Faults are queued per path with :meth:`FixtureServer.fail_next` and used up
in order: ``503`` (with Retry-After), ``reset`` (connection reset mid-body),
``stall`` (no answer until past the client's timeout), ``invalid`` (the
real answer cut in half: invalid XML or JSON), ``block`` (hold the request
until the test releases it, e.g. to kill the client meanwhile), ``status``
(an HTTP error code), and ``pass`` (the normal answer: to leave a request
out of a queued sequence).
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest
from conftest import SHARED, shared

OAI_PAGES = [
    "fixtures/arxiv_oai/ListRecords_arXivRaw_trimmed6_resumptionToken.xml",  # 6 records
    "fixtures/arxiv_oai/ListRecords_arXiv_set-cs_46records_complete.xml",  # 46 records
    "fixtures/arxiv_oai/ListRecords_oai_dc_set-cs_trimmed5_resumptionToken.xml",  # 5 records
]
OAI_RECORDS = 57  # distinct papers over the three pages (no id is on two pages)
API_FILES = {
    "1605.08386": "idlist_1605.08386.xml",
    "astro-ph/0601001": "idlist_oldstyle_astro-ph_0601001.xml",
    "quant-ph/0201082v1": "idlist_oldstyle_versioned_quant-ph_0201082v1.xml",
    "0808.05394,1707.08567": "idlist_two_ids_one_missing.xml",
    "0000.0000": "empty_idlist_0000.0000.xml",
}


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


SHARED_DIRS = ["fixtures/arxiv_oai", "fixtures/arxiv_api", "fixtures/arxiv_rss", "data/hf-daily-papers"]


def read(relative: str) -> bytes:
    """A file under ../shared (checked by :class:`FixtureServer` on the test's thread, so a
    missing one skips or fails the test instead of breaking a server thread)."""
    return (SHARED / relative).read_bytes()


def set_token(page: bytes, token: str) -> bytes:
    """The page with only its resumptionToken element's text replaced (or the element added)."""
    element = re.compile(rb"(<resumptionToken[^>]*?)(?:/>|>[^<]*</resumptionToken>)")
    if element.search(page):
        return element.sub(lambda m: m[1] + b">" + token.encode() + b"</resumptionToken>", page, count=1)
    return page.replace(b"</ListRecords>", f"<resumptionToken>{token}</resumptionToken>\n</ListRecords>".encode(), 1)


def oai_sequence(files: list[str] = OAI_PAGES) -> list[bytes]:
    """Real pages chained by rewritten tokens: tok-1, tok-2, ..., then an empty token."""
    pages = [read(f) for f in files]
    return [set_token(p, f"tok-{i + 1}" if i + 1 < len(pages) else "") for i, p in enumerate(pages)]


class FixtureServer:
    """The local services; ``requests`` lists what arrived, in order."""

    def __init__(self) -> None:
        for directory in SHARED_DIRS:
            shared(directory)
        self.oai_pages = oai_sequence()
        self.hf_upvotes: dict[str, int] = {}  # arXiv id -> count served instead of the captured one
        self.requests: list[Seen] = []
        self.blocked = threading.Event()  # a "block" fault is holding a request
        self.release = threading.Event()
        self.closing = threading.Event()
        self._faults: list[tuple[str, str, dict]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fixture = self  # type: ignore[attr-defined]
        self.httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def fail_next(self, path: str, fault: str, times: int = 1, **options: object) -> None:
        """Answer the next ``times`` requests to ``path`` with ``fault``."""
        with self._lock:
            self._faults.extend([(path, fault, options)] * times)

    def take_fault(self, path: str) -> tuple[str, dict] | None:
        with self._lock:
            for i, (p, fault, options) in enumerate(self._faults):
                if path.startswith(p):
                    del self._faults[i]
                    return fault, options
        return None

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path.startswith(path)]

    def close(self) -> None:
        self.closing.set()
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- the services -----------------------------------------------------------

    def answer(self, path: str, params: dict[str, str]) -> Reply:
        if path == "/oai":
            return self.oai(params)
        if path == "/api/query":
            return self.arxiv_api(params)
        if path.startswith("/rss/"):
            return Reply(read("fixtures/arxiv_rss/rss_arxiv_org_rss_multi-cat_trimmed4items.xml"))
        if path.startswith("/atom/"):
            return Reply(read("fixtures/arxiv_rss/rss_arxiv_org_atom_cs.LG_trimmed3.xml"))
        if path == "/api/daily_papers":
            return self.hf_daily(params)
        return Reply(b"not found", 404)

    def oai(self, params: dict[str, str]) -> Reply:
        if params.get("verb") != "ListRecords":
            return Reply(read("fixtures/arxiv_oai/error_badArgument.xml"))
        token = params.get("resumptionToken")
        if token is None:
            if params.get("set") == "moo":
                return Reply(read("fixtures/arxiv_oai/error_noRecordsMatch_unknown_set.xml"))
            if params.get("from") and params.get("from") == params.get("until"):
                return Reply(read("fixtures/arxiv_oai/error_noRecordsMatch_empty_date_window.xml"))
            return Reply(self.oai_pages[0])
        m = re.fullmatch(r"tok-(\d+)", token)
        if m and int(m[1]) < len(self.oai_pages):
            return Reply(self.oai_pages[int(m[1])])
        return Reply(read("fixtures/arxiv_oai/error_badResumptionToken.xml"))

    def arxiv_api(self, params: dict[str, str]) -> Reply:
        ids = params.get("id_list", "")
        if ids == "abc":
            return Reply(read("fixtures/arxiv_api/error_http400_bad_id_abc.xml"), 400)
        if ids:
            name = API_FILES.get(ids, "empty_idlist_0000.0000.xml")
            return Reply(read(f"fixtures/arxiv_api/{name}"))
        start, size = int(params.get("start", "0")), int(params.get("max_results", "10"))
        if start >= 100:
            return Reply(read("fixtures/arxiv_api/empty_idlist_0000.0000.xml"))
        name = "search_testing_max10.xml" if size <= 10 else "search_testing_max100.xml"
        return Reply(read(f"fixtures/arxiv_api/{name}"))

    def hf_daily(self, params: dict[str, str]) -> Reply:
        """The saved answer of the day; upvote counts replaced where a test set ``hf_upvotes``."""
        day = params.get("date", "")
        path = SHARED / "data/hf-daily-papers" / f"{day}.json"
        if not path.exists():
            return Reply(b"[]", headers={"Content-Type": "application/json"})
        body = path.read_bytes()
        if self.hf_upvotes:
            entries = orjson.loads(body)
            for entry in entries:
                if entry["paper"]["id"] in self.hf_upvotes:
                    entry["paper"]["upvotes"] = self.hf_upvotes[entry["paper"]["id"]]
            body = orjson.dumps(entries)
        return Reply(body, headers={"Content-Type": "application/json"})


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        fixture: FixtureServer = self.server.fixture  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        fixture.requests.append(Seen(split.path, params, dict(self.headers.items()), time.monotonic()))
        fault = fixture.take_fault(split.path)
        reply = fixture.answer(split.path, params)
        if fault is None:
            self._send(reply)
            return
        kind, options = fault
        if kind == "503":
            self._send(Reply(b"Service temporarily unavailable", 503, {"Retry-After": str(options.get("retry_after", 1))}))
        elif kind == "reset":
            self._reset_mid_body(reply)
        elif kind == "stall":
            fixture.closing.wait(float(options.get("seconds", 3)))
            self._send(reply)
        elif kind == "invalid":
            self._send(Reply(reply.body[: len(reply.body) // 2], reply.status, reply.headers))
        elif kind == "block":
            fixture.blocked.set()
            fixture.release.wait(30)
            self._send(reply)
        elif kind == "pass":
            self._send(reply)
        elif kind == "status":
            self._send(Reply(b"error", int(options["code"])))  # type: ignore[arg-type]
        else:
            raise ValueError(kind)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass  # the client is gone (killed, or timed out)

    def _reset_mid_body(self, reply: Reply) -> None:
        """Promise the whole body, send half, then reset the connection (RST, not FIN)."""
        self.send_response(reply.status)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body[: len(reply.body) // 2])
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


def write_config(path: Path, server: FixtureServer, top: str = "", oai: str = "", api: str = "", rss: str = "",
                 hf: str = "", **http: object) -> Path:
    """A config file pointing every source at ``server``, with near-zero pauses for tests.

    ``top``, ``oai``, ``api``, ``rss`` and ``hf`` are extra TOML lines for the
    top level and for each source's table; ``http`` overrides [http] keys.
    """
    settings = {"timeout": 2, "tries": 3, "backoff": 0.05, "max_wait": 5, **http}
    http_lines = "\n".join(f"{k} = {v}" for k, v in settings.items())
    path.write_text(
        f"""contact = "tests@example.org"
{top}

[http]
{http_lines}

[arxiv-oai]
base_url = "{server.base}/oai"
delay = 0.01
{oai}

[arxiv-api]
base_url = "{server.base}/api/query"
delay = 0.01
{api}

[arxiv-rss]
base_url = "{server.base}/rss"
delay = 0.01
{rss}

[hf-daily]
base_url = "{server.base}/api/daily_papers"
delay = 0.01
{hf}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[FixtureServer]:
    """The local services; requests to 127.0.0.1 never go through a proxy."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = FixtureServer()
    yield server
    server.close()


@pytest.fixture
def sync_config(tmp_path: Path, services: FixtureServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file aimed at the local services (also set as $PAPERRADAR_CONFIG)."""
    path = write_config(tmp_path / "sync.toml", services)
    monkeypatch.setenv("PAPERRADAR_CONFIG", str(path))
    return path
