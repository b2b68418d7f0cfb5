"""What the JSON answers look like: one pydantic model per body, for /openapi.json.

The app writes its JSON itself (``common.JSON``, orjson, from plain dicts), so these models
never build a response: they are attached to the routes (``response_model``, ``responses``)
to document them, and the tests validate every answer against them (``tests/test_openapi.py``
runs schemathesis over every operation). Each model refuses fields it does not name, so a key
added to a body without being documented here fails those tests.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _sometimes(description: str) -> Any:
    """A field present only in some answers (never null when present): not required, no default shown."""
    return Field(None, description=description, json_schema_extra=_no_default)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")



# -- accounts (web/account.py) -------------------------------------------------------


class Me(Body):
    """The signed-in account (``/api/me``)."""

    id: int
    email: str
    name: str | None
    display_name: str = Field(description="how others see the user: the name, else the email before the @")
    is_admin: bool
    created_at: str


class Token(Body):
    id: int
    label: str | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class Tokens(Body):
    """The account's personal API tokens (never the tokens: only their hashes are stored)."""

    tokens: list[Token]


class NewToken(Body):
    """A new personal API token: ``token`` is shown this once."""

    id: int
    label: str | None
    token: str = Field(description="send it as Authorization: Bearer TOKEN")

# -- errors ------------------------------------------------------------------------


class ErrorDetail(Body):
    status: int = Field(description="the HTTP status, as in the response line")
    message: str = Field(description="what was wrong, naming the parameter when one was")


class Error(Body):
    """Every error under /api/ and /feeds/ (400, 404, 405, 409, 414, 500, 503)."""

    error: ErrorDetail


# -- papers ------------------------------------------------------------------------


class Featured(Body):
    day: str = Field(description="the day the list featured it, YYYY-MM-DD")
    source: str = Field(description="huggingface or local")
    submitted_by: str | None
    submitted_at: str | None
    first_seen: str | None = Field(None, description="when this site first learnt of the featuring")


class Paper(Body):
    """A paper as listed (the same shape in every list and in ``paperradar ... --json``)."""

    id: str = Field(description="arXiv id (2503.01234, hep-th/9901001), doi:... key or other stored key")
    title: str
    authors: list[str]
    abstract: str | None
    categories: list[str]
    date: str | None = Field(description="the day it was first listed, YYYY-MM-DD")
    updated: str | None
    version: int | None
    comment: str | None
    journal_ref: str | None
    doi: str | None
    links: dict[str, str] = Field(description="abs, pdf, hf, doi, project, code, ...: https addresses")
    upvotes: int
    url: str = Field(description="its page on this site")
    featured: Featured | None = _sometimes("in a list of featured papers: when and by whom it was featured")


class SearchPaper(Paper):
    score: float = Field(description="the ranking's score (higher is better)")
    snippet: str = _sometimes("keyword matches: the matching passage as plain text")
    snippet_html: str = _sometimes("the same passage, escaped, with the matches in <mark>")


class TrendingPaper(Paper):
    trend: float = Field(description="upvotes / (age_hours + 2) ^ 1.8")
    age_hours: float


class SimilarPaper(Paper):
    score: float
    why: dict[str, int | None] = _sometimes(
        "its rank by shared words (keyword), document vector (vector) and sentences (null: not a candidate)")


class Source(Body):
    source: str
    origin: str
    first_seen: str
    last_changed: str


class Upvotes(Body):
    site: str = Field(description="huggingface (imported counts) or local (paperradar vote)")
    count: int
    observed_at: str


class FullPaper(Paper):
    """Everything stored about one paper."""

    sources: list[Source]
    upvote_sources: list[Upvotes]
    featured: list[Featured] = _sometimes("every day a list featured it")  # type: ignore[assignment]
    extra: dict[str, Any]
    bibtex: str


class Votes(Body):
    id: str
    upvotes: int = Field(description="the total")
    by_site: list[Upvotes]


class Similar(Body):
    id: str
    facet: str | None
    embedded: bool = Field(description="false: the paper has no embedding yet, so no similar papers")
    note: str | None
    papers: list[SimilarPaper]


# -- lists -------------------------------------------------------------------------


class Listing(Body):
    total: int
    page: int
    pages: int
    per_page: int
    papers: list[Paper]


class PeriodInfo(Body):
    kind: Literal["day", "week", "month"]
    start: str
    end: str
    label: str


class DayCount(Body):
    date: str
    count: int


class CategoryCount(Body):
    category: str
    count: int
    name: str  # the category's name in arXiv's taxonomy, e.g. "Computation and Language"


class PeriodCategory(Body):
    """A category of the papers of a feed's period (any category string a source gave)."""

    category: str
    count: int


class Feed(Listing):
    period: PeriodInfo
    category: str | None
    showing: str = Field(description="featured or all: which list `papers` is (the `list` parameter)")
    featured_total: int = Field(description="papers featured in the period (and category)")
    all_total: int = Field(description="papers first listed in the period (and category)")
    days: list[DayCount] = Field(description="papers on each day of the week shown (or of the period)")
    categories: list[PeriodCategory]
    previous: str = Field(description="the JSON of the period before")
    next: str = Field(description="the JSON of the period after")


class Trending(Listing):
    formula: str
    window_days: int
    as_of: str = Field(description="the moment ranked for, YYYY-MM-DDTHH:MM:SSZ")
    category: str | None
    papers: list[TrendingPaper]  # type: ignore[assignment]


class SearchFilters(Body):
    category: str | None
    author: str | None
    since: str | None
    until: str | None


class Search(Body):
    query: str
    mode: str
    filters: SearchFilters
    page: int
    per_page: int
    previous: str | None
    next: str | None
    papers: list[SearchPaper]


