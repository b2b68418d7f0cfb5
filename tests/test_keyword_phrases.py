"""Phrases in keyword search: which papers an exact phrase finds, and which it must not.

The slow tail of keyword search at a million papers is phrases of common
words ("state-of-the-art", "large language models", see bench/README.md),
so any faster way of answering them has to keep these answers. Made-up papers, imported through
the CLI, so each query has one right answer: adjacent words in order only;
never across the title/abstract boundary or from one author's name to the
next; stemmed like single words; hyphenated words read as phrases; prefixes
inside a hyphenated word still exact.
"""

from __future__ import annotations

import json

import pytest
from helpers import imported_radar

from paperradar.app import Radar
from paperradar.index import keyword
from paperradar.index.query import parse
from paperradar.rank.search import keyword_search
from paperradar.store import Filters

PAPERS = [
    {"id": "p-adjacent", "title": "Message passing", "abstract": "A graph neural network for molecules."},
    {"id": "p-reversed", "title": "Message passing", "abstract": "A neural graph network for molecules."},
    {"id": "p-gap", "title": "Message passing", "abstract": "A graph convolutional neural network."},
    # "graph" ends the title, "neural" starts the abstract: two fields, never one phrase
    {"id": "p-boundary", "title": "Learning on a graph", "abstract": "Neural methods for molecules."},
    {"id": "p-authors", "title": "Poetry meter", "abstract": "Stress patterns in verse.",
     "authors": ["Ada Graph", "Neural Smith"]},
    {"id": "p-sentence", "title": "Soil moisture", "abstract": "We build a graph. Neural estimates follow."},
    {"id": "p-llm", "title": "Large language model reasoning", "abstract": "We study how models reason.",
     "authors": ["Ada Lovelace", "Yang Liu"]},
    {"id": "p-llms", "title": "Benchmarks", "abstract": "Large-language-modeling of code with reasoning traces."},
    {"id": "p-llm-scattered", "title": "Large scale", "abstract": "A language for models of large systems."},
    {"id": "p-sota", "title": "Detectors", "abstract": "Our detector is state-of-the-art on three benchmarks.",
     "authors": ["Yang Liu"]},
    {"id": "p-sota-spaced", "title": "Trackers", "abstract": "We reach the state of the art in tracking.",
     "authors": ["Wei Yang", "Liu Chen"]},  # "Yang" ends one name, "Liu" starts the next: not "Yang Liu"
    {"id": "p-sota-shuffled", "title": "Painting", "abstract": "The art of the state is our theme."},
    {"id": "p-mbrl", "title": "Model-based reinforcement learning for robots", "abstract": "Planning.",
     "authors": ["Liu Yang"]},
    {"id": "p-mb-gap", "title": "Reinforcement learning", "abstract": "A model that is based on rewards."},
] + [
    {"id": f"p-filler-{i}", "title": f"{topic} study", "abstract": f"An empirical study of {topic}."}
    for i, topic in enumerate(["weather", "markets", "tides", "music", "traffic", "proteins", "glaciers"])
]  # fmt: skip
for n, p in enumerate(PAPERS):
    p.setdefault("authors", [f"Author Number{n}"])
    p.update(categories=["cs.LG"], published=f"2025-06-{n + 1:02d}")


@pytest.fixture(scope="module")
def radar(tmp_path_factory: pytest.TempPathFactory):
    with imported_radar(PAPERS, tmp_path_factory.mktemp("phrases")) as radar:
        yield radar


def found(radar: Radar, query: str) -> set[str]:
    """The papers that match every clause (keyword search fills up with papers matching some)."""
    hits = radar.keyword.search(parse(query), limit=50, mode="all")
    rows = radar.store.conn.execute(f"SELECT id FROM papers WHERE rowid IN ({','.join('?' * len(hits))})",
                                    [h.rowid for h in hits]).fetchall()
    return {r["id"] for r in rows}


def test_search_ranks_the_phrase_matches_first(radar: Radar) -> None:
    rows = keyword_search(radar, "model-based reinforcement learning", limit=50)
    assert rows[0]["id"] == "p-mbrl"


