"""Run ``sync --all`` on the configured schedule in a background thread.

Used by ``paperradar sync --all --every`` and by ``serve --sync``: the web
server starts a :class:`Scheduler` and stops it on shutdown.
The first run starts at once, the next ``every`` seconds after the previous
one started (at once if a run took longer). A failing run is logged and the
schedule goes on. :meth:`Scheduler.stop` wakes the thread from its wait and
asks a run in progress to stop before its next request; what it stopped
(an OAI-PMH harvest) resumes at the next page on the next run.

**Several processes, one database** (``serve --workers N``, or ``serve --sync``
on several hosts sharing a PostgreSQL database): a scheduler given a
:class:`Shared` runs its job only while it holds the job's named lock
(:mod:`paperradar.store.job_lock`), taken without waiting at each tick (the
others skip that tick), and only when the round is due by the store: the
start of the last round, whoever ran it, is kept in ``meta``
(``schedule:NAME``). So N schedulers started together make one round, and
the next one ``every`` seconds after it, whichever process makes it. A
shared scheduler looks every :data:`POLL` seconds at most (sooner when the
next round is due sooner), so a round is never late by more than that when
its holder died. The processes of one ``serve`` share a ``generation``: a
new ``serve`` starts with a round at once, as a lone one always did, but
its workers do not each start one.

A thread waiting on an Event rather than APScheduler (3.x), which would not
be sturdier here: it times runs by the wall clock (a clock change moves
them; this loop uses the monotonic clock), skips a run that would overlap
a late one with a warning instead of starting it at once, and can neither
ask a running job to stop nor be joined with a timeout, so the Event, the
counters and the join would all still be needed on top of it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..app import Radar
from ..store import StorageFault, Store
from ..store.job_lock import job_lock
from .config import SyncConfig
from .run import make_context
from .runner import sync_all

log = logging.getLogger("paperradar.sync")

POLL = 60.0  # seconds at most between a shared scheduler's looks at its lock and the last round


@dataclass
class Shared:
    """A job shared by the schedulers of every process on ``store``'s database: its lock's and its
    stamp's ``name``, and the ``generation`` of the processes started together (one ``serve``)."""

    store: Store
    name: str
    generation: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def key(self) -> str:
        return f"schedule:{self.name}"

    def last(self) -> tuple[float, str] | None:
        """When the last round started (epoch seconds) and which generation started it; None: never."""
        raw = self.store.get_meta(self.key)
        try:
            data = json.loads(raw) if raw else None
            return (float(data["started"]), str(data["generation"])) if data else None
        except (ValueError, TypeError, KeyError):  # a stamp written by hand: as if none
            return None

    def stamp(self, started: float) -> None:
        self.store.set_meta(self.key, json.dumps({"started": started, "generation": self.generation}))


class Scheduler:
    """Calls ``job`` now and then every ``every`` seconds until :meth:`stop`; with ``shared``, only when
    this process holds the job's lock and the round is due (see the module docstring)."""

    def __init__(self, job: Callable[[], Any], every: float, name: str = "paperradar-sync",
                 shared: Shared | None = None) -> None:
        if every <= 0:
            raise ValueError("every must be more than 0 seconds")
        self.job = job
        self.every = every
        self.shared = shared
        self.runs = 0  # jobs finished (failed ones included)
        self.failures = 0
        self.skipped = 0  # ticks (shared) where another process held the lock or had run the round
        self._ticked = False  # a shared scheduler's first look is done
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
            if self.shared is None:
                started = time.monotonic()
                self._run()
                wait = started + self.every - time.monotonic()
            else:
                wait = self._shared_tick(self.shared)
            self._stop.wait(max(0.0, wait))

    def _run(self) -> None:
        try:
            self.job()
        except StorageFault as exc:  # disk full: one line each round; the next may find space again
            self.failures += 1
            log.error("paperradar: %s", exc)
        except Exception:  # a bug in one run must not end the schedule
            self.failures += 1
            log.exception("scheduled %s failed", self._thread.name.removeprefix("paperradar-"))
        self.runs += 1

    def _shared_tick(self, shared: Shared) -> float:
        """One look: run the round if this process holds the lock and it is due; the seconds to the next look."""
        poll = min(self.every, POLL)
        first, self._ticked = not self._ticked, True
        try:
            with job_lock(shared.store, shared.name).hold() as got:
                if not got:  # another process runs it now
                    self.skipped += 1
                    return poll
                last = shared.last()
                now = time.time()
                if last is not None and not (first and last[1] != shared.generation):
                    due_in = last[0] + self.every - now
                    if due_in > 0.001 * self.every:  # a wake-up a hair early counts as on time
                        self.skipped += 1
                        return min(poll, due_in)
                shared.stamp(now)
                self._run()
                return min(poll, now + self.every - time.time())
        except Exception as exc:  # noqa: BLE001 - the lock or the stamp could not be had: try again later
            self.failures += 1
            log.error("paperradar: scheduled %s: %s", shared.name, exc)
            return poll
        finally:
            shared.store.close()  # this thread's connection; the next look opens a fresh one


def start_sync_schedule(
    radar: Radar,
    config: SyncConfig,
    every: float | None = None,
    on_reports: Callable[[list[dict[str, Any]]], None] | None = None,
    embed: bool = True,
    generation: str | None = None,
) -> Scheduler:
    """Start running ``sync --all`` every ``every`` seconds (default: the config's schedule).

    ``on_reports`` gets each round's run reports (the CLI prints them);
    ``embed`` embeds what each page brought (see :mod:`paperradar.sync.run`).
    With ``generation`` the schedule is shared (:class:`Shared`, job ``sync``) by
    every process of that generation and any other scheduler on the database.
    """

    def job() -> None:
        try:
            reports = sync_all(ctx)
        finally:
            radar.store.close()  # this thread's connection; the next round opens a fresh one
        if on_reports is not None:
            on_reports(reports)

    shared = Shared(radar.store, "sync", generation) if generation is not None else None
    scheduler = Scheduler(job, every or config.every, shared=shared)
    ctx = make_context(radar, config, cancel=scheduler.stopping, embed=embed)
    return scheduler.start()
