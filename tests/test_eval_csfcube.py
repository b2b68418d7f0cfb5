"""``paperradar eval csfcube`` on a real slice of the CSFCube dev set (3 queries and their pools)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import shared
from helpers import cli

from paperradar.eval.corpus import EvalError
from paperradar.eval.csfcube import evaluate, load_queries, table

N_QUERIES = 3


@pytest.fixture(scope="module")
def small_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first queries of the dev set with only the papers they need (keeps the test to seconds)."""
    src = shared("eval/csfcube-dev")
    out = tmp_path_factory.mktemp("csfcube")
    queries = [json.loads(line) for line in (src / "queries.jsonl").read_text().splitlines()[:N_QUERIES]]
    needed = {q["paper_id"] for q in queries} | {c for q in queries for c in q["candidates"]}
    corpus = [line for line in (src / "corpus.jsonl").read_text().splitlines() if json.loads(line)["paper_id"] in needed]
    ids = {q["query_id"] for q in queries}
    qrels = [line for line in (src / "qrels.tsv").read_text().splitlines() if line.split("\t")[0] in ids]
    (out / "corpus.jsonl").write_text("\n".join(corpus) + "\n")
    (out / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (out / "qrels.tsv").write_text("\n".join(qrels) + "\n")
    return out


def test_eval_prints_every_ranking_as_a_table_and_json(small_set: Path, capsys) -> None:
    rc, out, err = cli(capsys, "eval", "csfcube", small_set, "--json", "--db", small_set / "unused.db")
    assert rc == 0, err
    result = json.loads(out)
    assert result["queries"] == N_QUERIES
    names = ["hybrid", "keyword", "semantic", "hybrid+facets", "keyword+facets", "semantic+facets"]
    assert list(result["rankings"]) == names
    for r in result["rankings"].values():
        assert 0.0 <= r["map"] <= 1.0 and 0.0 <= r["ndcg20"] <= 1.0
        assert sum(f["queries"] for f in r["by_facet"].values()) == N_QUERIES
    # Meaning helps: the ranking with the vectors beats words alone on these real judgements, and
    # everything beats the judged pool's own order by a wide margin.
    baseline = evaluate_pool_order(small_set)
    assert result["rankings"]["hybrid"]["ndcg20"] > baseline + 0.1
    rc, out, _ = cli(capsys, "eval", "csfcube", small_set, "--no-facets", "--db", small_set / "unused.db")
    assert rc == 0 and out.splitlines()[0].split()[:3] == ["ranking", "NDCG%20", "MAP"]
    assert "hybrid+facets" not in out and "(3 queries)" in out
    assert not (small_set / "unused.db").exists()  # the user's database is never touched


def evaluate_pool_order(folder: Path) -> float:
    """NDCG%20 of the candidates in the order the set lists them (what ranking nothing gives)."""
    from paperradar.eval.metrics import mean, ndcg_pct, ranked_gains

    queries, grades = load_queries(folder)
    return mean([ndcg_pct(ranked_gains(q.candidates, grades.get(q.query_id, {})), 20.0) for q in queries])


def test_eval_errors_name_the_file_and_line(tmp_path: Path, small_set: Path, capsys) -> None:
    rc, _, err = cli(capsys, "eval", "csfcube", tmp_path / "nowhere")
    assert rc == 1 and "no corpus.jsonl in" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("corpus.jsonl", "qrels.tsv"):
        (broken / name).write_bytes((small_set / name).read_bytes())
    lines = (small_set / "queries.jsonl").read_text().splitlines()
    (broken / "queries.jsonl").write_text(lines[0] + "\n{not json\n")
    with pytest.raises(EvalError, match=r"queries.jsonl, line 2: not JSON"):
        evaluate(broken)
    (broken / "queries.jsonl").write_text(lines[0] + '\n{"query_id": "x"}\n')
    rc, _, err = cli(capsys, "eval", "csfcube", broken)
    assert rc == 1 and "queries.jsonl, line 2: missing or bad field" in err


def test_table_lines_up() -> None:
    result = {"queries": 2, "rankings": {"hybrid": {"ndcg20": 0.61, "map": 0.4, "by_facet": {"method": {"ndcg20": 0.5}}},
                                         "keyword+facets": {"ndcg20": 0.5, "map": 0.3,
                                                            "by_facet": {"method": {"ndcg20": 0.45}}}}}
    lines = table(result).splitlines()
    assert lines[1].index("0.610") == lines[2].index("0.500") and lines[-1] == "(2 queries)"
