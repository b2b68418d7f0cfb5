"""Email digests on the web: subscribing, confirming, unsubscribing.

- **The form on every page** (``_subscribe.html`` in the footer, when the site
  sends mail) and ``/subscribe`` (the same with its options) POST ``email``,
  ``frequency`` (daily, weekly) and ``categories`` (optional, ``cs.CL cs.LG``)
  to ``/subscribe``. An anonymous visitor has no session to carry a CSRF
  token: the request is checked by its ``Origin`` (or ``Referer``), as
  ``/login`` is; a signed-in one's form carries the token as every form does.
- ``POST /api/subscriptions`` (JSON ``{email, frequency, categories}``) does
  the same for programs: 202 and the same words whether the address was
  subscribed, pending, unknown or over its limit of confirmation mails, so the
  answer never tells who subscribes. A browser's request from another site
  (its ``Origin``) is refused; a program sends none.
- **Double opt-in**: the mail carries ``/confirm/TOKEN``. A GET of it shows a
  button and changes nothing (link scanners and previews open links); the
  button's POST confirms. An account subscribing its own address (signed in)
  needs no confirmation. A subscription of an account's address (confirmed
  by the mailbox, like any other) is linked to the account: its digest also
  has the account's "for you" papers and the new papers of what it follows.
- **Unsubscribing** (RFC 8058): every digest's ``List-Unsubscribe`` names
  ``/unsubscribe/TOKEN``. A POST with the body ``List-Unsubscribe=One-Click``
  unsubscribes, with no cookie, no CSRF token and no ``Origin`` asked for (the
  mail provider's server sends it; the token is the proof); the page that a
  GET shows has a button that posts the same body. A GET never unsubscribes.

A site mails only with a base URL (a mail's links must be absolute) and an
SMTP server (``PAPERRADAR_SMTP_URL`` or ``[mail]``): without both the form is
not shown and these routes answer 403 saying what is missing (as ``/register``
does on a site whose registration is closed: the site does not offer it). Mails go
through the outbox (:mod:`paperradar.mail.outbox`), delivered in a background
thread so that the request answers at once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from .. import accounts
from ..mail import messages, subscribers
from ..mail.digest import NoBaseURL, check_base_url
from ..mail.outbox import Outbox, outbox_for
from . import auth
from .common import JSON, HTTPError, radar_of, render, store_of
from .forms import field
from .pages import errors

router = APIRouter()

CONFIRMATIONS_PER_HOUR = 3  # confirmation mails to one address in an hour, at most
MAX_TOKEN = 200
ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"
CHECK_INBOX = ("Check your inbox: if this address is not subscribed yet, a confirmation link is on its way. "
               "Nothing is sent until the link is followed.")


# -- can this site mail? --------------------------------------------------------------------------


def outbox(request: Request) -> Outbox:
    return outbox_for(radar_of(request))


def mail_problem(request: Request) -> str | None:
    """Why this site cannot mail (no base URL, no SMTP server), or None when it can."""
    try:
        check_base_url(radar_of(request).settings.base_url)
    except NoBaseURL as exc:
        return f"this site does not send mail: {exc}"
    if not outbox(request).configured:
        return ("this site does not send mail: its owner has set no SMTP server "
                "(PAPERRADAR_SMTP_URL, or smtp_url and from in the [mail] table of the config file)")
    return None


def mail_on(request: Request) -> bool:
    """Whether the site mails (base URL and SMTP server set): pages show the subscribe form then."""
    return mail_problem(request) is None


def need_mail(request: Request) -> str:
    """The base URL, or a 403 saying why this site cannot mail (it does not offer mail)."""
    problem = mail_problem(request)
    if problem is not None:
        raise HTTPError(403, problem)
    return check_base_url(radar_of(request).settings.base_url)


def send(request: Request, kind: str, message: EmailMessage, recipient: str, user_id: int | None = None,
         subscription_id: int | None = None) -> None:
    """Put a mail for ``recipient`` in the outbox and start delivering it (the request does not wait
    for the server). The recipient is given, not read back from the To header: an address that is
    not ASCII is encoded there."""
    box = outbox(request)
    box.enqueue(kind, message, recipient, subscription_id=subscription_id, user_id=user_id)
    box.deliver_in_background()


def sender(request: Request) -> str | None:
    return outbox(request).sender


def masked(email: str) -> str:
    """An address as a page shows it to whoever holds a link: ``a…@example.org``."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}" if domain else "…"


