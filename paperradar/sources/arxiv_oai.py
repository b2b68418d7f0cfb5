"""arXiv's OAI-PMH pages (export.arxiv.org/oai2): ListRecords / GetRecord.

One page holds up to 1000 records in one of three metadata formats (arXiv,
arXivRaw, oai_dc), each read by its own function here, plus the resumption
token that says where the list goes on. Separate from the API and feed
parsers because OAI-PMH has its own envelope, error answers and paging;
they share only the streaming loop of :mod:`.xml_stream`.

An error answer raises :class:`OaiError`; ``noRecordsMatch`` is an empty
result, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from lxml import etree

from ..ids import normalize_doi
from ..model import FormatError, Item, Paper, Reject
from .common import clean_abstract, finish, iso_date, iso_timestamp, split_authors
from .xml_stream import (
    DC,
    OAI,
    OAI_ARXIV,
    OAI_DC,
    OAI_RAW,
    _elements,
    _free,
    _line,
    _split_categories,
    _text,
    _texts,
)

SOURCE_OAI = "arxiv-oai"


class OaiError(FormatError):
    """An OAI-PMH ``<error code=...>`` answer other than ``noRecordsMatch``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}")
        self.code = code
        self.message = message


class Resumption(NamedTuple):
    """Where an OAI-PMH list goes on: the token for the next page (None on
    the last page), this page's cursor and the size of the whole list."""

    token: str | None
    cursor: int | None
    complete_list_size: int | None


def parse_oai(stream: BinaryIO | bytes, name: str = "") -> Iterator[Item]:
    """Papers of one OAI-PMH page in the arXiv, arXivRaw or oai_dc format.

    Deleted records are skipped: they carry no metadata and are not errors
    in the input. ``stream`` may also be the bytes of a fetched page.
    """
    for elem in _elements(stream, [OAI + "record", OAI + "error"]):
        if elem.tag == OAI + "error":
            _oai_error(elem)
            return  # noRecordsMatch: an empty page
        item = _oai_record(elem)
        if item is not None:
            yield item
        _free(elem)


def oai_resumption(source: BinaryIO | bytes) -> Resumption:
    """The resumption token of a ListRecords page (all None when there is none).

    A separate pass over the page, so the harvester can call it on the same
    bytes it gives to :func:`parse_oai`. Error pages raise like parse_oai.
    """
    for elem in _elements(source, [OAI + "record", OAI + "error", OAI + "resumptionToken"]):
        if elem.tag == OAI + "error":
            _oai_error(elem)
        elif elem.tag == OAI + "resumptionToken":
            return Resumption(
                token=(elem.text or "").strip() or None,
                cursor=_int(elem.get("cursor")),
                complete_list_size=_int(elem.get("completeListSize")),
            )
        _free(elem)
    return Resumption(None, None, None)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _oai_error(elem: etree._Element) -> None:
    """Raise OaiError unless the code is noRecordsMatch (an empty result)."""
    code = elem.get("code", "")
    if code != "noRecordsMatch":
        raise OaiError(code, _line("".join(elem.itertext())) or "")


def _oai_record(record: etree._Element) -> Item | None:
    line = record.sourceline or 0
    header = record.find(OAI + "header")
    if header is None:
        return line, Reject(line, "missing OAI header")
    if header.get("status") == "deleted":
        return None
    identifier = _text(header, OAI + "identifier").strip()
    metadata = record.find(OAI + "metadata")
    payload = next(metadata.iterchildren(etree.Element), None) if metadata is not None else None
    if payload is None:
        return line, Reject(line, "missing metadata", identifier)
    reader = _OAI_READERS.get(payload.tag)
    if reader is None:
        return line, Reject(line, "unknown metadata format", str(payload.tag))
    paper = reader(payload)
    paper.arxiv_id = paper.arxiv_id or identifier or None
    if not paper.arxiv_id:
        return line, Reject(line, "missing arXiv id")
    paper.meta_date = iso_timestamp(_text(header, OAI + "datestamp"))
    paper.source = SOURCE_OAI
    return finish(paper, line)


