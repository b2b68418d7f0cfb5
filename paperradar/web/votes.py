"""Votes and submissions: the community's say in what the daily list shows.

**Votes.** One per user per paper (:mod:`paperradar.store.votes`). A paper's
votes are a resource of their own, ``/api/papers/{id}/votes``: ``GET``
answers ``{"users", "huggingface", "total", "you"}``, ``POST`` adds the
viewer's vote and ``DELETE`` takes it back, both answering the same body (so
a script updates its button from the answer). Browsers without JavaScript
post the button's form to ``/papers/{id}/vote`` (``vote=up|down``) and are
sent back where they were (303). The counts the lists, trending and the
Hugging Face API read (``papers.upvotes``) are the total, kept by the store
in the vote's own transaction.

**Submissions.** A signed-in user puts a paper on today's daily list (UTC)
by arXiv id or URL: the form ``/submit``, or ``POST /api/daily_papers`` with
``{"paper": ...}`` (or Hugging Face's ``{"arxivId": ...}``), answering the
new entry as ``GET /api/daily_papers`` lists it. A paper not stored yet is
fetched with the arXiv API client when live sources are on (``serve
--sync``: the same import as ``paperradar sync arxiv --ids``), else the
answer says it cannot be added and why. One submission per paper and day: a
paper already on today's list, submitted here or featured by Hugging Face,
is a 409. The list names the submitter by display name (never the email).

Routes with a paper id take ``{paper_id:path}`` (``hep-th/9901001``) and are
registered before the paper page, whose own ``{paper_id:path}`` would take
them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..ids import parse_arxiv_id
from ..present import shown_featured
from ..store import User
from ..store.sync_state import OK
from . import auth, schemas
from .common import JSON, HTTPError, radar_of, render, store_of, text_param
from .forms import back, field, see_other
from .hf_shapes import daily_entry, submitter_label
from .links import url_for
from .pages import errors
from .papers import PaperId, find

router = APIRouter()

MAX_ID_CHARS = 300
VOTE_CHOICES = ("up", "down")
_READ = errors({400: "the id has control characters or is over 300 characters",
                401: "an Authorization header was sent whose token is not valid",
                404: "no paper with this id"})
_WRITE = errors({400: "the id has control characters or is over 300 characters", 401: "", 403: "",
                 404: "no paper with this id"})
_SUBMIT = errors({
    400: "paper (or arxivId) is missing or is not an arXiv id or URL (the message says which)",
    401: "", 403: "",
    404: "arXiv has no paper with this id",
    409: "the paper is already on today's list, or it is not stored here and live sources are off "
         "(the message says which)",
    502: "arXiv could not be asked (the message says why): try again later",
})
_ARXIV_HOSTS = ("arxiv.org", "www.arxiv.org", "export.arxiv.org")
_HF_HOSTS = ("huggingface.co", "www.huggingface.co", "hf.co")


# -- votes ------------------------------------------------------------------------------


def counts_json(request: Request, paper_id: str, user: User | None) -> dict[str, Any]:
    """The body of every answer of ``/api/papers/{id}/votes``: the counts apart, and the viewer's vote."""
    store = store_of(request)
    counts = store.vote_counts(paper_id)
    return {**counts, "you": user is not None and store.has_vote(paper_id, user.id)}


@router.get("/api/papers/{paper_id:path}/votes", tags=["papers"],
            summary="A paper's upvotes: this site's votes and Hugging Face's, and whether you voted",
            response_model=schemas.VoteCounts, responses=_READ)
def votes_api(request: Request, paper_id: PaperId) -> Response:
    """``users`` (votes of this site's users and its owner), ``huggingface`` (imported upvotes),
    ``total`` (their sum: what lists and trending count) and ``you`` (whether you voted; false
    when anonymous). A bearer token that is not valid is a 401, not an anonymous answer."""
    seen = auth.viewer(request)
    if seen.bad_token:
        raise HTTPError(401, "the API token is not valid (unknown, revoked, or its user is disabled)",
                        headers={"WWW-Authenticate": 'Bearer realm="paperradar"'})
    row = find(request, paper_id)
    return JSON(counts_json(request, row["id"], seen.user))


