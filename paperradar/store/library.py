"""The library: saved papers with a private note, in named collections; hidden papers.

A paper is in a user's library while a ``saved`` row holds it (with the note
and the time it was first saved); every saved paper is in at least one of the
user's collections (``collection_papers``), and the two are written together,
so the invariant holds at every commit: saving without naming a collection
puts the paper in :data:`DEFAULT_COLLECTION` (made on demand), and a paper
taken out of its last collection (a collection deleted) leaves the library.
Hidden papers (``hidden``) are apart: hiding does not unsave, saving does not
unhide. Rows point at papers by rowid, which a paper keeps when it absorbs a
title-only record, so the library follows merges.

Collection names arrive checked and trimmed (:mod:`paperradar.web.library`);
names are compared exactly (``UNIQUE (user, name)``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ..ids import parse_arxiv_id, title_key
from ..model import Paper
from .base import MergeResult
from .connection import SELECT, SQLiteBase, decode, rows_in

DEFAULT_COLLECTION = "Reading list"


def _now() -> str:
    """The time, to the microsecond: papers saved one after the other keep their order (newest first)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

# The papers of a user's library, newest saved first, with their note and collections.
_ENTRIES = f"""
    {SELECT.replace("FROM papers p", ", s.note AS _note, s.saved_at AS _saved_at FROM saved s JOIN papers p ON p.rowid = s.paper")}
    WHERE s.user = ? {{where}} ORDER BY s.saved_at DESC, p.rowid DESC {{limit}}
"""


@dataclass
class LibraryImport:
    """What an import into a collection did: per record, the stored paper it became and whether it was
    ``"matched"`` (already stored) or ``"added"`` (new); ``merged``: the new papers' merge (for indexing)."""

    collection: str
    papers: list[tuple[str, str]] = field(default_factory=list)  # (paper id, "matched" | "added"), per record
    merged: MergeResult = field(default_factory=MergeResult)


