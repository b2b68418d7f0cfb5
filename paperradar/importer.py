"""The import pipeline: inputs -> format detection -> parser -> store, in batches.

It reads every input to the end it can reach. A bad record is rejected with
its file and line and never stops the good ones (unless ``strict``); a
damaged input (unknown format, truncated gzip, broken XML) is reported in one
line, keeps the records read before the damage, and makes the exit code 1.
Batches are written in their own transactions, so a paper is never half
written and a crash loses at most the batch in flight.
"""

from __future__ import annotations

import gzip
import queue
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from tqdm import tqdm

from .model import FormatError, Paper, Reject
from .sources import FORMATS, parser_for
from .sources.detect import HEAD_BYTES, detect, looks_binary
from .sources.inputs import Input, expand
from .app import ImportIndexing, Radar

BATCH = 5000
SWITCH_INTERVAL = 0.0005  # seconds: see _quick_gil_handoffs
_interval_lock = threading.Lock()
_importing = 0  # imports running in this process (they share its switch interval)
_interval_before = 0.005
SHOWN_REJECTS = 20


@dataclass
class Rejected:
    file: str
    line: int
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class InputResult:
    name: str
    format: str | None = None
    records: int = 0
    error: str | None = None


@dataclass
class ImportSummary:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    incomplete: Counter[str] = field(default_factory=Counter)
    truncated: Counter[str] = field(default_factory=Counter)  # by field: "title", "abstract"
    first_rejects: list[Rejected] = field(default_factory=list)
    inputs: list[InputResult] = field(default_factory=list)
    seconds: float = 0.0
    aborted: str | None = None  # why a --strict import was rolled back

    @property
    def errors(self) -> list[str]:
        return [f"{i.name}: {i.error}" for i in self.inputs if i.error]

    @property
    def exit_code(self) -> int:
        return 1 if self.errors or self.aborted else 0

    def as_json(self) -> dict[str, Any]:
        records = self.new + self.updated + self.unchanged
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": sum(self.rejected.values()),
            "rejected_by_reason": dict(self.rejected.most_common()),
            "incomplete": dict(self.incomplete.most_common()),
            "truncated": sum(self.truncated.values()),
            "truncated_by_field": dict(self.truncated.most_common()),
            "inputs": [vars(i) for i in self.inputs],
            "errors": self.errors,
            "aborted": self.aborted,
            "seconds": round(self.seconds, 3),
            "papers_per_second": round(records / self.seconds, 1) if self.seconds else None,
        }


class StrictAbort(Exception):
    """--strict met a bad record or a damaged input: roll everything back."""


def run_import(
    radar: Radar,
    paths: list[str],
    fmt: str | None = None,
    strict: bool = False,
    report: IO[str] | None = None,
    progress: bool = True,
) -> ImportSummary:
    """Import every input named in ``paths``; never raises for bad data."""
    summary = ImportSummary()
    return _run(radar, _expand(paths, summary), summary, fmt, strict, report, progress)


def import_bytes(radar: Radar, data: bytes, name: str, fmt: str | None = None) -> ImportSummary:
    """Import one in-memory input (e.g. a page a sync client fetched) through the same pipeline.

    ``name`` is what provenance and error messages show (e.g. the URL).
    """
    summary = ImportSummary()
    return _run(radar, [Input(name, len(data), None, data)], summary, fmt, False, None, False)


def _run(
    radar: Radar,
    inputs: list[Input],
    summary: ImportSummary,
    fmt: str | None,
    strict: bool,
    report: IO[str] | None,
    progress: bool,
) -> ImportSummary:
    started = time.perf_counter()
    total = sum(i.size or 0 for i in inputs) or None
    bar = tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="import", delay=0.5,
        disable=not progress, file=sys.stderr, dynamic_ncols=True,
    )  # fmt: skip
    with _quick_gil_handoffs():
        writer = _Writer(radar, summary, strict)
        writer.start()
        job = _Job(writer, summary, strict, report, bar)
        try:
            for item in inputs:
                job.read(item, fmt)
        except StrictAbort as exc:
            summary.aborted = str(exc)
        except BaseException:
            writer.finish(abort=strict)
            raise
        finally:
            bar.close()
        writer.finish(abort=summary.aborted is not None)
    if summary.aborted:
        summary.new = summary.updated = summary.unchanged = 0
    summary.seconds = time.perf_counter() - started
    return summary


@contextmanager
def _quick_gil_handoffs() -> Iterator[None]:
    """Let a thread that waited outside the GIL have it back sooner while an import runs.

    The writer thread hands each document to tantivy's indexing thread and
    waits, GIL released, whenever that thread is behind; getting the GIL back
    from the parsing thread then takes up to the switch interval (5 ms by
    default) every time. Measured with a busy Python thread beside 60,000
    documents being added: 21.0 s at 5 ms, 12.9 s at 0.5 ms; the whole 115k
    import, 3 interleaved rounds on a loaded machine: median 51.8 s at 5 ms,
    40.7 s at 0.5 ms (bench/README.md). The interval is the process's, and a
    server may run two imports at once: the first one in sets it, the last
    one out puts the old value back.
    """
    global _importing, _interval_before
    with _interval_lock:
        if _importing == 0:
            _interval_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_interval_before, SWITCH_INTERVAL))
        _importing += 1
    try:
        yield
    finally:
        with _interval_lock:
            _importing -= 1
            if _importing == 0:
                sys.setswitchinterval(_interval_before)


