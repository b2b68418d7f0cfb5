"""The search-box grammar, from what a user types to the papers it finds.

Words (all required first), "exact phrases", prefix*, a OR b, -word and
NOT word, title:/abstract:/author: fields. Tested through
``keyword_search`` on a handful of made-up papers, so each query has one
right answer whatever index answers it; and any string at all must come
back as a list, never an exception.
"""

from __future__ import annotations

import random

import pytest
from helpers import imported_radar

from paperradar.rank.search import keyword_search

PAPERS = [
    {"id": "q-graph", "title": "Graph neural networks", "abstract": "A graph neural network for molecules.",
     "authors": ["Ada Lovelace"]},
    {"id": "q-vision", "title": "Transformers for vision", "abstract": "Vision transformer with sparse attention.",
     "authors": ["Alan Turing"]},
    {"id": "q-fields", "title": "Neural fields", "abstract": "Graph-free neural rendering.",
     "authors": ["Grace Hopper", "Ada Byron"]},
    {"id": "q-foobar", "title": "Baselines", "abstract": "We compare against the foo bar baseline.",
     "authors": ["José Núñez"]},
] + [
    {"id": f"q-filler-{i}", "title": f"{topic} study", "abstract": f"An empirical study of {topic}.",
     "authors": [f"Filler Person{i}"]}
    for i, topic in enumerate(["weather", "markets", "soil", "music", "traffic", "proteins", "glaciers", "poetry",
                               "compilers", "birds", "tides", "volcanoes"])
]  # fmt: skip
for n, p in enumerate(PAPERS):
    p.update(categories=["cs.LG"], published=f"2025-06-{n + 1:02d}")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    with imported_radar(PAPERS, tmp_path_factory.mktemp("query")) as radar:
        yield radar


def find(store, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["id"] for r in keyword_search(store, query, limit=50)]


def find_set(store, query: str) -> set[str]:  # type: ignore[no-untyped-def]
    return set(find(store, query))


# ---------------------------------------------------------------------------
# The grammar


def test_words_papers_with_all_words_come_first(store) -> None:
    assert set(find(store, "graph neural")[:2]) == {"q-graph", "q-fields"}
    assert find(store, "graph neural molecules")[0] == "q-graph"


def test_case_does_not_matter(store) -> None:
    assert find(store, "GRAPH Neural MOLECULES")[0] == "q-graph"


def test_and_keyword_is_the_default(store) -> None:
    assert find(store, "graph AND neural")[:2] == find(store, "graph neural")[:2]


def test_phrase_needs_adjacent_words(store) -> None:
    assert find(store, '"graph neural"') == ["q-graph"]  # "Graph-free neural" is not adjacent
    assert find(store, '"neural graph"') == []


def test_unterminated_phrase_runs_to_the_end(store) -> None:
    assert find(store, '"graph neural') == ["q-graph"]


def test_prefix(store) -> None:
    assert find(store, "transform*") == ["q-vision"]
    assert find(store, "transform***") == ["q-vision"]
    assert find(store, "molecul*") == ["q-graph"]
    assert find(store, "lovel*") == ["q-graph"]  # in the authors field too


def test_or(store) -> None:
    assert find_set(store, "turing OR hopper") == {"q-vision", "q-fields"}
    assert find_set(store, "molecules OR rendering OR attention") == {"q-graph", "q-fields", "q-vision"}
    # OR binds the words either side of it; the other words stay required
    assert find(store, "graph OR vision transformer")[0] == "q-vision"


def test_dangling_operators_are_ignored(store) -> None:
    assert find(store, "attention OR") == ["q-vision"]
    assert find(store, "OR attention") == ["q-vision"]
    assert find(store, "attention AND") == ["q-vision"]
    assert find(store, "OR OR") == []
    assert find(store, "AND OR NOT") == []


def test_exclusion(store) -> None:
    assert find(store, "neural -rendering") == ["q-graph"]
    assert find(store, "neural NOT rendering") == ["q-graph"]
    assert find(store, "neural -title:graph") == ["q-fields"]
    assert find(store, "neural -author:hopper") == ["q-graph"]
    assert find(store, '-"graph neural" neural') == ["q-fields"]


def test_only_exclusions_find_nothing(store) -> None:
    assert find(store, "-neural") == []
    assert find(store, "NOT neural") == []


def test_exclusion_survives_a_nul_character(store) -> None:
    """A NUL (e.g. %00 from a URL) must not turn the excluded word into a required one."""
    assert find(store, "neural -rendering\x00") == ["q-graph"]