class LibraryTables(SQLiteBase):
    """The library: saved papers, notes, collections, hidden papers."""

    # -- reading ---------------------------------------------------------------

    def saved_ids(self, user_id: int) -> set[str]:
        """The ids of the papers in the user's library."""
        return {r[0] for r in self.conn.execute(
            "SELECT p.id FROM saved s JOIN papers p ON p.rowid = s.paper WHERE s.user = ?", (user_id,))}

    def hidden_ids(self, user_id: int) -> set[str]:
        """The ids of the papers the user hid."""
        return {r[0] for r in self.conn.execute(
            "SELECT p.id FROM hidden h JOIN papers p ON p.rowid = h.paper WHERE h.user = ?", (user_id,))}

    def collections(self, user_id: int) -> list[dict[str, Any]]:
        """The user's collections (``name``, ``papers``: how many, ``created_at``): the default
        collection first, then by name."""
        return [dict(r) for r in self.conn.execute(
            "SELECT c.name, COUNT(cp.paper) AS papers, c.created_at FROM collections c "
            "LEFT JOIN collection_papers cp ON cp.collection = c.id WHERE c.user = ? GROUP BY c.id "
            "ORDER BY c.name != ?, lower(c.name), c.name", (user_id, DEFAULT_COLLECTION))]

    def library(self, user_id: int, collection: str | None = None, limit: int | None = None,
                offset: int = 0) -> tuple[list[dict[str, Any]], int] | None:
        """The user's saved papers (all, or those of one collection), newest saved first: each
        ``{"paper": StoredPaper, "note", "saved_at", "collections": [names]}``, and how many there are.
        None when the user has no collection of that name."""
        where, args = "", [user_id]
        if collection is not None:
            found = self._collection_id(self.conn, user_id, collection)
            if found is None:
                return None
            where, args = "AND s.paper IN (SELECT paper FROM collection_papers WHERE collection = ?)", [
                user_id, found]
        total = self.conn.execute(f"SELECT COUNT(*) FROM saved s WHERE s.user = ? {where}", args).fetchone()[0]
        page = "" if limit is None else f"LIMIT {int(limit)} OFFSET {int(offset)}"
        rows = self.conn.execute(_ENTRIES.format(where=where, limit=page), args).fetchall()
        names = self._collections_of(user_id, [r["rowid"] for r in rows])
        return [{"paper": decode(r), "note": r["_note"], "saved_at": r["_saved_at"],
                 "collections": names.get(r["rowid"], [])} for r in rows], total

    def library_entry(self, user_id: int, paper_id: str) -> dict[str, Any] | None:
        """One saved paper of the user's (``id``, ``note``, ``saved_at``, ``collections``), or None."""
        row = self.conn.execute(
            "SELECT p.id, p.rowid, s.note, s.saved_at FROM saved s JOIN papers p ON p.rowid = s.paper "
            "WHERE s.user = ? AND p.id = ?", (user_id, paper_id)).fetchone()
        if row is None:
            return None
        return {"id": row["id"], "note": row["note"], "saved_at": row["saved_at"],
                "collections": self._collections_of(user_id, [row["rowid"]]).get(row["rowid"], [])}

    def hidden_papers(self, user_id: int) -> list[dict[str, Any]]:
        """The papers the user hid, newest first: ``{"paper": StoredPaper, "hidden_at"}``."""
        rows = self.conn.execute(
            SELECT.replace("FROM papers p", ", h.hidden_at AS _hidden_at FROM hidden h JOIN papers p ON p.rowid = h.paper")
            + " WHERE h.user = ? ORDER BY h.hidden_at DESC, p.rowid DESC", (user_id,)).fetchall()
        return [{"paper": decode(r), "hidden_at": r["_hidden_at"]} for r in rows]

    def library_data(self, user_id: int) -> dict[str, Any]:
        """The user's whole library as plain data (see :func:`library_export`)."""
        return library_export(self.conn, user_id)

    # -- writing ---------------------------------------------------------------

    def save_paper(self, user_id: int, paper_id: str, collections: list[str] | None = None,
                   note: str | None = None) -> dict[str, Any] | None:
        """Put a paper in the library, or change its entry: ``collections`` replaces the collections it is
        in (made on demand; an empty list means the default collection), None keeps them (the default
        collection for a paper not saved yet); ``note`` replaces the note, None keeps it. Returns the entry
        (see :meth:`library_entry`); None for an unknown paper."""
        with self.write() as c:
            rowid = self._paper_rowid(c, paper_id)
            if rowid is None:
                return None
            now = _now()
            c.execute("INSERT INTO saved (user, paper, note, saved_at) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (user, paper) DO NOTHING", (user_id, rowid, note or "", now))
            if note is not None:
                c.execute("UPDATE saved SET note = ? WHERE user = ? AND paper = ?", (note, user_id, rowid))
            current = c.execute("SELECT cp.collection FROM collection_papers cp JOIN collections k "
                                "ON k.id = cp.collection WHERE k.user = ? AND cp.paper = ?", (user_id, rowid)).fetchall()
            if collections is None and current:
                pass  # saved already: where it is stays
            else:
                wanted = {self._collection_id(c, user_id, name, create=True)
                          for name in (collections or [DEFAULT_COLLECTION])}
                have = {r[0] for r in current}
                c.executemany("DELETE FROM collection_papers WHERE collection = ? AND paper = ?",
                              [(k, rowid) for k in have - wanted])
                c.executemany("INSERT INTO collection_papers (collection, paper, added_at) VALUES (?, ?, ?)",
                              [(k, rowid, now) for k in wanted - have])
        return self.library_entry(user_id, self._id_of(rowid))

    def unsave_paper(self, user_id: int, paper_id: str) -> bool:
        """Take a paper out of the library (its note and collection memberships go); False if it was not in it."""
        with self.write() as c:
            rowid = self._paper_rowid(c, paper_id)
            if rowid is None:
                return False
            c.execute("DELETE FROM collection_papers WHERE paper = ? AND collection IN "
                      "(SELECT id FROM collections WHERE user = ?)", (rowid, user_id))
            cur = c.execute("DELETE FROM saved WHERE user = ? AND paper = ?", (user_id, rowid))
        return cur.rowcount > 0

    def rename_collection(self, user_id: int, name: str, new_name: str) -> Literal["renamed", "unknown", "taken"]:
        """Rename one of the user's collections: ``"unknown"`` (no such collection), ``"taken"`` (another
        collection has the new name) or ``"renamed"`` (also when the name does not change)."""
        with self.write() as c:
            found = self._collection_id(c, user_id, name)
            if found is None:
                return "unknown"
            if new_name == name:
                return "renamed"
            if self._collection_id(c, user_id, new_name) is not None:
                return "taken"
            c.execute("UPDATE collections SET name = ? WHERE id = ?", (new_name, found))
        return "renamed"

    def delete_collection(self, user_id: int, name: str) -> int | None:
        """Delete one of the user's collections; its papers in no other collection leave the library.
        Returns how many left it; None when there is no such collection."""
        with self.write() as c:
            found = self._collection_id(c, user_id, name)
            if found is None:
                return None
            c.execute("DELETE FROM collections WHERE id = ?", (found,))  # and its collection_papers (cascade)
            cur = c.execute(
                "DELETE FROM saved WHERE user = ? AND NOT EXISTS (SELECT 1 FROM collection_papers cp "
                "JOIN collections k ON k.id = cp.collection WHERE k.user = saved.user AND cp.paper = saved.paper)",
                (user_id,))
        return cur.rowcount

    def hide_paper(self, user_id: int, paper_id: str) -> str | None:
        """Hide a paper from the user's listings; returns when it was hidden (the first time), None for an
        unknown paper."""
        with self.write() as c:
            rowid = self._paper_rowid(c, paper_id)
            if rowid is None:
                return None
            c.execute("INSERT INTO hidden (user, paper, hidden_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                      (user_id, rowid, _now()))
            row = c.execute("SELECT hidden_at FROM hidden WHERE user = ? AND paper = ?", (user_id, rowid)).fetchone()
        return str(row[0])

    def unhide_paper(self, user_id: int, paper_id: str) -> bool:
        """Show a hidden paper again; False if it was not hidden."""
        with self.write() as c:
            rowid = self._paper_rowid(c, paper_id)
            cur = c.execute("DELETE FROM hidden WHERE user = ? AND paper = ?", (user_id, rowid))
        return cur.rowcount > 0

    def import_to_library(self, user_id: int, collection: str, papers: list[Paper], origin: str) -> LibraryImport:
        """Put parsed records (a reference manager's export) in one of the user's collections, in one
        transaction. Each record is matched to a stored paper by arXiv id, then DOI, then its own key
        (a citation key this store was given before), then title; a matched paper is left as stored (a
        user's file does not rewrite the shared record). The others are merged as new papers (``origin``
        names them in their provenance). Saved papers keep their notes; new ones get an empty note."""
        done = LibraryImport(collection)
        with self.write() as c:
            rowids: list[int | None] = [self._match(c, p) for p in papers]
            unknown = [p for p, rowid in zip(papers, rowids) if rowid is None]
            before = c.execute("SELECT COALESCE(MAX(rowid), 0) FROM papers").fetchone()[0]
            if unknown:
                done.merged = self.merge(unknown, origin, conn=c)  # sets each record's final id
                stored = {r["id"]: r["rowid"] for r in rows_in(
                    c, lambda marks: f"SELECT id, rowid FROM papers WHERE id IN ({marks})", {p.id for p in unknown})}
                it = iter(unknown)
                rowids = [rowid if rowid is not None else stored[next(it).id] for rowid in rowids]
            target = self._collection_id(c, user_id, collection, create=True)
            now = _now()
            kept = [r for r in rowids if r is not None]
            c.executemany("INSERT INTO saved (user, paper, note, saved_at) VALUES (?, ?, '', ?) "
                          "ON CONFLICT (user, paper) DO NOTHING", [(user_id, r, now) for r in kept])
            c.executemany("INSERT INTO collection_papers (collection, paper, added_at) VALUES (?, ?, ?) "
                          "ON CONFLICT DO NOTHING", [(target, r, now) for r in kept])
            ids = dict(rows_in(c, lambda marks: f"SELECT rowid, id FROM papers WHERE rowid IN ({marks})", set(kept)))
        done.papers = [(ids[r], "added" if r > before else "matched") for r in kept]
        return done

    # -- helpers ---------------------------------------------------------------

    def _paper_rowid(self, c: sqlite3.Connection, paper_id: str) -> int | None:
        row = c.execute("SELECT rowid FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return int(row[0]) if row else None

    def _id_of(self, rowid: int) -> str:
        return str(self.conn.execute("SELECT id FROM papers WHERE rowid = ?", (rowid,)).fetchone()[0])

    def _collection_id(self, c: sqlite3.Connection, user_id: int, name: str, create: bool = False) -> int | None:
        row = c.execute("SELECT id FROM collections WHERE user = ? AND name = ?", (user_id, name)).fetchone()
        if row is not None:
            return int(row[0])
        if not create:
            return None
        cur = c.execute("INSERT INTO collections (user, name, created_at) VALUES (?, ?, ?)", (user_id, name, _now()))
        return cur.lastrowid

    def _collections_of(self, user_id: int, rowids: list[int]) -> dict[int, list[str]]:
        """The names of the user's collections each paper is in (the default first, then by name)."""
        out: dict[int, list[str]] = {}
        rows = rows_in(self.conn, lambda marks: (
            "SELECT cp.paper, k.name FROM collection_papers cp JOIN collections k ON k.id = cp.collection "
            f"WHERE k.user = ? AND cp.paper IN ({marks}) ORDER BY k.name != '{DEFAULT_COLLECTION}', "
            "lower(k.name), k.name"), rowids, before=(user_id,))
        for r in rows:
            out.setdefault(r[0], []).append(r[1])
        return out

    def _match(self, c: sqlite3.Connection, p: Paper) -> int | None:
        """The stored paper a parsed record names: by arXiv id, DOI, its own key, then title (a record with an
        arXiv id never matches another arXiv paper by title). None: not stored."""
        prefer = "ORDER BY id LIKE 'title:%', id LIKE 'doi:%', id LIMIT 1"
        if p.arxiv_id:
            row = c.execute("SELECT rowid FROM papers WHERE id = ?", (p.arxiv_id,)).fetchone()
            if row:
                return int(row[0])
        if p.doi:
            row = c.execute(f"SELECT rowid FROM papers WHERE id = ? OR doi = ? {prefer}", (f"doi:{p.doi}", p.doi)).fetchone()
            if row:
                return int(row[0])
        if p.id and not p.arxiv_id and not p.doi:
            row = c.execute("SELECT rowid FROM papers WHERE id = ?", (p.id,)).fetchone()
            if row:
                return int(row[0])
        for row in c.execute(f"SELECT rowid, id FROM papers WHERE title_key = ? {prefer.replace('LIMIT 1', '')}",
                             (title_key(p.title),)):
            if not p.arxiv_id or parse_arxiv_id(row[1]) is None:
                return int(row[0])
        return None


def library_export(conn: sqlite3.Connection, user_id: int) -> dict[str, Any]:
    """A user's library as plain data, for the export ``users delete`` writes (and ``/api/me/export``):
    their collections, saved papers (note, when saved, collections) and hidden papers."""
    collections = [dict(r) for r in conn.execute(
        "SELECT id, name, created_at FROM collections WHERE user = ? ORDER BY id", (user_id,))]
    names = {c["id"]: c["name"] for c in collections}
    members: dict[int, list[str]] = {}
    for paper, collection in conn.execute(
            "SELECT cp.paper, cp.collection FROM collection_papers cp JOIN collections k ON k.id = cp.collection "
            "WHERE k.user = ? ORDER BY cp.collection", (user_id,)):
        members.setdefault(paper, []).append(names[collection])
    saved = [{"paper": r["id"], "title": r["title"], "note": r["note"], "saved_at": r["saved_at"],
              "collections": members.get(r["rowid"], [])} for r in conn.execute(
        "SELECT p.rowid, p.id, p.title, s.note, s.saved_at FROM saved s JOIN papers p ON p.rowid = s.paper "
        "WHERE s.user = ? ORDER BY s.saved_at, p.id", (user_id,))]
    hidden = [dict(r) for r in conn.execute(
        "SELECT p.id AS paper, h.hidden_at FROM hidden h JOIN papers p ON p.rowid = h.paper "
        "WHERE h.user = ? ORDER BY h.hidden_at, p.id", (user_id,))]
    return {"collections": [{"name": c["name"], "created_at": c["created_at"]} for c in collections],
            "saved": saved, "hidden": hidden}