# -- subscribing ------------------------------------------------------------------------------------


def subscribe(request: Request, email: str, frequency: str, categories: Any) -> bool:
    """Subscribe ``email``; True when it is active now (the signed-in viewer's own address), False
    when a confirmation was mailed, or would have been (the answer is the same either way)."""
    base = need_mail(request)
    store = store_of(request)
    user = auth.viewer(request).user
    try:
        address = accounts.normalize_email(email)
        frequency, categories = subscribers.check_frequency(frequency), subscribers.check_categories(categories)
    except (accounts.AccountError, subscribers.SubscriptionError) as exc:
        raise HTTPError(400, str(exc)) from None
    own = user is not None and user.email == address
    if not own and _too_many_confirmations(request, address):
        return False  # the same answer: a stranger cannot flood an address with confirmations
    account = user if own else store.get_user(address)  # the digest of an account's address has its "for you"
    done = subscribers.subscribe(store, address, frequency, categories, user_id=account.id if account else None,
                                 confirmed=own)
    if done.confirm_token:
        message = messages.subscription_confirmation(done.subscription, done.confirm_token, base, sender(request))
        send(request, "confirm", message, done.subscription["email"], subscription_id=done.subscription["id"])
    return own


def _too_many_confirmations(request: Request, email: str) -> bool:
    store = store_of(request)
    found = store.subscription(email)
    if found is None:
        return False
    since = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = [m for m in store.mails(subscription_id=found["id"], kind="confirm") if m["created_at"] >= since]
    return len(recent) >= CONFIRMATIONS_PER_HOUR


async def _form_writer(request: Request) -> None:
    """A form anyone may send: from a page of this site (its Origin); a signed-in session's form also
    carries its CSRF token (as every form of a signed-in viewer does)."""
    auth.check_origin(request)
    if auth.viewer(request).via == "session":
        await auth.writer(request)


@router.get("/subscribe", include_in_schema=False)
def subscribe_page(request: Request) -> Response:
    need_mail(request)
    user = auth.viewer(request).user
    return _subscribe_form(request, email=user.email if user else "")


def _subscribe_form(request: Request, status: int = 200, message: str | None = None, email: str = "",
                    frequency: str = "daily", categories: str = "") -> Response:
    signed_in = auth.viewer(request).signed_in
    paragraphs = [("A daily or weekly mail with the featured and trending papers, limited to the categories "
                   "you name (or all of them). Every mail has a one-click unsubscribe link.")]
    if signed_in:
        paragraphs.append("With your account's address, it also brings papers for you (with why) and the new "
                          "papers of the authors, categories and searches you follow.")
    form = {"action": "/subscribe", "button": "Subscribe", "csrf": True, "inputs": [
        {"label": "Email", "name": "email", "type": "email", "value": email, "autocomplete": "email",
         "required": True},
        {"label": "How often", "name": "frequency", "type": "select", "options": subscribers.FREQUENCIES,
         "value": frequency},
        {"label": "Categories (optional, e.g. cs.CL cs.LG)", "name": "categories", "type": "text",
         "value": categories, "maxlength": 500, "placeholder": "all categories"}]}
    return render(request, "mail_page.html", status=status, title="Subscribe", heading="Get papers by email",
                  paragraphs=paragraphs, message=message, form=form, mail_on=False)  # (no second form below)


