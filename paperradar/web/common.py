"""What every page family shares: input checking, errors, rendering, JSON, how a paper is shown.

Every parameter arrives as a string and is checked here, so a bad one is a
400 with a sentence saying what was wrong (never FastAPI's 422, never a
500). Beside each check is the JSON schema /openapi.json gives the values it
accepts (``TEXT``, ``PAGE``, ``DATE``, ...: a :class:`.pages.Param`'s
``schema``), so that the two are read, and changed, together; an empty
value is the parameter left out. Pages are rendered with Jinja2 (autoescaping on); each page's
template context carries ``json_url``, the address of its JSON twin.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import Request
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response

from ..app import Radar
from ..citation import links
from ..present import paper_json, snippet_html, snippet_text
from ..rank import feed as feeds
from ..store import Store
from .links import author_url, category_url, paper_url
from .tex import excerpt, tex_html

MAX_QUERY_CHARS = 10_000  # a pasted abstract (about 2,000 characters) is a query; a book is not
MAX_PARAM_CHARS = 300  # names, categories, dates
MAX_PAGE = 500
SHOWN_AUTHORS = 6
CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # refused in every parameter (tab, CR and LF are not)
_CONTROL = re.compile(f"[{CONTROLS}]")
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z0-9.\-]{0,39}$")
_INTEGER = re.compile(r"-?[0-9]+")  # not int()'s "+5", "5_000" or "٥"


class HTTPError(Exception):
    """A request the app answers with ``status`` and a clear ``message`` (HTML page or JSON)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def bad(message: str) -> HTTPError:
    return HTTPError(400, message)


# -- parameters ----------------------------------------------------------------


Schema = dict[str, Any]
NO_CONTROL = f"^[^{CONTROLS}]*$"
NOT_BLANK = f"^[^{CONTROLS}]*[^{CONTROLS}\\s][^{CONTROLS}]*$"  # and something besides spaces


def text_schema(max_chars: int = MAX_PARAM_CHARS, required: bool = False) -> Schema:
    """What :func:`text_param` takes: no control characters, at most ``max_chars``; when
    ``required``, something besides spaces."""
    schema: Schema = {"type": "string", "maxLength": max_chars, "pattern": NO_CONTROL}
    return schema | {"minLength": 1, "pattern": NOT_BLANK} if required else schema


TEXT = text_schema()
NAME = text_schema(required=True)


def text_param(value: str | None, name: str, max_chars: int = MAX_PARAM_CHARS) -> str | None:
    """A free-text parameter, whitespace-trimmed; None when empty. Control characters (NUL, ...)
    and overlong values are refused with a 400 naming the parameter (a query over ``MAX_QUERY_CHARS`` too:
    a parameter's value, not the request, is too long, so not 413)."""
    if value is None:
        return None
    if _CONTROL.search(value):
        raise bad(f"{name} contains control characters (such as NUL); remove them")
    if len(value) > max_chars:
        status = 400
        raise HTTPError(status, f"{name} is too long: {len(value):,} characters (at most {max_chars:,})")
    value = value.strip()
    return value or None


QUERY = text_schema(MAX_QUERY_CHARS)  # longer: 400
QUERY_REQUIRED = text_schema(MAX_QUERY_CHARS, required=True)


def query_param(value: str | None) -> str | None:
    return text_param(value, "q", MAX_QUERY_CHARS)


DATE: Schema = {"type": "string", "format": "date"}
# The days the feed and trending take (feeds.FIRST_DAY to feeds.LAST_DAY, years 0002 to 9998): the
# periods around them stay inside the calendar. Written as the pattern their years match.
FEED_DATE: Schema = DATE | {"pattern": "^(000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}"
                                       "|99[0-8][0-9]|999[0-8])-"}


def date_param(value: str | None, name: str, first: date = date.min, last: date = date.max) -> date | None:
    """A day written YYYY-MM-DD, from ``first`` to ``last``."""
    value = text_param(value, name)
    if value is None:
        return None
    try:
        day = feeds.parse_day(value)
    except ValueError:
        raise bad(f"{name} must be a date written YYYY-MM-DD, not {value[:40]!r}") from None
    if not first <= day <= last:
        raise bad(f"{name} must be a day from {first.isoformat()} to {last.isoformat()}, not {value!r}")
    return day


def feed_date_param(value: str | None, name: str = "date") -> date | None:
    """A day the feed or trending can show: its period, and the periods before and after it, are dates."""
    return date_param(value, name, feeds.FIRST_DAY, feeds.LAST_DAY)


def int_schema(low: int, high: int, default: int) -> Schema:
    return {"type": "integer", "minimum": low, "maximum": high, "default": default}


def int_param(value: str | None, name: str, default: int, low: int, high: int) -> int:
    value = text_param(value, name)
    if value is None:
        return default
    if not _INTEGER.fullmatch(value):
        raise bad(f"{name} must be a whole number from {low} to {high}, not {value[:40]!r}")
    number = int(value)  # at most MAX_PARAM_CHARS digits: text_param refused longer
    if not low <= number <= high:
        raise bad(f"{name} must be from {low} to {high}, not {value[:40]}")
    return number


PAGE = int_schema(1, MAX_PAGE, 1)


def page_param(value: str | None) -> int:
    return int_param(value, "page", 1, 1, MAX_PAGE)


