"""arXiv's XML answers: the API (Atom), OAI-PMH pages and the listing feeds.

Three parsers share one streaming loop (:func:`_elements`): lxml's
``iterparse`` hands over each record when its end tag arrives, the parser
turns it into a :class:`Paper`, and the element is freed before the next one,
so a 1000-record OAI page or a big saved feed never sits in memory as a whole
tree. Entities and DTDs are never resolved and nothing is fetched from the
network: these files come from outside.

Damaged XML raises :class:`FormatError` only after every record before the
damage has been yielded, so a caller keeps what was readable. Error answers
of the services themselves raise :class:`ArxivApiError` and :class:`OaiError`;
an OAI ``noRecordsMatch`` is an empty result, not an error.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO, NamedTuple

from lxml import etree

from ..ids import normalize_doi, parse_arxiv_id
from ..model import FormatError, Item, Paper, Reject
from .common import clean_abstract, finish, iso_date, iso_timestamp, split_authors

SOURCE_API = "arxiv-api"
SOURCE_OAI = "arxiv-oai"
SOURCE_RSS = "arxiv-rss"

# Namespaces, in lxml's "{uri}tag" spelling.
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"  # arxiv: elements of the API and of rss.arxiv.org
OAI = "{http://www.openarchives.org/OAI/2.0/}"
OAI_ARXIV = "{http://arxiv.org/OAI/arXiv/}"
OAI_RAW = "{http://arxiv.org/OAI/arXivRaw/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
DC = "{http://purl.org/dc/elements/1.1/}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


class ArxivApiError(FormatError):
    """The API answered with its error feed (HTTP 400, a bad query or id).

    Raised rather than yielded: the answer holds no papers, and a harvester
    must tell "my request was wrong" apart from "no results".
    """

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(f"arXiv API error: {message}")
        self.message = message
        self.url = url


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


# --------------------------------------------------------------------------
# Streaming and small text helpers


def _elements(source: BinaryIO | bytes, tags: Iterable[str]) -> Iterator[etree._Element]:
    """Each element named in ``tags``, as soon as its end tag is read.

    Accepts in-memory bytes too, since the OAI harvester holds its pages as
    bytes. A syntax error becomes FormatError only when the loop reaches it,
    that is after everything before the damage was handed out.
    """
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=list(tags),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
    )
    try:
        for _, elem in events:
            yield elem
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"invalid XML at line {exc.lineno or 1}: {exc.msg}") from exc


def _free(elem: etree._Element) -> None:
    """Drop a handled record and the siblings before it, which iterparse keeps."""
    elem.clear(keep_tail=True)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _text(parent: etree._Element, path: str) -> str:
    """All text of the first ``path`` under ``parent``, or "" when absent."""
    found = parent.find(path)
    return "".join(found.itertext()) if found is not None else ""


def _texts(parent: etree._Element, path: str) -> list[str]:
    return ["".join(e.itertext()) for e in parent.iterfind(path)]


def _line(text: str) -> str | None:
    """One-line text (comments, journal refs arrive hard-wrapped), None if empty."""
    return " ".join(text.split()) or None


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# An arXiv category code: "hep-ex", "cs.LG", "astro-ph.EP", "math-ph".
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z][A-Za-z\-]*)?$")


def _split_categories(terms: Iterable[str]) -> tuple[list[str], list[str]]:
    """(arXiv categories, other terms), each deduplicated in order.

    The legacy API lists MSC/ACM classes ("14A20, 14L30, 14M25") as Atom
    categories with the same scheme; they must not pass for categories.
    """
    unique = _unique(t.strip() for t in terms)
    return [t for t in unique if _CATEGORY.match(t)], [t for t in unique if not _CATEGORY.match(t)]


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


# --------------------------------------------------------------------------
# OAI-PMH (export.arxiv.org/oai2): ListRecords / GetRecord pages


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


# --------------------------------------------------------------------------
# Listing feeds: rss.arxiv.org RSS 2.0 and Atom, legacy export.arxiv.org RSS 1.0


# "arXiv:2609.26811v1 Announce Type: new \nAbstract: ..." opens every abstract.
_ANNOUNCE = re.compile(r"^\s*arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>\S+)\s*Abstract:\s*")
# Legacy titles: "Title. (arXiv:1805.06430v2 [nucl-th] UPDATED)".
_LEGACY_TITLE = re.compile(
    r"\.?\s*\(arXiv:(?P<id>[^\s\[\])]+)\s*\[(?P<cat>[^\]]+)\]\s*(?P<marker>[A-Z ]*?)\s*\)\s*$"
)
_LEGACY_MARKERS = {"": "new", "CROSS LISTED": "cross", "UPDATED": "replace"}
_CHANNELS = ("channel", RSS1 + "channel", ATOM + "feed")


def parse_rss(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Papers of a daily listing feed, any of its three arXiv formats.

    The feed-level date is remembered as it passes (it comes before the
    items) because legacy items carry no date of their own.
    """
    record_readers = {"item": _rss2_item, ATOM + "entry": _rss_atom_entry, RSS1 + "item": _rss1_item}
    feed_dates = ["pubDate", DC + "date", ATOM + "updated"]
    feed_date = ""
    for elem in _elements(stream, [*record_readers, *feed_dates]):
        reader = record_readers.get(elem.tag)
        if reader is None:
            parent = elem.getparent()
            if not feed_date and parent is not None and parent.tag in _CHANNELS:
                feed_date = (elem.text or "").strip()
            continue
        yield reader(elem, feed_date)
        _free(elem)


