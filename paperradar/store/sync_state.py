"""Sync bookkeeping in the store: runs of each source and OAI-PMH harvest progress.

Kept in the same SQLite file as the papers so that a page's progress is as
durable as the page itself: the harvester imports a page, then records its
resumption token and counters in one transaction. A kill between pages
resumes at the next page; a kill between the import and the record
re-fetches that page, whose second import merges to "unchanged".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import orjson

from .connection import SQLiteBase, utcnow

# Run statuses. A run row says "running" until it ends; one whose process is
# gone (killed) is reported as "interrupted" by ``last_sync_runs``.
RUNNING, OK, FAILED, INTERRUPTED = "running", "ok", "failed", "interrupted"
# Harvest statuses: "open" harvests are resumed by the next run with the same key.
OPEN, DONE = "open", "done"


@dataclass
class Counts:
    """What one imported page added to a run."""

    pages: int = 1
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class Harvest:
    id: int
    base_url: str
    set_spec: str
    metadata_prefix: str
    from_date: str
    until_date: str
    status: str
    token: str | None
    pages: int
    records: int
    complete_list_size: int | None
    restarts: int
    started_at: str
    updated_at: str
    finished_at: str | None

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


_HARVEST_COLUMNS = (
    "id, base_url, set_spec, metadata_prefix, from_date, until_date, status, token, pages, records,"
    " complete_list_size, restarts, started_at, updated_at, finished_at"
)


class SyncTables(SQLiteBase):
    """The ``sync_runs`` and ``oai_harvests`` tables."""

    def start_sync_run(self, source: str, request: dict[str, Any]) -> int:
        """A new run row in state "running"; returns its id."""
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO sync_runs (source, request, status, pid, started_at) VALUES (?, ?, ?, ?, ?)",
                (source, orjson.dumps(request).decode(), RUNNING, os.getpid(), utcnow()),
            )
            return int(cur.lastrowid or 0)

    def finish_sync_run(self, run_id: int, status: str, error: str | None, notes: list[str]) -> None:
        with self.write() as conn:
            conn.execute(
                "UPDATE sync_runs SET status = ?, error = ?, notes = ?, finished_at = ? WHERE id = ?",
                (status, error, orjson.dumps(notes).decode(), utcnow(), run_id),
            )

    def record_sync_page(self, run_id: int, counts: Counts, harvest: Harvest | None = None,
                    token: str | None = None, complete_list_size: int | None = None) -> None:
        """Add a page's counts to its run and, for an OAI page, move the harvest on.

        One transaction: the run counters and the harvest's next token never
        disagree. ``token`` None ends the harvest ("done").
        """
        now = utcnow()
        with self.write() as conn:
            conn.execute(
                """UPDATE sync_runs SET pages = pages + ?, records = records + ?, new = new + ?,
                   updated = updated + ?, unchanged = unchanged + ?, rejected = rejected + ? WHERE id = ?""",
                (counts.pages, counts.records, counts.new, counts.updated, counts.unchanged, counts.rejected, run_id),
            )
            if harvest is None:
                return
            if not harvest.id:
                cur = conn.execute(
                    """INSERT INTO oai_harvests (base_url, set_spec, metadata_prefix, from_date, until_date,
                       status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (harvest.base_url, harvest.set_spec, harvest.metadata_prefix, harvest.from_date,
                     harvest.until_date, OPEN, harvest.started_at, now),
                )
                harvest.id = int(cur.lastrowid or 0)
            conn.execute(
                """UPDATE oai_harvests SET token = ?, pages = pages + 1, records = records + ?,
                   complete_list_size = COALESCE(?, complete_list_size), status = ?, updated_at = ?,
                   finished_at = ? WHERE id = ?""",
                (token, counts.records, complete_list_size, OPEN if token else DONE, now,
                 None if token else now, harvest.id),
            )  # fmt: skip
        harvest.token = token
        harvest.pages += 1
        harvest.records += counts.records
        harvest.status = OPEN if token else DONE

    def sync_run(self, run_id: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM sync_runs WHERE id = ?", (run_id,)).fetchone()
        return _run_json(row)

    def last_sync_runs(self) -> dict[str, dict[str, Any]]:
        """The newest run of every source that has run, by source name."""
        rows = self.conn.execute(
            "SELECT * FROM sync_runs WHERE id IN (SELECT MAX(id) FROM sync_runs GROUP BY source) ORDER BY source"
        ).fetchall()
        return {row["source"]: _run_json(row) for row in rows}

    def open_harvest(self, base_url: str, set_spec: str, metadata_prefix: str,
                     from_date: str, until_date: str) -> Harvest:
        """The unfinished harvest with exactly this key, else a new one.

        A new harvest is stored with its first page (``record_sync_page``), so
        one whose first request failed leaves nothing to resume.
        """
        key = (base_url, set_spec, metadata_prefix, from_date, until_date)
        row = self.conn.execute(
            f"""SELECT {_HARVEST_COLUMNS} FROM oai_harvests WHERE base_url = ? AND set_spec = ?
                AND metadata_prefix = ? AND from_date = ? AND until_date = ? AND status = ?
                ORDER BY id DESC LIMIT 1""",
            (*key, OPEN),
        ).fetchone()
        if row is not None:
            return Harvest(**dict(row))
        now = utcnow()
        return Harvest(0, *key, status=OPEN, token=None, pages=0, records=0, complete_list_size=None, restarts=0,
                       started_at=now, updated_at=now, finished_at=None)

    def restart_harvest(self, harvest: Harvest) -> None:
        """Forget the harvest's token and page counts (its token was rejected): start from page 1."""
        with self.write() as conn:
            conn.execute(
                "UPDATE oai_harvests SET token = NULL, pages = 0, records = 0, restarts = restarts + 1,"
                " updated_at = ? WHERE id = ?",
                (utcnow(), harvest.id),
            )
        harvest.token = None
        harvest.pages = harvest.records = 0
        harvest.restarts += 1

    def last_open_ended_start(self, base_url: str, set_spec: str, metadata_prefix: str) -> str | None:
        """When the newest finished harvest without an until date started (UTC timestamp).

        Everything changed before that moment is in the store, so the next
        incremental harvest may start from that day.
        """
        row = self.conn.execute(
            """SELECT started_at FROM oai_harvests WHERE base_url = ? AND set_spec = ? AND metadata_prefix = ?
               AND until_date = '' AND status = ? ORDER BY started_at DESC LIMIT 1""",
            (base_url, set_spec, metadata_prefix, DONE),
        ).fetchone()
        return row[0] if row else None

    def open_harvests(self) -> list[Harvest]:
        rows = self.conn.execute(
            f"SELECT {_HARVEST_COLUMNS} FROM oai_harvests WHERE status = ? ORDER BY id", (OPEN,)
        ).fetchall()
        return [Harvest(**dict(r)) for r in rows]


def _run_json(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["request"] = orjson.loads(out["request"] or "{}")
    out["notes"] = orjson.loads(out["notes"] or "[]")
    if out["status"] == RUNNING and not _alive(out["pid"]):
        out["status"] = INTERRUPTED
    return out


def _alive(pid: int | None) -> bool:
    """Whether the process that started a run still exists (on this machine)."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