@router.post("/subscribe", include_in_schema=False)
async def subscribe_form(request: Request) -> Response:
    await _form_writer(request)
    form = await request.form()
    email = field(form, "email", max_chars=accounts.MAX_EMAIL + 50)
    frequency = field(form, "frequency", required=False, max_chars=20) or "daily"
    categories = field(form, "categories", required=False, max_chars=500)
    try:
        active = subscribe(request, email, frequency, categories)
    except HTTPError as exc:
        if exc.status != 400:
            raise
        return _subscribe_form(request, 400, exc.message, email, frequency, categories)
    if active:
        return render(request, "mail_page.html", title="Subscribed", heading="You are subscribed",
                      paragraphs=[(f"Your {frequency} digest goes to {email.strip().lower()}. Every mail has "
                                   "a one-click unsubscribe link.")], links=[("Back to the papers", "/")])
    return render(request, "mail_page.html", title="Check your inbox", heading="Check your inbox",
                  paragraphs=[CHECK_INBOX, "The link works for two days."], links=[("Back to the papers", "/")])


# An address as the API takes it: one @, a dot in the domain, no space or control character (written
# out: JSON Schema's \s and Python's differ); at most 254 characters (accounts.normalize_email's rules).
_NOT_IN_ADDRESS = "@\\x00-\\x20\\x7f-\\x9f\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
EMAIL_PATTERN = f"^[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}]+\\.[^{_NOT_IN_ADDRESS}]+$"


