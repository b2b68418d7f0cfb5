"""Turn what a user types into a safe SQLite FTS5 query.

Users type search-engine syntax, not FTS5 syntax. We understand a small,
familiar grammar and emit FTS5 in which every term is a quoted string, so
no input can produce an FTS5 syntax error:

- ``word`` (all words must match), ``"exact phrase"``, ``prefix*``
- ``a OR b``, ``-word`` / ``NOT word`` to exclude
- ``title:word``, ``abstract:word``, ``author:name`` (also with phrases)

Anything else (brackets, stray quotes, operators FTS5 would reject) falls
back to plain terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FIELDS = {"title": "title", "abstract": "abstract", "author": "authors", "authors": "authors"}
MAX_TERMS = 64  # a pasted abstract is still a query, but a bounded one
_TOKEN = re.compile(r'(-?)(?:(\w+):)?("([^"]*)"?|[^\s"]+)')
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass
class ParsedQuery:
    """A query split into FTS5 clauses; ``terms`` are the plain words (for fallbacks)."""

    must: list[str] = field(default_factory=list)
    any_of: list[list[str]] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.must and not self.any_of


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _clause(text: str, column: str | None, phrase: bool) -> str | None:
    """One FTS5 clause for a term or phrase, or None if it holds no word."""
    prefix = not phrase and text.endswith("*")
    text = text.rstrip("*") if not phrase else text
    if not _WORD.search(text):
        return None
    clause = _quote(text) + ("*" if prefix else "")
    return f"{column} : {clause}" if column else clause


def parse(query: str) -> ParsedQuery:
    """Parse a user query; never raises."""
    out = ParsedQuery()
    pending_or = False
    negate_next = False
    group: list[str] = []
    for m in _TOKEN.finditer(query[:4000]):
        minus, fname, raw, inner = m.group(1), m.group(2), m.group(3), m.group(4)
        if raw == "OR" and not minus and not fname:
            pending_or = True
            continue
        if raw in ("AND", "NOT") and not minus and not fname:
            negate_next = raw == "NOT"
            continue
        column = FIELDS.get(fname.lower()) if fname else None
        text = inner if inner is not None else raw
        if fname and column is None:
            text = f"{fname} {text}"  # "foo:bar" that is no field: keep both words
        clause = _clause(text, column, phrase=inner is not None)
        if clause is None:
            continue
        out.terms.extend(w for w in re.findall(r"\w+", text))
        if minus or negate_next:
            out.exclude.append(clause)
            negate_next = pending_or = False
            continue
        if pending_or and (group or out.must):
            if not group:
                group = [out.must.pop()]
            group.append(clause)
        else:
            if group:
                out.any_of.append(group)
                group = []
            out.must.append(clause)
        pending_or = False
        if len(out.must) + sum(map(len, out.any_of)) + len(group) >= MAX_TERMS:
            break
    if group:
        out.any_of.append(group)
    return out


def to_fts(parsed: ParsedQuery, mode: str = "all") -> str | None:
    """FTS5 expression: ``all`` requires every clause, ``any`` one of them.

    Returns None when nothing searchable remains (e.g. only exclusions).
    """
    parts = list(parsed.must) + ["(" + " OR ".join(g) + ")" for g in parsed.any_of]
    if not parts:
        return None
    expr = (" AND " if mode == "all" else " OR ").join(parts)
    if parsed.exclude:
        expr = f"({expr}) NOT ({' OR '.join(parsed.exclude)})"
    return expr


def author_clause(name: str) -> str | None:
    """An FTS5 clause matching a name in the authors column (for --author)."""
    return _clause(name, "authors", phrase=True)


def plain_terms(query: str) -> str | None:
    """Last-resort FTS5 query: every word quoted, all required."""
    words = re.findall(r"\w+", query)[:MAX_TERMS]
    return " AND ".join(_quote(w) for w in words) if words else None
