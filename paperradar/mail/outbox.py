"""Exactly-once mail: the outbox table, and the one delivery that empties it.

**Enqueueing** (:meth:`Outbox.enqueue`) stores the whole message (its
``Message-ID`` and ``Date`` fixed then) as one ``pending`` row. A digest row
carries its subscription and period, and the unique (subscription, kind,
period) index makes a second enqueue of the same period's digest a no-op:
however often ``digest send`` runs, a period's digest is made once.

**Delivery** (:meth:`Outbox.deliver`) is one at a time per database: it holds
an exclusive ``flock`` on ``<db>-mail.lock`` (the job lock ``mail`` of
:mod:`paperradar.store.job_lock`; on PostgreSQL a session advisory lock; the
kernel, or the server, lets go of it when the process dies, even by ``kill -9``), so a second delivery (another
``digest send``, the web's background thread, ``serve --sync``) does not
run beside it but leaves the new rows to it. For each mail:

1. claim it: ``pending`` → ``sending`` (attempts + 1) in one transaction;
2. hand it to the server (:meth:`paperradar.mail.smtp.Mailer.send`);
3. after the server's ``250``: ``sent``, in another transaction.
   A 4xx or a lost connection: ``pending`` again after a backoff
   (``backoff`` seconds, doubling, at most an hour) until ``tries`` attempts,
   then ``failed``. A 5xx: ``failed``, counted against the address, which
   is suspended after ``SUSPEND_AFTER`` in a row (a success resets the count).

Only one row is ever ``sending``. So when a delivery starts and finds one
(it holds the lock, so the delivery that claimed it is dead), that row is the
only mail whose fate is unknown: the process died between claiming it and
recording the server's answer. If it died before the server's ``250`` the
server did not take the mail (a server takes responsibility only with that
answer); if after it, the mail went. Nothing in the database can tell the
two apart, and a mail counts as sent only once its 250 is recorded, so it
is sent again (with the same ``Message-ID``, so most clients show it once).
That is the one unavoidable window: between the server's 250 and the commit
of ``sent`` (microseconds), at most one mail, which may reach its reader
twice; every other mail is sent exactly once, however the run ends.

**The rate limit**: at most ``rate`` messages a minute (evenly spaced), so a
thousand digests do not trip a provider's sending limits.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from ..store import StorageFault, Store
from ..store.job_lock import job_lock
from .smtp import DeliveryFailure, Mailer, MailError, MailSetupError, as_bytes, recipient_of

log = logging.getLogger("paperradar.mail")

SUSPEND_AFTER = 3  # permanent failures in a row that suspend an address
MAX_BACKOFF = 3600.0  # the longest wait between two tries of a mail
ACCOUNT_PRIORITY = 10  # sign-in links and confirmations go before a long digest run's mails
DIGEST = "digest"


@dataclass
class DeliveryReport:
    """What one delivery did."""

    sent: int = 0
    retried: int = 0  # temporary failures, tried again later
    failed: int = 0  # mails given up (permanent failures, tries used up)
    suspended: list[str] = field(default_factory=list)  # addresses suspended by this run
    resent: int = 0  # mails found `sending` (a delivery died with them) and sent again
    pending: int = 0  # left for a later delivery (a retry not due yet, or the run stopped)
    next_at: float | None = None  # when the earliest of those is due (Unix seconds)
    stopped: str | None = None  # why the run stopped early (the server unreachable, wrong settings)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class DeliveryBusy(MailError):
    """Another delivery holds the lock (it will send what was enqueued)."""


class Outbox:
    """Enqueue mails and deliver them, exactly once (see the module docstring).

    ``mailer`` is the transport, or a function that makes one when a delivery
    starts (None: mails can be enqueued but not delivered here). ``clock`` and
    ``sleep`` are there for tests.
    """

    def __init__(self, store: Store, mailer: Mailer | Callable[[], Mailer] | None = None, *, rate: float = 60.0,
                 tries: int = 8, backoff: float = 60.0, suspend_after: int = SUSPEND_AFTER,
                 sender: str | None = None, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.store = store
        self._mailer = mailer
        self.rate = rate
        self.tries = tries
        self.backoff = backoff
        self.suspend_after = suspend_after
        self.sender = sender or (mailer.sender if isinstance(mailer, Mailer) else None)
        self.clock = clock
        self._stop = threading.Event()
        self._sleep = sleep
        self._last_send: float | None = None
        self._memory_lock = threading.Lock()  # a database in memory has no file to lock beside it
        self._background: threading.Thread | None = None

    @classmethod
    def from_settings(cls, store: Store, settings: Any = None, env: Any = None) -> Outbox:
        """An outbox delivering through the mailer of ``$PAPERRADAR_SMTP_URL`` / ``[mail]``
        (:class:`paperradar.sync.config.MailSettings`); without a configured server it still
        enqueues, and :meth:`deliver` says that mail is not set up."""
        from .smtp import ENV_MAIL_FROM, MailNotConfigured

        try:
            mailer: Mailer | None = Mailer.from_settings(settings, env)
        except MailNotConfigured:
            mailer = None
        sender = mailer.sender if mailer else ((env if env is not None else os.environ).get(ENV_MAIL_FROM)
                                               or getattr(settings, "from_address", None))
        return cls(store, mailer, rate=getattr(settings, "rate", 60.0), tries=getattr(settings, "tries", 8),
                   backoff=getattr(settings, "backoff", 60.0), sender=sender)

    @property
    def configured(self) -> bool:
        return self._mailer is not None

    # -- enqueueing ------------------------------------------------------------------------

    def enqueue(self, kind: str, message: EmailMessage | bytes, recipient: str | None = None,
                subscription_id: int | None = None, user_id: int | None = None, period: str | None = None
                ) -> int | None:
        """Store a mail for delivery; its id, or None when the subscription already has its ``kind``
        mail for ``period`` (a rerun). Missing ``From`` (the configured sender), ``Date`` and
        ``Message-ID`` are set now, so that a mail sent twice is the same message."""
        if isinstance(message, EmailMessage):
            if message["From"] is None and self.sender:
                message["From"] = self.sender
            if message["Date"] is None:
                message["Date"] = format_datetime(datetime.now(UTC))
            if message["Message-ID"] is None:
                domain = parseaddr(str(message["From"] or ""))[1].rpartition("@")[2] or "paperradar.invalid"
                message["Message-ID"] = make_msgid("paperradar", domain=domain)
            message_id = str(message["Message-ID"])
        else:
            message_id = _header(message, "Message-ID") or ""
            if not message_id:
                raise ValueError("a message given as bytes must carry its Message-ID")
        data = as_bytes(message)
        to = recipient or recipient_of(data)
        if not to:
            raise ValueError("the message names no recipient (no To, and none given)")
        priority = 0 if kind == DIGEST else ACCOUNT_PRIORITY
        return self.store.enqueue_mail(kind, to, message_id, data, self.clock(), subscription_id=subscription_id,
                                       user_id=user_id, period=period, priority=priority)

    def send_now(self, kind: str, message: EmailMessage | bytes, recipient: str | None = None,
                 user_id: int | None = None) -> DeliveryReport | None:
        """Enqueue an account mail and deliver what is due at once, in this thread (the command
        line); None when another delivery is running (it sends this mail)."""
        self.enqueue(kind, message, recipient, user_id=user_id)
        return self.deliver_pending()

    # -- delivering ------------------------------------------------------------------------

    def deliver_pending(self) -> DeliveryReport | None:
        """Deliver what is due now without waiting for retries; None when another delivery holds
        the lock (it picks up what was just enqueued) or no mailer is set up."""
        if self._mailer is None:
            return None
        try:
            return self.deliver(wait=0.0, block=False)
        except DeliveryBusy:
            return None

    def deliver_in_background(self) -> threading.Thread | None:
        """Start :meth:`deliver_pending` in a daemon thread (for the web: a request that enqueued a
        sign-in link or a confirmation answers at once). None when no mailer is set up or this
        outbox's thread is still running (it will see the new mail)."""
        if self._mailer is None:
            return None
        if self._background is not None and self._background.is_alive():
            # It may be just about to finish; the lock's re-check in deliver() covers that case.
            return None

        def run() -> None:
            try:
                self.deliver_pending()
            except MailError as exc:
                log.error("mail: %s", exc)
            except Exception:  # a background thread must not die silently
                log.exception("mail delivery failed")
            finally:
                close = getattr(self.store, "close", None)
                if close is not None:
                    close()  # this thread's connection

        self._background = threading.Thread(target=run, name="paperradar-mail", daemon=True)
        self._background.start()
        return self._background

    def stop(self) -> None:
        """Ask a running delivery to stop after the mail in hand (and any wait to end at once)."""
        self._stop.set()

    def deliver(self, wait: float = 300.0, progress: Callable[[str, dict[str, Any]], None] | None = None,
                block: bool = True) -> DeliveryReport:
        """Send every mail that is due, retrying temporary failures whose next try falls within
        ``wait`` seconds; the rest stays pending for a later delivery. ``block``: wait for another
        delivery to finish first (else :class:`DeliveryBusy`). ``progress(event, mail)`` hears of
        each mail: ``sent``, ``retry``, ``failed``. :class:`MailSetupError` when the settings are
        wrong (the mail in hand is left pending, nothing counted against its address)."""
        if self._mailer is None:
            from .smtp import MailNotConfigured

            raise MailNotConfigured("mail is not set up: no SMTP server (PAPERRADAR_SMTP_URL or [mail] smtp_url)")
        started = time.monotonic()
        report = DeliveryReport()
        self._stop.clear()
        first = True
        while True:
            try:
                with self._locked(block if first else False):
                    self._deliver_locked(report, wait, progress)
            except DeliveryBusy:
                if first:
                    raise
                break  # another delivery took over: it sends the rest
            first = False
            # A mail enqueued while the lock was held may have been refused the lock by its own
            # delivery after this one last looked: look once more now that the lock is free.
            due = self.store.next_mail_at()
            if report.stopped or self._stop.is_set() or due is None or due > self.clock():
                break
        report.next_at = self.store.next_mail_at()
        report.pending = self.store.mail_counts()["pending"]
        report.seconds = round(time.monotonic() - started, 3)
        return report

    def _deliver_locked(self, report: DeliveryReport, wait: float,
                        progress: Callable[[str, dict[str, Any]], None] | None) -> None:
        for mail in self.store.recover_mail():
            report.resent += 1
            log.warning("mail %s to %s was being sent when a delivery stopped; sending it again "
                        "(the same Message-ID)", mail["id"], mail["recipient"])
        mailer = self._mailer() if callable(self._mailer) and not isinstance(self._mailer, Mailer) else self._mailer
        assert isinstance(mailer, Mailer)
        deadline = self.clock() + wait
        unreachable = 0  # connection failures in a row: the whole run waits, not each mail
        try:
            while not self._stop.is_set():
                mail = self.store.claim_mail(self.clock())
                if mail is None:
                    due = self.store.next_mail_at()
                    if due is None or due > deadline:
                        return
                    self._wait(due - self.clock())
                    continue
                self._pace()
                if self._stop.is_set():  # stopped during the wait: this mail was not handed over
                    self.store.mail_retry(mail["id"], "delivery stopped before sending", self.clock(), counted=False)
                    return
                try:
                    reply = mailer.send(mail["message"], mail["recipient"])
                except MailSetupError:
                    self.store.mail_retry(mail["id"], "not sent: the mail settings are wrong", self.clock(),
                                          counted=False)
                    raise
                except DeliveryFailure as exc:
                    unreachable = unreachable + 1 if exc.connection else 0
                    self._failed(mail, exc, report, progress, unreachable)
                    if exc.connection:
                        pause = min(MAX_BACKOFF, self.backoff * 2 ** (unreachable - 1))
                        if self.clock() + pause > deadline:
                            report.stopped = f"the SMTP server cannot be reached: {exc}"
                            return
                        self._wait(pause)
                    continue
                unreachable = 0
                self.store.mail_sent(mail["id"], reply)
                report.sent += 1
                if progress is not None:
                    progress("sent", mail)
        except MailSetupError as exc:
            report.stopped = str(exc)
            raise
        finally:
            mailer.close()

    def _failed(self, mail: dict[str, Any], exc: DeliveryFailure, report: DeliveryReport,
                progress: Callable[[str, dict[str, Any]], None] | None, unreachable: int) -> None:
        if exc.permanent:
            suspended = self.store.mail_failed(mail["id"], str(exc), True, self.suspend_after)
            report.failed += 1
            if suspended:
                report.suspended.append(mail["recipient"])
                log.warning("mail: %s suspended after %d permanent failures in a row (last: %s)",
                            mail["recipient"], self.suspend_after, exc)
            event = "failed"
        elif exc.connection:
            # The server could not be reached: not this mail's fault, so not one of its tries; it
            # waits with the whole run (never given up for it: the server may be down for a day).
            delay = min(MAX_BACKOFF, self.backoff * 2 ** (unreachable - 1))
            self.store.mail_retry(mail["id"], str(exc), self.clock() + delay, counted=False)
            report.retried += 1
            event = "retry"
        elif mail["attempts"] >= self.tries:
            self.store.mail_failed(mail["id"], f"gave up after {mail['attempts']} tries: {exc}", False,
                                   self.suspend_after)
            report.failed += 1
            event = "failed"
        else:
            delay = min(MAX_BACKOFF, self.backoff * 2 ** (mail["attempts"] - 1))
            self.store.mail_retry(mail["id"], str(exc), self.clock() + delay)
            report.retried += 1
            event = "retry"
        if progress is not None:
            progress(event, {**mail, "error": str(exc)})

    def _pace(self) -> None:
        """Wait for the next slot of the rate limit (``rate`` a minute, evenly spaced; 0: none)."""
        if self.rate <= 0:
            return
        if self._last_send is not None:
            self._wait(self._last_send + 60.0 / self.rate - self.clock())
        self._last_send = self.clock()

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            self._stop.wait(seconds)

    @contextmanager
    def _locked(self, block: bool) -> Iterator[None]:
        """The one delivery of this database: the job lock ``mail`` (:mod:`paperradar.store.job_lock`:
        an exclusive flock on ``<db>-mail.lock``; on PostgreSQL a session advisory lock)."""
        path = getattr(self.store, "path", None)
        if not path or path == ":memory:":
            if not self._memory_lock.acquire(blocking=block):
                raise DeliveryBusy("another delivery is running")
            try:
                yield
            finally:
                self._memory_lock.release()
            return
        if getattr(self.store, "read_only", None):  # a read-only copy of the site sends nothing
            raise StorageFault(path, self.store.read_only, "mail is delivered only where the database can be written")
        with job_lock(self.store, "mail").hold(block) as got:
            if not got:
                raise DeliveryBusy("another delivery is running")
            yield

def _header(data: bytes, name: str) -> str | None:
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    for line in head.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def outbox_for(radar: Any) -> Outbox:
    """The outbox of a running site (:class:`paperradar.app.Radar`): its store, and the mailer of
    ``$PAPERRADAR_SMTP_URL`` / the ``[mail]`` table ``serve`` read (``radar.settings.mail``).
    Cheap to make per request: deliveries are kept to one at a time by the lock file, not by
    the object. Without a configured server, mails are enqueued and wait for one."""
    settings = getattr(radar.settings, "mail", None)
    try:
        return Outbox.from_settings(radar.store, settings)
    except MailSetupError as exc:  # a malformed $PAPERRADAR_SMTP_URL: mails wait until it is fixed
        log.error("mail: %s", exc)
        return Outbox(radar.store, None, rate=getattr(settings, "rate", 60.0))
