"""The web application: server-rendered pages, their JSON twins, Atom feeds.

:func:`create_app` builds it around an open store. Routes live in one module
per page family (``feed``, ``search``, ``papers``, ``browse``, ``trending``,
``meta``), each page declared once with :mod:`.pages`, plus Hugging Face's
papers API (``hf_api``, plain JSON routes); this module adds what
every response shares: security headers (a strict Content-Security-Policy: no
inline script or style), a ``Server-Timing`` header with the time the app
spent, and errors as an HTML page or, under ``/api/`` and ``/feeds/``, as JSON.

/openapi.json is FastAPI's, from what the routes declare (:mod:`.pages`, :mod:`.schemas`),
with two corrections made here for every operation: the 422 FastAPI lists by default is
dropped (a bad parameter is a 400; FastAPI's validation errors are turned into one), and the
414 of an overlong query string, which this module answers before any route, is listed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import Response
from starlette.routing import Match
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..app import Radar
from ..store import StorageFault
from . import schemas
from .common import JSON, HTTPError, render

log = logging.getLogger("paperradar.web")

# bytes, URL-encoded: room for any query the parameters allow (10,000 characters of 4-byte UTF-8,
# percent-encoded, is 120,000 bytes) with the other parameters; more is refused with 414
MAX_QUERY_STRING = 131_072

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        (
            b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        ),
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class Guard:
    """ASGI middleware: refuses oversized query strings, adds security and timing headers, and
    answers an unexpected error with a 500 page (logged) that carries the same headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = {"started": False}

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["started"] = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                took = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={took:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        if len(scope.get("query_string", b"")) > MAX_QUERY_STRING:
            response = _error(Request(scope), 414, f"query string too long (more than {MAX_QUERY_STRING:,} bytes)")
            await response(scope, receive, wrapped)
            return
        try:
            await self.app(scope, receive, wrapped)
        except Exception:
            log.exception("error answering %s", scope.get("path"))
            if state["started"]:
                raise
            response = _error(Request(scope), 500, "something went wrong on the server; the error was logged")
            await response(scope, receive, wrapped)


def create_app(radar: Radar, site_name: str = "paperradar", catch_up_index: bool = True) -> FastAPI:
    """The web app over ``radar``. With ``catch_up_index``, the derived indexes are first brought up
    to date (an interrupted import, an index made from another database), so search sees every paper."""
    # In the order of the API listing: importing a page family registers its pages, and their
    # Atom feeds (pages.feeds) in that order.
    from . import feed, hf_api, trending, search, account, papers, browse, meta, pages  # noqa: I001

    if catch_up_index:
        radar.refresh()
    app = FastAPI(
        title="paperradar",
        version=__version__,
        description=(
            "Research-paper discovery: the daily feed, trending, search, paper pages, authors and "
            "categories. Every HTML page has a JSON twin under /api/; Atom feeds under /feeds/. "
            "Hugging Face's papers API at the same paths (/api/daily_papers, /api/papers/search, "
            "/api/papers/{id}, /papers/{id}.md), so its clients work unchanged."
        ),
        docs_url=None,  # the interactive docs load scripts from a CDN: not on a site with a strict CSP
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.state.radar = radar
    app.state.site_name = site_name
    # hf_api.router (/papers/{id}.md) before the paper page, whose {id:path} would take it;
    # hf_api.paper_router (/api/papers/{id}) after the paper's /api/papers/{id}/similar and friends.
    from . import comments, follows, library, votes
    from . import account_mail, subscriptions  # the digest's subscriptions, account mails (issue 13)
    from . import foryou  # /for-you, /api/me/for-you, the cold-start forms (issue 13)

    for router in (feed.router, hf_api.router, trending.router, search.router, account.router, votes.router,
                   comments.router, follows.router, library.router, subscriptions.router, account_mail.router,
                   foryou.router,
                   papers.router, hf_api.paper_router,
                   browse.router, pages.feeds, meta.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(packages=[("paperradar.web", "static")]), name="static")
    app.add_exception_handler(HTTPError, _http_error)
    app.add_exception_handler(StarletteHTTPException, _starlette_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StorageFault, _storage_fault)
    if radar.settings.hosts is not None:  # a Host the site does not go by: 400 (links are never built from it)
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(radar.settings.hosts))
    app.add_middleware(Guard)
    return app


TOO_LONG = {"description": f"the query string is over {MAX_QUERY_STRING:,} bytes",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's /openapi.json without its 422s and with the 414 every operation can answer."""
    made = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = made()
            models = spec.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                models.pop(name, None)
            error = schemas.Error.model_json_schema(ref_template="#/components/schemas/{model}")
            models.update(error.pop("$defs", {}), Error=error)
            for operations in spec.get("paths", {}).values():
                for operation in operations.values():
                    answers = operation.setdefault("responses", {})
                    answers.pop("422", None)
                    answers.setdefault("414", TOO_LONG)
        return app.openapi_schema  # type: ignore[return-value]

    return openapi


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/feeds/")) or path == "/openapi.json"


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSON({"error": {"status": status, "message": message}}, status_code=status)
    return render(request, "error.html", status=status, status_code=status, message=message, title=f"Error {status}")


async def _storage_fault(request: Request, exc: Exception) -> Response:
    """A write the storage refused (disk full, read-only): one line in the log, a 503 saying why."""
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return _error(request, 503, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPError)
    response = _error(request, exc.status, exc.message)
    response.headers.update(exc.headers)
    return response


async def _starlette_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: f"nothing here: {request.url.path}", 405: "method not allowed"}
    response = _error(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:  # Starlette names the first matching route's methods; the path has them all
        response.headers["allow"] = ", ".join(sorted(_methods_of(request)))
    return response


def _methods_of(request: Request) -> set[str]:
    """Every method some route answers at the request's path."""
    methods: set[str] = set()
    pending = list(request.app.router.routes)
    while pending:
        route = pending.pop()
        inner = getattr(route, "original_router", None)  # an included router: its own routes
        if inner is not None:
            pending.extend(inner.routes)
            continue
        if getattr(route, "methods", None) and route.matches(request.scope)[0] != Match.NONE:
            methods |= set(route.methods)
    return methods


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("query", "path"))
    if first.get("type") == "missing":  # a required parameter (q of /feeds/search.atom)
        return _error(request, 400, f"{where} is required")
    return _error(request, 400, f"bad parameter {where}: {first.get('msg', 'invalid')}")
