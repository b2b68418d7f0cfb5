"""Vectors in pgvector: a ``halfvec(384)`` copy of each stored vector, an HNSW index, exact filtered search.

The vectors themselves stay where both backends keep them (``vectors.vec``,
float16 ``BYTEA``, which every other part reads). Beside them this module keeps
``paperradar_ann.halfvecs``: the same vector as pgvector's ``halfvec(384)``
(float16 too, so nothing is lost), with an HNSW index (``halfvec_cosine_ops``).
:meth:`PgVectorTables.save_vectors` writes both in one transaction; a paper
deleted (or its vector) takes its ``halfvec`` with it (a foreign key ``ON
DELETE CASCADE``). Nothing else writes ``vectors`` rows except ``paperradar
copy``, so :meth:`PgVectorTables.fill_halfvecs` adds what is missing, and drops
copies whose vector went while foreign keys were off, once per process (the
index's first use). After a copy nearly all are missing: inserting them one by
one into the HNSW index was the slow part, so many missing are loaded by one
binary ``COPY`` with the index dropped (the float16 bytes rearranged by numpy
into pgvector's binary ``halfvec``, big-endian) and the index built once after,
with ``maintenance_work_mem`` sized for the graph. Searches meanwhile stay
right: the drop and the load are one transaction (a search waits for it, then
sees every vector), and while the index is built a search finds no index to
use and scores every row exactly.

Why a table of its own, in a schema of its own, and no trigger: the
``public`` schema is SQLite's, object for object (a test compares tables,
columns, indexes and triggers), and pgvector cannot read our little-endian
float16 ``BYTEA`` in SQL (a PL/pgSQL loop over 384 bytes pairs per row would
be slow); the store has the vectors as numbers at hand anyway.

The DDL (:data:`DDL`) is applied when a :class:`~.postgres.PostgresStore` opens,
idempotently and under the migrations' advisory lock; it is not one of
``pg_schema``'s numbered migrations, which stay in step with SQLite's.
``CREATE EXTENSION vector`` needs a role that may create it (pgvector is not a
trusted extension); where it cannot be made the store still opens, without
semantic search (:attr:`PgVectorTables.pgvector` is false).

Searching (cosine distance ``<=>``; similarity is ``1 - distance``):

- :meth:`~PgVectorTables.nearest_halfvecs`: the HNSW index, with pgvector 0.8's
  iterative scan in ``strict_order`` (so the model filter never leaves fewer than
  ``k``) and ``hnsw.ef_search`` set per query; fewer than ``k`` back (the scan
  stopped at ``hnsw.max_scan_tuples``) is answered exactly instead;
- :meth:`~PgVectorTables.nearest_within`: the nearest among a candidate set
  (rowids, sent as one bound ``bigint[]``; ``paper = ANY`` of a constant array
  is hashed by PostgreSQL: 232,414 of them cost 134 ms to send, not minutes).
  Up to 300,000 candidates, or a small share of the table (:func:`exact_within`),
  every one is scored exactly: ``ORDER BY`` distance over just those rows, kept
  from the index by ``OFFSET 0``. A larger set goes through the HNSW index's
  iterative scan (``relaxed_order``, ten times k rows, re-sorted) with the
  candidates in the ``WHERE`` clause, ``hnsw.max_scan_tuples`` capped where
  scoring every candidate would be cheaper; fewer than ``k`` back (the cap
  reached) is answered exactly instead. The scan is approximate, which is why
  the threshold is high: measured in docs/postgresql.md (Vectors).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg

from .base import StorageFault
from .pg_schema import MIGRATE_LOCK
from .vectors import DTYPE, VectorTables

SCHEMA = "paperradar_ann"
TABLE = f"{SCHEMA}.halfvecs"
HALF_DIM = 384  # halfvec(384): the models' width; vectors of another width are not mirrored
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 128  # as the file index (usearch connectivity 16, expansion_add 128)
EF_SEARCH = 160  # hnsw.ef_search floor, as the file index's expansion_search (pgvector's default 40: lower recall)
EF_SEARCH_MAX = 1000  # pgvector refuses more; the iterative scan still returns every row asked for, in order
MAX_SCAN_TUPLES = 20_000  # hnsw.max_scan_tuples: how far an iterative scan goes before giving up
# candidate sets up to this size are scored exactly: at a million papers 232,414 took p50 427 ms against the
# filtered iterative scan's 254 ms, which missed 5.8% of the exact top 10 (docs/postgresql.md, Vectors)
EXACT_WITHIN_MAX = 300_000
FILTERED_ORDER = "relaxed_order"  # a filtered scan's hnsw.iterative_scan: recall 0.942 against strict_order's 0.880
FILTERED_EF_SEARCH = 160  # hnsw.ef_search floor of a filtered scan (400, 1000: hardly better recall, measured)
FILTERED_FETCH = 10  # a filtered scan takes this many times k rows, then the best k (recall 0.942 at 1, 0.967 at 10)
SCAN_COST = 8  # an iterative scan's cost per tuple visited, in exact scoring's per candidate (estimated)
FILL_BATCH = 2_000  # rows per upsert when a few copies are missing
BULK_MIN = 5_000  # at least this many missing, and as many as half the copies there: load in bulk, then index
COPY_BATCH = 20_000  # rows per read of a bulk load
BUILD_WORKERS = 2  # max_parallel_maintenance_workers of the index build (the server's own cap still applies)
BUILD_MB_PER_ROW = 2.0 / 1024  # maintenance_work_mem per row for the build: the graph of 384-d halfvecs, m 16
BUILD_MB_MAX = 4096
FILL_LOCK = 0x7061_7065_7268_616C  # advisory lock key: one process fills the copies at a time
HNSW_INDEX = f"{SCHEMA}.halfvecs_hnsw"
CONNECT_TIMEOUT = 10  # seconds, as the store's own connections
FillProgress = Callable[[str, int, int], Any]  # (phase, done, total)

DDL = f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {TABLE} (
    paper BIGINT PRIMARY KEY REFERENCES public.vectors(paper) ON DELETE CASCADE,
    model TEXT COLLATE "C" NOT NULL,
    vec halfvec({HALF_DIM}) NOT NULL
);
CREATE INDEX IF NOT EXISTS halfvecs_model ON {TABLE} (model, paper);
"""
HNSW_DDL = (f"CREATE INDEX IF NOT EXISTS halfvecs_hnsw ON {TABLE} USING hnsw (vec halfvec_cosine_ops)"
            f" WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})")
