"""Follows and private feeds: ``/following``, the follow buttons' forms, ``/api/me/follows``,
``/api/me/following``, ``/api/me/feeds`` and ``/feeds/private/{token}.atom``.

- **Follows**: an author, a category or a saved search (its query and the search page's
  filters, checked with the search page's own checks). The buttons on the author, category
  and search pages (``_follow.html``) post to ``/following/add`` and
  ``/following/{id}/remove``; programs use ``/api/me/follows``.
- **/following**: the new papers matching any follow, each with its reasons
  (:mod:`paperradar.rank.following` says what "new" means). Reading the page changes
  nothing (a GET never changes state): "Mark all as seen" (``POST /following/seen``)
  moves the user's mark, and only to the moment the page was made, so papers that arrived
  while it was open stay new.
- **Private Atom feeds**: a secret, revocable token in the URL is the credential (a feed
  reader has no cookie). Only its sha256 is stored, so the URL is shown once, when it is
  made (settings page, or ``POST /api/me/feeds``). A revoked token, a disabled user's or an
  unknown one is a 404 at once. The feeds are ``Cache-Control: private`` and ``X-Robots-Tag:
  noindex``; every text in them (collection names, queries) is escaped by lxml.

Every route answers the viewer about themself only: another user's follow or feed id is a 404,
never a 403 (which would say that it exists).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.datastructures import FormData
from starlette.responses import Response

from .. import accounts, taxonomy
from ..rank import following
from ..rank.fusion import MODES
from ..store import Store, User
from ..store.follows import FOLLOW_KINDS
from . import atom, auth, schemas
from .common import (
    CATEGORY,
    DATE,
    JSON,
    MAX_QUERY_CHARS,
    NAME,
    QUERY_REQUIRED,
    TEXT,
    HTTPError,
    bad,
    card,
    category_param,
    choice_param,
    choice_schema,
    date_param,
    name_param,
    papers_json,
    radar_of,
    render,
    store_of,
    text_param,
    text_schema,
)
from .forms import field, id_number, next_path, page_user, see_other
from .links import author_url, category_url, site_url, url_for
from .pages import BLANK, AtomXml, Param, documented, errors

router = APIRouter()

MAX_FOLLOWS = 500
MAX_SEARCHES = 50  # each saved search runs once per /following view
MAX_FEEDS = 50  # live private feeds per user
FEED_PREFIX = "pfd_"
FEED_ENTRIES = 100
COLLECTION_ENTRIES = 200
DEFAULT_MODE = "hybrid"
_FEED_TOKEN = re.compile(r"^pfd_[A-Za-z0-9_-]{20,100}$")


# -- checking a follow ---------------------------------------------------------------


def check_follow(kind: str | None, value: str | None, filters: dict[str, Any] | None,
                 prefix: str = "filters.") -> tuple[str, str, dict[str, str]]:
    """(kind, value, filters) as stored, checked as the pages they come from check them, or a 400
    naming the field: an author's name as the author page takes it, a category as the category
    page, a search's query and filters as the search page (``prefix``: how filter fields are
    named in messages, ``filters.`` in JSON, nothing for a form's fields)."""
    kind = choice_param(kind, "kind", FOLLOW_KINDS, None)
    if kind is None:
        raise bad(f"kind is required: one of {', '.join(FOLLOW_KINDS)}")
    given = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    if kind != "search":
        if given:
            raise bad(f"{prefix or ''}{next(iter(given))}: only a search follow has filters")
        if kind == "author":
            return kind, name_param(value or "", "value"), {}
        category = category_param(value, "value")
        if category is None:
            raise bad("value is empty: the category to follow, such as cs.CL")
        return kind, taxonomy.canonical(category) or category, {}
    query = text_param(value, "value", MAX_QUERY_CHARS)
    if query is None:
        raise bad("value is empty: the search's query")
    return kind, query, search_filters(given, prefix)


