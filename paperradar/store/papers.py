"""The papers table: merging records into one row per paper, and reading papers back.

The merge rules per field live in :mod:`paperradar.store.merge`; this module
finds which stored row a record joins (arXiv id, DOI, title), writes the
batch in one transaction, and keeps categories, upvotes, featured days
(:mod:`paperradar.store.featured`) and provenance beside each paper.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from ..ids import parse_arxiv_id, title_key
from ..model import Paper
from .base import Filters, MergeResult, StoredPaper
from .featured import UPSERT as FEATURED_UPSERT
from .connection import COLUMNS, IN_CATEGORY, SELECT, SQLiteBase, decode, encode, rows_in, select_in, utcnow
from .merge import merge_row, new_row, same

_NEW, _CHANGED, _SAME = 0, 1, 2  # what a batch did to a paper, for its provenance rows


def upvote_site(source: str) -> str:
    """Where an upvote count was observed: every Hugging Face response counts as one site."""
    return "huggingface" if source.startswith("hf") else source


class PaperTable(SQLiteBase):
    """Papers, their categories, upvotes by site and provenance."""

    # -- writing -----------------------------------------------------------

    def merge(self, papers: list[Paper], origin: str, conn: sqlite3.Connection | None = None) -> MergeResult:
        """Merge a batch of parsed papers in one transaction (or in ``conn``'s).

        Records of the same paper, in the batch or already stored, become one
        row; see :mod:`paperradar.store.merge` for the per-field rules.
        """
        if conn is None:
            with self.write() as c:
                return self._merge(papers, origin, c)
        return self._merge(papers, origin, conn)

    def _merge(self, papers: list[Paper], origin: str, conn: sqlite3.Connection) -> MergeResult:
        now = utcnow()
        result = MergeResult()
        stored = self._resolve(papers, conn)
        groups: dict[str, list[Paper]] = {}
        for paper in papers:
            groups.setdefault(paper.id, []).append(paper)
        next_rowid = (conn.execute("SELECT MAX(rowid) FROM papers").fetchone()[0] or 0) + 1
        result.seq = (conn.execute("SELECT MAX(seq) FROM papers").fetchone()[0] or 0) + 1
        inserts, updates, category_rows, upvote_rows, featured_rows, provenance = [], [], [], [], [], []
        for key, group in groups.items():
            before = stored.get(key)
            row, changes = _fold(before, group, now)
            if before is not None and same(before, row):
                changes = 0  # records that disagree among themselves, ending where they began
            if self._collect_upvotes(before, group, upvote_rows, conn) and before is not None and not changes:
                changes = 1  # only the upvote count moved: still an update
            if self._collect_featured(before, group, featured_rows, conn) and before is not None and not changes:
                changes = 1  # featured on a new day (or a submitter learnt): still an update
            # Each record counts once: a new paper's first record is "new",
            # the others "updated" if they changed it, else "unchanged".
            result.new += before is None
            result.updated += changes
            result.unchanged += len(group) - (before is None) - changes
            if before is None:
                row["rowid"] = next_rowid
                next_rowid += 1
                inserts.append(row)
            elif changes:
                row["changed_at"] = now
                updates.append((before, row))
            if before is None or changes:
                row["seq"] = result.seq
                result.rows.append(row)
            # A new paper's provenance rows are written whole by their INSERT; a changed
            # paper's existing rows get the new time and origin by an UPDATE.
            touched = _CHANGED if (before is not None and changes) else _NEW if before is None else _SAME
            for paper in group:
                provenance.append((row["rowid"], paper.source, origin, now, now, touched))
            if before is None or (changes and before["categories"] != row["categories"]):
                category_rows.append(row)
        self._write_rows(conn, inserts, updates, category_rows, upvote_rows, provenance)
        if featured_rows:
            conn.executemany(
                "INSERT INTO featured (paper, day, source, submitted_by, submitted_at, first_seen)"
                f" SELECT rowid, ?, ?, ?, ?, ? FROM papers WHERE id = ? {FEATURED_UPSERT}",
                [(day, site, by, at, now, pid) for pid, day, site, by, at in featured_rows],
            )
        return result

    def _resolve(self, papers: list[Paper], conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
        """Find the stored rows the batch merges into, keyed by each paper's final id.

        Changes ``paper.id`` where a record without arXiv id matches a stored
        paper by DOI or title, and lets an arXiv record absorb a stored
        title-only or DOI-only row of the same paper (the row keeps its
        rowid, upvotes and provenance; only its key changes).
        """
        by_id = self._rows_where("p.id", {p.id for p in papers}, conn)
        unseen = [p for p in papers if p.id not in by_id]
        dois = {p.doi for p in unseen if p.doi}
        by_doi: dict[str, dict[str, Any]] = {}
        for row in self._best_by("doi", dois, conn):
            by_doi.setdefault(row["doi"], row)
        # A title-only record joins any paper with its title; a record with an
        # arXiv id or DOI only absorbs a title-only row (never another paper).
        title_only = {title_key(p.title) for p in unseen if not (p.arxiv_id or p.doi or p.source_id)}
        with_ids = {title_key(p.title) for p in unseen if p.arxiv_id or p.doi} - title_only
        by_title: dict[str, dict[str, Any]] = {}
        candidates = list(self._rows_where("p.title_key", with_ids, conn, "AND p.id LIKE 'title:%'").values())
        candidates += self._best_by("title_key", title_only, conn)
        for row in sorted(candidates, key=_title_pref):
            by_title.setdefault(row["title_key"], row)
        absorbed: set[int] = set()
        batch_titles: dict[str, str] = {}
        for p in papers:
            if p.arxiv_id or p.doi:
                batch_titles.setdefault(title_key(p.title), p.id)
        for p in papers:
            if p.id in by_id:
                continue
            tk = title_key(p.title)
            if p.arxiv_id or p.doi:
                doi_row = by_doi.get(p.doi) if p.doi else None
                if doi_row is not None and not p.arxiv_id:
                    p.id = doi_row["id"]  # a DOI-only record joins the paper with that DOI
                    by_id.setdefault(p.id, doi_row)
                    continue
                # Absorb a stored row that was filed under a weaker key.
                weaker = None
                if doi_row is not None and doi_row["id"].startswith("doi:"):
                    weaker = doi_row
                elif by_title.get(tk) is not None and by_title[tk]["id"].startswith("title:"):
                    weaker = by_title[tk]
                if weaker is not None and weaker["rowid"] not in absorbed:
                    absorbed.add(weaker["rowid"])
                    by_id[p.id] = {**weaker, "id": p.id}
            elif not p.source_id:
                match = by_title.get(tk)
                if match is not None:
                    p.id = match["id"]
                    by_id.setdefault(p.id, match)
                elif tk in batch_titles:
                    p.id = batch_titles[tk]
        return by_id

    def _rows_where(
        self, column: str, values: Iterable[str], conn: sqlite3.Connection, extra: str = ""
    ) -> dict[str, dict[str, Any]]:
        rows = select_in(conn, lambda marks: f"{SELECT} WHERE {column} IN ({marks}) {extra}", values)
        return {row["id"]: row for row in rows}

    def _best_by(self, column: str, keys: set[str], conn: sqlite3.Connection) -> list[dict[str, Any]]:
        """One stored paper per value of ``column`` (a DOI, a title key), arXiv papers first:
        however many papers share it, only the one a record would join is read."""
        return select_in(
            conn,
            lambda marks: (
                f"{SELECT} WHERE p.rowid IN (SELECT rowid FROM (SELECT rowid, ROW_NUMBER() OVER ("
                f"PARTITION BY {column} ORDER BY id LIKE 'title:%', id LIKE 'doi:%', id) AS rank"
                f" FROM papers WHERE {column} IN ({marks})) AS ranked WHERE rank = 1)"
            ),
            keys,
        )

    def _collect_upvotes(
        self, before: dict[str, Any] | None, group: list[Paper], out: list[tuple], conn: sqlite3.Connection
    ) -> bool:
        """Queue the newest upvote observation per site; True if a count changes."""
        seen: dict[str, tuple[int, str]] = {}
        for paper in group:
            if paper.upvotes is None:
                continue
            site = upvote_site(paper.source)
            obs = (int(paper.upvotes), paper.upvotes_at or utcnow()[:10])
            if site not in seen or obs[1] >= seen[site][1]:
                seen[site] = obs
        if not seen:
            return False
        current: dict[str, tuple[int, str]] = {}
        if before is not None:
            for site, count, at in conn.execute(
                "SELECT site, count, observed_at FROM upvotes WHERE paper = ?", (before["rowid"],)
            ):
                current[site] = (count, at)
        changed = False
        for site, (count, at) in seen.items():
            old = current.get(site)
            if old is None or at >= old[1]:
                out.append((group[0].id, site, count, at))
                changed = changed or old is None or old[0] != count
        return changed

    def _collect_featured(
        self, before: dict[str, Any] | None, group: list[Paper], out: list[tuple], conn: sqlite3.Connection
    ) -> bool:
        """Queue the featured rows the records give (day, site, submitter, time); True if one is new or changes.

        Records of the same paper, day and site combine: a submitter or time
        one of them knows is kept, the later record winning.
        """
        wanted: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        for paper in group:
            if not paper.featured_day:
                continue
            key = (paper.featured_day, upvote_site(paper.source))
            by, at = wanted.get(key, (None, None))
            wanted[key] = (paper.featured_by or by, paper.featured_at or at)
        if not wanted:
            return False
        current: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        if before is not None:
            for day, site, by, at in conn.execute(
                "SELECT day, source, submitted_by, submitted_at FROM featured WHERE paper = ?", (before["rowid"],)
            ):
                current[(day, site)] = (by, at)
        changed = False
        for (day, site), (by, at) in wanted.items():
            old = current.get((day, site))
            if old is None or (by or old[0], at or old[1]) != old:
                out.append((group[0].id, day, site, by, at))
                changed = True
        return changed

    def _write_rows(
        self,
        conn: sqlite3.Connection,
        inserts: list[dict[str, Any]],
        updates: list[tuple[dict[str, Any], dict[str, Any]]],
        category_rows: list[dict[str, Any]],
        upvote_rows: list[tuple],
        provenance: list[tuple],
    ) -> None:
        cols = [c for c in COLUMNS if c != "upvotes"]
        if inserts:
            conn.executemany(
                f"INSERT INTO papers ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [encode(r, cols) for r in inserts],
            )
        if updates:
            sets = ", ".join(f"{c} = ?" for c in cols if c != "rowid")
            conn.executemany(
                f"UPDATE papers SET {sets} WHERE rowid = ?",
                [encode(r, [c for c in cols if c != "rowid"]) + (r["rowid"],) for _, r in updates],
            )
        if category_rows:
            # Only rows that existed before this batch can have category rows to replace.
            new_rowids = {r["rowid"] for r in inserts}
            conn.executemany(
                "DELETE FROM paper_categories WHERE paper = ?",
                [(r["rowid"],) for r in category_rows if r["rowid"] not in new_rowids],
            )
            conn.executemany(
                "INSERT INTO paper_categories (category, paper, is_primary) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(c, r["rowid"], int(i == 0)) for r in category_rows for i, c in enumerate(r["categories"])],
            )
        if upvote_rows:
            conn.executemany(
                """INSERT INTO upvotes (paper, site, count, observed_at)
                   SELECT rowid, ?, ?, ? FROM papers WHERE id = ?
                   ON CONFLICT (paper, site) DO UPDATE SET count = excluded.count, observed_at = excluded.observed_at
                   WHERE excluded.observed_at >= upvotes.observed_at""",
                [(site, count, at, pid) for pid, site, count, at in upvote_rows],
            )
            conn.executemany(
                "UPDATE papers SET upvotes = (SELECT COALESCE(SUM(count), 0) FROM upvotes WHERE paper = papers.rowid)"
                " WHERE id = ?",
                [(pid,) for pid in {r[0] for r in upvote_rows}],
            )
        if provenance:
            conn.executemany(
                "INSERT INTO provenance (paper, source, origin, first_seen, last_changed) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [p[:5] for p in provenance],
            )
            conn.executemany(
                "UPDATE provenance SET last_changed = ?, origin = ? WHERE paper = ? AND source = ?",
                [(p[4], p[2], p[0], p[1]) for p in provenance if p[5] == _CHANGED],
            )

    # -- reading -----------------------------------------------------------

    def get(self, paper_id: str) -> StoredPaper | None:
        """A paper by key; an arXiv id with version or URL wrapper works too."""
        parsed = parse_arxiv_id(paper_id)
        key = parsed[0] if parsed else paper_id.strip()
        r = self.conn.execute(f"{SELECT} WHERE p.id = ?", (key,)).fetchone()
        if r is None:
            return None
        row = decode(r)
        row["sources"] = [
            dict(s)
            for s in self.conn.execute(
                "SELECT source, origin, first_seen, last_changed FROM provenance WHERE paper = ? ORDER BY first_seen",
                (row["rowid"],),
            )
        ]
        row["upvote_sources"] = [
            dict(s)
            for s in self.conn.execute(
                "SELECT site, count, observed_at FROM upvotes WHERE paper = ? ORDER BY site", (row["rowid"],)
            )
        ]
        row["featured"] = [
            dict(s)
            for s in self.conn.execute(
                "SELECT day, source, submitted_by, submitted_at, first_seen FROM featured WHERE paper = ?"
                " ORDER BY day, source",
                (row["rowid"],),
            )
        ]
        return row

    def rows(self, rowids: list[int]) -> dict[int, StoredPaper]:
        """Papers by rowid (what the indexes return); rowids the store lacks are absent."""
        rows = select_in(self.conn, lambda marks: f"{SELECT} WHERE p.rowid IN ({marks})", rowids)
        return {row["rowid"]: row for row in rows}

    def rowids(self, paper_ids: list[str]) -> dict[str, int]:
        """Rowids of papers by key; keys the store lacks are absent."""
        rows = rows_in(self.conn, lambda marks: f"SELECT id, rowid FROM papers WHERE id IN ({marks})", paper_ids)
        return {r[0]: r[1] for r in rows}

    def changed_since(self, seq: int, batch: int = 5000) -> Iterator[list[StoredPaper]]:
        """Rows stamped after ``seq``, in seq order, a batch at a time (for index catch-up)."""
        last_rowid = -1
        last_seq = seq
        while True:
            rows = self.conn.execute(
                f"{SELECT} WHERE (p.seq, p.rowid) > (?, ?) ORDER BY p.seq, p.rowid LIMIT ?",
                (last_seq, last_rowid, batch),
            ).fetchall()
            if not rows:
                return
            decoded = [decode(r) for r in rows]
            last_seq, last_rowid = decoded[-1]["seq"], decoded[-1]["rowid"]
            yield decoded

    def max_seq(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0])

    def feed(
        self, start: str, end: str, category: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[StoredPaper], int]:
        """Papers first listed in [start, end], most upvoted first, then newest; and their count."""
        where, params = _filter_sql(Filters(category=category, since=start, until=end))
        base = f"FROM papers p WHERE 1 = 1 {where}"
        total = self.conn.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
        rows = self.conn.execute(
            f"{SELECT} WHERE 1 = 1 {where} ORDER BY p.upvotes DESC, p.published DESC, p.id DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()
        return [decode(r) for r in rows], int(total)

    def stats(self) -> dict[str, Any]:
        conn = self.conn
        papers = conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
        first, last = conn.execute("SELECT MIN(published), MAX(published) FROM papers").fetchone()
        by_source = {
            s: n for s, n in conn.execute("SELECT source, COUNT(*) FROM provenance GROUP BY source ORDER BY 2 DESC")
        }
        by_category = {
            c: n
            for c, n in conn.execute(
                "SELECT category, COUNT(*) FROM paper_categories WHERE is_primary = 1 GROUP BY category ORDER BY 2 DESC, 1"
            )
        }
        with_upvotes = conn.execute("SELECT COUNT(*) FROM papers WHERE upvotes > 0").fetchone()[0]
        return {
            "papers": papers,
            "by_source": by_source,
            "by_category": by_category,
            "date_range": {"first": first, "last": last},
            "with_upvotes": with_upvotes,
        }

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0])



def _fold(before: dict[str, Any] | None, group: list[Paper], now: str) -> tuple[dict[str, Any], int]:
    """Merge a paper's records in order; returns the row and how many records changed it."""
    row = before
    changes = 0
    for paper in group:
        if row is None:
            row = new_row(paper, now)
            continue
        merged = merge_row(row, paper, now)
        if not same(row, merged):
            changes += 1
        row = merged
    assert row is not None
    return row, changes


def _title_pref(row: dict[str, Any]) -> tuple[int, str]:
    """When several stored papers share a title, join the arXiv one first."""
    rid = row["id"]
    return (0 if parse_arxiv_id(rid) else 1 if rid.startswith("doi:") else 2, rid)


def _filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if filters.category:
        clauses.append("AND " + IN_CATEGORY)
        params.append(filters.category)
    if filters.since:
        clauses.append("AND p.published >= ?")
        params.append(filters.since)
    if filters.until:
        clauses.append("AND p.published <= ?")
        params.append(filters.until)
    return " ".join(clauses), params


