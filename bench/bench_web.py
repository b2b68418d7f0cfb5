"""Web app speed: `paperradar serve` on the 115k-paper database, loaded over loopback.

Starts ``python -m paperradar --db DB serve --port 0`` in a child process,
then for each page group (the daily feed, search, paper pages, trending,
the HF-shaped JSON) measures:

* **server time**: one client, one keep-alive connection, requests in turn
  (cycling through the group's URLs, after one warm-up pass over all of
  them); the app's own time from the ``Server-Timing`` header, and the
  client's round trip; p50/p90/p99. The warm-up pass is reported too
  (``first_request_server_ms``: each URL's first visit, caches cold).
* **under load** (wrk, Debian's ``wrk`` package): ``--connections`` open
  connections for ``--duration`` seconds, the URLs cycled by a Lua script;
  requests/s and wrk's latency p50/p90/p99. Without wrk (or with
  ``--no-wrk``) this part is skipped.

The load average is read before and after (the machine has 2 cores, shared
with other work: compare runs only when it was low). Results go to
bench/results/web-*.json.

    python bench/bench_web.py --db /tmp/bench/bench.db
    python bench/bench_web.py --db DB --duration 10 --connections 4 --groups feed search

Without --db, a database is first built with bench/bench_import.py --keep-db
in a temporary directory (the 115k arXiv file; add the HF Daily Papers with
``paperradar import ../shared/data/hf-daily-papers`` for upvotes).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from bench_import import ROOT, save

QUERIES = ROOT / "bench/queries.txt"


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def summary(values: list[float]) -> dict[str, float]:
    s = sorted(values)
    return {"p50": round(percentile(s, 50), 2), "p90": round(percentile(s, 90), 2), "p99": round(percentile(s, 99), 2),
            "max": round(s[-1], 2) if s else float("nan"), "mean": round(statistics.fmean(s), 2) if s else float("nan")}


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class Server:
    def __init__(self, db: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "paperradar", "--db", str(db), "serve", "--port", "0"],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        )
        self.base = ""
        deadline = time.monotonic() + 300  # the keyword index may need a catch-up first
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            if m:
                self.base = m.group(1)
                print(line.strip(), file=sys.stderr)
                break
        if not self.base:
            self.stop()
            raise SystemExit("the server did not start")
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def sequential(base: str, paths: list[str], requests: int, warmup: int) -> dict:
    """One keep-alive connection, requests in turn: client round trip and the app's Server-Timing."""
    host = urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    client_ms: list[float] = []
    server_ms: list[float] = []
    cold_ms: list[float] = []  # the warm-up pass: each URL's first request (caches empty)
    statuses: dict[int, int] = {}
    sizes: list[int] = []
    for i in range(warmup + requests):
        path = paths[i % len(paths)]
        t0 = time.perf_counter()
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        took = (time.perf_counter() - t0) * 1000
        if i < warmup:
            m = re.search(r"dur=([\d.]+)", r.getheader("server-timing") or "")
            if m:
                cold_ms.append(float(m.group(1)))
            continue
        statuses[r.status] = statuses.get(r.status, 0) + 1
        m = re.search(r"dur=([\d.]+)", r.getheader("server-timing") or "")
        if m:
            server_ms.append(float(m.group(1)))
        client_ms.append(took)
        sizes.append(len(body))
    conn.close()
    return {"requests": requests, "statuses": statuses, "server_ms": summary(server_ms), "client_ms": summary(client_ms),
            "first_request_server_ms": summary(cold_ms),
            "mean_bytes": round(statistics.fmean(sizes)) if sizes else 0}


