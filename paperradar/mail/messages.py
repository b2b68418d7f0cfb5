"""The mails that are not digests: confirming a subscription, and the account mails.

- **Subscription confirmation** (double opt-in): the link ``/confirm/TOKEN``
  (the token made by :mod:`.subscribers`; only its hash is stored).
- **Sign-in link**: ``/login/link/TOKEN``, valid :data:`SIGNIN_LIFETIME`.
- **Password reset**: ``/reset/TOKEN``, valid :data:`RESET_LIFETIME`.
- **Registration confirmation** (``open`` registration on a site that sends
  mail): ``/register/confirm/TOKEN``, valid :data:`REGISTER_LIFETIME`; the
  account is made when the link is used (see :mod:`paperradar.store.mail_tokens`).
- **Already registered**: what someone gets who registers with an address
  that has an account (the page says "check your inbox" either way, so the
  form does not tell strangers who has an account).

Every link is single-use, expires, and is stored as its sha256 only
(:meth:`~paperradar.store.mail_tokens.MailTokenTables.use_mail_token`). A link's
page answers a GET with a button and acts only on the POST: mail scanners
and link previews open links, and must not use them up or act on them.

**Limits.** A form that mails an address can be filled in by anyone with
anyone's address: at most :data:`PER_ADDRESS_HOUR` account links go to one
address in an hour; past that, the form answers the same and nothing is sent.
The ``request_*`` functions make the token and the message, or None when
nothing is to be sent (no such account, over the limit); the caller hands the
message to the outbox and answers the same in every case.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import quote

from .. import accounts
from ..store import Store
from .digest import SITE_NAME, _env, _text_env, categories_of, check_base_url, host_of, sender

CONFIRM_LIFETIME = timedelta(days=2)  # a subscription's confirmation link
SIGNIN_LIFETIME = timedelta(minutes=30)
RESET_LIFETIME = timedelta(hours=1)
REGISTER_LIFETIME = timedelta(days=2)
PER_ADDRESS_HOUR = 5  # account links mailed to one address per hour at most
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def new_token() -> str:
    """A link's secret: 32 random bytes, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a link's token (its sha256, like sessions and invites)."""
    return accounts.hash_secret(token)


def link(base_url: str, path: str, token: str) -> str:
    return f"{check_base_url(base_url)}{path}/{quote(token, safe='')}"


def expires_text(lifetime: timedelta) -> str:
    minutes = int(lifetime.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"


def notice(to: str, subject: str, heading: str, paragraphs: Iterable[str], base_url: str, *,
           button: str | None = None, button_url: str | None = None, links: Iterable[tuple[str, str]] = (),
           footnote: str = "", from_address: str | None = None) -> EmailMessage:
    """A short mail (plain text + HTML with inline styles) with at most one button."""
    base = check_base_url(base_url)
    values: dict[str, Any] = {
        "site": SITE_NAME, "home": base + "/", "heading": heading, "paragraphs": list(paragraphs),
        "button": button, "button_url": button_url, "links": [{"text": t, "url": u} for t, u in links],
        "footnote": footnote or f"This mail was sent by {SITE_NAME} at {base}/ because of a request made there.",
    }
    message = EmailMessage()
    message["From"] = sender(base, from_address)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid("notice", domain=host_of(base))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_text_env.get_template("notice.txt").render(**values), cte="quoted-printable")
    message.add_alternative(_env.get_template("notice.html").render(**values), subtype="html",
                            cte="quoted-printable")
    return message


# -- the messages ------------------------------------------------------------------------------


def subscription_confirmation(subscription: dict[str, Any], token: str, base_url: str,
                              from_address: str | None = None) -> EmailMessage:
    """"Confirm your subscription": the double opt-in link ``/confirm/TOKEN``."""
    frequency = str(subscription.get("frequency") or "daily")
    categories = categories_of(subscription)
    what = f"a {frequency} digest of the featured and trending papers" + (
        f" in {', '.join(categories)}" if categories else "")
    return notice(
        str(subscription["email"]), f"Confirm your {SITE_NAME} {frequency} digest",
        "Confirm your subscription",
        [f"Someone, hopefully you, asked for {what} to be sent to {subscription['email']}.",
         ("Nothing will be sent until you confirm. If it was not you, ignore this mail: "
          f"the link stops working in {expires_text(CONFIRM_LIFETIME)}.")],
        base_url, button="Confirm the subscription", button_url=link(base_url, "/confirm", token),
        from_address=from_address)


def signin_link(email: str, token: str, base_url: str, from_address: str | None = None) -> EmailMessage:
    return notice(
        email, f"Your {SITE_NAME} sign-in link", "Sign in",
        [(f"Use this link to sign in to {SITE_NAME} as {email}. It works once, for "
          f"{expires_text(SIGNIN_LIFETIME)}."),
         "If you did not ask for it, ignore this mail: nobody can sign in without the link."],
        base_url, button="Sign in", button_url=link(base_url, "/login/link", token), from_address=from_address)


def password_reset(email: str, token: str, base_url: str, from_address: str | None = None) -> EmailMessage:
    return notice(
        email, f"Reset your {SITE_NAME} password", "Choose a new password",
        [(f"Someone, hopefully you, asked to reset the password of the {SITE_NAME} account {email}. "
          f"The link works once, for {expires_text(RESET_LIFETIME)}; choosing a new password signs "
          "out every other browser."),
         "If it was not you, ignore this mail: your password stays as it is."],
        base_url, button="Choose a new password", button_url=link(base_url, "/reset", token),
        from_address=from_address)


def registration_confirmation(email: str, token: str, base_url: str,
                              from_address: str | None = None) -> EmailMessage:
    return notice(
        email, f"Confirm your {SITE_NAME} account", "Confirm your address",
        [(f"Someone, hopefully you, made a {SITE_NAME} account with the address {email}. The account "
          "exists once you confirm: open the link and press the button."),
         f"If it was not you, ignore this mail: the link stops working in {expires_text(REGISTER_LIFETIME)}."],
        base_url, button="Confirm and sign in", button_url=link(base_url, "/register/confirm", token),
        from_address=from_address)


def already_registered(email: str, base_url: str, from_address: str | None = None) -> EmailMessage:
    base = check_base_url(base_url)
    return notice(
        email, f"You already have a {SITE_NAME} account", "You already have an account",
        [(f"Someone, hopefully you, tried to make a {SITE_NAME} account with {email}, which has one "
          "already. Nothing was changed."),
         "If you forgot your password, choose a new one or sign in with a link sent by mail:"],
        base_url, links=[("Sign in:", f"{base}/login"), ("Forgot your password:", f"{base}/reset")],
        from_address=from_address)


# -- making the links --------------------------------------------------------------------------


def _over_limit(store: Store, email: str) -> bool:
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime(STAMP)
    return store.mail_tokens_since(email, since) >= PER_ADDRESS_HOUR


def request_signin(store: Store, email: str, base_url: str, from_address: str | None = None
                   ) -> EmailMessage | None:
    """A sign-in link for the enabled account with this address, or None (no such account, over
    the limit: the caller answers the same)."""
    return _account_link(store, email, "signin", SIGNIN_LIFETIME, signin_link, base_url, from_address)


def request_reset(store: Store, email: str, base_url: str, from_address: str | None = None) -> EmailMessage | None:
    """A password reset link for the enabled account with this address, or None (see :func:`request_signin`)."""
    return _account_link(store, email, "reset", RESET_LIFETIME, password_reset, base_url, from_address)


def _account_link(store: Store, email: str, purpose: str, lifetime: timedelta,
                  mail: Callable[[str, str, str, str | None], EmailMessage], base_url: str,
                  from_address: str | None) -> EmailMessage | None:
    """A new ``purpose`` link for the enabled account with this address, stored, and ``mail``'s
    message carrying it; None for no such account or over the limit."""
    check_base_url(base_url)
    user = store.get_user(email)
    if user is None or user.disabled or _over_limit(store, user.email):
        return None
    token = new_token()
    store.add_mail_token(purpose, token_hash(token), user.email, user.id, lifetime)
    return mail(user.email, token, base_url, from_address)


def request_registration(store: Store, email: str, name: str | None, password_hash: str, base_url: str,
                         from_address: str | None = None) -> EmailMessage | None:
    """The confirmation of an ``open`` registration (the account is made when its link is used), or,
    for an address that has an account, a mail saying so; None over the limit."""
    check_base_url(base_url)
    email = accounts.normalize_email(email)
    if _over_limit(store, email):
        return None
    if store.get_user(email) is not None:
        # counted like a link, so this mail cannot be sent without limit either
        store.add_mail_token("register", token_hash(new_token()), email, None, timedelta(0))
        return already_registered(email, base_url, from_address)
    token = new_token()
    store.add_mail_token("register", token_hash(token), email, None, REGISTER_LIFETIME,
                         {"name": name, "password_hash": password_hash})
    return registration_confirmation(email, token, base_url, from_address)
