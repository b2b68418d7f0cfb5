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
index's first use).

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
- :meth:`~PgVectorTables.nearest_within`: every candidate scored exactly
  (``ORDER BY`` distance over just those rows, kept from the index by
  ``OFFSET 0``), so no top-k paper among them is dropped for being far from the
  query. Semantic search hands over a large candidate set only when the
  unfiltered index search found too few that pass, i.e. when the filter
  excludes the query's neighbourhood, where an iterative scan filtered to the
  candidates was approximate and no faster (measured: docs/postgresql.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg

from .pg_schema import MIGRATE_LOCK
from .vectors import DTYPE, VectorTables

SCHEMA = "paperradar_ann"
TABLE = f"{SCHEMA}.halfvecs"
HALF_DIM = 384  # halfvec(384): the models' width; vectors of another width are not mirrored
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 128  # as the file index (usearch connectivity 16, expansion_add 128)
EF_SEARCH = 160  # hnsw.ef_search floor, as the file index's expansion_search (pgvector's default 40: lower recall)
EF_SEARCH_MAX = 1000  # pgvector refuses more; the iterative scan still returns every row asked for, in order
MAX_SCAN_TUPLES = 20_000  # hnsw.max_scan_tuples: how far an iterative scan goes before giving up
FILL_BATCH = 2_000

DDL = f"""
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {TABLE} (
    paper BIGINT PRIMARY KEY REFERENCES public.vectors(paper) ON DELETE CASCADE,
    model TEXT COLLATE "C" NOT NULL,
    vec halfvec({HALF_DIM}) NOT NULL
);
CREATE INDEX IF NOT EXISTS halfvecs_model ON {TABLE} (model, paper);
CREATE INDEX IF NOT EXISTS halfvecs_hnsw ON {TABLE} USING hnsw (vec halfvec_cosine_ops)
    WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION});
"""


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

    def fill_halfvecs(self, model: str) -> int:
        """Make the ``halfvec`` copies agree with ``model``'s stored vectors: add those missing (``paperradar
        copy`` moves only the ``BYTEA`` rows; vectors stored before pgvector was there) and drop any
        whose vector is gone (deleted with foreign keys off: ``session_replication_role = replica``).
        Returns how many were added."""
        with self.write() as conn:
            conn.execute(f"DELETE FROM {TABLE} h WHERE NOT EXISTS"
                         " (SELECT 1 FROM vectors v WHERE v.paper = h.paper AND v.model = h.model)")
        added = 0
        while True:
            rows = self.conn.execute(
                f"SELECT v.paper, v.vec FROM vectors v LEFT JOIN {TABLE} h ON h.paper = v.paper"
                f" WHERE v.model = ? AND length(v.vec) = ? AND (h.paper IS NULL OR h.model != v.model)"
                " ORDER BY v.paper LIMIT ?",
                (model, HALF_DIM * DTYPE.itemsize, FILL_BATCH),
            ).fetchall()
            if not rows:
                return added
            blobs = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=DTYPE).reshape(len(rows), HALF_DIM)
            with self.write() as conn:
                self._put_halfvecs(conn, model, [r[0] for r in rows], blobs)
            added += len(rows)

    # -- reading ------------------------------------------------------------

    def halfvec_count(self, model: str) -> int:
        """How many vectors of ``model`` the index holds."""
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE model = ?", (model,)).fetchone()[0])

    def nearest_halfvecs(self, model: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest (rowid, cosine) of ``model`` by the HNSW index, best first (see the module docstring)."""
        found = self._index_scan(model, query, k)
        return found if len(found) >= k else self._exact(model, query, k, None)

    def nearest_within(self, model: str, query: np.ndarray, k: int, candidates: Sequence[int]) -> list[tuple[int, float]]:
        """The exact ``k`` nearest (rowid, cosine) among ``candidates``, best first: every candidate scored.

        Not the HNSW index's iterative scan filtered to the candidates: that answer is approximate
        (it missed 0.8% of the exact top 10 where the filter left out the query's nearest 2,000 of
        20,000 real vectors) and was no faster there (docs/postgresql.md, Vectors).
        """
        keys = sorted({int(c) for c in candidates})
        if not keys or k <= 0:
            return []
        return self._exact(model, query, k, keys)

    def _index_scan(self, model: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The HNSW index's iterative scan (``strict_order``: results come in exact distance order).

        Sorting is disabled for the query: the only plan left is the HNSW index's ordered scan
        (misled by statistics on the model column, the planner chose the model index and a sort
        of every row: exact, but a full scan at a million papers).
        """
        where, params = _where(model, None)
        with self._guarded(), self.conn.raw.transaction():
            raw = self.conn.raw
            raw.execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true),"
                        " set_config('hnsw.ef_search', $1, true), set_config('hnsw.max_scan_tuples', $2, true),"
                        " set_config('enable_sort', 'off', true)",
                        (str(min(EF_SEARCH_MAX, max(EF_SEARCH, 2 * k))), str(max(MAX_SCAN_TUPLES, 20 * k))))
            rows = raw.execute(
                f"SELECT paper, vec <=> $1::halfvec AS d FROM {TABLE} WHERE {where} ORDER BY vec <=> $1::halfvec"
                f" LIMIT {int(k)}", (halfvec_text(query), *params),
            ).fetchall()
        # past ef_search's cap (k > 500) the iterative scan's batches can come slightly out of order
        return sorted(((int(r[0]), 1.0 - float(r[1])) for r in rows), key=lambda hit: -hit[1])

    def _exact(self, model: str, query: np.ndarray, k: int, keys: list[int] | None) -> list[tuple[int, float]]:
        """Every matching row scored (``OFFSET 0`` keeps the planner from ordering by the approximate index)."""
        where, params = _where(model, keys)
        rows = self.conn.raw.execute(
            f"SELECT paper, d FROM (SELECT paper, vec <=> $1::halfvec AS d FROM {TABLE} WHERE {where} OFFSET 0) s"
            f" ORDER BY d, paper LIMIT {int(k)}", (halfvec_text(query), *params),
        ).fetchall()
        return [(int(r[0]), 1.0 - float(r[1])) for r in rows]


def _where(model: str, keys: list[int] | None) -> tuple[str, tuple[Any, ...]]:
    """The filter (``$2`` the model, ``$3`` the candidates) of a search."""
    if keys is None:
        return "model = $2", (model,)
    return "model = $2 AND paper = ANY($3::bigint[])", (model, keys)
