"""What the reference-manager parsers (BibTeX, CSL-JSON, RIS) share.

The arXiv id hides in a different field in every exporter (``eprint``, a
Zotero ``number`` or ``note``, a URL, the arXiv DOI), so each format looks in
all of them. The exporter's own key (a citation key) becomes ``source_id``
only when there is neither arXiv id nor DOI, so re-importing the same file
lands on the same records without letting a local key shadow a global
identifier. Dates arrive in parts (a year, maybe a month name, maybe a day).

Kept apart so these rules are stated once, and each format's module
(:mod:`.bib`, :mod:`.csl_json`, :mod:`.ris`) holds only its own syntax.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from typing import Any

from ..ids import find_arxiv_id, normalize_doi
from ..model import Paper
from .generic_fields import is_arxiv_venue

# "arXiv:1809.02922 [cs]" (Zotero notes, CSL container-title): the id and
# the archives arXiv listed it under.
_ARXIV_HINT = re.compile(r"arxiv:\s*\S+\s*\[([^\]]+)\]", re.IGNORECASE)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})


def _arxiv_from(texts: Iterable[Any]) -> tuple[str, int | None] | None:
    """The first arXiv id mentioned in ``texts``.

    Only text that says "arxiv" counts: a bare ``number = {1234.5678}`` is a
    report number far more often than an arXiv id.
    """
    for text in texts:
        if isinstance(text, str) and "arxiv" in text.lower():
            found = find_arxiv_id(text)
            if found:
                return found
    return None


def _arxiv_categories(texts: Iterable[Any]) -> list[str]:
    """The "[cs, stat]" hint exporters write after an arXiv id."""
    for text in texts:
        if isinstance(text, str):
            m = _ARXIV_HINT.search(text)
            if m:
                return [c.strip() for c in m.group(1).split(",") if c.strip()]
    return []


def _venue(*candidates: Any) -> str | None:
    for text in candidates:
        if isinstance(text, str) and text.strip() and not is_arxiv_venue(text):
            return " ".join(text.split())
    return None


def _ymd(year: Any, month: Any = None, day: Any = None) -> str | None:
    """YYYY-MM-DD from parts that may be missing, strings or month names."""
    m = re.search(r"\d{4}", str(year or ""))
    if not m:
        return None
    mon = _month(month) or 1
    try:
        d = int(str(day).strip()) if day not in (None, "") else 1
    except ValueError:
        d = 1
    if not 1 <= d <= calendar.monthrange(int(m.group(0)), mon)[1]:
        d = 1
    return f"{m.group(0)}-{mon:02d}-{d:02d}"


def _month(value: Any) -> int | None:
    text = str(value or "").strip().lower().rstrip(".")
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 12 else None
    return _MONTHS.get(text) or _MONTHS.get(text[:3])


def _ids(paper: Paper, found: tuple[str, int | None] | None, own_id: Any) -> None:
    """Set the arXiv id and fall back to the exporter's key only without a global id."""
    if found:
        paper.arxiv_id, paper.version = found
    paper.doi = normalize_doi(paper.doi)
    if not paper.arxiv_id and not paper.doi and own_id not in (None, ""):
        paper.source_id = str(own_id)
