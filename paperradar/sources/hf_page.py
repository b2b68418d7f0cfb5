"""A Hugging Face papers listing page copied as plain text.

What a user gets by selecting a papers page (daily, trending or search) and
pasting it into a file: some page chrome ("Get trending papers in your email
inbox!", "Subscribe", "byAK and the research community", a date such as
"Mar 13", "Daily Papers"), then one paper after another as a title line
followed by its abstract as one long paragraph, in the page's ranked order.
Depending on the page and the browser there may be more chrome between the
entries (upvote counts, "Submitted by ...", "· 5 authors", comment counts,
navigation) and blank lines may or may not separate the lines.

The parser therefore works by structure, not by position: every long
paragraph is an abstract, and its title is the nearest line before it that
is neither chrome nor another abstract. Chrome needs no exhaustive list to
be skipped, since a line that is not followed by an abstract is never used;
the patterns below only matter for chrome that sits between a title and its
abstract. There are no ids and the header's date has no year, so papers
carry neither; the store matches them by normalised title.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, NamedTuple

from ..model import Item, Paper, Reject
from .common import clean_abstract, finish

SOURCE = "hf-page"

# Abstracts on these pages run 350-1,900 characters; titles stay under 300.
MIN_ABSTRACT_CHARS = 300
MIN_SHORT_ABSTRACT_CHARS = 150
MAX_TITLE_CHARS = 300
# How many short lines before an abstract may hold its title and chrome.
LOOKBACK_LINES = 12

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_CHROME = re.compile(
    r"^(?:"
    r"new|subscribe|daily papers|papers|trending|search|upvote|upvoted|comment|comments|share"
    r"|previous|next|load more|see all|view all|show more|show less|copied|copy link"
    r"|daily|weekly|monthly|today|yesterday|paper page|code|project page|abstract"
    r"|get trending papers in your email inbox.*"
    r"|by\s*ak(?: and the research community)?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?"
    r"|(?:published|submitted)(?: (?:on|by)\b.*)?"
    r"|\d{4}-\d{2}-\d{2}"
    r"|[·•]?\s*[\d.,]+\s*[km]?(?:\s+(?:authors?|comments?|upvotes?|likes?))?"
    r"|[·•].*"
    r")$",
    re.IGNORECASE,
)
# Chrome that a copy can glue onto the first title ("SubscribeSqueezeAttention: ...").
_GLUED = (
    "Get trending papers in your email inbox once a day!",
    "Get trending papers in your email inbox!",
    "byAK and the research community",
    "Daily Papers",
    "Subscribe",
)
_SENTENCE_BREAK = re.compile(r"[.!?] +[A-Z(]")
_AUTHOR = r"[A-Z][\w'.\-]*(?: [A-Za-z][\w'.\-]*){0,3}"
_AUTHOR_LIST = re.compile(rf"^{_AUTHOR}(?:, {_AUTHOR}){{2,}}(?:,? and {_AUTHOR})?$")


class Line(NamedTuple):
    number: int
    text: str
    bad: bool  # the bytes were not valid UTF-8


def parse(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Papers of a copied listing page, each at its title's line number."""
    pending: list[Line] = []
    seen_abstract = False
    for line in read_lines(stream):
        if not line.text:
            continue
        if not is_abstract(line.text):
            text = line.text if seen_abstract else unglue_header(line.text)
            pending = [*pending[-(LOOKBACK_LINES - 1):], line._replace(text=text)]
            continue
        seen_abstract = True
        title = pick_title(pending)
        pending = []
        yield entry(title, line)


def read_lines(stream: BinaryIO) -> Iterator[Line]:
    """Stripped lines with 1-based numbers; undecodable bytes are marked, not fatal."""
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text, bad = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            text, bad = raw.decode("utf-8", errors="replace"), True
        yield Line(number, " ".join(text.split()), bad)


def is_abstract(text: str) -> bool:
    """A long paragraph, or a shorter one of several sentences ending in a full stop."""
    if len(text) >= MIN_ABSTRACT_CHARS:
        return True
    return (
        len(text) >= MIN_SHORT_ABSTRACT_CHARS
        and text.endswith(".")
        and len(_SENTENCE_BREAK.findall(text)) >= 2
    )


def unglue_header(text: str) -> str:
    """Cut header chrome that the copy glued to the start of the first title.

    Only where the rest starts like a title (not a lower-case letter), so a
    title such as "Subscriber Churn ..." is left alone.
    """
    for phrase in _GLUED:
        rest = text[len(phrase):].lstrip()
        if text.startswith(phrase) and rest and not rest[0].islower():
            return unglue_header(rest)
    return text


def is_chrome(text: str) -> bool:
    """Page furniture: navigation, dates, counts, "Submitted by ..."."""
    return bool(_CHROME.match(text)) or not re.search(r"[^\W\d_]", text)


def pick_title(pending: list[Line]) -> Line | None:
    """The title among the short lines before an abstract: the nearest non-chrome line.

    A comma-separated list of names right before the abstract is the
    author line of a title above it, so that title wins when there is one.
    """
    candidates = [
        ln for ln in reversed(pending) if len(ln.text) <= MAX_TITLE_CHARS and not is_chrome(ln.text)
    ]
    if not candidates:
        return None
    if len(candidates) > 1 and _AUTHOR_LIST.match(candidates[0].text):
        return candidates[1]
    return candidates[0]


def entry(title: Line | None, abstract: Line) -> Item:
    """One paper, or a Reject at the abstract's line when its title is missing."""
    if title is None:
        return abstract.number, Reject(abstract.number, "missing title", abstract.text[:80])
    if title.bad or abstract.bad:
        return title.number, Reject(title.number, "bad encoding", "invalid UTF-8")
    paper = Paper(title=title.text, abstract=clean_abstract(abstract.text), source=SOURCE)
    return finish(paper, title.number)
