"""The library: papers a user saved (in collections, with a private note), papers they hid, and
their export and import.

- Pages: ``/library`` (every collection with its count, the saved papers newest first, each with
  its note; managing collections, importing a file, the hidden papers) and ``/library/{collection}``
  (one collection; 404 for a name the viewer has no collection of). Anonymous: a 303 to
  ``/login?next=...``.
- Forms (no JavaScript needed; 303 back to the form's ``next``, else the page the form was on):
  ``POST /papers/{id}/save`` (a card's "Save": into the default collection, "Reading list", or
  where it already is; the paper page's form names the collections and the note),
  ``/papers/{id}/unsave``, ``/papers/{id}/hide``, ``/papers/{id}/unhide``,
  ``POST /library/collections/rename`` and ``/delete``, ``POST /library/import`` (multipart).
- The API, for the signed-in user only (a bearer token or the session): ``GET /api/me/library``,
  ``PUT``/``DELETE /api/me/library/{paper_id}``, ``GET /api/me/export/library``,
  ``POST /api/me/import/library``, ``PATCH``/``DELETE /api/me/collections/{name}``,
  ``GET /api/me/hidden``, ``PUT``/``DELETE /api/me/hidden/{paper_id}``.

Hidden papers are left out of the signed-in viewer's feed, search, trending, category and author
listings unless the request asks ``hidden=1`` (:func:`unhidden`, which those pages' data
functions call): a page then shows fewer papers than its size, and its totals still count them.
A user only ever reads and changes their own library: every store call is made with the viewer's id.
"""

from __future__ import annotations

import io
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.datastructures import UploadFile
from starlette.responses import Response

from .. import export
from ..model import FormatError, Paper, Reject
from ..sources import parser_for
from ..sources.detect import detect
from ..store import User
from ..store.library import DEFAULT_COLLECTION
from . import auth, schemas
from .common import (
    CONTROLS,
    JSON,
    HTTPError,
    card,
    choice_param,
    choice_schema,
    page_param,
    papers_json,
    radar_of,
    render,
    store_of,
    text_schema,
)
from .forms import back, optional_field, page_user, see_other
from .links import paper_url
from .pages import Param, documented, errors
from .papers import PaperId, find

router = APIRouter()

MAX_NAME = 100  # characters of a collection name
MAX_NOTE = 10_000  # characters of a note
MAX_COLLECTIONS = 50  # collections one paper is put in at once
MAX_UPLOAD = 10 * 1024 * 1024  # bytes of an imported file
PER_PAGE = 50
IMPORTED = ("bibtex", "csl-json", "ris")  # what an import takes (sources.detect tells which)
IMPORT_ORIGIN = "library import"  # the new papers' provenance: no user, no file name (both are private)
NAME_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_NAME,  # no control characters, no line breaks
               "pattern": r"^[^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s][^\x00-\x1f\x7f]*$",
               "not": {"pattern": r"^\s*\.{1,2}\s*$"}}
NOTE_SCHEMA = text_schema(MAX_NOTE)
_CONTROL = re.compile(f"[{CONTROLS}]")

HIDDEN = Param("hidden", "1: also the papers you hid (signed in; left out by default, so a page may "
                         "show fewer papers than its size, and its counts include them)",
               schema=choice_schema(("0", "1"), "0"))
QUERY_NAME = {"type": "string", "maxLength": MAX_NAME, "pattern": r"^[^\x00-\x1f\x7f]*$",
              "not": {"pattern": r"^\s*\.{1,2}\s*$"}}
COLLECTION = Param("collection", "one of your collections, by name (default: the whole library)", schema=QUERY_NAME)
FORMAT = Param("format", "bibtex (default), csl-json or ris", schema=choice_schema(tuple(export.FORMATS), "bibtex"))
INTO = Param("collection", f"the collection the papers go in (made if new; default {DEFAULT_COLLECTION!r})",
             schema=QUERY_NAME)
Collection, Format, Into = documented(COLLECTION), documented(FORMAT), documented(INTO)
CollectionPath = Annotated[str, Path(description="the collection's name (escaped: a / is %2F)"),
                           WithJsonSchema(NAME_SCHEMA)]

SIGNED_IN = errors({401: ""})
WRITES = errors({400: "the body or a parameter is not valid (the message names the field)", 401: "", 403: ""})
ON_PAPER = WRITES | errors({404: "no paper with this id"})


