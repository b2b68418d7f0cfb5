"""The ``paperradar`` command line.

Each subcommand is a thin layer: parse arguments, call the pipeline, the
store, the rankers or the sync clients, print text or ``--json``. Exit
codes: 0 success, 1 some input, lookup or source failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from datetime import date
from typing import Any

import orjson

from . import __version__
from .config import ENV_DB, resolve_db
from .present import paper_json, snippet_text
from .index.keyword import IndexBusy, catch_up, is_behind, keyword_index
from .rank import feed as feeds
from .rank.search import Filters, keyword_search
from .sources import FORMATS
from .store import SQLiteStore, StoreError, open_store


class UsageError(Exception):
    """Bad arguments discovered after parsing (exit code 2)."""


def _valid_date(text: str) -> str:
    try:
        return feeds.parse_day(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return value


def _not_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"not a number >= 0: {text!r}")
    return value


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

    p = sub.add_parser("import", parents=[common], help="import papers from files, directories, .gz or - (stdin)",
                       description="Import papers. The format of each input is detected from its content.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, directory (read recursively), .gz file, or - for stdin")
    p.add_argument("--format", choices=sorted(FORMATS), help="read every input as this format instead of detecting it")
    p.add_argument("--strict", action="store_true", help="stop at the first bad record and import nothing")
    p.add_argument("--report", metavar="FILE", help="write every rejected record (JSON lines: file, line, reason) to FILE")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("search", parents=[common], help="search papers by keyword",
                       description='Keyword search (BM25). Syntax: words, "phrases", prefix*, a OR b, -exclude, '
                                   "title:, abstract:, author: fields.")
    p.add_argument("query", help="what to look for")
    p.add_argument("--mode", choices=["keyword"], default="keyword", help="ranking mode (default: keyword)")
    p.add_argument("--limit", type=_positive, default=10, help="number of results (default 10)")
    p.add_argument("--offset", type=_not_negative, default=0, help="skip this many results (paging)")
    p.add_argument("--category", help="only papers in this arXiv category, e.g. cs.CL")
    p.add_argument("--author", help="only papers with this author name")
    p.add_argument("--since", type=_valid_date, metavar="YYYY-MM-DD", help="first listed on or after this day")
    p.add_argument("--until", type=_valid_date, metavar="YYYY-MM-DD", help="first listed on or before this day")
    p.add_argument("--json", action="store_true", help="print results as a JSON array")

    p = sub.add_parser("show", parents=[common], help="show one paper", description="Show one paper by id.")
    p.add_argument("id", help="arXiv id (with or without version), DOI key (doi:...), or other paper id")
    p.add_argument("--json", action="store_true", help="print the paper as a JSON object")

    p = sub.add_parser("feed", parents=[common], help="papers first listed on a day, week or month",
                       description="Papers first listed in a period: most upvoted first, then newest.")
    period = p.add_mutually_exclusive_group(required=True)
    period.add_argument("--date", type=_valid_date, metavar="YYYY-MM-DD", help="one day")
    period.add_argument("--week", type=_valid_date, metavar="YYYY-MM-DD", help="the ISO week (Mon-Sun) containing this day")
    period.add_argument("--month", metavar="YYYY-MM", help="one month")
    p.add_argument("--category", help="only papers in this arXiv category")
    p.add_argument("--limit", type=_positive, default=50, help="number of papers (default 50)")
    p.add_argument("--offset", type=_not_negative, default=0, help="skip this many papers (paging)")
    p.add_argument("--json", action="store_true", help="print papers as a JSON array")

    p = sub.add_parser("stats", parents=[common], help="counts of papers, by source and category, date range",
                       description="Counts: papers, by source, by primary category, and the date range.")
    p.add_argument("--json", action="store_true", help="print as a JSON object")

    p = sub.add_parser("vote", parents=[common], help="upvote a paper (local votes add to imported counts)",
                       description="Add a local upvote to a paper (or take one back with --down).")
    p.add_argument("id", help="paper id")
    p.add_argument("--down", action="store_true", help="remove one local upvote")
    p.add_argument("--json", action="store_true", help="print the new count as JSON")

    _add_sync_parser(sub, common)
    return parser


def _add_sync_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """``sync`` and its sources. --db, --config and --json work before or after the source name."""
    from .sync.config import ENV_CONFIG, METADATA_PREFIXES

    opts = argparse.ArgumentParser(add_help=False)
    opts.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                      help=f"sync configuration file (default: ${ENV_CONFIG}, else config.toml in your config directory)")
    opts.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                      help="print the run reports (or the status) as JSON")
    p = sub.add_parser("sync", parents=[common, opts], help="fetch new papers from arXiv and Hugging Face",
                       description="Fetch papers from live sources and import them as they arrive. Name a source, "
                                   "or --all for every source the config file lists. Exit codes: 0 ok, 1 a source "
                                   "failed (after its retries), 2 usage error.")
    p.add_argument("--all", action="store_true", help="sync every source the config file lists")
    p.add_argument("--every", nargs="?", const="config", metavar="INTERVAL",
                   help="with --all: keep running, one round now and then every INTERVAL (e.g. 30m, 6h, 1d; "
                        "without INTERVAL: the config's schedule.every) until interrupted")
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
    s.add_argument("--from", dest="from_date", type=_valid_date, metavar="YYYY-MM-DD",
                   help="with --set: records added or changed on or after this day "
                        "(default: from the day the last harvest of the set started)")
    s.add_argument("--until", type=_valid_date, metavar="YYYY-MM-DD", help="with --set: records added or changed up to this day")
    s.add_argument("--metadata-prefix", choices=METADATA_PREFIXES,
                   help="with --set: record format (default: the config's arxiv-oai.metadata_prefix, arXiv)")
    s.add_argument("--max-results", type=_positive, metavar="N",
                   help="with --query: how many papers (default: the config's arxiv-api.max_results, 100)")

    s = sources.add_parser("arxiv-rss", parents=[common, opts], help="arXiv's daily listing of some categories",
                           description="Fetch today's listing (rss.arxiv.org) of the named categories in one request.")
    s.add_argument("categories", nargs="+", metavar="CATEGORY", help="arXiv category or archive, e.g. cs.CL, cs, hep-th")

    s = sources.add_parser("hf-daily", parents=[common, opts], help="Hugging Face Daily Papers of some days, with upvotes",
                           description="Fetch Hugging Face Daily Papers, one request per day; fetching a day "
                                       "again refreshes its upvote counts.")
    when = s.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", type=_valid_date, metavar="YYYY-MM-DD", help="one day")
    when.add_argument("--since", type=_valid_date, metavar="YYYY-MM-DD", help="every day from this one to --until")
    s.add_argument("--until", type=_valid_date, metavar="YYYY-MM-DD", help="with --since: the last day (default: today, UTC)")

    sources.add_parser("status", parents=[common, opts], help="last run of each source, unfinished harvests",
                       description="The last run of each source: when, what was asked, what was fetched, "
                                   "errors; and the OAI-PMH harvests the next run would resume.")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    location = resolve_db(getattr(args, "db", None))
    try:
        store = open_store(location)
    except StoreError as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:
        print(f"paperradar: cannot open database {location}: {exc}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](store, args)
    except UsageError as exc:
        parser.error(str(exc))
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("paperradar: interrupted", file=sys.stderr)
        return 130
    finally:
        store.close()


def _emit_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def cmd_import(store: SQLiteStore, args: argparse.Namespace) -> int:
    from .importer import SHOWN_REJECTS, run_import

    progress = not args.no_progress and sys.stderr.isatty()
    try:
        report = open(args.report, "w", encoding="utf-8") if args.report else None
    except OSError as exc:
        raise UsageError(f"cannot write --report {args.report}: {exc.strerror or exc}") from exc
    try:
        summary = run_import(store, args.paths, fmt=args.format, strict=args.strict, report=report, progress=progress)
    finally:
        if report:
            report.close()
    for error in summary.errors:
        print(f"paperradar: {error}", file=sys.stderr)
    if summary.aborted:
        print(f"paperradar: --strict: nothing imported: {summary.aborted}", file=sys.stderr)
    for rejected in summary.first_rejects:
        print(f"rejected: {rejected}", file=sys.stderr)
    n_rejected = sum(summary.rejected.values())
    if n_rejected > SHOWN_REJECTS:
        more = f" (all in {args.report})" if args.report else " (use --report FILE to list all)"
        print(f"... and {n_rejected - SHOWN_REJECTS} more rejected{more}", file=sys.stderr)
    if args.json:
        _emit_json(summary.as_json())
        return summary.exit_code
    data = summary.as_json()
    print(
        f"{data['new']} new, {data['updated']} updated, {data['unchanged']} unchanged, "
        f"{n_rejected} rejected in {data['seconds']:.1f}s"
        + (f" ({data['papers_per_second']:.0f} papers/s)" if data["papers_per_second"] else "")
    )
    for reason, count in summary.rejected.most_common():
        print(f"  rejected, {reason}: {count}")
    for what, count in summary.incomplete.most_common():
        print(f"  kept, {what}: {count}")
    return summary.exit_code


def cmd_search(store: SQLiteStore, args: argparse.Namespace) -> int:
    filters = Filters(category=args.category, author=args.author, since=args.since, until=args.until)
    _refresh_index(store)
    rows = keyword_search(store, args.query, filters, limit=args.limit, offset=args.offset)
    if args.json:
        _emit_json([paper_json(r) for r in rows])
        return 0
    if not rows:
        print("no results")
    bold = ("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("**", "**")
    for rank, row in enumerate(rows, start=args.offset + 1):
        _print_paper(row, rank)
        if row.get("snippet"):
            print("    " + snippet_text(row["snippet"], *bold))
    return 0


def _find_paper(store: SQLiteStore, paper_id: str) -> dict[str, Any] | None:
    """The stored paper, or None after telling the user it is unknown."""
    row = store.get(paper_id)
    if row is None:
        print(f"paperradar: no paper with id {paper_id!r}", file=sys.stderr)
    return row


def cmd_show(store: SQLiteStore, args: argparse.Namespace) -> int:
    row = _find_paper(store, args.id)
    if row is None:
        return 1
    if args.json:
        _emit_json(paper_json(row, full=True))
        return 0
    print(row["title"])
    print(", ".join(row["authors"]))
    print(f"id: {row['id']}   date: {row['published'] or '?'}   updated: {row['updated'] or '-'}   "
          f"categories: {' '.join(row['categories']) or '-'}   upvotes: {row['upvotes']}")
    for label in ("comment", "journal_ref", "doi"):
        if row[label]:
            print(f"{label}: {row[label]}")
    for name, url in row["links"].items():
        print(f"{name}: {url}")
    print()
    print(row["abstract"] or "(no abstract)")
    print()
    print("sources: " + "; ".join(f"{s['source']} ({s['origin']}, {s['first_seen'][:10]})" for s in row["sources"]))
    return 0


def cmd_feed(store: SQLiteStore, args: argparse.Namespace) -> int:
    if args.date:
        period = feeds.day(date.fromisoformat(args.date))
    elif args.week:
        period = feeds.week(date.fromisoformat(args.week))
    else:
        try:
            period = feeds.parse_month(args.month)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    rows, total = store.feed(period.start.isoformat(), period.end.isoformat(), args.category, args.limit, args.offset)
    if args.json:
        _emit_json([paper_json(r) for r in rows])
        return 0
    print(f"{period.label}: {total} papers" + (f" in {args.category}" if args.category else ""))
    for rank, row in enumerate(rows, start=args.offset + 1):
        _print_paper(row, rank)
    return 0


def cmd_stats(store: SQLiteStore, args: argparse.Namespace) -> int:
    stats = store.stats()
    if args.json:
        _emit_json(stats)
        return 0
    print(f"papers: {stats['papers']}  (with upvotes: {stats['with_upvotes']})")
    print(f"dates: {stats['date_range']['first']} to {stats['date_range']['last']}")
    print("by source: " + ", ".join(f"{k} {v}" for k, v in stats["by_source"].items()))
    top = list(stats["by_category"].items())[:15]
    print("by primary category: " + ", ".join(f"{k} {v}" for k, v in top) + (" ..." if len(stats["by_category"]) > 15 else ""))
    return 0


def cmd_vote(store: SQLiteStore, args: argparse.Namespace) -> int:
    row = _find_paper(store, args.id)
    if row is None:
        return 1
    total = store.add_vote(row["id"], delta=-1 if args.down else 1)
    if args.json:
        _emit_json({"id": row["id"], "upvotes": total})
    else:
        print(f"{row['id']}: {total} upvotes")
    return 0


def cmd_sync(store: SQLiteStore, args: argparse.Namespace) -> int:
    from .sync.config import ConfigError, load_config, parse_interval

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
        return _sync_status(store, as_json)
    if args.all and args.every is not None:
        return _sync_forever(store, config, every, as_json)
    reports = _sync_once(store, config, args)
    _print_sync_reports(reports, as_json)
    return 1 if any(r["status"] != "ok" for r in reports) else 0


def _sync_once(store: SQLiteStore, config: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    from datetime import datetime, timezone

    from .sync import arxiv_api, hf, oai, rss
    from .sync.run import make_context
    from .sync.runner import sync_all

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
    ctx = make_context(store, config)
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


def _sync_forever(store: SQLiteStore, config: Any, every: float | None, as_json: bool) -> int:
    """``sync --all --every``: rounds in a background thread until Ctrl-C; ``--json`` prints JSON lines."""
    from .sync.schedule import start_sync_schedule

    interval = every or config.every
    print(f"paperradar: syncing every {interval:g} s (Ctrl-C stops)", file=sys.stderr)

    def on_reports(reports: list[dict[str, Any]]) -> None:
        if not as_json:
            _print_sync_reports(reports, False)
            return
        for report in reports:  # JSON lines: one report per line, as rounds finish
            sys.stdout.write(orjson.dumps(report).decode() + "\n")
        sys.stdout.flush()

    scheduler = start_sync_schedule(store, config, interval, on_reports=on_reports)
    try:
        while scheduler.running:
            scheduler.join(1.0)
    except KeyboardInterrupt:
        print("paperradar: stopping after the current request", file=sys.stderr)
        scheduler.stop()
    return 0


def _print_sync_reports(reports: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        _emit_json(reports)
        return
    for r in reports:
        print(_sync_line(r))
    sys.stdout.flush()


def _sync_line(r: dict[str, Any]) -> str:
    from .sync.run import describe

    counts = (f"{r['pages']} page{'s' if r['pages'] != 1 else ''}, {r['records']} records: {r['new']} new, "
              f"{r['updated']} updated, {r['unchanged']} unchanged" + (f", {r['rejected']} rejected" if r["rejected"] else ""))
    line = f"{r['source']} {describe(r['request'])}: {r['status']}, {counts}"
    for note in r["notes"]:
        line += f"\n  note: {note}"
    if r["error"]:
        line += f"\n  error: {r['error']}"
    return line


def _sync_status(store: SQLiteStore, as_json: bool) -> int:
    from .sync.run import describe
    from .sync.runner import status

    report = status(store)
    if as_json:
        _emit_json(report)
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


def _refresh_index(store: SQLiteStore) -> None:
    """Index what the keyword index lacks (after an interrupted import); skip if an import is running."""
    index = keyword_index(store)
    if not is_behind(store, index):
        return
    try:
        index.writer(wait=0)
    except IndexBusy:
        return
    try:
        catch_up(store, index)
    finally:
        index.close()
    index.refresh()


def _print_paper(row: dict[str, Any], rank: int) -> None:
    authors = ", ".join(row["authors"][:4]) + (" et al." if len(row["authors"]) > 4 else "")
    score = f"  score {row['score']:.2f}" if "score" in row else ""
    print(f"{rank:3d}. [{row['id']}] {row['title']}{score}")
    meta = [authors or "(no authors)", " ".join(row["categories"][:3]), row["published"] or "?"]
    if row["upvotes"]:
        meta.append(f"▲ {row['upvotes']}")
    print("     " + " · ".join(m for m in meta if m))


COMMANDS = {
    "import": cmd_import,
    "search": cmd_search,
    "show": cmd_show,
    "feed": cmd_feed,
    "stats": cmd_stats,
    "vote": cmd_vote,
    "sync": cmd_sync,
}

if __name__ == "__main__":
    sys.exit(main())
