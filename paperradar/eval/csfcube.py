"""``paperradar eval csfcube DIR``: how well "similar papers" matches expert judgements.

Protocol (../shared/eval/README.md): import DIR/corpus.jsonl into a fresh
temporary store, rank each query paper's judged pool by the system's
similarity to the query paper (papers outside the pool are dropped), and
report NDCG%20 (graded) and MAP (grade >= 2 relevant), for keyword, semantic
and hybrid ranking, each with the whole paper as the query and with the
query's facet (the sentences of its abstract that speak to the judged facet).

The rankings are those of :func:`paperradar.rank.similar.ranking`, the code
behind ``paperradar similar``: nothing here knows a query, an id or a label.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..app import Radar
from ..rank.search import MODES
from ..rank.similar import ranking
from .corpus import EvalError, imported, json_lines
from .metrics import average_precision, mean, ndcg_pct, ranked_gains

CUT_PCT = 20.0
RELEVANT = 2.0


@dataclass(frozen=True)
class Query:
    query_id: str
    paper_id: str
    facet: str
    candidates: list[str]


def load_queries(folder: Path) -> tuple[list[Query], dict[str, dict[str, float]]]:
    """The queries and graded judgements of a CSFCube folder."""
    queries = []
    for line_no, row in json_lines(folder / "queries.jsonl"):
        try:
            queries.append(Query(str(row["query_id"]), str(row["paper_id"]), str(row["facet"]),
                                 [str(c) for c in row["candidates"]]))
        except (KeyError, TypeError) as exc:
            raise EvalError(f"{folder / 'queries.jsonl'}, line {line_no}: missing or bad field {exc}") from None
    grades: dict[str, dict[str, float]] = {}
    path = folder / "qrels.tsv"
    try:
        with path.open(encoding="utf-8") as f:
            for line_no, fields in enumerate(csv.reader(f, delimiter="\t"), start=1):
                if not fields:
                    continue
                try:
                    query_id, candidate, grade = fields
                    grades.setdefault(query_id, {})[candidate] = float(grade)
                except ValueError:
                    raise EvalError(f"{path}, line {line_no}: expected query_id, candidate_id, grade") from None
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror or exc}") from None
    return queries, grades


def evaluate(folder: str | Path, facets: bool = True, progress: bool = False, server: str | None = None) -> dict[str, Any]:
    """Scores of every ranking mode (and with facets) on a CSFCube folder; see the module doc. ``server``:
    a PostgreSQL URL to measure on (a temporary database made there), else a temporary SQLite file."""
    folder = Path(folder)
    corpus = folder / "corpus.jsonl"
    if not corpus.is_file():
        raise EvalError(f"no corpus.jsonl in {folder}")
    queries, grades = load_queries(folder)
    with imported(corpus, "jsonl", progress, server=server) as radar:
        radar.refresh(embed=True, progress=progress)
        return _score(radar, queries, grades, facets)


def _score(
    radar: Radar, queries: list[Query], grades: dict[str, dict[str, float]], facets: bool
) -> dict[str, Any]:
    rows = {}
    variants = [(mode, False) for mode in MODES] + ([(mode, True) for mode in MODES] if facets else [])
    for mode, faceted in variants:
        per_query: dict[str, tuple[float, float]] = {}
        store = radar.store
        for q in queries:
            paper = store.get(q.paper_id)
            if paper is None:
                raise EvalError(f"query {q.query_id}: paper {q.paper_id} is not in corpus.jsonl")
            pool = store.rowids([c for c in q.candidates])
            hits = ranking(radar, paper, q.facet if faceted else None, k=len(pool), mode=mode,
                           candidates=list(pool.values()))
            by_rowid = {rowid: pid for pid, rowid in pool.items()}
            ranked = [by_rowid[r] for r, _ in hits]
            ranked += [c for c in q.candidates if c not in set(ranked)]  # unmatched: judged pool order
            gains = ranked_gains(ranked, grades.get(q.query_id, {}))
            per_query[q.query_id] = (ndcg_pct(gains, CUT_PCT), average_precision(gains, threshold=RELEVANT))
        rows[f"{mode}{'+facets' if faceted else ''}"] = _summary(per_query, queries)
    return {"queries": len(queries), "metric": {"ndcg": f"NDCG%{CUT_PCT:g}", "map": f"MAP (grade >= {RELEVANT:g})"},
            "rankings": rows}


def _summary(per_query: dict[str, tuple[float, float]], queries: list[Query]) -> dict[str, Any]:
    by_facet: dict[str, dict[str, float]] = {}
    for facet in sorted({q.facet for q in queries}):
        ids = [q.query_id for q in queries if q.facet == facet]
        by_facet[facet] = {"ndcg20": round(mean([per_query[i][0] for i in ids]), 4),
                           "map": round(mean([per_query[i][1] for i in ids]), 4), "queries": len(ids)}
    return {"ndcg20": round(mean([v[0] for v in per_query.values()]), 4),
            "map": round(mean([v[1] for v in per_query.values()]), 4), "by_facet": by_facet}


def table(result: dict[str, Any]) -> str:
    """The scores as an aligned text table, one ranking per line."""
    facets = sorted({f for r in result["rankings"].values() for f in r["by_facet"]})
    head = ["ranking", "NDCG%20", "MAP"] + [f"{f} NDCG" for f in facets]
    lines = [head]
    for name, r in result["rankings"].items():
        lines.append([name, f"{r['ndcg20']:.3f}", f"{r['map']:.3f}"] + [f"{r['by_facet'][f]['ndcg20']:.3f}" for f in facets])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
           for line in lines]
    return "\n".join(out) + f"\n({result['queries']} queries)"
