"""The Kaggle arXiv metadata snapshot (Cornell-University/arxiv), JSON lines.

One object per line with arXiv's OAI fields: ``id`` (``0704.0001`` or
``math/0309136``), ``submitter``, ``authors`` (a LaTeX-ish string) and
``authors_parsed`` (``[[last, first, suffix, affiliation?], ...]``),
``title``, ``comments``, ``journal-ref``, ``doi``, ``report-no``,
``categories`` (space separated, primary first), ``license``, ``abstract``,
``versions`` (``[{"version": "v1", "created": RFC 822 date}, ...]``) and
``update_date``.

The real file is 4.5 GB, so this reads line by line through
:func:`~paperradar.sources.common.json_lines` and keeps nothing per record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any, BinaryIO

from ..model import Item, Paper, Reject
from .common import clean_abstract, finish, iso_date, json_lines, split_authors

SOURCE = "kaggle"

_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), start=1)}

# Accents written as a symbol take the next letter directly (\'a, \'{a});
# accents written as a letter need a brace or a space (\v{s}, \c c).
_COMBINING = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
    "c": "\u0327", "k": "\u0328", "r": "\u030a",
}  # fmt: skip
_BASE = r"(\\[ij](?![A-Za-z])|[A-Za-z])"
_ACCENT = re.compile(
    rf"\\([`'^\"~=.])\s*(?:\{{\s*{_BASE}\s*\}}|{_BASE})"
    rf"|\\([uvHckr])(?:\s*\{{\s*{_BASE}\s*\}}|\s+{_BASE})"
)
_LETTERS = {
    "ss": "ß", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ",
    "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ",
}  # fmt: skip
_LETTER = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|o|O|l|L|i|j)(?![A-Za-z])(?:\{\}|\s(?=[a-z]))?")
_PARENS = re.compile(r"\([^()]*\)")
_VERSION_LABEL = re.compile(r"v(\d+)")
_SPACED_HYPHEN = re.compile(r"\. -(?=\w)")


def parse(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Papers of the snapshot, one per line; bad lines become Rejects."""
    for line, obj in json_lines(stream):
        if isinstance(obj, Reject):
            yield line, obj
            continue
        yield finish(record_paper(obj), line)


def record_paper(obj: dict[str, Any]) -> Paper:
    """Map one snapshot record to a draft paper for :func:`finish`."""
    published, updated, version = version_dates(obj.get("versions"))
    categories = obj.get("categories")
    title = obj.get("title")
    return Paper(
        title=title if isinstance(title, str) else "",
        abstract=clean_abstract(obj.get("abstract")),
        authors=record_authors(obj),
        categories=categories.split() if isinstance(categories, str) else [],
        arxiv_id=_one_line(obj.get("id")),
        doi=_one_line(obj.get("doi")),
        published=published,
        updated=updated,
        version=version,
        comment=_one_line(obj.get("comments")),
        journal_ref=_one_line(obj.get("journal-ref")),
        meta_date=iso_date(obj.get("update_date")),
        source=SOURCE,
    )


def version_dates(versions: Any) -> tuple[str | None, str | None, int | None]:
    """(v1 day, newest version's day, newest version number) from ``versions``."""
    if not isinstance(versions, list):
        return None, None, None
    first = last = None
    for position, entry in enumerate(versions, start=1):
        if not isinstance(entry, dict):
            continue
        label = entry.get("version")
        m = _VERSION_LABEL.fullmatch(label) if isinstance(label, str) else None
        number = int(m.group(1)) if m else position
        if first is None or number < first[0]:
            first = (number, entry)
        if last is None or number >= last[0]:
            last = (number, entry)
    if first is None or last is None:
        return None, None, None
    published = rfc822_day(first[1].get("created"))
    updated = published if last[1] is first[1] else rfc822_day(last[1].get("created"))
    return published, updated, last[0]


def rfc822_day(value: Any) -> str | None:
    """YYYY-MM-DD of "Mon, 2 Apr 2007 19:18:42 GMT" without the email parser.

    The snapshot's dates are all GMT, so the day is the written one; the
    fast path matters over 2.5 million records. Anything else goes to
    :func:`iso_date`.
    """
    if not isinstance(value, str):
        return None
    parts = value.split(" ", 4)
    if len(parts) == 5 and parts[2] in _MONTHS and parts[1].isdigit() and parts[3].isdigit():
        return f"{parts[3]}-{_MONTHS[parts[2]]:02d}-{int(parts[1]):02d}"
    return iso_date(value)


def record_authors(obj: dict[str, Any]) -> list[str]:
    """Authors as "First Last Suffix", from ``authors_parsed`` when it is usable.

    ``authors_parsed`` is already split and mostly de-TeXed; the raw
    ``authors`` string carries affiliations in parentheses, so it is only
    the fallback.
    """
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = [name for parts in parsed if isinstance(parts, list) and (name := parsed_name(parts))]
        if names:
            return names
    raw = obj.get("authors")
    if not isinstance(raw, str):
        return []
    return [tex_to_unicode(n) for n in split_authors(strip_parentheses(raw))]


def parsed_name(parts: list[Any]) -> str:
    """``[last, first, suffix, affiliation...]`` -> "First Last Suffix"."""
    count = len(parts)
    first = parts[1] if count > 1 and isinstance(parts[1], str) else ""
    last = parts[0] if count and isinstance(parts[0], str) else ""
    suffix = parts[2] if count > 2 and isinstance(parts[2], str) else ""
    name = f"{first} {last}" if first and last else first or last
    if suffix:
        name = f"{name} {suffix}"
    if "\n" in name or "  " in name or "\t" in name:
        name = " ".join(name.split())
    if ". -" in name:  # Kaggle's splitter writes "C.-P." as "C. -P."; undo that.
        name = _SPACED_HYPHEN.sub(".-", name)
    return tex_to_unicode(name).strip()


def strip_parentheses(text: str) -> str:
    """Drop "(1)"-style markers and "(University of X)" affiliations, nested too."""
    previous = None
    while previous != text:
        previous, text = text, _PARENS.sub(" ", text)
    return text


def tex_to_unicode(text: str) -> str:
    """Turn simple LaTeX accents in a name into unicode: G\\"ahler -> Gähler.

    Covers \\'a, \\'{a}, {\\'a}, \\v{s}, \\c c, \\'{\\i} and the letters
    \\o, \\ss, \\aa, \\l ...; leftover braces go. Anything fancier stays as
    written rather than being guessed at.
    """
    if "\\" not in text and "{" not in text:
        return text
    text = _ACCENT.sub(_accented, text)
    text = _LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
    text = text.replace("{", "").replace("}", "")
    return unicodedata.normalize("NFC", text)


def _accented(m: re.Match[str]) -> str:
    accent = m.group(1) or m.group(4)
    base = next(g for g in (m.group(2), m.group(3), m.group(5), m.group(6)) if g)
    if base.startswith("\\"):
        base = base[1]  # a dotless \i or \j under an accent is just i or j
    return base + _COMBINING[accent]


def _one_line(value: Any) -> str | None:
    """Hard-wrapped snapshot text on one line, or None when empty."""
    if not isinstance(value, str):
        return None
    if "\n" in value or "  " in value or "\t" in value:
        value = " ".join(value.split())
    return value.strip() or None