def _rss2_item(item: etree._Element, feed_date: str) -> Item:
    description = _text(item, "description")
    prefix = _ANNOUNCE.match(description)
    paper = Paper(
        title=_text(item, "title"),
        abstract=clean_abstract(description[prefix.end():] if prefix else description),
        authors=split_authors(_text(item, DC + "creator")),
        categories=_split_categories(_texts(item, "category"))[0],
        arxiv_id=_text(item, "guid").strip() or (prefix["id"] if prefix else _text(item, "link").strip()),
        doi=_line(_text(item, ARXIV + "DOI")),
        journal_ref=_line(_text(item, ARXIV + "journal_reference")),
    )
    announce = _line(_text(item, ARXIV + "announce_type")) or (prefix["type"] if prefix else None)
    return _finish_listing(paper, item.sourceline or 0, announce, _text(item, "pubDate") or feed_date)


def _rss_atom_entry(entry: etree._Element, feed_date: str) -> Item:
    summary = _text(entry, ATOM + "summary")
    prefix = _ANNOUNCE.match(summary)
    paper = Paper(
        title=_text(entry, ATOM + "title"),
        abstract=clean_abstract(summary[prefix.end():] if prefix else summary),
        authors=split_authors(_text(entry, DC + "creator")),
        categories=_split_categories(c.get("term", "") for c in entry.iterfind(ATOM + "category"))[0],
        arxiv_id=_text(entry, ATOM + "id").strip() or (prefix["id"] if prefix else None),
        doi=_line(_text(entry, ARXIV + "DOI")),
        journal_ref=_line(_text(entry, ARXIV + "journal_reference")),
    )
    announce = _line(_text(entry, ARXIV + "announce_type")) or (prefix["type"] if prefix else None)
    listed = _text(entry, ATOM + "published") or feed_date
    # The entry's own <updated> is when the feed was built (microseconds).
    stamp = _text(entry, ATOM + "updated") or listed
    return _finish_listing(paper, entry.sourceline or 0, announce, listed, stamp)


def _rss1_item(item: etree._Element, feed_date: str) -> Item:
    """Legacy export.arxiv.org/rss: id, primary category and update marker
    live in the title; creator and description are escaped HTML."""
    raw_title = _text(item, RSS1 + "title")
    tail = _LEGACY_TITLE.search(raw_title)
    link = _text(item, RSS1 + "link").strip() or item.get(RDF + "about")
    paper = Paper(
        title=raw_title[: tail.start()] if tail else raw_title,
        abstract=clean_abstract(_html_to_text(_text(item, RSS1 + "description"))),
        authors=_html_authors(_text(item, DC + "creator")),
        categories=[tail["cat"].strip()] if tail else [],
        arxiv_id=tail["id"] if tail else link,  # the title's id carries the version
    )
    announce = _LEGACY_MARKERS.get(" ".join(tail["marker"].split())) if tail else None
    return _finish_listing(paper, item.sourceline or 0, announce, feed_date)


def _finish_listing(
    paper: Paper, line: int, announce: str | None, listed: str, stamp: str | None = None
) -> Item:
    """Dates, extras and source that every listing item shares.

    The listing day is the day a version was announced: for v1 that is the
    first (and newest) version's day; for a replacement only the newest
    version's; for an old paper cross-listed again it is neither, so those
    dates stay empty. ``extra`` keeps the announce type and the listing day,
    so the store can tell updates from new papers.
    """
    if not paper.arxiv_id:
        return line, Reject(line, "missing arXiv id")
    day = iso_date(listed)
    parsed = parse_arxiv_id(paper.arxiv_id)
    version = parsed[1] if parsed else None
    if version == 1 or (version is None and announce == "new"):
        paper.published = paper.updated = day
    elif announce and announce.startswith("replace"):
        paper.updated = day
    paper.meta_date = iso_timestamp(stamp or listed)
    paper.extra = {k: v for k, v in (("announce_type", announce), ("listed", day)) if v}
    paper.source = SOURCE_RSS
    return finish(paper, line)


def _html_to_text(fragment: str) -> str:
    """Plain text of a small HTML fragment: paragraphs become blank lines.

    Tags go before entities are decoded, so TeX like ``2.6&lt;\\eta`` keeps
    its "<".
    """
    text = re.sub(r"(?i)</p\s*>", "\n\n", fragment)
    text = re.sub(r"<[^>]*>", "", text)
    return html.unescape(text)


def _html_authors(fragment: str) -> list[str]:
    """Author names of a legacy dc:creator: the text of each author link
    (which leaves out notes such as "(STAR Collaboration)")."""
    anchors = re.findall(r"(?is)<a\b[^>]*>(.*?)</a\s*>", fragment)
    if anchors:
        return [" ".join(_html_to_text(a).split()) for a in anchors]
    return split_authors(_html_to_text(fragment))