DDL += HNSW_DDL + ";\n"
# binary COPY: the signature, flags and header extension; the trailer. A halfvec is sent as pgvector's
# binary form: int16 dimensions, int16 0, then each float16, all big-endian.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + bytes(8)
_COPY_TRAILER = b"\xff\xff"


def apply_ddl(conn: psycopg.Connection[Any], writable: bool) -> bool:
    """Make the pgvector objects if missing (when ``writable``); whether they are there to use."""
    if conn.execute(f"SELECT to_regclass('{TABLE}') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
        return True
    if not writable:
        return False
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            conn.execute(DDL)  # type: ignore[arg-type]
    except psycopg.Error:  # no pgvector on the server, or no right to create it: the store works without
        return False
    return True


def halfvec_text(vector: np.ndarray) -> str:
    """A vector as pgvector's text form (``[x,y,...]``), rounded to float16 as stored."""
    return "[" + ",".join(repr(float(x)) for x in np.asarray(vector, dtype=DTYPE).astype(np.float32)) + "]"


class PgVectorTables(VectorTables):
    """The ``vectors`` tables plus their pgvector copy (see the module docstring)."""

    pgvector: bool = False  # set when the store opens: the pgvector objects exist

    def save_vectors(self, model: str, rowids: list[int], hashes: list[str], vectors: np.ndarray) -> None:
        """Store one batch and its ``halfvec`` copies in one transaction (a paper removed meanwhile is skipped)."""
        blobs = np.ascontiguousarray(vectors, dtype=DTYPE)
        with self.write() as conn:
            conn.executemany(  # the same statement as VectorTables.save_vectors
                "INSERT INTO vectors (paper, model, text_hash, vec) SELECT ?, ?, ?, ?"
                " WHERE EXISTS (SELECT 1 FROM papers WHERE rowid = ?)"
                " ON CONFLICT (paper) DO UPDATE SET model = excluded.model, text_hash = excluded.text_hash,"
                " vec = excluded.vec",
                [(r, model, h, blobs[i].tobytes(), r) for i, (r, h) in enumerate(zip(rowids, hashes, strict=True))],
            )
            if self.pgvector:
                self._put_halfvecs(conn, model, rowids, blobs)

    def _put_halfvecs(self, conn: Any, model: str, rowids: Sequence[int], blobs: np.ndarray) -> None:
        """Upsert the ``halfvec`` copies (only of rows stored in ``vectors``); another width has none."""
        if blobs.ndim != 2 or blobs.shape[1] != HALF_DIM:
            conn.execute(f"DELETE FROM {TABLE} WHERE paper = ANY(?)", (list(rowids),))
            return
        conn.executemany(
            f"INSERT INTO {TABLE} (paper, model, vec) SELECT ?, ?, ?::halfvec"
            " WHERE EXISTS (SELECT 1 FROM vectors WHERE paper = ?)"
            " ON CONFLICT (paper) DO UPDATE SET model = excluded.model, vec = excluded.vec",
            [(r, model, halfvec_text(blobs[i]), r) for i, r in enumerate(rowids)],
        )

    def fill_halfvecs(self, model: str, progress: FillProgress | None = None) -> int | None:
        """Make the ``halfvec`` copies agree with ``model``'s stored vectors: add those missing (``paperradar
        copy`` moves only the ``BYTEA`` rows; vectors stored before pgvector was there) and drop any
        whose vector is gone (deleted with foreign keys off: ``session_replication_role = replica``).
        Returns how many were added; None when another process is filling them now (the caller
        searches what is there and asks again later).

        A few missing are upserted into the indexed table; many (:func:`_bulk`) are loaded without
        the HNSW index and the index built once over all of them, which is what makes the first
        use after a copy fast. ``progress(phase, done, total)`` hears how far each phase got."""
        with self._guarded(), self._fill_lock() as held:
            if not held:
                return None
            with self.write() as conn:
                conn.execute(f"DELETE FROM {TABLE} h WHERE NOT EXISTS"
                             " (SELECT 1 FROM vectors v WHERE v.paper = h.paper AND v.model = h.model)")
            missing, present = self._fill_counts(model)
            if missing and _bulk(missing, present):
                return self._fill_bulk(model, missing, present, progress)
            if missing or not self._has_hnsw():
                self._fill_rows(model, missing, progress)
                self._build_hnsw(missing + present, progress)  # only if a failed bulk fill left it missing
            return missing

    @contextmanager
    def _fill_lock(self) -> Iterator[bool]:
        """This process's turn to fill (a session advisory lock): False when another holds it."""
        raw = self.conn.raw
        got = bool(raw.execute("SELECT pg_try_advisory_lock($1)", (FILL_LOCK,)).fetchone()[0])  # type: ignore[index]
        try:
            yield got
        finally:
            if got and not raw.broken:
                raw.execute("SELECT pg_advisory_unlock($1)", (FILL_LOCK,))

    def _fill_counts(self, model: str) -> tuple[int, int]:
        """(vectors of ``model`` without a copy, copies there)."""
        row = self.conn.execute(
            f"SELECT (SELECT COUNT(*) FROM vectors v WHERE v.model = ? AND length(v.vec) = ?"
            f" AND NOT EXISTS (SELECT 1 FROM {TABLE} h WHERE h.paper = v.paper)), (SELECT COUNT(*) FROM {TABLE})",
            (model, HALF_DIM * DTYPE.itemsize)).fetchone()
        return int(row[0]), int(row[1])

    def _has_hnsw(self) -> bool:
        return bool(self.conn.execute(f"SELECT to_regclass('{HNSW_INDEX}') IS NOT NULL").fetchone()[0])

    def _fill_rows(self, model: str, missing: int, progress: FillProgress | None) -> None:
        """A few missing: upserted batch by batch into the indexed table (each batch visible at once)."""
        done = 0
        while True:
            rows = self.conn.execute(
                f"SELECT v.paper, v.vec FROM vectors v LEFT JOIN {TABLE} h ON h.paper = v.paper"
                f" WHERE v.model = ? AND length(v.vec) = ? AND h.paper IS NULL ORDER BY v.paper LIMIT ?",
                (model, HALF_DIM * DTYPE.itemsize, FILL_BATCH),
            ).fetchall()
            if not rows:
                return
            blobs = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=DTYPE).reshape(len(rows), HALF_DIM)
            with self.write() as conn:
                self._put_halfvecs(conn, model, [r[0] for r in rows], blobs)
            done += len(rows)
            if progress is not None:
                progress("halfvec copies", done, max(missing, done))

    def _fill_bulk(self, model: str, missing: int, present: int, progress: FillProgress | None) -> int:
        """Many missing: the HNSW index dropped and every missing copy loaded by one binary ``COPY``,
        in one transaction (searches wait for it, then see every vector), then the index built in
        a second one (searches meanwhile score exactly, over every vector: no index to use)."""
        added = 0
        with self.write() as conn:  # the write lock: no vector changes under the load
            raw = conn.raw
            papers = [int(r[0]) for r in raw.execute(
                f"SELECT v.paper FROM vectors v WHERE v.model = $1 AND length(v.vec) = $2"
                f" AND NOT EXISTS (SELECT 1 FROM {TABLE} h WHERE h.paper = v.paper) ORDER BY v.paper",
                (model, HALF_DIM * DTYPE.itemsize))]
            raw.execute(f"DROP INDEX IF EXISTS {HNSW_INDEX}")
            with self._reader(model) as read, raw.cursor().copy(
                    f"COPY {TABLE} (paper, model, vec) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(_COPY_SIGNATURE)
                for start in range(0, len(papers), COPY_BATCH):
                    found, blobs = read(papers[start : start + COPY_BATCH])
                    copy.write(_copy_rows(found, model, blobs))
                    added += len(found)
                    if progress is not None:
                        progress("halfvec copies", added, len(papers))
                copy.write(_COPY_TRAILER)
        self._build_hnsw(present + added, progress)
        return added

    @contextmanager
    def _reader(self, model: str) -> Iterator[Callable[[list[int]], tuple[np.ndarray, np.ndarray]]]:
        """Reads (papers, float16 vectors) of ``model`` by paper on a second connection: the first is
        busy with the ``COPY``, and this one touches ``vectors`` only (the copies' table is locked)."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as rconn:
            def read(papers: list[int]) -> tuple[np.ndarray, np.ndarray]:
                rows = rconn.cursor(binary=True).execute(
                    "SELECT paper, vec FROM vectors WHERE paper = ANY(%s) AND model = %s AND length(vec) = %s"
                    " ORDER BY paper", (papers, model, HALF_DIM * DTYPE.itemsize)).fetchall()
                found = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                return found, np.frombuffer(b"".join(r[1] for r in rows), dtype=DTYPE).reshape(len(rows), HALF_DIM)
            yield read

    def _build_hnsw(self, rows: int, progress: FillProgress | None) -> None:
        """The HNSW index over the table (when missing), with memory for the whole graph (pgvector
        builds far faster when it fits in ``maintenance_work_mem``) and parallel workers; its
        progress read from ``pg_stat_progress_create_index`` on another connection. Parallel
        workers share the graph through ``/dev/shm``: where that is too small (a container's
        64 MB) the build is done again by one process."""
        if self._has_hnsw():
            return
        for workers in (BUILD_WORKERS, 0):
            try:
                with self._guarded(), self.conn.raw.transaction():
                    raw = self.conn.raw
                    raw.execute("SELECT set_config('maintenance_work_mem', $1, true),"
                                " set_config('max_parallel_maintenance_workers', $2, true)",
                                (f"{_build_memory_mb(rows)}MB", str(workers)))
                    with _watch_build(self.url, raw.info.backend_pid, rows, progress):
                        raw.execute(HNSW_DDL)
                return
            except StorageFault:
                if not workers:
                    raise

    # -- reading ------------------------------------------------------------

    def halfvec_count(self, model: str) -> int:
        """How many vectors of ``model`` the index holds."""
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE model = ?", (model,)).fetchone()[0])

    def nearest_halfvecs(self, model: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest (rowid, cosine) of ``model`` by the HNSW index, best first (see the module docstring)."""
        found = self._index_scan(model, query, k)
        return found if len(found) >= k else self._exact(model, query, k, None)

    def nearest_within(self, model: str, query: np.ndarray, k: int,
                       candidates: Sequence[int] | np.ndarray) -> list[tuple[int, float]]:
        """The ``k`` nearest (rowid, cosine) among ``candidates``, best first: exact for a small set, the
        HNSW index's iterative scan filtered to the candidates for a large one (:func:`exact_within`),
        answered exactly when that scan gives up short of ``k``."""
        keys = np.unique(np.asarray(candidates, dtype=np.int64)).tolist()  # a quarter million: numpy's sort
        if not keys or k <= 0:
            return []
        rows = self._table_rows()
        if exact_within(len(keys), rows, k):
            return self._exact(model, query, k, keys)
        budget = scan_budget(len(keys), k)
        found = self._index_scan(model, query, k, keys, budget)
        return found if len(found) >= min(k, len(keys)) else self._exact(model, query, k, keys)

    def _table_rows(self) -> int:
        """The ``halfvec`` table's row count as the planner knows it (``reltuples``: free, close enough
        to weigh a candidate set's share; -1 before the first ``ANALYZE``, taken as unknown)."""
        row = self.conn.execute(f"SELECT reltuples FROM pg_class WHERE oid = to_regclass('{TABLE}')").fetchone()
        return max(0, int(row[0])) if row is not None and row[0] is not None else 0

    def _index_scan(self, model: str, query: np.ndarray, k: int, keys: list[int] | None = None,
                    max_scan: int | None = None) -> list[tuple[int, float]]:
        """The HNSW index's iterative scan filtered to the model (``strict_order``: results come in
        distance order), or to ``keys`` too (:data:`FILTERED_ORDER`, :data:`FILTERED_FETCH` times ``k``
        rows, the best ``k`` kept), visiting at most ``max_scan`` tuples.

        Sorting is disabled for the query: the only plan left is the HNSW index's ordered scan
        (misled by statistics on the model column, the planner chose the model index and a sort
        of every row: exact, but a full scan at a million papers).
        """
        where, params = _where(model, keys)
        scan = max(MAX_SCAN_TUPLES, 20 * k) if max_scan is None else max_scan
        limit = k if keys is None else k * FILTERED_FETCH
        with self._guarded(), self.conn.raw.transaction():
            raw = self.conn.raw
            raw.execute("SELECT set_config('hnsw.iterative_scan', $3, true),"
                        " set_config('hnsw.ef_search', $1, true), set_config('hnsw.max_scan_tuples', $2, true),"
                        " set_config('enable_sort', 'off', true)",
                        (str(min(EF_SEARCH_MAX, max(EF_SEARCH if keys is None else FILTERED_EF_SEARCH, 2 * k))), str(scan),
                         "strict_order" if keys is None else FILTERED_ORDER))
            rows = raw.execute(
                f"SELECT paper, vec <=> $1::halfvec AS d FROM {TABLE} WHERE {where} ORDER BY vec <=> $1::halfvec"
                f" LIMIT {int(limit)}", (halfvec_text(query), *params),
            ).fetchall()
        # past ef_search's cap (k > 500) the iterative scan's batches can come slightly out of order
        return sorted(((int(r[0]), 1.0 - float(r[1])) for r in rows), key=lambda hit: -hit[1])[:k]

    def _exact(self, model: str, query: np.ndarray, k: int, keys: list[int] | None) -> list[tuple[int, float]]:
        """Every matching row scored (``OFFSET 0`` keeps the planner from ordering by the approximate index)."""
        where, params = _where(model, keys)
        rows = self.conn.raw.execute(
            f"SELECT paper, d FROM (SELECT paper, vec <=> $1::halfvec AS d FROM {TABLE} WHERE {where} OFFSET 0) s"
            f" ORDER BY d, paper LIMIT {int(k)}", (halfvec_text(query), *params),
        ).fetchall()
        return [(int(r[0]), 1.0 - float(r[1])) for r in rows]


def exact_within(candidates: int, rows: int, k: int) -> bool:
    """Whether a candidate set is scored exactly rather than by a filtered iterative scan.

    By size: up to :data:`EXACT_WITHIN_MAX` (300,000) every candidate is scored, because the scan
    is approximate where it matters most (a filter that excludes the query's neighbourhood: at a
    million papers it missed 3 to 6% of the exact top 10, some queries 8 or 9 of them) and only
    saved about 40% of a sub-second search (docs/postgresql.md). By share of the table, for
    larger sets: a scan whose filter passes a share ``candidates / rows`` visits about
    ``k * rows / candidates`` tuples before it holds ``k`` (more when the filter excludes the
    query's neighbourhood), each about :data:`SCAN_COST` times an exact candidate's cost, so
    scoring every candidate is the cheaper while ``candidates² ≤ SCAN_COST * k * rows`` (ten
    million rows, k 30: up to 49,000, so the size bound decides; :data:`SCAN_COST` is an
    estimate, not measured). ``rows`` unknown (0: never analysed): exact."""
    if candidates <= EXACT_WITHIN_MAX or rows <= 0:
        return True
    return SCAN_COST * k * rows >= candidates * candidates


def scan_budget(candidates: int, k: int) -> int:
    """``hnsw.max_scan_tuples`` for a filtered scan: no further than what scoring every candidate
    would cost (past it the scan gives up and the set is scored exactly)."""
    return max(MAX_SCAN_TUPLES, 20 * k, candidates // SCAN_COST)


def _bulk(missing: int, present: int) -> bool:
    """Load without the index and build it once (rather than insert into it): many missing."""
    return missing >= BULK_MIN and missing >= present // 2


def _build_memory_mb(rows: int) -> int:
    return int(min(BUILD_MB_MAX, max(64, rows * BUILD_MB_PER_ROW)))


def _copy_rows(papers: np.ndarray, model: str, blobs: np.ndarray) -> bytes:
    """Rows ``(paper, model, vec)`` in ``COPY``'s binary format, made by numpy in one go (every row
    has the same layout: one model, 384 dimensions)."""
    name = model.encode()
    layout = np.dtype([("fields", ">i2"), ("paper_len", ">i4"), ("paper", ">i8"), ("model_len", ">i4"),
                       ("model", f"S{len(name)}"), ("vec_len", ">i4"), ("dim", ">i2"), ("unused", ">i2"),
                       ("vec", ">f2", (HALF_DIM,))])
    rows = np.zeros(len(papers), dtype=layout)
    rows["fields"], rows["paper_len"], rows["paper"] = 3, 8, papers
    rows["model_len"], rows["model"] = len(name), name
    rows["vec_len"], rows["dim"] = 4 + 2 * HALF_DIM, HALF_DIM
    rows["vec"] = blobs
    return rows.tobytes()


@contextmanager
def _watch_build(url: str, pid: int, rows: int, progress: FillProgress | None) -> Iterator[None]:
    """Report an index build's progress (tuples done, from ``pg_stat_progress_create_index``) every second."""
    if progress is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                while not done.wait(1.0):
                    row = conn.execute("SELECT tuples_done FROM pg_stat_progress_create_index WHERE pid = %s",
                                       (pid,)).fetchone()
                    if row is not None:
                        progress("HNSW index", int(row[0] or 0), rows)
        except psycopg.Error:
            pass  # only the progress display is lost

    progress("HNSW index", 0, rows)
    watcher = threading.Thread(target=watch, name="hnsw-build-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
    progress("HNSW index", rows, rows)


def _where(model: str, keys: list[int] | None) -> tuple[str, tuple[Any, ...]]:
    """The filter (``$2`` the model, ``$3`` the candidates) of a search."""
    if keys is None:
        return "model = $2", (model,)
    return "model = $2 AND paper = ANY($3::bigint[])", (model, keys)
