"""The page registry: a page is declared once, as one data function and the views that show it.

A page (the daily feed, a search, a paper) is one set of data at several addresses: its HTML
page, its JSON twin under ``/api/`` and, for some, an Atom feed under ``/feeds/``. Written
by hand, each address repeated the parameters, checks and links of the others. A :class:`Page`
names its addresses and parameters, gives ONE function that finds its data and, per view,
only how to present it; :func:`register` makes its routes and records its addresses for
:func:`.links.url_for`, which makes every link to it (twin, feed, previous and next).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from . import atom, links
from .common import JSON, listing, render

Data = dict[str, Any]
feeds = APIRouter()  # the Atom feeds of all pages, listed together in /openapi.json


@dataclass(frozen=True)
class Param:
    """A parameter: in the path when the path names it, else in the query string."""

    name: str
    doc: str | None = None  # its description in /openapi.json
    safe: str = ""  # in a path: the characters links leave unescaped ("/" in a paper id)


@dataclass(frozen=True)
class Params:
    """What a request asks of a page: each parameter as sent (None when absent), the view
    answering ("html", "json" or "atom") and how many papers that view shows."""

    values: Mapping[str, str | None]
    view: str
    size: int

    def __getitem__(self, name: str) -> str | None:
        return self.values.get(name)


@dataclass(frozen=True)
class Html:
    """The page: its template and the context it adds to the data and to what every page shows
    (or a Response of its own, such as a redirect); ``params``: those its JSON twin does not take."""

    path: str
    template: str
    context: Callable[[Request, Data], Mapping[str, Any] | Response]
    params: tuple[Param, ...] = ()


@dataclass(frozen=True)
class Json:
    """The JSON twin: its body made from the data, and what /openapi.json says of it."""

    path: str
    body: Callable[[Data], Any]
    tags: list[str]
    summary: str
    description: str = ""


@dataclass(frozen=True)
class Atom:
    """The Atom feed: its entries made from the data, its own parameters and length."""

    path: str
    entries: Callable[[Data], atom.Feed]
    summary: str
    params: tuple[Param, ...]
    size: int


@dataclass(frozen=True)
class Page:
    """One page: its name (for url_for), its data function and views, its parameters."""

    name: str
    data: Callable[[Request, Params], Data]
    html: Html
    json: Json
    params: tuple[Param, ...] = ()
    atom: Atom | None = None
    per_page: int = 0


def register(router: APIRouter, page: Page) -> Page:
    """Add the page's HTML route (not in /openapi.json) and JSON route to ``router``, and its
    Atom route to :data:`feeds`; the route names keep /openapi.json's operation ids as they were."""
    html, json, feed = page.html, page.json, page.atom
    _route(router, page, "html", html.path, page.params + html.params, name=f"{page.name}_page",
           include_in_schema=False)
    _route(router, page, "json", json.path, page.params, name=f"{page.name}_api", tags=json.tags,
           summary=json.summary, description=inspect.cleandoc(json.description) or None)
    if feed:  # named after its file: daily_atom, category_atom
        name = re.sub(r"\W", "", feed.path.rsplit("/", 1)[-1].removesuffix(".atom")) + "_atom"
        _route(feeds, page, "atom", feed.path, feed.params, name=name, tags=["feeds"], summary=feed.summary)
    return page


def _route(router: APIRouter, page: Page, view: str, path: str, params: tuple[Param, ...],
           **options: Any) -> None:
    parts = tuple(links.PATH_PARAM.split(path))
    in_path = set(parts[1::2])
    safe = {p.name: p.safe for p in params}
    links.ROUTES[page.name, view] = links.Route(parts, safe, any(p.name not in in_path for p in params))
    answer = _ANSWERS[view]
    size = page.atom.size if view == "atom" and page.atom else page.per_page

    def endpoint(request: Request, **values: str | None) -> Response:
        return answer(page, request, page.data(request, Params(values, view, size)))

    # FastAPI reads the parameters from the signature: it passes them in, and documents them
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
        + [_parameter(p, p.name in in_path) for p in params], return_annotation=Response)
    router.add_api_route(path, endpoint, **options)


def _parameter(param: Param, in_path: bool) -> inspect.Parameter:
    if in_path:
        return inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, annotation=str)
    default = Query(None, description=param.doc) if param.doc else None
    return inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=str | None)


def _html(page: Page, request: Request, data: Data) -> Response:
    context = page.html.context(request, data)
    if isinstance(context, Response):
        return context
    return render(request, page.html.template, **{**data, **_shared(page, request, data), **context})


def _shared(page: Page, request: Request, data: Data) -> Data:
    """What every page shows alike, made here so that no page makes it by hand: its JSON twin
    (with the query string as sent, where the page takes one), its Atom feed, ``link(**change)``
    to itself with other parameters (``data["here"]``: those naming it), ``previous`` and
    ``next`` (from the parameters in the data) and its papers as cards."""
    here = {name: data[name] for name in links.ROUTES[page.name, "json"].names}
    twin, query = links.url_for(page.name, "json", **here), request.url.query
    takes_query = links.ROUTES[page.name, "html"].query
    shared = {"json_url": f"{twin}?{query}" if query and takes_query else twin,
              "link": links.linker(page.name, "html", **here, **data.get("here", {}))}
    if page.atom:
        feed_params = {p.name: data.get(p.name) for p in page.atom.params}
        shared["atom_url"] = links.url_for(page.name, "atom", **feed_params)
    for side in ("previous", "next"):
        if side in data:
            shared[side] = links.url_or_none(page.name, "html", data[side])
    return shared | (listing(data) if "rows" in data else {})


_ANSWERS: dict[str, Callable[[Page, Request, Data], Response]] = {
    "html": _html,
    "json": lambda page, request, data: JSON(page.json.body(data)),
    "atom": lambda page, request, data: atom.respond(request, page.atom.entries(data)),  # type: ignore[union-attr]
}
