"""Build the semantic index of the 115k arXiv file: embedding throughput and total time.

Starts from a database that holds the papers but no vectors (by default a
copy of the one ``bench/bench_import.py --keep-db`` leaves), runs
``python -m paperradar embed --json`` in a child process (the default
configuration: all-MiniLM-L6-v2 in ONNX Runtime, int8, 96 tokens, one worker
per core, then the HNSW index), and reports wall time, papers/s, the
child's peak RSS, the load average before the run and how much CPU other
processes took meanwhile (the machine has 2 cores; anything else running
slows the embedding in proportion). Writes bench/results/embed-*.json.

    python bench/bench_embed.py --db /tmp/benchdb/bench.db --out /tmp/benchdb/semantic.db

``--out`` keeps the embedded database (bench/bench_semantic.py reads it).
The embedding runs in two passes (see paperradar/index/embed.py): document
vectors and the vector index (what the 15-minute target is about), then the
sentence vectors of similar papers; both are timed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_import import ROOT, save
from eval_encoder import busy_seconds

TARGET_S = 15 * 60


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="a database with the papers imported (not modified)")
    ap.add_argument("--out", help="keep the embedded copy here (default: a temporary directory)")
    ap.add_argument("--limit", type=int, help="embed only this many papers (a quick run)")
    args = ap.parse_args()
    tmp = None
    out = Path(args.out) if args.out else Path(tmp := tempfile.mkdtemp(prefix="bench-embed-")) / "semantic.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{out}{suffix}").exists():
            Path(f"{out}{suffix}").unlink()
    shutil.rmtree(f"{out}.index", ignore_errors=True)
    shutil.copy(args.db, out)
    if Path(f"{args.db}.index").exists():
        shutil.copytree(f"{args.db}.index", f"{out}.index", ignore=shutil.ignore_patterns("vectors-*"))
    cmd = [sys.executable, "-m", "paperradar", "--db", str(out), "embed", "--json", "--no-progress"]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    load = os.getloadavg()[0]
    busy, start = busy_seconds(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stderr.decode(), file=sys.stderr)
        return 1
    child = os.times()
    child_cpu = child.children_user + child.children_system
    others = max(0.0, busy_seconds() - busy - child_cpu)
    report = json.loads(proc.stdout)
    result = {
        "db": str(args.db),
        "papers": report["embedded"],
        "wall_s": round(wall, 1),
        "papers_per_s": round(report["embedded"] / report["seconds"], 1) if report["seconds"] else None,
        "pass1_s": report["seconds"],
        "pass2_sentences_s": report.get("sentence_seconds"),
        "embed_report": report,
        "child_cpu_s": round(child_cpu, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),  # Linux: KiB
        "loadavg_1m_before": load,
        "other_processes_cores": round(others / wall, 2),
        "target_s": TARGET_S,
    }
    path = save("embed", result)
    print(json.dumps(result, indent=2))
    first, second = report["seconds"], report.get("sentence_seconds", 0.0)
    print(f"\n{report['embedded']} papers embedded and indexed in {first / 60:.1f} min (pass 1: document vectors and"
          f" the vector index; target {TARGET_S / 60:.0f} min), then sentence vectors of {report.get('sentences', 0)}"
          f" papers in {second / 60:.1f} min (pass 2); whole run {wall / 60:.1f} min;"
          f" other processes used {result['other_processes_cores']} cores meanwhile")
    print(f"results: {path}")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