# -- checking what a user wrote ---------------------------------------------------------


def collection_name(value: Any, field: str = "collections") -> str:
    """A collection name as stored: trimmed, 1 to 100 characters, no control characters, not "." or ".."
    (a browser would read those as a path step); else a 400 naming ``field``."""
    if not isinstance(value, str):
        raise HTTPError(400, f"{field}: a collection name is text")
    if _CONTROL.search(value) or "\n" in value or "\r" in value or "\t" in value:
        raise HTTPError(400, f"{field}: a collection name cannot contain control characters or line breaks")
    if len(value) > MAX_NAME:
        raise HTTPError(400, f"{field}: a collection name has at most {MAX_NAME} characters, not {len(value):,}")
    name = value.strip()
    if not name:
        raise HTTPError(400, f"{field}: a collection name cannot be empty")
    if name in (".", ".."):
        raise HTTPError(400, f"{field}: {name!r} cannot be a collection name")
    return name


def note_text(value: Any, field: str = "note") -> str:
    """A note as stored: at most 10,000 characters; line breaks and tabs kept, other control characters refused."""
    if not isinstance(value, str):
        raise HTTPError(400, f"{field} is text")
    if _CONTROL.search(value):
        raise HTTPError(400, f"{field} contains control characters (such as NUL); remove them")
    if len(value) > MAX_NOTE:
        raise HTTPError(400, f"{field} is too long: {len(value):,} characters (at most {MAX_NOTE:,})")
    return value.strip()


def collection_names(values: list[Any], field: str = "collections") -> list[str]:
    """Checked names, each once, in the order given."""
    if len(values) > MAX_COLLECTIONS:
        raise HTTPError(400, f"{field}: at most {MAX_COLLECTIONS} collections at once, not {len(values)}")
    names: list[str] = []
    for value in values:
        name = collection_name(value, field)
        if name not in names:
            names.append(name)
    return names


# -- hidden papers in listings ------------------------------------------------------------


def unhidden(request: Request, asked: str | None, rows: list[Any]) -> list[Any]:
    """``rows`` without the papers the signed-in viewer hid, unless ``asked`` is "1" (the ``hidden``
    parameter); anonymous viewers see every paper. The listing's own counts are left as they are."""
    show = choice_param(asked, "hidden", ("0", "1"), "0") == "1"
    user = auth.viewer(request).user
    if show or user is None or not rows:
        return rows
    hidden = getattr(request.state, "hidden_ids", None)
    if hidden is None:
        hidden = request.state.hidden_ids = store_of(request).hidden_ids(user.id)
    return [r for r in rows if r["id"] not in hidden] if hidden else rows


def hidden_here(asked: str | None) -> dict[str, str | None]:
    """What a listing's links carry so that ``hidden=1`` stays on its next pages."""
    return {"hidden": "1" if choice_param(asked, "hidden", ("0", "1"), "0") == "1" else None}


# -- JSON bodies ---------------------------------------------------------------------------


Name = Annotated[str, WithJsonSchema(NAME_SCHEMA | {"description": "a collection name (trimmed; not . or ..)"})]


class SaveRequest(BaseModel):
    """A paper's place in the library: PUT replaces what it names."""

    model_config = ConfigDict(extra="forbid")
    collections: Annotated[list[Name] | None, Field(
        description=f"the collections the paper is in, replacing those it was in (made if new; at most "
                    f"{MAX_COLLECTIONS}); empty: {DEFAULT_COLLECTION!r}; left out: where it is already "
                    f"(a paper not saved yet: {DEFAULT_COLLECTION!r})",
        json_schema_extra={"maxItems": MAX_COLLECTIONS})] = None
    note: Annotated[str | None, WithJsonSchema({"anyOf": [NOTE_SCHEMA, {"type": "null"}], "description": (
        "your private note (line breaks kept), replacing the one before; left out or null: kept")})] = None


class RenameRequest(BaseModel):
    """A collection's new name."""

    model_config = ConfigDict(extra="forbid")
    name: Name


def library_paper(entry: dict[str, Any]) -> dict[str, Any]:
    row = entry["paper"]
    return papers_json([row])[0] | {"collections": entry["collections"], "note": entry["note"],
                                    "saved_at": entry["saved_at"]}


