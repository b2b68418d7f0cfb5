"""Hybrid and semantic query latency (query embedding included) at 115k and at 1M papers, and peak RSS.

Measure an embedded database (``bench/bench_embed.py --out`` makes one):

    python bench/bench_semantic.py --db /tmp/benchdb/semantic.db

Grow it to a million papers first, then measure that (``--scale``):

    python bench/bench_semantic.py --db /tmp/benchdb/semantic.db --scale 1000000 --work /tmp/bench1m

The million is the real 115k papers plus generated near-duplicates: each
copy of a real paper gets a new id, the same text (so keyword search has a
real vocabulary and real posting lists, 9 times longer), and the real vector
plus Gaussian noise, renormalised (cosine about 0.85 to the original, so the
copies do not collapse onto their originals in the graph). The copies go
through the real store, keyword index and vector index code.

Latency: each query of bench/queries.txt (380 short queries), run through
``paperradar.rank.search.search`` (embedding the query, keyword and vector
search, fusion, snippets, rows) in a child process that opens the
database cold, after one untimed pass; three timed passes; p50/p90/p99.
Also semantic-only, hybrid with each kind of filter (a category, a date
range, an author: a prolific one and a common surname, which 17% of the
papers pass), and ANN recall@10 against exact search. Memory, after the
searches (before the checks below, which read every vector): the peak RSS
(the child's high-water mark), and now: RSS split into anonymous memory
(the process's own) and file pages (mapped index files: the vector graph,
the int8 rows, tantivy's segments: cache the kernel can drop), USS
(psutil: pages no other process maps; it counts mapped file pages that only
this process maps), and the file pages of each mapped index file. Then the
filters' exactness: for a sample of queries, the vector half of each
filtered mode against brute force over every paper that passes.
Results go to bench/results/semantic-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from bench_import import ROOT, save
from bench_search import load_queries, percentile

QUERIES = ROOT / "bench/queries.txt"
TARGET_P50_MS, TARGET_P99_MS, TARGET_RSS_MIB = 10.0, 30.0, 1536.0
TARGET_FILTERED_P99_MS, TARGET_SEMANTIC_P99_MS, TARGET_USS_MIB = 100.0, 10.0, 1024.0
# Filtered modes: (name, filters); the filters' exactness check runs over these.
FILTERED = [
    ("hybrid cs.CL", {"category": "cs.CL"}),
    ("hybrid since 2026-06-01", {"since": "2026-06-01"}),
    ("hybrid 2025-10-01..2025-12-31", {"since": "2025-10-01", "until": "2025-12-31"}),
    ("hybrid author Yang Liu", {"author": "Yang Liu"}),
    ("hybrid author Wang", {"author": "Wang"}),
]
NOISE_COSINE = 0.85


def memory() -> dict:
    """The child's memory now (MiB): RSS split into anonymous and file pages, USS, and the file
    pages of each mapped file of the database's indexes (the rest of the mapped files together)."""
    import psutil

    proc = psutil.Process()
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    kib = {key: int(status[key].split()[0]) for key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")}
    files: dict[str, float] = {}
    for m in proc.memory_maps(grouped=True):
        if not m.path.startswith("/"):
            continue  # anonymous: the heap, stacks
        name = Path(m.path).name
        if ".so" in name:
            name = "libraries"
        elif ".index/" in m.path:
            name = m.path.split(".index/", 1)[1]
            name = name.split("/", 1)[0] + " segments" if name.startswith("keyword") else name
        files[name] = files.get(name, 0.0) + m.rss / 2**20
    return {"rss": round(kib["VmRSS"] / 1024, 1), "peak_rss": round(kib["VmHWM"] / 1024, 1),
            "anonymous": round(kib["RssAnon"] / 1024, 1), "file_pages": round(kib["RssFile"] / 1024, 1),
            "uss": round(proc.memory_full_info().uss / 2**20, 1),
            "file_pages_by_file": {k: round(v, 1) for k, v in sorted(files.items(), key=lambda kv: -kv[1])}}


def filters_exact(radar, store, queries: list[str], sample: int) -> dict:
    """For each filtered mode: of ``sample`` queries, how many got the vector half's exact top 30
    (brute force over the float16 vectors of every paper that passes)."""
    from paperradar.index.embed import current_model
    from paperradar.rank.semantic import nearest, query_vector
    from paperradar.store import Filters

    qv = np.stack([query_vector(radar, q) for q in queries[:sample]])
    out = {}
    for name, spec in FILTERED:
        filters = Filters(**spec)
        passing, total = radar.keyword.filtered(filters, 10**9)
        best = [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))] * len(qv)
        ids = np.sort(np.array(passing, dtype=np.int64))
        for i in range(0, len(ids), 50_000):
            keys, vecs = store.get_vectors(current_model(), ids[i : i + 50_000].tolist())
            scores = qv @ vecs.astype(np.float32).T
            for j in range(len(qv)):
                k, sc = np.concatenate([best[j][0], keys]), np.concatenate([best[j][1], scores[j]])
                top = np.argsort(-sc, kind="stable")[:30]
                best[j] = (k[top], sc[top])
        same = sum([r for r, _ in nearest(radar, qv[j], 30, filters)] == best[j][0].tolist() for j in range(len(qv)))
        out[name] = {"passing": total, "exact": f"{same}/{len(qv)}"}
    return out