def search_filters(given: dict[str, Any], prefix: str = "filters.") -> dict[str, str]:
    """A saved search's filters checked as /search checks them (empty ones and the default mode left out)."""
    unknown = sorted(set(given) - set(following.SEARCH_FILTERS))
    if unknown:
        raise bad(f"{prefix}{unknown[0]} is not a search filter (they are {', '.join(following.SEARCH_FILTERS)})")
    name = {k: prefix + k for k in following.SEARCH_FILTERS}
    for key, v in given.items():
        if not isinstance(v, str):
            raise bad(f"{name[key]} must be text")
    texts: dict[str, str] = given
    # An inverted range is valid, as on /search: nothing matches it.
    since, until = date_param(texts.get("since"), name["since"]), date_param(texts.get("until"), name["until"])
    mode = choice_param(texts.get("mode"), name["mode"], MODES, None)
    category = category_param(texts.get("category"), name["category"])
    out = {"category": category and (taxonomy.canonical(category) or category),
           "author": text_param(texts.get("author"), name["author"]),
           "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
           "mode": mode if mode != DEFAULT_MODE else None}
    return {k: v for k, v in out.items() if v}


def follow_url(kind: str, value: str, filters: dict[str, str]) -> str:
    """The page of what is followed: the author's, the category's, the search with its filters."""
    if kind == "author":
        return author_url(value)
    if kind == "category":
        return category_url(value)
    return url_for("search", "html", q=value, **filters)


def follow_json(follow: dict[str, Any]) -> dict[str, Any]:
    return {**follow, "text": following.describe(follow),
            "url": follow_url(follow["kind"], follow["value"], follow["filters"])}


def _too_many(store: Store, user: User, kind: str) -> None:
    """409 when one more follow would be too many (every saved search runs at each /following view)."""
    if store.follow_count(user.id) >= MAX_FOLLOWS:
        raise HTTPError(409, f"you follow {MAX_FOLLOWS} things already: unfollow some first")
    if kind == "search" and sum(f["kind"] == "search" for f in store.follows(user.id)) >= MAX_SEARCHES:
        raise HTTPError(409, f"you follow {MAX_SEARCHES} searches already: unfollow some first")


# -- /following ---------------------------------------------------------------------


def following_data(request: Request, user: User, since: str | None = None) -> dict[str, Any]:
    """What /following and its JSON twin show: the new papers since the user's mark (or ``since``)."""
    store = store_of(request)
    seen_at = store.following_seen_at(user.id)
    day = date_param(since, "since")
    as_of = following.now_stamp()
    arrived_after = following.day_start(day) if day else seen_at or following.first_visit_start()
    follows = store.follows(user.id)
    found = following.new_papers(radar_of(request), follows, arrived_after, store.hidden_ids(user.id))
    return {"user": user, "follows": [follow_json(f) for f in follows], "found": found, "seen_at": seen_at,
            "as_of": as_of, "first_visit": seen_at is None and day is None}


def following_body(data: dict[str, Any]) -> dict[str, Any]:
    found: following.NewPapers = data["found"]
    rows = [m.row for m in found.matches]
    return {"since": found.arrived_after, "listed_since": found.listed_since, "seen_at": data["seen_at"],
            "as_of": data["as_of"], "total": found.total,
            "papers": [{**paper, "reasons": [r.as_dict() for r in m.reasons]}
                       for paper, m in zip(papers_json(rows), found.matches, strict=True)],
            "skipped": [{**r.as_dict(), "why": why} for r, why in found.skipped],
            "follows": data["follows"]}


@router.get("/following", include_in_schema=False)
def following_page(request: Request) -> Response:
    """The signed-in viewer's new papers (anonymous: to /login, and back here after)."""
    user = page_user(request)
    if isinstance(user, Response):
        return user
    data = following_data(request, user)
    found: following.NewPapers = data["found"]
    papers = [{**card(m.row), "reasons": m.reasons} for m in found.matches]
    return render(request, "following.html", title="Following", json_url="/api/me/following", papers=papers,
                  total=found.total, since=_when(found.arrived_after), skipped=found.skipped,
                  follows=data["follows"], as_of=data["as_of"], seen_at=data["seen_at"],
                  first_visit=data["first_visit"], first_days=following.FIRST_VISIT.days)


def _when(stamp: str) -> str:
    """A stored time as the page shows it: ``2025-03-30 14:05 UTC``."""
    return stamp[:16].replace("T", " ") + " UTC"