def scope(collection: str | None, field: str = "collection") -> str | None:
    """A ``collection`` parameter: a name, or None when left out or blank (spaces only)."""
    if collection is None:
        return None
    if _CONTROL.search(collection):
        raise HTTPError(400, f"{field}: a collection name cannot contain control characters")
    return collection_name(collection, field) if collection.strip() else None


# -- the API -------------------------------------------------------------------------------


@router.get("/api/me/library", tags=["library"], summary="Your library: saved papers and collections",
            response_model=schemas.Library,
            responses=errors({400: "", 401: "", 404: "you have no collection of that name"}))
def library_api(request: Request, user: auth.SignedIn, collection: Collection = None) -> Response:
    """Your saved papers (all, or one collection's), newest saved first, each with its collections,
    note and when it was saved; and every collection with its number of papers."""
    name = scope(collection)
    store = store_of(request)
    listed = store.library(user.id, name)
    if listed is None:
        raise HTTPError(404, f"you have no collection named {name!r}")
    entries, total = listed
    return JSON({"collection": name, "total": total, "collections": store.collections(user.id),
                 "papers": [library_paper(e) for e in entries]})


@router.get("/api/me/export/library", tags=["library"],
            summary="Your library (or one collection) as BibTeX, CSL-JSON or RIS",
            response_class=Response,
            responses={200: {"description": "the file, as an attachment (notes in BibTeX annote, CSL-JSON "
                                            "note, RIS N1)",
                             "content": {"application/x-bibtex": {"schema": {"type": "string"}},
                                         "application/vnd.citationstyles.csl+json": {
                                             "schema": {"type": "array", "items": {"type": "object"}}},
                                         "application/x-research-info-systems": {"schema": {"type": "string"}}}}}
            | errors({400: "", 401: "", 404: "you have no collection of that name"}))
def export_api(request: Request, user: auth.SignedIn, format: Format = None, collection: Collection = None
               ) -> Response:
    """A file that reference managers (Zotero, JabRef, ...) and `paperradar import` read: the same
    papers come back. Newest saved first."""
    fmt = choice_param(format, "format", tuple(export.FORMATS), "bibtex") or "bibtex"
    name = scope(collection)
    listed = store_of(request).library(user.id, name)
    if listed is None:
        raise HTTPError(404, f"you have no collection named {name!r}")
    text = export.write(fmt, ((e["paper"], e["note"]) for e in listed[0]))
    kind, ext = export.FORMATS[fmt]
    filename = f"paperradar-{name or 'library'}.{ext}"
    return Response(text.encode("utf-8"), media_type=kind, headers={"content-disposition": attachment(filename)})


