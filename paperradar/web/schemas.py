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


class HfAuth(Body):
    type: str = Field(description="access_token (a personal API token) or session (the sign-in cookie)")


class HfWhoami(Body):
    """Hugging Face's whoami answer, the fields its client reads."""

    type: Literal["user"]
    id: str
    name: str = Field(description="the display name")
    fullname: str
    email: str
    isPro: bool
    orgs: list[Any]
    auth: HfAuth


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
    submitted_by: str | None = Field(description=(
        "who submitted it: for source local, the member's display name (their name, else their email before "
        "the @; never the email or an id; 'a former member' once the account is deleted), for huggingface, "
        "Hugging Face's user name; null when unknown"))
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
    num_comments: int = Field(description="comments on this site (they are at /api/papers/{id}/comments)")


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
    numComments: int = _sometimes("in /api/papers/{id}, once this site has comments on the paper: Hugging "
                                  "Face's count (as imported) plus this site's, as in list entries")


class HfEntry(Body):
    paper: HfSearchPaper
    publishedAt: str = _sometimes("the paper's publishedAt in US Eastern wall-clock time, marked Z")
    title: str
    summary: str | None = Field(description="the abstract (null: none is known)")
    thumbnail: str = _sometimes("a picture (an address)")
    numComments: int = Field(description="comments on Hugging Face (as imported; 0 where none are known) "
                                         "plus comments on this site")
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

    upvoted: bool = Field(description="whether the viewer (signed in, or with a bearer token) upvoted it on "
                                      "this site; false for an anonymous viewer")


# -- votes and submissions (web/votes.py) ----------------------------------------------


class VoteCounts(Body):
    """A paper's upvotes (``/api/papers/{id}/votes``): this site's votes and the imported ones apart."""

    users: int = Field(description="votes of this site's users (and its owner's, from `paperradar vote`)")
    huggingface: int = Field(description="upvotes imported from Hugging Face")
    total: int = Field(description="users + huggingface: the count lists, trending and the Hugging Face API show")
    you: bool = Field(description="whether you voted for it (false when anonymous)")


_ID = r"(\d{4}\.\d{4,5}|[a-z][a-z\-]*(\.[A-Z]{2})?/\d{7})(v\d+)?"
SUBMITTED_ID = (rf"^ *((arXiv:)?{_ID}|https?://(www\.|export\.)?arxiv\.org/(abs|pdf)/{_ID}(\.pdf)?/?"
                rf"|https?://(www\.huggingface\.co|huggingface\.co|hf\.co)/papers/{_ID}/?) *$")  # what votes.arxiv_key takes


def _submitted_id(schema: dict[str, Any]) -> None:
    _no_default(schema)
    schema["pattern"] = SUBMITTED_ID


class SubmitPaper(BaseModel):
    """A paper for today's daily list (``POST /api/daily_papers``): ``paper``, or ``arxivId`` as
    Hugging Face names it; an arXiv id (2506.01234, hep-th/9901001, with or without version) or an
    arXiv or Hugging Face paper URL."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [{"required": ["paper"]},
                                                                           {"required": ["arxivId"]}]})
    # The pattern documents what the route takes; the route checks it, with a message naming the field.
    paper: str = Field(None, max_length=300, description="the arXiv id or URL",  # type: ignore[assignment]
                       json_schema_extra=_submitted_id)
    arxivId: str = Field(None, max_length=300,  # type: ignore[assignment]
                         description="the same, under Hugging Face's name", json_schema_extra=_submitted_id)


# -- comments (web/comments.py) ----------------------------------------------------------


class CommentText(BaseModel):
    """A comment's text (``POST /api/papers/{id}/comments``, ``PUT /api/comments/{id}``)."""

    model_config = ConfigDict(extra="forbid")
    body: str = Field(description="the comment, in Markdown (no HTML; at most 10,000 characters, no control "
                                  "characters but tab and line breaks, something besides spaces)",
                      json_schema_extra={"minLength": 1, "maxLength": 10_000,
                                         "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*"
                                                    "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f\\s]"
                                                    "[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"})


class Comment(Body):
    """A comment on a paper, as the viewer sees it."""

    id: int
    paper: str = Field(description="the paper's id")
    url: str = Field(description="the comment on its paper's page")
    author: str = Field(description="the author's display name (their name, else their email before the @)")
    body: str = Field(description="the comment as written (Markdown)")
    html: str = Field(description="the comment rendered: Markdown without raw HTML, cleaned by an allow-list")
    created_at: str
    edited_at: str | None = Field(description="when it was last edited (null: never)")
    mine: bool = Field(description="whether you wrote it")
    can_edit: bool = Field(description="whether you may edit it (its author only)")
    can_delete: bool = Field(description="whether you may delete it (its author or an administrator)")


class Comments(Body):
    """A paper's comments on this site, oldest first."""

    id: str = Field(description="the paper's id")
    count: int
    comments: list[Comment]


# -- follows and private feeds (web/follows.py) -------------------------------------------


class FollowFilters(Body):
    """A saved search's filters (those set; mode hybrid, the default, is left out)."""

    category: str = _sometimes("only papers in this arXiv category")
    author: str = _sometimes("only papers by this author")
    since: str = _sometimes("first listed on or after this day")
    until: str = _sometimes("first listed on or before this day")
    mode: str = _sometimes("keyword or semantic (hybrid when absent)")