SINCE = Param("since", "papers that arrived from this day on (YYYY-MM-DD; default: since you last marked "
                       "/following as seen, or the last 7 days)", schema=DATE)
FOLLOW_ID = Annotated[str, Path(description="the follow's id (from GET /api/me/follows)", pattern=r"^[0-9]{1,18}$")]
FEED_ID = Annotated[str, Path(description="the private feed's id (from GET /api/me/feeds)", pattern=r"^[0-9]{1,18}$")]
Since = documented(SINCE)
READS = errors({401: ""})
WRITES = errors({400: "a field is not valid (the message names it)", 401: "", 403: ""})


@router.get("/api/me/following", tags=["follows"], summary="New papers matching your follows (JSON twin of /following)",
            response_model=schemas.Following, responses=errors({401: ""}, (SINCE,)))
def following_api(request: Request, user: auth.SignedIn, since: Since = None) -> Response:
    """Papers that arrived since your mark (``POST /api/me/following/seen``; never marked: the last
    7 days), or since the day ``since``, matching any of your follows, newest first; each with the
    follows it matches (``reasons``). Reading this changes nothing."""
    return JSON(following_body(following_data(request, user, since)))


class SeenRequest(BaseModel):
    """Mark /following as seen up to ``at`` (default: now)."""

    model_config = ConfigDict(extra="forbid")
    at: Annotated[str | None, _documented({"type": "string", "format": "date-time"})] = Field(
        None, description="the moment seen up to (the `as_of` of the answer you read; RFC 3339, such as "
                          "2025-03-30T14:05:00Z); a moment after now counts as now")


def _seen_at(value: str | None, name: str) -> str:
    """The moment to mark as seen: ``value`` (an RFC 3339 time, read in UTC; not after now), else now."""
    now = following.now_stamp()
    if value is None or not value.strip():
        return now
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        at = following.stamp(moment)
    except (ValueError, OverflowError):
        raise bad(f"{name} must be a time such as 2025-03-30T14:05:00Z, not {value[:40]!r}") from None
    return min(at, now)


@router.post("/api/me/following/seen", tags=["follows"], summary="Mark /following as seen",
             response_model=schemas.FollowingSeen, responses=WRITES)
def seen_api(request: Request, user: auth.Writer, body: SeenRequest | None = None) -> Response:
    """Papers that arrived before ``at`` are no longer new on /following (the mark never moves back)."""
    at = _seen_at(body.at if body else None, "at")
    return JSON({"seen_at": store_of(request).set_following_seen_at(user.id, at)})


@router.post("/following/seen", include_in_schema=False)
async def seen_form(request: Request, user: auth.Writer) -> Response:
    at = _seen_at(field(await request.form(), "at", required=False, max_chars=40), "at")
    store_of(request).set_following_seen_at(user.id, at)
    return see_other("/following")


# -- the follows --------------------------------------------------------------------


def _documented(schema: dict[str, Any], optional: bool = True) -> Any:
    """What /openapi.json says a body field takes: exactly what its check (common.py) accepts; an
    ``optional`` one also takes null and, like a form's empty field, spaces only (both: left out)."""
    if not optional:
        return WithJsonSchema(schema)
    blank = [] if schema is TEXT else [BLANK]
    return WithJsonSchema({"anyOf": [schema, *blank, {"type": "null"}]})


class FollowFilters(BaseModel):
    """A saved search's filters: those of /search, checked as /search checks them."""

    model_config = ConfigDict(extra="forbid")
    category: Annotated[str | None, _documented(CATEGORY)] = Field(
        None, description="only papers in this arXiv category, e.g. cs.CL")
    author: Annotated[str | None, _documented(TEXT)] = Field(None, description="only papers by this author")
    since: Annotated[str | None, _documented(DATE)] = Field(
        None, description="first listed on or after this day (YYYY-MM-DD)")
    until: Annotated[str | None, _documented(DATE)] = Field(
        None, description="first listed on or before this day (YYYY-MM-DD; before since: nothing matches)")
    mode: Annotated[str | None, _documented(choice_schema(MODES, None))] = Field(
        None, description=f"{', '.join(MODES)} (default {DEFAULT_MODE})")


