"""The vector index on PostgreSQL: :class:`VectorIndex`'s interface over pgvector's HNSW index.

On SQLite the vector index is a derived file beside the database that a
writer saves and readers follow. On PostgreSQL the database itself keeps the
index (:mod:`paperradar.store.pg_vectors`: a ``halfvec`` copy of each vector,
written with it, and an HNSW index over them), so every worker on every
machine searches the same, current vectors: :meth:`PgVectorIndex.update` and
:meth:`PgVectorIndex.refresh` have nothing to bring up to date. The first use
in a process adds the ``halfvec`` copies a ``paperradar copy`` left out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..store import StoreError
from ..store.pg_vectors import HALF_DIM

if TYPE_CHECKING:
    from ..store.postgres import PostgresStore


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
        """Once per process: add the ``halfvec`` copies missing (after ``paperradar copy``); then nothing to do."""
        if self._filled:
            return
        with self._filling:
            if not self._filled:
                if not self.store.read_only:
                    self.store.fill_halfvecs(self.model)
                self._filled = True

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
        """The ``k`` nearest (rowid, cosine), best first; among ``candidates`` only, exactly, when given."""
        self.refresh()
        if k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if candidates is not None:
            keys = np.asarray(candidates, dtype=np.int64).reshape(-1).tolist()
            return self.store.nearest_within(self.model, query, k, keys)
        return self.store.nearest_halfvecs(self.model, query, k)

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys that have a vector, their vectors as float32), read from the stored float16 vectors."""
        wanted = np.asarray(keys, dtype=np.int64).reshape(-1).tolist()
        found, vectors = self.store.get_vectors(self.model, wanted)
        if not len(found):
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        return found, vectors
