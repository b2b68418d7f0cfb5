"""What every subcommand shares: argument types, JSON output, how a paper is printed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

import orjson

from ..rank import feed as feeds
from ..app import Radar
from ..store import Store, StoredPaper


class UsageError(Exception):
    """Bad arguments discovered after parsing (exit code 2)."""


def valid_date(text: str) -> str:
    try:
        return feeds.parse_day(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


MAX_NUMBER = 1_000_000_000  # limits and offsets: more than any store holds; beyond it SQLite and tantivy overflow


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_NUMBER:
        raise argparse.ArgumentTypeError(f"not a positive number (at most {MAX_NUMBER:,}): {text[:40]!r}")
    return value


def not_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_NUMBER:
        raise argparse.ArgumentTypeError(f"not a number from 0 to {MAX_NUMBER:,}: {text[:40]!r}")
    return value


def emit_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def find_paper(store: Store, paper_id: str) -> StoredPaper | None:
    """The stored paper, or None after telling the user it is unknown."""
    row = store.get(paper_id)
    if row is None:
        print(f"paperradar: no paper with id {paper_id!r}", file=sys.stderr)
    return row


def print_paper(row: Mapping[str, Any], rank: int) -> None:
    authors = ", ".join(row["authors"][:4]) + (" et al." if len(row["authors"]) > 4 else "")
    score = f"  score {row['score']:.2f}" if "score" in row else ""
    print(f"{rank:3d}. [{row['id']}] {row['title']}{score}")
    meta = [authors or "(no authors)", " ".join(row["categories"][:3]), row["published"] or "?"]
    if row["upvotes"]:
        meta.append(f"▲ {row['upvotes']}")
    print("     " + " · ".join(m for m in meta if m))


def run_embedding(radar: Radar, progress: bool, quiet: bool = False) -> dict[str, Any]:
    """Embed what needs it after an import or sync; Ctrl-C leaves the rest for `paperradar embed`."""
    try:
        report = radar.refresh(embed=True, progress=progress).embedding
    except KeyboardInterrupt:
        print("paperradar: embedding interrupted; finished batches are kept, `paperradar embed` does the rest",
              file=sys.stderr)
        raise
    assert report is not None
    data = report.as_json()
    if not quiet and report.pending:
        rate = f" ({data['papers_per_second']:.0f} papers/s)" if data["papers_per_second"] else ""
        print(f"embedded {report.embedded} papers in {report.seconds:.1f}s{rate}", flush=True)
    return data
