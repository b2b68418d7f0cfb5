"""The ``paperradar`` command line.

Each subcommand is a thin layer: parse arguments, call the pipeline, the
store, the rankers or the sync clients, print text or ``--json``. Every
command that uses a database gets the one :class:`~paperradar.app.Radar`
built here from ``--db``. Exit
codes: 0 success, 1 some input, lookup or source failed, or the database or
an index beside it could not be written (disk full, read-only: one line
naming the file, see :mod:`paperradar.store.faults`), 2 usage error.

Each module of this package registers its subcommands (``register``) and
points each at the function that runs it (``run``).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from .. import __version__
from ..app import Radar
from ..config import ENV_DB, resolve_db
from ..store import StorageFault, StoreError
from ..store.faults import storage_fault
from . import copy, digest, papers, recommend, semantic, serve, sync, users
from .common import UsageError


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: --db may come before or after the subcommand without one
    # position's default overwriting the other's value.
    common.add_argument(
        "--db",
        metavar="PATH_OR_URL",
        default=argparse.SUPPRESS,
        help=f"database file or URL (default: ${ENV_DB}, else a file in your data directory)",
    )
    parser = argparse.ArgumentParser(
        prog="paperradar",
        description="Self-hostable research-paper discovery: import, search, daily feed.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"paperradar {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (papers, semantic, recommend, sync, serve, users, digest, copy):
        module.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "uses_db", True):  # e.g. `eval`: works in a temporary store of its own
        try:
            return args.run(None, args)
        except KeyboardInterrupt:
            print("paperradar: interrupted", file=sys.stderr)
            return 130
    location = resolve_db(getattr(args, "db", None))
    try:
        radar = Radar.open(location)
    except StorageFault as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:
        print(f"paperradar: cannot open database {location}: {exc}", file=sys.stderr)
        return 2
    try:
        return args.run(radar, args)
    except UsageError as exc:
        parser.error(str(exc))
        return 2
    except StorageFault as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:  # e.g. what a PostgreSQL database cannot do yet
        print(f"paperradar: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # a database write outside store.write() that failed for space or permission
        fault = storage_fault(exc, radar.store.path)
        if fault is None:
            raise
        print(f"paperradar: {fault}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("paperradar: interrupted", file=sys.stderr)
        return 130
    finally:
        radar.close()
        # the command was this process's last use of the store: a server store closes its pool too
        getattr(radar.store, "dispose", lambda: None)()
