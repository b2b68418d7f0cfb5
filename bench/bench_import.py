"""Import benchmark: the real arXiv file into a fresh database, through the real CLI.

Runs ``python -m paperradar --db DB import FILE --json --no-progress --no-embed``
in a child process (store + keyword index: the papers are searchable when it
ends; embedding them is bench_embed.py's measurement), measures wall time end
to end (process start to exit), the child's CPU time and its peak resident
memory (psutil polled every 50 ms, and the kernel's exact high-water mark
from getrusage(RUSAGE_CHILDREN)), then prints
papers/s and writes the numbers to bench/results/import-*.json.

    python bench/bench_import.py [--data FILE] [--keep-db PATH] [--repeat N] [--phases]
                                 [--compare sqlite-utils]

--keep-db leaves the database at PATH (for bench/bench_search.py) instead
of in a temporary directory that is removed afterwards. --repeat runs the
import N times (the machine's speed varies from run to run) and reports the
median and the fastest. --phases then times the three stages one after the
other in this process, CPU seconds each (all threads): parsing, merging into
a fresh store, keyword indexing, to show where the CPU time goes, and
two what-ifs: indexing without the unstemmed field behind exact prefixes,
and without stemming. The import's CPU time over the machine's cores is the
floor no overlap of the stages can beat; it is printed with every run.

--compare sqlite-utils measures the plain tool on the same file in the same
run, in pairs that alternate with paperradar's runs (so both see the same
machine): ``gzip -dc FILE | sqlite-utils insert DB papers - --nl`` (only
when FILE is gzipped: sqlite-utils reads plain JSON) then ``sqlite-utils
enable-fts DB papers title abstract --fts5``, one child shell for both
commands: wall time, CPU seconds of every process and peak RSS of the whole
process tree, and paperradar's ratio to it. The plain tool keeps one row per
record, as it came: no merging of versions or sources, no stemming, no exact
prefixes, no provenance.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared/data/arxiv/arxiv-2025-2026.jsonl.gz"
RESULTS = ROOT / "bench/results"
POLL_S = 0.05


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of a process and its children (0 once it is gone)."""
    total = 0
    try:
        total += proc.memory_info().rss
        for child in proc.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def remove_db(db: Path) -> None:
    """Remove a database, its journal files and its keyword index (which lives beside it)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{db}.index", ignore_errors=True)


def run_child(cmd: list[str]) -> dict:
    """Run ``cmd``; wall time, CPU seconds of it and its children, peak RSS (polled tree, getrusage)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc = psutil.Process(child.pid)
    peak = samples = 0
    # Read the pipes in the background so a chatty child never blocks on a full pipe.
    out: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda: out.__setitem__("stdout", child.stdout.read())),  # type: ignore[union-attr]
        threading.Thread(target=lambda: out.__setitem__("stderr", child.stderr.read())),  # type: ignore[union-attr]
    ]
    for r in readers:
        r.start()
    while child.poll() is None:
        peak = max(peak, tree_rss(proc))
        samples += 1
        time.sleep(POLL_S)
    wall = time.perf_counter() - started
    for r in readers:
        r.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "exit_code": child.returncode,
        "wall_s": round(wall, 3),
        "peak_rss_bytes_polled": peak,
        "rss_samples": samples,
        # Linux: KiB; the largest single process (of a pipeline: its biggest member), from the kernel
        "peak_rss_bytes_getrusage": usage.ru_maxrss * 1024,
        "child_cpu_s": round(usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime, 2),
        "stdout": out.get("stdout", b""),
        "stderr_tail": out.get("stderr", b"").decode(errors="replace")[-1000:],
    }


def run_import(data: Path, db: Path) -> dict:
    """Import ``data`` into ``db`` (which must not exist) in a child process; return measurements."""
    remove_db(db)
    cmd = [sys.executable, "-m", "paperradar", "--db", str(db), "import", str(data), "--json", "--no-progress", "--no-embed"]
    run = run_child(cmd)
    if run["exit_code"] not in (0, 1):  # 1: some records rejected, still a finished import
        sys.stderr.write(run["stderr_tail"])
        raise SystemExit(f"import failed with exit code {run['exit_code']}")
    summary = json.loads(run.pop("stdout"))
    records = sum(i.get("records", 0) for i in summary.get("inputs", []))
    papers = summary["new"] + summary["updated"] + summary["unchanged"]
    db_bytes = sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists())
    index_bytes = sum(f.stat().st_size for f in Path(f"{db}.index").rglob("*") if f.is_file())
    return {
        "data": str(data),
        "data_bytes": data.stat().st_size,
        **run,
        "importer_reported_s": summary.get("seconds"),
        "records": records,
        "papers": papers,
        "new": summary["new"],
        "rejected": summary.get("rejected"),
        "incomplete": summary.get("incomplete"),
        "records_per_s": round(records / run["wall_s"], 1) if run["wall_s"] else None,
        "papers_per_s": round(papers / run["wall_s"], 1) if run["wall_s"] else None,
        "db_bytes": db_bytes,
        "index_bytes": index_bytes,
    }


