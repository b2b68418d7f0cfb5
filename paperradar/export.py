"""A list of stored papers as a reference manager reads it: BibTeX, CSL-JSON or RIS.

Written for the library's export (``/api/me/export/library``): each paper may
carry the user's note, in the field each format keeps for it (BibTeX
``annote``, CSL-JSON ``note``, RIS ``N1``; Zotero imports all three). One
exception keeps the papers what they are: the readers take an arXiv id from
CSL's ``note`` and RIS's ``N1`` (Zotero writes "arXiv:ID [cs]" there), so the
note of a paper without an arXiv id that names one goes to a field they skip
(CSL ``annote``, RIS ``RN``, research notes) instead. Every file reads back through ``paperradar import`` as the same
papers (same ids, titles and authors): an arXiv paper by its arXiv id (BibTeX
``eprint``, CSL ``container-title``/``number`` ``arXiv:ID``, RIS ``UR``), a
paper known by DOI by its DOI, any other paper by its stored key, given as
the BibTeX key, the CSL ``id`` or the RIS ``ID`` (which the readers take as
the record's own key when it has neither arXiv id nor DOI).

Values are made safe for their format: BibTeX through :func:`.citation.bibtex`
(braces balanced, so no value ends its field early), RIS one line per field (a
line break in a note could otherwise start a field of its own), CSL-JSON by
the JSON encoder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from .citation import bibtex, bibtex_key, links
from .ids import find_arxiv_id, parse_arxiv_id

FORMATS: dict[str, tuple[str, str]] = {  # name -> (content type, file extension)
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "csl-json": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
}

_KEY_SAFE = re.compile(r"^[A-Za-z0-9_:.+/-]{1,200}$")  # a stored key BibTeX takes as a citation key as it is

Entry = tuple[Mapping[str, Any], str]  # a stored paper and the user's note ("" for none)


def write(fmt: str, entries: Iterable[Entry]) -> str:
    """The file of ``fmt`` (a key of :data:`FORMATS`) for the papers and their notes."""
    if fmt == "bibtex":
        return write_bibtex(entries)
    if fmt == "csl-json":
        return write_csl_json(entries)
    if fmt == "ris":
        return write_ris(entries)
    raise ValueError(f"unknown export format {fmt!r}")


def _one_line(text: Any) -> str:
    return " ".join(str(text or "").split())


def _names_arxiv(note: str) -> bool:
    """Whether a reader would take an arXiv id from this note (as ``sources.bib_common`` reads notes)."""
    return "arxiv" in note.lower() and find_arxiv_id(note) is not None


def _own_key(row: Mapping[str, Any]) -> bool:
    """Whether the paper is known by neither arXiv id nor DOI: its stored key must travel with it."""
    return parse_arxiv_id(row["id"]) is None and not row.get("doi")


# -- BibTeX -------------------------------------------------------------------------


def write_bibtex(entries: Iterable[Entry]) -> str:
    """``@misc``/``@article`` entries (as a paper page gives them) with ``abstract`` and ``annote``;
    citation keys made unique in the file (``vaswani2017attention``, ``vaswani2017attentiona``)."""
    out: list[str] = []
    used: set[str] = set()
    for row, note in entries:
        key = row["id"] if _own_key(row) and _KEY_SAFE.match(row["id"]) else bibtex_key(dict(row))
        unique, n = key, 0
        while unique.lower() in used:
            unique, n = f"{key}{_suffix(n)}", n + 1
        used.add(unique.lower())
        extra = (("abstract", row.get("abstract") or ""), ("annote", note))
        out.append(bibtex(dict(row), key=unique, extra=extra))
    return "\n".join(out)


def _suffix(n: int) -> str:
    """a, b, ..., z, aa, ab, ...: BibTeX's usual way to tell apart keys that collide."""
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(97 + r) + letters
    return letters


# -- CSL-JSON -----------------------------------------------------------------------


def write_csl_json(entries: Iterable[Entry]) -> str:
    """A JSON array of CSL items (as Zotero and Better BibTeX write them)."""
    items = [_csl_item(row, note) for row, note in entries]
    return orjson.dumps(items, option=orjson.OPT_INDENT_2).decode() + "\n"


