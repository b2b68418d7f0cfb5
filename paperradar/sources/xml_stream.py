"""The streaming loop, namespaces and text helpers every arXiv XML parser uses.

The API (:mod:`.arxiv_xml`), OAI-PMH (:mod:`.arxiv_oai`) and listing-feed
(:mod:`.arxiv_rss`) parsers all read through :func:`_elements`: lxml's
``iterparse`` hands over each record when its end tag arrives, the parser
turns it into a :class:`Paper`, and :func:`_free` drops the element before the
next one, so a 1000-record OAI page or a big saved feed never sits in memory
as a whole tree. Entities and DTDs are never resolved and nothing is fetched
from the network: these files come from outside.

Kept apart from the parsers so that the safety of the XML reading is in one
place and each format's module holds only its own elements-to-paper mapping.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from lxml import etree

from ..model import FormatError

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
