"""Run ``sync --all`` on the configured schedule in a background thread.

Used by ``paperradar sync --all --every`` and by ``serve --sync``: the web
server starts a :class:`Scheduler` and stops it on shutdown.
The first run starts at once, the next ``every`` seconds after the previous
one started (at once if a run took longer). A failing run is logged and the
schedule goes on. :meth:`Scheduler.stop` wakes the thread from its wait and
asks a run in progress to stop before its next request; what it stopped
(an OAI-PMH harvest) resumes at the next page on the next run.

A thread waiting on an Event rather than APScheduler (3.x), which would not
be sturdier here: it times runs by the wall clock (a clock change moves
them; this loop uses the monotonic clock), skips a run that would overlap
a late one with a warning instead of starting it at once, and can neither
ask a running job to stop nor be joined with a timeout, so the Event, the
counters and the join would all still be needed on top of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..app import Radar
from ..store import StorageFault
from .config import SyncConfig
from .run import make_context
from .runner import sync_all

log = logging.getLogger("paperradar.sync")


class Scheduler:
    """Calls ``job`` now and then every ``every`` seconds until :meth:`stop`."""

    def __init__(self, job: Callable[[], Any], every: float, name: str = "paperradar-sync") -> None:
        if every <= 0:
            raise ValueError("every must be more than 0 seconds")
        self.job = job
        self.every = every
        self.runs = 0  # jobs finished (failed ones included)
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to end and wait for it (a running job is not cut short)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def stopping(self) -> threading.Event:
        """Set once :meth:`stop` was called; long jobs check it between requests."""
        return self._stop

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.job()
            except StorageFault as exc:  # disk full: one line each round; the next may find space again
                self.failures += 1
                log.error("paperradar: %s", exc)
            except Exception:  # a bug in one run must not end the schedule
                self.failures += 1
                log.exception("scheduled sync failed")
            self.runs += 1
            self._stop.wait(max(0.0, started + self.every - time.monotonic()))


def start_sync_schedule(
    radar: Radar,
    config: SyncConfig,
    every: float | None = None,
    on_reports: Callable[[list[dict[str, Any]]], None] | None = None,
    embed: bool = True,
) -> Scheduler:
    """Start running ``sync --all`` every ``every`` seconds (default: the config's schedule).

    ``on_reports`` gets each round's run reports (the CLI prints them);
    ``embed`` embeds what each page brought (see :mod:`paperradar.sync.run`).
    """

    def job() -> None:
        try:
            reports = sync_all(ctx)
        finally:
            radar.store.close()  # this thread's connection; the next round opens a fresh one
        if on_reports is not None:
            on_reports(reports)

    scheduler = Scheduler(job, every or config.every)
    ctx = make_context(radar, config, cancel=scheduler.stopping, embed=embed)
    return scheduler.start()
