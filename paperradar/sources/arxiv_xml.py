"""arXiv's XML answers: the API (Atom), OAI-PMH pages and the listing feeds.

The API parser lives here; the OAI-PMH pages are read in :mod:`.arxiv_oai`
and the listing feeds in :mod:`.arxiv_rss`, and both are importable from
here too. All three stream their records through :mod:`.xml_stream`, so no
answer sits in memory as a whole tree and nothing in it is resolved or
fetched from the network.

Damaged XML raises :class:`FormatError` only after every record before the
damage has been yielded, so a caller keeps what was readable. Error answers
of the services themselves raise :class:`ArxivApiError` and :class:`OaiError`;
an OAI ``noRecordsMatch`` is an empty result, not an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from ..ids import parse_arxiv_id
from ..model import FormatError, Item, Paper, Reject
from .arxiv_oai import OaiError, Resumption, oai_resumption, parse_oai
from .arxiv_rss import parse_rss
from .common import clean_abstract, finish, iso_date, iso_timestamp
from .xml_stream import ARXIV, ATOM, OAI, _elements, _free, _line, _split_categories, _text, _texts

__all__ = [
    "OAI",
    "ArxivApiError",
    "OaiError",
    "Resumption",
    "oai_resumption",
    "parse_api",
    "parse_oai",
    "parse_rss",
]

SOURCE_API = "arxiv-api"


class ArxivApiError(FormatError):
    """The API answered with its error feed (HTTP 400, a bad query or id).

    Raised rather than yielded: the answer holds no papers, and a harvester
    must tell "my request was wrong" apart from "no results".
    """

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(f"arXiv API error: {message}")
        self.message = message
        self.url = url


# --------------------------------------------------------------------------
# arXiv API (export.arxiv.org/api/query): Atom 1.0 with arxiv: extensions


def parse_api(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Papers of an API answer; an answer without entries yields nothing.

    (A request for several ids of which some do not exist simply gets fewer
    entries back; nothing marks the missing ones.)
    """
    for entry in _elements(stream, [ATOM + "entry"]):
        yield _api_entry(entry)
        _free(entry)


def _api_entry(entry: etree._Element) -> Item:
    line = entry.sourceline or 0
    entry_id = _text(entry, ATOM + "id").strip()
    if _is_api_error(entry, entry_id):
        raise ArxivApiError(_line(_text(entry, ATOM + "summary")) or "unknown error", entry_id)
    if not entry_id:
        return line, Reject(line, "missing arXiv id")
    updated = _text(entry, ATOM + "updated")
    primary = entry.find(ARXIV + "primary_category")
    categories = [primary.get("term", "")] if primary is not None else []
    categories += [c.get("term", "") for c in entry.iterfind(ATOM + "category")]
    categories, classes = _split_categories(categories)
    paper = Paper(
        title=_text(entry, ATOM + "title"),
        abstract=clean_abstract(_text(entry, ATOM + "summary")),
        authors=_texts(entry, f"{ATOM}author/{ATOM}name"),
        categories=categories,
        arxiv_id=entry_id,
        doi=_line(_text(entry, ARXIV + "doi")),
        published=iso_date(_text(entry, ATOM + "published")),
        updated=iso_date(updated),
        comment=_line(_text(entry, ARXIV + "comment")),
        journal_ref=_line(_text(entry, ARXIV + "journal_ref")),
        links=_api_links(entry),
        meta_date=iso_timestamp(updated),
        source=SOURCE_API,
    )
    if classes:
        paper.extra["classes"] = classes
    affiliations = _api_affiliations(entry)
    if affiliations:
        paper.extra["affiliations"] = affiliations
    return finish(paper, line)


def _is_api_error(entry: etree._Element, entry_id: str) -> bool:
    """The error feed holds one entry titled "Error" whose id is an
    arxiv.org/api/errors#... anchor and whose summary is the message."""
    if "/api/errors" in entry_id:
        return True
    return _text(entry, ATOM + "title").strip() == "Error" and parse_arxiv_id(entry_id) is None


def _api_links(entry: etree._Element) -> dict[str, str]:
    """abs, pdf and doi links as the API gives them (abs and pdf point at the
    version this entry describes)."""
    links: dict[str, str] = {}
    for link in entry.iterfind(ATOM + "link"):
        href = link.get("href")
        if not href:
            continue
        if link.get("rel") == "alternate":
            links.setdefault("abs", href)
        elif link.get("title") in ("pdf", "doi"):
            links.setdefault(link.get("title", ""), href)
    return links


def _api_affiliations(entry: etree._Element) -> dict[str, list[str]]:
    """author name -> affiliations, for the few authors that have any."""
    out: dict[str, list[str]] = {}
    for author in entry.iterfind(ATOM + "author"):
        affs = [a for a in (_line(t) for t in _texts(author, ARXIV + "affiliation")) if a]
        name = _line(_text(author, ATOM + "name"))
        if affs and name:
            out[name] = affs
    return out
