"""Reference-manager exports: BibTeX, CSL-JSON and RIS.

People keep their reading lists in Zotero, JabRef or a ``.bib`` next to a
paper; these parsers turn such exports into papers. The arXiv id hides in a
different field in every exporter (``eprint``, a Zotero ``number`` or
``note``, a URL, the arXiv DOI), so each format looks in all of them. The
exporter's own key (a citation key) becomes ``source_id`` only when there is
neither arXiv id nor DOI, so re-importing the same file lands on the same
records without letting a local key shadow a global identifier.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from bibtexparser.bparser import BibTexParser
from bibtexparser.customization import splitname
from bibtexparser.latexenc import latex_to_unicode

from ..ids import find_arxiv_id, normalize_doi, parse_arxiv_id
from ..model import FormatError, Item, Paper, Reject
from .common import clean_abstract, finish, iso_date
from .generic import is_arxiv_venue, json_values

# bibtexparser logs every parse error it raises; we turn those into Rejects,
# so keep its messages out of stderr unless the application configures logging.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

SOURCE_BIBTEX = "bibtex"
SOURCE_CSL = "csl-json"
SOURCE_RIS = "ris"

# "arXiv:1809.02922 [cs]" (Zotero notes, CSL container-title): the id and
# the archives arXiv listed it under.
_ARXIV_HINT = re.compile(r"arxiv:\s*\S+\s*\[([^\]]+)\]", re.IGNORECASE)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})


# ---------------------------------------------------------------------------
# Shared helpers


def _arxiv_from(texts: Iterable[Any]) -> tuple[str, int | None] | None:
    """The first arXiv id mentioned in ``texts``.

    Only text that says "arxiv" counts: a bare ``number = {1234.5678}`` is a
    report number far more often than an arXiv id.
    """
    for text in texts:
        if isinstance(text, str) and "arxiv" in text.lower():
            found = find_arxiv_id(text)
            if found:
                return found
    return None


def _arxiv_categories(texts: Iterable[Any]) -> list[str]:
    """The "[cs, stat]" hint exporters write after an arXiv id."""
    for text in texts:
        if isinstance(text, str):
            m = _ARXIV_HINT.search(text)
            if m:
                return [c.strip() for c in m.group(1).split(",") if c.strip()]
    return []


def _venue(*candidates: Any) -> str | None:
    for text in candidates:
        if isinstance(text, str) and text.strip() and not is_arxiv_venue(text):
            return " ".join(text.split())
    return None


def _ymd(year: Any, month: Any = None, day: Any = None) -> str | None:
    """YYYY-MM-DD from parts that may be missing, strings or month names."""
    m = re.search(r"\d{4}", str(year or ""))
    if not m:
        return None
    mon = _month(month) or 1
    try:
        d = int(str(day).strip()) if day not in (None, "") else 1
    except ValueError:
        d = 1
    if not 1 <= d <= calendar.monthrange(int(m.group(0)), mon)[1]:
        d = 1
    return f"{m.group(0)}-{mon:02d}-{d:02d}"


def _month(value: Any) -> int | None:
    text = str(value or "").strip().lower().rstrip(".")
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 12 else None
    return _MONTHS.get(text) or _MONTHS.get(text[:3])


def _ids(paper: Paper, found: tuple[str, int | None] | None, own_id: Any) -> None:
    """Set the arXiv id and fall back to the exporter's key only without a global id."""
    if found:
        paper.arxiv_id, paper.version = found
    paper.doi = normalize_doi(paper.doi)
    if not paper.arxiv_id and not paper.doi and own_id not in (None, ""):
        paper.source_id = str(own_id)


# ---------------------------------------------------------------------------
# BibTeX

