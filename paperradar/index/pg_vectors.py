"""The vector index on PostgreSQL: :class:`VectorIndex`'s interface over pgvector's HNSW index.

On SQLite the vector index is a derived file beside the database that a
writer saves and readers follow. On PostgreSQL the database itself keeps the
index (:mod:`paperradar.store.pg_vectors`: a ``halfvec`` copy of each vector,
written with it, and an HNSW index over them), so every worker on every
machine searches the same, current vectors: :meth:`PgVectorIndex.update` and
:meth:`PgVectorIndex.refresh` have nothing to bring up to date. The first use
in a process adds the ``halfvec`` copies a ``paperradar copy`` left out (after a
copy: all of them, loaded in bulk and indexed once; minutes at a million), with
progress bars on a terminal and log lines elsewhere. One thread of one process
fills; the others search meanwhile what the database holds (waiting while the
copies load, scoring exactly while the HNSW index is built), never the fill.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from ..store import StoreError
from ..store.pg_vectors import HALF_DIM

if TYPE_CHECKING:
    from ..store.postgres import PostgresStore

log = logging.getLogger("paperradar.index")


class PgVectorIndex:
    """Nearest-neighbour search over one model's vectors in a PostgreSQL store (same meaning as VectorIndex)."""

    def __init__(self, store: PostgresStore, model: str, dim: int) -> None:
        if not store.pgvector:
            raise StoreError(f"{store.path}: semantic search needs the pgvector extension in the database "
                             "(CREATE EXTENSION vector, by a role allowed to; see docs/postgresql.md)")
        if dim != HALF_DIM:
            raise StoreError(f"{store.path}: the pgvector index holds {HALF_DIM}-dimensional vectors, not {dim}")
        self.store = store
        self.model = model
        self.dim = dim
        self._filled = False
        self._filling = threading.Lock()
        self._counted = (-1, 0)  # (vector log head, count) of the last count: recounted after a change

    def refresh(self) -> None:
        """Once per process: add the ``halfvec`` copies missing (after ``paperradar copy``); then nothing
        to do. Returns at once while another thread fills, and without marking it done while another
        process does (the next search asks again)."""
        if self._filled or not self._filling.acquire(blocking=False):
            return
        try:
            if not self._filled:
                if self.store.read_only:
                    self._filled = True
                    return
                with FillReport(sys.stderr.isatty()) as report:
                    self._filled = self.store.fill_halfvecs(self.model, report) is not None
        finally:
            self._filling.release()

    def update(self, progress: Callable[[int], None] | None = None, min_changes: int = 0) -> int:
        """Nothing to save: the database keeps the index current as vectors are stored. Returns 0."""
        self.refresh()
        return 0

    def __len__(self) -> int:
        """How many vectors of the model are searchable; counted again only when the vector log
        moved (every search asks, and counting a million rows is not free)."""
        self.refresh()
        head = self.store.vector_log_head()
        if self._counted[0] != head:
            self._counted = (head, self.store.halfvec_count(self.model))
        return self._counted[1]

    def search(self, query: np.ndarray, k: int, candidates: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest (rowid, cosine), best first; among ``candidates`` only when given (exactly for
        a small set, by the index's filtered iterative scan for a large one: store/pg_vectors.py)."""
        self.refresh()
        if k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if candidates is not None:
            return self.store.nearest_within(self.model, query, k, np.asarray(candidates, dtype=np.int64).reshape(-1))
        return self.store.nearest_halfvecs(self.model, query, k)

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys that have a vector, their vectors as float32), read from the stored float16 vectors."""
        wanted = np.asarray(keys, dtype=np.int64).reshape(-1).tolist()
        found, vectors = self.store.get_vectors(self.model, wanted)
        if not len(found):
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        return found, vectors


class FillReport:
    """How far a fill of the ``halfvec`` copies got: a tqdm bar per phase on a terminal (as ``embed``
    shows), else a log line at each phase's start and end (a server's log)."""

    def __init__(self, bars: bool) -> None:
        self.bars = bars
        self.phase: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self._end()
            self.phase, self.done = phase, 0
            if self.bars:
                from .embed import progress_bar

                self.bar = progress_bar(total, phase, True)
            else:
                log.info("%s: %d to do", phase, total)
        if self.bar is not None and done > self.done:
            self.bar.update(done - self.done)
        self.done = max(self.done, done)

    def _end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.phase is not None:
            log.info("%s: %d done", self.phase, self.done)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()