def test_fields(store) -> None:
    assert find(store, "title:vision") == ["q-vision"]
    assert find(store, "TITLE:vision") == ["q-vision"]
    assert find(store, "abstract:molecules") == ["q-graph"]
    assert find(store, "title:molecules") == []
    assert find_set(store, "author:ada") == {"q-graph", "q-fields"}
    assert find(store, "authors:turing") == ["q-vision"]
    assert find(store, "author:vision") == []
    assert find(store, 'title:"neural networks"') == ["q-graph"]
    assert find(store, 'author:"Alan Turing"') == ["q-vision"]
    assert find(store, "title:transform*") == ["q-vision"]


def test_accents_are_folded(store) -> None:
    assert find(store, "author:nunez") == ["q-foobar"]
    assert find(store, "author:Núñez") == ["q-foobar"]


def test_unknown_field_is_read_as_words(store) -> None:
    assert find(store, "foo:bar") == ["q-foobar"]
    assert find(store, "foo:bar baseline") == ["q-foobar"]


@pytest.mark.parametrize(
    "query", ["", " ", "*", '"', '""', "-", "--", "^", "(((", ")", "!!!", "😀", "\u200b", "-*", "title:*", 'author:""']
)
def test_no_word_finds_nothing(store, query: str) -> None:
    assert find(store, query) == []


def test_very_long_queries_are_bounded(store) -> None:
    many = " ".join(f"w{i}" for i in range(5000)) + " molecules"
    assert isinstance(keyword_search(store, many), list)
    ors = " OR ".join(f"w{i}" for i in range(5000))
    assert keyword_search(store, ors) == []
    pasted = PAPERS[0]["abstract"] * 200  # a pasted abstract is still a query
    assert isinstance(keyword_search(store, pasted), list)


# ---------------------------------------------------------------------------
# Any string is safe


NASTY = [
    '"', '""', "*", "NOT", "AND OR NOT", "NEAR(a b, 3)", "NEAR(graph neural)", "a:b:c", "title:", "(((", ")",
    "-", "--", "^", "{col}: x", "{title abstract}: graph", "'; DROP TABLE papers; --", "col:\"unterminated",
    "a OR", "OR OR", "%_", "a*b", "*a", "a**", "title:*", 'title:"*"', "-*", "NOT -a", "a NOT", "a - b", "a -",
    "+a", "a^b", "graph^2", "graph~2", "graph:[a TO z]", "x" * 10_000, "a " * 5_000, '"' * 999, "é", "e\u0301",
    "😀a", "模型", "نموذج", "\u202ea", "a:b c:d e:f", "author:\"", "author:-", "title:title:x",
    "(a OR b) AND (c OR d)", "a AND NOT b", "a NEAR/3 b", "\"a\" \"b\" \"", "a\"b\"c", "a\"\"b", "\\", "\\\"",
    "a\\*", "'", "''", "`", ":", "::a", "a::", "-:", "*:", "\x00", "a\x00b", "\x00graph", "graph\x00 neural",
    "title:\x00", '"graph\x00 neural"', "abc\ud800", "graph\udcff", "\udcffgraph neural", 'title:"x\ud83d"',
    "\ufeffgraph", "graph\u200bneural", "ﬁelds", "İstanbul", "\r\n\t", "\x1b[31mred", "graph/neural",
    "graph.neural", "C++", "C#", "F#", "3.14", "1e-5", "@author", "#hashtag", "https://arxiv.org/abs/2503.12345",
    "10.48550/arXiv.2503.12345", "$\\mathcal{O}(n)$", "<script>alert(1)</script>", "SELECT * FROM papers",
]  # fmt: skip


@pytest.mark.parametrize("query", NASTY, ids=lambda q: ascii(q[:30]))
def test_nasty_input_returns_a_list(store, query: str) -> None:
    result = keyword_search(store, query, limit=5)
    assert isinstance(result, list) and len(result) <= 5


ALPHABET = [
    '"', "*", "-", "(", ")", ":", "^", "+", "a", "b", "graph", "neural", "OR", "AND", "NOT", "NEAR", " ", " ",
    " ", "title:", "author:", "abstract:", "x:", "é", "_", "{", "}", ",", ".", "€", "😀", "\u0301", "ß", "İ",
    "'", "\\", "%", "\t", "\x00", "~", "[", "]", "/",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_random_queries_return_lists(store, seed: int) -> None:
    rng = random.Random(seed)
    failures = []
    for _ in range(400):
        query = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 14)))
        try:
            result = keyword_search(store, query, limit=3, offset=rng.randint(0, 2))
            assert isinstance(result, list)
        except Exception as exc:  # collect them all: one example per kind of failure is what helps
            failures.append((query, f"{type(exc).__name__}: {exc}"))
    assert not failures, f"{len(failures)} queries raised, e.g. {failures[:3]}"
