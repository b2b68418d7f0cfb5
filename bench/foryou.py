"""Server time of ``/for-you`` (and its JSON twin) on the 115k-paper database.

Works on a copy of ``--db`` (the accounts it adds never touch the original) made in ``--work``:

1. adds ``--users`` members, each with a library of ``--library`` papers on one topic (a random
   embedded paper listed before the measured day and its nearest neighbours by vector, so each
   library reads like one researcher's), a personal API token, and one cold-start member with no
   library who follows two categories;
2. starts ``python -m paperradar --db COPY serve --port 0`` in a child process (as bench_web.py does);
3. for each member, over one keep-alive connection with ``Authorization: Bearer``: the first visit of
   ``/for-you?date=DAY`` (the model is trained then), then ``--requests`` visits in turn cycling
   through the members (the model cached: the ranking of the day's papers and the page), the same for
   ``/api/me/for-you``, and the cold-start page; then one more paper saved per member and the next
   visit timed (a library change retrains);

and reports the app's own time (``Server-Timing``) p50/p90/p99, and the client's round trip; then, in
this process, ``recommend.for_user`` alone for the same members (the model cached), to show the
recommender's share of the page's time, with BLAS on one thread as /for-you runs it
(``rank.recommend.one_blas_thread``) and with the library's default threads. The day
(``--day``) defaults to the busiest listing day of the last 60 days in the database (a day's "~500
candidates"). Results go to bench/results/foryou-*.json.

    python bench/foryou.py --db /tmp/foryou-bench/bench.db
    python bench/foryou.py --db DB --users 8 --library 50 --requests 400 --day 2026-06-30

``--db`` needs document vectors (pass 1 of ``paperradar embed``): ``--build DIR`` first imports the
115k arXiv file and the HF Daily Papers of ../shared/data into DIR/bench.db and embeds the documents
(about 10 minutes on 2 cores; the sentence pass is not needed here and is skipped).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench_import import ROOT, save
from bench_web import Server, loadavg, summary

sys.path.insert(0, str(ROOT))

ARXIV = ROOT.parent / "shared/data/arxiv/arxiv-2025-2026.jsonl.gz"
HF = ROOT.parent / "shared/data/hf-daily-papers"


def build(folder: Path) -> Path:
    """The 115k arXiv file and the HF Daily Papers imported into folder/bench.db, documents embedded."""
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.db"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "paperradar", "--db", str(db), "import", str(ARXIV), str(HF),
                    "--no-embed", "--no-progress", "--json"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"imported in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    from paperradar.app import Radar
    from paperradar.index.embed import EmbedReport, embed_documents, model_key

    radar = Radar.open(str(db))
    try:
        started = time.perf_counter()
        embed_documents(radar.store, radar.encoder, EmbedReport(model_key(radar.encoder)), True)
        radar.vectors.update()
        print(f"documents embedded and indexed in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        radar.close()
    return db


def copy(db: Path, work: Path) -> Path:
    """The database, its -wal and its index folder, copied into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    for old in work.iterdir():  # a copy left by an earlier run (its -wal would replay onto the new one)
        if old.name.startswith(db.name):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    for item in db.parent.iterdir():
        if item.name.startswith(db.name):
            target = work / item.name
            if item.is_dir():
                shutil.copytree(item, target, dirs_exist_ok=True)
            else:
                shutil.copy2(item, target)
    return work / db.name


def busiest_day(conn, days: int = 60) -> str:  # type: ignore[no-untyped-def]
    latest = conn.execute("SELECT MAX(published) FROM papers WHERE published <= date('now')").fetchone()[0]
    row = conn.execute("SELECT published, COUNT(*) AS n FROM papers WHERE published > date(?, ?) AND published <= ?"
                       " GROUP BY published ORDER BY n DESC LIMIT 1", (latest, f"-{days} days", latest)).fetchone()
    return str(row[0])


