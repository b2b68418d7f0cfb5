"""Hugging Face papers API responses: /api/daily_papers and /api/papers/search.

Both endpoints answer with one JSON array of entries ``{"paper": {...}, ...}``
where ``paper`` holds the arXiv id (``id``), ``title``, ``summary``,
``authors``, ``publishedAt``, ``upvotes`` and optional extras
(``ai_keywords``, ``githubRepo``, ``projectPage``, ...). The two differ in
what the dates mean, so they have two entry points over one mapping:

* a daily listing says on which day HF listed the paper: the date in the
  file name (``2025-03-05.json``, as saved by ``?date=``), else the entry's
  ``submittedOnDailyAt`` day, else its top-level ``publishedAt`` day;
* a search response only knows the paper's ``publishedAt``.

A daily entry also says that HF *featured* the paper on a day (see
:func:`featured`): ``paper.submittedOnDailyAt``'s day where the response
has it (responses saved before March 2025 lack it: then the day the
response was for, the date in the file name or the sync request's URL),
who submitted it and when. A search response features nothing.

Every field HF gives is kept (:func:`entry_extra`): the ones paperradar has
a place for go there (``id``, ``title``, ``summary``, author names,
``upvotes``), the rest into ``Paper.extra`` under HF's own names. A
response is one document: if it is not valid JSON or UTF-8 nothing in it
can be trusted, so that raises :class:`FormatError` instead of yielding a
partial answer. Records are numbered by their 1-based position in the array
(a pretty-printed array has no meaningful "line" per entry).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any, BinaryIO

import orjson

from ..ids import parse_arxiv_id
from ..model import FormatError, Item, Paper, Reject
from .common import clean_abstract, finish, iso_date, iso_timestamp

SOURCE_DAILY = "hf-daily"
SOURCE_SEARCH = "hf-search"
HF_PAPER_URL = "https://huggingface.co/papers/{}"

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")


def parse_daily(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Papers of a ``GET /api/daily_papers?date=...`` response.

    ``published`` and ``upvotes_at`` are the listing day: the file name's
    date when it has one (the day the response was saved and its upvote
    counts observed), else the entry's own ``submittedOnDailyAt`` day.
    """
    file_day = date_in_name(name)
    for index, entry in entries(stream):
        if isinstance(entry, Reject):
            yield index, entry
            continue
        day = file_day or listing_day(entry)
        paper = entry_paper(entry, published=day, upvotes_at=day, source=SOURCE_DAILY)
        paper.featured_day, paper.featured_by, paper.featured_at = featured(entry, file_day)
        yield finish(paper, index)


