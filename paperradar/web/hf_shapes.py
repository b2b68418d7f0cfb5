"""Hugging Face's JSON, made from a stored paper: the daily list entry, the search result, the paper
object and its Markdown (the routes are in :mod:`.hf_api`).

Where each field comes from is said in :mod:`.hf_api`'s docstring; this module only shapes
them, and serves a value an import kept under HF's name only where it has the type the
response model gives it (:func:`fits`), so that an answer never contradicts /openapi.json.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..citation import links as paper_links
from ..present import shown_featured
from ..store import Store
from . import schemas

EASTERN = ZoneInfo("America/New_York")
_HF_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

# HF keys kept in a paper's extra, where HF puts them: in the paper object (as /api/papers/{id}
# answers it, and nested in a list entry), in a daily list entry, in a search result's paper.
PAPER_KEYS = ("discussionId", "projectPage", "githubRepo", "githubRepoAddedBy", "ai_summary", "ai_summary_model",
              "ai_keywords", "githubStars", "organization")
ENTRY_KEYS = ("thumbnail", "numComments", "submittedBy", "mediaUrls", "mediaUrl", "organization",
              "submitterOrganization", "isAuthorParticipating")
SEARCH_PAPER_KEYS = ("discussionId", "ai_keywords")
SEARCH_ENTRY_KEYS = ("thumbnail", "numComments", "upvoted", "isAuthorParticipating")
_USER_KEYS = ("_id", "avatarUrl", "isPro", "fullname", "type")  # shared by HF's two shapes of a user

Featuring = Mapping[str, Any]  # a featured row: day, source, submitted_by, submitted_at


def daily_entry(row: Mapping[str, Any], featuring: Featuring | None, comments: int = 0) -> dict[str, Any]:
    """One item of ``/api/daily_papers`` (``comments``: the paper's comments on this site)."""
    return _entry(row, paper_object(row, featuring), featuring, ENTRY_KEYS, schemas.HfDailyEntry,
                  {"numComments": num_comments(row, comments)})


def search_entry(row: Mapping[str, Any], comments: int = 0, upvoted: bool = False) -> dict[str, Any]:
    """One item of ``/api/papers/search`` (``upvoted``: whether the viewer voted for it here; false
    for an anonymous viewer, as on Hugging Face)."""
    paper = paper_object(row, None, SEARCH_PAPER_KEYS, full=False)
    return _entry(row, paper, None, SEARCH_ENTRY_KEYS, schemas.HfSearchEntry,
                  {"upvoted": upvoted, "numComments": num_comments(row, comments)})


def num_comments(row: Mapping[str, Any], local: int) -> int:
    """``numComments``: the comments Hugging Face counted (as imported, where an import kept the
    count) plus the ``local`` ones, written on this site, as ``upvotes`` is both sites' votes."""
    imported = _extra(row).get("numComments")
    return (imported if fits(imported, schemas.HfEntry, "numComments") else 0) + local


def _entry(row: Mapping[str, Any], paper: dict[str, Any], featuring: Featuring | None, keys: Sequence[str],
           model: type[BaseModel], known: Mapping[str, Any] | None = None) -> dict[str, Any]:
    extra = _extra(row)
    out: dict[str, Any] = {"paper": paper}
    if paper.get("publishedAt") and (published := eastern(paper["publishedAt"])):
        out["publishedAt"] = published
    out["title"] = row["title"]
    out["summary"] = row["abstract"]
    kept = {key: value for key, value in extra.items() if key in keys and fits(value, model, key)}
    found = {"numComments": 0, **kept, **(known or {})}
    found.pop("submittedBy", None)  # the featured row's submitter, not whoever an import last named
    if submitter := (featuring or {}).get("submitted_by"):
        found["submittedBy"] = _user(extra, submitter, "name")
    out.update((key, found[key]) for key in keys if key in found)
    return out


def paper_object(row: Mapping[str, Any], featuring: Featuring | None, keys: Sequence[str] = PAPER_KEYS,
                 full: bool = True) -> dict[str, Any]:
    """The paper as HF's paper object: ``/api/papers/{id}``, and ``paper`` in a daily entry
    (``full``); a search result's paper has fewer fields."""
    extra = _extra(row)
    out: dict[str, Any] = {"id": row["id"], "authors": authors(row)}
    if full and "mediaUrls" in extra and fits(extra["mediaUrls"], schemas.HfPaper, "mediaUrls"):
        out["mediaUrls"] = extra["mediaUrls"]
    if (published := published_at(row)) is not None:
        out["publishedAt"] = published
    featuring = featuring or {}
    if full and (at := hf_time(featuring.get("submitted_at"))):
        out["submittedOnDailyAt"] = at
    out["title"] = row["title"]
    if full and featuring.get("submitted_by"):
        out["submittedOnDailyBy"] = _user(extra, featuring["submitted_by"], "user")
    out["summary"] = row["abstract"]
    out["upvotes"] = row["upvotes"]
    out.update((key, extra[key]) for key in keys if key in extra and fits(extra[key], schemas.HfPaper, key))
    return out


def authors(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """HF's author objects where an import kept them, else ``{"name", "hidden": false}``."""
    kept = _extra(row).get("authors")
    if isinstance(kept, list) and kept and fits(kept, schemas.HfPaper, "authors"):
        return kept
    return [{"name": name, "hidden": False} for name in row["authors"]]


def published_at(row: Mapping[str, Any]) -> str | None:
    """HF's ``publishedAt`` where an import kept it, else the first arXiv listing (midnight UTC)."""
    kept = hf_time(_extra(row).get("publishedAt"))
    if kept:
        return kept
    return f"{row['published'][:10]}T00:00:00.000Z" if row.get("published") else None


def eastern(published: str) -> str:
    """A time as HF writes a list entry's ``publishedAt``: US Eastern wall-clock time, marked ``Z``
    (None for a time that has none: hours from the calendar's first moment)."""
    try:
        when = datetime.fromisoformat(published).astimezone(EASTERN)
    except (ValueError, OverflowError):
        return None
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def hf_time(value: Any) -> str | None:
    """A timestamp in HF's form (``2025-06-16T04:13:42.201Z``): as given when it is, else converted
    to it (UTC); None if it is not a timestamp."""
    if not isinstance(value, str) or not value:
        return None
    if _HF_TIME.fullmatch(value):
        return value
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        when = when.astimezone(UTC)
    except OverflowError:  # hours from the calendar's ends
        return None
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def _user(extra: Mapping[str, Any], name: str, key: str) -> dict[str, Any]:
    """The submitter as HF gives it: in a list entry (``submittedBy``, the user name under
    ``name``) or in a paper (``submittedOnDailyBy``, under ``user``). The stored object of that
    shape when it is this user's, else the other shape's re-keyed, else only the name."""
    mine, other = ("submittedBy", "submittedOnDailyBy") if key == "name" else ("submittedOnDailyBy", "submittedBy")
    other_key = "user" if key == "name" else "name"
    model = schemas.HfListUser if key == "name" else schemas.HfUser
    stored = extra.get(mine)
    if isinstance(stored, dict) and stored.get(key) == name and fits(stored, model):
        return stored
    stored = extra.get(other)
    if isinstance(stored, dict) and stored.get(other_key) == name:
        rekeyed = {**{k: stored[k] for k in _USER_KEYS if k in stored}, key: name}
        if fits(rekeyed, model):
            return rekeyed
    return {key: name}


def submitter_label(store: Store, featuring: Featuring) -> str | None:
    """"Submitted by ..." as pages say it (:func:`shown_label` of the row as shown)."""
    return shown_label(shown_featured(store, featuring) or {})


def shown_label(shown: Featuring) -> str | None:
    """"Submitted by ..." of a row :func:`~paperradar.present.shown_featured` made: a member's display
    name, HF's user name marked as Hugging Face's; None when the row names nobody."""
    by = shown.get("submitted_by")
    if not by:
        return None
    return by if shown.get("source") == "local" else f"{by} on Hugging Face"


def fits(value: Any, model: type[BaseModel], key: str | None = None) -> bool:
    """Whether a stored value has the type :mod:`.schemas` gives it in HF's JSON (``model``, or its
    field ``key``). What an import kept under HF's name in another shape is left out, as HF leaves
    out what a paper lacks, so that every answer is what /openapi.json says."""
    try:
        _adapter(model, key).validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


@cache
def _adapter(model: type[BaseModel], key: str | None) -> TypeAdapter[Any]:
    return TypeAdapter(model if key is None else model.model_fields[key].annotation)


def _extra(row: Mapping[str, Any]) -> Mapping[str, Any]:
    extra = row.get("extra")
    return extra if isinstance(extra, Mapping) else {}


# -- Markdown ------------------------------------------------------------------------


def markdown(row: Mapping[str, Any]) -> str:
    """The paper page as Markdown: what paperradar knows of it (no full text)."""
    extra = _extra(row)
    links = paper_links(dict(row))
    names = ", ".join(a["name"] for a in authors(row) if not a.get("hidden"))
    lines = [f"# {_one_line(row['title'])}", ""]
    if names:
        lines += [f"Authors: {names}", ""]
    if published := published_at(row):
        lines += [f"Published: {published[:10]}", ""]
    if upvotes := row.get("upvotes"):
        lines += [f"Upvotes: {upvotes}", ""]
    shown = [(label, links[key]) for key, label in (("abs", "arXiv"), ("pdf", "PDF"), ("hf", "Hugging Face"),
                                                     ("code", "Code"), ("project", "Project page")) if links.get(key)]
    if shown:
        lines += [" · ".join(f"[{label}](<{url}>)" for label, url in shown), ""]
    if isinstance(extra.get("ai_summary"), str):
        lines += ["## AI summary", "", extra["ai_summary"], ""]
    if isinstance(extra.get("ai_keywords"), list) and extra["ai_keywords"]:
        lines += ["Keywords: " + ", ".join(str(k) for k in extra["ai_keywords"]), ""]
    if row.get("abstract"):
        lines += ["## Abstract", "", row["abstract"], ""]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())
