"""Embedding the store: which papers need a vector, computing them in batches, updating the vector index.

Runs after papers are stored and keyword-indexed (so they are searchable by
word at once), from ``import``, ``sync`` and ``paperradar embed``. Each
batch of vectors is committed on its own: an interrupted run (Ctrl-C, kill
-9) keeps every finished batch and the next run goes on with the rest.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..store import SQLiteStore
from ..store.vectors import Vectors
from .encoder import DIM, MODEL_NAME, Encoder, Settings, model_package_version
from .vectors import VectorIndex

BATCH = 512  # papers per committed batch: about 3 s of work on 2 cores
SAVE_EVERY = 20_480  # a long run saves the vector index this often, so searches meanwhile stay fast

_ENCODER: Encoder | None = None
_INDEXES: "weakref.WeakKeyDictionary[SQLiteStore, VectorIndex]" = weakref.WeakKeyDictionary()


def encoder() -> Encoder:
    """The default encoder, loaded once per process (the first load on a machine exports the model)."""
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = Encoder.load()
    return _ENCODER


def model_key(enc: Encoder) -> str:
    """What is stored with every vector: a different key means the vector must be recomputed."""
    return f"{enc.name}@{enc.version}"


def current_model() -> str:
    """The default encoder's key, known without loading it (a store with no vectors costs nothing)."""
    return f"{MODEL_NAME}@{model_package_version()}/{Settings().tag()}"


def vector_index(store: SQLiteStore) -> VectorIndex:
    """The default model's vector index of a store, opened once per store object."""
    index = _INDEXES.get(store)
    if index is None:
        index = _INDEXES[store] = VectorIndex(store, current_model(), DIM)
    return index


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is embedded from: its title, then its abstract."""
    return f"{title.strip()}. {' '.join(abstract.split())}" if abstract.strip() else title.strip()


CHUNK_WORDS = 80  # about the 96 tokens the encoder keeps


def text_vector(text: str) -> np.ndarray:
    """One unit vector for a whole text, however long: the mean of its 80-word pieces' vectors.

    Stored paper vectors see the first 96 tokens; a query (a pasted
    abstract, or the paper ``similar`` starts from) is embedded whole, once.
    """
    words = text.split()
    pieces = [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words), CHUNK_WORDS)] or [""]
    enc = encoder()
    vector = enc.encode_query(pieces[0]) if len(pieces) == 1 else enc.encode(pieces).mean(axis=0)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def text_hash(title: str, abstract: str) -> str:
    return hashlib.sha1(paper_text(title, abstract).encode("utf-8")).hexdigest()[:20]


@dataclass
class EmbedReport:
    model: str
    pending: int = 0  # papers that needed a vector when the run began
    missing: int = 0  # of them: no vector of this model yet
    changed: int = 0  # of them: title or abstract changed since embedded
    embedded: int = 0
    indexed: int = 0  # vectors the ANN index applied
    seconds: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model, "pending": self.pending, "missing": self.missing, "changed": self.changed,
            "embedded": self.embedded, "indexed": self.indexed, "seconds": round(self.seconds, 3),
            "papers_per_second": round(self.embedded / self.seconds, 1) if self.seconds and self.embedded else None,
            "interrupted": self.interrupted,
        }  # fmt: skip


def embed_pending(
    store: SQLiteStore, progress: bool = False, batch: int = BATCH, limit: int | None = None, index_after: int = 0
) -> EmbedReport:
    """Embed every paper that needs it, then bring the saved vector index up to date.

    ``progress`` shows a bar with rate and ETA on stderr. ``limit`` stops
    after that many papers (the rest stay pending). ``index_after`` leaves
    the saved index as it is until that many vectors changed since it was
    saved (searches see them anyway). KeyboardInterrupt is re-raised after
    the batches already done are safely stored.
    """
    enc = encoder()
    model = model_key(enc)
    if model != current_model():
        raise RuntimeError(f"encoder {model} is not the default {current_model()}")
    vectors = Vectors(store)
    report = EmbedReport(model)
    start = time.perf_counter()
    todo = vectors.pending(model, text_hash)
    report.pending, report.missing, report.changed = len(todo.rowids), todo.missing, todo.changed
    rowids = todo.rowids[:limit] if limit is not None else todo.rowids
    bar = _bar(len(rowids), "embedding", progress)
    try:
        for i in range(0, len(rowids), batch):
            chunk = rowids[i : i + batch]
            texts = vectors.texts(chunk)
            keys = [r for r in chunk if r in texts]
            vecs = enc.encode([paper_text(*texts[r]) for r in keys])
            vectors.save(model, keys, [text_hash(*texts[r]) for r in keys], vecs)
            report.embedded += len(keys)
            bar.update(len(chunk))
            if report.embedded % SAVE_EVERY < len(keys) and report.embedded < len(rowids):
                report.indexed += vector_index(store).update()  # keeps searches' exact backlog small
        if limit is None or limit >= len(todo.rowids):
            vectors.mark_checked(model, todo.checked_seq)
    except KeyboardInterrupt:
        report.interrupted = True
        raise
    finally:
        bar.close()
        report.seconds = time.perf_counter() - start
    index = vector_index(store)
    ibar = _bar(None, "vector index", progress)
    report.indexed += index.update(progress=ibar.update, min_changes=index_after)
    ibar.close()
    report.seconds = time.perf_counter() - start
    return report


def _bar(total: int | None, desc: str, show: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" papers", disable=not show, file=sys.stderr, smoothing=0.1)


def embed_status(store: SQLiteStore) -> dict[str, Any]:
    """How far embedding is: papers, embedded with the current model, pending, in the vector index."""
    model = current_model()
    vectors = Vectors(store)
    todo = vectors.pending(model, text_hash)
    models = vectors.models()
    return {
        "model": model, "papers": store.count(), "embedded": models.get(model, 0), "pending": len(todo.rowids),
        "missing": todo.missing, "changed": todo.changed, "indexed": len(vector_index(store)),
        "other_models": {m: n for m, n in models.items() if m != model},
    }  # fmt: skip


def start_background_embedding(store: SQLiteStore, on_done: Any = None) -> threading.Thread:
    """Embed what is pending in a daemon thread (``serve``: the site is up while vectors are made).

    Searches use the vectors as they are committed; ``on_done`` gets the
    report, or the exception if embedding failed.
    """

    def work() -> None:
        try:
            result: Any = embed_pending(store)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, never kills the server
            result = exc
        finally:
            store.close()  # this thread's connection
        if on_done is not None:
            on_done(result)

    thread = threading.Thread(target=work, name="paperradar-embed", daemon=True)
    thread.start()
    return thread
