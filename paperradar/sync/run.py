"""A sync run: fetch pages, check them, import them, record progress.

Every source client goes through the same three steps per page, so the
guarantees hold for all of them:

1. fetch with the polite client and parse the whole answer once as a check
   (damaged answers are fetched again; the service's own error answers
   raise at once);
2. import it with :func:`paperradar.importer.import_bytes`, the same
   pipeline as ``paperradar import`` (merge, keyword index), then embed what
   it brought with :meth:`paperradar.app.Radar.refresh` (the saved vector
   index is rewritten only once ``INDEX_EVERY`` vectors changed: searches see
   the rest through the store's vector log, so a long harvest does not
   rewrite it page after page);
3. add the page to the run's row (and, for OAI-PMH, move the harvest's
   resumption token on) in one transaction.

A run that fails keeps every page it imported. A database or index that
cannot be written (disk full, read-only) ends the run and the command: a
:class:`~paperradar.store.StorageFault`, one line for the user.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..app import Radar
from ..importer import ImportSummary, import_bytes
from ..model import FormatError
from ..sources import parser_for
from ..sources.arxiv_xml import ArxivApiError, OaiError
from ..store import StorageFault, Store
from ..store import sync_state
from .config import SyncConfig
from .http import FetchError, InvalidBody, PoliteClient, Response

log = logging.getLogger("paperradar.sync")

INDEX_EVERY = 5000  # vector changes that make a sync rewrite the saved vector index


class SyncFailed(Exception):
    """A source could not finish; the message says why, for the user."""


class Cancelled(Exception):
    """The run was asked to stop (the scheduler is shutting down) between two requests."""


@dataclass
class SyncContext:
    """What every source client needs: where to store, how to behave, how to fetch."""

    radar: Radar
    config: SyncConfig
    client: PoliteClient
    cancel: threading.Event = field(default_factory=threading.Event)
    embed: bool = True  # embed what each page brought (``sync --no-embed``: later, with ``paperradar embed``)

    @property
    def store(self) -> Store:
        return self.radar.store

    def checkpoint(self) -> None:
        """Called before each request: stop here if asked to (nothing is half done)."""
        if self.cancel.is_set():
            raise Cancelled("stopped before the next request; the next run goes on from here")


def make_context(
    radar: Radar, config: SyncConfig, cancel: threading.Event | None = None, embed: bool = True
) -> SyncContext:
    """A context whose client's pauses end early once ``cancel`` is set."""
    cancel = cancel or threading.Event()
    client = PoliteClient(config.contact, config.http, sleep=cancel.wait)
    return SyncContext(radar, config, client, cancel, embed)


def checked(fmt: str) -> Callable[[Response], None]:
    """A ``check`` for :meth:`PoliteClient.get`: the answer must parse as ``fmt`` to its end.

    Parsing twice (here and in the import) costs little next to the pause
    between requests, and it means a damaged answer is fetched again
    before anything of it is stored.
    """

    def check(response: Response) -> None:
        try:
            for _ in parser_for(fmt)(io.BytesIO(response.body), response.url):
                pass
        except (ArxivApiError, OaiError):
            raise  # the service's own answer: asking again would not change it
        except FormatError as exc:
            raise InvalidBody(str(exc)) from exc

    return check


class Run:
    """One run of one source, kept current in the store's ``sync_runs`` row."""

    def __init__(self, ctx: SyncContext, source: str, request: dict[str, Any]) -> None:
        self.ctx = ctx
        self.store = store = ctx.store
        self.source = source
        self.request = request
        self.notes: list[str] = []
        self.pages = 0
        self.id = store.start_sync_run(source, request)

    def import_page(
        self,
        response: Response,
        fmt: str,
        harvest: sync_state.Harvest | None = None,
        token: str | None = None,
        complete_list_size: int | None = None,
    ) -> ImportSummary:
        """Import one checked answer, run the after-import hook, record the page."""
        summary = import_bytes(self.ctx.radar, response.body, response.url, fmt)
        if self.ctx.embed and (summary.new or summary.updated):
            self.ctx.radar.refresh(embed=True, index_after=INDEX_EVERY)
        if summary.errors:  # the check parsed it, so only a store problem lands here
            raise SyncFailed("; ".join(summary.errors))
        counts = sync_state.Counts(
            records=sum(i.records for i in summary.inputs),
            new=summary.new,
            updated=summary.updated,
            unchanged=summary.unchanged,
            rejected=sum(summary.rejected.values()),
        )
        self.store.record_sync_page(self.id, counts, harvest, token, complete_list_size)
        self.pages += 1
        log.info("%s: page %d: %d records (%d new, %d updated, %d unchanged%s)", self.source, self.pages, counts.records,
                 counts.new, counts.updated, counts.unchanged,
                 f", {counts.rejected} rejected" if counts.rejected else "")
        return summary

    def note(self, text: str) -> None:
        """Something the user should know about this run (kept with it, shown by ``sync status``)."""
        self.notes.append(text)
        log.warning("%s: %s", self.source, text)


def execute(ctx: SyncContext, source: str, request: dict[str, Any], work: Callable[[Run], None]) -> dict[str, Any]:
    """Run ``work`` as one recorded run of ``source``; returns the run's report.

    Failures of the source (network, service errors, damaged answers after
    all tries) end the run as "failed" with their message; anything else is
    a bug or an interrupt: recorded, then raised.
    """
    store = ctx.store
    run = Run(ctx, source, request)
    log.info("%s: %s", source, describe(request))
    status, error = sync_state.OK, None
    try:
        work(run)
    except (SyncFailed, FetchError, FormatError) as exc:
        status, error = sync_state.FAILED, str(exc)
        log.error("%s failed: %s", source, error)
    except Cancelled as exc:
        status, error = sync_state.INTERRUPTED, str(exc)
        log.warning("%s: %s", source, error)
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        why = "interrupted" if interrupted else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, StorageFault):
            why = str(exc)
        try:
            store.finish_sync_run(run.id, sync_state.INTERRUPTED if interrupted else sync_state.FAILED, why, run.notes)
        except StorageFault:
            pass  # the disk is full too: the run's row keeps its last page; exc says what went wrong
        raise
    store.finish_sync_run(run.id, status, error, run.notes)
    return store.sync_run(run.id)


def describe(request: dict[str, Any]) -> str:
    """``set=cs from=2026-01-01`` style text of a run's request."""
    parts = []
    for key, value in request.items():
        if value is None or value == [] or value == "":
            continue
        parts.append(f"{key}={','.join(value) if isinstance(value, list) else value}")
    return " ".join(parts) or "(defaults)"
