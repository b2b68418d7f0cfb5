"""What a user types into a search box, understood as clauses.

Users type search-engine syntax. We understand a small, familiar grammar:

- ``word`` (all words must match), ``"exact phrase"``, ``prefix*``
- ``a OR b``, ``-word`` / ``NOT word`` to exclude
- ``title:word``, ``abstract:word``, ``author:name`` (also with phrases)

Everything else (brackets, stray quotes, operators) is read as plain words.
The result is data, not a query string, so the index builds its query
objects from it and no input can cause a syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FIELDS = {"title": "title", "abstract": "abstract", "author": "authors", "authors": "authors"}
MAX_CLAUSES = 64  # a pasted abstract is still a query, but a bounded one
MAX_QUERY_CHARS = 4000
_TOKEN = re.compile(r'(-?)(?:(\w+):)?("([^"]*)"?|[^\s"]+)')
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Clause:
    """One searchable unit: a word or phrase, optionally a prefix, optionally in one field."""

    text: str
    field: str | None = None  # None: title, abstract and authors
    phrase: bool = False
    prefix: bool = False


@dataclass
class ParsedQuery:
    must: list[Clause] = field(default_factory=list)
    any_of: list[list[Clause]] = field(default_factory=list)
    exclude: list[Clause] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.must and not self.any_of

    @property
    def size(self) -> int:
        return len(self.must) + len(self.any_of)


def _clause(text: str, column: str | None, phrase: bool) -> Clause | None:
    prefix = not phrase and text.endswith("*")
    if not phrase:
        text = text.strip("*")
    if not _WORD.search(text):
        return None
    return Clause(text=text, field=column, phrase=phrase, prefix=prefix)


def _clean(text: str) -> str:
    """Drop what no index can hold: lone surrogates (undecodable argv bytes), NULs."""
    return text.encode("utf-8", "ignore").decode("utf-8").replace("\x00", " ")


def parse(query: str) -> ParsedQuery:
    """Parse a user query; never raises."""
    query = _clean(query)
    out = ParsedQuery()
    pending_or = negate_next = False
    group: list[Clause] = []
    for m in _TOKEN.finditer(query[:MAX_QUERY_CHARS]):
        minus, fname, raw, inner = m.group(1), m.group(2), m.group(3), m.group(4)
        if not minus and not fname and raw in ("OR", "AND", "NOT"):
            pending_or = raw == "OR"
            negate_next = raw == "NOT"
            continue
        column = FIELDS.get(fname.lower()) if fname else None
        text = inner if inner is not None else raw
        if fname and column is None:
            text = f"{fname} {text}"  # "foo:bar" names no field: keep both words
        clause = _clause(text, column, phrase=inner is not None)
        if clause is None:
            continue
        if minus or negate_next:
            out.exclude.append(clause)
        elif pending_or and (group or out.must):
            if not group:
                group = [out.must.pop()]
            group.append(clause)
        else:
            if group:
                out.any_of.append(group)
                group = []
            out.must.append(clause)
        pending_or = negate_next = False
        if out.size + len(group) >= MAX_CLAUSES:
            break
    if group:
        out.any_of.append(group)
    return out


def author_clause(name: str) -> Clause | None:
    """The clause for an ``--author`` filter: the name as a phrase in the authors field."""
    return _clause(_clean(name), "authors", phrase=True)


PASSAGE_WORDS = 30  # a query this long is a pasted passage (an abstract), not search syntax
MAX_PASSAGE_CLAUSES = 160
# Words too common in any English passage to say what it is about (BM25 would weigh them
# near zero anyway; dropping them keeps a pasted abstract's query short).
_STOPWORDS = frozenset(
    "a an and are as at be been but by can do does for from has have in into is it its may more most not of on "
    "or our such than that the their then there these this those to was we were which while with within without "
    "also both each how other over only same so some very what when where who whose why will would".split()
)


def is_passage(query: str) -> bool:
    """Whether a query reads as pasted text (many words) rather than search syntax."""
    return len(query.split(maxsplit=PASSAGE_WORDS)) > PASSAGE_WORDS


def parse_passage(text: str) -> ParsedQuery:
    """A pasted passage as a bag of its distinct words (no syntax: ``-`` or quotes mean nothing)."""
    seen: dict[str, None] = {}
    for word in re.findall(r"\w+", _clean(text).lower()):
        if len(word) > 2 and word not in _STOPWORDS and not word.isdigit():
            seen.setdefault(word)
        if len(seen) >= MAX_PASSAGE_CLAUSES:
            break
    return ParsedQuery(must=[Clause(text=w) for w in seen])