def add_members(db: Path, users: int, library: int, day: str, seed: int) -> tuple[list[dict], dict]:
    """Members with a library on one topic each (and a token), plus one cold-start member: their tokens."""
    import numpy as np

    from paperradar import accounts
    from paperradar.app import Radar

    radar = Radar.open(str(db))
    store = radar.store
    rng = random.Random(seed)
    members = []
    try:
        before = [r[0] for r in store.conn.execute(  # type: ignore[attr-defined]
            "SELECT p.rowid FROM papers p JOIN vectors v ON v.paper = p.rowid WHERE p.published < ? "
            "AND p.published >= date(?, '-180 days')", (day, day))]
        allowed = np.array(before, dtype=np.int64)
        for i in range(users):
            seed_row = rng.choice(before)
            _, vecs = radar.vectors.get(np.array([seed_row], dtype=np.int64))
            near = radar.vectors.search(vecs[0], library + 1, candidates=allowed)
            rows = store.rows([r for r, _ in near][: library + 1])
            ids = [rows[r]["id"] for r, _ in near if r in rows]
            email = f"bench{i}@example.org"
            user_id = store.add_user(email, name=f"Bench {i}").id
            token = accounts.new_token()
            store.add_api_token(email, accounts.hash_token(token), "bench")
            for paper_id in ids[:library]:
                store.save_paper(user_id, paper_id)
            members.append({"email": email, "token": token, "library": library, "topic": rows[seed_row]["title"],
                            "spare": ids[library] if len(ids) > library else None, "user": user_id})
        email = "cold@example.org"
        cold_id = store.add_user(email, name="Cold").id
        token = accounts.new_token()
        store.add_api_token(email, accounts.hash_token(token), "bench")
        for category in ("cs.CV", "cs.CL"):
            store.add_follow(cold_id, "category", category)
        cold = {"email": email, "token": token, "user": cold_id}
    finally:
        radar.close()
    return members, cold


