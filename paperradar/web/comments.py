"""Comments on paper pages: the JSON API, the plain forms, and what the paper page shows of them.

- ``GET /api/papers/{id}/comments`` (public): the comments, oldest first, each
  with its Markdown (``body``), its rendered HTML (``html``) and what the
  viewer may do with it (``mine``, ``can_edit``, ``can_delete``).
- ``POST /api/papers/{id}/comments`` ``{"body": "..."}``: a signed-in user
  comments (201 with the comment); ``PUT /api/comments/{id}``: its author
  edits it (anyone else, an administrator too, gets 403: an administrator
  may delete a comment, never put words in someone's mouth);
  ``DELETE /api/comments/{id}``: its author or an administrator.
- The same without JavaScript: ``POST /papers/{id}/comments`` (field
  ``body``), ``GET``/``POST /comments/{id}/edit``, ``POST
  /comments/{id}/delete``; each answers 303 back to the paper page (or to a
  local ``next``), and each form carries the session's CSRF token (checked by
  :data:`.auth.Writer`).

A comment is shown as its author's display name (never their email), the
time, "edited" once edited, and its text rendered by :mod:`paperradar.markdown`
(raw HTML off, then an allow-list): the only HTML of a user's that reaches a
page, and only as that sanitizer's output. The routes with ``{paper_id:path}``
are registered before the paper page, whose own ``{paper_id:path}`` would take
them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from markupsafe import Markup
from starlette.responses import Response

from .. import markdown
from ..citation import links as paper_links
from ..store import User
from . import auth, schemas
from .common import CONTROLS, JSON, HTTPError, bad, render, store_of
from .forms import id_number, next_path, page_user, see_other
from .links import paper_url
from .pages import errors
from .papers import FOUND_OR_NOT, PaperId, find

router = APIRouter()

MAX_CHARS = markdown.MAX_CHARS
_CONTROL = re.compile(f"[{CONTROLS}]")  # tab and line breaks are text
CommentId = Annotated[str, Path(description="the comment's id (from GET /api/papers/{id}/comments)",
                                pattern=r"^[0-9]{1,18}$")]
WRITE = errors({400: "body is not valid (the message says why), or the id is not a number",
                401: "", 403: ""})
WRITE_ONE = WRITE | errors({404: "no comment with this id"})


# -- checking -------------------------------------------------------------------------


def body_param(value: str, form: bool = False) -> str:
    """A comment's text as stored: line breaks made ``\\n``, trailing spaces and leading blank lines
    dropped (the first line's indentation, a code block's, is kept). A 400 naming ``body`` when it
    is empty, over ``MAX_CHARS`` or holds control characters. A form's text is measured once its
    line breaks are ``\\n`` (browsers send ``\\r\\n`` and count one character for each)."""
    text = value.replace("\r\n", "\n") if form else value
    if _CONTROL.search(text):
        raise bad("body contains control characters (such as NUL); remove them")
    if len(text) > MAX_CHARS:
        raise bad(f"body is too long: {len(text):,} characters (at most {MAX_CHARS:,})")
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    text = re.sub(r"\A(?:[^\S\n]*\n)+", "", text)
    if not text.strip():
        raise bad("body is empty: write something")
    return text


def comment_of(request: Request, comment_id: str) -> dict[str, Any]:
    """The comment, or a 404 (also for an id that is not a number: the form routes take any string)."""
    number = id_number(comment_id)
    found = store_of(request).comment(number) if number is not None else None
    if found is None:
        raise HTTPError(404, f"no comment with id {comment_id[:20]!r}")
    return found


def may_edit(user: User | None, comment: dict[str, Any]) -> bool:
    """Only the author edits a comment."""
    return user is not None and comment["user"] == user.id


def may_delete(user: User | None, comment: dict[str, Any]) -> bool:
    """The author or an administrator deletes it."""
    return user is not None and (comment["user"] == user.id or user.is_admin)


def _require(allowed: bool, action: str) -> None:
    if not allowed:
        who = "its author" if action == "edit" else "its author or an administrator"
        raise HTTPError(403, f"only {who} may {action} this comment")


# -- how a comment is shown -------------------------------------------------------------


def comment_url(comment: dict[str, Any]) -> str:
    """The comment on its paper's page."""
    return f"{paper_url(comment['paper'])}#comment-{comment['id']}"