@router.post("/api/papers/{paper_id:path}/votes", tags=["papers"], summary="Upvote a paper",
             response_model=schemas.VoteCounts, responses=_WRITE)
def vote_api(request: Request, paper_id: PaperId, user: auth.Writer) -> Response:
    """Add your vote (one per paper: voting again changes nothing); the counts after it."""
    row = find(request, paper_id)
    store_of(request).add_user_vote(row["id"], user.id)
    return JSON(counts_json(request, row["id"], user))


@router.delete("/api/papers/{paper_id:path}/votes", tags=["papers"], summary="Take your upvote back",
               response_model=schemas.VoteCounts, responses=_WRITE)
def unvote_api(request: Request, paper_id: PaperId, user: auth.Writer) -> Response:
    """Remove your vote (none to remove changes nothing); the counts after it."""
    row = find(request, paper_id)
    store_of(request).remove_user_vote(row["id"], user.id)
    return JSON(counts_json(request, row["id"], user))


@router.post("/papers/{paper_id:path}/vote", include_in_schema=False)
async def vote_form(request: Request, paper_id: str, user: auth.Writer) -> Response:
    """The vote button without JavaScript: ``vote=up`` or ``down``, then back to ``next`` (or the
    page the form was on, else the paper's page), at the paper's card."""
    form = await request.form()
    choice = field(form, "vote")
    if choice not in VOTE_CHOICES:
        raise HTTPError(400, f"vote must be up or down, not {choice[:20]!r}")
    row = await run_in_threadpool(find, request, paper_id)
    store = store_of(request)
    change = store.add_user_vote if choice == "up" else store.remove_user_vote
    await run_in_threadpool(change, row["id"], user.id)
    return back(request, form, url_for("paper", "html", paper_id=row["id"]), row["id"])  # at the card voted on


# -- submissions ------------------------------------------------------------------------


def arxiv_key(text: str | None, name: str = "paper") -> str:
    """The arXiv id (without version) a submission names: an id (``2506.01234``, ``hep-th/9901001``,
    ``arXiv:2506.01234v2``) or a URL of its arXiv or Hugging Face page or PDF; a 400 naming the
    field otherwise."""
    value = text_param(text, name, MAX_ID_CHARS)
    if value is None:
        raise HTTPError(400, f"{name} is required: an arXiv id (such as 2506.01234) or an arXiv URL")
    candidate = value
    if value.lower().startswith(("http://", "https://")):
        parts = urlsplit(value)
        host, path = (parts.hostname or "").lower(), parts.path.rstrip("/")
        if host in _ARXIV_HOSTS and path.startswith(("/abs/", "/pdf/")):
            candidate = path[5:]
        elif host in _HF_HOSTS and path.startswith("/papers/"):
            candidate = path[len("/papers/"):]
        else:
            candidate = ""
    parsed = parse_arxiv_id(candidate) if candidate else None
    if parsed is None:
        raise HTTPError(400, f"{name} must be an arXiv id (such as 2506.01234 or hep-th/9901001) or the URL "
                             f"of an arXiv or Hugging Face paper page, not {value[:80]!r}")
    return parsed[0]


def today() -> str:
    """The day a submission is for: today, UTC (Hugging Face's daily lists are days too)."""
    return datetime.now(UTC).date().isoformat()


def submit(request: Request, user: User, text: str | None, name: str = "paper") -> tuple[dict[str, Any], dict[str, Any]]:
    """Put the paper ``text`` names on today's list as ``user``'s submission: the stored paper and
    its new featured row (as visitors see it). Raises the HTTPError the caller answers."""
    key = arxiv_key(text, name)
    store = store_of(request)
    row = store.get(key) or _fetch(request, key)
    day = today()
    # One submission per paper and day: the store's check and insert are one write transaction, which
    # holds across threads and worker processes (several `serve --workers`, several hosts).
    if not store.add_featured(row["id"], day, "local", submitted_by=str(user.id), only_new=True):
        for featured in store.featured_of([row["rowid"]]).get(row["rowid"], []):
            if featured.day == day:
                label = submitter_label(store, featured.as_dict())
                by = f" by {label}" if label else ""
                raise HTTPError(409, f"{row['id']} is already on today's list ({day}, submitted{by}): "
                                     "a paper is submitted once a day")
        raise HTTPError(409, f"{row['id']} is already on today's list ({day}): a paper is submitted once a day")
    mine = [f for f in store.featured_of([row["rowid"]]).get(row["rowid"], []) if f.day == day and f.source == "local"]
    return row, shown_featured(store, mine[0]) or {}