_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z][\w-]*)[ \t]*[{(]", re.MULTILINE)
_MATH = re.compile(r"(?<!\\)\$\$?.+?(?<!\\)\$\$?", re.DOTALL)
_FORMATTING = re.compile(
    r"\\(?:textit|textbf|textsc|texttt|textrm|textsf|textup|textsl|emph|mbox|text|url|mathrm)\s*(?=\{)"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_TEXT_LIGATURES = (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"))
_TILDE = re.compile(r"(?<!\\)~")  # TeX's tie is a space; \~{n} is an accent
# Escaped characters, kept out of the decoder's way in private-use code points.
_ESCAPES = (
    ("{\\textbackslash}", "\ue000", "\\"),
    ("\\textbackslash{}", "\ue000", "\\"),
    ("\\textbackslash", "\ue000", "\\"),
    ("\\{", "\ue001", "{"),
    ("\\}", "\ue002", "}"),
)
_FORMATTING_ARG = re.compile(
    r"\\(?:textit|textbf|textsc|texttt|textrm|textsf|textup|textsl|emph|mbox|text|url|mathrm)\s*\{([^{}]*)\}"
)
_ESCAPED_SYMBOL = re.compile(r"\\([%&_#$])")
_GROUP = re.compile(r"\{([^{}]*)\}")


def parse_bibtex(stream: BinaryIO, name: str) -> Iterator[Item]:
    """Entries of a ``.bib`` file, each at the line of its ``@type{key,``.

    The file is cut at every line that starts an entry and each piece is
    parsed alone, so garbage or a broken entry costs only itself. One
    bibtexparser instance parses the pieces in order, so ``@string``
    macros defined above an entry still expand in it.
    """
    raw = stream.read().decode("utf-8", errors="surrogateescape").lstrip("\ufeff")
    text = raw.replace("\r\n", "\n")  # abstracts keep paragraph breaks; lines count the same
    parser = BibTexParser(common_strings=True, ignore_nonstandard_types=False, interpolate_strings=True)
    parser.expect_multiple_parse = True
    for line, kind, region in _bib_regions(text):
        if kind in ("comment", "preamble"):
            continue
        entries = _parse_region(parser, region)
        if kind == "string":
            continue
        if entries is None:
            yield line, Reject(line, "broken BibTeX", " ".join(region[:80].split()))
            continue
        for entry in entries:
            yield _bib_item(entry, line)


def _bib_regions(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, entry type, text up to the next entry) for each ``@type{`` line."""
    starts = list(_ENTRY_START.finditer(text))
    line, last = 1, 0
    for i, m in enumerate(starts):
        line += text.count("\n", last, m.start())
        last = m.start()
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        yield line, m.group(1).lower(), text[m.start() : end]


def _parse_region(parser: BibTexParser, region: str) -> list[dict[str, str]] | None:
    """The entries bibtexparser finds in one piece; None if it found none."""
    db = parser.bib_database
    del db.entries[:]
    try:
        parser.parse(region)
    except Exception:  # pyparsing errors vary by version; the piece is broken either way
        pass
    entries = list(db.entries)
    del db.entries[:]
    del db.comments[:]
    return entries or None


def _bib_item(entry: dict[str, str], line: int) -> Item:
    if any(_SURROGATE.search(v) for v in entry.values() if isinstance(v, str)):
        return line, Reject(line, "bad encoding", f"invalid UTF-8 in entry {entry.get('ID', '')}")
    return finish(_bib_paper(entry), line)


def _bib_paper(f: dict[str, str]) -> Paper:
    paper = Paper(
        title=_latex(f.get("title", "")),
        abstract=clean_abstract(_latex(f.get("abstract", ""))),
        authors=_bib_authors(f.get("author", "")),
        categories=[f["primaryclass"].strip()] if f.get("primaryclass") else [],
        doi=f.get("doi") or None,
        published=_bib_date(f),
        journal_ref=_venue(_latex(f.get("journal", "")), _latex(f.get("booktitle", ""))),
        links={"url": f["url"].strip()} if f.get("url") else {},
        source=SOURCE_BIBTEX,
    )
    notes = [f.get(k) for k in ("note", "number", "journal", "howpublished")]
    _ids(paper, _bib_arxiv(f), f.get("ID"))
    if not paper.categories and paper.arxiv_id:
        paper.categories = _arxiv_categories(notes)
    return paper


def _bib_arxiv(f: dict[str, str]) -> tuple[str, int | None] | None:
    """The arXiv id from eprint, url, doi, note, number, journal, howpublished."""
    prefix = (f.get("archiveprefix") or f.get("eprinttype") or "").strip().lower()
    if f.get("eprint") and prefix in ("", "arxiv"):
        found = parse_arxiv_id(f["eprint"])
        if found:
            return found
    return _arxiv_from(f.get(k) for k in ("url", "doi", "note", "number", "journal", "howpublished"))


def _bib_date(f: dict[str, str]) -> str | None:
    if f.get("date"):
        found = iso_date(f["date"].strip())
        if found:
            return found
    return _ymd(f.get("year"), f.get("month"), f.get("day"))


def _bib_authors(value: str) -> list[str]:
    """BibTeX's "Last, First and First Last" -> ["First Last", "First Last"], in order."""
    names = []
    for raw in _split_and(value):
        if raw.strip().lower() == "others":
            continue
        try:
            parts = splitname(raw, strict_mode=False)
        except Exception:  # splitname gives up on some malformed names
            parts = {}
        if parts:
            name = " ".join(parts.get("first", []) + parts.get("von", []) + parts.get("last", []))
            if parts.get("jr"):
                name += ", " + " ".join(parts["jr"])
        else:
            name = raw
        names.append(_latex(name))
    return names


def _split_and(value: str) -> list[str]:
    """Split an author list on " and " outside braces ("{Barnes and Noble}" stays one)."""
    out, depth, start = [], 0, 0
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif depth == 0 and ch.isspace():
            m = _AND.match(value, i)
            if m:
                out.append(value[start:i])
                start = i = m.end()
                continue
        i += 1
    out.append(value[start:])
    return [" ".join(n.split()) for n in out if n.strip()]


def _latex(text: str) -> str:
    """LaTeX to unicode outside ``$...$``; math is kept as written."""
    if not text:
        return ""
    out, last = [], 0
    for m in _MATH.finditer(text):
        out.append(_latex_text(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_latex_text(text[last:]))
    return "".join(out)


def _latex_text(text: str) -> str:
    """Decode one stretch of non-math TeX.

    Escaped characters (``\\{``, ``{\\textbackslash}``, Zotero's way to keep a
    literal brace or backslash) are set aside first so the decoder cannot
    eat them; what they spelled is often TeX again (an arXiv abstract's
    ``\\textit{e.g.}``, ``80\\%``), which :func:`_residual_tex` then cleans.
    """
    if not text:
        return ""
    for tex, uni in _TEXT_LIGATURES:
        text = text.replace(tex, uni)
    text = _TILDE.sub(" ", text)
    for tex, mark, _ in _ESCAPES:
        text = text.replace(tex, mark)
    if "\\" in text:
        # latex_to_unicode walks a table of ~2,000 commands: only where one can be.
        text = latex_to_unicode(_FORMATTING.sub("", text))
    else:
        text = text.replace("{", "").replace("}", "")
    for _, mark, literal in _ESCAPES:
        text = text.replace(mark, literal)
    return _residual_tex(text)


def _residual_tex(text: str) -> str:
    """TeX left in decoded text: formatting commands, escaped symbols, group braces."""
    if "\\" not in text and "{" not in text:
        return text
    text = _FORMATTING_ARG.sub(r"\1", text)
    text = _ESCAPED_SYMBOL.sub(r"\1", text)
    previous = None
    while previous != text:
        previous, text = text, _GROUP.sub(r"\1", text)
    return text


# ---------------------------------------------------------------------------
# CSL-JSON


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


# ---------------------------------------------------------------------------
# RIS

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
