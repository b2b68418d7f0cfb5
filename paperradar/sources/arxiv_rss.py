"""arXiv's daily listing feeds: rss.arxiv.org RSS 2.0 and Atom, legacy RSS 1.0.

Three formats of the same listing, each read by its own function here; they
share the listing rules of :func:`_finish_listing` (which dates an
announcement sets) and the streaming loop of :mod:`.xml_stream`. Separate from
the API and OAI-PMH parsers because a listing item says when a version was
announced rather than when it was written, and legacy items keep their id,
category and update marker in the title and their authors and abstract in
escaped HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from ..ids import parse_arxiv_id
from ..model import Item, Paper, Reject
from .common import clean_abstract, finish, iso_date, iso_timestamp, split_authors
from .xml_stream import ARXIV, ATOM, DC, RDF, RSS1, _elements, _free, _line, _split_categories, _text, _texts

SOURCE_RSS = "arxiv-rss"


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