LUA = """
paths = {%s}
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def under_load(base: str, paths: list[str], duration: int, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths))
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "30s",
             "-s", script, base + "/"],
            capture_output=True, text=True, check=True,
        ).stdout
    finally:
        os.unlink(script)

    def ms(text: str) -> float:
        value, unit = float(re.match(r"([\d.]+)", text).group(1)), re.sub(r"[\d.]", "", text)  # type: ignore[union-attr]
        return round(value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit], 2)

    result = {"connections": connections, "threads": threads, "duration_s": duration,
              "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.MULTILINE)
        result[f"p{pct}_ms"] = ms(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(m.group(1)) if m else 0
    errors = re.search(r"Socket errors: (.*)", out)
    result["socket_errors"] = errors.group(1) if errors else None
    return result


def groups(db_day: str, paper_ids: list[str], queries: list[str]) -> dict[str, list[str]]:
    q = [quote(x) for x in queries]
    return {
        "feed (/)": ["/"],
        "feed, a busy day": [f"/?date={db_day}"],
        "feed, week and month": [f"/?date={db_day}&period=week", f"/?date={db_day}&period=month",
                                 f"/?date={db_day}&period=month&category=cs.CV"],
        "search (hybrid, the default)": [f"/search?q={x}" for x in q],
        "search (keyword)": [f"/search?q={x}&mode=keyword" for x in q],
        "paper pages": [f"/papers/{i}" for i in paper_ids],
        "trending": ["/trending"],
        "/api/daily_papers": [f"/api/daily_papers?date={db_day}"],
        "/api/search": [f"/api/search?q={x}&mode=keyword" for x in q],
        "/api/papers/search (Hugging Face's)": [f"/api/papers/search?q={x}" for x in q],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="database to serve (default: build one from the 115k file)")
    ap.add_argument("--day", default="2026-06-30", help="the busy day the feed groups show (default %(default)s)")
    ap.add_argument("--queries", type=int, default=40, help="queries from bench/queries.txt to cycle through (default 40)")
    ap.add_argument("--requests", type=int, default=200, help="requests per group, one at a time (default 200)")
    ap.add_argument("--duration", type=int, default=10, help="seconds of wrk load per group (default 10)")
    ap.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1: the machine has 2 cores)")
    ap.add_argument("--no-wrk", action="store_true", help="skip the load part")
    ap.add_argument("--groups", nargs="*", help="only groups whose name contains one of these words")
    args = ap.parse_args()

    tmp = None
    db = args.db
    if db is None:
        tmp = tempfile.mkdtemp(prefix="bench-web-")
        db = Path(tmp) / "bench.db"
        subprocess.run([sys.executable, str(ROOT / "bench/bench_import.py"), "--keep-db", str(db)], check=True)
    use_wrk = not args.no_wrk and shutil.which("wrk") is not None
    all_queries = [line for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    step = max(1, len(all_queries) // args.queries)
    queries = all_queries[::step][: args.queries]

    from paperradar.store import open_store

    store = open_store(str(db))
    rows, _ = store.feed(args.day, args.day, None, 40, 0)
    paper_ids = [r["id"] for r in rows]
    papers = store.count()
    store.close()

    load_before = loadavg()
    server = Server(db)
    results: dict[str, dict] = {}
    try:
        for name, paths in groups(args.day, paper_ids, queries).items():
            if args.groups and not any(g in name for g in args.groups):
                continue
            entry = {"urls": len(paths), "example": paths[0],
                     "sequential": sequential(server.base, paths, args.requests, warmup=len(paths))}
            if use_wrk:
                entry["load"] = under_load(server.base, paths, args.duration, args.connections, args.threads)
            results[name] = entry
            seq = entry["sequential"]
            line = (f"{name:30s} server p50 {seq['server_ms']['p50']:7.2f} ms  p99 {seq['server_ms']['p99']:7.2f} ms"
                    f" | client p50 {seq['client_ms']['p50']:7.2f} ms")
            if use_wrk:
                load = entry["load"]
                line += f" | wrk c={args.connections}: {load['requests_per_s']:7.1f} req/s p50 {load['p50_ms']} ms p99 {load['p99_ms']} ms"
            print(line, flush=True)
    finally:
        server.stop()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    load_after = loadavg()
    print(f"papers: {papers:,}; load average before {load_before}, after {load_after}")
    path = save("web", {"db": str(db), "papers": papers, "day": args.day, "queries": len(queries),
                        "load_before": load_before, "load_after": load_after, "wrk": use_wrk, "groups": results})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