def run_sqlite_utils(data: Path, db: Path) -> dict:
    """The plain tool on the same file: insert every line as a row, then an FTS5 index of title and abstract."""
    remove_db(db)
    tool = shutil.which("sqlite-utils", path=str(Path(sys.executable).parent)) or shutil.which("sqlite-utils")
    if tool is None:
        raise SystemExit("--compare sqlite-utils: sqlite-utils is not installed (pip install -e '.[dev]')")
    source = f"gzip -dc {shlex.quote(str(data))}" if data.suffix == ".gz" else f"cat {shlex.quote(str(data))}"
    t, d = shlex.quote(tool), shlex.quote(str(db))
    script = (f"set -o pipefail; {source} | {t} insert {d} papers - --nl"
              f" && {t} enable-fts {d} papers title abstract --fts5")
    run = run_child(["bash", "-c", script])
    if run["exit_code"] != 0:
        sys.stderr.write(run["stderr_tail"])
        raise SystemExit(f"sqlite-utils failed with exit code {run['exit_code']}")
    run.pop("stdout")
    run["db_bytes"] = sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists())
    run["command"] = script
    return run


def save(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result = {
        "benchmark": name,
        "when": stamp,
        "python": platform.python_version(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        **result,
    }
    path = RESULTS / f"{name}-{stamp}.json"
    text = json.dumps(result, indent=2)
    path.write_text(text + "\n", encoding="utf-8")
    (RESULTS / f"{name}-latest.json").write_text(text + "\n", encoding="utf-8")
    return path


def phases(data: Path, tmp: Path) -> dict:
    """CPU seconds of parsing, storing and keyword indexing ``data``, one stage at a time."""
    sys.path.insert(0, str(ROOT))
    from paperradar.index import keyword
    from paperradar.index.keyword import KeywordIndex
    from paperradar.model import Paper
    from paperradar.sources import parser_for
    from paperradar.sources.detect import HEAD_BYTES, detect
    from paperradar.sources.inputs import expand
    from paperradar.store import SQLiteStore

    def clock() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    out: dict[str, dict[str, float]] = {}
    (item,) = expand([str(data)])
    wall, cpu = clock()
    with item.open(lambda n: None) as stream:
        fmt = detect(stream.peek(HEAD_BYTES)[:HEAD_BYTES])
        papers = [rec for _, rec in parser_for(fmt)(stream, item.name) if isinstance(rec, Paper)]
    out["parse"] = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    store = SQLiteStore(tmp / "phases.db")
    wall, cpu = clock()
    results = [store.merge(papers[i : i + 5000], item.name) for i in range(0, len(papers), 5000)]
    out["store"] = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    rows = [row for r in results for row in r.rows]
    out["index"] = _index_stage(KeywordIndex(tmp / "index"), rows)
    # What-ifs, to show what the index's features cost (not what the import does):
    # the same rows without the unstemmed field behind exact prefixes, and without stemming.
    plain_document = keyword._document
    keyword._document = functools.partial(plain_document, prefix_field=False)
    out["index, no prefix field (what-if)"] = _index_stage(KeywordIndex(tmp / "index-no-words"), rows)
    keyword._document = plain_document
    stemmed, keyword._STEMMED = keyword._STEMMED, keyword._PLAIN
    out["index, no stemming (what-if)"] = _index_stage(KeywordIndex(tmp / "index-no-stem"), rows)
    keyword._STEMMED = stemmed
    store.close()
    return {k: {m: round(v, 2) for m, v in d.items()} for k, d in out.items()}


def _index_stage(index: Any, rows: list[dict]) -> dict[str, float]:
    index.writer()
    wall, cpu = time.perf_counter(), time.process_time()
    index.add(rows, replace=False)
    index.commit()
    index.close()
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="file to import (default: %(default)s)")
    ap.add_argument("--keep-db", type=Path, metavar="PATH", help="build the database here and keep it")
    ap.add_argument("--repeat", type=int, default=1, metavar="N", help="import N times; report median and fastest")
    ap.add_argument("--phases", action="store_true", help="also time parse, store and index one after the other")
    ap.add_argument("--compare", choices=["sqlite-utils"], help="also run the plain tool on the same file, each "
                    "paperradar run paired with one of it (order alternating); report both and the ratio")
    args = ap.parse_args()
    data = args.data.resolve()
    if not data.exists():
        raise SystemExit(f"no such file: {data}")
    with tempfile.TemporaryDirectory(prefix="paperradar-bench-") as tmp:
        db = args.keep_db.resolve() if args.keep_db else Path(tmp) / "bench.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        print(f"importing {data.name} ({mib(data.stat().st_size)}) into {db} ...", flush=True)
        runs, plain = [], []
        for i in range(max(1, args.repeat)):
            pair = [lambda: runs.append(run_import(data, db))]
            if args.compare:  # sqlite-utils first in every other pair, so neither always runs on a warmer machine
                pair.insert(i % 2, lambda: plain.append(run_sqlite_utils(data, Path(tmp) / "sqlite-utils.db")))
            for step in pair:
                step()
            if args.repeat > 1 or args.compare:
                print(f"run {i + 1}: {runs[-1]['wall_s']:.1f} s, child CPU {runs[-1]['child_cpu_s']:.1f} s"
                      + (f"; sqlite-utils {plain[-1]['wall_s']:.1f} s, CPU {plain[-1]['child_cpu_s']:.1f} s, "
                         f"ratio {runs[-1]['wall_s'] / plain[-1]['wall_s']:.2f}x" if plain else ""), flush=True)
        walls = sorted(x["wall_s"] for x in runs)
        r = sorted(runs, key=lambda x: x["wall_s"])[len(runs) // 2]  # the median run
        split = phases(data, Path(tmp)) if args.phases else None
        compared = compare(runs, plain) if plain else None
        extra = {"runs_wall_s": [x["wall_s"] for x in runs], "phases": split, "compare": compared}
        path = save("import", {**r, **extra, "db": str(db) if args.keep_db else None})
    kept = ", ".join(f"{k} {v:,}" for k, v in (r["incomplete"] or {}).items()) or "none"
    print(
        f"records read:     {r['records']:,}  ({r['new']:,} new papers, {r['papers'] - r['new']:,} merged into one "
        f"already read, {r['rejected']} rejected; kept incomplete: {kept})"
    )
    print(f"wall time:        {r['wall_s']:.1f} s end to end  (importer's own clock: {r['importer_reported_s']} s)")
    print(f"throughput:       {r['papers_per_s']:,.0f} papers/s  ({r['records_per_s']:,.0f} records/s)")
    print(f"child CPU time:   {r['child_cpu_s']:.1f} s")
    print(
        f"peak RSS (child): {mib(r['peak_rss_bytes_getrusage'])} getrusage, "
        f"{mib(r['peak_rss_bytes_polled'])} polled every {int(POLL_S * 1000)} ms"
    )
    print(
        f"on disk:          {mib(r['db_bytes'])} database + {mib(r['index_bytes'])} keyword index"
        + (f"  (kept at {args.keep_db})" if args.keep_db else "")
    )
    if len(runs) > 1:
        print(f"runs:             {len(runs)}: median {r['wall_s']:.1f} s (shown above), fastest {walls[0]:.1f} s, "
              f"slowest {walls[-1]:.1f} s")
    cores = os.cpu_count() or 1
    print(f"CPU floor:        {r['child_cpu_s']:.1f} CPU-s on {cores} cores: no schedule beats "
          f"{r['child_cpu_s'] / cores:.1f} s for this run")
    if split:
        stages = {k: v for k, v in split.items() if "what-if" not in k}
        total = sum(p["cpu_s"] for p in stages.values())
        print("stages alone:     " + ", ".join(
            f"{k} {v['cpu_s']:.1f} CPU-s ({100 * v['cpu_s'] / total:.0f}%)" for k, v in stages.items()))
        for k, v in split.items():
            if k not in stages:
                print(f"                  {k}: {v['cpu_s']:.1f} CPU-s ({v['cpu_s'] - stages['index']['cpu_s']:+.1f})")
    if compared:
        print_compare(compared)
    print(f"results:          {path.relative_to(ROOT)}")


def compare(runs: list[dict], plain: list[dict]) -> dict:
    """Medians of both tools over the pairs, and paperradar's ratios to the plain tool."""
    def med(rows: list[dict], key: str) -> float:
        return statistics.median(x[key] for x in rows)

    sides = {}
    for name, rows in (("paperradar", runs), ("sqlite-utils", plain)):
        sides[name] = {k: med(rows, k) for k in ("wall_s", "child_cpu_s", "peak_rss_bytes_polled")}
        sides[name]["disk_bytes"] = statistics.median(x["db_bytes"] + x.get("index_bytes", 0) for x in rows)
        sides[name]["runs_wall_s"] = [x["wall_s"] for x in rows]
    ratios = [a["wall_s"] / b["wall_s"] for a, b in zip(runs, plain)]
    return {
        **sides,
        "command": plain[0]["command"],
        "pair_wall_ratios": [round(x, 3) for x in ratios],
        "wall_ratio_median": round(statistics.median(ratios), 3),
        "cpu_ratio": round(sides["paperradar"]["child_cpu_s"] / sides["sqlite-utils"]["child_cpu_s"], 3),
    }


def print_compare(c: dict) -> None:
    print(f"compared with:    {c['command']}")
    for name in ("paperradar", "sqlite-utils"):
        x = c[name]
        print(f"  {name + ':':14s}  median {x['wall_s']:.1f} s wall, {x['child_cpu_s']:.1f} CPU-s, peak RSS "
              f"{mib(x['peak_rss_bytes_polled'])}, {mib(x['disk_bytes'])} on disk (runs: "
              + ", ".join(f"{w:.1f}" for w in x["runs_wall_s"]) + " s)")
    print(f"  ratio:          wall {c['wall_ratio_median']:.2f}x (median of the pairs: "
          + ", ".join(f"{r:.2f}" for r in c["pair_wall_ratios"]) + f"), CPU {c['cpu_ratio']:.2f}x")


if __name__ == "__main__":
    main()
