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
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from ..app import Radar
from ..sync.schedule import Scheduler
from .outbox import DeliveryBusy, Outbox
from .subscribers import periods_due, queue_digests

log = logging.getLogger("paperradar.mail")

EVERY = 300.0


def start_digest_schedule(radar: Radar, outbox: Outbox, send_hour: int, base_url: str, every: float = EVERY,
                          now: Callable[[], datetime] = datetime.now) -> Scheduler:
    """Start the thread (see the module docstring); stop it with :meth:`Scheduler.stop`."""
    made: dict[str, date | None] = {"day": None}

    def job() -> None:
        try:
            moment = now()
            if moment.hour >= send_hour and made["day"] != moment.date():
                queued = queue_digests(radar, outbox, periods_due(moment.date()), base_url)
                made["day"] = moment.date()
                if queued.made or queued.empty or queued.errors:
                    log.info("%d digests made for %s, %d with nothing to send%s", queued.made,
                             ", ".join(queued.periods), queued.empty,
                             f", {len(queued.errors)} could not be made" if queued.errors else "")
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

