"""Addresses: every link to a page is made from the path its page was registered with
(:func:`.pages.register` adds it), so that a link cannot drift from its route."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from starlette.requests import Request

PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")  # Starlette's {name} or {name:convertor}


class Route(NamedTuple):
    parts: tuple[str, ...]  # the path split at its parameters: text, name, text, ..., text
    safe: Mapping[str, str]  # per path parameter: the characters left unescaped ("/" in a paper id)
    query: bool  # whether the view takes query parameters

    @property
    def names(self) -> tuple[str, ...]:
        return self.parts[1::2]


ROUTES: dict[tuple[str, str], Route] = {}  # by page name and view


def url(path: str, **params: Any) -> str:
    """``path`` with the parameters that are set (None and "" are left out)."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def url_for(name: str, view: str, /, **params: Any) -> str:
    """The address of page ``name``'s ``view`` ("html", "json" or "atom"): path parameters in the
    path (escaped), the others in the query string (None and "" left out)."""
    parts, safe, _ = ROUTES[name, view]  # written for speed: a list page makes hundreds
    path = parts[0]
    for i in range(1, len(parts), 2):
        path += quote(str(params.pop(parts[i])), safe=safe.get(parts[i], "")) + parts[i + 1]
    return url(path, **params) if params else path


def url_or_none(name: str, view: str, params: Mapping[str, Any] | None) -> str | None:
    """A link to a neighbouring page (previous, next) given by its parameters, if there is one."""
    return None if params is None else url_for(name, view, **params)


def linker(name: str, view: str, /, **base: Any) -> Callable[..., str]:
    """``link(**change)``: the view's address with ``base`` changed, as pagers and filters need."""
    return lambda **change: url_for(name, view, **{**base, **change})


def paper_url(paper_id: str) -> str:
    return url_for("paper", "html", paper_id=paper_id)


def author_url(name: str) -> str:
    return url_for("author", "html", name=name)


def category_url(category: str) -> str:
    return url_for("category", "html", category=category)


def site_url(request: Request) -> str:
    """The site's absolute address without a trailing slash: the configured base URL, else the request's
    (whose Host the server checked against the names it goes by)."""
    configured = request.app.state.radar.settings.base_url
    return (configured or str(request.base_url)).rstrip("/")
