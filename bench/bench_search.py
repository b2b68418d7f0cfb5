"""Keyword search latency over a fixed list of realistic queries (bench/queries.txt).

Every query goes through ``paperradar.rank.search.keyword_search(radar, q,
limit=10)`` in this process: one warm-up pass, then three timed passes.
Prints p50/p90/p99/max latency, the ten slowest queries and the process's
peak RSS, and writes everything to bench/results/search-*.json.

    python bench/bench_search.py [--db PATH] [--filters]

Without --db, a database is first built from the real arXiv file by
bench/bench_import.py --keep-db in a temporary directory. --filters repeats
the run with a category filter and with a since-date filter.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_import import ROOT, mib, save

from paperradar.app import Radar
from paperradar.rank.search import keyword_search
from paperradar.store import Filters
from paperradar.store import open_store

QUERIES = ROOT / "bench/queries.txt"


def load_queries(path: Path) -> list[str]:
    return [line.rstrip("\n") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def run_mode(radar, queries: list[str], filters: Filters, passes: int, limit: int) -> dict:  # type: ignore[no-untyped-def]
    hits: dict[str, int] = {}
    for q in queries:  # warm-up: page cache, SQLite cache, Python code paths
        hits[q] = len(keyword_search(radar, q, filters, limit=limit))
    per_query: dict[str, list[float]] = {q: [] for q in queries}
    started = time.perf_counter()
    for _ in range(passes):
        for q in queries:
            t0 = time.perf_counter()
            keyword_search(radar, q, filters, limit=limit)
            per_query[q].append((time.perf_counter() - t0) * 1000)
    total_s = time.perf_counter() - started
    all_ms = sorted(t for ts in per_query.values() for t in ts)
    medians = {q: statistics.median(ts) for q, ts in per_query.items()}
    slowest = sorted(medians.items(), key=lambda kv: kv[1], reverse=True)[:10]
    return {
        "filters": {k: v for k, v in vars(filters).items() if v},
        "queries": len(queries),
        "passes": passes,
        "limit": limit,
        "timed_calls": len(all_ms),
        "p50_ms": round(percentile(all_ms, 50), 3),
        "p90_ms": round(percentile(all_ms, 90), 3),
        "p99_ms": round(percentile(all_ms, 99), 3),
        "max_ms": round(all_ms[-1], 3),
        "mean_ms": round(statistics.fmean(all_ms), 3),
        "queries_per_s": round(len(all_ms) / total_s, 1),
        "zero_result_queries": sorted(q for q, n in hits.items() if n == 0),
        "short_result_queries": sorted(q for q, n in hits.items() if 0 < n < limit),
        "slowest": [{"query": q, "median_ms": round(ms, 3), "results": hits[q]} for q, ms in slowest],
        "median_ms_by_query": {q: round(ms, 3) for q, ms in medians.items()},
    }


def report(name: str, r: dict) -> None:
    print(f"\n== {name}: {r['queries']} queries x {r['passes']} passes, limit {r['limit']}")
    print(
        f"latency ms: p50 {r['p50_ms']:.2f}  p90 {r['p90_ms']:.2f}  p99 {r['p99_ms']:.2f}  max {r['max_ms']:.2f}"
        f"  (mean {r['mean_ms']:.2f}; {r['queries_per_s']:.0f} queries/s on one thread)"
    )
    zero = r["zero_result_queries"]
    print(f"no results: {len(zero)} queries" + (f" ({', '.join(zero[:8])}{' ...' if len(zero) > 8 else ''})" if zero else ""))
    print("10 slowest (median of the timed passes):")
    for s in r["slowest"]:
        print(f"  {s['median_ms']:9.2f} ms  {s['results']:2d} hits  {s['query']}")


def build_db(tmp: Path, data: str | None) -> Path:
    db = tmp / "bench.db"
    cmd = [sys.executable, str(ROOT / "bench/bench_import.py"), "--keep-db", str(db)]
    if data:
        cmd += ["--data", data]
    print("no --db given: building one with bench/bench_import.py", flush=True)
    subprocess.run(cmd, check=True)
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="database to search (default: build one from the real arXiv file)")
    ap.add_argument("--data", help="with no --db: the file bench_import.py imports")
    ap.add_argument("--queries", type=Path, default=QUERIES, help="one query per line (default: %(default)s)")
    ap.add_argument("--passes", type=int, default=3, help="timed passes (default 3)")
    ap.add_argument("--limit", type=int, default=10, help="results per query (default 10)")
    ap.add_argument("--filters", action="store_true", help="also run with --category and with --since filters")
    ap.add_argument("--category", default="cs.RO", help="category for --filters (default %(default)s)")
    ap.add_argument("--since", default="2026-06-01", help="date for --filters (default %(default)s)")
    args = ap.parse_args()
    queries = load_queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="paperradar-bench-") as tmp:
        db = args.db or build_db(Path(tmp), args.data)
        if not Path(db).exists():
            raise SystemExit(f"no such database: {db}")
        store = open_store(str(db))
        papers = store.count()
        print(f"database: {db} ({papers:,} papers); queries: {len(queries)} from {args.queries.name}")
        modes = {"no filter": Filters()}
        if args.filters:
            modes[f"--category {args.category}"] = Filters(category=args.category)
            modes[f"--since {args.since}"] = Filters(since=args.since)
        results = {}
        for name, filters in modes.items():
            results[name] = run_mode(Radar(store), queries, filters, args.passes, args.limit)
            report(name, results[name])
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"\npeak RSS of this process: {mib(peak)}")
    path = save("search", {"db": str(db), "papers": papers, "peak_rss_bytes": peak, "modes": results})
    print(f"results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