def test_phrase_needs_its_words_adjacent_and_in_order(radar: Radar) -> None:
    assert found(radar, '"graph neural"') == {"p-adjacent", "p-sentence"}  # see the punctuation test
    assert found(radar, '"neural graph"') == {"p-reversed"}
    assert found(radar, '"graph neural network"') == {"p-adjacent"}


def test_phrase_never_spans_title_and_abstract(radar: Radar) -> None:
    assert "p-boundary" not in found(radar, '"graph neural"')
    assert "p-boundary" in found(radar, "graph neural")  # the words alone: found


def test_phrase_never_spans_two_authors(radar: Radar) -> None:
    assert "p-authors" not in found(radar, '"graph neural"')
    assert found(radar, 'author:"graph neural"') == set()
    assert found(radar, 'author:"ada graph"') == {"p-authors"}


def test_phrase_ignores_punctuation_between_sentences(radar: Radar) -> None:
    """Punctuation is not indexed (that is what lets "model-based" find "model based"), so a full
    stop between two words does not stop a phrase (as docs/commands.md says)."""
    assert "p-sentence" in found(radar, '"graph neural"')


def test_phrase_words_are_stemmed_like_single_words(radar: Radar) -> None:
    assert found(radar, '"large language models"') == {"p-llm", "p-llms"}
    assert found(radar, '"large language model"') == {"p-llm", "p-llms"}
    assert found(radar, '"large language models" reasoning') == {"p-llm", "p-llms"}


def test_hyphenated_word_is_a_phrase(radar: Radar) -> None:
    assert found(radar, "state-of-the-art") == {"p-sota", "p-sota-spaced"}
    assert found(radar, 'abstract:"state of the art"') == {"p-sota", "p-sota-spaced"}
    assert found(radar, "model-based reinforcement learning") == {"p-mbrl"}


def test_phrase_or_word(radar: Radar) -> None:
    assert found(radar, 'LLM OR "large language model"') == {"p-llm", "p-llms"}
    assert found(radar, '"graph neural" OR "neural graph"') == {"p-adjacent", "p-reversed", "p-sentence"}


def test_phrase_in_one_field_only(radar: Radar) -> None:
    assert found(radar, 'title:"large language model"') == {"p-llm"}
    assert found(radar, 'abstract:"large language model"') == {"p-llms"}


def test_excluded_phrase(radar: Radar) -> None:
    assert found(radar, 'graph -"graph neural"') == {"p-reversed", "p-gap", "p-boundary", "p-authors"}


def test_prefix_at_the_end_of_a_hyphenated_word(radar: Radar) -> None:
    """``graph-neur*``: "graph" then a word starting with "neur", adjacent and in order."""
    assert found(radar, "graph-neur*") == {"p-adjacent", "p-sentence"}
    assert found(radar, "neural-gra*") == {"p-reversed"}
    assert found(radar, "graph-conv*") == {"p-gap"}


@pytest.mark.parametrize("author", ["Yang Liu", "Liu", "Smith", "Nobody Here"])
@pytest.mark.parametrize("mode", ["all", "any"])
@pytest.mark.parametrize("query", [
    "state-of-the-art", '"large language models" reasoning', 'LLM OR "large language model"',
    "model-based reinforcement learning", '"graph neural" OR "neural graph"', "graph-neur*", "reasoning",
    'graph -"graph neural"', 'abstract:"state of the art"',
])  # fmt: skip
def test_author_filter_keeps_exactly_the_phrase_hits_by_that_author(radar: Radar, query: str, mode: str,
                                                                    author: str) -> None:
    """With an author filter, phrases are searched with the filter inside them (faster at a million
    papers, see keyword.py ``_within_phrases``): the hits must be the unfiltered hits whose paper has
    the author (the name's words adjacent within one author), with the same scores."""
    words = author.lower().split()
    rows = radar.store.conn.execute("SELECT rowid, authors FROM papers").fetchall()
    by = {rowid: [name.lower().split() for name in json.loads(names)] for rowid, names in rows}

    def has_author(rowid: int) -> bool:
        return any(name[i : i + len(words)] == words for name in by[rowid] for i in range(len(name)))

    unfiltered = radar.keyword.search(parse(query), limit=50, mode=mode)
    filtered = radar.keyword.search(parse(query), Filters(author=author), limit=50, mode=mode)
    expected = {h.rowid: h.score for h in unfiltered if has_author(h.rowid)}
    assert {h.rowid: h.score for h in filtered} == pytest.approx(expected)


