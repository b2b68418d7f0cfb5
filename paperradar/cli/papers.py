"""Commands on the papers themselves: import, search, show, feed, stats, vote."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from ..present import featured_json, paper_json, shown_featured, snippet_text
from ..rank import feed as feeds
from ..rank.fusion import MODES, NotEmbedded
from ..rank.search import search
from ..sources import FORMATS
from ..sources.common import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS
from ..app import Radar
from ..store import Filters
from .common import (
    UsageError,
    emit_json,
    find_paper,
    not_negative,
    positive,
    print_paper,
    run_embedding,
    valid_date,
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("import", parents=[common], help="import papers from files, directories, .gz or - (stdin)",
                       description="Import papers. The format of each input is detected from its content.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="file, directory (read recursively), .gz file, or - for stdin")
    p.add_argument("--format", choices=sorted(FORMATS), help="read every input as this format instead of detecting it")
    p.add_argument("--strict", action="store_true", help="stop at the first bad record and import nothing")
    p.add_argument("--report", metavar="FILE", help="write every rejected record (JSON lines: file, line, reason) to FILE")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-embed", action="store_true",
                   help="store and keyword-index only; embed later with `paperradar embed`")
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("search", parents=[common], help="search papers by keyword and by meaning",
                       description='Search papers. Modes: keyword (BM25; syntax: words, "phrases", prefix*, a OR b, '
                                   "-exclude, title:, abstract:, author: fields), semantic (nearest in meaning), "
                                   "hybrid (both, fused by rank; the default). A long query, such as a pasted "
                                   "abstract, is read as plain text.")
    p.add_argument("query", nargs="?", help="what to look for; - (or nothing, with input piped) reads it from stdin")
    p.add_argument("--text-file", metavar="FILE", help="read the query from FILE (e.g. an abstract)")
    p.add_argument("--mode", choices=list(MODES), default="hybrid", help="ranking mode (default: hybrid)")
    p.add_argument("--limit", type=positive, default=10, help="number of results (default 10)")
    p.add_argument("--offset", type=not_negative, default=0, help="skip this many results (paging)")
    p.add_argument("--category", help="only papers in this arXiv category, e.g. cs.CL")
    p.add_argument("--author", help="only papers with this author name")
    p.add_argument("--since", type=valid_date, metavar="YYYY-MM-DD", help="first listed on or after this day")
    p.add_argument("--until", type=valid_date, metavar="YYYY-MM-DD", help="first listed on or before this day")
    p.add_argument("--json", action="store_true", help="print results as a JSON array")
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("show", parents=[common], help="show one paper", description="Show one paper by id.")
    p.add_argument("id", help="arXiv id (with or without version), DOI key (doi:...), or other paper id")
    p.add_argument("--json", action="store_true", help="print the paper as a JSON object")
    p.set_defaults(run=cmd_show)

    p = sub.add_parser("feed", parents=[common], help="papers featured or first listed on a day, week or month",
                       description="The papers featured in a period (Hugging Face Daily Papers and local "
                                   "submissions), or all papers first listed in it: most upvoted first, then "
                                   "newest. By default the featured papers when the period has any, else all.")
    period = p.add_mutually_exclusive_group(required=True)
    period.add_argument("--date", type=valid_date, metavar="YYYY-MM-DD", help="one day")
    period.add_argument("--week", type=valid_date, metavar="YYYY-MM-DD", help="the ISO week (Mon-Sun) containing this day")
    period.add_argument("--month", metavar="YYYY-MM", help="one month")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--featured", action="store_true",
                       help="only the papers featured in the period (the default when it has any)")
    which.add_argument("--all", action="store_true",
                       help="every paper first listed in the period (the default when none is featured)")
    p.add_argument("--category", help="only papers in this arXiv category")
    p.add_argument("--limit", type=positive, default=50, help="number of papers (default 50)")
    p.add_argument("--offset", type=not_negative, default=0, help="skip this many papers (paging)")
    p.add_argument("--json", action="store_true",
                   help="print papers as a JSON array (featured papers carry a \"featured\" object)")
    p.set_defaults(run=cmd_feed)

    p = sub.add_parser("stats", parents=[common], help="counts of papers, by source and category, date range",
                       description="Counts: papers, by source, by primary category, and the date range.")
    p.add_argument("--json", action="store_true", help="print as a JSON object")
    p.set_defaults(run=cmd_stats)

    p = sub.add_parser("vote", parents=[common], help="upvote a paper as the site's owner (or as --user)",
                       description="Vote for a paper as the site's owner (one vote per paper; --user: as that "
                                   "account), or take the vote back with --down. This site's votes add to the "
                                   "upvotes imported from Hugging Face.")
    p.add_argument("id", help="paper id")
    p.add_argument("--down", action="store_true", help="take the vote back")
    p.add_argument("--user", metavar="EMAIL", help="vote as this account instead of as the owner")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(run=cmd_vote)


INCOMPLETE = {
    "missing authors": "stored without author names: the source gave none",
    "missing abstract": "stored without an abstract: the source gave none",
}


def cmd_import(radar: Radar, args: argparse.Namespace) -> int:
    from ..importer import SHOWN_REJECTS, run_import

    progress = not args.no_progress and sys.stderr.isatty()
    try:
        report = open(args.report, "w", encoding="utf-8") if args.report else None
    except OSError as exc:
        raise UsageError(f"cannot write --report {args.report}: {exc.strerror or exc}") from exc
    fresh = radar.store.count() == 0
    try:
        summary = run_import(radar, args.paths, fmt=args.format, strict=args.strict, report=report, progress=progress)
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
    data = summary.as_json()
    if not args.json:
        print(
            f"{data['new']} new, {data['updated']} updated, {data['unchanged']} unchanged, "
            f"{n_rejected} rejected in {data['seconds']:.1f}s"
            + (f" ({data['papers_per_second']:.0f} papers/s)" if data["papers_per_second"] else ""),
            flush=True,
        )
        for reason, count in summary.rejected.most_common():
            print(f"  rejected, {reason}: {count}")
        if fresh and data["updated"]:
            print(f"  {data['updated']:,} updated on an empty database: more records of a paper already read in this"
                  " import (the same paper in two files or from two sources), merged into it")
        for what, count in summary.incomplete.most_common():
            print(f"  kept, {what}: {count} ({INCOMPLETE.get(what, 'stored as it came')})", flush=True)
        for what, count in summary.truncated.most_common():
            limit = MAX_TITLE_CHARS if what == "title" else MAX_ABSTRACT_CHARS
            where = f"each listed in {args.report}" if args.report else "--report FILE lists each with file and line"
            print(f"  truncated: {count} {what}{'s' if count > 1 else ''} longer than {limit:,} characters,"
                  f" stored cut to that ({where})", flush=True)
    if not args.no_embed and not summary.aborted:
        data["embedding"] = run_embedding(radar, progress, quiet=args.json)
    if args.json:
        emit_json(data)
    return summary.exit_code


def cmd_search(radar: Radar, args: argparse.Namespace) -> int:
    query = _query_text(args)
    filters = Filters(category=args.category, author=args.author, since=args.since, until=args.until)
    radar.refresh()
    try:
        rows = search(radar, query, args.mode, filters, limit=args.limit, offset=args.offset)
    except NotEmbedded as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    if args.json:
        emit_json([paper_json(r) for r in rows])
        return 0
    if not rows:
        print("no results")
    bold = ("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("**", "**")
    for rank, row in enumerate(rows, start=args.offset + 1):
        print_paper(row, rank)
        if row.get("snippet"):
            print("    " + snippet_text(row["snippet"], *bold))
    return 0


def _query_text(args: argparse.Namespace) -> str:
    """The query from the argument, --text-file, or stdin; a clear usage error when there is none."""
    if args.text_file and args.query not in (None, "-"):
        raise UsageError("search: give the query or --text-file, not both")
    if args.text_file:
        try:
            with open(args.text_file, encoding="utf-8", errors="replace") as f:
                query = f.read()
        except OSError as exc:
            raise UsageError(f"cannot read --text-file {args.text_file}: {exc.strerror or exc}") from exc
    elif args.query == "-" or (args.query is None and not sys.stdin.isatty()):
        query = sys.stdin.read()
    elif args.query is None:
        raise UsageError("search: what to look for? (a query, --text-file FILE, or text on stdin)")
    else:
        query = args.query
    return query  # an empty query finds nothing (not an error: a search box may send one)


def cmd_show(radar: Radar, args: argparse.Namespace) -> int:
    row = find_paper(radar.store, args.id)
    if row is None:
        return 1
    row = {**row, "featured": [shown_featured(radar.store, f) for f in row.get("featured", [])]}  # members by name
    if args.json:
        emit_json(paper_json(row, full=True))
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
    for f in row.get("featured", []):
        by = f" by {f['submitted_by']}" if f["submitted_by"] else ""
        print(f"featured: {f['day']} ({f['source']}{by})")
    print()
    print(row["abstract"] or "(no abstract)")
    print()
    print("sources: " + "; ".join(f"{s['source']} ({s['origin']}, {s['first_seen'][:10]})" for s in row["sources"]))
    return 0


def feed_period(args: argparse.Namespace) -> feeds.Period:
    """The period ``--date``, ``--week`` or ``--month`` asks for; a ValueError naming the option when it
    is not a month or lies outside the days a feed shows (feeds.FIRST_DAY to feeds.LAST_DAY)."""
    first, last = feeds.FIRST_DAY.isoformat(), feeds.LAST_DAY.isoformat()
    if args.month is not None:  # "" too: not a month
        try:
            period = feeds.parse_month(args.month)
        except ValueError as exc:
            raise ValueError(f"--month: {exc}") from None
        if not feeds.FIRST_DAY <= period.start <= feeds.LAST_DAY:
            raise ValueError(f"--month must be from {first[:7]} to {last[:7]}, not {args.month}")
        return period
    option, text = ("--date", args.date) if args.date is not None else ("--week", args.week)
    day = date.fromisoformat(text)
    if not feeds.FIRST_DAY <= day <= feeds.LAST_DAY:
        raise ValueError(f"{option} must be a day from {first} to {last}, not {text}")
    return feeds.day(day) if option == "--date" else feeds.week(day)


def cmd_feed(radar: Radar, args: argparse.Namespace) -> int:
    try:
        period = feed_period(args)
    except ValueError as exc:  # one line, as for a database that cannot be opened
        print(f"paperradar feed: {exc}", file=sys.stderr)
        return 2
    start, end = period.start.isoformat(), period.end.isoformat()
    store = radar.store
    featured = args.featured or (not args.all and store.has_featured(start, end))
    on = "on" if period.kind == "day" else "in"
    in_category = f" in {args.category}" if args.category else ""
    if featured:
        pairs, total = store.featured_papers(start, end, args.category, None, args.limit, args.offset)
        shown = [(row, shown_featured(store, f) or {}) for row, f in pairs]  # members by display name
        if args.json:
            emit_json([{**paper_json(row), "featured": featured_json(f)} for row, f in shown])
            return 0
        print(f"Featured {on} {period.label}: {total} papers{in_category}")
        for rank, (row, f) in enumerate(shown, start=args.offset + 1):
            print_paper(row, rank)
            print(f"     featured {f['day']}" + (f" by {f['submitted_by']}" if f["submitted_by"] else "")
                  + (" (local)" if f["source"] == "local" else ""))
        return 0
    rows, total = store.feed(start, end, args.category, args.limit, args.offset)
    if args.json:
        emit_json([paper_json(r) for r in rows])
        return 0
    print(f"All papers first listed {on} {period.label}: {total} papers{in_category}"
          + ("" if args.all else " (none featured)"))
    for rank, row in enumerate(rows, start=args.offset + 1):
        print_paper(row, rank)
    return 0


def cmd_stats(radar: Radar, args: argparse.Namespace) -> int:
    stats = radar.store.stats()
    if args.json:
        emit_json(stats)
        return 0
    print(f"papers: {stats['papers']}  (with upvotes: {stats['with_upvotes']})")
    print(f"dates: {stats['date_range']['first']} to {stats['date_range']['last']}")
    print("by source: " + ", ".join(f"{k} {v}" for k, v in stats["by_source"].items()))
    top = list(stats["by_category"].items())[:15]
    print("by primary category: " + ", ".join(f"{k} {v}" for k, v in top) + (" ..." if len(stats["by_category"]) > 15 else ""))
    return 0


def cmd_vote(radar: Radar, args: argparse.Namespace) -> int:
    """One vote per voter and paper: voting again changes nothing, --down takes it back."""
    row = find_paper(radar.store, args.id)
    if row is None:
        return 1
    user_id = None
    if args.user is not None:
        user = radar.store.get_user(args.user)
        if user is None:
            print(f"paperradar: no user with email {args.user!r} (see `paperradar users list`)", file=sys.stderr)
            return 1
        if user.disabled:
            print(f"paperradar: {user.email} is disabled: a disabled account cannot vote", file=sys.stderr)
            return 1
        user_id = user.id
    change = radar.store.remove_user_vote if args.down else radar.store.add_user_vote
    counts = change(row["id"], user_id)
    if args.json:
        emit_json({"id": row["id"], "upvotes": counts["total"], "users": counts["users"],
                   "huggingface": counts["huggingface"], "voted": not args.down})
    else:
        print(f"{row['id']}: {counts['total']} upvotes ({counts['users']} on this site, "
              f"{counts['huggingface']} on Hugging Face)")
    return 0
