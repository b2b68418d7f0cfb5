"""Who is asking, and may they: the viewer of a request, sign-in cookies, CSRF, the rights of a route.

A request is made by a :class:`Viewer`: anonymous, a user signed in on the
site (a session cookie), or a program with a personal API token
(``Authorization: Bearer prt_...``). Routes say what they need with the
dependencies below, and FastAPI documents them (the bearer scheme in
/openapi.json):

- :data:`SignedIn`: any route that shows a user's own data (``/api/me/...``,
  ``/library``): 401 without credentials.
- :data:`Writer`: every route that changes state (POST, PUT, DELETE; never a
  GET): 401 without credentials; with the session cookie, also a same-origin
  ``Origin`` (or, without one, ``Referer``) and the session's CSRF token (the
  form field ``csrf_token`` or the ``X-CSRF-Token`` header), else 403. A
  bearer request needs neither: a browser never adds that header by itself.

A disabled or deleted user's sessions and tokens stop working at once: each
request looks its credentials up (one indexed read). Cookies are
``HttpOnly``, ``SameSite=Lax`` and, on an https site, ``Secure``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from .. import accounts
from ..store import User
from .common import HTTPError, radar_of

SESSION_COOKIE = "paperradar_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

_bearer = HTTPBearer(auto_error=False, description="a personal API token (paperradar users token, or /settings)")


@dataclass(frozen=True)
class Viewer:
    """Who made a request: ``user`` (None: anonymous), ``via`` ("session" or "token"), and for a
    session its id and CSRF token; ``bad_token``: a bearer token was sent that is not valid."""

    user: User | None = None
    via: str | None = None
    session_id: int | None = None
    csrf: str | None = None
    bad_token: bool = False

    @property
    def signed_in(self) -> bool:
        return self.user is not None


ANONYMOUS = Viewer()


def viewer(request: Request) -> Viewer:
    """Who made the request (looked up once per request). Never raises: bad credentials make an
    anonymous viewer, and the routes that need a user answer 401."""
    cached = getattr(request.state, "viewer", None)
    if isinstance(cached, Viewer):
        return cached
    found = _lookup(request)
    request.state.viewer = found
    return found


def _lookup(request: Request) -> Viewer:
    store = radar_of(request).store
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return Viewer(bad_token=True)
        user = accounts.user_for_token(store, token) if len(token) < 200 else None
        return Viewer(user, "token") if user else Viewer(bad_token=True)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = accounts.session_of(store, cookie)
        if found:
            session_id, csrf, user = found
            return Viewer(user, "session", session_id, csrf)
    return ANONYMOUS


def _unauthorized(request: Request) -> HTTPError:
    seen = viewer(request)
    if seen.bad_token:
        message = "the API token is not valid (unknown, revoked, or its user is disabled)"
    elif not radar_of(request).store.has_users():
        message = "this site has no accounts yet: its owner adds one with `paperradar users add EMAIL --admin`"
    else:
        message = "sign in first (or send Authorization: Bearer with a personal API token)"
    return HTTPError(401, message, headers={"WWW-Authenticate": 'Bearer realm="paperradar"'})


def signed_in(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                        Depends(_bearer)] = None) -> User:
    """The signed-in user, else 401 (for routes that show a user's own data)."""
    user = viewer(request).user
    if user is None:
        raise _unauthorized(request)
    return user


async def writer(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                           Depends(_bearer)] = None) -> User:
    """The user making a state change, else 401; a session's request from another origin or
    without its CSRF token is refused with 403."""
    seen = viewer(request)
    if seen.user is None:
        raise _unauthorized(request)
    if seen.via == "session":
        check_origin(request)
        token = request.headers.get(CSRF_HEADER)
        if token is None and _is_form(request):
            form = await request.form()  # starlette keeps it: the route reads the same form
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
        if not token or not accounts.secrets.compare_digest(token.encode(), (seen.csrf or "").encode()):
            raise HTTPError(403, "the form is out of date or did not come from this site (no valid CSRF "
                                 "token): reload the page and try again")
    return seen.user


def admin(user: Annotated[User, Depends(writer)]) -> User:
    """A state change only an administrator may make, else 403."""
    if not user.is_admin:
        raise HTTPError(403, "only an administrator of the site may do this")
    return user


SignedIn = Annotated[User, Depends(signed_in)]
Writer = Annotated[User, Depends(writer)]
Admin = Annotated[User, Depends(admin)]


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def site_origin(request: Request) -> str:
    """scheme://host[:port] of this site: the base URL's when one is set, else the request's own."""
    base = radar_of(request).settings.base_url
    parts = urlsplit(base) if base else request.url
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_origin(request: Request) -> None:
    """403 unless the request says it came from a page of this site: its ``Origin`` or, when a
    browser sends none, its ``Referer``, names this site's origin (the sign-in form, which has no
    session yet, relies on this alone)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}"
    if not origin or origin.lower().rstrip("/") != site_origin(request):
        raise HTTPError(403, "this request did not come from a page of this site (its Origin or Referer "
                             "names another site, or none): refused")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Send the session's cookie: HttpOnly, SameSite=Lax, Secure on an https site, for the session's life."""
    secure = radar_of(request).settings.secure or request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, token, max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
                        path="/", httponly=True, samesite="lax", secure=secure)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def client_address(request: Request) -> str | None:
    """The address sign-in failures are counted under (the connection's peer)."""
    return request.client.host if request.client else None