def _expand(paths: list[str], summary: ImportSummary) -> list[Input]:
    inputs: list[Input] = []
    for p in paths:
        try:
            inputs.extend(expand([p]))
        except FileNotFoundError:
            summary.inputs.append(InputResult(p, error="no such file or directory"))
    return inputs


class _Writer(threading.Thread):
    """Writes batches to the store while the main thread parses the next ones.

    SQLite does its work (indexing included) without holding the GIL, so on
    two cores parsing and writing overlap. With ``strict`` the whole run is
    one transaction that :meth:`abort` rolls back.
    """

    _ABORT = object()
    _DONE = object()

    def __init__(self, radar: Radar, summary: ImportSummary, strict: bool) -> None:
        super().__init__(name="paperradar-writer", daemon=True)
        self.radar = radar
        self.store = radar.store
        self.summary = summary
        self.strict = strict
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self._ended = False  # the main thread's last item (done or abort) was taken

    def run(self) -> None:
        try:
            with self.radar.indexing() as indexing:  # caught up first: whatever an interrupted run left
                if self.strict:
                    with self.store.write() as conn:
                        self._loop(conn, None)
                    indexing.catch_up()  # index what the transaction committed
                else:
                    self._loop(None, indexing)
        except StrictAbort:
            pass  # rolled back by store.write(); nothing to index
        except BaseException as exc:  # re-raised in the main thread by put()/finish()
            self.error = exc
            # Keep draining so the producer never blocks forever, unless the last item was taken
            # already (the failure came after it: the index commit on a full disk).
            while not self._ended:
                self._ended = self.queue.get() in (self._DONE, self._ABORT)
        finally:
            self.store.close()

    def _loop(self, conn: Any, indexing: ImportIndexing | None) -> None:
        while True:
            item = self.queue.get()
            self._ended = item is self._DONE or item is self._ABORT
            if item is self._DONE:
                return
            if item is self._ABORT:
                raise StrictAbort()
            papers, origin = item
            result = self.store.merge(papers, origin, conn=conn)
            if indexing is not None:
                indexing.add(result)
            s = self.summary
            s.new += result.new
            s.updated += result.updated
            s.unchanged += result.unchanged

    def put(self, papers: list[Paper], origin: str) -> None:
        self._check()
        self.queue.put((papers, origin))

    def finish(self, abort: bool = False) -> None:
        self.queue.put(self._ABORT if abort else self._DONE)
        self.join()
        self._check()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error


class _Job:
    """State of one import run: the open batch, counters, the report file."""

    def __init__(self, writer: _Writer, summary: ImportSummary, strict: bool, report: IO[str] | None, bar: tqdm) -> None:
        self.writer = writer
        self.summary = summary
        self.strict = strict
        self.report = report
        self.bar = bar
        self.batch: list[Paper] = []
        self.origin = ""
        self.records = 0

    def read(self, item: Input, fmt: str | None) -> None:
        result = InputResult(item.name)
        self.summary.inputs.append(result)
        self.origin = item.name
        try:
            with item.open(self.bar.update) as stream:
                head = stream.peek(HEAD_BYTES)[:HEAD_BYTES]
                result.format = fmt or detect(head)
                if result.format is None and head.strip():
                    result.error = _unknown_format(head)
                elif result.format is None:
                    pass  # an empty input: read to its end, nothing in it
                else:
                    for line, record in parser_for(result.format)(stream, item.name):
                        result.records += 1
                        self.take(item.name, line, record)
        except StrictAbort:
            raise
        except (FormatError, EOFError, gzip.BadGzipFile, zlib.error, OSError, UnicodeDecodeError, ValueError) as exc:
            result.error = _describe(exc)
        finally:
            self.flush()
        if result.error and self.strict:
            raise StrictAbort(f"{item.name}: {result.error}")

    def take(self, name: str, line: int, record: Paper | Reject) -> None:
        if isinstance(record, Reject):
            rejected = Rejected(name, line, record.reason, record.detail)
            if self.strict:
                raise StrictAbort(str(rejected))
            self.summary.rejected[record.reason] += 1
            if len(self.summary.first_rejects) < SHOWN_REJECTS:
                self.summary.first_rejects.append(rejected)
            if self.report is not None:
                self.report.write(orjson.dumps(vars(rejected)).decode() + "\n")
            return
        for cut_field, full in record.cut.items():  # stored cut to the limit: counted, and listed in --report
            self.summary.truncated[cut_field] += 1
            if self.report is not None:
                kept = len(getattr(record, cut_field))
                entry = {"file": name, "line": line, "truncated": cut_field, "length": full, "kept": kept}
                self.report.write(orjson.dumps(entry).decode() + "\n")
        if not record.abstract:
            self.summary.incomplete["missing abstract"] += 1
        if not record.authors:
            self.summary.incomplete["missing authors"] += 1
        self.batch.append(record)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        self.writer.put(self.batch, self.origin)
        self.records += len(self.batch)
        self.batch = []
        self.bar.set_postfix(papers=self.records, refresh=False)


def _unknown_format(head: bytes) -> str:
    kind = "binary data" if looks_binary(head) else "text in no known format"
    return f"not a recognised format ({kind}); use --format to name one of: {', '.join(FORMATS)}"


def _describe(exc: BaseException) -> str:
    """One line for a damaged input, without a traceback."""
    if isinstance(exc, EOFError):
        return "truncated gzip file (compressed data ends early)"
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
        return f"damaged gzip data ({exc})"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, UnicodeDecodeError):
        return f"bad encoding: invalid UTF-8 at byte {exc.start}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__