class Follow(Body):
    """Something the user follows: an author, a category or a saved search."""

    id: int
    kind: Literal["author", "category", "search"]
    value: str = Field(description="the author's name, the category, or the search's query")
    filters: FollowFilters
    created_at: str
    text: str = Field(description="the follow in words, as /following gives it as a reason")
    url: str = Field(description="the followed page on this site")


class Follows(Body):
    follows: list[Follow]


class FollowReason(Body):
    follow: int = Field(description="the follow's id")
    kind: Literal["author", "category", "search"]
    value: str
    text: str = Field(description="in words: author X, category cs.CL, search 'Y'")


class FollowingPaper(Paper):
    reasons: list[FollowReason] = Field(description="every follow the paper matches")


class FollowSkipped(FollowReason):
    why: str = Field(description="why this follow could not be matched (a semantic search before `paperradar embed`)")


class Following(Body):
    """New papers matching the user's follows (``/api/me/following``)."""

    since: str = Field(description="papers that arrived after this moment (YYYY-MM-DDTHH:MM:SSZ)")
    listed_since: str = Field(description="... and were first listed on or after this day")
    seen_at: str | None = Field(description="the user's mark (POST /api/me/following/seen); null: never marked")
    as_of: str = Field(description="when this answer was made: the `at` to mark as seen")
    total: int = Field(description="how many new papers match (papers lists the newest 200)")
    papers: list[FollowingPaper]
    skipped: list[FollowSkipped]
    follows: list[Follow]


class FollowingSeen(Body):
    seen_at: str | None = Field(description="the mark now stored (it never moves back)")


class PrivateFeed(Body):
    """A private Atom feed (never its secret URL: only a hash of its token is stored)."""

    id: int
    scope: Literal["following", "collection", "for-you"]
    collection: str | None = Field(description="the collection's name (scope collection)")
    created_at: str
    revoked_at: str | None


class PrivateFeeds(Body):
    feeds: list[PrivateFeed]


class NewPrivateFeed(PrivateFeed):
    url: str = Field(description="the feed's address with its secret: shown this once")


# -- the library (web/library.py) ---------------------------------------------------------


class CollectionInfo(Body):
    """One of your collections."""

    name: str
    papers: int = Field(description="how many papers it holds")
    created_at: str


class LibraryPaper(Paper):
    """A paper in your library."""

    collections: list[str] = Field(description="the collections it is in (at least one)")
    note: str = Field(description="your private note (\"\": none)")
    saved_at: str = Field(description="when you first saved it")


class Library(Body):
    collection: str | None = Field(description="the collection shown (null: the whole library)")
    total: int
    collections: list[CollectionInfo] = Field(description="all your collections, the default one first")
    papers: list[LibraryPaper] = Field(description="newest saved first")


class Unsaved(Body):
    id: str
    saved: bool = Field(description="false: the paper is not in your library")
    was_saved: bool = Field(description="whether it was before this request")


class CollectionDeleted(Body):
    name: str
    deleted: bool
    left_library: int = Field(description="its papers that were in no other collection, which left the library")


class HiddenPaper(Paper):
    hidden_at: str


class Hidden(Body):
    total: int
    papers: list[HiddenPaper] = Field(description="newest hidden first")


class HiddenState(Body):
    id: str
    hidden: bool
    hidden_at: str | None = Field(description="when you hid it (null: not hidden)")


class ImportSkipped(Body):
    line: int = Field(description="where the record starts in the file")
    reason: str
    detail: str


class ImportedPaper(Body):
    line: int = Field(description="where the record starts in the file")
    id: str = Field(description="the stored paper it is")
    title: str = Field(description="its title as the file gives it")
    status: Literal["matched", "added"] = Field(description="matched: already stored; added: stored now")


class LibraryImport(Body):
    collection: str
    format: Literal["bibtex", "csl-json", "ris"]
    records: int = Field(description="records in the file")
    matched: int = Field(description="papers already stored (by arXiv id, DOI, key or title)")
    added: int = Field(description="papers stored now")
    skipped: list[ImportSkipped]
    papers: list[ImportedPaper]


# -- for you (web/foryou.py) -----------------------------------------------------------------


class NearPaper(Body):
    """A paper of your library that a recommended paper is close to."""

    id: str
    title: str
    similarity: float = Field(description="cosine similarity of the two papers (their MiniLM vectors)")
    url: str = Field(description="its page on this site")


class Why(Body):
    near: list[NearPaper] = Field(description="the two or three saved papers it is closest to")
    terms: list[str] = Field(description="the terms that weigh most for it in your model")
    follows: list[str] = Field(description="what it matches of what you follow: author X, category cs.CL, "
                                           "search 'Y'")


class ForYouPaper(Paper):
    score: float = Field(description="the model's score (higher: better for you); cold start: the trending score")
    why: Why | None = Field(description="why it is recommended (null at cold start: trending, not learnt)")


class ForYou(Body):
    """A day's papers ranked for you (``/api/me/for-you``)."""

    date: str = Field(description="the day whose papers are ranked, YYYY-MM-DD")
    cold: bool = Field(description="true: fewer than min_positives positives, so these are trending papers in "
                                   "the categories you follow, not recommendations")
    reason: str | None = Field(description="what the answer is made from, in words")
    positives: int = Field(description="papers the model learns you like from (library, upvotes)")
    min_positives: int = Field(description="positives needed for recommendations")
    categories: list[str] = Field(description="the categories you follow (the cold start's trending papers)")
    limit: int
    total: int = Field(description="papers in this answer")
    previous: str = Field(description="the same for the day before")
    next: str = Field(description="the same for the day after")
    papers: list[ForYouPaper] = Field(description="best first")