def _oai_common(meta: etree._Element, ns: str) -> Paper:
    """The fields arXiv and arXivRaw share (same names, own namespaces)."""
    dois = _text(meta, ns + "doi").split()  # several DOIs come space-separated
    paper = Paper(
        title=_text(meta, ns + "title"),
        abstract=clean_abstract(_text(meta, ns + "abstract")),
        categories=_split_categories(_text(meta, ns + "categories").split())[0],
        arxiv_id=_text(meta, ns + "id").strip() or None,
        doi=dois[0] if dois else None,
        comment=_line(_text(meta, ns + "comments")),
        journal_ref=_line(_text(meta, ns + "journal-ref")),
    )
    if len(dois) > 1:
        paper.extra["dois"] = [normalize_doi(d) for d in dois]
    for tag in ("license", "msc-class", "acm-class", "report-no"):
        value = _line(_text(meta, ns + tag))
        if value:
            paper.extra[tag.replace("-", "_")] = value
    return paper


def _oai_arxiv(meta: etree._Element) -> Paper:
    """metadataPrefix=arXiv: structured authors, created/updated days."""
    paper = _oai_common(meta, OAI_ARXIV)
    authors = list(meta.iterfind(f"{OAI_ARXIV}authors/{OAI_ARXIV}author"))
    paper.authors = [_keyname_author(a) for a in authors]
    affiliations = {
        name: affs
        for name, a in zip(paper.authors, authors)
        if (affs := [x for x in (_line(t) for t in _texts(a, OAI_ARXIV + "affiliation")) if x])
    }
    if affiliations:
        paper.extra["affiliations"] = affiliations
    created = iso_date(_text(meta, OAI_ARXIV + "created"))
    paper.published = created
    # <updated> only appears once there is a second version.
    paper.updated = iso_date(_text(meta, OAI_ARXIV + "updated")) or created
    return paper


def _keyname_author(author: etree._Element) -> str:
    parts = (_text(author, OAI_ARXIV + tag) for tag in ("forenames", "keyname", "suffix"))
    return " ".join(p for p in (_line(x) for x in parts) if p)


def _oai_raw(meta: etree._Element) -> Paper:
    """metadataPrefix=arXivRaw: one author string and the version history."""
    paper = _oai_common(meta, OAI_RAW)
    paper.authors = split_authors(_text(meta, OAI_RAW + "authors"))
    versions = meta.findall(OAI_RAW + "version")
    dates = [iso_date(_text(v, OAI_RAW + "date")) for v in versions]
    if dates:
        paper.published, paper.updated = dates[0], dates[-1]
    numbers = [int(v.get("version", "")[1:]) for v in versions if re.fullmatch(r"v\d+", v.get("version", ""))]
    paper.version = max(numbers) if numbers else (len(versions) or None)
    submitter = _line(_text(meta, OAI_RAW + "submitter"))
    if submitter:
        paper.extra["submitter"] = submitter
    return paper


def _oai_dc(meta: etree._Element) -> Paper:
    """metadataPrefix=oai_dc: plain Dublin Core.

    dc:subject holds subject names ("Computer Science - Learning"), not
    category codes, so categories stay empty rather than wrong. arXiv puts
    the author comment in a second dc:description starting "Comment:".
    """
    descriptions = [d.strip() for d in _texts(meta, DC + "description")]
    abstracts = [d for d in descriptions if not d.startswith("Comment:")]
    comments = [d[len("Comment:"):] for d in descriptions if d.startswith("Comment:")]
    dates = [iso_date(d) for d in _texts(meta, DC + "date")]
    identifiers = [i.strip() for i in _texts(meta, DC + "identifier")]
    dois = [i[4:] for i in identifiers if i.lower().startswith("doi:")]
    return Paper(
        title=_text(meta, DC + "title"),
        abstract=clean_abstract(abstracts[0] if abstracts else ""),
        authors=[_last_first(c) for c in _texts(meta, DC + "creator")],
        doi=dois[0] if dois else None,
        published=dates[0] if dates else None,
        updated=dates[-1] if dates else None,
        comment=_line(comments[0]) if comments else None,
    )


def _last_first(name: str) -> str:
    """Turn "Last, First" (or "Last, First, Suffix") into "First Last [Suffix]"."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) < 2:
        return name.strip()
    return " ".join(p for p in [parts[1], parts[0], *parts[2:]] if p)


_OAI_READERS = {
    OAI_ARXIV + "arXiv": _oai_arxiv,
    OAI_RAW + "arXivRaw": _oai_raw,
    OAI_DC + "dc": _oai_dc,
}
