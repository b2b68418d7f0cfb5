"""``paperradar sync``: fetch papers from the live sources, alone, all configured, or on a schedule."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from datetime import date
from typing import Any

import orjson

from ..app import Radar
from .common import UsageError, emit_json, positive, valid_date


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """``sync`` and its sources. --db, --config and --json work before or after the source name."""
    from ..sync.config import ENV_CONFIG, METADATA_PREFIXES

    opts = argparse.ArgumentParser(add_help=False)
    opts.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                      help=f"sync configuration file (default: ${ENV_CONFIG}, else config.toml in your config directory)")
    opts.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                      help="print the run reports (or the status) as JSON")
    opts.add_argument("--no-embed", action="store_true", default=argparse.SUPPRESS,
                      help="store and keyword-index what arrives, embed it later with `paperradar embed`")
    p = sub.add_parser("sync", parents=[common, opts], help="fetch new papers from arXiv and Hugging Face",
                       description="Fetch papers from live sources and import them as they arrive. Name a source, "
                                   "or --all for every source the config file lists. Exit codes: 0 ok, 1 a source "
                                   "failed (after its retries), 2 usage error.")
    p.add_argument("--all", action="store_true", help="sync every source the config file lists")
    p.add_argument("--every", nargs="?", const="config", metavar="INTERVAL",
                   help="with --all: keep running, one round now and then every INTERVAL (e.g. 30m, 6h, 1d; "
                        "without INTERVAL: the config's schedule.every) until interrupted")
    p.set_defaults(run=cmd_sync)
    sources = p.add_subparsers(dest="sync_command", metavar="SOURCE")

    s = sources.add_parser("arxiv", parents=[common, opts],
                           help="arXiv: harvest a set (OAI-PMH), or fetch by id or query (API)",
                           description="--set harvests an OAI-PMH set page by page; a killed or failed harvest "
                                       "goes on from its last stored page when run again. --ids and --query use "
                                       "the arXiv API.")
    what = s.add_mutually_exclusive_group(required=True)
    what.add_argument("--set", dest="set_spec", metavar="SET", help="OAI-PMH set to harvest, e.g. cs, math, physics:hep-th")
    what.add_argument("--ids", nargs="+", metavar="ID", help="arXiv ids to fetch with the API (2506.01234, with version, or URLs)")
    what.add_argument("--query", metavar="QUERY",
                      help="arXiv API search query, e.g. 'cat:cs.CL AND ti:retrieval': fetches the newest matches")
    s.add_argument("--from", dest="from_date", type=valid_date, metavar="YYYY-MM-DD",
                   help="with --set: records added or changed on or after this day "
                        "(default: from the day the last harvest of the set started)")
    s.add_argument("--until", type=valid_date, metavar="YYYY-MM-DD", help="with --set: records added or changed up to this day")
    s.add_argument("--metadata-prefix", choices=METADATA_PREFIXES,
                   help="with --set: record format (default: the config's arxiv-oai.metadata_prefix, arXiv)")
    s.add_argument("--max-results", type=positive, metavar="N",
                   help="with --query: how many papers (default: the config's arxiv-api.max_results, 100)")

    s = sources.add_parser("arxiv-rss", parents=[common, opts], help="arXiv's daily listing of some categories",
                           description="Fetch today's listing (rss.arxiv.org) of the named categories in one request.")
    s.add_argument("categories", nargs="+", metavar="CATEGORY", help="arXiv category or archive, e.g. cs.CL, cs, hep-th")

    s = sources.add_parser("hf-daily", parents=[common, opts], help="Hugging Face Daily Papers of some days, with upvotes",
                           description="Fetch Hugging Face Daily Papers, one request per day; fetching a day "
                                       "again refreshes its upvote counts.")
    when = s.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", type=valid_date, metavar="YYYY-MM-DD", help="one day")
    when.add_argument("--since", type=valid_date, metavar="YYYY-MM-DD", help="every day from this one to --until")
    s.add_argument("--until", type=valid_date, metavar="YYYY-MM-DD", help="with --since: the last day (default: today, UTC)")

    sources.add_parser("status", parents=[common, opts], help="last run of each source, unfinished harvests",
                       description="The last run of each source: when, what was asked, what was fetched, "
                                   "errors; and the OAI-PMH harvests the next run would resume.")


def cmd_sync(radar: Radar, args: argparse.Namespace) -> int:
    from ..sync.config import ConfigError, load_config, parse_interval

    _log_sync_to_stderr()
    command = args.sync_command
    as_json = getattr(args, "json", False)
    if command is None and not args.all:
        raise UsageError("sync: name a source (arxiv, arxiv-rss, hf-daily), status, or --all")
    if command is not None and args.all:
        raise UsageError(f"sync: --all syncs every configured source; do not also name {command}")
    if args.every is not None and not args.all:
        raise UsageError("sync: --every goes with --all")
    try:
        config = load_config(getattr(args, "config", None))
        every = None if args.every in (None, "config") else parse_interval(args.every, "--every")
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    if command == "status":
        return _sync_status(radar, as_json)
    if args.all and args.every is not None:
        return _sync_forever(radar, config, every, as_json, embed=not getattr(args, "no_embed", False))
    reports = _sync_once(radar, config, args)
    _print_sync_reports(reports, as_json)
    return 1 if any(r["status"] != "ok" for r in reports) else 0


def _sync_once(radar: Radar, config: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from datetime import datetime, timezone

    from ..sync import arxiv_api, hf, oai, rss
    from ..sync.run import make_context
    from ..sync.runner import sync_all

    command = args.sync_command
    if command == "arxiv":
        if not args.set_spec and (args.from_date or args.until or args.metadata_prefix):
            raise UsageError("sync arxiv: --from, --until and --metadata-prefix go with --set")
        if not args.query and args.max_results:
            raise UsageError("sync arxiv: --max-results goes with --query")
        if args.from_date and args.until and args.from_date > args.until:
            raise UsageError("sync arxiv: --from is after --until")
    if command == "hf-daily":
        if args.until and not args.since:
            raise UsageError("sync hf-daily: --until goes with --since")
        today = datetime.now(timezone.utc).date().isoformat()
        first, last = (args.date, args.date) if args.date else (args.since, args.until or today)
        if first > last:
            raise UsageError(f"sync hf-daily: --since {first} is after {last}")
    ctx = make_context(radar, config, embed=not getattr(args, "no_embed", False))
    if args.all:
        return sync_all(ctx)
    if command == "arxiv" and args.set_spec:
        return [oai.sync(ctx, args.set_spec, args.from_date, args.until, args.metadata_prefix)]
    if command == "arxiv" and args.ids:
        return [arxiv_api.sync_ids(ctx, args.ids)]
    if command == "arxiv":
        return [arxiv_api.sync_query(ctx, args.query, args.max_results)]
    if command == "arxiv-rss":
        return [rss.sync(ctx, args.categories)]
    return [hf.sync(ctx, date.fromisoformat(first), date.fromisoformat(last))]


def _sync_forever(radar: Radar, config: Any, every: float | None, as_json: bool, embed: bool = True) -> int:
    """``sync --all --every``: rounds in a background thread until Ctrl-C; ``--json`` prints JSON lines."""
    from ..sync.schedule import start_sync_schedule

    interval = every or config.every
    print(f"paperradar: syncing every {interval:g} s (Ctrl-C stops)", file=sys.stderr)

    def on_reports(reports: list[dict[str, Any]]) -> None:
        if not as_json:
            _print_sync_reports(reports, False)
            return
        for report in reports:  # JSON lines: one report per line, as rounds finish
            sys.stdout.write(orjson.dumps(report).decode() + "\n")
        sys.stdout.flush()

    # shared with any `serve --sync` on the same database: one round at a time between them
    scheduler = start_sync_schedule(radar, config, interval, on_reports=on_reports, embed=embed,
                                    generation=uuid.uuid4().hex)
    try:
        while scheduler.running:
            scheduler.join(1.0)
    except KeyboardInterrupt:
        print("paperradar: stopping after the current request", file=sys.stderr)
        scheduler.stop()
    return 0


def _print_sync_reports(reports: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json(reports)
        return
    for r in reports:
        print(_sync_line(r))
    sys.stdout.flush()


def _sync_line(r: dict[str, Any]) -> str:
    from ..sync.run import describe

    counts = (f"{r['pages']} page{'s' if r['pages'] != 1 else ''}, {r['records']} records: {r['new']} new, "
              f"{r['updated']} updated, {r['unchanged']} unchanged" + (f", {r['rejected']} rejected" if r["rejected"] else ""))
    line = f"{r['source']} {describe(r['request'])}: {r['status']}, {counts}"
    for note in r["notes"]:
        line += f"\n  note: {note}"
    if r["error"]:
        line += f"\n  error: {r['error']}"
    return line


def _sync_status(radar: Radar, as_json: bool) -> int:
    from ..sync.run import describe
    from ..sync.runner import status

    report = status(radar.store)
    if as_json:
        emit_json(report)
        return 0
    for source, r in report["sources"].items():
        if r is None:
            print(f"{source}: never run")
            continue
        print(f"{source}: last run {r['started_at']} to {r['finished_at'] or '-'}")
        print("  " + _sync_line(r).split(" ", 1)[1])
    if report["open_harvests"]:
        print("unfinished OAI-PMH harvests (the next `sync arxiv` with the same set and dates resumes them):")
    for h in report["open_harvests"]:
        what = describe({"set": h["set_spec"], "from": h["from_date"], "until": h["until_date"],
                         "metadata_prefix": h["metadata_prefix"]})
        size = f" of {h['complete_list_size']}" if h["complete_list_size"] else ""
        print(f"  {what}: {h['pages']} pages, {h['records']}{size} records, last progress {h['updated_at']}")
    return 0


class _StderrLog(logging.Handler):
    """Sync progress and warnings as ``paperradar: ...`` lines on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"paperradar: {record.getMessage()}", file=sys.stderr, flush=True)
        except Exception:  # never let logging break a sync
            self.handleError(record)


def _log_sync_to_stderr() -> None:
    logger = logging.getLogger("paperradar.sync")
    if not any(isinstance(h, _StderrLog) for h in logger.handlers):
        logger.addHandler(_StderrLog())
    logger.setLevel(logging.INFO)
