"""Import benchmark: the real arXiv file into a fresh database, through the real CLI.

Runs ``python -m paperradar --db DB import FILE --json --no-progress`` in a
child process, measures wall time end to end (process start to exit) and
the child's peak resident memory (psutil polled every 50 ms, and the
kernel's exact high-water mark from getrusage(RUSAGE_CHILDREN)), then prints
papers/s and writes the numbers to bench/results/import-*.json.

    python bench/bench_import.py [--data FILE] [--keep-db PATH]

--keep-db leaves the database at PATH (for bench/bench_search.py) instead
of in a temporary directory that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

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


def run_import(data: Path, db: Path) -> dict:
    """Import ``data`` into ``db`` (which must not exist) in a child process; return measurements."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{db}.index", ignore_errors=True)  # the keyword index lives beside the database
    cmd = [sys.executable, "-m", "paperradar", "--db", str(db), "import", str(data), "--json", "--no-progress"]
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
    if child.returncode not in (0, 1):  # 1: some records rejected, still a finished import
        sys.stderr.write(out.get("stderr", b"").decode(errors="replace")[-3000:])
        raise SystemExit(f"import failed with exit code {child.returncode}")
    summary = json.loads(out["stdout"])
    records = sum(i.get("records", 0) for i in summary.get("inputs", []))
    papers = summary["new"] + summary["updated"] + summary["unchanged"]
    db_bytes = sum(Path(f"{db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{db}{s}").exists())
    index_bytes = sum(f.stat().st_size for f in Path(f"{db}.index").rglob("*") if f.is_file())
    return {
        "data": str(data),
        "data_bytes": data.stat().st_size,
        "exit_code": child.returncode,
        "wall_s": round(wall, 3),
        "importer_reported_s": summary.get("seconds"),
        "records": records,
        "papers": papers,
        "new": summary["new"],
        "rejected": summary.get("rejected"),
        "incomplete": summary.get("incomplete"),
        "records_per_s": round(records / wall, 1) if wall else None,
        "papers_per_s": round(papers / wall, 1) if wall else None,
        "peak_rss_bytes_polled": peak,
        "rss_samples": samples,
        "peak_rss_bytes_getrusage": usage.ru_maxrss * 1024,  # Linux: KiB
        "child_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "db_bytes": db_bytes,
        "index_bytes": index_bytes,
        "stderr_tail": out.get("stderr", b"").decode(errors="replace")[-1000:],
    }


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


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="file to import (default: %(default)s)")
    ap.add_argument("--keep-db", type=Path, metavar="PATH", help="build the database here and keep it")
    args = ap.parse_args()
    data = args.data.resolve()
    if not data.exists():
        raise SystemExit(f"no such file: {data}")
    with tempfile.TemporaryDirectory(prefix="paperradar-bench-") as tmp:
        db = args.keep_db.resolve() if args.keep_db else Path(tmp) / "bench.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        print(f"importing {data.name} ({mib(data.stat().st_size)}) into {db} ...", flush=True)
        r = run_import(data, db)
        path = save("import", {**r, "db": str(db) if args.keep_db else None})
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
    print(f"results:          {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