def attachment(filename: str) -> str:
    """A Content-Disposition header: an ASCII file name, and the exact one (RFC 6266) for those who read it."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-") or "paperradar-library"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.put("/api/me/library/{paper_id:path}", tags=["library"], summary="Save a paper, or change its collections and note",
            response_model=schemas.LibraryPaper, responses=ON_PAPER)
def save_api(request: Request, paper_id: PaperId, body: SaveRequest, user: auth.Writer) -> Response:
    """Puts the paper in your library (or changes its entry) and answers the entry."""
    row = find(request, paper_id)
    names = collection_names(body.collections) if body.collections is not None else None
    note = note_text(body.note) if body.note is not None else None
    entry = store_of(request).save_paper(user.id, row["id"], names, note)
    if entry is None:  # deleted in between
        raise HTTPError(404, f"no paper with id {paper_id[:200]!r}")
    return JSON(library_paper({"paper": row, **entry}))


@router.delete("/api/me/library/{paper_id:path}", tags=["library"], summary="Take a paper out of your library",
               response_model=schemas.Unsaved, responses=ON_PAPER)
def unsave_api(request: Request, paper_id: PaperId, user: auth.Writer) -> Response:
    """Its note and collections go with it; a paper that was not saved is answered the same."""
    row = find(request, paper_id)
    was = store_of(request).unsave_paper(user.id, row["id"])
    return JSON({"id": row["id"], "saved": False, "was_saved": was})


@router.patch("/api/me/collections/{name:path}", tags=["library"], summary="Rename one of your collections",
              response_model=schemas.CollectionInfo,
              responses=WRITES | errors({404: "you have no collection of that name",
                                         409: "you have another collection of the new name"}))
def rename_api(request: Request, name: CollectionPath, body: RenameRequest, user: auth.Writer) -> Response:
    return JSON(rename(request, user, name, body.name))


@router.delete("/api/me/collections/{name:path}", tags=["library"], summary="Delete one of your collections",
               response_model=schemas.CollectionDeleted,
               responses=WRITES | errors({404: "you have no collection of that name"}))
def delete_collection_api(request: Request, name: CollectionPath, user: auth.Writer) -> Response:
    """Its papers that are in no other collection leave the library (with their notes)."""
    old = collection_name(name, "name")
    left = store_of(request).delete_collection(user.id, old)
    if left is None:
        raise HTTPError(404, f"you have no collection named {old!r}")
    return JSON({"name": old, "deleted": True, "left_library": left})


def rename(request: Request, user: User, name: str, new_name: str) -> dict[str, Any]:
    old, new = collection_name(name, "name"), collection_name(new_name, "name")
    done = store_of(request).rename_collection(user.id, old, new)
    if done == "unknown":
        raise HTTPError(404, f"you have no collection named {old!r}")
    if done == "taken":
        raise HTTPError(409, f"name: you already have a collection named {new!r}")
    return next(c for c in store_of(request).collections(user.id) if c["name"] == new)


@router.get("/api/me/hidden", tags=["library"], summary="The papers you hid", response_model=schemas.Hidden,
            responses=SIGNED_IN)
def hidden_api(request: Request, user: auth.SignedIn) -> Response:
    """Newest hidden first; they are left out of your feed, search, trending and listings unless you ask hidden=1."""
    hidden = store_of(request).hidden_papers(user.id)
    return JSON({"total": len(hidden), "papers": [papers_json([h["paper"]])[0] | {"hidden_at": h["hidden_at"]}
                                                   for h in hidden]})


@router.put("/api/me/hidden/{paper_id:path}", tags=["library"], summary="Hide a paper (not interested)",
            response_model=schemas.HiddenState, responses=ON_PAPER)
def hide_api(request: Request, paper_id: PaperId, user: auth.Writer) -> Response:
    row = find(request, paper_id)
    at = store_of(request).hide_paper(user.id, row["id"])
    return JSON({"id": row["id"], "hidden": True, "hidden_at": at})


@router.delete("/api/me/hidden/{paper_id:path}", tags=["library"], summary="Show a hidden paper again",
               response_model=schemas.HiddenState, responses=ON_PAPER)
def unhide_api(request: Request, paper_id: PaperId, user: auth.Writer) -> Response:
    row = find(request, paper_id)
    store_of(request).unhide_paper(user.id, row["id"])
    return JSON({"id": row["id"], "hidden": False, "hidden_at": None})


# -- import ------------------------------------------------------------------------------


def upload_limit(request: Request) -> None:
    """413 before anything is read when the request says it is larger than an import may be
    (a dependency: it runs before the form or the body is read)."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_UPLOAD + 64 * 1024):
        raise HTTPError(413, f"the file is too large: at most {MAX_UPLOAD // (1024 * 1024)} MB")


def form_upload_limit(request: Request) -> None:
    """The upload form's :func:`upload_limit`, which also needs the length first: the session's CSRF check
    reads the form, so a form of unknown length would be read whole before it could be refused."""
    if request.headers.get("content-length") is None:
        raise HTTPError(411, "send the file with its length (Content-Length)")
    upload_limit(request)


UploadLimit = Annotated[None, Depends(upload_limit)]
FormUploadLimit = Annotated[None, Depends(form_upload_limit)]

DECLARED = {"application/x-bibtex": "bibtex", "application/vnd.citationstyles.csl+json": "csl-json",
            "application/x-research-info-systems": "ris"}  # a body's Content-Type that names its format
IMPORT_BODY = {"requestBody": {
    "required": True,
    "description": "the file (Zotero's exports, at most 10 MB), read as the format its Content-Type names; "
                   "sent as another type (text/plain, application/octet-stream), its format is recognised from "
                   "its content, and a file in none of the three is a 400",
    "content": {"application/x-bibtex": {"schema": {"type": "string"}},
                "application/vnd.citationstyles.csl+json": {"schema": {"type": "array", "items": {}}},
                "application/x-research-info-systems": {"schema": {"type": "string"}}}}}