def _filtered_run(radar, filters):  # the child's objects (imported there)
    """A query's hybrid search with ``filters``, 10 results."""
    from paperradar.rank.search import search

    return lambda q: search(radar, q, "hybrid", filters, limit=10)


def measure(db: str, passes: int, recall_sample: int, modes: list[str] | None = None, exact_sample: int = 0) -> dict:
    """Run in the child: latencies of each mode over the query file, recall, peak RSS."""
    from paperradar.app import Radar
    from paperradar.index.embed import current_model
    from paperradar.rank.search import search
    from paperradar.rank.semantic import query_vector
    from paperradar.store import Filters, SQLiteStore

    store = SQLiteStore(db)
    radar = Radar(store)
    queries = load_queries(QUERIES)
    runs = {
        "hybrid": lambda q: search(radar, q, "hybrid", None, limit=10),
        "semantic": lambda q: search(radar, q, "semantic", None, limit=10),
    } | {name: _filtered_run(radar, Filters(**spec)) for name, spec in FILTERED}
    out: dict = {"papers": store.count(), "vectors": len(radar.vectors), "modes": {}}
    for name, run in runs.items():
        if modes and name not in modes:
            continue
        for q in queries:  # untimed pass: page cache, first-use allocations
            run(q)
        timed: list[tuple[float, str]] = []
        for _ in range(passes):
            for q in queries:
                start = time.perf_counter()
                run(q)
                timed.append(((time.perf_counter() - start) * 1000, q))
        times = sorted(t for t, _ in timed)
        out["modes"][name] = {f"p{p}": round(percentile(times, p), 2) for p in (50, 90, 99)} | {
            "max": round(max(times), 2), "slowest": [[round(t, 1), q] for t, q in sorted(timed)[-10:][::-1]]}
    # The searches' peak, before the recall check below reads every vector (that is the benchmark's work).
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["memory_mib"] = memory()
    if exact_sample:
        out["filters_exact"] = filters_exact(radar, store, queries, exact_sample)
    # Recall@10 of the vector index against exact search over every stored vector (sample of queries).
    index = radar.vectors
    sample = queries[:recall_sample]
    qv = np.stack([query_vector(radar, q) for q in sample])
    best = [np.full(10, -2.0, dtype=np.float32) for _ in sample]
    best_ids = [np.zeros(10, dtype=np.int64) for _ in sample]
    for keys, vecs in store.all_vectors(current_model(), batch=50_000):
        scores = qv @ vecs.T
        for i in range(len(sample)):
            s = np.concatenate([best[i], scores[i]])
            k = np.concatenate([best_ids[i], keys])
            top = np.argsort(-s)[:10]
            best[i], best_ids[i] = s[top], k[top]
    recalls = [len({r for r, _ in index.search(qv[i], 10)} & set(best_ids[i].tolist())) / 10 for i in range(len(sample))]
    out["recall_at_10"] = round(float(np.mean(recalls)), 4)
    return out


