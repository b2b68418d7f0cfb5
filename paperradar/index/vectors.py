"""The vector index: nearest papers by cosine, approximate (HNSW) for large stores, exact for small ones.

The vectors live in SQLite (:mod:`paperradar.store.vectors`); this index is a
derived copy, an HNSW graph from usearch saved under ``<db>.index/``, that
remembers the last ``vector_log`` entry it holds. Two roles:

- one *writer* at a time (``embed``, an import or sync's embedding step)
  loads the graph, applies the log entries it lacks, and saves it under a
  temporary name renamed into place, then records the log position; a crash
  anywhere leaves a graph that is behind, never one ahead of the store. The
  saved state names a token the store holds (:mod:`paperradar.store.marks`):
  a state made from another database counts as nothing saved, so readers
  search the stored vectors exactly and the next writer rebuilds it;
- *readers* (search, similar, the web app) map the saved graph read-only and
  keep the log entries written since in a small exact "delta" searched
  beside it (papers changed since the save are masked in the graph), so
  they see every vector SQLite holds without waiting for the writer.

Scores are cosine similarities of unit vectors. The graph stores int8
vectors, enough to shortlist k + min(3k, 120) candidates; their float16 copies in
``vectors.npy`` (row = rowid, read with ``pread``) rank the shortlist and
score small filtered candidate sets exactly. Measured on the 115k file: recall@10
0.99 against exact search, where a float16 graph alone gave 0.986 at twice
the size (a million papers: 0.9 GB of graph that a reader's mapping pulls
into its RSS). The search expansion is set on every graph a reader maps:
usearch does not save it, so a restored graph was searched with its default
(64). Measured at a million papers (near-duplicates), recall@10 comes from
the graph's depth, not from the float16 re-ranking: shortlists of 40, 110
and 130 gave the same recall at each expansion.

A large candidate set (a filter that 230,000 of a million papers pass) is
scanned exactly in ``vectors.i8.npy``, an int8 copy with each row scaled on
its own (:class:`~paperradar.index.flatfile.Int8File`): bounded slices
scored by usearch's SIMD kernel, the best ``RERANK * k + RERANK_EXTRA`` then
ranked by their float16 vectors. That made the fallback of filtered search
at 1M (every paper that passes scored) about ten times faster than reading
each candidate's float16 row with ``pread`` (bench/README.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..store import Store
from ..store.faults import guarded
from .flatfile import FlatFile, Int8File, put_rows, quantize, quantize_all

GRAPH = "hnsw.usearch"
FLAT = "vectors.npy"  # every vector, row = rowid (zeros: none), for exact scoring of candidate sets
I8 = "vectors.i8.npy"  # the same rows as int8, each scaled on its own, for scanning large candidate sets
STATE = "state.json"
EXACT_MAX = 20_000  # up to this many vectors, searches are exact (a scan is as fast as the graph)
SCORE_SLICE = 20_000  # candidates read and scored at once
SCAN_MIN = 5_000  # candidate sets above this size are scanned in the int8 rows (when saved)
RERANK, RERANK_EXTRA = 4, 120  # the graph shortlists k + min(3k, 120); their float16 vectors rank them
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 160  # at 1M, 100 queries: recall@10 0.989, against 0.974 at 96 and 0.970 at 64 (bench/README.md)
UNMAPPED = (-1.0, -1)  # no state file looked at yet: differs from None (none found), so the first read maps


def usearch_index() -> Any:
    """usearch's Index class, imported after ONNX Runtime.

    usearch 2.26.6's compiled module, once loaded, makes a later
    ``import onnxruntime`` crash the process (segmentation fault, measured
    here); loaded the other way round both work. Every use of usearch goes
    through this function, so the order holds whichever runs first.
    """
    import onnxruntime  # noqa: F401 - must come first, see above
    from usearch.index import Index

    return Index


def exact_kernel(rows: np.ndarray, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, cosine distances) of the ``count`` rows nearest ``query``, by usearch's exact SIMD search."""
    usearch_index()  # the import order, see above
    from usearch.index import search as exact_search

    matches = exact_search(rows, query, count, "cos", exact=True, threads=1)
    return np.asarray(matches.keys, dtype=np.int64), np.asarray(matches.distances)