def parse_search(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Papers of a ``GET /api/papers/search?q=...`` response.

    ``published`` is the paper's ``publishedAt`` day. A search response
    carries no date of its own, yet an upvote count needs one: it is the
    file name's date when there is one, else today (UTC), taken as the day
    of import. That is not reproducible across runs, but it is the best
    honest bound: the counts were observed at the latest today.
    """
    observed = date_in_name(name) or datetime.now(timezone.utc).date().isoformat()
    for index, entry in entries(stream):
        if isinstance(entry, Reject):
            yield index, entry
            continue
        paper = entry["paper"]
        published = iso_date(paper.get("publishedAt")) or iso_date(entry.get("publishedAt"))
        paper_draft = entry_paper(entry, published=published, upvotes_at=observed, source=SOURCE_SEARCH)
        yield finish(paper_draft, index)


def date_in_name(name: str) -> str | None:
    """The last valid YYYY-MM-DD in a file name, e.g. ``hf-daily/2025-03-05.json``."""
    for found in reversed(_DATE_IN_NAME.findall(name or "")):
        try:
            return date.fromisoformat(found).isoformat()
        except ValueError:
            continue
    return None


def listing_day(entry: dict[str, Any]) -> str | None:
    """The day an entry was listed on HF Daily, from the entry alone.

    ``submittedOnDailyAt`` is that day exactly; the top-level ``publishedAt``
    of older responses is the arXiv submission time (often days earlier),
    so it is only the last resort.
    """
    paper = entry.get("paper") or {}
    return (
        iso_date(paper.get("submittedOnDailyAt"))
        or iso_date(entry.get("submittedOnDailyAt"))
        or iso_date(entry.get("publishedAt"))
        or iso_date(paper.get("publishedAt"))
    )


def featured(entry: dict[str, Any], response_day: str | None) -> tuple[str | None, str | None, str | None]:
    """(day, submitter's user name, time) HF featured a daily entry.

    The day is ``paper.submittedOnDailyAt``'s (UTC) day; responses saved
    before March 2025 lack it, and then the day is the one the response was
    for (``response_day``: the date in the file name or the request URL), or
    None when that is unknown too (such a response read from stdin): the
    top-level ``publishedAt`` is not a featuring day. The submitter is
    ``submittedBy.name``, else ``paper.submittedOnDailyBy.user`` (the same
    person where both are given); the time is ``submittedOnDailyAt`` as given.
    """
    paper = entry.get("paper") or {}
    at = paper.get("submittedOnDailyAt")
    at = at if isinstance(at, str) and iso_timestamp(at) else None
    day = iso_date(at) or response_day
    if day is None:
        return None, None, None
    by = None
    for holder, key in ((entry.get("submittedBy"), "name"), (paper.get("submittedOnDailyBy"), "user"),
                        (paper.get("submittedOnDailyBy"), "name")):
        if isinstance(holder, dict) and isinstance(holder.get(key), str) and holder[key].strip():
            by = holder[key].strip()
            break
    return day, by, at


def entries(stream: BinaryIO) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    """The array's entries with their 1-based positions; bad entries become Rejects."""
    document = load_document(stream)
    for index, entry in enumerate(document, start=1):
        if not isinstance(entry, dict):
            yield index, Reject(index, "not a JSON object")
        elif not isinstance(entry.get("paper"), dict):
            yield index, Reject(index, "missing paper")
        else:
            yield index, entry


def load_document(stream: BinaryIO) -> list[Any]:
    """The whole response as a list; a single entry object counts as a list of one."""
    raw = stream.read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        return []
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "UTF-8" in str(exc):
            raise FormatError(f"not valid UTF-8: {exc}") from None
        raise FormatError(f"not valid JSON: {exc}") from None
    if isinstance(document, dict) and "paper" in document:
        return [document]
    if not isinstance(document, list):
        raise FormatError(f"not a JSON array of papers but a JSON {type(document).__name__}")
    return document


def entry_paper(
    entry: dict[str, Any], *, published: str | None, upvotes_at: str | None, source: str
) -> Paper:
    """Map one entry (daily or search shape) to a draft paper for :func:`finish`.

    An id that is not an arXiv id (HF also hosts papers that are not on
    arXiv) is kept as ``hf:<id>`` in ``source_id`` instead of rejecting the
    paper, so it still gets a stable key and its HF link.
    """
    paper: dict[str, Any] = entry["paper"]
    hf_id = _text(paper.get("id"))
    parsed = parse_arxiv_id(hf_id)
    arxiv_id = hf_id if parsed else None
    upvotes = paper.get("upvotes")
    if not isinstance(upvotes, int) or isinstance(upvotes, bool):
        upvotes = None
    return Paper(
        title=_text(paper.get("title")) or _text(entry.get("title")),
        abstract=clean_abstract(paper.get("summary") or entry.get("summary")),
        authors=author_names(paper.get("authors")),
        arxiv_id=arxiv_id,
        source_id=None if arxiv_id or not hf_id else f"hf:{hf_id}",
        published=published,
        links=entry_links(paper, parsed[0] if parsed else hf_id),
        upvotes=upvotes,
        upvotes_at=upvotes_at if upvotes is not None else None,
        meta_date=iso_timestamp(paper.get("publishedAt")),
        source=source,
        extra=entry_extra(entry),
    )


def author_names(authors: Any) -> list[str]:
    """Names in order; hidden authors are kept, since their names are real."""
    if not isinstance(authors, list):
        return []
    names = []
    for author in authors:
        name = author.get("name") if isinstance(author, dict) else author
        if isinstance(name, str) and name.strip():
            names.append(name)
    return names


def entry_links(paper: dict[str, Any], hf_id: str) -> dict[str, str]:
    """HF page, code repository and project page, where the entry has them."""
    links: dict[str, str] = {}
    if hf_id:
        links["hf"] = HF_PAPER_URL.format(hf_id)
    code = _url(paper.get("githubRepo"))
    if code:
        links["code"] = code
    project = _url(paper.get("projectPage"))
    if project:
        links["project"] = project
    return links


# Where each HF key goes. Keys of ``paper`` that paperradar has a field for
# (``authors`` and ``publishedAt`` are also kept as given, in ``extra``):
PAPER_FIELDS = {"id": "id / arxiv_id", "title": "title", "summary": "abstract", "upvotes": "upvotes"}
# Top-level keys that repeat the paper's or belong to one response, not to the paper:
ENTRY_NOT_KEPT = {
    "paper": "the paper object itself",
    "title": "paper.title, whitespace normalised",
    "summary": "paper.summary",
    # Responses with submittedOnDailyAt: the paper's publishedAt shifted to US
    # Eastern time; older ones: an undocumented time near the featuring. The
    # featuring time is the featured row's (submittedOnDailyAt, or unknown).
    "publishedAt": "a time of the list entry, not of the paper",
    # Search responses only: about the viewer and the query, not the paper.
    "upvoted": "whether the (anonymous) viewer upvoted",
    "highlightedTitle": "the title marked up for the search query",
    "highlightedSummary": "the summary marked up for the search query",
}


def entry_extra(entry: dict[str, Any]) -> dict[str, Any]:
    """Every HF field of an entry that has no place of its own, under HF's key names.

    Values are kept as HF gives them (``authors`` with their ``_id``,
    ``hidden``, ``user``, ``status``; ``submittedBy`` and
    ``submittedOnDailyBy`` objects; ``githubRepo`` and ``projectPage``
    even with stray spaces, whose cleaned form is in ``links``), except that
    ``ai_keywords`` loses blank keywords. A key whose value is null or empty
    is left out, as HF leaves it out for papers that lack it, so that a
    record without it never erases a stored value. Top-level and paper keys
    share one namespace; they agree where both are given (``organization``,
    ``mediaUrls``), and the paper's wins otherwise.
    """
    paper: dict[str, Any] = entry["paper"]
    extra: dict[str, Any] = {}
    for key, value in entry.items():
        if key not in ENTRY_NOT_KEPT and not _absent(value):
            extra[key] = value
    for key, value in paper.items():
        if key not in PAPER_FIELDS and not _absent(value):
            extra[key] = value
    for key in _COUNTS:
        if key in extra and (not isinstance(extra[key], int) or isinstance(extra[key], bool)):
            del extra[key]
    keywords = extra.pop("ai_keywords", None)
    if isinstance(keywords, list):
        kept = [k.strip() for k in keywords if isinstance(k, str) and k.strip()]
        if kept:
            extra["ai_keywords"] = kept
    return extra


_COUNTS = ("numComments", "githubStars")


def _absent(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _url(value: Any) -> str | None:
    """A web address with the stray spaces some entries carry removed."""
    text = _text(value)
    return text if text.startswith(("http://", "https://")) else None
