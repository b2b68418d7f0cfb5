"""How a stored paper is shown to the outside: the JSON shape and snippets.

Every surface (CLI ``--json``, the web API) uses these functions, so a
paper looks the same wherever it is read.
"""

from __future__ import annotations

import html
from typing import Any

from .index.keyword import MARK_END, MARK_START  # how the index marks matches in snippets


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
    paper, submitted by whom and when (null where unknown)."""
    f = featured if isinstance(featured, dict) else featured.as_dict()
    return {k: f.get(k) for k in ("day", "source", "submitted_by", "submitted_at")}


def snippet_text(snippet: str, start: str = "", end: str = "") -> str:
    """A snippet with the match markers replaced (by nothing, or e.g. ANSI bold)."""
    return snippet.replace(MARK_START, start).replace(MARK_END, end)


def snippet_html(snippet: str) -> str:
    """A snippet escaped for HTML with matches in <mark>: safe whatever the abstract holds."""
    return html.escape(snippet).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
