"""``serve --sync``: the digests made each day from ``[mail] send_hour``, the outbox kept moving.

Every ``every`` seconds (five minutes) a background thread (the sync
schedule's :class:`~paperradar.sync.schedule.Scheduler`) delivers what is due
in the outbox (account mails the web enqueued and could not hand over at
once, retries whose time has come) and, once a day from ``send_hour`` (local
time), makes that day's digests (:func:`~paperradar.mail.subscribers.periods_due`:
the daily one, and on Sundays the weekly one; a Sunday missed is made up on
the next day). Exactly once holds here as in ``digest send``: the outbox's
unique (subscription, kind, period) and its delivery lock make a restart, or
a ``digest send`` run beside the server, send nothing twice.

With several processes on one database (``serve --workers N``, or servers on
several hosts), each runs this thread; the day's digests are made by one of
them: the one that holds the job lock ``digests``
(:mod:`paperradar.store.job_lock`, taken without waiting) and finds that
day not yet in ``meta`` (``schedule:digests``, written once the day's
digests are all queued, so a maker killed halfway leaves the day to the
next tick, which queues only what is missing). Delivery is the outbox's:
one delivery at a time, by the lock named ``mail``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from ..app import Radar
from ..store.job_lock import job_lock
from ..sync.schedule import Scheduler
from .outbox import DeliveryBusy, Outbox
from .subscribers import periods_due, queue_digests

log = logging.getLogger("paperradar.mail")

EVERY = 300.0
MADE = "schedule:digests"  # meta: the last day whose digests were all queued


def start_digest_schedule(radar: Radar, outbox: Outbox, send_hour: int, base_url: str, every: float = EVERY,
                          now: Callable[[], datetime] = datetime.now) -> Scheduler:
    """Start the thread (see the module docstring); stop it with :meth:`Scheduler.stop`."""
    made: dict[str, date | None] = {"day": None}

    def job() -> None:
        try:
            moment = now()
            due = moment.hour >= send_hour and made["day"] != moment.date()
            if due and _make_digests(radar, outbox, moment.date(), base_url):
                made["day"] = moment.date()
            try:
                report = outbox.deliver(wait=0.0, block=False)
            except DeliveryBusy:  # `digest send` is running: it sends them
                return
            if report.sent or report.failed or report.stopped:
                log.info("mail: %d sent, %d failed, %d to retry%s", report.sent, report.failed,
                         report.pending, f" ({report.stopped})" if report.stopped else "")
        finally:
            radar.store.close()  # this thread's connection; the next round opens a fresh one

    return Scheduler(job, every, name="paperradar-mail").start()


def _make_digests(radar: Radar, outbox: Outbox, day: date, base_url: str) -> bool:
    """Queue ``day``'s digests unless another process is making them or made them; True when they are made."""
    store = radar.store
    with job_lock(store, "digests").hold() as got:
        if not got:  # another process is making them: look again at the next tick
            return False
        if store.get_meta(MADE) == day.isoformat():
            return True
        queued = queue_digests(radar, outbox, periods_due(day), base_url)
        store.set_meta(MADE, day.isoformat())
    if queued.made or queued.empty or queued.errors:
        log.info("%d digests made for %s, %d with nothing to send%s", queued.made,
                 ", ".join(queued.periods), queued.empty,
                 f", {len(queued.errors)} could not be made" if queued.errors else "")
    return True

