"""Accounts on the web: sign in and out, register, the settings page, and ``/api/me``.

- ``/login`` (form fields ``email`` and ``password``): a same-origin form
  (checked by its ``Origin``/``Referer``: there is no session yet to carry a
  CSRF token). Throttled per account and per client address (see
  :mod:`paperradar.accounts`): 429 with ``Retry-After``. An unknown email and
  a wrong password get the same answer. Success starts a NEW session (a
  cookie sent before sign-in is never kept: no session fixation) and ends the
  one the browser had.
- ``/register``: only when registration is ``invite`` (with the link
  ``paperradar users invite`` prints) or ``open``; ``closed`` (the default)
  leaves account-making to the admin's CLI. An ``open`` site that sends mail
  confirms the address first: the account is made when the mailed link is
  used (:mod:`.account_mail`, which also has sign-in links and password reset).
- ``/settings``: name, password, personal API tokens, sign out everywhere,
  download your data, delete the account; the private feed links section
  comes from :mod:`.follows`.
- ``/api/me``, ``/api/me/tokens``, ``/api/me/export``: the same for programs
  (bearer token or session).

Every page here answers the viewer only about themself.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from .. import accounts
from ..store import DuplicateUser, User
from . import auth, schemas
from .common import JSON, HTTPError, render, store_of
from .forms import field, id_number, local_path, page_user, see_other
from .pages import errors
from .subscriptions import mail_on

router = APIRouter()
ONE_LINE = re.compile(r"^[^\x00-\x1f\x7f]*$")  # a token label: no control characters, no line breaks

WRITES = errors({400: "a field is not valid (the message names it)",
                 401: "", 403: ""})


# -- helpers ---------------------------------------------------------------------


def me_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "display_name": user.display_name,
            "is_admin": user.is_admin, "created_at": user.created_at}


# -- sign in and out ---------------------------------------------------------------


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    if auth.viewer(request).signed_in:
        return see_other(local_path(next))
    return _login_form(request, next)


def _login_form(request: Request, next: str | None, status: int = 200, message: str | None = None,
                email: str = "", headers: dict[str, str] | None = None) -> Response:
    store = store_of(request)
    response = render(request, "login.html", status=status, title="Sign in", next=local_path(next, ""),
                      message=message, email=email, has_users=store.has_users(),
                      registration=request.app.state.radar.settings.registration)
    response.headers.update(headers or {})
    return response


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    auth.check_origin(request)
    form = await request.form()
    email, password = field(form, "email", max_chars=accounts.MAX_EMAIL + 50), field(form, "password")
    next_path = field(form, "next", required=False)
    store = store_of(request)
    address = auth.client_address(request)
    wait = accounts.retry_after(store, email, address)
    if wait is not None:
        return _login_form(request, next_path, 429, f"Too many failed sign-ins: try again in {wait} seconds.",
                           email, {"Retry-After": str(wait)})
    user = accounts.sign_in(store, email, password, address)
    if user is None:
        return _login_form(request, next_path, 401, "The email or the password is wrong.", email)
    return _signed_in(request, user, local_path(next_path))


def _signed_in(request: Request, user: User, target: str) -> Response:
    """Start a new session (ending the one the browser had, if any) and go to ``target``."""
    store = store_of(request)
    old = auth.viewer(request)
    if old.via == "session" and old.session_id is not None:
        store.end_session(old.session_id)
    token, _ = accounts.start_session(store, user)
    response = see_other(target)
    auth.set_session_cookie(request, response, token)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, user: auth.Writer) -> Response:
    seen = auth.viewer(request)
    if seen.session_id is not None:
        store_of(request).end_session(seen.session_id)
    response = see_other("/")
    auth.clear_session_cookie(response)
    return response


# -- registration ------------------------------------------------------------------


def _registration(request: Request, invite: str | None) -> str:
    """The registration mode, or a 403 saying why this visitor cannot register."""
    mode = request.app.state.radar.settings.registration
    if mode == "closed":
        raise HTTPError(403, "registration is closed on this site: its administrator adds accounts "
                             "(paperradar users add)")
    if mode == "invite":
        if not invite:
            raise HTTPError(403, "registration is by invitation: open the invite link you were sent")
        if not store_of(request).invite_open(accounts.hash_secret(invite)):
            raise HTTPError(403, "this invitation is not valid: it was used, it expired, or the link is incomplete")
    return str(mode)


@router.get("/register", include_in_schema=False)
def register_page(request: Request, invite: str | None = None) -> Response:
    if invite is not None and len(invite) > 200:
        raise HTTPError(400, "invite is too long")
    mode = _registration(request, invite)
    return render(request, "register.html", title="Create an account", invite=invite or "", mode=mode,
                  min_password=accounts.MIN_PASSWORD, message=None, email="", name="")


@router.post("/register", include_in_schema=False)
async def register(request: Request) -> Response:
    auth.check_origin(request)
    form = await request.form()
    invite = field(form, "invite", required=False, max_chars=200) or None
    mode = _registration(request, invite)
    email_text, name = field(form, "email", max_chars=accounts.MAX_EMAIL + 50), field(form, "name", False, 100)
    password = field(form, "password", max_chars=accounts.MAX_PASSWORD)
    store = store_of(request)

    def again(message: str, status: int = 400) -> Response:
        return render(request, "register.html", status=status, title="Create an account", invite=invite or "",
                      mode=mode, min_password=accounts.MIN_PASSWORD, message=message, email=email_text, name=name)

    try:
        email = accounts.normalize_email(email_text)
        accounts.check_new_password(password)
    except accounts.AccountError as exc:
        return again(str(exc))
    digest = accounts.hash_password(password)
    if mode == "open" and mail_on(request):  # the address is confirmed before the account exists
        from .account_mail import registration_mailed

        return registration_mailed(request, email, name or None, digest)
    try:
        if mode == "invite":
            user = store.add_invited_user(accounts.hash_secret(invite or ""), email, name or None, digest)
            if user is None:
                raise HTTPError(403, "this invitation is not valid: it was used or it expired")
        else:
            user = store.add_user(email, name or None, digest)
    except DuplicateUser:
        return again("email: an account with this email exists already (sign in instead)", 409)
    return _signed_in(request, user, "/")


# -- settings ------------------------------------------------------------------------


@router.get("/settings", include_in_schema=False)
def settings_page(request: Request) -> Response:
    user = page_user(request)
    if isinstance(user, Response):
        return user
    return _settings(request, user)


def _settings(request: Request, user: User, status: int = 200, message: str | None = None,
              new_token: str | None = None) -> Response:
    store = store_of(request)
    context: dict[str, Any] = {}
    try:
        from .follows import settings_context  # the private feed links (follows.py)
    except ImportError:  # pragma: no cover - while follows.py is written
        settings_context = None
    if settings_context is not None:
        context = dict(settings_context(request, user))
    return render(request, "settings.html", status=status, title="Settings", user=user,
                  tokens=store.user_api_tokens(user.id), sessions=store.session_count(user.id),
                  message=message, new_token=new_token, min_password=accounts.MIN_PASSWORD, **context)


@router.post("/settings/name", include_in_schema=False)
async def settings_name(request: Request, user: auth.Writer) -> Response:
    name = field(await request.form(), "name", required=False, max_chars=100)
    store_of(request).set_user_name(user.id, name or None)
    return see_other("/settings")


@router.post("/settings/password", include_in_schema=False)
async def settings_password(request: Request, user: auth.Writer) -> Response:
    form = await request.form()
    current, new = field(form, "current_password"), field(form, "new_password", max_chars=accounts.MAX_PASSWORD)
    store = store_of(request)
    if accounts.check_password(store, user.email, current) is None:
        return _settings(request, user, 400, "current_password: that is not your password")
    try:
        accounts.check_new_password(new)
    except accounts.AccountError as exc:
        return _settings(request, user, 400, "new_" + str(exc))
    store.set_password_hash(user.email, accounts.hash_password(new))
    store.end_sessions(user.id, keep=auth.viewer(request).session_id)  # other browsers sign in again
    return _settings(request, user, message="Password changed; your other sessions were signed out.")


@router.post("/settings/tokens", include_in_schema=False)
async def settings_new_token(request: Request, user: auth.Writer) -> Response:
    label = field(await request.form(), "label", required=False, max_chars=100)
    token = accounts.new_token()
    store_of(request).add_api_token(user.email, accounts.hash_token(token), label or None)
    return _settings(request, user, message="New API token: copy it now, it is not shown again.", new_token=token)


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
def settings_revoke_token(request: Request, token_id: str, user: auth.Writer) -> Response:
    _revoke(request, user, token_id)
    return see_other("/settings")


@router.post("/settings/sign-out-everywhere", include_in_schema=False)
def sign_out_everywhere(request: Request, user: auth.Writer) -> Response:
    store_of(request).end_sessions(user.id)
    response = see_other("/login")
    auth.clear_session_cookie(response)
    return response


@router.post("/settings/delete", include_in_schema=False)
async def delete_account(request: Request, user: auth.Writer) -> Response:
    form = await request.form()
    store = store_of(request)
    if accounts.check_password(store, user.email, field(form, "password")) is None:
        return _settings(request, user, 400, "password: that is not your password (the account was not deleted)")
    store.delete_user(user.email)
    response = see_other("/")
    auth.clear_session_cookie(response)
    return response


@router.get("/settings/export", include_in_schema=False)
def settings_export(request: Request) -> Response:
    user = page_user(request)
    if isinstance(user, Response):
        return user
    return _export(request, user, attachment=True)


# -- the API --------------------------------------------------------------------------


class TokenRequest(BaseModel):
    """A new personal API token."""

    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(default=None, max_length=100, json_schema_extra={"pattern": ONE_LINE.pattern},
                              description="what the token is for (one line: no control characters)")


TokenId = Annotated[str, Path(description="the token's id (from GET /api/me/tokens)", pattern=r"^[0-9]{1,18}$")]


@router.get("/api/me", tags=["account"], summary="Who you are", response_model=schemas.Me,
            responses=errors({401: ""}))
def me_api(user: auth.SignedIn) -> Response:
    """The account the credentials belong to."""
    return JSON(me_json(user))


@router.get("/api/whoami-v2", tags=["account"], summary="Who you are, as Hugging Face's whoami answers",
            response_model=schemas.HfWhoami, responses=errors({401: ""}))
def whoami_api(request: Request, user: auth.SignedIn) -> Response:
    """Hugging Face's ``/api/whoami-v2`` for a personal API token, so that its client's
    ``HfApi(endpoint=..., token=prt_...).whoami()`` tells whose token it is (401 for a bad one)."""
    seen = auth.viewer(request)
    return JSON({"type": "user", "id": str(user.id), "name": user.display_name, "fullname": user.name or
                 user.display_name, "email": user.email, "isPro": False, "orgs": [],
                 "auth": {"type": "access_token" if seen.via == "token" else "session"}})


@router.get("/api/me/tokens", tags=["account"], summary="Your personal API tokens (never the tokens themselves)",
            response_model=schemas.Tokens, responses=errors({401: ""}))
def tokens_api(request: Request, user: auth.SignedIn) -> Response:
    return JSON({"tokens": store_of(request).user_api_tokens(user.id)})


@router.post("/api/me/tokens", tags=["account"], summary="Make a personal API token (shown once)",
             status_code=201, response_model=schemas.NewToken, responses=WRITES)
def new_token_api(request: Request, body: TokenRequest, user: auth.Writer) -> Response:
    label = _label(body.label)
    token = accounts.new_token()
    token_id = store_of(request).add_api_token(user.email, accounts.hash_token(token), label)
    return JSON({"id": token_id, "label": label, "token": token}, status_code=201)


@router.delete("/api/me/tokens/{token_id}", tags=["account"], summary="Revoke one of your API tokens",
               response_model=schemas.Tokens, responses=WRITES | errors({404: "you have no token with this id"}))
def revoke_token_api(request: Request, token_id: TokenId, user: auth.Writer) -> Response:
    _revoke(request, user, token_id)
    return JSON({"tokens": store_of(request).user_api_tokens(user.id)})


@router.get("/api/me/export", tags=["account"], summary="Everything stored about you, as JSON",
            responses=errors({401: ""}) | {200: {"description": "the account's data",
                                                  "content": {"application/json": {"schema": {"type": "object"}}}}})
def export_api(request: Request, user: auth.SignedIn) -> Response:
    return _export(request, user, attachment=False)


def _label(label: str | None) -> str | None:
    if label is None:
        return None
    if not ONE_LINE.match(label):
        raise HTTPError(400, "label contains control characters or line breaks; remove them")
    return label.strip() or None


def _revoke(request: Request, user: User, token_id: str) -> None:
    """Revoke the viewer's own token ``token_id``; 404 for anyone else's (not even whether it exists)."""
    store = store_of(request)
    mine = {t["id"] for t in store.user_api_tokens(user.id)}
    number = id_number(token_id)
    if number is None or number not in mine:
        raise HTTPError(404, f"you have no API token with id {token_id[:20]!r}")
    store.revoke_api_token(number)


def _export(request: Request, user: User, attachment: bool) -> Response:
    data = store_of(request).user_data(user.email) or {}
    response = JSON(data)
    if attachment:
        response.headers["content-disposition"] = f'attachment; filename="paperradar-user-{user.id}.json"'
    return response