def _fetch(request: Request, key: str) -> dict[str, Any]:
    """A paper this site does not have yet, fetched from the arXiv API and stored (as ``paperradar
    sync arxiv --ids KEY`` does) when live sources are on; else a 409 saying why it cannot be added."""
    radar = radar_of(request)
    live = radar.settings.live
    if live is None:
        raise HTTPError(409, f"{key} is not stored on this site, and live sources are off, so it cannot be "
                             "fetched from arXiv: the site's owner turns them on with `paperradar serve --sync`, "
                             f"or adds the paper with `paperradar sync arxiv --ids {key}`")
    from ..sync import arxiv_api  # (the web needs the sync clients only for this)
    from ..sync.run import make_context

    # Embedding waits for the next `serve --embed`/`embed`: a request is no place to load the model.
    report = arxiv_api.sync_ids(make_context(radar, live, embed=False), [key])
    if report.get("status") != OK:
        raise HTTPError(502, f"arXiv could not be asked for {key}: {report.get('error') or report.get('status')}")
    row = store_of(request).get(key)
    if row is None:
        raise HTTPError(404, f"arXiv has no paper with id {key}")
    return row


@router.post("/api/daily_papers", tags=["huggingface"], summary="Submit a paper to today's daily list",
             status_code=201, response_model=schemas.HfDailyEntry, responses=_SUBMIT)
def submit_api(request: Request, body: schemas.SubmitPaper, user: auth.Writer) -> Response:
    """Put a paper on today's list (UTC) as your submission, by arXiv id or URL (`paper`, or
    `arxivId` as Hugging Face names it). A paper not stored here is fetched from arXiv when the
    site runs with live sources (`paperradar serve --sync`). Answers the new entry as `GET
    /api/daily_papers` lists it (`submittedBy` is your display name); 409 when the paper is already
    on today's list."""
    name, text = ("arxivId", body.arxivId) if body.paper is None and body.arxivId is not None else ("paper", body.paper)
    row, featuring = submit(request, user, text, name)
    comments = store_of(request).comment_counts([row["rowid"]]).get(row["rowid"], 0)  # as the list counts them
    return JSON(daily_entry(row, featuring, comments), status_code=201)


@router.get("/submit", include_in_schema=False)
def submit_page(request: Request, paper: str | None = None) -> Response:
    """The submission form (``?paper=`` fills it in); a visitor is asked to sign in."""
    return _submit_form(request, text_param(paper, "paper", MAX_ID_CHARS) or "")


@router.post("/submit", include_in_schema=False)
async def submit_form(request: Request, user: auth.Writer) -> Response:
    """Submit from the form: to the day's list (303), or the form again with what was wrong."""
    form = await request.form()
    text = form.get("paper")
    text = text if isinstance(text, str) else None  # as typed: a refused one is shown again in the form
    try:
        row, featuring = await run_in_threadpool(submit, request, user, text)
    except HTTPError as exc:
        return _submit_form(request, (text or "")[:MAX_ID_CHARS], exc.status, exc.message)
    return see_other(url_for("feed", "html", date=featuring.get("day") or today())
                     + f"#p-{quote(row['id'], safe='/:')}")


def _submit_form(request: Request, paper: str, status: int = 200, message: str | None = None) -> Response:
    return render(request, "submit.html", status=status, title="Submit a paper", paper=paper, message=message,
                  live=radar_of(request).settings.live is not None, day=today())