def comment_json(comment: dict[str, Any], user: User | None) -> dict[str, Any]:
    """A comment as the API gives it to ``user`` (None: anonymous)."""
    return {"id": comment["id"], "paper": comment["paper"], "url": comment_url(comment),
            "author": comment["author"], "body": comment["body"], "html": markdown.render(comment["body"]),
            "created_at": comment["created_at"], "edited_at": comment["edited_at"],
            "mine": may_edit(user, comment), "can_edit": may_edit(user, comment),
            "can_delete": may_delete(user, comment)}


def comments_json(request: Request, paper_id: str) -> dict[str, Any]:
    user = auth.viewer(request).user
    shown = [comment_json(c, user) for c in store_of(request).paper_comments(paper_id)]
    return {"id": paper_id, "count": len(shown), "comments": shown}


def section(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    """What ``_comments.html`` shows on a paper's page (the paper page's context calls this)."""
    user = auth.viewer(request).user
    page = paper_url(row["id"])
    items = []
    for c in store_of(request).paper_comments(row["id"]):
        item = comment_json(c, user)
        item["html"] = Markup(item["html"])  # nh3's output (markdown.render): the only user HTML in a page
        item["edit_url"] = f"/comments/{c['id']}/edit"
        item["delete_url"] = f"/comments/{c['id']}/delete"
        items.append(item)
    return {"entries": items, "count": len(items), "post_url": f"{page}/comments", "back": f"{page}#comments",
            "login_url": "/login?next=" + quote(f"{page}#comments", safe="/"), "max_chars": MAX_CHARS,
            "huggingface": imported_count(row), "hf_url": paper_links(row).get("hf")}


def imported_count(row: Mapping[str, Any]) -> int:
    """The comments Hugging Face counted on the paper when it was imported (its ``numComments``), or 0."""
    extra = row.get("extra")
    count = extra.get("numComments") if isinstance(extra, Mapping) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0


def _back(comment: dict[str, Any], asked: str | None = None) -> Response:
    """303 to the form's ``next`` (already checked by :func:`.forms.next_path`), else to the comment."""
    return see_other(asked or comment_url(comment))


# -- the API --------------------------------------------------------------------------


@router.get("/api/papers/{paper_id:path}/comments", tags=["comments"], summary="A paper's comments",
            response_model=schemas.Comments, responses=FOUND_OR_NOT)
def list_api(request: Request, paper_id: PaperId) -> Response:
    """The comments on this site, oldest first; ``mine``, ``can_edit`` and ``can_delete`` say what
    the viewer (signed in, with a bearer token, or anonymous) may do with each."""
    row = find(request, paper_id)
    return JSON(comments_json(request, row["id"]))


@router.post("/api/papers/{paper_id:path}/comments", tags=["comments"], summary="Comment on a paper",
             status_code=201, response_model=schemas.Comment,
             responses=WRITE | errors({404: "no paper with this id"}))
def add_api(request: Request, paper_id: PaperId, body: schemas.CommentText, user: auth.Writer) -> Response:
    """``{"body": "..."}``: Markdown, at most 10,000 characters. Answers 201 with the comment."""
    row = find(request, paper_id)
    added = _add(request, row, user, body_param(body.body))
    return JSON(comment_json(added, user), status_code=201)


@router.put("/api/comments/{comment_id}", tags=["comments"], summary="Edit your comment",
            response_model=schemas.Comment, responses=WRITE_ONE)
def edit_api(request: Request, comment_id: CommentId, body: schemas.CommentText, user: auth.Writer) -> Response:
    """``{"body": "..."}``: the new text. Only the comment's author may edit it (403 for anyone
    else, administrators included); ``edited_at`` is set when the text changes."""
    comment = comment_of(request, comment_id)
    _require(may_edit(user, comment), "edit")
    return JSON(comment_json(_edit(request, comment, body_param(body.body)), user))


@router.delete("/api/comments/{comment_id}", tags=["comments"], summary="Delete a comment",
               response_model=schemas.Comments, responses=WRITE_ONE)
def delete_api(request: Request, comment_id: CommentId, user: auth.Writer) -> Response:
    """Its author or an administrator deletes it; answers the paper's comments that remain."""
    comment = comment_of(request, comment_id)
    _require(may_delete(user, comment), "delete")
    _delete(request, comment)
    return JSON(comments_json(request, comment["paper"]))


def _add(request: Request, row: dict[str, Any], user: User, text: str) -> dict[str, Any]:
    added = store_of(request).add_comment(row["id"], user.id, text)
    if added is None:  # deleted between the two reads
        raise HTTPError(404, f"no paper with id {row['id']!r}")
    return added


def _edit(request: Request, comment: dict[str, Any], text: str) -> dict[str, Any]:
    edited = store_of(request).edit_comment(comment["id"], text)
    if edited is None:
        raise HTTPError(404, f"no comment with id {comment['id']}")
    return edited


def _delete(request: Request, comment: dict[str, Any]) -> None:
    if not store_of(request).delete_comment(comment["id"]):
        raise HTTPError(404, f"no comment with id {comment['id']}")


# -- the forms (no JavaScript) ------------------------------------------------------------
# A text the checks refuse comes back in its form with the reason (400), not lost on an error page.


async def _form(request: Request) -> tuple[str, str | None]:
    """The form's ``body`` as typed (a refused one is shown again) and its ``next`` (a path of this site)."""
    form = await request.form()
    value = form.get("body")
    return (value if isinstance(value, str) else ""), next_path(form)


@router.post("/papers/{paper_id:path}/comments", include_in_schema=False)
async def add_form(request: Request, paper_id: str, user: auth.Writer) -> Response:
    row = find(request, paper_id)
    typed, asked = await _form(request)
    try:
        text = body_param(typed, form=True)
    except HTTPError as exc:
        return _form_page(request, row, None, typed, exc)
    return _back(_add(request, row, user, text), asked)


@router.get("/comments/{comment_id}/edit", include_in_schema=False)
def edit_page(request: Request, comment_id: str) -> Response:
    user = page_user(request)
    if isinstance(user, Response):
        return user
    comment = comment_of(request, comment_id)
    _require(may_edit(user, comment), "edit")
    return _form_page(request, store_of(request).get(comment["paper"]), comment, comment["body"])


@router.post("/comments/{comment_id}/edit", include_in_schema=False)
async def edit_form(request: Request, comment_id: str, user: auth.Writer) -> Response:
    comment = comment_of(request, comment_id)
    _require(may_edit(user, comment), "edit")
    typed, asked = await _form(request)
    try:
        text = body_param(typed, form=True)
    except HTTPError as exc:
        return _form_page(request, store_of(request).get(comment["paper"]), comment, typed, exc)
    return _back(_edit(request, comment, text), asked)


@router.post("/comments/{comment_id}/delete", include_in_schema=False)
async def delete_form(request: Request, comment_id: str, user: auth.Writer) -> Response:
    comment = comment_of(request, comment_id)
    _require(may_delete(user, comment), "delete")
    _delete(request, comment)
    _, asked = await _form(request)
    return see_other(asked or f"{paper_url(comment['paper'])}#comments")


def _form_page(request: Request, row: Mapping[str, Any] | None, comment: dict[str, Any] | None, text: str,
               refused: HTTPError | None = None) -> Response:
    """The comment form on a page of its own: editing ``comment``, or (None) a new comment on
    ``row`` that was refused; ``text`` as typed, and the reason it was refused."""
    if row is None:  # the paper went while the comment was being written
        raise HTTPError(404, "the paper of this comment is gone")
    page = paper_url(row["id"])
    action = f"/comments/{comment['id']}/edit" if comment else f"{page}/comments"
    preview = Markup(markdown.render(text)) if comment and not refused else None  # nh3's output
    return render(request, "comment_edit.html", status=refused.status if refused else 200,
                  title="Edit your comment" if comment else "Your comment", comment=comment, paper=row,
                  paper_page=page, back=comment_url(comment) if comment else f"{page}#comments", action=action,
                  text=text, message=refused.message if refused else None, preview=preview, max_chars=MAX_CHARS)
