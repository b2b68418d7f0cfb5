"""Speed of the recommender (paperradar/rank/recommend.py): training and ranking, in this process.

On a copy of ``--db`` (a database with document vectors, e.g. the 115k one that
``bench/foryou.py --build DIR`` makes; the copy is made in ``--work`` so that opening it can never
migrate or change the original):

1. **background**: the first model pays for the store's random sample (term statistics, the sampled
   negatives and their vectors), once per process; timed once;
2. **training** on ``--positives`` papers (default 200: a random set of one category's papers listed in
   the 90 days before the day, a new set each run), ``--train-runs`` times, the background warm;
3. **ranking** the papers of one day (``--day``; default: the day of the last 60 days whose count is
   nearest 500): the first ranking of the day (its papers' term rows and vectors computed and kept,
   shared by every reader afterwards), then ``--rank-runs`` rankings with a trained model: the top 50
   with why (what /for-you shows), and the scores alone (the order of every candidate). The day's rows
   are read once beforehand and handed to ``rank`` as ``for_user`` does (reading them is part of the
   page's time, which bench/foryou.py measures).

Prints p50/p90/p99/max and writes bench/results/recommend-*.json.

    python bench/recommend.py --db /tmp/foryou-bench/bench.db
    python bench/recommend.py --db DB --positives 200 --train-runs 30 --rank-runs 300 --day 2026-06-30

Targets (issue 13): ranking a day's ~500 candidates for one user <= 50 ms p99 once the model is
trained; training on 200 positives <= 200 ms.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_import import ROOT, save

sys.path.insert(0, str(ROOT))


def percentiles(ms: list[float]) -> dict[str, float]:
    s = sorted(ms)

    def at(q: float) -> float:
        return s[min(len(s) - 1, max(0, round(q * len(s) + 0.5) - 1))]

    return {"runs": len(s), "p50_ms": round(statistics.median(s), 2), "p90_ms": round(at(0.90), 2),
            "p99_ms": round(at(0.99), 2), "max_ms": round(s[-1], 2)}


def copy(db: Path, work: Path) -> Path:
    """The database file (and its -wal) alone: the recommender reads no index folder."""
    work.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):
        source = Path(str(db) + suffix)
        target = work / (db.name + suffix)
        if target.exists():
            target.unlink()
        if source.exists():
            shutil.copy2(source, target)
    return work / db.name


def pick_day(conn: sqlite3.Connection, near: int = 500, days: int = 60) -> tuple[str, int]:
    latest = conn.execute("SELECT MAX(published) FROM papers WHERE published <= date('now')").fetchone()[0]
    rows = conn.execute("SELECT published, COUNT(*) FROM papers WHERE published > date(?, ?) AND published <= ? "
                        "GROUP BY published", (latest, f"-{days} days", latest)).fetchall()
    day, n = min(rows, key=lambda r: (abs(r[1] - near), r[0]))
    return str(day), int(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a database with document vectors")
    ap.add_argument("--work", type=Path, help="where the copy goes (default: a temporary folder)")
    ap.add_argument("--day", help="the day whose papers are ranked (default: the one nearest 500 papers)")
    ap.add_argument("--positives", type=int, default=200)
    ap.add_argument("--category", default="cs.RO", help="where the positives come from (default cs.RO)")
    ap.add_argument("--train-runs", type=int, default=30)
    ap.add_argument("--rank-runs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from paperradar.app import Radar
    from paperradar.rank import recommend as rec
    from paperradar.store import open_store

    tmp = None
    if args.work is None:
        tmp = tempfile.TemporaryDirectory(prefix="paperradar-bench-rec-")
        args.work = Path(tmp.name)
    db = copy(args.db, args.work)
    radar = Radar(open_store(str(db)))
    store = radar.store
    conn = sqlite3.connect(str(db))
    day, listed = (args.day, 0) if args.day else pick_day(conn)
    if not listed:
        listed = conn.execute("SELECT COUNT(*) FROM papers WHERE published = ?", (day,)).fetchone()[0]
    pool = [r[0] for r in conn.execute(
        "SELECT p.rowid FROM papers p JOIN paper_categories c ON c.paper = p.rowid WHERE c.category = ? "
        "AND p.published < ? AND p.published >= date(?, '-90 days')", (args.category, day, day))]
    if len(pool) < args.positives:
        sys.exit(f"only {len(pool)} {args.category} papers in the 90 days before {day}")
    rng = random.Random(args.seed)
    papers = store.count()
    print(f"{papers:,} papers; day {day}: {listed} papers; positives: {args.positives} of {len(pool)} "
          f"{args.category} papers of the 90 days before", flush=True)

    started = time.perf_counter()
    model = rec.train(radar, rng.sample(pool, args.positives), [])
    first_ms = (time.perf_counter() - started) * 1000
    print(f"first model (with the background sample of {rec.BACKGROUND}): {first_ms:.0f} ms", flush=True)

    train_ms = []
    for _ in range(args.train_runs):
        positives = rng.sample(pool, args.positives)
        started = time.perf_counter()
        model = rec.train(radar, positives, [])
        train_ms.append((time.perf_counter() - started) * 1000)
    train = percentiles(train_ms)
    print(f"train on {args.positives} positives: p50 {train['p50_ms']:.1f} ms, p90 {train['p90_ms']:.1f}, "
          f"p99 {train['p99_ms']:.1f}, max {train['max_ms']:.1f} ({train['runs']} runs)", flush=True)

    listed = [r for r in rec.day_papers(store, day) if r["rowid"] not in set(model.positives.tolist())]
    candidates = [r["rowid"] for r in listed]
    started = time.perf_counter()
    rec.rank(radar, model, candidates, limit=50, rows=listed)
    first_rank_ms = (time.perf_counter() - started) * 1000
    print(f"first ranking of the day ({len(candidates)} candidates: term rows and vectors made and kept): "
          f"{first_rank_ms:.0f} ms", flush=True)

    results = {}
    for name, limit, explain in (("top 50 with why", 50, None), ("every candidate, scores only", None, 0)):
        ms = []
        for _ in range(args.rank_runs):
            started = time.perf_counter()
            rec.rank(radar, model, candidates, limit=limit, explain=explain, rows=listed)
            ms.append((time.perf_counter() - started) * 1000)
        results[name] = percentiles(ms)
        r = results[name]
        print(f"rank {len(candidates)} candidates, {name}: p50 {r['p50_ms']:.1f} ms, p90 {r['p90_ms']:.1f}, "
              f"p99 {r['p99_ms']:.1f}, max {r['max_ms']:.1f} ({r['runs']} runs)", flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    path = save("recommend", {"db": str(args.db), "papers": papers, "day": day, "candidates": len(candidates),
                              "positives": args.positives, "category": args.category,
                              "first_model_ms": round(first_ms, 1), "train": train,
                              "first_rank_ms": round(first_rank_ms, 1), "rank": results, "loadavg_after": load})
    print(f"results: {path.relative_to(ROOT)}")
    radar.close()
    conn.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