def _csl_item(row: Mapping[str, Any], note: str) -> dict[str, Any]:
    arxiv = parse_arxiv_id(row["id"])
    item: dict[str, Any] = {"id": row["id"], "type": "article", "citation-key": bibtex_key(dict(row)),
                            "title": row.get("title") or ""}
    names = [_csl_name(a) for a in row.get("authors") or []]
    if names:
        item["author"] = names
    published = row.get("published") or ""
    parts = [int(p) for p in published.split("-")[:3] if p.isdigit()]
    if parts:
        item["issued"] = {"date-parts": [parts]}
    if arxiv:
        cats = ", ".join(row.get("categories") or [])
        marker = f"arXiv:{arxiv[0]}" + (f" [{cats}]" if cats else "")
        if row.get("journal_ref"):  # the venue as container; the arXiv id in number (read next)
            item.update({"type": "article-journal", "container-title": row["journal_ref"], "number": marker})
        else:
            item.update({"container-title": marker, "number": f"arXiv:{arxiv[0]}", "publisher": "arXiv"})
    elif row.get("journal_ref"):
        item.update({"type": "article-journal", "container-title": row["journal_ref"]})
    if row.get("doi"):
        item["DOI"] = row["doi"]
    url = links(dict(row)).get("abs") or links(dict(row)).get("doi") or (row.get("links") or {}).get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        item["URL"] = url
    if row.get("abstract"):
        item["abstract"] = row["abstract"]
    if note:
        item["annote" if not arxiv and _names_arxiv(note) else "note"] = note
    return item


def _csl_name(name: str) -> dict[str, str]:
    """"First Last[, Suffix]" as CSL's given/family (the reader joins them back as written); a
    one-word name as a literal."""
    main, _, suffix = name.partition(", ")
    words = main.split(" ")
    if len(words) < 2 or not all(words):
        return {"literal": name}
    out = {"given": " ".join(words[:-1]), "family": words[-1]}
    if suffix:
        out["suffix"] = suffix
    return out


# -- RIS ----------------------------------------------------------------------------


def write_ris(entries: Iterable[Entry]) -> str:
    """RIS records (``TY`` to ``ER``), every value on one line."""
    return "".join(_ris_record(row, note) for row, note in entries)


def _ris_record(row: Mapping[str, Any], note: str) -> str:
    arxiv = parse_arxiv_id(row["id"])
    lines: list[tuple[str, str]] = [("TY", "JOUR" if row.get("journal_ref") else "GEN"),
                                    ("TI", row.get("title") or "")]
    lines += [("AU", _ris_name(a)) for a in row.get("authors") or []]
    published = row.get("published") or ""
    if published[:4].isdigit():
        day = published.split("-") + ["", ""]
        lines += [("PY", published[:4]), ("DA", f"{day[0]}/{day[1]}/{day[2]}/")]
    if row.get("journal_ref"):
        lines.append(("JO", row["journal_ref"]))
    if arxiv:  # read before the user's note: the note can never stand in for the paper's id
        cats = ", ".join(row.get("categories") or [])
        lines.append(("M3", f"arXiv:{arxiv[0]}" + (f" [{cats}]" if cats else "")))
    if row.get("doi"):
        lines.append(("DO", row["doi"]))
    url = links(dict(row)).get("abs") or links(dict(row)).get("doi")
    if url:
        lines.append(("UR", url))
    if _own_key(row):
        lines.append(("ID", row["id"]))
    if row.get("abstract"):
        lines.append(("AB", row["abstract"]))
    if note:
        lines.append(("RN" if not arxiv and _names_arxiv(note) else "N1", note))
    body = "".join(f"{tag}  - {_one_line(value)}\r\n" for tag, value in lines if _one_line(value))
    return body + "ER  - \r\n\r\n"


def _ris_name(name: str) -> str:
    """"First Last[, Suffix]" as RIS's "Last, First[, Suffix]" (a one-word name as it is)."""
    main, _, suffix = name.partition(", ")
    first, _, last = main.rpartition(" ")
    if not first or not last:
        return name
    return f"{last}, {first}" + (f", {suffix}" if suffix else "")
