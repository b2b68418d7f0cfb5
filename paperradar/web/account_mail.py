"""Account mails on the web: sign-in links, password reset, and confirming an ``open`` registration.

Each flow mails a single-use link that expires (:mod:`paperradar.mail.messages`;
only the link token's sha256 is stored, :mod:`paperradar.store.mail_tokens`):

- ``/login/link``: "email me a sign-in link" (a form with ``email``); the link
  ``/login/link/TOKEN`` signs in, for 30 minutes.
- ``/reset``: "forgot your password" (``email``); the link ``/reset/TOKEN``
  shows a form for a new password (``new_password``), valid for an hour;
  setting it signs out every session of the account and signs this browser in.
- ``/register/confirm/TOKEN``: an ``open`` registration on a site that mails
  is not an account until its address is confirmed (:func:`registration_mailed`,
  called by ``/register``): the link's POST makes the account and signs in.

Like ``/login``, the forms are sent before there is a session, so they are
checked by their ``Origin``. Asking for a link answers the same "check your
inbox" page whether or not the address has an account (and, past the hourly
limit per address, whether or not a mail went), so the forms do not tell who
has an account. A link's GET shows a button and changes nothing (mail scanners
open links); only the button's POST uses the link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from .. import accounts
from ..mail import messages
from ..store import DuplicateUser, Store, User
from . import auth
from .account import _signed_in
from .common import HTTPError, radar_of, render, store_of
from .forms import field
from .subscriptions import MAX_TOKEN, masked, need_mail, send, sender

router = APIRouter()

INVALID = ("This link is not valid", ["It was used already, it expired, or it is incomplete. Ask for a new one."])


def _page(request: Request, heading: str, paragraphs: list[str], status: int = 200, **more: Any) -> Response:
    return render(request, "mail_page.html", status=status, title=heading, heading=heading, paragraphs=paragraphs,
                  **more)


def _email_form(request: Request, action: str, heading: str, intro: str, button: str, status: int = 200,
                message: str | None = None, email: str = "") -> Response:
    need_mail(request)
    form = {"action": action, "button": button, "inputs": [
        {"label": "Email", "name": "email", "type": "email", "value": email, "autocomplete": "username",
         "required": True}]}
    return _page(request, heading, [intro], status, form=form, message=message,
                 links=[("Sign in with your password", "/login")])


def _check_inbox(request: Request, what: str) -> Response:
    return _page(request, "Check your inbox",
                 [f"If an account has this address, {what} is on its way. It works once."],
                 links=[("Back to sign in", "/login")])


def _invalid(request: Request, again: str) -> Response:
    heading, paragraphs = INVALID
    return _page(request, heading, paragraphs, 404, links=[("Ask again", again)])


def _live(request: Request, purpose: str, token: str) -> dict[str, Any] | None:
    """The link's row while it is valid (a GET: the link stays usable)."""
    return _token(request, purpose, token, use=False)


def _use(request: Request, purpose: str, token: str) -> dict[str, Any] | None:
    """The link's row, used up (a POST: it works once)."""
    return _token(request, purpose, token, use=True)


def _token(request: Request, purpose: str, token: str, use: bool) -> dict[str, Any] | None:
    if not token or len(token) > MAX_TOKEN:
        return None
    store = store_of(request)
    return (store.use_mail_token if use else store.mail_token)(purpose, messages.token_hash(token))


def _account(request: Request, row: dict[str, Any] | None) -> User | None:
    """The enabled account a used link belongs to (None: deleted or disabled meanwhile)."""
    if row is None or row["user"] is None:
        return None
    user = store_of(request).get_user_by_id(int(row["user"]))
    return user if user is not None and not user.disabled else None


def _button_page(request: Request, purpose: str, path: str, token: str, again: str, heading: str,
                 question: str, button: str) -> Response:
    """A link's GET: a page with one button whose POST uses the link (``question`` names the
    masked address as ``{email}``), or the invalid-link page."""
    row = _live(request, purpose, token)
    if row is None:
        return _invalid(request, again)
    return _page(request, heading, [question.format(email=masked(row["email"]))],
                 form={"action": f"{path}/{token}", "button": button})


# -- asking for a link to an account: sign-in link, password reset ------------------------------------


@dataclass(frozen=True)
class LinkFlow:
    """A "mail me a link" form of an account (the two differ only in these words and the link)."""

    purpose: str  # the link's kind (store/mail_tokens.py) and the outbox's
    path: str  # the form's; its links are PATH/TOKEN
    heading: str
    intro: str
    what: str  # what "is on its way"
    request: Callable[[Store, str, str, str | None], EmailMessage | None]  # messages.request_*


SIGNIN = LinkFlow("signin", "/login/link", "Sign in with a link",
                  "We mail you a link that signs you in (it works once, for 30 minutes).", "a sign-in link",
                  messages.request_signin)
RESET = LinkFlow("reset", "/reset", "Forgot your password?",
                 "We mail you a link to choose a new one (it works once, for an hour).",
                 "a link to choose a new password", messages.request_reset)


