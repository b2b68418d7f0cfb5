"""``paperradar recommend`` (a day's papers ranked for a reader, with why) and ``paperradar eval recs``.

``--library`` works without accounts: the ids given are the reader's
library (positives), ``--hidden`` their hidden papers (strong negatives).
``--user`` reads an account's library, upvotes, hidden papers and follows,
exactly as ``/for-you`` does (:func:`paperradar.rank.recommend.for_user`).
The ranking is :mod:`paperradar.rank.recommend`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..app import Radar
from ..present import paper_json
from .common import emit_json, positive, print_paper, valid_date

if TYPE_CHECKING:  # the recommender (scikit-learn, scipy) is imported when a command needs it
    from ..rank.recommend import ForYou

DEFAULT_LIMIT = 20


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("recommend", parents=[common], help="a day's papers ranked for a reader, with why",
                       description="Rank the papers first listed on a day for a reader: a linear model trained "
                                   "on their library (positives) and hidden papers (negatives) against a sample "
                                   "of the store, plus nearness to saved papers and their categories. Each paper "
                                   "says why: the saved papers it is closest to and the terms that weigh most. "
                                   "--library takes the library as ids (no account needed); --user reads an "
                                   "account's library, upvotes, hidden papers and follows, as /for-you does.")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--library", nargs="+", metavar="ID", help="the reader's library: paper ids (positives)")
    who.add_argument("--user", metavar="EMAIL", help="an account: its library, upvotes, hidden papers and follows")
    p.add_argument("--hidden", nargs="+", metavar="ID", default=[],
                   help="with --library: papers the reader hid (strong negatives; their near twins are dropped)")
    p.add_argument("--date", type=valid_date, metavar="YYYY-MM-DD",
                   help="the listing day whose papers are ranked (required with --library; "
                        "with --user the newest day with papers)")
    p.add_argument("--limit", type=positive, default=DEFAULT_LIMIT, help=f"number of papers (default {DEFAULT_LIMIT})")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (each paper with score and why)")
    p.set_defaults(run=cmd_recommend)


def register_eval(sets: Any, common: argparse.ArgumentParser) -> None:
    """``eval recs``: added to ``eval``'s sets by :mod:`paperradar.cli.semantic`."""
    e = sets.add_parser("recs", parents=[common], help="recommendations: would this reader want this paper?",
                        description="Import DIR/corpus.jsonl (or corpus.jsonl.gz) into a temporary store and embed "
                                    "it, rank each task of DIR/tasks.jsonl (the papers listed on the task's day, "
                                    "its library left out) with `recommend --library`, and print MRR, recall@10 "
                                    "and NDCG@10 (protocol: ../shared/eval/README.md).")
    e.add_argument("dir", metavar="DIR", help="folder with corpus.jsonl[.gz] and tasks.jsonl")
    e.add_argument("--json", action="store_true", help="print the scores as JSON")
    e.add_argument("--rankings", type=Path, metavar="FILE",
                   help='write every task\'s ranking to FILE as JSON: {"<user>|<day>": [ids, best first]}')
    e.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="tuning",
                   help="change one of the ranking's constants for this run (repeatable; the names are the fields "
                        "of rank/recommend.py's Tuning, e.g. --set vector=0 to measure without the vectors)")
    e.add_argument("--no-progress", action="store_true", help="no progress bars")
    e.set_defaults(run=cmd_eval_recs, uses_db=False)


def cmd_recommend(radar: Radar, args: argparse.Namespace) -> int:
    from ..rank import recommend as rec

    if args.library is not None:
        if not args.date:
            print("paperradar: recommend --library needs --date (the day whose papers are ranked)", file=sys.stderr)
            return 2
        try:
            found = rec.for_library(radar, args.library, args.hidden, args.date, limit=args.limit)
        except rec.UnknownPapers as exc:
            print(f"paperradar: {exc}", file=sys.stderr)
            return 1
        return _show(found, args.json)
    if args.hidden:
        print("paperradar: --hidden goes with --library (an account's hidden papers are read from it)",
              file=sys.stderr)
        return 2
    user = radar.store.get_user(args.user)
    if user is None:
        print(f"paperradar: no account with email {args.user!r}", file=sys.stderr)
        return 1
    day = date.fromisoformat(args.date) if args.date else _newest_day(radar)
    return _show(rec.for_user(radar, user.id, day, args.limit), args.json)


def _newest_day(radar: Radar) -> date:
    latest = radar.store.latest_day(date.today().isoformat())
    return date.fromisoformat(latest) if latest else date.today()


def _show(found: ForYou, as_json: bool) -> int:
    if as_json:
        emit_json({"date": found.day, "cold": found.cold, "reason": found.reason, "positives": found.positives,
                   "candidates": found.candidates,
                   "papers": [{**paper_json(r), "score": r.get("score"), "why": r.get("why")} for r in found.papers]})
        return 0
    print(f"{found.day}: {found.reason}")
    if not found.papers:
        print(f"no papers to recommend on {found.day}")
    for n, row in enumerate(found.papers, start=1):
        print_paper(row, n)
        for line in why_lines(row.get("why")):
            print("     " + line)
    return 0


def why_lines(why: dict[str, Any] | None) -> list[str]:
    """A paper's why in words: the saved papers it is close to, the terms, the follows it matches."""
    if not why:
        return []
    lines = []
    if why.get("near"):
        lines.append("close to: " + "; ".join(f"[{n['id']}] {_short(n['title'])} ({n['similarity']:.2f})"
                                             for n in why["near"]))
    if why.get("terms"):
        lines.append("terms: " + ", ".join(why["terms"]))
    if why.get("follows"):
        lines.append("you follow: " + ", ".join(why["follows"]))
    return lines


def _short(title: str, width: int = 60) -> str:
    title = " ".join(title.split())
    return title if len(title) <= width else title[: width - 1] + "…"


def cmd_eval_recs(radar: Radar | None, args: argparse.Namespace) -> int:
    from ..eval.corpus import EvalError
    from ..eval.recs import evaluate, text

    try:
        tuning = _tuning(args.tuning)
    except ValueError as exc:
        print(f"paperradar: --set: {exc}", file=sys.stderr)
        return 2
    try:
        result, rankings = evaluate(args.dir, progress=not args.no_progress and sys.stderr.isatty(), tuning=tuning)
    except EvalError as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 1
    if args.rankings:
        try:
            args.rankings.write_bytes(orjson.dumps(rankings))
        except OSError as exc:
            print(f"paperradar: cannot write {args.rankings}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    if args.json:
        emit_json(result)
    else:
        print(text(result))
    return 0


def _tuning(settings: list[str]) -> Any:
    """The default :class:`~paperradar.rank.recommend.Tuning` with ``NAME=VALUE`` changes."""
    from dataclasses import fields, replace

    from ..rank.recommend import DEFAULT

    types = {f.name: type(getattr(DEFAULT, f.name)) for f in fields(DEFAULT)}
    changes: dict[str, Any] = {}
    for item in settings:
        name, sep, value = item.partition("=")
        if not sep or name not in types:
            raise ValueError(f"expected NAME=VALUE with NAME one of {', '.join(types)}: {item!r}")
        try:
            changes[name] = types[name](value)
        except ValueError:
            raise ValueError(f"{name} takes a {types[name].__name__}: {value!r}") from None
    return replace(DEFAULT, **changes)
