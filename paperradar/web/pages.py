"""The page registry: a page is declared once, as one data function and the views that show it.

A page (the daily feed, a search, a paper) is one set of data at several addresses: its HTML
page, its JSON twin under ``/api/`` and, for some, an Atom feed under ``/feeds/``. Written
by hand, each address repeated the parameters, checks and links of the others. A :class:`Page`
names its addresses and parameters, gives ONE function that finds its data and, per view,
only how to present it; :func:`register` makes its routes and records its addresses for
:func:`.links.url_for`, which makes every link to it (twin, feed, previous and next).

It also says, once per kind of view, what /openapi.json tells of them: each parameter with the
schema of the values its check accepts (``Param.schema``; required where the page needs it), the
JSON twin's body (``Json.model``, from :mod:`.schemas`) and the Atom feed as
``application/atom+xml``, and every status a view can answer besides 200, with the error body:
400 where it takes parameters, the page's own ``errors`` (404, 409). The 414 of an
overlong query string, which every route can answer, is added by :mod:`.app`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import WithJsonSchema
from starlette.responses import Response

from . import atom, links
from .common import CONTROLS, JSON, NO_CONTROL, TEXT, listing, render

Data = dict[str, Any]
feeds = APIRouter()  # the Atom feeds of all pages, listed together in /openapi.json


@dataclass(frozen=True)
class Param:
    """A parameter: in the path when the path names it, else in the query string."""

    name: str
    doc: str | None = None  # its description in /openapi.json
    safe: str = ""  # in a path: the characters links leave unescaped ("/" in a paper id)
    schema: Mapping[str, Any] = field(default_factory=lambda: TEXT)  # the values its check accepts
    required: bool = False  # in the query string: a request without it is a 400


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
    model: Any = None  # the body's model (schemas.py), for /openapi.json


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
    errors: Mapping[int, str] = field(default_factory=dict)  # what its data function answers besides 400


def register(router: APIRouter, page: Page) -> Page:
    """Add the page's HTML route (not in /openapi.json) and JSON route to ``router``, and its
    Atom route to :data:`feeds`; the route names keep /openapi.json's operation ids as they were."""
    html, json, feed = page.html, page.json, page.atom
    _route(router, page, "html", html.path, page.params + html.params, name=f"{page.name}_page",
           include_in_schema=False)
    _route(router, page, "json", json.path, page.params, name=f"{page.name}_api", tags=json.tags,
           summary=json.summary, description=inspect.cleandoc(json.description) or None,
           response_model=json.model, responses=errors(page.errors, page.params))
    if feed:  # named after its file: daily_atom, category_atom
        name = re.sub(r"\W", "", feed.path.rsplit("/", 1)[-1].removesuffix(".atom")) + "_atom"
        _route(feeds, page, "atom", feed.path, feed.params, name=name, tags=["feeds"], summary=feed.summary,
               response_class=AtomXml, responses={200: {"description": "an Atom feed (RFC 4287)"}}
               | errors(page.errors, feed.params))
    return page


class AtomXml(Response):
    """How /openapi.json names an Atom feed's body (:func:`.atom.respond` writes it)."""

    media_type = "application/atom+xml"


ERRORS = {
    400: "a parameter is not valid: the message names it and says what it takes",
    401: "no valid credentials: sign in, or send Authorization: Bearer with a personal API token",
    403: "not allowed: another user's data, an administrator's action, or (with the session cookie) "
         "a request from another site or without the CSRF token",
    404: "not found",
    409: "the answer needs what this site does not have yet: the message says what",
    429: "too many failed sign-ins: try again after Retry-After seconds",
}


ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}  # app.py adds the model


def errors(statuses: Mapping[int, str], params: tuple[Param, ...] = ()) -> dict[int | str, Any]:
    """The ``responses`` of a route: each status with what it means ("": the usual words) and the
    error body, JSON whatever the route's own type (an Atom feed's errors too); 400 when it takes
    parameters (for a plain route, name 400 in ``statuses``)."""
    wanted = ({400: ""} if params else {}) | dict(statuses)
    return {status: {"description": text or ERRORS.get(status, ""),
                     "content": {kind: dict(v) for kind, v in ERROR_BODY.items()}}
            for status, text in sorted(wanted.items())}


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
    default = inspect.Parameter.empty if in_path or param.required else None
    return inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=documented(param, in_path))


def documented(param: Param, in_path: bool = False) -> Any:
    """The annotation FastAPI reads a parameter by: the string as sent (the data function checks
    it), documented with ``param``'s description and schema; a plain route's parameters use it too."""
    where = Path(description=param.doc) if in_path else Query(description=param.doc)
    kind = str if in_path or param.required else str | None
    schema = dict(param.schema)
    if not (in_path or param.required or _takes_blank(schema)):  # an empty field of a form: left out
        schema = {"anyOf": [schema, BLANK]}
    return Annotated[kind, where, WithJsonSchema(schema)]  # type: ignore[valid-type]


BLANK = {"type": "string", "pattern": f"^[^\\S{CONTROLS}]*$",  # spaces only (controls are refused)
         "description": "empty: the same as leaving it out"}


def _takes_blank(schema: Mapping[str, Any]) -> bool:
    """Whether a schema already takes "" and spaces (free text: ``common.TEXT``)."""
    return (schema.get("type") == "string" and not {"enum", "format", "minLength"} & schema.keys()
            and schema.get("pattern") in (None, NO_CONTROL))


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
