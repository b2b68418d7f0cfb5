"""What every plain HTML form of the site shares: reading its fields, and where it sends the browser after.

The community's forms (sign-in and settings, votes, submissions, comments, the library, follows)
work without JavaScript: each POSTs to a page path and answers 303 to where the browser came
from. One way to do each step, here:

- :func:`field` / :func:`optional_field`: a form field as text, or a 400 naming it;
- :func:`local_path`: a ``next`` that is a path of this site (never ``//host`` or ``/\\host``),
  else a default: a form never sends the browser to another site;
- :func:`back`: 303 to the form's ``next``, else to the page the form was on (a same-origin
  ``Referer``), else to the natural page, at the paper's card when a card's form was used;
- :func:`page_user`: the signed-in viewer of a page, or a 303 to ``/login`` that comes back;
- :func:`id_number`: an id from a form route's path (those take any string).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse

from ..store import User
from . import auth
from .common import HTTPError
from .links import paper_url

MAX_FORM_FIELD = 2000
MAX_PATH = 2000


def see_other(url: str) -> RedirectResponse:
    """303: after a form's POST, the browser GETs ``url``."""
    return RedirectResponse(url, status_code=303)


def optional_field(form: FormData, name: str, max_chars: int = MAX_FORM_FIELD) -> str | None:
    """A form field as text (trimmed, except a password), None when the form lacks it; a 400 naming
    it when it is a file, over ``max_chars`` or holds control characters (tab and line breaks are text)."""
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"{name} must be text, not a file")
    if len(value) > max_chars:
        raise HTTPError(400, f"{name} is too long (at most {max_chars:,} characters)")
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in value) or "\x7f" in value:
        raise HTTPError(400, f"{name} contains control characters; remove them")
    return value if name.endswith("password") else value.strip()


def field(form: FormData, name: str, required: bool = True, max_chars: int = MAX_FORM_FIELD) -> str:
    """A form field as text (:func:`optional_field`); a required one missing or blank is a 400 naming
    it, an optional one missing is ``""``."""
    value = optional_field(form, name, max_chars)
    if value is None:
        if required:
            raise HTTPError(400, f"{name} is required")
        return ""
    if required and not value.strip():
        raise HTTPError(400, f"{name} is empty")
    return value


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path on this site (``/...``, not ``//host`` or ``/\\host``), else ``default``:
    where a form sends the browser back, never to another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(
            ch in value for ch in "\r\n\t\\") or len(value) > MAX_PATH:
        return default
    return value


def next_path(form: FormData) -> str | None:
    """The form's ``next`` field when it is a path of this site, else None."""
    value = form.get("next")
    return (local_path(value, "") or None) if isinstance(value, str) else None


def came_from(request: Request) -> str | None:
    """The path and query of the page a form was posted from, when its ``Referer`` is this site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if not referer.path or f"{referer.scheme}://{referer.netloc}".lower() != auth.site_origin(request):
        return None
    return local_path(referer.path + (f"?{referer.query}" if referer.query else ""), "") or None


def back(request: Request, form: FormData, natural: str, paper_id: str | None = None) -> RedirectResponse:
    """303 to the form's ``next`` (a path on this site), else to the page the form was on (its
    Referer, same origin only), else to ``natural``; at the paper's card (``#p-ID``) unless the
    address has a fragment or is the paper's own page (a card's vote, save or hide button)."""
    target = next_path(form) or came_from(request) or natural
    if paper_id and "#" not in target and urlsplit(target).path != paper_url(paper_id):
        target += "#p-" + quote(paper_id, safe="/:")
    return see_other(target)


def page_user(request: Request) -> User | RedirectResponse:
    """The signed-in viewer, or a redirect to /login that comes back here (for pages; APIs answer 401)."""
    user = auth.viewer(request).user
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return see_other(f"/login?next={quote(target, safe='/')}")
    return user


def id_number(text: str) -> int | None:
    """A row id written in a path (ASCII digits, at most 18), else None: the form routes take any
    string, and ``"²".isdigit()`` is true where ``int("²")`` fails."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None
