"""Sentence splitting, facet assignment and pasted-passage queries: small pure functions."""

from __future__ import annotations

from paperradar.index.query import MAX_PASSAGE_CLAUSES, is_passage, parse, parse_passage
from paperradar.index.sentences import MAX_SENTENCES, sentences, units
from paperradar.rank.facets import FACET_WEIGHT, explain, weights

ABSTRACT = (
    "Recent work on large language models has shown strong reasoning, e.g. in math, but such models remain "
    "brittle on long-horizon planning. We propose PlanLM, a method that decomposes tasks into sub-goals and "
    "trains a verifier with reinforcement learning. Experiments on three benchmarks show that PlanLM "
    "outperforms strong baselines by 12.5% and achieves state-of-the-art results."
)


def test_sentences_do_not_break_after_abbreviations_or_decimals() -> None:
    parts = sentences(ABSTRACT)
    assert len(parts) == 3
    assert parts[0].startswith("Recent work") and "e.g. in math" in parts[0]
    assert parts[2].endswith("state-of-the-art results.") and "12.5%" in parts[2]
    assert sentences("") == [] and sentences("  one line without a stop  ") == ["one line without a stop"]


def test_units_are_title_then_sentences_capped() -> None:
    long = " ".join(f"Sentence number {i} is here." for i in range(40))
    assert units("A title", ABSTRACT)[0] == "A title" and len(units("A title", ABSTRACT)) == 4
    assert len(units("A title", long)) == MAX_SENTENCES


def test_each_move_of_the_abstract_goes_to_its_facet() -> None:
    assert [s.facet for s in explain(ABSTRACT)] == ["background", "method", "result"]
    w = weights("PlanLM", ABSTRACT, "method")
    assert list(w) == [1.0, 1.0, FACET_WEIGHT, 1.0]  # title, background, method, result
    assert list(weights("PlanLM", ABSTRACT, None)) == [1.0] * 4
    assert list(weights("PlanLM", "", "result")) == [1.0]  # no abstract: the title alone, unweighted


def test_a_long_query_is_a_passage_of_plain_words() -> None:
    assert not is_passage("diffusion transformer -survey") and is_passage(ABSTRACT)
    parsed = parse_passage('"We" -propose NOT planlm "brittle')
    assert [c.text for c in parsed.must] == ["propose", "planlm", "brittle"]  # no syntax, no stopwords
    assert not parsed.exclude and all(not c.phrase and c.field is None for c in parsed.must)
    assert parse("-propose").exclude  # short queries keep the syntax
    words = " ".join(f"word{i}x" for i in range(500))
    assert len(parse_passage(words).must) == MAX_PASSAGE_CLAUSES
