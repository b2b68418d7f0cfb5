"""How to cite a stored paper: a BibTeX entry, and the paper's links.

:func:`bibtex` writes an ``@misc`` entry in arXiv's style (``eprint``,
``archivePrefix``, ``primaryClass``) for arXiv papers and an ``@article``
or ``@misc`` for others. Values are made safe for BibTeX: braces are
balanced (an unmatched brace is dropped), and ``&``, ``%`` and ``#``
outside math are escaped, so any title or name yields an entry that
BibTeX, biber and bibtexparser read back unchanged in meaning.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .ids import parse_arxiv_id

_KEY_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = {"a", "an", "the", "on", "of", "for", "in", "and", "to", "with", "towards", "toward", "via"}
_SPECIAL = re.compile(r"(?<!\\)([&%#])")


def links(row: dict[str, Any]) -> dict[str, str]:
    """Where to read a paper: the stored links, plus arXiv's abstract and PDF and the Hugging Face
    page for every paper with an arXiv id."""
    out = {k: v for k, v in (row.get("links") or {}).items() if isinstance(v, str) and v.startswith("https://")}
    parsed = parse_arxiv_id(row["id"])
    if parsed:
        aid = parsed[0]
        out.setdefault("abs", f"https://arxiv.org/abs/{aid}")
        out.setdefault("pdf", f"https://arxiv.org/pdf/{aid}")
        out.setdefault("hf", f"https://huggingface.co/papers/{aid}")
    if row.get("doi"):
        out.setdefault("doi", f"https://doi.org/{row['doi']}")
    return out


def bibtex_key(row: dict[str, Any]) -> str:
    """``lastnameYEARfirstword``, ASCII only, e.g. ``vaswani2017attention``."""
    authors = row.get("authors") or []
    last = _ascii(authors[0].split()[-1]).lower() if authors and authors[0].split() else "anon"
    last = "".join(_KEY_WORD.findall(last)) or "anon"
    year = (row.get("published") or "")[:4] if (row.get("published") or "")[:4].isdigit() else ""
    words = [w.lower() for w in _KEY_WORD.findall(_ascii(row.get("title") or ""))]
    first = next((w for w in words if w not in _STOP), words[0] if words else "paper")
    return f"{last}{year}{first}"


def bibtex(row: dict[str, Any], key: str | None = None, extra: tuple[tuple[str, str], ...] = ()) -> str:
    """A BibTeX entry for a stored paper row; ``key`` instead of :func:`bibtex_key`'s, ``extra``
    fields (``abstract``, ``annote``) after the others (library exports, :mod:`paperradar.export`)."""
    parsed = parse_arxiv_id(row["id"])
    fields: list[tuple[str, str]] = [("title", row.get("title") or "")]
    if row.get("authors"):
        fields.append(("author", " and ".join(row["authors"])))
    published = row.get("published") or ""
    if published[:4].isdigit():
        fields.append(("year", published[:4]))
        if len(published) >= 7 and published[5:7].isdigit():
            fields.append(("month", str(int(published[5:7]))))
    if row.get("journal_ref"):
        fields.append(("journal", row["journal_ref"]))
    if parsed:
        fields += [("eprint", parsed[0]), ("archivePrefix", "arXiv")]
        if row.get("categories"):
            fields.append(("primaryClass", row["categories"][0]))
    if row.get("doi"):
        fields.append(("doi", row["doi"]))
    url = links(row).get("abs") or links(row).get("doi")
    if url:
        fields.append(("url", url))
    fields += extra
    kind = "article" if row.get("journal_ref") else "misc"
    body = ",\n".join(f"  {name} = {{{_value(value)}}}" for name, value in fields if value)
    return f"@{kind}{{{key or bibtex_key(row)},\n{body}\n}}\n"


def _value(text: str) -> str:
    """A field value: one line, braces balanced, ``& % #`` escaped outside math."""
    text = " ".join(str(text).split())
    parts = text.split("$")
    for i in range(0, len(parts), 2):  # even parts are outside $...$
        parts[i] = _SPECIAL.sub(r"\\\1", parts[i])
    if len(parts) % 2 == 0:  # an odd number of dollars: escape the last one
        last = _SPECIAL.sub(r"\\\1", parts.pop())
        parts[-1] += "\\$" + last
    return _balance("$".join(parts))


def _balance(text: str) -> str:
    """Drop closing braces that close nothing and opening braces never closed (escaped ones stay)."""
    out: list[str] = []
    open_at: list[int] = []
    escaped = False
    for ch in text:
        if escaped:
            out.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == "{":
            open_at.append(len(out))
        elif ch == "}":
            if not open_at:
                continue
            open_at.pop()
        out.append(ch)
    for i in reversed(open_at):
        del out[i]
    if escaped:  # a trailing backslash would escape the closing brace of the field
        out.pop()
    return "".join(out)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
