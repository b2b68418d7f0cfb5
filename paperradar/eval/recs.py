"""``paperradar eval recs DIR``: would this reader want this paper? (the recs-dev protocol)

Protocol (../shared/eval/README.md): import DIR/corpus.jsonl (or
corpus.jsonl.gz) into a fresh temporary store and embed it (document
vectors only: the recommender reads no sentence vectors), then for each task
of DIR/tasks.jsonl (``user``, ``library``: paper ids, ``day``, ``relevant``:
ids) rank every paper listed on that day, the library left out, with
:func:`paperradar.rank.recommend.recommend_library` (the code behind
``paperradar recommend --library``), and report

- MRR: the mean over tasks of 1 / rank of the first relevant paper (0 if none is ranked);
- recall@10: the share of a task's relevant papers in its first 10, averaged;
- NDCG@10: binary gains, discount 1 / log2(rank + 1), against the ideal order.

Nothing here knows a task, a user or an id: the set is read from DIR.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..app import Radar
from ..index.embed import EmbedReport, embed_documents, model_key
from ..rank.recommend import DEFAULT, Tuning, UnknownPapers, recommend_library
from .corpus import EvalError, imported, json_lines
from .metrics import mean

CUT = 10


@dataclass(frozen=True)
class Task:
    user: str
    library: list[str]
    day: str
    relevant: list[str]

    @property
    def key(self) -> str:
        return f"{self.user}|{self.day}"


def load_tasks(folder: Path) -> list[Task]:
    """The tasks of DIR/tasks.jsonl (EvalError naming the line when one is malformed)."""
    path = folder / "tasks.jsonl"
    tasks = []
    for line_no, row in json_lines(path):
        try:
            library, relevant = row["library"], row["relevant"]
            if not isinstance(library, list) or not isinstance(relevant, list):
                raise TypeError("library and relevant must be lists")
            tasks.append(Task(str(row["user"]), [str(i) for i in library], str(row["day"]),
                              [str(i) for i in relevant]))
        except (KeyError, TypeError) as exc:
            raise EvalError(f"{path}, line {line_no}: missing or bad field {exc}") from None
    if not tasks:
        raise EvalError(f"{path}: no tasks")
    return tasks


def corpus_path(folder: Path) -> Path:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (folder / name).is_file():
            return folder / name
    raise EvalError(f"no corpus.jsonl or corpus.jsonl.gz in {folder}")


def evaluate(folder: str | Path, progress: bool = False, tuning: Tuning = DEFAULT,
             embed: bool = True) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The scores on a recs folder, and every task's ranking (ids, best first); see the module doc."""
    folder = Path(folder)
    corpus = corpus_path(folder)
    tasks = load_tasks(folder)
    started = time.perf_counter()
    with imported(corpus, progress=progress) as radar:  # format detected: arXiv listing lines
        import_seconds = time.perf_counter() - started
        embedded = _embed(radar, progress) if embed else {"papers": 0, "seconds": 0.0}
        result, rankings = score(radar, tasks, tuning, progress)
        result["timing"] = {"import_seconds": round(import_seconds, 1), "embed_seconds": embedded["seconds"],
                            "embedded_papers": embedded["papers"], **result["timing"]}
        result["papers"] = radar.store.count()
        result["tuning"] = asdict(tuning)
        return result, rankings


def _embed(radar: Radar, progress: bool) -> dict[str, Any]:
    """Document vectors for every paper (the recommender's only use of the encoder)."""
    started = time.perf_counter()
    enc = radar.encoder
    report = EmbedReport(model_key(enc))
    embed_documents(radar.store, enc, report, progress)
    return {"papers": report.embedded, "seconds": round(time.perf_counter() - started, 1)}


def score(radar: Radar, tasks: list[Task], tuning: Tuning = DEFAULT,
          progress: bool = False) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Rank every task in an imported (and embedded) store; the metrics and the rankings."""
    from tqdm import tqdm

    rankings: dict[str, list[str]] = {}
    per_task: list[tuple[float, float, float]] = []
    started = time.perf_counter()
    for task in tqdm(tasks, desc="tasks", unit="task", disable=not progress):
        try:
            ranked = recommend_library(radar, task.library, [], task.day, limit=None, explain=0, tuning=tuning)
        except UnknownPapers as exc:
            raise EvalError(f"task {task.key}: {exc} (not in the corpus)") from None
        ids = [r["id"] for r in ranked]
        rankings[task.key] = ids
        per_task.append(metrics(ids, set(task.relevant)))
    seconds = time.perf_counter() - started
    result = {
        "tasks": len(tasks),
        "mrr": round(mean(m[0] for m in per_task), 4),
        f"recall@{CUT}": round(mean(m[1] for m in per_task), 4),
        f"ndcg@{CUT}": round(mean(m[2] for m in per_task), 4),
        "candidates": round(mean(len(r) for r in rankings.values()), 1),
        "timing": {"rank_seconds": round(seconds, 1),
                   "ms_per_task": round(1000 * seconds / max(len(tasks), 1), 1)},
    }
    return result, rankings


def metrics(ranking: list[str], relevant: set[str], cut: int = CUT) -> tuple[float, float, float]:
    """(reciprocal rank of the first relevant id, recall@cut, binary NDCG@cut) of one ranking."""
    if not relevant:
        return 0.0, 0.0, 0.0
    first = next((k for k, i in enumerate(ranking) if i in relevant), None)
    rr = 1.0 / (first + 1) if first is not None else 0.0
    top = ranking[:cut]
    recall = sum(1 for i in top if i in relevant) / len(relevant)
    dcg = sum(1.0 / math.log2(k + 2) for k, i in enumerate(top) if i in relevant)
    ideal = sum(1.0 / math.log2(k + 2) for k in range(min(cut, len(relevant))))
    return rr, recall, dcg / ideal


def text(result: dict[str, Any]) -> str:
    """The scores in lines, with the timing."""
    t = result["timing"]
    lines = [f"MRR          {result['mrr']:.3f}",
             f"recall@{CUT}    {result[f'recall@{CUT}']:.3f}",
             f"NDCG@{CUT}      {result[f'ndcg@{CUT}']:.3f}",
             (f"({result['tasks']} tasks, {result['candidates']:.0f} candidates each on average; "
              f"{result.get('papers', '?')} papers)")]
    changed = {k: v for k, v in result.get("tuning", {}).items() if getattr(DEFAULT, k) != v}
    if changed:
        lines.append("tuning changed: " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    if "import_seconds" in t:
        lines.append(f"time: import {t['import_seconds']:.1f}s, embedding {t['embedded_papers']} papers "
                     f"{t['embed_seconds']:.1f}s, ranking {t['rank_seconds']:.1f}s "
                     f"({t['ms_per_task']:.0f} ms per task, training included)")
    return "\n".join(lines)