def choice_schema(choices: tuple[str, ...], default: str | None) -> Schema:
    return {"type": "string", "enum": list(choices)} | ({"default": default} if default else {})


def choice_param(value: str | None, name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = text_param(value, name)
    if value is None:
        return default
    if value not in choices:
        raise bad(f"{name} must be one of {', '.join(choices)}, not {value[:40]!r}")
    return value


CATEGORY: Schema = {"type": "string", "pattern": _CATEGORY.pattern}


def category_param(value: str | None, name: str = "category") -> str | None:
    value = text_param(value, name)
    if value is None:
        return None
    if not _CATEGORY.match(value):
        raise bad(f"{name} must be an arXiv category such as cs.CL or hep-th, not {value[:40]!r}")
    return value


def name_param(value: str, name: str = "author") -> str:
    value = text_param(value, name)
    if value is None:
        raise bad(f"{name} is empty")
    return unicodedata.normalize("NFC", value)


# -- responses -----------------------------------------------------------------


class JSON(Response):
    """A JSON response written by orjson (fast, and exact for non-ASCII text)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


_env = Environment(
    loader=PackageLoader("paperradar.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["q"] = lambda s: quote(str(s), safe="")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``templates/``; ``json_url`` (the JSON twin) and ``atom_url`` are shown when given."""
    context.setdefault("json_url", None)
    context.setdefault("atom_url", None)
    context.setdefault("q", "")
    context["site"] = request.app.state.site_name
    from .auth import viewer  # (auth builds on this module)
    from .personal import You

    seen = viewer(request)
    context["viewer"], context["csrf_token"] = seen, seen.csrf
    context["you"] = You(store_of(request), seen.user)
    context.setdefault("accounts_on", seen.signed_in or store_of(request).has_users())
    from .subscriptions import mail_on  # the footer's subscribe form, the login page's mail links

    context.setdefault("mail_on", mail_on(request))
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status)


def radar_of(request: Request) -> Radar:
    """The system the app was built around (see :func:`paperradar.web.create_app`)."""
    return request.app.state.radar  # type: ignore[no-any-return]


def store_of(request: Request) -> Store:
    return radar_of(request).store


# -- how a paper is shown --------------------------------------------------------


def card(row: Mapping[str, Any], excerpt_chars: int = 280) -> dict[str, Any]:
    """What a list item shows of a paper (title and excerpt rendered, TeX included)."""
    authors = row["authors"]
    out = {
        "id": row["id"],
        "url": paper_url(row["id"]),
        "title_html": tex_html(row["title"]),
        "authors": [{"name": a, "url": author_url(a)} for a in authors[:SHOWN_AUTHORS]],
        "more_authors": max(len(authors) - SHOWN_AUTHORS, 0),
        "categories": [{"name": c, "url": category_url(c)} for c in row["categories"]],
        "date": row["published"],
        "upvotes": row["upvotes"],
        "snippet_html": _snippet(row) if row.get("snippet") else None,
        "excerpt_html": tex_html(excerpt(row["abstract"], excerpt_chars)) if row["abstract"] else None,
        "score": row.get("score"),
        "trend": row.get("trend"),
    }
    return out


def _snippet(row: Mapping[str, Any]) -> Markup:
    """The highlighted fragment, with "…" where it cuts the abstract."""
    plain = snippet_text(row["snippet"]).strip()
    abstract = (row["abstract"] or "").strip()
    head = "" if abstract.startswith(plain[:30]) else "… "
    tail = "" if abstract.endswith(plain[-30:]) else " …"
    return Markup(head + snippet_html(row["snippet"]).strip() + tail)


def with_links(paper: dict[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """A paper's public JSON plus its page on this site and its outside links."""
    paper["links"] = links(row)
    paper["url"] = paper_url(row["id"])
    return paper


def paged(rows: list[dict[str, Any]], total: int, page: int, per_page: int) -> dict[str, Any]:
    """One page of a listing, and where it stands: the data a listed page's views share."""
    pages = max(1, min(MAX_PAGE, -(-total // per_page)))
    return {"rows": rows, "total": total, "page": page, "pages": pages, "per_page": per_page}


def paged_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """A page of a listing as JSON twins give it."""
    return {k: data[k] for k in ("total", "page", "pages", "per_page")} | {"papers": papers_json(data["rows"])}


def papers_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [with_links(paper_json(r), r) for r in rows]


def listing(data: Mapping[str, Any]) -> dict[str, Any]:
    """What a page shows of the papers it lists: cards, numbered from its page's first."""
    return {"papers": [card(r) for r in data["rows"]], "first_rank": (data["page"] - 1) * data["per_page"] + 1}


def embedding_notice(request: Request) -> str | None:
    """What the page should say while ``serve --embed`` works (None when no embedding runs)."""
    progress = radar_of(request).embedding_progress()
    if progress is None:
        return None
    eta = progress["eta_seconds"]
    left = f", about {_duration(eta)} left" if eta is not None else ""
    if progress["phase"] in ("starting", "documents"):
        return (f"Semantic search covers {progress['covered']:.0%} of papers for now: the rest are being"
                f" embedded ({progress['phase_done']:,} of {progress['phase_total']:,} done{left}).")
    if progress["phase"] == "sentences":
        return (f"Similar papers are being refined: sentence vectors for {progress['phase_done']:,} of"
                f" {progress['phase_total']:,} papers{left}.")
    return None


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute"
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