class AuthorFollow(BaseModel):
    """Follow an author: ``value`` is the name, as on the author's page."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["author"]
    value: Annotated[str, _documented(NAME, optional=False)] = Field(description="the author's name")
    filters: None = Field(None, description="only a search has filters")


class CategoryFollow(BaseModel):
    """Follow a category: ``value`` is an arXiv category, such as cs.CL."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["category"]
    value: Annotated[str, _documented(CATEGORY | {"minLength": 1}, optional=False)] = Field(
        description="the category")
    filters: None = Field(None, description="only a search has filters")


class SearchFollow(BaseModel):
    """Follow a search: ``value`` is its query, ``filters`` those of /search."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["search"]
    value: Annotated[str, _documented(QUERY_REQUIRED, optional=False)] = Field(description="the query")
    filters: FollowFilters | None = Field(None, description="the search's filters")


FollowRequest = Annotated[AuthorFollow | CategoryFollow | SearchFollow, Field(discriminator="kind")]


@router.get("/api/me/follows", tags=["follows"], summary="What you follow", response_model=schemas.Follows,
            responses=READS)
def follows_api(request: Request, user: auth.SignedIn) -> Response:
    return JSON({"follows": [follow_json(f) for f in store_of(request).follows(user.id)]})


@router.post("/api/me/follows", tags=["follows"], summary="Follow an author, a category or a search",
             status_code=201, response_model=schemas.Follow, responses=WRITES | errors({409: f"you follow {MAX_FOLLOWS} things (or {MAX_SEARCHES} searches) already"}))
def follow_api(request: Request, body: FollowRequest, user: auth.Writer) -> Response:
    """201 with the follow: the new one, or the one you had (same id) when you already followed exactly this
    (following is idempotent)."""
    given = body.filters if isinstance(body, SearchFollow) else None
    kind, value, checked = check_follow(body.kind, body.value, given.model_dump() if given else None)
    store = store_of(request)
    if store.find_follow(user.id, kind, value, checked) is None:
        _too_many(store, user, kind)
    follow, _ = store.add_follow(user.id, kind, value, checked)
    return JSON(follow_json(follow), status_code=201)


@router.delete("/api/me/follows/{follow_id}", tags=["follows"], summary="Stop following",
               response_model=schemas.Follow, responses=WRITES | errors({404: "you have no follow with this id"}))
def unfollow_api(request: Request, follow_id: FOLLOW_ID, user: auth.Writer) -> Response:
    """The follow removed."""
    return JSON(follow_json(_unfollow(request, user, follow_id)))


def _unfollow(request: Request, user: User, follow_id: str) -> dict[str, Any]:
    number = id_number(follow_id)  # not a number: no follow of anyone's, the same 404
    removed = store_of(request).remove_follow(user.id, number) if number is not None else None
    if removed is None:
        raise HTTPError(404, f"you have no follow with id {follow_id[:20]!r}")
    return removed


def _form_filters(form: FormData) -> dict[str, str]:
    return {k: field(form, k, required=False, max_chars=300) for k in following.SEARCH_FILTERS if k in form}


@router.post("/following/add", include_in_schema=False)
async def follow_form(request: Request, user: auth.Writer) -> Response:
    """The follow button: fields kind, value (and a search's filters: category, author, since,
    until, mode), next; 303 back to ``next`` (a path of this site) or to what was followed."""
    form = await request.form()
    kind, value, filters = check_follow(field(form, "kind"), field(form, "value", max_chars=MAX_QUERY_CHARS),
                                        _form_filters(form), prefix="")
    store = store_of(request)
    if store.find_follow(user.id, kind, value, filters) is None:
        _too_many(store, user, kind)
        store.add_follow(user.id, kind, value, filters)
    return see_other(next_path(form) or follow_url(kind, value, filters))


@router.post("/following/{follow_id}/remove", include_in_schema=False)
async def unfollow_form(request: Request, follow_id: str, user: auth.Writer) -> Response:
    _unfollow(request, user, follow_id)
    return see_other(next_path(await request.form()) or "/following")


# -- private feeds --------------------------------------------------------------------


def _collections(store: Store, user_id: int) -> list[str]:
    """The names of the user's collections (the library's, store/library.py)."""
    return [c["name"] for c in store.collections(user_id)]


def _collection_rows(store: Store, user_id: int, name: str) -> list[dict[str, Any]] | None:
    """The papers of the user's collection ``name``, newest saved first (None: no such collection,
    renamed or deleted since the feed was made)."""
    found = store.library(user_id, name, COLLECTION_ENTRIES)
    if found is None:
        return None
    return [entry["paper"] for entry in found[0]]


def scope_of(scope: str) -> tuple[str, str | None]:
    """("following", None), ("for-you", None) or ("collection", NAME) from a stored scope."""
    if scope.startswith("collection:"):
        return "collection", scope.removeprefix("collection:")
    return ("for-you", None) if scope == "for-you" else ("following", None)


def feed_json(row: dict[str, Any]) -> dict[str, Any]:
    kind, collection = scope_of(row["scope"])
    return {"id": row["id"], "scope": kind, "collection": collection, "created_at": row["created_at"],
            "revoked_at": row["revoked_at"]}


def private_feed_url(request: Request, token: str) -> str:
    return f"{site_url(request)}/feeds/private/{token}.atom"


def new_feed(request: Request, user: User, scope: str | None, collection: str | None) -> tuple[dict[str, Any], str]:
    """Make a private feed for ``scope`` (following, for-you, or collection with its name): (its row, its
    URL: the only time the secret is shown)."""
    scope = choice_param(scope, "scope", ("following", "collection", "for-you"), None)
    if scope is None:
        raise bad("scope is required: following, for-you or collection")
    store = store_of(request)
    stored = "for-you" if scope == "for-you" else "following"
    if scope == "collection":
        name = text_param(collection, "collection", 200)
        if name is None:
            raise bad("collection is required when scope is collection: the collection's name")
        if name not in _collections(store, user.id):
            raise HTTPError(404, f"you have no collection named {name[:100]!r}")
        stored = f"collection:{name}"
    elif collection:
        raise bad(f"collection: only a collection feed names one (scope is {scope})")
    if store.live_feed_tokens(user.id) >= MAX_FEEDS:
        raise HTTPError(409, f"you have {MAX_FEEDS} private feeds already: revoke some first")
    token = FEED_PREFIX + secrets.token_urlsafe(32)
    row = store.add_feed_token(user.id, accounts.hash_secret(token), stored)
    return row, private_feed_url(request, token)


def settings_context(request: Request, user: User) -> dict[str, Any]:
    """What the settings page's private feeds section (``_settings_feeds.html``) shows."""
    store = store_of(request)
    return {"feed_tokens": [feed_json(r) for r in store.feed_tokens(user.id)],
            "feed_collections": _collections(store, user.id)}