def index_dir(db_path: str, model: str) -> Path:
    """Where the vector index of ``model`` for a database lives (one folder per model)."""
    slug = hashlib.sha1(model.encode()).hexdigest()[:12]
    return Path(f"{db_path}.index") / f"vectors-{slug}"


class VectorIndex:
    """Nearest-neighbour search over one model's vectors of one store."""

    def __init__(self, store: Store, model: str, dim: int) -> None:
        self.store = store
        self.model = model
        self.dim = dim
        self.dir = index_dir(store.path, model)
        self.mark = f"vectors:{model}"  # its name in the store's index marks
        self._graph: Any = None  # the saved graph, mapped read-only (None: nothing saved yet)
        self._flat: FlatFile | None = None  # the saved vectors by rowid, read with pread
        self._i8: Int8File | None = None  # their int8 copy, for scanning large candidate sets (None: not saved)
        # state file (mtime, inode) when mapped; None: there was none (searched exactly from the store)
        self._stamp: tuple[float, int] | None = UNMAPPED
        self._seq = 0  # log position the reader has applied
        self._masked: set[int] = set()  # keys in the graph whose vector changed or went since
        self._delta: dict[int, np.ndarray] = {}  # vectors added or changed since the graph was saved
        # the delta as (the dict it was made from, keys, matrix), made once per change
        self._stacked: tuple[dict[int, np.ndarray], np.ndarray, np.ndarray] | None = None
        self._refreshing = threading.Lock()

    # -- reading ------------------------------------------------------------

    def refresh(self) -> None:
        """Pick up a newly saved graph and any vectors written since (cheap when nothing changed).

        Searches run in several threads (the web server's, hybrid search's);
        one of them applies a change while the others wait for it.
        """
        with self._refreshing:
            stamp = self._state_stamp()  # a stat per search; the state file is read only when it changed
            if stamp != self._stamp:
                self._map_graph(self._read_state())
                self._stamp = stamp
            if self.store.vector_log_head() > self._seq:
                head, dropped, keys, vecs = self.store.vector_changes(self._seq, self.model)
                delta, masked = dict(self._delta), set(self._masked)  # readers keep the old ones meanwhile
                for key in dropped:
                    delta.pop(key, None)
                    masked.add(key)
                for key, vec in zip(keys.tolist(), vecs, strict=True):
                    delta[key] = vec
                    masked.add(key)
                self._delta, self._masked, self._stacked, self._seq = delta, masked, None, head

    def __len__(self) -> int:
        self.refresh()
        graph = 0 if self._graph is None else len(self._graph) - sum(1 for k in self._masked if k in self._graph)
        return graph + len(self._delta)

    def search(self, query: np.ndarray, k: int, candidates: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The ``k`` nearest (rowid, cosine), best first; among ``candidates`` only, exactly, when given."""
        self.refresh()
        if k <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if candidates is not None:
            return self._search_within(query, k, np.asarray(candidates, dtype=np.int64).reshape(-1))
        found: dict[int, float] = {}
        if self._graph is not None and len(self._graph):
            # The graph's int8 vectors shortlist a few times k; float16 vectors rank the shortlist.
            exact = len(self._graph) <= EXACT_MAX
            want = k + min((RERANK - 1) * k, RERANK_EXTRA) + len(self._masked)
            matches = self._graph.search(query, min(want, len(self._graph)), exact=exact)
            shortlist = np.array([key for key in matches.keys.tolist() if key not in self._masked], dtype=np.int64)
            found.update(_top(*self._saved(shortlist), query, k))
        if self._delta:
            for key, score in _top(*self._delta_matrix(), query, k):
                found[key] = score
        return sorted(found.items(), key=lambda kv: -kv[1])[:k]

    def _search_within(self, query: np.ndarray, k: int, candidates: np.ndarray) -> list[tuple[int, float]]:
        """The top ``k`` among ``candidates``, scored a slice at a time (memory stays flat): a small
        set by its float16 rows (exact), a large one scanned in the int8 rows, whose best
        ``RERANK * k + RERANK_EXTRA`` are ranked by their float16 rows (int8 cosines are within
        0.003 of the true ones: a paper of the true top k is missed only if that many others
        come within 0.006 of it)."""
        i8 = self._i8
        if i8 is None or len(candidates) <= SCAN_MIN:
            best: list[tuple[int, float]] = []
            for i in range(0, len(candidates), SCORE_SLICE):
                best = sorted(best + _top(*self.get(candidates[i : i + SCORE_SLICE]), query, k), key=lambda kv: -kv[1])[:k]
            return best
        keys = candidates if np.all(candidates[1:] > candidates[:-1]) else np.unique(candidates)  # sorted, once each
        found: dict[int, float] = {}
        changed = keys[np.isin(keys, self._changed_keys())] if (self._delta or self._masked) else keys[:0]
        if len(changed):  # vectors written since the save: scored from the delta
            found.update(_top(*self.get(changed), query, k))
            keys = keys[~np.isin(keys, changed)]
        keys = keys[(keys >= 0) & (keys < i8.rows)]  # past the end: no saved vector
        shortlist = i8.scan(keys, query, RERANK * k + RERANK_EXTRA, exact_kernel)
        found.update(_top(*self._saved(np.sort(shortlist)), query, k))
        return sorted(found.items(), key=lambda kv: -kv[1])[:k]

    def _changed_keys(self) -> np.ndarray:
        """Keys whose saved vector is no longer theirs (changed or gone) or that are new since the save."""
        keys = set(self._masked) | set(self._delta)
        return np.fromiter(keys, dtype=np.int64, count=len(keys))

    def _saved(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Saved float16 vectors of ``keys`` (those that have one), as float32."""
        if self._flat is None or not len(keys):
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        keys = keys[(keys >= 0) & (keys < self._flat.rows)]
        vecs = self._flat.read(keys)
        present = vecs.any(axis=1)
        return keys[present], vecs[present]

    def _delta_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """The delta as (keys, vectors), stacked once per change rather than once per search."""
        delta, stacked = self._delta, self._stacked
        if stacked is None or stacked[0] is not delta:  # made from another thread's older delta
            keys = np.fromiter(delta, dtype=np.int64, count=len(delta))
            stacked = self._stacked = (delta, keys, np.stack(list(delta.values())))
        return stacked[1], stacked[2]

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(keys that have a vector, their vectors as float32), from the delta or the saved vectors.

        The order of ``keys`` is not kept. Reads just those rows of the
        saved vectors file (see :class:`FlatFile`).
        """
        self.refresh()
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        parts_k, parts_v = [], []
        if self._delta:
            mine = [k for k in keys.tolist() if k in self._delta]
            if mine:
                parts_k.append(np.array(mine, dtype=np.int64))
                parts_v.append(np.stack([self._delta[k] for k in mine]))
        rest = keys
        if self._masked:
            rest = rest[~np.isin(rest, np.fromiter(self._masked, dtype=np.int64, count=len(self._masked)))]
        if self._flat is not None and len(rest):
            found_k, found_v = self._saved(rest)
            parts_k.append(found_k)
            parts_v.append(found_v)
        if not parts_k:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(parts_k), np.concatenate(parts_v).astype(np.float32, copy=False)

    def _map_graph(self, state: dict[str, Any]) -> None:
        index_class = usearch_index()

        path = self.dir / GRAPH
        graph = None
        if self._ours(state) and path.exists():
            try:
                graph = index_class.restore(str(path), view=True)
                graph.expansion_search = EXPANSION_SEARCH  # not saved with the graph (see the module doc)
            except Exception:  # noqa: BLE001 - a damaged file: search the store's vectors exactly instead
                graph = None
        flat = self._load_flat() if graph is not None else None
        self._masked = set()
        if flat is not None:
            self._graph, self._flat, self._i8 = graph, flat, self._load_i8(flat)
            self._seq, self._delta, self._stacked = int(state.get("log_seq", 0)), {}, None
            return
        # Nothing usable saved (not built yet, or damaged): every stored vector goes to the
        # exact delta, so searches stay complete until `embed` saves an index again.
        self._graph, self._flat, self._i8 = None, None, None
        self._seq = self.store.vector_log_head()
        self._delta, self._stacked = {}, None
        for keys, vecs in self.store.all_vectors(self.model):
            self._delta.update(zip(keys.tolist(), vecs, strict=True))

    def _load_flat(self) -> FlatFile | None:
        """The saved vectors file, or None if missing or not what it should be."""
        try:
            flat = FlatFile(self.dir / FLAT)
        except (OSError, ValueError):
            return None
        return flat if flat.dim == self.dim else None

    def _load_i8(self, flat: FlatFile) -> Int8File | None:
        """The int8 rows, or None if missing or not the float16 file's shape (then large sets are read
        from the float16 file, slower but the same answer)."""
        try:
            i8 = Int8File(self.dir / I8)
        except (OSError, ValueError):
            return None
        return i8 if (i8.rows, i8.dim) == (flat.rows, flat.dim) else None

    # -- writing ------------------------------------------------------------

    def update(self, progress: Callable[[int], None] | None = None, min_changes: int = 0) -> int:
        """Bring the saved graph up to the store's vectors (the writer's job); returns vectors applied.

        With ``min_changes``, a saved graph fewer than that many log entries
        behind is left as it is (readers search those entries exactly).
        Waits for another writer to finish first. Safe to repeat and to
        interrupt: the store's log is replayed from the last saved position.
        A folder that cannot be written or a full disk is a
        :class:`~paperradar.store.StorageFault` naming the folder; what was
        saved before stays as it was (files are renamed into place whole).
        """
        with guarded(self.dir):
            return self._update(progress, min_changes)

    def _update(self, progress: Callable[[int], None] | None, min_changes: int) -> int:
        index_class = usearch_index()

        with self._lock():
            state = self._read_state()
            path = self.dir / GRAPH
            behind = self.store.vector_log_head() - int(state.get("log_seq", 0))
            ours = self._ours(state)
            if min_changes and path.exists() and ours and behind < min_changes:
                return 0
            graph = None
            if ours and path.exists():
                try:
                    graph = index_class.restore(str(path))
                except Exception:  # noqa: BLE001 - damaged: rebuild from the store
                    graph = None
            applied = 0
            flat_file = self._load_flat()
            if graph is not None and flat_file is not None and self._load_i8(flat_file) is None:
                self._save_i8(np.load(self.dir / FLAT, mmap_mode="r"))  # an index saved before the int8 rows
            if graph is None or flat_file is None:
                graph = self._new_graph()
                head = self.store.vector_log_head()
                flat = self._new_flat()
                for keys, vecs in self.store.all_vectors(self.model):
                    graph.add(keys, vecs)
                    flat = put_rows(flat, keys, vecs, self.dim)
                    applied += len(keys)
                    if progress:
                        progress(len(keys))
                self._save_flat(flat)
            else:
                head, dropped, keys, vecs = self.store.vector_changes(int(state.get("log_seq", 0)), self.model)
                stale = [k for k in dropped + keys.tolist() if k in graph]
                if stale:
                    graph.remove(np.array(stale, dtype=np.int64))
                if len(keys):
                    graph.add(keys, vecs)
                applied = len(keys) + len(dropped)
                if applied:
                    self._patch_flat(np.array(dropped, dtype=np.int64), keys, vecs)
                if progress and applied:
                    progress(applied)
            if applied or not path.exists():
                self._save(graph, head)
            elif head != state.get("log_seq") or not ours:
                self._write_state(head, len(graph))
            self.store.prune_vector_log(head)
        self._stamp = UNMAPPED  # remap on next read
        return applied

    def _new_flat(self) -> np.ndarray:
        top = self.store.max_vector_rowid()
        return np.zeros((top + 1, self.dim), dtype=np.float16)

    def _save_flat(self, flat: np.ndarray) -> None:
        """Write the vectors file and its int8 copy, each under a temporary name renamed into place.

        The int8 copy goes first: a reader that finds it of another shape than
        the float16 file ignores it, so a crash between the two is harmless.
        """

        self._save_i8(flat)
        self._write_whole(FLAT, _npy(flat))

    def _save_i8(self, flat: np.ndarray) -> None:
        """Write the int8 copy of ``flat`` (see :mod:`paperradar.index.flatfile`)."""
        self._write_whole(I8, _npy(quantize_all(flat)))

    def _write_whole(self, name: str, write: Callable[[Path], None]) -> None:
        """Write file ``name`` with ``write`` under a temporary name, synced, then rename it into place.

        A write that fails (a full disk) leaves the file as it was and no
        partial copy taking space; it is told apart as a storage fault while
        the partial copy still shows how full the disk is.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / (name + ".tmp")
        try:
            with guarded(self.dir):
                write(tmp)
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, self.dir / name)

    def _patch_flat(self, dropped: np.ndarray, keys: np.ndarray, vecs: np.ndarray) -> None:
        """Apply a few changes in place (readers mask changed rows until they see the new state);
        a paper past the end of the file means a new, larger file."""
        flat = np.load(self.dir / FLAT, mmap_mode="r+")
        if len(keys) and int(keys.max()) >= len(flat):
            grown = put_rows(np.array(flat), keys, vecs, self.dim)
            grown[dropped[dropped < len(grown)]] = 0
            del flat
            self._save_flat(grown)
            return
        flat[dropped[dropped < len(flat)]] = 0
        if len(keys):
            flat[keys] = vecs.astype(np.float16)
        flat.flush()
        i8 = np.load(self.dir / I8, mmap_mode="r+")  # present: _update made it before any patch
        i8[dropped[dropped < len(i8)]] = 0
        if len(keys):
            i8[keys] = quantize(vecs)
        i8.flush()

    def _new_graph(self) -> Any:
        index_class = usearch_index()

        return index_class(ndim=self.dim, metric="cos", dtype="i8", connectivity=CONNECTIVITY,
                     expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)

    def _save(self, graph: Any, head: int) -> None:
        self._write_whole(GRAPH, lambda tmp: graph.save(str(tmp)))
        self._write_state(head, len(graph))

    def _write_state(self, head: int, count: int) -> None:
        """Record the saved state: its mark in the store first, then the state file that names it."""
        token = uuid.uuid4().hex
        self.store.add_index_mark(self.mark, token, head)
        tmp = self.dir / (STATE + ".tmp")
        tmp.write_text(json.dumps({"model": self.model, "log_seq": head, "count": count, "token": token}))
        os.replace(tmp, self.dir / STATE)

    def _ours(self, state: dict[str, Any]) -> bool:
        """Whether a saved state is of this model and was made from this database (see store/marks.py)."""
        token = state.get("token")
        return state.get("model") == self.model and isinstance(token, str) and self.store.has_index_mark(self.mark, token)

    def _read_state(self) -> dict[str, Any]:
        try:
            return json.loads((self.dir / STATE).read_text())
        except (OSError, ValueError):
            return {}

    def _state_stamp(self) -> tuple[float, int] | None:
        try:
            st = (self.dir / STATE).stat()
        except OSError:
            return None
        return (st.st_mtime, st.st_ino)

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "writer.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def _npy(array: np.ndarray) -> Callable[[Path], None]:
    """A writer of ``array`` as a ``.npy`` file, for :meth:`VectorIndex._write_whole`."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.save(f, array)

    return write


def _top(keys: np.ndarray, vectors: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Exact top ``k`` of ``vectors`` by dot product with ``query``."""
    if len(keys) == 0:
        return []
    scores = vectors @ query
    if len(scores) > k:
        best = np.argpartition(-scores, k - 1)[:k]
    else:
        best = np.arange(len(scores))
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(keys[i]), float(scores[i])) for i in best]