def _link_form(flow: LinkFlow) -> None:
    """The flow's form (GET) and what mails the link (POST), at ``flow.path``."""

    def form(request: Request) -> Response:
        return _email_form(request, flow.path, flow.heading, flow.intro, "Email me a link")

    async def mail_link(request: Request) -> Response:
        # The link goes to an enabled account's address, within the hourly limit; the answer is the
        # same whether or not it went, so the form tells no one who has an account.
        auth.check_origin(request)
        base = need_mail(request)
        email = field(await request.form(), "email", max_chars=accounts.MAX_EMAIL + 50)
        message = flow.request(store_of(request), email, base, sender(request))
        user = store_of(request).get_user(email)
        if message is not None and user is not None:
            send(request, flow.purpose, message, user.email, user_id=user.id)
        return _check_inbox(request, flow.what)

    router.add_api_route(flow.path, form, methods=["GET"], include_in_schema=False,
                         name=f"{flow.purpose}_link_form")
    router.add_api_route(flow.path, mail_link, methods=["POST"], include_in_schema=False,
                         name=f"{flow.purpose}_link_request")


_link_form(SIGNIN)
_link_form(RESET)


@router.get("/login/link/{token}", include_in_schema=False)
def signin_link_page_for(request: Request, token: str) -> Response:
    return _button_page(request, "signin", "/login/link", token, "/login/link", "Sign in", "Sign in as {email}?",
                        "Sign in")


@router.post("/login/link/{token}", include_in_schema=False)
def signin_with_link(request: Request, token: str) -> Response:
    auth.check_origin(request)
    user = _account(request, _use(request, "signin", token))
    if user is None:
        return _invalid(request, "/login/link")
    return _signed_in(request, user, "/")


# -- password reset: the link's form --------------------------------------------------------------


def _new_password_form(request: Request, token: str, email: str, status: int = 200,
                       message: str | None = None) -> Response:
    form = {"action": f"/reset/{token}", "button": "Set the new password", "inputs": [
        {"label": f"New password (at least {accounts.MIN_PASSWORD} characters)", "name": "new_password",
         "type": "password", "autocomplete": "new-password", "minlength": accounts.MIN_PASSWORD, "required": True}]}
    return _page(request, "Choose a new password",
                 [f"For {masked(email)}. Every browser signed in to the account is signed out."], status,
                 form=form, message=message)


@router.get("/reset/{token}", include_in_schema=False)
def reset_form(request: Request, token: str) -> Response:
    row = _live(request, "reset", token)
    if row is None:
        return _invalid(request, "/reset")
    return _new_password_form(request, token, row["email"])


@router.post("/reset/{token}", include_in_schema=False)
async def reset_password(request: Request, token: str) -> Response:
    auth.check_origin(request)
    password = field(await request.form(), "new_password", max_chars=accounts.MAX_PASSWORD)
    row = _live(request, "reset", token)
    if row is None:
        return _invalid(request, "/reset")
    try:
        accounts.check_new_password(password)
    except accounts.AccountError as exc:  # the link is kept: try again with a longer one
        return _new_password_form(request, token, row["email"], 400, "new_" + str(exc))
    user = _account(request, _use(request, "reset", token))
    if user is None:
        return _invalid(request, "/reset")
    store = store_of(request)
    store.set_password_hash(user.email, accounts.hash_password(password))
    store.end_sessions(user.id)  # whoever knew the old password is signed out
    store.clear_login_failures(accounts.throttle_keys(user.email, None)[0])
    return _signed_in(request, user, "/settings")


# -- confirming an open registration ------------------------------------------------------------------


def registration_mailed(request: Request, email: str, name: str | None, password_hash: str) -> Response:
    """``/register`` on an ``open`` site that mails: nothing is made but a link to the address (or,
    for an address with an account, a mail saying so); the page is the same in both cases."""
    base = need_mail(request)
    message = messages.request_registration(store_of(request), email, name, password_hash, base, sender(request))
    if message is not None:
        send(request, "register", message, email)
    return _page(request, "Check your inbox",
                 [(f"We mailed a link to {email}: the account is made when you open it and press its button "
                   f"(it works for {messages.expires_text(messages.REGISTER_LIFETIME)}).")],
                 links=[("Back to the papers", "/")])


@router.get("/register/confirm/{token}", include_in_schema=False)
def registration_page(request: Request, token: str) -> Response:
    return _button_page(request, "register", "/register/confirm", token, "/register", "Confirm your account",
                        "Make the account {email} and sign in?", "Confirm and sign in")


@router.post("/register/confirm/{token}", include_in_schema=False)
def register_confirmed(request: Request, token: str) -> Response:
    auth.check_origin(request)
    if radar_of(request).settings.registration != "open":
        raise HTTPError(403, "registration is not open on this site any more")
    row = _use(request, "register", token)
    if row is None or not row["payload"].get("password_hash"):
        return _invalid(request, "/register")
    store = store_of(request)
    try:
        user = store.add_user(row["email"], row["payload"].get("name") or None, row["payload"]["password_hash"])
    except DuplicateUser:
        return _page(request, "You already have an account", [f"{masked(row['email'])} has an account already."],
                     409, links=[("Sign in", "/login"), ("Forgot your password?", "/reset")])
    return _signed_in(request, user, "/")