@router.post("/api/me/import/library", tags=["library"], summary="Import a BibTeX, CSL-JSON or RIS file into a collection",
             response_model=schemas.LibraryImport, openapi_extra=IMPORT_BODY,
             responses=WRITES | errors({400: "the file is not BibTeX, CSL-JSON or RIS, or cannot be read "
                                             "(the message says why), or a parameter is not valid",
                                        413: "the file is over 10 MB"}))
async def import_api(request: Request, _limit: UploadLimit, user: auth.Writer, collection: Into = None) -> Response:
    """Each record is matched to a stored paper by arXiv id, DOI, its own key or title; the others are
    stored as new papers. All go in the collection (made if new). The answer says what matched, what
    was added, and which records were skipped and why (with their line)."""
    name = _into(collection)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD:
            raise HTTPError(413, f"the file is too large: at most {MAX_UPLOAD // (1024 * 1024)} MB")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return JSON(import_file(request, user, bytes(data), "the body", name, DECLARED.get(kind)))


def _into(collection: str | None) -> str:
    return scope(collection) or DEFAULT_COLLECTION


def import_file(request: Request, user: User, data: bytes, what: str, collection: str,
                declared: str | None = None) -> dict[str, Any]:
    """Parse the file (as the ``declared`` format, else the one :func:`.sources.detect.detect` finds), put
    its papers in the collection, bring the keyword index up to date for the new ones; the summary."""
    fmt = declared
    if fmt is None:
        if not data.strip():
            raise HTTPError(400, f"{what} is empty: send a BibTeX, CSL-JSON or RIS file")
        fmt = detect(data[:256 * 1024])
        if fmt not in IMPORTED:
            seen = f" (it looks like {fmt})" if fmt else ""
            raise HTTPError(400, f"{what} is not a BibTeX, CSL-JSON or RIS file{seen}")
    papers: list[tuple[int, Paper]] = []
    skipped: list[dict[str, Any]] = []
    try:
        for line, record in parser_for(fmt)(io.BytesIO(data), "upload"):
            if isinstance(record, Reject):
                skipped.append({"line": line, "reason": record.reason, "detail": record.detail})
            else:
                papers.append((line, record))
    except (FormatError, UnicodeDecodeError, ValueError) as exc:
        raise HTTPError(400, f"{what} cannot be read as {fmt}: {str(exc).removeprefix('upload: ')}") from exc
    store = store_of(request)
    done = store.import_to_library(user.id, collection, [p for _, p in papers], IMPORT_ORIGIN)
    if done.merged.new:
        radar_of(request).refresh()  # the new papers are found by search at once (skipped when busy)
    listed = [{"line": line, "id": pid, "title": paper.title, "status": status}
              for (line, paper), (pid, status) in zip(papers, done.papers, strict=True)]
    return {"collection": collection, "format": fmt, "records": len(papers) + len(skipped),
            "matched": len({p["id"] for p in listed if p["status"] == "matched"}),
            "added": len({p["id"] for p in listed if p["status"] == "added"}),
            "skipped": skipped, "papers": listed}


# -- pages -------------------------------------------------------------------------------


@router.get("/library", include_in_schema=False)
def library_page(request: Request, page: str | None = None) -> Response:
    return _library_page(request, None, page)


@router.get("/library/{collection:path}", include_in_schema=False)
def collection_page(request: Request, collection: str, page: str | None = None) -> Response:
    return _library_page(request, collection, page)


def collection_url(name: str) -> str:
    return "/library/" + quote(name, safe="")