def timed(conn: http.client.HTTPConnection, path: str, token: str, method: str = "GET",
          body: bytes | None = None) -> tuple[int, float | None, float, bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    took = (time.perf_counter() - t0) * 1000
    m = re.search(r"dur=([\d.]+)", r.getheader("server-timing") or "")
    return r.status, float(m.group(1)) if m else None, took, data


def cpu_seconds(pid: int) -> float | None:
    """The process's CPU time so far (user + system, /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(base: str, members: list[dict], cold: dict, day: str, requests: int, pid: int) -> dict:
    host = urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
    page, api = f"/for-you?date={day}", f"/api/me/for-you?date={day}"
    out: dict = {}
    first, statuses = [], {}
    for m in members:  # first visit: the model is trained
        status, server, _, data = timed(conn, api, m["token"])
        statuses[status] = statuses.get(status, 0) + 1
        first.append(server)
        answer = json.loads(data)
        m["cold"], m["candidates_shown"] = answer.get("cold"), answer.get("total")
        m["top"] = [p["title"] for p in answer.get("papers", [])[:3]]
    out["first_visit_api"] = summary([x for x in first if x is not None])
    for name, path in (("page", page), ("api", api)):
        server_ms, client_ms = [], []
        cpu_before = cpu_seconds(pid)
        for i in range(requests):
            m = members[i % len(members)]
            status, server, took, _ = timed(conn, path, m["token"])
            statuses[status] = statuses.get(status, 0) + 1
            if server is not None:
                server_ms.append(server)
            client_ms.append(took)
        cpu_after = cpu_seconds(pid)
        cpu = round((cpu_after - cpu_before) * 1000 / requests, 1) if cpu_before is not None and cpu_after else None
        out[name] = {"requests": requests, "server_ms": summary(server_ms), "client_ms": summary(client_ms),
                     "server_cpu_ms_per_request": cpu}
    server_ms = []
    for _ in range(max(requests // 4, 10)):
        status, server, _, _ = timed(conn, page, cold["token"])
        statuses[status] = statuses.get(status, 0) + 1
        if server is not None:
            server_ms.append(server)
    out["cold_start_page"] = {"server_ms": summary(server_ms)}
    retrain = []
    for m in members:  # a library change: the next visit retrains
        if not m.get("spare"):
            continue
        status, _, _, _ = timed(conn, f"/api/me/library/{m['spare']}", m["token"], "PUT", b"{}")
        assert status == 200, status
        status, server, _, _ = timed(conn, page, m["token"])
        if server is not None:
            retrain.append(server)
    out["after_library_change_page"] = {"server_ms": summary(retrain)}
    out["statuses"] = statuses
    conn.close()
    return out


def in_process(db: Path, members: list[dict], day: str, requests: int) -> dict:
    """``recommend.for_user`` alone, in this process, the model cached: the recommender's share of the page."""
    from datetime import date

    from paperradar.app import Radar
    from paperradar.rank import recommend

    radar = Radar.open(str(db))
    out = {}
    try:
        when = date.fromisoformat(day)
        for m in members:  # train, and read the day's candidates once
            recommend.for_user(radar, m["user"], when, 50)
        for name, one_thread in (("one_blas_thread", True), ("default_threads", False)):
            took, cpu, process = [], [], time.process_time()
            for i in range(requests):
                t0, c0 = time.perf_counter(), time.thread_time()
                recommend.for_user(radar, members[i % len(members)]["user"], when, 50, one_thread=one_thread)
                took.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)
            out[name] = {"for_user_ms": summary(took), "for_user_thread_cpu_ms": summary(cpu),
                         "process_cpu_ms_per_call": round((time.process_time() - process) * 1000 / requests, 1)}
    finally:
        radar.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a database with document vectors (default: --build's)")
    parser.add_argument("--build", type=Path, help="first build DIR/bench.db from ../shared/data (import + embed)")
    parser.add_argument("--work", type=Path, help="where the copy goes (default: a temporary directory, removed)")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--library", type=int, default=30, help="papers in each member's library")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per group")
    parser.add_argument("--day", help="the day ranked (default: the busiest of the newest 60 days)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    db = build(args.build) if args.build else args.db
    if db is None:
        parser.error("give --db DB (with document vectors) or --build DIR")
    tmp = None if args.work else Path(tempfile.mkdtemp(prefix="foryou-bench-"))
    work = args.work or tmp
    try:
        copied = copy(db, work)  # type: ignore[arg-type]
        import sqlite3

        conn = sqlite3.connect(f"file:{copied}?mode=ro", uri=True)
        day = args.day or busiest_day(conn)
        papers = conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        embedded = conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        on_day = conn.execute("SELECT COUNT(*) FROM papers WHERE published = ?", (day,)).fetchone()[0]
        conn.close()
        members, cold = add_members(copied, args.users, args.library, day, args.seed)
        load_before = loadavg()
        server = Server(copied)
        try:
            result = measure(server.base, members, cold, day, args.requests, server.proc.pid)
        finally:
            server.stop()
        result["in_process"] = in_process(copied, members, day, args.requests)
        result = {"db": str(db), "papers": papers, "embedded": embedded, "day": day, "papers_on_day": on_day,
                  "users": args.users, "library": args.library, "loadavg_before": load_before,
                  "loadavg_after": loadavg(), "cpus": os.cpu_count(),
                  "members": [{k: m.get(k) for k in ("topic", "cold", "candidates_shown", "top")} for m in members],
                  **result}
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    path = save("foryou", result)
    print(f"{papers:,} papers ({embedded:,} embedded); day {day}: {on_day} papers; {args.users} members with "
          f"{args.library} papers each; load {load_before} -> {result['loadavg_after']}")
    for group in ("page", "api"):
        s = result[group]["server_ms"]
        print(f"{group:>5}: server p50 {s['p50']} ms, p90 {s['p90']}, p99 {s['p99']} (target p50 <= 50 ms); "
              f"server CPU {result[group]['server_cpu_ms_per_request']} ms a request")
    for name, r in result["in_process"].items():
        s = r["for_user_ms"]
        print(f"recommend.for_user alone ({name}; in process, model cached): p50 {s['p50']} ms, p90 {s['p90']}, "
              f"p99 {s['p99']}; CPU of the process {r['process_cpu_ms_per_call']} ms a call")
    print(f"first visit (training) p50 {result['first_visit_api']['p50']} ms; after a library change p50 "
          f"{result['after_library_change_page']['server_ms']['p50']} ms; cold-start page p50 "
          f"{result['cold_start_page']['server_ms']['p50']} ms")
    print(f"statuses {result['statuses']}; results in {path}")


if __name__ == "__main__":
    main()