class FollowingFeed(BaseModel):
    """A private Atom feed of /following."""

    model_config = ConfigDict(extra="forbid")
    scope: Literal["following"]


class CollectionFeed(BaseModel):
    """A private Atom feed of one of your collections."""

    model_config = ConfigDict(extra="forbid")
    scope: Literal["collection"]
    collection: Annotated[str, _documented(text_schema(200, required=True), optional=False)] = Field(
        description="the collection's name")


class ForYouFeed(BaseModel):
    """A private Atom feed of /for-you (the newest day's papers ranked for you, each saying why)."""

    model_config = ConfigDict(extra="forbid")
    scope: Literal["for-you"]


FeedRequest = Annotated[FollowingFeed | CollectionFeed | ForYouFeed, Field(discriminator="scope")]


@router.get("/api/me/feeds", tags=["follows"], summary="Your private Atom feeds (never their secret URLs)",
            response_model=schemas.PrivateFeeds, responses=READS)
def feeds_api(request: Request, user: auth.SignedIn) -> Response:
    return JSON({"feeds": [feed_json(r) for r in store_of(request).feed_tokens(user.id)]})


@router.post("/api/me/feeds", tags=["follows"], summary="Make a private Atom feed (its URL is shown once)",
             status_code=201, response_model=schemas.NewPrivateFeed,
             responses=WRITES | errors({404: "you have no collection with this name",
                                        409: f"you have {MAX_FEEDS} private feeds already"}))
