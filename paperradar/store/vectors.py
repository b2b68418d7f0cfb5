"""Paper embeddings in the store: the vectors, which papers need one, the change log, sentence vectors.

SQLite holds the vectors (float16, one per paper, tagged with the model that
made them and a hash of the text they were made from); the ANN index under
``<db>.index/`` is derived from them and follows ``vector_log``, which
triggers fill on every insert, update and delete. Writing a batch of vectors
is one transaction, so an interrupted ``embed`` keeps every finished batch and
redoes at most the one in flight. Sentence vectors (one per sentence of the
title and abstract) are what the last stage of similar papers compares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .base import Pending
from .connection import SQLiteBase, rows_in

DTYPE = np.dtype("<f2")  # how vectors are stored: little-endian float16
_CHECKED = "vectors.checked_seq"  # meta key: papers up to this seq had their text checked against their vector


class VectorTables(SQLiteBase):
    """The ``vectors``, ``vector_log`` and ``sentence_vectors`` tables."""

    # -- what needs embedding ----------------------------------------------

    def pending_vectors(self, model: str, text_hash: Callable[[str, str], str]) -> Pending:
        """Papers with no vector of ``model``, and those whose title or abstract changed since.

        Only papers stamped after the last completed check are hashed again,
        so a daily sync looks at the day's papers, not the whole store.
        """
        conn = self.conn
        missing = [
            r[0]
            for r in conn.execute(
                "SELECT p.rowid FROM papers p LEFT JOIN vectors v ON v.paper = p.rowid"
                " WHERE v.paper IS NULL OR v.model != ? ORDER BY p.rowid",
                (model,),
            )
        ]
        checked = int(self.get_meta(_CHECKED + ":" + model, "0") or 0)
        top = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0])
        changed = [
            rowid
            for rowid, title, abstract, old in conn.execute(
                "SELECT p.rowid, p.title, p.abstract, v.text_hash FROM papers p JOIN vectors v ON v.paper = p.rowid"
                " WHERE p.seq > ? AND v.model = ? ORDER BY p.rowid",
                (checked, model),
            )
            if text_hash(title, abstract) != old
        ]
        return Pending(missing + changed, len(missing), len(changed), top)

    def mark_vectors_checked(self, model: str, seq: int) -> None:
        """Every paper up to ``seq`` has a current vector of ``model``."""
        self.set_meta(_CHECKED + ":" + model, str(seq))

    def paper_texts(self, rowids: list[int]) -> dict[int, tuple[str, str]]:
        """Title and abstract of each paper (rowids the store lacks are absent)."""
        rows = rows_in(self.conn, lambda marks: f"SELECT rowid, title, abstract FROM papers WHERE rowid IN ({marks})",
                       rowids)
        return {r[0]: (r[1], r[2]) for r in rows}

    # -- writing ------------------------------------------------------------

    def save_vectors(self, model: str, rowids: list[int], hashes: list[str], vectors: np.ndarray) -> None:
        """Store one batch in one transaction (a paper removed meanwhile is skipped)."""
        blobs = np.ascontiguousarray(vectors, dtype=DTYPE)
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO vectors (paper, model, text_hash, vec) SELECT ?, ?, ?, ?"
                " WHERE EXISTS (SELECT 1 FROM papers WHERE rowid = ?)"
                " ON CONFLICT (paper) DO UPDATE SET model = excluded.model, text_hash = excluded.text_hash,"
                " vec = excluded.vec",
                [(r, model, h, blobs[i].tobytes(), r) for i, (r, h) in enumerate(zip(rowids, hashes, strict=True))],
            )

    # -- reading ------------------------------------------------------------

    def vector_count(self, model: str) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (model,)).fetchone()[0])

    def vector_models(self) -> dict[str, int]:
        """How many vectors each model made (more than one after a model change, until re-embedded)."""
        return dict(self.conn.execute("SELECT model, COUNT(*) FROM vectors GROUP BY model ORDER BY 2 DESC"))

    def get_vectors(self, model: str, rowids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(rowids that have a vector of ``model``, their vectors as float32), in the order asked."""
        rows = rows_in(self.conn, lambda marks: f"SELECT paper, vec FROM vectors WHERE model = ? AND paper IN ({marks})",
                       rowids, (model,))
        found = {r[0]: r[1] for r in rows}
        keys = [r for r in rowids if r in found]
        return np.array(keys, dtype=np.int64), _matrix([found[k] for k in keys])

    def all_vectors(self, model: str, batch: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every vector of ``model`` in rowid order, ``batch`` at a time (to build the ANN index)."""
        last = -1
        while True:
            rows = self.conn.execute(
                "SELECT paper, vec FROM vectors WHERE model = ? AND paper > ? ORDER BY paper LIMIT ?",
                (model, last, batch),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield np.array([r[0] for r in rows], dtype=np.int64), _matrix([r[1] for r in rows])

    def max_vector_rowid(self) -> int:
        """The largest rowid with a vector (0: none): how many rows the index's vector file needs."""
        return int(self.conn.execute("SELECT COALESCE(MAX(paper), 0) FROM vectors").fetchone()[0])

    def vector_log_head(self) -> int:
        """The newest change's number (0: none yet)."""
        # sqlite_sequence keeps AUTOINCREMENT's last number even after the log is pruned.
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").fetchone()
        return int(row[0]) if row else 0

    def vector_changes(self, seq: int, model: str) -> tuple[int, list[int], np.ndarray, np.ndarray]:
        """What changed after log entry ``seq``: (head, papers to drop, papers to (re)add, their vectors).

        A paper whose vector was deleted or replaced by another model's is
        dropped; one with a current vector of ``model`` is re-added.
        """
        head = self.vector_log_head()
        papers = [r[0] for r in self.conn.execute(
            "SELECT DISTINCT paper FROM vector_log WHERE seq > ? AND seq <= ?", (seq, head))]
        keys, vectors = self.get_vectors(model, papers)
        present = set(keys.tolist())
        return head, [p for p in papers if p not in present], keys, vectors

    def prune_vector_log(self, upto: int) -> None:
        """Forget log entries the index has applied and saved."""
        with self.write() as conn:
            conn.execute("DELETE FROM vector_log WHERE seq <= ?", (upto,))

    # -- sentence vectors -----------------------------------------------------

    def get_sentence_vectors(self, model: str, rowids: list[int]) -> dict[int, tuple[str, np.ndarray]]:
        """rowid -> (text hash, vectors as float32, one row per sentence) for stored papers of ``model``."""
        rows = rows_in(
            self.conn,
            lambda marks: f"SELECT paper, text_hash, sentences, vecs FROM sentence_vectors WHERE model = ? AND paper IN ({marks})",
            rowids,
            (model,),
        )
        return {p: (h, np.frombuffer(blob, dtype=DTYPE).reshape(n, -1).astype(np.float32)) for p, h, n, blob in rows}

    def save_sentence_vectors(self, model: str, items: list[tuple[int, str, np.ndarray]]) -> None:
        """Store (rowid, text hash, matrix) items in one transaction."""
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO sentence_vectors (paper, model, text_hash, sentences, vecs) SELECT ?, ?, ?, ?, ?"
                " WHERE EXISTS (SELECT 1 FROM papers WHERE rowid = ?)"
                " ON CONFLICT (paper) DO UPDATE SET model = excluded.model, text_hash = excluded.text_hash,"
                " sentences = excluded.sentences, vecs = excluded.vecs",
                [(r, model, h, len(m), np.ascontiguousarray(m, dtype=DTYPE).tobytes(), r) for r, h, m in items],
            )

    def sentence_vector_count(self, model: str) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM sentence_vectors WHERE model = ?", (model,)).fetchone()[0])

    def count_sentences_pending(self, model: str) -> int:
        """How many papers :meth:`sentences_pending` would return in all."""
        return int(self.conn.execute(
            "SELECT COUNT(*) FROM vectors v LEFT JOIN sentence_vectors s ON s.paper = v.paper"
            " WHERE v.model = ? AND (s.paper IS NULL OR s.model != v.model OR s.text_hash != v.text_hash)",
            (model,),
        ).fetchone()[0])

    def sentences_pending(self, model: str, after: int = 0, limit: int = 10_000) -> list[int]:
        """Rowids (after ``after``, ascending) of papers with a document vector of ``model`` whose sentence
        vectors are missing or not as current: those of another model, or of an older text."""
        rows = self.conn.execute(
            "SELECT v.paper FROM vectors v LEFT JOIN sentence_vectors s ON s.paper = v.paper"
            " WHERE v.model = ? AND v.paper > ? AND (s.paper IS NULL OR s.model != v.model"
            " OR s.text_hash != v.text_hash) ORDER BY v.paper LIMIT ?",
            (model, after, limit),
        )
        return [r[0] for r in rows]


def _matrix(blobs: list[bytes]) -> np.ndarray:
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=DTYPE).reshape(len(blobs), -1).astype(np.float32)
