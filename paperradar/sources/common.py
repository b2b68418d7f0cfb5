"""Helpers every parser shares: text clean-up and turning a draft into an item.

Parsers build a :class:`~paperradar.model.Paper` with whatever they found and
hand it to :func:`finish`, which rejects what cannot be stored (no title) and
fills in the key, so every format obeys the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO

import orjson

from ..ids import find_arxiv_id, normalize_doi, paper_key, parse_arxiv_id
from ..model import Item, Paper, Reject

# A generous cap: real abstracts are under 2,000 words; anything longer is a
# pasted full text or a broken record and would bloat every index.
MAX_ABSTRACT_CHARS = 20_000
MAX_TITLE_CHARS = 1_000

_PARA = re.compile(r"\n\s*\n")
# C0 control characters other than tab and newline carry no meaning in
# metadata, and surfaces use some of them as in-band markers.
_CONTROL = dict.fromkeys([c for c in range(32) if c not in (9, 10, 13)] + [127])
_NAME_NEEDS_CLEANING = re.compile(r"^\s|\s$|\s\s|[\n\t]")
_HAS_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Cut(str):
    """A text cut to its limit, remembering how long it was, so the import summary can count it."""

    full: int

    def __new__(cls, text: str, full: int) -> Cut:
        cut = super().__new__(cls, text)
        cut.full = full
        return cut


def _strip_controls(text: str) -> str:
    # A regex scan is far cheaper than translate() on the common clean text.
    return text.translate(_CONTROL) if _HAS_CONTROL.search(text) else text


def _one_line(text: str) -> str:
    """Whitespace runs to single spaces; the fast path covers hard-wrapped arXiv text."""
    if (
        "  " in text or "\n " in text or " \n" in text or "\n\n" in text or "\t" in text or "\r" in text
        or text[:1].isspace() or text[-1:].isspace()
    ):  # fmt: skip
        return " ".join(text.split())
    return text.replace("\n", " ")


def clean_title(text: Any) -> str:
    """One line, single spaces: titles arrive hard-wrapped and indented. Over MAX_TITLE_CHARS: a :class:`Cut`."""
    if not isinstance(text, str):
        return ""
    if isinstance(text, Cut):
        return text  # cleaned and cut already
    line = _one_line(_strip_controls(text))
    return Cut(line[:MAX_TITLE_CHARS], len(line)) if len(line) > MAX_TITLE_CHARS else line


def clean_abstract(text: Any) -> str:
    """Join hard-wrapped lines, keep paragraph breaks, cap the length."""
    if not isinstance(text, str):
        return ""
    text = _strip_controls(text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n\n" in text or "\n \n" in text:
        paragraphs = [" ".join(p.split()) for p in _PARA.split(text.strip())]
        out = "\n\n".join(p for p in paragraphs if p)
    else:
        out = _one_line(text)
    if len(out) > MAX_ABSTRACT_CHARS:
        return Cut(out[:MAX_ABSTRACT_CHARS].rsplit(" ", 1)[0] + " …", len(out))
    return out


def clean_name(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    if "  " in text or "\n" in text or "\t" in text:
        return " ".join(text.split())
    return text.strip()


def _clean_names(names: list[Any]) -> list[str]:
    # Most author lists are already clean strings: check that in one pass first.
    if all(type(a) is str and a and not _NAME_NEEDS_CLEANING.search(a) for a in names):
        return names
    return [a for a in (clean_name(a) for a in names) if a]


def split_authors(text: str) -> list[str]:
    """Split an arXiv-style author string: "A, B and C" or "A and B"."""
    text = " ".join(text.split())
    if not text:
        return []
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", text)
    return [p.strip() for p in parts if p.strip()]


def iso_date(value: Any) -> str | None:
    """YYYY-MM-DD from ISO timestamps, RFC 822 dates or bare years; else None."""
    if not value:
        return None
    s = str(value).strip()
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", s)
    if m:
        return m.group(0)
    m = re.match(r"^(\d{4})$", s)
    if m:
        return f"{m.group(1)}-01-01"
    try:
        return parsedate_to_datetime(s).astimezone(timezone.utc).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in ("%Y/%m/%d", "%Y-%m", "%Y/%m", "%d %b %Y", "%B %d, %Y", "%b %d, %Y"):
        try:
            return datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def iso_timestamp(value: Any) -> str | None:
    """A sortable ISO timestamp (or date) for ``meta_date``; None if unparseable."""
    if not value:
        return None
    s = str(value).strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", s):
        return s
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", s):
        # Timestamps compare as strings in the store: bring every one to UTC "Z" form.
        try:
            parsed = datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            return iso_date(s)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(timezone.utc)
        return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        return parsedate_to_datetime(s).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, IndexError):
        return iso_date(s)


def arxiv_links(arxiv_id: str) -> dict[str, str]:
    return {
        "abs": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf": f"https://arxiv.org/pdf/{arxiv_id}",
    }


def finish(paper: Paper, line: int) -> Item:
    """Validate a draft paper and give it its key; a record without title is rejected.

    Also normalises the identifiers: an arXiv id given with a version or a
    URL wrapper is reduced to the bare id (the version moves to ``version``),
    and a DOI of the form 10.48550/arXiv.X becomes the arXiv id X.
    """
    paper.title = clean_title(paper.title)
    if not paper.title:
        return line, Reject(line, "missing title")
    for name in ("title", "abstract"):  # what was cut goes on record for the summary; plain text is stored
        value = getattr(paper, name)
        if isinstance(value, Cut):
            paper.cut[name] = value.full
            setattr(paper, name, str(value))
    if paper.arxiv_id:
        parsed = parse_arxiv_id(paper.arxiv_id)
        if parsed is None:
            return line, Reject(line, "bad arXiv id", paper.arxiv_id)
        paper.arxiv_id, version = parsed
        if version and not paper.version:
            paper.version = version
    paper.doi = normalize_doi(paper.doi)
    if not paper.arxiv_id and paper.doi:
        found = find_arxiv_id(paper.doi)
        if found:
            paper.arxiv_id = found[0]
    if paper.arxiv_id:
        paper.links = {**arxiv_links(paper.arxiv_id), **paper.links}
    if paper.source_id is not None:
        paper.source_id = str(paper.source_id).strip() or None
    paper.id = paper_key(paper.arxiv_id, paper.doi, paper.source_id, paper.title)
    paper.authors = _clean_names(paper.authors)
    paper.categories = [c.strip() for c in paper.categories if isinstance(c, str) and c.strip()]
    return line, paper


def json_lines(stream: BinaryIO) -> Iterator[tuple[int, dict[str, Any] | Reject]]:
    """Objects of a JSON-lines stream with their 1-based line numbers.

    A line that is not UTF-8, not JSON or not an object becomes a Reject
    with the reason; blank lines are skipped. Reading stays streaming, so a
    4.5 GB file costs no more memory than one line.
    """
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if "UTF-8" in str(exc):
                yield number, Reject(number, "bad encoding", "invalid UTF-8")
            else:
                yield number, Reject(number, "broken JSON", str(exc))
            continue
        if not isinstance(obj, dict):
            yield number, Reject(number, "not a JSON object")
            continue
        yield number, obj