def grow(source: str, work: Path, scale: int) -> str:
    """A copy of ``source`` grown to ``scale`` papers with near-duplicates (see the module doc)."""
    from paperradar.app import Radar
    from paperradar.index.embed import current_model
    from paperradar.store import SQLiteStore

    work.mkdir(parents=True, exist_ok=True)
    db = work / "scaled.db"
    for path in work.glob("scaled.db*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copy(source, db)
    shutil.copytree(f"{source}.index", f"{db}.index", ignore=shutil.ignore_patterns("vectors-*"))
    store = SQLiteStore(db)
    base = store.count()
    top = int(store.conn.execute("SELECT MAX(rowid) FROM papers").fetchone()[0])
    copies = -(-scale // base) - 1
    rng = np.random.default_rng(7)
    sigma = float(np.sqrt((1 / NOISE_COSINE**2 - 1) / 384))
    model = current_model()
    started = time.perf_counter()
    for k in range(1, copies + 1):
        wanted = min(base, scale - base * k)
        if wanted <= 0:
            break
        offset = k * top
        seq = store.max_seq() + 1
        with store.write() as conn:
            conn.execute(
                "INSERT INTO papers (rowid, id, title, abstract, authors, categories, published, updated, version,"
                " comment, journal_ref, doi, links, extra, upvotes, title_key, field_dates, created_at, changed_at, seq)"
                " SELECT rowid + ?, id || '-dup' || ?, title, abstract, authors, categories, published, updated,"
                " version, comment, journal_ref, NULL, links, extra, 0, title_key || ?, field_dates, created_at,"
                " changed_at, ? FROM papers WHERE rowid <= ? ORDER BY rowid LIMIT ?",
                (offset, k, str(k), seq, top, wanted),
            )
            conn.execute(
                "INSERT INTO paper_categories (category, paper, is_primary) SELECT category, paper + ?, is_primary"
                " FROM paper_categories WHERE paper <= ? AND paper + ? IN (SELECT rowid FROM papers WHERE rowid > ?)",
                (offset, top, offset, offset),
            )
        for keys, vecs in store.all_vectors(model, batch=20_000):
            keys = keys[keys <= top]
            if not len(keys):
                break
            noisy = vecs[: len(keys)] + rng.normal(0, sigma, size=(len(keys), vecs.shape[1])).astype(np.float32)
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            new_keys = keys + offset
            store.save_vectors(model, new_keys.tolist(), ["dup"] * len(keys), noisy)  # rows past `wanted` are skipped
        print(f"copy {k}/{copies}: {store.count():,} papers ({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    print("keyword index ...", file=sys.stderr)
    radar = Radar(store)
    t = time.perf_counter()
    radar.refresh()  # the keyword index catches up with the copies
    kw_s = time.perf_counter() - t
    print(f"keyword index: {kw_s:.0f}s; vector index ...", file=sys.stderr)
    t = time.perf_counter()
    radar.vectors.update()
    ann_s = time.perf_counter() - t
    print(f"vector index: {ann_s:.0f}s", file=sys.stderr)
    store.close()
    (work / "build.json").write_text(json.dumps({"papers": scale, "keyword_index_s": round(kw_s, 1),
                                                 "vector_index_s": round(ann_s, 1)}))
    return str(db)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="an embedded database (bench/bench_embed.py --out)")
    ap.add_argument("--scale", type=int, help="grow a copy to this many papers first (near-duplicates)")
    ap.add_argument("--work", default="/tmp/bench-semantic", help="where the grown copy goes (with --scale)")
    ap.add_argument("--reuse", action="store_true", help="with --scale: measure the copy already in --work")
    ap.add_argument("--passes", type=int, default=3, help="timed passes over the queries (default 3)")
    ap.add_argument("--recall-sample", type=int, default=100, help="queries for recall@10 (default 100)")
    ap.add_argument("--modes", nargs="+", metavar="MODE", help="measure only these (names as printed, e.g. hybrid)")
    ap.add_argument("--exact-sample", type=int, default=20,
                    help="queries whose filtered vector half is checked against brute force (default 20; 0: none)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.db, args.passes, args.recall_sample, args.modes, args.exact_sample)))
        return 0
    db, build = args.db, None
    if args.scale:
        work = Path(args.work)
        db = str(work / "scaled.db") if args.reuse else grow(args.db, work, args.scale)
        build = json.loads((work / "build.json").read_text())
    load = os.getloadavg()[0]
    child = [sys.executable, __file__, "--child", "--db", db, "--passes", str(args.passes),
             "--recall-sample", str(args.recall_sample), "--exact-sample", str(args.exact_sample)
             ] + (["--modes", *args.modes] if args.modes else [])
    proc = subprocess.run(child, capture_output=True, cwd=ROOT / "bench")
    if proc.returncode != 0:
        print(proc.stderr.decode()[-3000:], file=sys.stderr)
        return 1
    result = json.loads(proc.stdout) | {"loadavg_1m_before": load, "build": build,
                                        "targets": {"p50_ms": TARGET_P50_MS, "p99_ms": TARGET_P99_MS,
                                                    "filtered_p99_ms": TARGET_FILTERED_P99_MS,
                                                    "semantic_p99_ms": TARGET_SEMANTIC_P99_MS,
                                                    "peak_rss_mib": TARGET_RSS_MIB, "uss_mib": TARGET_USS_MIB}}
    path = save("semantic", result)
    print(f"{result['papers']:,} papers, {result['vectors']:,} vectors; load average before: {load:.2f}")
    for name, m in result["modes"].items():
        print(f"  {name:26s} p50 {m['p50']:6.2f} ms  p90 {m['p90']:6.2f}  p99 {m['p99']:6.2f}  max {m['max']:7.2f}")
        print(f"  {'':26s} slowest: " + "; ".join(f"{q[:40]} {t:.0f}" for t, q in m["slowest"][:4]))
    print(f"  ANN recall@10 vs exact: {result['recall_at_10']}")
    print(f"  peak RSS of the query process (searches): {result['peak_rss_mib']:.0f} MiB")
    mem = result["memory_mib"]
    print(f"  after the searches: RSS {mem['rss']:.0f} MiB = anonymous {mem['anonymous']:.0f} + file pages"
          f" {mem['file_pages']:.0f} (+ shared memory); USS {mem['uss']:.0f} MiB")
    print("  file pages by mapped file: " + "; ".join(f"{k} {v:.0f}" for k, v in list(mem["file_pages_by_file"].items())[:6]))
    for name, check in result.get("filters_exact", {}).items():
        print(f"  {name:26s} {check['passing']:,} pass; vector half = brute force top 30 for {check['exact']} queries")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
