"""Subscribers: double opt-in, unsubscribing, and making the digests that are due.

**Subscribing** (:func:`subscribe`): an address given by anyone (the form on
every page) gets a confirmation link and no digest until it is followed; the
link's token is random (256 bits) and only its sha256 is stored, valid for
:data:`CONFIRM_LIFETIME`. The site's owner (``digest subscribe --confirmed``)
or an account subscribing its own address vouch for it: active at once. An
active subscription is never changed by the anonymous form (a stranger cannot
change someone's frequency), but a new link is made for an inactive one.

**Unsubscribing** takes the token of the link in every digest (stored as it is:
see migration 8) and cancels the subscription's digests not sent yet in the
same transaction, so no mail follows an unsubscribe.

**The periods** (:func:`periods_due`): ``digest send --date D`` is for the
daily digest of D, and for the weekly digest of the ISO week (Monday to Sunday)
that ended last, on or before D: on a Sunday, the week ending that day; on any
other day, the week before, so a Sunday missed (the server down) is made up
the next time. The outbox's unique (subscription, kind, period) makes each
once: running it every hour sends nothing twice.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .. import accounts
from ..app import Radar
from ..store import StorageFault, Store
from .outbox import DIGEST, Outbox

log = logging.getLogger("paperradar.mail")

CONFIRM_LIFETIME = timedelta(days=2)  # the confirmation link (the mail says so: messages.CONFIRM_LIFETIME)
FREQUENCIES = ("daily", "weekly")
MAX_CATEGORIES = 50
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z-]*(\.[A-Za-z][A-Za-z-]*)?$")  # cs, cs.CL, physics.hep-th, q-bio.NC


class SubscriptionError(ValueError):
    """A value for a subscription is not acceptable; ``str()`` names the field."""


@dataclass
class Subscribed:
    """What :func:`subscribe` did: the subscription, ``created``/``updated``/``unchanged``, and the
    confirmation token to mail (None when no confirmation is needed or the subscription is active)."""

    subscription: dict[str, Any]
    outcome: str
    confirm_token: str | None = None


def check_frequency(value: str) -> str:
    if value not in FREQUENCIES:
        raise SubscriptionError(f"frequency: must be daily or weekly, not {value!r}")
    return value


def check_categories(values: str | Iterable[str] | None) -> list[str]:
    """Categories from a list or a comma-separated text (``cs.CL,cs.LG``), checked, without repeats."""
    if values is None:
        return []
    items = re.split(r"[\s,]+", values) if isinstance(values, str) else list(values)
    out: list[str] = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        if len(item) > 40 or not _CATEGORY.match(item):
            raise SubscriptionError(f"categories: not an arXiv category or archive (like cs.CL or cs): {item[:40]!r}")
        if item.lower() not in (c.lower() for c in out):
            out.append(item)
    if len(out) > MAX_CATEGORIES:
        raise SubscriptionError(f"categories: at most {MAX_CATEGORIES}")
    return out


def subscribe(store: Store, email: str, frequency: str = "daily", categories: str | Iterable[str] | None = None,
              user_id: int | None = None, confirmed: bool = False) -> Subscribed:
    """Subscribe ``email`` (see the module docstring). With ``confirmed`` False a new or inactive
    subscription awaits the returned ``confirm_token`` (mail it: :func:`confirm_url`)."""
    try:
        address = accounts.normalize_email(email)
    except accounts.AccountError as exc:
        raise SubscriptionError(str(exc)) from None
    frequency, cats = check_frequency(frequency), check_categories(categories)
    token = None if confirmed else secrets.token_urlsafe(32)
    expires = None if confirmed else (datetime.now(UTC) + CONFIRM_LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ")
    row, outcome = store.add_subscription(address, frequency, cats, user_id,
                                          accounts.hash_secret(token) if token else None, expires,
                                          secrets.token_urlsafe(32))
    return Subscribed(row, outcome, token if row["status"] == "pending" and outcome != "unchanged" else None)


def confirm(store: Store, token: str) -> dict[str, Any] | None:
    """The subscription this confirmation token (from a link) confirms, now active; None if unknown or expired."""
    if not token or len(token) > 200:
        return None
    return store.confirm_subscription(accounts.hash_secret(token))


def unsubscribe(store: Store, token: str) -> dict[str, Any] | None:
    """End the subscription of this unsubscribe token (idempotent); None if the token is unknown."""
    if not token or len(token) > 200:
        return None
    found = store.subscription_by_token(token)
    return store.unsubscribe(found["id"]) if found else None


def confirm_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/confirm/{token}"


# -- the digests due -------------------------------------------------------------------------


def periods_due(day: date, frequency: str | None = None) -> list[Any]:
    """The periods ``digest send --date day`` is for (see the module docstring): DIGEST's
    :class:`paperradar.mail.digest.Period` for the daily digest of ``day`` and the weekly one of
    the ISO week that ended last, on or before ``day``; one of them with ``frequency``."""
    from .digest import Period

    sunday = day - timedelta(days=(day.weekday() + 1) % 7)
    out = []
    if frequency in (None, "daily"):
        out.append(Period("daily", day))
    if frequency in (None, "weekly"):
        out.append(Period("weekly", sunday))
    return out


Compose = Callable[[Radar, dict[str, Any], Any, str], Any]  # (radar, subscription, period, base_url) -> message | None


@dataclass
class QueueReport:
    """What making a run's digests did, per period key."""

    periods: list[str] = field(default_factory=list)
    made: int = 0  # digests put in the outbox
    empty: int = 0  # subscribers with nothing to send for the period (no mail)
    errors: list[str] = field(default_factory=list)  # subscribers whose digest could not be made

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def queue_digests(radar: Radar, outbox: Outbox, periods: list[Any], base_url: str, compose: Compose | None = None,
                  progress: Callable[[int, int], None] | None = None) -> QueueReport:
    """Make the digest of every active subscriber of each period that has none in the outbox yet,
    and enqueue it. ``compose`` defaults to DIGEST's :func:`paperradar.mail.digest.compose`;
    ``progress(done, total)`` after each subscriber. A digest that cannot be made (a bug, bad data)
    is reported and the others go on; a storage fault stops the run. The default ``compose`` makes
    what the run's digests share once (:class:`paperradar.mail.digest.Shared`), for this run only."""
    if compose is None:
        from .digest import Shared
        from .digest import compose as digest_compose

        shared = Shared()

        def compose(r: Radar, sub: dict[str, Any], period: Any, base: str) -> Any:
            return digest_compose(r, sub, period, base, from_address=outbox.sender, shared=shared)

    report = QueueReport()
    work = [(p, s) for p in periods for s in radar.store.due_subscriptions(p.frequency, DIGEST, p.key)]
    report.periods = [p.key for p in periods]
    for done, (period, sub) in enumerate(work, 1):
        try:
            message = compose(radar, sub, period, base_url)
        except StorageFault:
            raise
        except Exception as exc:  # one subscriber's digest must not keep the others'
            log.exception("the %s digest of %s could not be made", period.key, sub["email"])
            report.errors.append(f"{sub['email']} ({period.key}): {type(exc).__name__}: {exc}")
            message = None
        else:
            if message is None:
                report.empty += 1
            elif outbox.enqueue(DIGEST, message, sub["email"], subscription_id=sub["id"], period=period.key):
                report.made += 1
        if progress is not None:
            progress(done, len(work))
    return report
