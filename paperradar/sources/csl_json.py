"""CSL-JSON: the JSON array Zotero and Better BibTeX export.

One JSON document of items with CSL's own field names (``container-title``,
``issued.date-parts``, ``author[].family``). Separate from BibTeX and RIS
because all it shares with them is :mod:`.bib_common`; its JSON is read by
:func:`.generic.json_values`, which knows the line each item starts on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from ..model import FormatError, Item, Paper, Reject
from .bib_common import _arxiv_categories, _arxiv_from, _ids, _venue, _ymd
from .common import clean_abstract, finish, iso_date
from .generic import json_values

SOURCE_CSL = "csl-json"


# CSL "rich text" in titles: <i>E. coli</i>, CO<sub>2</sub>, <span class="nocase">.
_CSL_MARKUP = re.compile(r"</?(?:i|b|sup|sub|sc|span)(?:\s[^>]*)?>")


def parse_csl_json(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Items of a CSL-JSON array, each at the line where its object starts.

    The export is one JSON document: if it is broken nothing in it can be
    trusted, so the whole input fails with FormatError before any item.
    """
    data = stream.read()
    try:
        text = data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{name}: CSL-JSON is not valid UTF-8 (byte {exc.start})") from exc
    if not text.lstrip().startswith("["):
        raise FormatError(f"{name}: CSL-JSON must be a JSON array of items")
    for line, obj in json_values(text, name):
        if not isinstance(obj, dict):
            yield line, Reject(line, "not a JSON object")
            continue
        yield finish(_csl_paper(obj), line)


def _csl_paper(obj: dict[str, Any]) -> Paper:
    container = obj.get("container-title")
    container = container if isinstance(container, str) else ""
    markers = [container, obj.get("number"), obj.get("URL"), obj.get("DOI"), obj.get("note")]
    title = obj.get("title")
    paper = Paper(
        title=_CSL_MARKUP.sub("", title) if isinstance(title, str) else "",
        abstract=clean_abstract(obj.get("abstract")),
        authors=_csl_authors(obj.get("author")),
        doi=obj.get("DOI") if isinstance(obj.get("DOI"), str) else None,
        published=_csl_date(obj.get("issued")),
        journal_ref=_venue(container),
        links={"url": obj["URL"].strip()} if isinstance(obj.get("URL"), str) and obj["URL"].strip() else {},
        source=SOURCE_CSL,
    )
    _ids(paper, _arxiv_from(markers), obj.get("id") or obj.get("citation-key"))
    if paper.arxiv_id:
        paper.categories = _arxiv_categories([container, obj.get("note")])
    return paper


def _csl_authors(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    names = []
    for person in value:
        if not isinstance(person, dict):
            continue
        if isinstance(person.get("literal"), str):
            names.append(person["literal"])
            continue
        keys = ("given", "dropping-particle", "non-dropping-particle", "family")
        parts = [str(person[k]).strip() for k in keys if isinstance(person.get(k), str)]
        name = " ".join(p for p in parts if p)
        if isinstance(person.get("suffix"), str) and person["suffix"].strip():
            name += ", " + person["suffix"].strip()
        names.append(name)
    return names


def _csl_date(value: Any) -> str | None:
    """``{"date-parts": [[y, m, d]]}``, else its ``raw`` or ``literal`` text."""
    if not isinstance(value, dict):
        return iso_date(value) if isinstance(value, str) else None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        first = list(parts[0]) + [None, None]
        return _ymd(first[0], first[1], first[2])
    for key in ("raw", "literal"):
        text = value.get(key)
        if isinstance(text, str) and text.strip():
            return iso_date(text) or _ymd(text)
    return None
