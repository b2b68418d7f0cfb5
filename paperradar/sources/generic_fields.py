"""Generic records to papers: the field names scripts, spreadsheets and APIs use.

There is no schema, only habits: a paper has a ``title``, an ``abstract``
(or ``summary``), ``authors`` as a list or a string, an ``id`` that may be
an arXiv id, a DOI or anything else. The first field present wins. A few
shapes of well-known APIs are understood on the way (OpenAlex's inverted
abstract, Semantic Scholar's ``externalIds``) because they cost a line each
and would otherwise lose the abstract or the arXiv id.

Separate from the reading of JSON and CSV in :mod:`.generic`: a JSON object
and a CSV row go through the same habits, and a new habit goes here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..ids import find_arxiv_id, parse_arxiv_id
from ..model import Paper
from .common import clean_abstract, iso_date, split_authors

_ID_KEYS = ("arxiv_id", "id", "paper_id", "paperid", "key")
_TITLE_KEYS = ("title", "display_name")
_ABSTRACT_KEYS = ("abstract", "summary", "description", "abstract_note")
_AUTHOR_KEYS = ("authors", "author", "authorships")
_DATE_KEYS = (
    "published",
    "date",
    "year",
    "publication_date",
    "publicationdate",
    "listed",
    "publication_year",
)
_JOURNAL_KEYS = ("journal_ref", "journal", "venue", "publication_title")
_NAME_KEYS = ("name", "display_name", "full_name", "literal", "raw_author_name")
_DOI_LIKE = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?10\.\d{4,9}/\S+$", re.IGNORECASE)


def generic_paper(obj: dict[str, Any], source: str) -> Paper:
    """A draft paper from an object with common field names (case-insensitive)."""
    f = {str(k).strip().lower(): v for k, v in obj.items()}
    title = _first(f, _TITLE_KEYS)
    paper = Paper(
        title=title if isinstance(title, str) else "",
        abstract=clean_abstract(_abstract(f)),
        authors=_authors(_first(f, _AUTHOR_KEYS)),
        categories=_categories(f.get("categories")),
        doi=_str(f.get("doi")) or None,
        published=iso_date(_first(f, _DATE_KEYS)),
        updated=iso_date(f.get("updated")),
        comment=_str(f.get("comment")) or None,
        journal_ref=_journal(f),
        links=_links(f),
        source=source,
    )
    _apply_ids(paper, f)
    return paper


def _first(f: dict[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = f.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _str(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _apply_ids(paper: Paper, f: dict[str, Any]) -> None:
    """The id field: an arXiv id, a DOI, or the source's own id (first key present)."""
    key = next((k for k in _ID_KEYS if _str(f.get(k))), None)
    raw = _str(f.get(key)) if key else ""
    if key == "arxiv_id" or parse_arxiv_id(raw):
        paper.arxiv_id = raw
    elif _DOI_LIKE.match(raw):
        paper.doi = paper.doi or raw
    elif raw:
        paper.source_id = raw
    external = f.get("externalids")
    if isinstance(external, dict):  # Semantic Scholar
        paper.arxiv_id = paper.arxiv_id or _str(external.get("ArXiv")) or None
        paper.doi = paper.doi or _str(external.get("DOI")) or None
    if not paper.arxiv_id:
        for value in (f.get("url"), f.get("pdf_url"), f.get("extra"), f.get("note")):
            text = _str(value)
            found = find_arxiv_id(text) if "arxiv" in text.lower() else None
            if found:
                paper.arxiv_id, paper.version = found[0], paper.version or found[1]
                break


def _abstract(f: dict[str, Any]) -> str:
    text = _first(f, _ABSTRACT_KEYS)
    if isinstance(text, str):
        return text
    return _uninvert(f.get("abstract_inverted_index"))


def _uninvert(index: Any) -> str:
    """OpenAlex ships abstracts as {word: [positions]}; put the words back in order."""
    if not isinstance(index, dict):
        return ""
    words: dict[int, str] = {}
    for word, positions in index.items():
        if isinstance(positions, list):
            for pos in positions:
                if isinstance(pos, int) and 0 <= pos < 1_000_000:
                    words[pos] = str(word)
    return " ".join(words[p] for p in sorted(words))


def _authors(value: Any) -> list[str]:
    if isinstance(value, str):
        return _split_names(value)
    if not isinstance(value, list):
        return []
    names = []
    for item in value:
        name = _person(item)
        if name:
            names.append(name)
    return names


def _person(item: Any) -> str:
    """A name from a string, {"name"}, {"given", "family"} or OpenAlex {"author": {...}}."""
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return ""
    nested = _person(item["author"]) if isinstance(item.get("author"), dict) else ""
    if nested:
        return nested
    for key in _NAME_KEYS:
        if isinstance(item.get(key), str) and item[key].strip():
            return str(item[key])
    parts = [item.get(k) for k in ("given", "first", "family", "last")]
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def _split_names(text: str) -> list[str]:
    """Authors in one string: "A; B; C" (semicolons win) or "A, B and C".

    In a semicolon list a single comma means "Last, First" (Zotero's CSV),
    so it is turned round.
    """
    if ";" not in text:
        return split_authors(text)
    names = []
    for part in (p.strip() for p in text.split(";")):
        if part.count(",") == 1:
            last, given = (s.strip() for s in part.split(","))
            part = f"{given} {last}".strip()
        if part:
            names.append(part)
    return names


def _categories(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(c) for c in value if isinstance(c, str)]
    if isinstance(value, str):
        return [c for c in re.split(r"[,\s]+", value) if c]
    return []


def _journal(f: dict[str, Any]) -> str | None:
    location = f.get("primary_location")
    source = location.get("source") if isinstance(location, dict) else None
    for value in [*(f.get(k) for k in _JOURNAL_KEYS), source]:
        if isinstance(value, dict):
            value = value.get("name") or value.get("display_name")
        text = _str(value)
        if text and not is_arxiv_venue(text):
            return " ".join(text.split())
    return None


def is_arxiv_venue(text: str) -> bool:
    """Whether a journal field only says "this is an arXiv preprint" (arXiv, CoRR)."""
    low = text.strip().lower()
    return low.startswith("arxiv") or low in ("corr", "arxiv.org")


def _links(f: dict[str, Any]) -> dict[str, str]:
    links = {}
    for key, link in (("url", "url"), ("pdf_url", "pdf")):
        text = _str(f.get(key))
        if text:
            links[link] = text
    return links
