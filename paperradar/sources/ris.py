"""RIS: the tagged-line format reference managers export (Zotero among them).

Each record runs from a ``TY`` line to an ``ER`` line, one ``XX  - value``
field a line. Separate from BibTeX and CSL-JSON because it has its own line
parser; what it shares with them is in :mod:`.bib_common`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from ..model import Item, Paper, Reject
from .bib_common import _arxiv_categories, _arxiv_from, _ids, _venue, _ymd
from .common import clean_abstract, finish, iso_date

SOURCE_RIS = "ris"

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")


def parse_ris(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Records from ``TY`` to ``ER``, each at the line of its ``TY``.

    A small line parser rather than rispy: it knows each record's line,
    survives a line that is not UTF-8 (that record alone is rejected), and
    keeps a last record whose ``ER`` was cut off.
    """
    record: dict[str, list[str]] | None = None
    start, bad = 0, False
    for number, raw in enumerate(stream, start=1):
        text, line_bad = _decode_line(raw)
        m = _RIS_TAG.match(text)
        tag, value = (m.group(1), (m.group(2) or "").strip()) if m else (None, text.strip())
        if tag == "TY":
            if record is not None:
                yield _ris_item(record, start, bad)
            record, start, bad = {}, number, line_bad
            continue
        if record is None:
            continue
        bad = bad or line_bad
        if tag == "ER":
            yield _ris_item(record, start, bad)
            record = None
        elif tag:
            record.setdefault(tag, []).append(value)
        elif value and record:
            _ris_continue(record, value)
    if record is not None:
        yield _ris_item(record, start, bad)


def _decode_line(raw: bytes) -> tuple[str, bool]:
    """One line as text, and whether it was not valid UTF-8."""
    try:
        text, bad = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        text, bad = raw.decode("utf-8", errors="replace"), True
    return text.rstrip("\r\n").lstrip("\ufeff"), bad


def _ris_continue(record: dict[str, list[str]], value: str) -> None:
    """A line without a tag continues the previous field (wrapped abstracts)."""
    tag = next(reversed(record))
    record[tag][-1] = f"{record[tag][-1]} {value}".strip()


def _ris_item(record: dict[str, list[str]], line: int, bad: bool) -> Item:
    if bad:
        return line, Reject(line, "bad encoding", "invalid UTF-8 in RIS record")
    return finish(_ris_paper(record), line)


def _ris_paper(r: dict[str, list[str]]) -> Paper:
    def first(*tags: str) -> str:
        for tag in tags:
            for value in r.get(tag, []):
                if value:
                    return value
        return ""

    notes = [v for tag in ("M3", "N1", "UR", "DO", "T2", "JO", "JF") for v in r.get(tag, [])]
    paper = Paper(
        title=first("TI", "T1", "CT"),
        abstract=clean_abstract(first("AB", "N2")),
        authors=[_last_first(a) for tag in ("AU", "A1") for a in r.get(tag, [])],
        doi=first("DO") or None,
        published=_ris_date([first(t) for t in ("DA", "PY", "Y1")]),
        journal_ref=_venue(first("T2"), first("JO"), first("JF"), first("JA")),
        links={"url": first("UR")} if first("UR") else {},
        source=SOURCE_RIS,
    )
    _ids(paper, _arxiv_from(notes), first("ID"))
    if paper.arxiv_id:
        paper.categories = _arxiv_categories(notes)
    return paper


def _last_first(name: str) -> str:
    """RIS "Last, First[, Suffix]" -> "First Last[, Suffix]"."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) < 2 or not parts[1]:
        return name.strip()
    out = f"{parts[1]} {parts[0]}"
    return f"{out}, {', '.join(parts[2:])}" if len(parts) > 2 and parts[2] else out


def _ris_date(values: list[str]) -> str | None:
    """The most precise of DA/PY/Y1 ("2014/04/03/", "2017///", "2014")."""
    best: tuple[int, str] | None = None
    for value in values:
        parts = [p.strip() for p in value.split("/")] + ["", ""]
        if not re.fullmatch(r"\d{4}", parts[0]):
            found = iso_date(value)
            parts = found.split("-") if found else []
            if not parts:
                continue
        date = _ymd(parts[0], parts[1] or None, parts[2] or None)
        precision = sum(1 for p in parts[:3] if p)
        if date and (best is None or precision > best[0]):
            best = (precision, date)
    return best[1] if best else None