class SubscriptionRequest(BaseModel):
    """A digest subscription (``POST /api/subscriptions``)."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(description="the address the digest goes to", json_schema_extra={
        "maxLength": accounts.MAX_EMAIL, "pattern": EMAIL_PATTERN})
    frequency: Literal["daily", "weekly"] = Field("daily", description="how often: daily or weekly")
    categories: list[Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z][A-Za-z-]*(\.[A-Za-z][A-Za-z-]*)?$")]] = (
        Field(default_factory=list, max_length=subscribers.MAX_CATEGORIES,
              description="arXiv categories or archives (cs.CL, cs): only papers in them; none: all"))


class SubscriptionAccepted(BaseModel):
    """What ``POST /api/subscriptions`` answers: the same words whether or not the address was subscribed."""

    model_config = ConfigDict(extra="forbid")
    message: str


@router.post("/api/subscriptions", tags=["digest"], summary="Subscribe an address to the email digest",
             status_code=202, response_model=SubscriptionAccepted,
             # The body is required (the route answers 400 without it); the parameter is optional only
             # so that a site that does not mail answers its 403 first, whatever was sent.
             openapi_extra={"requestBody": {"required": True}},
             responses=errors({400: "a field is not valid (the message names it)",
                               403: "this site does not send mail (no base URL or no SMTP server: the message "
                                    "says which), or a browser's request from another site, or a session's "
                                    "without its CSRF token"}))
async def subscribe_api(request: Request, body: SubscriptionRequest = None) -> Response:  # type: ignore[assignment]
    """Ask for the digest of the featured and trending papers (daily or weekly, optionally limited to
    categories) at an address. The address gets a confirmation link and nothing else until the link is
    followed (double opt-in). The answer is 202 with the same message whether the address was already
    subscribed, pending or new: it never tells who subscribes. Signed in (session or bearer token) with
    your own account's address, no confirmation is needed and the digest also carries your "for you"
    papers and what you follow."""
    seen = auth.viewer(request)
    if "origin" in request.headers or "referer" in request.headers or seen.via == "session":
        auth.check_origin(request)  # a browser (it names where the request comes from): this site's pages only
    if seen.via == "session":
        await auth.writer(request)  # and the session's CSRF token
    need_mail(request)  # (before the body's absence: a site that does not mail says so first)
    if body is None:
        raise HTTPError(400, "email is required: send {\"email\": \"you@example.org\"} as JSON")
    if len(body.email) > accounts.MAX_EMAIL or not re.fullmatch(EMAIL_PATTERN, body.email):
        raise HTTPError(400, f"email: not an address (name@example.org, without spaces): {body.email[:60]!r}")
    active = subscribe(request, body.email, body.frequency, body.categories)
    message = "subscribed: your digest goes to your account's address" if active else CHECK_INBOX
    return JSON({"message": message}, status_code=202)


# -- confirming --------------------------------------------------------------------------------------

def _token(token: str) -> str:
    if not token or len(token) > MAX_TOKEN:
        raise HTTPError(404, "this link is not valid: it is incomplete")
    return token


@router.get("/confirm/{token}", include_in_schema=False)
def confirm_page(request: Request, token: str) -> Response:
    """A button, nothing more: a GET of a mailed link changes nothing."""
    _token(token)
    return render(request, "mail_page.html", title="Confirm your subscription", heading="Confirm your subscription",
                  paragraphs=["Press the button to start receiving the digest at the address this link was sent to."],
                  form={"action": f"/confirm/{token}", "button": "Confirm the subscription"})


@router.post("/confirm/{token}", include_in_schema=False)
def confirm(request: Request, token: str) -> Response:
    auth.check_origin(request)  # the button of the page above
    found = subscribers.confirm(store_of(request), _token(token))
    if found is None:
        return render(request, "mail_page.html", status=404, title="Link not valid", heading="This link is not valid",
                      paragraphs=[("It was used already, it expired (confirmation links work for two days), "
                                   "or it is incomplete. Subscribe again to get a new one.")],
                      links=[("Subscribe", "/subscribe")])
    return render(request, "mail_page.html", title="Subscribed", heading="You are subscribed",
                  paragraphs=[(f"The {found['frequency']} digest goes to {found['email']}. Every mail has a "
                               "one-click unsubscribe link.")], links=[("Back to the papers", "/")])


# -- unsubscribing -------------------------------------------------------------------------------------


@router.get("/unsubscribe/{token}", include_in_schema=False)
def unsubscribe_page(request: Request, token: str) -> Response:
    """A page with a button (the POST below): a link scanner that opens the link unsubscribes no one."""
    found = store_of(request).subscription_by_token(_token(token))
    if found is None:
        raise HTTPError(404, "this unsubscribe link is not valid: it is incomplete, or its subscription was deleted")
    if found["unsubscribed_at"] is not None:
        return render(request, "mail_page.html", title="Unsubscribed", heading="You are unsubscribed",
                      paragraphs=[f"{masked(found['email'])} gets no digest from this site."],
                      links=[("Subscribe again", "/subscribe")])
    return render(request, "mail_page.html", title="Unsubscribe", heading="Unsubscribe",
                  paragraphs=[f"Stop the {found['frequency']} digest to {masked(found['email'])}?"],
                  form={"action": f"/unsubscribe/{token}", "button": "Unsubscribe",
                        "hidden": {ONE_CLICK_FIELD: ONE_CLICK_VALUE}})


@router.post("/unsubscribe/{token}", include_in_schema=False)
async def unsubscribe(request: Request, token: str) -> Response:
    """RFC 8058 one-click: the body ``List-Unsubscribe=One-Click``; no cookie, CSRF token or Origin needed."""
    _token(token)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    value = None
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.form()).get(ONE_CLICK_FIELD)
    if value != ONE_CLICK_VALUE:
        raise HTTPError(400, f"the body must be {ONE_CLICK_FIELD}={ONE_CLICK_VALUE} (RFC 8058), as a form")
    found = subscribers.unsubscribe(store_of(request), token)
    if found is None:
        raise HTTPError(404, "this unsubscribe link is not valid: it is incomplete, or its subscription was deleted")
    return render(request, "mail_page.html", title="Unsubscribed", heading="You are unsubscribed",
                  paragraphs=[f"{masked(found['email'])} gets no more digests from this site."],
                  links=[("Subscribe again", "/subscribe")])