def test_author_filter_with_a_phrase_never_joins_two_authors(radar: Radar) -> None:
    hits = radar.keyword.search(parse("state-of-the-art"), Filters(author="Yang Liu"), limit=50)
    ids = {r["id"] for r in radar.store.rows([h.rowid for h in hits]).values()}
    assert ids == {"p-sota"}  # p-sota-spaced has "Wei Yang" and "Liu Chen"; p-mbrl has "Liu Yang"


HALF_QUERIES = [
    "state-of-the-art", '"large language models" reasoning', 'LLM OR "large language model"',
    "model-based reinforcement learning", '"graph neural" OR "neural graph"',
    'graph-neural -"neural graph"', 'abstract:"state of the art"', '"graph neural network"',
]  # fmt: skip


@pytest.fixture
def split_days(radar: Radar, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The middle day of each search split in halves from now on, with ``SPLIT_MIN`` lowered so that
    this small index can be split."""
    index = radar.keyword
    monkeypatch.setattr(keyword, "SPLIT_MIN", 1)
    monkeypatch.setattr(index, "_middle", None)
    days: list[int] = []
    real = index._search_halves
    monkeypatch.setattr(index, "_search_halves", lambda *a, **k: days.append(a[-1]) or real(*a, **k))
    return days


@pytest.mark.parametrize("filters", [Filters(), Filters(category="cs.LG"), Filters(author="Yang Liu")])
@pytest.mark.parametrize("mode", ["all", "any"])
@pytest.mark.parametrize("query", HALF_QUERIES)
def test_a_phrase_searched_in_two_halves_finds_what_the_whole_index_finds(
    radar: Radar, monkeypatch: pytest.MonkeyPatch, split_days: list[int], query: str, mode: str, filters: Filters
) -> None:
    """From ``SPLIT_MIN`` papers a query with a phrase is searched as the papers up to the middle
    day and those after, at once (keyword.py ``_search_halves``). Here the threshold is lowered
    so that this small index is split, at every day as the middle (one paper a day, June 1st
    to 21st): the hits, their scores and each page must be those of one search over the whole index."""
    index = radar.keyword
    monkeypatch.setattr(keyword, "SPLIT_SHARE", 0.0)
    parsed = parse(query)
    whole = index.search(parsed, filters, limit=50, mode=mode, halves=False)
    for middle in range(20250531, 20250622):
        monkeypatch.setattr(index, "_count_middle", lambda middle=middle: middle)
        monkeypatch.setattr(index, "_middle", None)
        halves = index.search(parsed, filters, limit=50, mode=mode)
        assert split_days[-1] == middle
        assert {h.rowid: h.score for h in halves} == pytest.approx({h.rowid: h.score for h in whole})
        assert [h.score for h in halves] == pytest.approx([h.score for h in whole])  # best first
        for offset, limit in [(0, 1), (1, 2), (2, 5)]:
            page = index.search(parsed, filters, limit=limit, offset=offset, mode=mode)
            assert [h.score for h in page] == pytest.approx([h.score for h in whole][offset : offset + limit])


def test_the_middle_day_halves_the_papers(radar: Radar, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyword, "SPLIT_MIN", 1)
    assert radar.keyword._count_middle() == 20250611  # 21 papers, one a day from June 1st: the 11th
    monkeypatch.setattr(keyword, "SPLIT_MIN", len(PAPERS) + 1)
    assert radar.keyword._count_middle() is None  # too few papers to split


def test_only_a_lone_search_with_a_common_phrase_is_split(
    radar: Radar, monkeypatch: pytest.MonkeyPatch, split_days: list[int]
) -> None:
    """Split: a phrase each of whose words is in at least ``SPLIT_SHARE`` of the papers ("state" and
    "art" are in 3 of the 21 here). Not split: no such phrase (none, a rarer one, one excluded
    only), a date filter (its own range), a search while another of this index runs (the cores
    are taken: splitting would only add work), an index under ``SPLIT_MIN`` papers."""
    index = radar.keyword
    monkeypatch.setattr(keyword, "SPLIT_SHARE", 3 / 21)
    sota = parse("state-of-the-art")
    index.search(parse("graph neural"), limit=5)
    index.search(parse('graph -"state of the art"'), limit=5)
    index.search(parse("model-based reinforcement learning"), limit=5)  # "based" is in 2 papers
    index.search(sota, Filters(since="2025-06-02"), limit=5)
    index.search(sota, limit=5, halves=False)
    monkeypatch.setattr(index, "_searching", 1)  # another search is running
    index.search(sota, limit=5)
    assert split_days == []
    monkeypatch.setattr(index, "_searching", 0)
    index.search(sota, limit=5)
    index.search(parse('reasoning OR "state of the art"'), limit=5)
    assert len(split_days) == 2
    monkeypatch.setattr(keyword, "SPLIT_SHARE", 4 / 21)
    index.search(sota, limit=5)
    assert len(split_days) == 2
    monkeypatch.setattr(keyword, "SPLIT_SHARE", 0.0)
    monkeypatch.setattr(keyword, "SPLIT_MIN", len(PAPERS) + 1)
    monkeypatch.setattr(index, "_middle", None)
    index.search(sota, limit=5)
    assert len(split_days) == 2


@pytest.mark.parametrize("filters", [Filters(), Filters(author="Yang Liu")])
@pytest.mark.parametrize("mode", ["all", "any"])
@pytest.mark.parametrize("query", [*HALF_QUERIES, "graph-neur* molecules", "title:reasoning large-language-model",
                                   "stress-patterns verse", '"state of the art" tracking', '"neural network" graph',
                                   '"message passing" graph molecules', "graph-neural network molecules -reversed"])
def test_a_rarer_word_inside_a_phrase_changes_no_hit_and_no_score(
    radar: Radar, monkeypatch: pytest.MonkeyPatch, query: str, mode: str, filters: Filters
) -> None:
    """A required word rarer than a phrase's words goes inside the phrase's query, scoring nothing
    (keyword.py ``_rarer_words``: the phrase then checks positions only where the word is): the
    hits and scores must be those of the phrase and the word ANDed side by side."""
    index = radar.keyword
    parsed = parse(query)
    inside = index.search(parsed, filters, limit=50, mode=mode, halves=False)
    monkeypatch.setattr(index, "_rarer_words", lambda *a: [])
    side_by_side = index.search(parsed, filters, limit=50, mode=mode, halves=False)
    assert {h.rowid: h.score for h in inside} == pytest.approx({h.rowid: h.score for h in side_by_side})


def test_only_rarer_required_words_go_inside_a_phrase(radar: Radar) -> None:
    """In the abstracts, "tracking" (1 paper) is rarer than each word of "state of the art" (3 or
    more): inside; "graph" (4) is not rarer than "network" (3); a word in an OR is not required."""
    index, searcher = radar.keyword, radar.keyword.index.searcher()
    parsed = parse('"state of the art" tracking')
    assert len(index._rarer_words(searcher, parsed.must[0], parsed.must)) == 1
    assert index._rarer_words(searcher, parsed.must[1], parsed.must) == []  # a word, not a phrase
    parsed = parse('"neural network" graph')
    assert index._rarer_words(searcher, parsed.must[0], parsed.must) == []
    parsed = parse('"state of the art" tracking OR graph')
    assert index._rarer_words(searcher, parsed.must[0], parsed.must) == []
    assert {r["id"] for r in keyword_search(radar, '"state of the art" tracking', limit=50)} >= {"p-sota-spaced"}
