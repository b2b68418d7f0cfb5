"""What every evaluation set shares: its JSON-lines files, read with line numbers, and its corpus imported
into a temporary store, so that measuring never touches the user's database."""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..app import Radar
from ..importer import run_import
from ..store import SQLiteStore, on_server


class EvalError(ValueError):
    """The evaluation folder is missing a file or holds a bad line (the message names it)."""


def json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSON-lines file (gzip when it ends in .gz)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise EvalError(f"{path}, line {line_no}: not JSON ({exc})") from None
                if not isinstance(row, dict):
                    raise EvalError(f"{path}, line {line_no}: not a JSON object")
                yield line_no, row
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror or exc}") from None


def on_postgres(location: str | None) -> str | None:
    """The PostgreSQL URL an evaluation should measure on (``--db``/``$PAPERRADAR_DB``), None for SQLite."""
    return location if on_server(location) else None


@contextmanager
def _scratch(server: str | None) -> Iterator[Radar]:
    """A Radar over an empty temporary database: a SQLite file, or a database made on ``server``."""
    if server is None:
        with tempfile.TemporaryDirectory(prefix="paperradar-eval-") as tmp:
            yield Radar(SQLiteStore(Path(tmp) / "eval.db"))
        return
    from ..store import open_store
    from ..store.pg_scratch import temporary_database

    with temporary_database(server) as url:
        store = open_store(url)
        try:
            yield Radar(store)
        finally:
            store.dispose()  # type: ignore[attr-defined]  # the pool's connections, before the drop


@contextmanager
def imported(corpus: Path, fmt: str | None = None, progress: bool = False, server: str | None = None) -> Iterator[Radar]:
    """A :class:`Radar` over a temporary database holding ``corpus`` (removed afterwards); with ``server``
    (a PostgreSQL URL) a database made on that server for the purpose, so both backends can be measured."""
    with _scratch(server) as radar:
        try:
            summary = run_import(radar, [str(corpus)], fmt=fmt, progress=progress)
            if summary.exit_code == 2 or radar.store.count() == 0:
                raise EvalError(f"{corpus}: nothing could be imported ({'; '.join(summary.errors) or 'no papers'})")
            yield radar
        finally:
            radar.close()
