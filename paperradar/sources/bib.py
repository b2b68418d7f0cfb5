"""BibTeX: the ``.bib`` files of Zotero, JabRef, arXiv and Semantic Scholar.

People keep their reading lists in Zotero, JabRef or a ``.bib`` next to a
paper; this parser turns such files into papers, decoding their LaTeX on the
way. The other reference-manager exports are read in :mod:`.csl_json` and
:mod:`.ris` (their parsers are importable from here too), and the rules all
three follow for arXiv ids, citation keys, venues and dates are in
:mod:`.bib_common`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import BinaryIO

from bibtexparser.bparser import BibTexParser
from bibtexparser.customization import splitname
from bibtexparser.latexenc import latex_to_unicode

from ..ids import parse_arxiv_id
from ..model import Item, Paper, Reject
from .bib_common import _arxiv_categories, _arxiv_from, _ids, _venue, _ymd
from .common import clean_abstract, finish, iso_date
from .csl_json import parse_csl_json
from .ris import parse_ris

__all__ = ["parse_bibtex", "parse_csl_json", "parse_ris"]

# bibtexparser logs every parse error it raises; we turn those into Rejects,
# so keep its messages out of stderr unless the application configures logging.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

SOURCE_BIBTEX = "bibtex"


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
