"""1,000 subscribers' digests made and handed to a local SMTP server: ``paperradar digest send``, timed.

Works on a copy of ``--db`` (a database with document vectors: the 115k-paper one) made in ``--work``:

1. imports the Hugging Face Daily Papers of ../shared/data if the copy has no featured papers;
2. adds ``--accounts`` members (100), each with a library of ``--library`` papers on one topic (a random
   embedded paper listed before the day and its nearest neighbours, as bench/foryou.py makes them) and
   two follows (an author of the library, its topic's category), each subscribed to the daily digest
   (so their digests have the "for you" and "from what you follow" parts); and email-only subscribers up
   to ``--subscribers`` (1,000) in all, a third of them limited to one or two categories;
3. starts an SMTP server (aiosmtpd) in this process that keeps every message;
4. runs ``python -m paperradar --db COPY digest send --date DAY --frequency daily --json`` in a child
   process with ``[mail] rate = 0`` (the default limit, 60 a minute, would make this take 17 minutes by
   design) and times it: the whole run, the making of the digests (until the child says how many it
   made), the delivery.

It reports the seconds (target: at most 60 for 1,000 subscribers), the load average before and after the
child's run (the machine may be shared), the child's JSON report, and what the server received: messages,
their size, how many have a "For you" part (only where the recommender, ``paperradar/rank/recommend.py``,
is there) and a "From what you follow" part (their headings' lines in the text part). The day (``--day``) defaults
to the newest day with featured papers. Results go to bench/results/digest-*.json.

    python bench/digest.py --db /tmp/benchdb/semantic.db
    python bench/digest.py --db DB --subscribers 2000 --accounts 200 --day 2026-03-05

``--build DIR`` first makes DIR/bench.db from ../shared/data as bench/foryou.py does (import + embed,
about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

from bench_import import ROOT, save

sys.path.insert(0, str(ROOT))

HF = ROOT.parent / "shared/data/hf-daily-papers"
CATEGORIES = ["cs.CL", "cs.LG", "cs.CV", "cs.AI", "cs.RO", "stat.ML"]


class Sink:
    """aiosmtpd's handler: every message kept (recipient, bytes), counted as it arrives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server, session, envelope):
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        for rcpt in envelope.rcpt_tos:
            self.messages.append((rcpt, envelope.original_content))
        return "250 2.0.0 Ok"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(db: Path, subscribers: int, accounts: int, library: int, day: str | None, seed: int) -> dict:
    """Featured papers if missing, the members and the subscribers; returns the day and what was added."""
    import numpy as np

    from paperradar.app import Radar
    from paperradar.mail.subscribers import subscribe

    radar = Radar.open(str(db))
    store = radar.store
    try:
        if not store.conn.execute("SELECT 1 FROM featured LIMIT 1").fetchone():  # type: ignore[attr-defined]
            radar.close()
            subprocess.run([sys.executable, "-m", "paperradar", "--db", str(db), "import", str(HF), "--no-embed",
                            "--no-progress", "--json"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            radar = Radar.open(str(db))
            store = radar.store
        conn = store.conn  # type: ignore[attr-defined]
        day = day or str(conn.execute("SELECT MAX(day) FROM featured").fetchone()[0])
        rng = random.Random(seed)
        before = [r[0] for r in conn.execute(
            "SELECT p.rowid FROM papers p JOIN vectors v ON v.paper = p.rowid WHERE p.published < ? "
            "AND p.published >= date(?, '-180 days')", (day, day))]
        allowed = np.array(before, dtype=np.int64)
        started = time.perf_counter()
        for i in range(accounts):
            seed_row = rng.choice(before)
            _, vecs = radar.vectors.get(np.array([seed_row], dtype=np.int64))
            near = radar.vectors.search(vecs[0], library, candidates=allowed)
            rows = store.rows([r for r, _ in near])
            email = f"member{i}@example.org"
            user = store.add_user(email, name=f"Member {i}")
            for r, _ in near:
                if r in rows:
                    store.save_paper(user.id, rows[r]["id"])
            topic = rows.get(seed_row) or next(iter(rows.values()))
            if topic.get("authors"):
                store.add_follow(user.id, "author", topic["authors"][0])
            if topic.get("categories"):
                store.add_follow(user.id, "category", topic["categories"][0])
            subscribe(store, email, "daily", user_id=user.id, confirmed=True)
        members_s = time.perf_counter() - started
        for i in range(subscribers - accounts):
            cats = rng.sample(CATEGORIES, rng.choice([1, 2])) if i % 3 == 0 else None
            subscribe(store, f"reader{i}@example.org", "daily", cats, confirmed=True)
    finally:
        radar.close()
    return {"day": day, "accounts": accounts, "email_only": subscribers - accounts, "library": library,
            "members_made_s": round(members_s, 1)}


def run(db: Path, day: str, port: int, work: Path) -> dict:
    config = work / "bench.toml"
    config.write_text("[mail]\nrate = 0\n", encoding="utf-8")
    env = {**os.environ, "PAPERRADAR_SMTP_URL": f"smtp://127.0.0.1:{port}",
           "PAPERRADAR_MAIL_FROM": "paperradar <radar@bench.example.org>"}
    env.pop("PAPERRADAR_CONFIG", None)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "paperradar", "--db", str(db), "digest", "send", "--date", day,
                              "--frequency", "daily", "--json", "--config", str(config),
                              "--base-url", "https://bench.example.org"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    made_at: list[float] = []
    lines: list[str] = []

    def read_stderr() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            lines.append(line.rstrip())
            if re.search(r"digests made", line):
                made_at.append(time.perf_counter())

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    out = child.stdout.read() if child.stdout else ""
    child.wait()
    reader.join(10)
    total = time.perf_counter() - started
    if child.returncode != 0:
        print("\n".join(lines[-20:]), file=sys.stderr)
    report = json.loads(out) if out.strip() else {}
    making = (made_at[0] - started) if made_at else None
    return {"returncode": child.returncode, "total_s": round(total, 2),
            "making_s": round(making, 2) if making is not None else None,
            "sending_s": round(total - making, 2) if making is not None else None,
            "report": report, "stderr_tail": lines[-5:]}


def received(sink: Sink) -> dict:
    sizes, for_you, following = [], 0, 0
    for _, data in sink.messages:
        sizes.append(len(data))
        message = message_from_bytes(data, policy=policy.default)
        text = message.get_body(preferencelist=("plain",))
        content = text.get_content() if text is not None else ""
        # the text part's section headings, a line each in capitals ("FOR YOU")
        for_you += re.search(r"(?mi)^for you\r?$", content) is not None
        following += re.search(r"(?mi)^from what you follow\r?$", content) is not None
    recipients = [r for r, _ in sink.messages]
    return {"messages": len(sizes), "distinct_recipients": len(set(recipients)),
            "members_with_for_you": for_you, "with_following": following,
            "mean_kb": round(sum(sizes) / len(sizes) / 1024, 1) if sizes else 0,
            "largest_kb": round(max(sizes) / 1024, 1) if sizes else 0,
            "server_first_to_last_s": round(sink.last - sink.first, 2) if sink.first and sink.last else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a database with document vectors (default: --build's)")
    parser.add_argument("--build", type=Path, help="first build DIR/bench.db from ../shared/data (import + embed)")
    parser.add_argument("--work", type=Path, help="where the copy goes (default: a temporary directory, removed)")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=100, help="subscribers with an account (and a library)")
    parser.add_argument("--library", type=int, default=20, help="papers in each member's library")
    parser.add_argument("--day", help="the digests' day (default: the newest day with featured papers)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    from aiosmtpd.controller import Controller
    from foryou import build, copy

    if args.build:
        args.db = build(args.build)
    if not args.db:
        parser.error("--db or --build is needed")
    temporary = None if args.work else tempfile.TemporaryDirectory(prefix="paperradar-digest-bench-")
    work = args.work or Path(temporary.name)  # type: ignore[union-attr]
    try:
        started = time.perf_counter()
        db = copy(args.db, work)
        print(f"copied the database in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        setup = prepare(db, args.subscribers, args.accounts, args.library, args.day, args.seed)
        print(f"{args.subscribers} subscribers ({args.accounts} accounts), day {setup['day']}", file=sys.stderr)
        sink = Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=free_port(), data_size_limit=0)
        controller.start()
        load_before = os.getloadavg()  # the machine is shared: the times mean little without it
        try:
            timing = run(db, setup["day"], controller.port, work)
        finally:
            controller.stop()
        load_after = os.getloadavg()
        recommender = (ROOT / "paperradar" / "rank" / "recommend.py").exists()
        result = {"setup": setup, "run": timing, "received": received(sink), "recommender": recommender,
                  "target_s": 60, "load_average_before": load_before, "load_average_after": load_after}
        path = save("digest", result)
        got = result["received"]
        print(f"{got['messages']} digests in {timing['total_s']} s (made in {timing['making_s']} s, sent in "
              f"{timing['sending_s']} s); {got['members_with_for_you']} with a for-you part"
              + ("" if recommender else " (no recommender in this build)")
              + f", {got['with_following']} with followed papers; mean {got['mean_kb']} KB; load average "
              f"{' '.join(f'{x:.2f}' for x in load_before)} before, {' '.join(f'{x:.2f}' for x in load_after)} "
              f"after; {path}")
    finally:
        if temporary is not None:
            temporary.cleanup()


if __name__ == "__main__":
    main()
