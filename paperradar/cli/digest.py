"""``paperradar digest``: email digests from the command line of the site's owner.

``send`` makes every digest due for a day and delivers the outbox (exactly
once per subscriber and period: :mod:`paperradar.mail.outbox`); ``subscribe``,
``list`` and ``unsubscribe`` manage the subscribers; ``preview`` shows one
subscriber's digest without sending anything. The content is
:mod:`paperradar.mail.digest`'s, the sending :mod:`paperradar.mail.smtp`'s,
both set up by ``[mail]`` and ``[site]`` in the config file and the
environment (``$PAPERRADAR_SMTP_URL``, ``$PAPERRADAR_MAIL_FROM``,
``$PAPERRADAR_BASE_URL``). Progress goes to stderr; ``--json`` prints one JSON
object on stdout. Exit codes: 0 done, 1 something was not sent (failed, left
for a retry, the server unreachable) or no such subscriber, 2 bad arguments or
mail not set up.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from ..app import Radar
from ..config import ENV_BASE_URL
from .common import UsageError, emit_json, valid_date

FREQUENCIES = ("daily", "weekly")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("digest", parents=[common], help="email digests: send, subscribe, list, unsubscribe, preview",
                       description="Email digests of the featured and trending papers (and, for accounts, the "
                                   "papers for them). Mail settings: [mail] in the config file, "
                                   "$PAPERRADAR_SMTP_URL and $PAPERRADAR_MAIL_FROM (see docs/email.md). Exit "
                                   "codes: 0 ok, 1 something not sent or no such subscriber, 2 bad arguments or "
                                   "mail not set up.")
    p.set_defaults(run=cmd_digest)
    digest = p.add_subparsers(dest="digest_command", metavar="ACTION", required=True)

    def site_options(s: argparse.ArgumentParser) -> None:
        s.add_argument("--config", metavar="FILE",
                       help="configuration file ([mail], [site] base_url; default: $PAPERRADAR_CONFIG, else "
                            "config.toml in your config directory)")
        s.add_argument("--base-url", metavar="URL",
                       help=f"the site's public address, for the links in mails (default: ${ENV_BASE_URL}, else "
                            "[site] base_url)")

    s = digest.add_parser("send", parents=[common], help="make the digests due for a day and send the outbox",
                          description="Make the digest of every active subscriber due on --date (daily: that "
                                      "day; weekly: the ISO week that ended last, on or before it), then "
                                      "deliver every mail waiting in the outbox. Each subscriber gets one "
                                      "digest per period however often this runs, and after a crash or a "
                                      "failed server the next run sends what is missing.")
    s.add_argument("--frequency", choices=FREQUENCIES, help="only these digests (default: both)")
    s.add_argument("--date", type=valid_date, metavar="YYYY-MM-DD", help="the day (default: today)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    site_options(s)

    s = digest.add_parser("subscribe", parents=[common], help="subscribe an address",
                          description="Subscribe an address. Without --confirmed it gets a confirmation "
                                      "link by mail and no digest until it is followed (double opt-in). An "
                                      "address with an account is linked to it (its digest has a for-you part).")
    s.add_argument("email", metavar="EMAIL")
    s.add_argument("--frequency", choices=FREQUENCIES,
                   help="daily or weekly (default: daily, or what an existing subscription has)")
    s.add_argument("--categories", metavar="LIST",
                   help="only featured and trending papers of these categories, comma-separated (cs.CL,cs.LG; "
                        "default: all, or what an existing subscription has; \"\" for all)")
    s.add_argument("--confirmed", action="store_true",
                   help="the address is known to want it: active at once, no confirmation mail")
    site_options(s)

    s = digest.add_parser("list", parents=[common], help="every subscription",
                          description="Every subscription, oldest first: address, status (pending, active, "
                                      "unsubscribed, suspended), frequency, categories, account, last digest "
                                      "sent, permanent failures in a row.")
    s.add_argument("--json", action="store_true", help="print the subscriptions as JSON")

    s = digest.add_parser("unsubscribe", parents=[common], help="end a subscription",
                          description="End the address's subscription; its digests not yet sent are cancelled.")
    s.add_argument("email", metavar="EMAIL")

    s = digest.add_parser("preview", parents=[common], help="show one subscriber's digest without sending it",
                          description="Make the digest the address would get for --date and print its plain "
                                      "text, or write the parts to files. Nothing is sent or recorded.")
    s.add_argument("email", metavar="EMAIL")
    s.add_argument("--date", type=valid_date, metavar="YYYY-MM-DD", help="the day (default: today)")
    s.add_argument("--frequency", choices=FREQUENCIES, help="default: the subscription's")
    s.add_argument("--html", type=Path, metavar="FILE", help="write the HTML part to FILE")
    s.add_argument("--text", type=Path, metavar="FILE", help="write the plain text part to FILE")
    site_options(s)


def cmd_digest(radar: Radar, args: argparse.Namespace) -> int:
    from ..mail.smtp import MailNotConfigured, MailSetupError
    from ..mail.subscribers import SubscriptionError

    try:
        return _COMMANDS[args.digest_command](radar, args)
    except (SubscriptionError, MailNotConfigured) as exc:
        print(f"paperradar: {exc}", file=sys.stderr)
        return 2
    except MailSetupError as exc:
        print(f"paperradar: mail: {exc}", file=sys.stderr)
        return 2


def _config(args: argparse.Namespace) -> Any:
    from ..sync.config import ConfigError, load_config

    try:
        return load_config(getattr(args, "config", None))
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def _base_url(args: argparse.Namespace, config: Any, required: bool = True) -> str:
    from ..mail.digest import NoBaseURL, check_base_url

    value = args.base_url or os.environ.get(ENV_BASE_URL) or config.site.base_url
    if not value and not required:
        return "http://127.0.0.1:8000"
    try:
        return check_base_url(value)
    except NoBaseURL as exc:
        raise UsageError(f"digest {args.digest_command}: {exc}") from exc


def _day(args: argparse.Namespace) -> date:
    return date.fromisoformat(args.date) if args.date else date.today()


# -- send ------------------------------------------------------------------------------------


def _send(radar: Radar, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..mail.outbox import Outbox
    from ..mail.smtp import Mailer
    from ..mail.subscribers import periods_due, queue_digests

    config = _config(args)
    base = _base_url(args, config)
    mailer = Mailer.from_settings(config.mail)  # before anything is made: mail must be set up
    outbox = Outbox(radar.store, mailer, rate=config.mail.rate, tries=config.mail.tries,
                    backoff=config.mail.backoff)
    day = _day(args)
    periods = periods_due(day, args.frequency)
    show = sys.stderr.isatty()
    names = ", ".join(f"{p.frequency} {p.key}" for p in periods)
    print(f"paperradar: digests for {names}; sending through {mailer}", file=sys.stderr, flush=True)

    bar = tqdm(desc="making digests", unit=" subscribers", file=sys.stderr, disable=not show)

    def made(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    queued = queue_digests(radar, outbox, periods, base, progress=made)
    bar.close()
    waiting = radar.store.mail_counts()["pending"]
    print(f"paperradar: {queued.made} digests made, {queued.empty} with nothing to send"
          + (f", {len(queued.errors)} could not be made" if queued.errors else "")
          + f"; {waiting} mails to send", file=sys.stderr, flush=True)
    sending = tqdm(total=waiting, desc="sending", unit=" mails", file=sys.stderr, disable=not show)

    def heard(event: str, mail: dict[str, Any]) -> None:
        if event != "retry":
            sending.update(1)
        if event != "sent":
            sending.write(f"paperradar: {event}: {mail['recipient']}: {mail.get('error', '')}", file=sys.stderr)

    try:
        delivered = outbox.deliver(progress=heard)
    finally:
        sending.close()
    report = {"date": day.isoformat(), "periods": queued.periods, "made": queued.made, "empty": queued.empty,
              "errors": queued.errors, **delivered.as_dict()}
    if args.json:
        emit_json(report)
    else:
        print(f"sent {delivered.sent}, failed {delivered.failed}, to retry {delivered.pending}"
              + (f", suspended {', '.join(delivered.suspended)}" if delivered.suspended else "")
              + (f", sent again after an interrupted run {delivered.resent}" if delivered.resent else "")
              + f" ({delivered.seconds:.1f} s)")
    if delivered.stopped:
        print(f"paperradar: stopped: {delivered.stopped}", file=sys.stderr)
    return 1 if queued.errors or delivered.failed or delivered.pending or delivered.stopped else 0


# -- subscribers -----------------------------------------------------------------------------


def _subscribe(radar: Radar, args: argparse.Namespace) -> int:
    from ..mail.subscribers import subscribe

    config = _config(args)
    base = None if args.confirmed else _base_url(args, config)  # the confirmation link needs it: ask first
    user = radar.store.get_user(args.email)
    before = radar.store.subscription(args.email)  # options not given keep what it has
    frequency = args.frequency or (before["frequency"] if before else "daily")
    categories = args.categories if args.categories is not None else (before["categories"] if before else None)
    done = subscribe(radar.store, args.email, frequency, categories, user_id=user.id if user else None,
                     confirmed=args.confirmed)
    sub = done.subscription
    cats = f" in {', '.join(sub['categories'])}" if sub["categories"] else ""
    account = " (linked to its account)" if sub["user"] is not None else ""
    if done.outcome == "unchanged":
        print(f"{sub['email']} is already subscribed ({sub['frequency']}{cats}); nothing changed: "
              "use --confirmed to change an active subscription")
        return 0
    if done.confirm_token is None:
        print(f"subscribed {sub['email']}: {sub['frequency']}{cats}, active{account}")
        return 0
    print(f"subscribed {sub['email']}: {sub['frequency']}{cats}, awaiting confirmation{account}")
    assert base is not None
    return _mail_confirmation(radar, config, base, sub, done.confirm_token)


def _mail_confirmation(radar: Radar, config: Any, base: str, sub: dict[str, Any], token: str) -> int:
    from ..mail.messages import subscription_confirmation
    from ..mail.outbox import Outbox

    outbox = Outbox.from_settings(radar.store, config.mail)
    message = subscription_confirmation(sub, token, base, outbox.sender)
    outbox.enqueue("confirm", message, sub["email"], subscription_id=sub["id"], user_id=sub["user"])
    if not outbox.configured:
        print("paperradar: mail is not set up: the confirmation mail waits in the outbox for "
              "`paperradar digest send` with a server set", file=sys.stderr)
        return 0
    delivered = outbox.deliver_pending()
    if delivered is None:
        print("paperradar: the confirmation mail is queued (another delivery is running and sends it)",
              file=sys.stderr)
    elif delivered.stopped or delivered.failed or delivered.pending:
        print(f"paperradar: the confirmation mail is not sent yet ({delivered.stopped or 'see digest send'}); "
              "`paperradar digest send` tries again", file=sys.stderr)
        return 1
    else:
        print(f"paperradar: confirmation mail sent to {sub['email']}", file=sys.stderr)
    return 0


def _list(radar: Radar, args: argparse.Namespace) -> int:
    subs = radar.store.subscriptions()
    if args.json:
        emit_json({"subscriptions": [{k: v for k, v in s.items() if k not in ("unsubscribe_token",)} for s in subs]})
        return 0
    if not subs:
        print("no subscriptions")
    for s in subs:
        cats = ",".join(s["categories"]) or "all"
        flags = [f"account {s['user']}"] if s["user"] is not None else []
        if s["failures"]:
            flags.append(f"{s['failures']} failures")
        last = f"last sent {s['last_sent'][:16].replace('T', ' ')}" if s["last_sent"] else "never sent"
        print(f"{s['id']:4d}  {s['email']}  {s['status']}  {s['frequency']}  {cats}  {last}"
              + (f"  [{', '.join(flags)}]" if flags else ""))
    return 0


def _unsubscribe(radar: Radar, args: argparse.Namespace) -> int:
    sub = radar.store.subscription(args.email)
    if sub is None:
        print(f"paperradar: no subscription for {args.email.strip().lower()}", file=sys.stderr)
        return 1
    was = sub["status"]
    radar.store.unsubscribe(sub["id"])
    print(f"{sub['email']} was already unsubscribed" if was == "unsubscribed" else f"unsubscribed {sub['email']}")
    return 0


# -- preview ---------------------------------------------------------------------------------


def _preview(radar: Radar, args: argparse.Namespace) -> int:
    from ..mail.digest import compose
    from ..mail.subscribers import periods_due

    config = _config(args)
    base = _base_url(args, config, required=False)
    sub = radar.store.subscription(args.email)
    if sub is None:
        user = radar.store.get_user(args.email)
        if user is None:
            print(f"paperradar: no subscription and no account for {args.email.strip().lower()}", file=sys.stderr)
            return 1
        # An account without a subscription: what its digest would be (a placeholder unsubscribe link).
        sub = {"id": 0, "email": user.email, "user": user.id, "frequency": "daily", "categories": [],
               "unsubscribe_token": "preview", "status": "none"}
    period = periods_due(_day(args), args.frequency or sub["frequency"])[0]
    message = compose(radar, sub, period, base, from_address=config.mail.from_address)
    if message is None:
        print(f"paperradar: nothing to send to {sub['email']} for the {period.frequency} digest {period.key}",
              file=sys.stderr)
        return 1
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    for path, part in ((args.text, text), (args.html, html)):
        if path is not None and part is not None:
            path.write_text(part.get_content(), encoding="utf-8")
            print(f"paperradar: wrote {path}", file=sys.stderr)
    print(f"paperradar: {message['Subject']} (to {message['To']})", file=sys.stderr)
    if args.html is None and args.text is None and text is not None:
        sys.stdout.write(text.get_content())
    return 0


_COMMANDS = {"send": _send, "subscribe": _subscribe, "list": _list, "unsubscribe": _unsubscribe,
             "preview": _preview}
