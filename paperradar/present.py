"""How a stored paper is shown to the outside: the JSON shape and snippets.

Every surface (CLI ``--json``, the web API) uses these functions, so a
paper looks the same wherever it is read.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from .index.keyword import MARK_END, MARK_START  # how the index marks matches in snippets
from .store import Store

FORMER_MEMBER = "a former member"  # a submission here whose account was deleted since


def paper_json(row: dict[str, Any], full: bool = False) -> dict[str, Any]:
    """The public JSON of a paper; ``score``/``snippet`` appear when ranked."""
    out: dict[str, Any] = {
        "id": row["id"],
        "title": row["title"],
        "authors": row["authors"],
        "abstract": row["abstract"],
        "categories": row["categories"],
        "date": row["published"],
        "updated": row["updated"],
        "version": row["version"],
        "comment": row["comment"],
        "journal_ref": row["journal_ref"],
        "doi": row["doi"],
        "links": row["links"],
        "upvotes": row["upvotes"],
    }
    if "score" in row:
        out["score"] = round(row["score"], 6)
    if row.get("snippet"):
        out["snippet"] = snippet_text(row["snippet"])
        out["snippet_html"] = snippet_html(row["snippet"])
    if full:
        out["sources"] = row.get("sources", [])
        out["upvote_sources"] = row.get("upvote_sources", [])
        out["featured"] = [featured_json(f) for f in row.get("featured", [])]
        out["extra"] = row.get("extra", {})
    return out


def featured_json(featured: Any) -> dict[str, Any]:
    """A featured row (a :class:`~paperradar.store.base.Featured` or its dict) as the public
    ``{"day", "source", "submitted_by", "submitted_at"}``: when which site featured the
    paper, submitted by whom and when (null where unknown). Give it the row as
    :func:`shown_featured` made it, so that a member is named, not numbered."""
    f = featured if isinstance(featured, dict) else featured.as_dict()
    return {k: f.get(k) for k in ("day", "source", "submitted_by", "submitted_at")}


def shown_featured(store: Store, featured: Any) -> dict[str, Any] | None:
    """A featured row (a :class:`~paperradar.store.base.Featured` or its dict) as everyone outside
    the store sees it: a submission of this site (source ``local``, whose stored ``submitted_by``
    is the user's id) names the submitter by :func:`submitter_name`, never by id or email; Hugging
    Face's rows keep HF's user name. None stays None."""
    if featured is None:
        return None
    shown = dict(featured if isinstance(featured, Mapping) else featured.as_dict())
    if shown.get("source") == "local" and shown.get("submitted_by"):
        shown["submitted_by"] = submitter_name(store, shown["submitted_by"])
    return shown


def submitter_name(store: Store, user_id: str) -> str:
    """How a member who submitted a paper is shown: :attr:`User.display_name
    <paperradar.store.User.display_name>` (their name, else their email before the @), or
    "a former member" once the account is gone."""
    number = int(user_id) if user_id.isascii() and user_id.isdigit() and len(user_id) < 19 else None
    user = store.get_user_by_id(number) if number is not None else None
    return user.display_name if user is not None else FORMER_MEMBER


def snippet_text(snippet: str, start: str = "", end: str = "") -> str:
    """A snippet with the match markers replaced (by nothing, or e.g. ANSI bold)."""
    return snippet.replace(MARK_START, start).replace(MARK_END, end)


def snippet_html(snippet: str) -> str:
    """A snippet escaped for HTML with matches in <mark>: safe whatever the abstract holds."""
    return html.escape(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