def new_feed_api(request: Request, body: FeedRequest, user: auth.Writer) -> Response:
    """``url`` is the feed's address with its secret: give it to your feed reader; it is not shown again
    (only a hash is kept). Revoke it with ``DELETE /api/me/feeds/{id}``."""
    row, link = new_feed(request, user, body.scope, body.collection if isinstance(body, CollectionFeed) else None)
    return JSON({**feed_json(row), "url": link}, status_code=201)


@router.delete("/api/me/feeds/{feed_id}", tags=["follows"], summary="Revoke a private feed (at once)",
               response_model=schemas.PrivateFeed, responses=WRITES | errors({404: "you have no feed with this id"}))
def revoke_feed_api(request: Request, feed_id: FEED_ID, user: auth.Writer) -> Response:
    return JSON(feed_json(_revoke(request, user, feed_id)))


def _revoke(request: Request, user: User, feed_id: str) -> dict[str, Any]:
    number = id_number(feed_id)
    row = store_of(request).revoke_feed_token(user.id, number) if number is not None else None
    if row is None:
        raise HTTPError(404, f"you have no private feed with id {feed_id[:20]!r}")
    return row


@router.post("/settings/feeds", include_in_schema=False)
async def new_feed_form(request: Request, user: auth.Writer) -> Response:
    """The settings page's "new feed link": fields scope (following, for-you, or collection:NAME from the
    list, or collection with a collection field). Answers a page showing the URL once."""
    form = await request.form()
    scope, collection = field(form, "scope"), field(form, "collection", required=False, max_chars=300) or None
    if scope.startswith("collection:"):
        scope, collection = "collection", scope.removeprefix("collection:")
    row, link = new_feed(request, user, scope, collection)
    kind, name = scope_of(row["scope"])
    return render(request, "feed_created.html", status=201, title="Your new private feed", url=link,
                  kind=kind, collection=name)


@router.post("/settings/feeds/{feed_id}/revoke", include_in_schema=False)
def revoke_feed_form(request: Request, feed_id: str, user: auth.Writer) -> Response:
    _revoke(request, user, feed_id)
    return see_other("/settings#feeds")


PRIVATE = {"Cache-Control": "private, no-cache", "X-Robots-Tag": "noindex, nofollow"}
TOKEN = Param("token", "the secret of the feed's URL (from /settings or POST /api/me/feeds)")
FeedToken = documented(TOKEN, in_path=True)


@router.get("/feeds/private/{token}.atom", tags=["feeds"], summary="Atom: a private feed (/following, /for-you or a collection)",
            response_class=AtomXml, responses={200: {"description": "an Atom feed (RFC 4287)"}}
            | errors({404: "no live feed with this secret: unknown, revoked, its collection gone, or its user "
                           "disabled"}, (TOKEN,)))
def private_feed(request: Request, token: FeedToken) -> Response:
    """The token in the URL is the credential: no cookie or header needed."""
    missing = HTTPError(404, "no such feed (its link may have been revoked)")
    if not _FEED_TOKEN.match(token):
        raise missing
    store = store_of(request)
    found = store.feed_token(accounts.hash_secret(token))
    if found is None:
        raise missing
    _, user_id, scope = found
    kind, name = scope_of(scope)
    if kind == "collection" and name is not None:
        rows = _collection_rows(store, user_id, name)
        if rows is None:
            raise missing
        feed = atom.Feed(f"collection {name}", rows, f"/library/{quote(name, safe='')}",
                         f"the papers of your collection {name}")
    elif kind == "for-you":
        from .foryou import feed_rows  # (foryou builds on this module)

        feed = atom.Feed("for you", feed_rows(request, user_id), "/for-you",
                         "the newest day's papers ranked for you, each saying why")
    else:
        found_new = following.recent_papers(radar_of(request), store.follows(user_id),
                                            store.hidden_ids(user_id), FEED_ENTRIES)
        rows = [{**m.row, "abstract": f"Following: {'; '.join(r.text for r in m.reasons)}\n\n{m.row['abstract']}"}
                for m in found_new.matches]  # each entry says why, as the page does
        feed = atom.Feed("following", rows, "/following",
                         f"new papers matching what you follow (the last {following.FEED_WINDOW.days} days)")
    response = atom.respond(request, feed)
    response.headers.update(PRIVATE)
    return response