class Coauthor(Body):
    name: str
    papers: int


class Author(Listing):
    name: str
    coauthors: list[Coauthor]


class Category(Listing):
    category: str
    primary: int = Field(description="how many of its papers have it as their first category")


class DateRange(Body):
    first: str | None
    last: str | None


class EmbeddingProgress(Body):
    phase: str  # "starting", "documents", "vector index", "sentences", "done"
    papers: int
    embedded: int
    covered: float  # share of papers with a vector: what semantic search covers
    phase_done: int
    phase_total: int
    eta_seconds: int | None


class Stats(Body):
    papers: int
    by_source: dict[str, int]
    by_category: dict[str, int]
    date_range: DateRange
    with_upvotes: int
    embedding: EmbeddingProgress | None  # while `serve --embed` works, else null



# -- Hugging Face's papers API (web/hf_api.py) ---------------------------------------
# Hugging Face's JSON as /api/daily_papers, /api/papers/search and /api/papers/{id} give it. A key
# HF leaves out for papers that lack it is not required here (never null when present); the
# objects whose keys are HF's to add to (users, authors, organizations) name the keys HF gives
# today and allow others. hf_api.py serves a stored HF value only where it has the type named here.


def _hf_id() -> Any:
    return Field(None, alias="_id", description="Hugging Face's id of the object",
                 json_schema_extra=_no_default)


class HfObject(BaseModel):
    """An object of Hugging Face's: the keys named, and any other HF gave."""

    model_config = ConfigDict(extra="allow")


class HfOrganization(HfObject):
    id_: str = _hf_id()
    name: str
    fullname: str = _sometimes("its display name")
    avatar: str = _sometimes("its picture (an https address)")


class HfAccount(HfObject):
    """What both of HF's shapes of a user carry."""

    id_: str = _hf_id()
    fullname: str = _sometimes("the display name")
    avatarUrl: str = _sometimes("the picture (an address)")
    isPro: bool = _sometimes("a PRO account")
    type: str = _sometimes("user")


class HfUser(HfAccount):
    """A user as a paper object carries one (``submittedOnDailyBy``, an author's ``user``)."""

    user: str = Field(description="the user name")
    name: str = _sometimes("the user name again (in some papers)")


class HfListUser(HfAccount):
    """A user as a daily list entry carries one (``submittedBy``)."""

    name: str = Field(description="the user name")
    isHf: bool = _sometimes("a Hugging Face employee")
    isHfAdmin: bool = _sometimes("a Hugging Face administrator")
    isMod: bool = _sometimes("a moderator")
    followerCount: int = _sometimes("followers")


class HfAuthor(HfObject):
    id_: str = _hf_id()
    name: str
    hidden: bool = _sometimes("hidden on the paper's page (false for a paper known only from arXiv)")
    user: HfUser = _sometimes("the author's Hugging Face account, where claimed")
    status: str = _sometimes("the claim's status (admin_validated, claimed_verified, ...)")
    statusLastChangedAt: str = _sometimes("when the claim's status last changed")


class HfSearchPaper(Body):
    """The paper of a search result (``/api/papers/search``)."""

    id: str = Field(description="the arXiv id, or the stored key of a paper without one")
    authors: list[HfAuthor]
    publishedAt: str = _sometimes("Hugging Face's, else its first arXiv listing (midnight UTC): "
                                  "YYYY-MM-DDTHH:MM:SS.mmmZ")
    title: str
    summary: str | None = Field(description="the abstract (null: none is known)")
    upvotes: int = Field(description="Hugging Face's count plus local votes")
    discussionId: str = _sometimes("its discussion on Hugging Face")
    ai_keywords: list[str] = _sometimes("Hugging Face's AI keywords")


class HfPaper(HfSearchPaper):
    """Hugging Face's paper object (``/api/papers/{id}``, and ``paper`` in a daily list entry)."""

    mediaUrls: list[str] = _sometimes("pictures and videos (addresses)")
    submittedOnDailyAt: str = _sometimes("when it was featured (the latest time): YYYY-MM-DDTHH:MM:SS.mmmZ")
    submittedOnDailyBy: HfUser = _sometimes("who submitted it to the daily list")
    projectPage: str = _sometimes("its project page (an address)")
    githubRepo: str = _sometimes("its code (an address)")
    githubRepoAddedBy: str = _sometimes("who linked the code")
    githubStars: int = _sometimes("the code's stars")
    ai_summary: str = _sometimes("Hugging Face's AI summary")
    ai_summary_model: str = _sometimes("the model that wrote the AI summary")
    organization: HfOrganization = _sometimes("the organization it was submitted for")


class HfEntry(Body):
    paper: HfSearchPaper
    publishedAt: str = _sometimes("the paper's publishedAt in US Eastern wall-clock time, marked Z")
    title: str
    summary: str | None = Field(description="the abstract (null: none is known)")
    thumbnail: str = _sometimes("a picture (an address)")
    numComments: int = Field(description="comments on Hugging Face (0 where none are known)")
    isAuthorParticipating: bool = _sometimes("whether an author takes part in the discussion")


class HfDailyEntry(HfEntry):
    """An entry of ``/api/daily_papers``."""

    paper: HfPaper
    submittedBy: HfListUser = _sometimes("who featured it (the featured row's submitter)")
    mediaUrls: list[str] = _sometimes("pictures and videos (addresses)")
    mediaUrl: str = _sometimes("a picture or video (an address; older entries)")
    organization: HfOrganization = _sometimes("the organization it was submitted for")
    submitterOrganization: HfOrganization = _sometimes("the submitter's organization")


class HfSearchEntry(HfEntry):
    """A result of ``/api/papers/search``."""

    upvoted: bool = Field(description="whether the viewer upvoted it (always false: an anonymous viewer)")