def _library_page(request: Request, collection: str | None, page_asked: str | None) -> Response:
    user = page_user(request)
    if isinstance(user, Response):
        return user
    name = collection_name(collection, "collection") if collection is not None else None
    page = page_param(page_asked)
    store = store_of(request)
    listed = store.library(user.id, name, PER_PAGE, (page - 1) * PER_PAGE)
    if listed is None:
        raise HTTPError(404, f"you have no collection named {name!r}")
    entries, total = listed
    collections = [c | {"url": collection_url(c["name"])} for c in store.collections(user.id)]
    here = collection_url(name) if name else "/library"
    pages = max(1, -(-total // PER_PAGE))
    papers = [card(e["paper"]) | {"note": e["note"], "saved_at": e["saved_at"],
                                  "in": [{"name": c, "url": collection_url(c)} for c in e["collections"]]}
              for e in entries]
    scope = f"&collection={quote(name, safe='')}" if name else ""
    return render(request, "library.html", title=f"Library: {name}" if name else "Your library",
                  collection=name, collections=collections, papers=papers, total=total, page=page, pages=pages,
                  here=here, previous=f"{here}?page={page - 1}" if page > 1 else None,
                  next=f"{here}?page={page + 1}" if page < pages else None,
                  exports=[(fmt, f"/api/me/export/library?format={fmt}{scope}") for fmt in export.FORMATS],
                  hidden=[card(h["paper"]) | {"hidden_at": h["hidden_at"]} for h in store.hidden_papers(user.id)]
                  if name is None else [],
                  default_collection=DEFAULT_COLLECTION, json_url="/api/me/library" + (
                      f"?collection={quote(name, safe='')}" if name else ""))


# -- forms -------------------------------------------------------------------------------


@router.post("/papers/{paper_id:path}/save", include_in_schema=False)
async def save_form(request: Request, paper_id: str, user: auth.Writer) -> Response:
    """A card's "Save" (no collection fields: where it is, else the default collection) or the paper
    page's form (``collections_given``: the ticked ``collection`` boxes plus ``new_collection``, and ``note``)."""
    row = find(request, paper_id)
    form = await request.form()
    names: list[str] | None = None
    if form.get("collections_given"):
        ticked: list[Any] = list(form.getlist("collection"))
        new = optional_field(form, "new_collection")
        if new is not None and new.strip():
            ticked.append(new)
        names = collection_names(ticked, "collection")
    note = optional_field(form, "note", MAX_NOTE)
    store_of(request).save_paper(user.id, row["id"], names, note_text(note) if note is not None else None)
    return back(request, form, paper_url(row["id"]), row["id"])


@router.post("/papers/{paper_id:path}/unsave", include_in_schema=False)
async def unsave_form(request: Request, paper_id: str, user: auth.Writer) -> Response:
    row = find(request, paper_id)
    form = await request.form()
    store_of(request).unsave_paper(user.id, row["id"])
    return back(request, form, "/library", row["id"])


@router.post("/papers/{paper_id:path}/hide", include_in_schema=False)
async def hide_form(request: Request, paper_id: str, user: auth.Writer) -> Response:
    row = find(request, paper_id)
    form = await request.form()
    store_of(request).hide_paper(user.id, row["id"])
    return back(request, form, paper_url(row["id"]), row["id"])


@router.post("/papers/{paper_id:path}/unhide", include_in_schema=False)
async def unhide_form(request: Request, paper_id: str, user: auth.Writer) -> Response:
    row = find(request, paper_id)
    form = await request.form()
    store_of(request).unhide_paper(user.id, row["id"])
    return back(request, form, paper_url(row["id"]), row["id"])


@router.post("/library/collections/rename", include_in_schema=False)
async def rename_form(request: Request, user: auth.Writer) -> Response:
    form = await request.form()
    done = rename(request, user, optional_field(form, "name") or "", optional_field(form, "new_name") or "")
    return see_other(collection_url(done["name"]))


@router.post("/library/collections/delete", include_in_schema=False)
async def delete_form(request: Request, user: auth.Writer) -> Response:
    form = await request.form()
    name = collection_name(optional_field(form, "name") or "", "name")
    if store_of(request).delete_collection(user.id, name) is None:
        raise HTTPError(404, f"you have no collection named {name!r}")
    return see_other("/library")


@router.post("/library/import", include_in_schema=False)
async def import_form(request: Request, _limit: FormUploadLimit, user: auth.Writer) -> Response:
    """The /library upload form (multipart: ``file``, ``collection``): a page with the summary."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPError(400, "file: choose a BibTeX, CSL-JSON or RIS file to import")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise HTTPError(413, f"the file is too large: at most {MAX_UPLOAD // (1024 * 1024)} MB")
    name = _into(optional_field(form, "collection"))
    summary = import_file(request, user, data, "file", name)
    return render(request, "library_import.html", title="Import", summary=summary,
                  collection_url=collection_url(name),
                  papers=[{**p, "url": paper_url(p["id"])} for p in summary["papers"]])

