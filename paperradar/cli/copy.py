"""``paperradar copy``: move a SQLite store into PostgreSQL (the SQL: store/pg_copy.py).

The command only orchestrates and reports: a bar per table (rows/s) while it
runs, then every table's rows on both sides. Exit codes: 0 every count
agrees, 1 some count differs (or the target refused a write), 2 the source,
the target or the arguments are unusable.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from typing import Any

from ..config import resolve_db
from ..store import StorageFault, StoreError, on_server
from ..store.pg_copy import Check, CopyPlan, StoreCopy
from .common import emit_json, positive


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "copy", parents=[common], help="copy a SQLite database into PostgreSQL (moving in)",
        description="Copy every row of a SQLite database (papers, provenance, votes, accounts, sessions, "
                    "libraries, follows, subscriptions, the outbox, vectors, ...) into a PostgreSQL database, "
                    "keeping every id. The target must be empty, or an interrupted copy of the same source: "
                    "run the same command again and it goes on where it stopped. At the end the rows of "
                    "every table are counted on both sides; exit 1 if any count differs.")
    p.add_argument("--to", required=True, metavar="URL",
                   help="the PostgreSQL database (postgresql://user:pass@host:port/db)")
    p.add_argument("--from", dest="source", metavar="PATH",
                   help="the SQLite database to copy (default: --db, else $PAPERRADAR_DB, else the default file)")
    p.add_argument("--batch", type=positive, default=5000, metavar="N",
                   help="rows per transaction (default 5000; tables of vectors and mails take a tenth)")
    p.add_argument("--no-index", action="store_true",
                   help="leave the search indexes (keyword column and GIN index, HNSW index of the vectors) to the "
                        "first serve or search instead of making them after the copy")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(run=cmd_copy, uses_db=False)


def cmd_copy(_radar: None, args: argparse.Namespace) -> int:
    if not on_server(args.to):
        scheme = args.to.split("://")[0] + "://" if "://" in args.to else "a file path"
        print(f"paperradar: --to must be a PostgreSQL URL (postgresql://user:password@host:port/dbname), "
              f"not {scheme}", file=sys.stderr)
        return 2
    source = args.source or resolve_db(getattr(args, "db", None))
    run: StoreCopy | None = None
    try:
        run = StoreCopy(source, args.to, batch=args.batch)
        return _run(run, args)
    except StorageFault as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # the source failed while being read (a damaged file, an I/O error)
        print(f"paperradar: cannot read {run.source_path if run else source}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("paperradar: copy interrupted; committed batches are kept: run the same command again to go on",
              file=sys.stderr)
        return 130
    finally:
        if run is not None:
            run.close()


def _run(run: StoreCopy, args: argparse.Namespace) -> int:
    show = not args.no_progress and sys.stderr.isatty()
    if not args.json:
        verb = "copying"
        if run.resumed:
            verb = "checking the finished copy of" if run.finished else "resuming the copy of"
        print(f"{verb} {run.source_path} into {run.target}", flush=True)
    timings = {plan.table.name: _copy_one(run, plan, show) for plan in run.plans()}
    sequences = run.finish()
    checks = run.compare()
    equal = all(c.equal for c in checks)
    if not args.json:
        _print_report(checks, timings, equal)
    indexed = _make_indexes(args.to, show, args.json) if equal and not args.no_index else None
    if args.json:
        emit_json({**_report(run, checks, timings, sequences, equal), "indexes_seconds": indexed})
    return 0 if equal else 1


def _make_indexes(url: str, show: bool, quiet: bool) -> float:
    """Make what the copy moved without: the keyword column and its GIN index, the ``halfvec``
    copies of the vectors and their HNSW index (Radar.refresh, the one way). Here rather than on
    first use because at a million papers it takes most of an hour, and a page or search that met
    it would wait as long. Returns the seconds taken."""
    from ..app import Radar

    if not quiet:
        print("making the search indexes: a keyword column and GIN index over every paper, then the HNSW "
              "index of the vectors (several minutes per 100,000 papers; Ctrl-C is safe: the next "
              "serve or search makes them)", flush=True)
    started = time.perf_counter()
    radar = Radar.open(url)
    try:
        radar.refresh(progress=show)
    finally:
        radar.close()
        radar.store.dispose()  # type: ignore[attr-defined]
    took = time.perf_counter() - started
    if not quiet:
        print(f"search indexes made in {took:.1f}s")
    return round(took, 3)


def _copy_one(run: StoreCopy, plan: CopyPlan, show: bool) -> tuple[int, float]:
    """One table with its bar (rows, rows/s); the rows copied this run and the seconds taken."""
    from tqdm import tqdm

    started = time.perf_counter()
    with tqdm(total=plan.source_rows, initial=min(plan.copied, plan.source_rows), desc=f"{plan.table.name:<18}",
              unit=" rows", file=sys.stderr, disable=not show or plan.done or not plan.source_rows) as bar:
        copied = run.copy_table(plan, bar.update)
    return copied, time.perf_counter() - started


def _rate(copied: int, seconds: float) -> float | None:
    return round(copied / seconds, 1) if copied and seconds > 0 else None


def _report(run: StoreCopy, checks: list[Check], timings: dict[str, tuple[int, float]], sequences: dict[str, int],
            equal: bool) -> dict[str, Any]:
    tables = []
    for check in checks:
        entry: dict[str, Any] = {"name": check.name, "source": check.source, "target": check.target,
                                 "equal": check.equal}
        if check.name in timings:
            copied, seconds = timings[check.name]
            entry.update(copied=copied, seconds=round(seconds, 3), rows_per_second=_rate(copied, seconds))
        tables.append(entry)
    return {"source": run.source_path, "target": run.target, "resumed": run.resumed,
            "finished_before": run.finished, "equal": equal, "tables": tables, "sequences": sequences}


def _print_report(checks: list[Check], timings: dict[str, tuple[int, float]], equal: bool) -> None:
    width = max(len(c.name) for c in checks)
    print(f"{'table':<{width}}  {'source':>10}  {'target':>10}  copied now")
    for check in checks:
        copied, seconds = timings.get(check.name, (0, 0.0))
        rate = _rate(copied, seconds)
        now = f"{copied:,} rows in {seconds:.1f}s ({rate:,.0f} rows/s)" if rate else ""
        mark = "" if check.equal else "  DIFFERS"
        print(f"{check.name:<{width}}  {check.source:>10,}  {check.target:>10,}  {now}{mark}")
    if equal:
        print(f"all {len(checks)} counts agree")
    else:
        bad = [c.name for c in checks if not c.equal]
        print(f"paperradar: counts differ in {', '.join(bad)} (did the source change between runs, or the "
              "target after the copy?)", file=sys.stderr)
