"""Embedding the store: which papers need a vector, computing them in batches.

Two passes, each committed a batch at a time so an interrupted run (Ctrl-C,
kill -9) keeps every finished batch and the next run goes on with the rest:

1. document vectors (title + abstract, first 96 tokens): what semantic
   search, hybrid search and the shortlist of similar papers need;
2. sentence vectors (the title and each sentence of the abstract): what the
   last stage of similar papers compares. About three times the text of
   pass 1, so it runs after it: search by meaning works as soon as pass 1 is
   done, and no page computes vectors while it answers.

:meth:`paperradar.app.Radar.refresh` runs both and then updates the vector
index. The vectors are computed by the encoder in this process, or by any
:class:`Batches` (``embed --ray``: :mod:`.embed_ray` runs each batch as a Ray
task); the store is read and written here either way, with the same calls.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

from ..store import Store
from .encoder import MODEL_NAME, Encoder, Settings, model_package_version
from .sentences import units

BATCH = 512  # papers per committed batch: about 3 s of work on 2 cores
SENTENCE_BATCH = 256  # papers per committed batch of sentence vectors (about 8 sentences each)
CHUNK_WORDS = 80  # about the 96 tokens the encoder keeps

K = TypeVar("K")  # what a job carries beside its texts, handed back with its vectors


def model_key(enc: Encoder) -> str:
    """What is stored with every vector: a different key means the vector must be recomputed."""
    return f"{enc.name}@{enc.version}"


def current_model() -> str:
    """The default encoder's key, known without loading it (a store with no vectors costs nothing)."""
    return f"{MODEL_NAME}@{model_package_version()}/{Settings().tag()}"


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is embedded from: its title, then its abstract."""
    return f"{title.strip()}. {' '.join(abstract.split())}" if abstract.strip() else title.strip()


def text_hash(title: str, abstract: str) -> str:
    return hashlib.sha1(paper_text(title, abstract).encode("utf-8")).hexdigest()[:20]


def text_vector(enc: Encoder, text: str) -> np.ndarray:
    """One unit vector for a whole text, however long: the mean of its 80-word pieces' vectors.

    Stored paper vectors see the first 96 tokens; a query (a pasted
    abstract, or the paper ``similar`` starts from) is embedded whole, once.
    """
    words = text.split()
    pieces = [" ".join(words[i : i + CHUNK_WORDS]) for i in range(0, len(words), CHUNK_WORDS)] or [""]
    vector = enc.encode_query(pieces[0]) if len(pieces) == 1 else enc.encode(pieces).mean(axis=0)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


@dataclass
class EmbedReport:
    model: str
    pending: int = 0  # papers that needed a vector when the run began
    missing: int = 0  # of them: no vector of this model yet
    changed: int = 0  # of them: title or abstract changed since embedded
    embedded: int = 0
    sentences: int = 0  # papers whose sentence vectors were computed (pass 2)
    indexed: int = 0  # vectors the ANN index applied
    seconds: float = 0.0
    sentence_seconds: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)
    # what a running embedding is doing, for those watching it (serve --embed: /api/stats, notices)
    phase: str = "starting"  # "documents", "vector index", "sentences", "done"
    phase_total: int = 0  # papers this phase has to do
    phase_done: int = 0
    phase_started: float = field(default_factory=time.monotonic)

    def begin(self, phase: str, total: int) -> None:
        self.phase, self.phase_total, self.phase_done, self.phase_started = phase, total, 0, time.monotonic()

    def advance(self, papers: int) -> None:
        self.phase_done += papers

    def eta_seconds(self) -> float | None:
        """Seconds left in this phase at its rate so far (None until a batch is done)."""
        spent = time.monotonic() - self.phase_started
        if not self.phase_done or spent <= 0:
            return None
        return max(self.phase_total - self.phase_done, 0) * spent / self.phase_done

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model, "pending": self.pending, "missing": self.missing, "changed": self.changed,
            "embedded": self.embedded, "sentences": self.sentences, "indexed": self.indexed,
            "seconds": round(self.seconds, 3), "sentence_seconds": round(self.sentence_seconds, 3),
            "papers_per_second": round(self.embedded / self.seconds, 1) if self.seconds and self.embedded else None,
            "interrupted": self.interrupted,
        }  # fmt: skip


@runtime_checkable
class Batches(Protocol):
    """Where batches of texts become vectors: here (:class:`InProcess`) or elsewhere (a Ray cluster).

    ``map`` takes ``(key, texts)`` jobs and yields ``(key, vectors)``, one
    unit vector per text, in any order; it pulls the next job only when it
    has room for it, so the caller reads texts from the store as they are
    needed and memory stays flat however many papers are pending.
    """

    def map(self, jobs: Iterable[tuple[K, list[str]]]) -> Iterator[tuple[K, np.ndarray]]: ...


class InProcess:
    """Each batch encoded here, in order, as soon as it is read (plain ``embed``)."""

    def __init__(self, enc: Encoder) -> None:
        self.enc = enc

    def map(self, jobs: Iterable[tuple[K, list[str]]]) -> Iterator[tuple[K, np.ndarray]]:
        for key, texts in jobs:
            yield key, self.enc.encode(texts)


def _batches(enc: Encoder | Batches) -> Batches:
    return enc if isinstance(enc, Batches) else InProcess(enc)


def embed_documents(store: Store, enc: Encoder | Batches, report: EmbedReport, progress: bool = False,
                    batch: int | None = None, limit: int | None = None,
                    every: tuple[int, Callable[[], Any]] | None = None) -> None:
    """Pass 1: a document vector for every paper that lacks one of ``report.model`` or whose text changed.

    ``enc`` is the encoder, or :class:`Batches` that compute elsewhere (the
    store is read and written here either way, one committed batch at a
    time, in the order the batches finish); ``limit`` stops after that many
    papers (the rest stay pending); ``every = (n, call)`` calls ``call``
    after about every ``n`` papers (the caller saves the vector index then,
    so searches meanwhile stay fast).
    """
    batch = batch or BATCH  # read at call time: a test may shrink it
    todo = store.pending_vectors(report.model, text_hash)
    report.pending, report.missing, report.changed = len(todo.rowids), todo.missing, todo.changed
    rowids = todo.rowids[:limit] if limit is not None else todo.rowids
    report.begin("documents", len(rowids))
    bar = progress_bar(len(rowids), "embedding", progress)

    def jobs() -> Iterator[tuple[tuple[int, list[int], list[str]], list[str]]]:
        for i in range(0, len(rowids), batch):
            chunk = rowids[i : i + batch]
            texts = store.paper_texts(chunk)
            keys = [r for r in chunk if r in texts]  # a paper removed meanwhile is skipped
            yield (len(chunk), keys, [text_hash(*texts[r]) for r in keys]), [paper_text(*texts[r]) for r in keys]

    try:
        for (size, keys, hashes), vecs in _batches(enc).map(jobs()):
            store.save_vectors(report.model, keys, hashes, vecs)
            report.embedded += len(keys)
            report.advance(size)
            bar.update(size)
            if every and report.embedded % every[0] < len(keys) and report.embedded < len(rowids):
                every[1]()
        if limit is None or limit >= len(todo.rowids):
            store.mark_vectors_checked(report.model, todo.checked_seq)
    finally:
        bar.close()


def embed_sentences(store: Store, enc: Encoder | Batches, report: EmbedReport, progress: bool = False,
                    batch: int | None = None, limit: int | None = None) -> None:
    """Pass 2: sentence vectors for every paper whose document vector is newer than its sentence vectors.

    Papers are read in rowid order after a cursor, so a batch still being
    computed elsewhere is never read twice; one that was not stored when a
    run stopped is pending again for the next.
    """
    batch = batch or SENTENCE_BATCH  # read at call time: a test may shrink it
    started = time.perf_counter()
    total = store.count_sentences_pending(report.model)
    report.begin("sentences", total if limit is None else min(total, limit))
    bar = progress_bar(total if limit is None else min(total, limit), "sentences", progress)

    def jobs() -> Iterator[tuple[tuple[int, list[tuple[int, str, list[str]]]], list[str]]]:
        after = read = 0
        while limit is None or read < limit:
            want = batch if limit is None else min(batch, limit - read)
            chunk = store.sentences_pending(report.model, after=after, limit=want)
            if not chunk:
                return
            after, read = chunk[-1], read + len(chunk)
            split = sentence_units(store.paper_texts(chunk))
            yield (len(chunk), split), [u for _, _, us in split for u in us]

    try:
        for (size, split), vectors in _batches(enc).map(jobs()):
            store.save_sentence_vectors(report.model, sentence_rows(split, vectors))
            report.sentences += size
            report.advance(size)
            bar.update(size)
    finally:
        bar.close()
        report.sentence_seconds += time.perf_counter() - started


def sentence_units(papers: dict[int, tuple[str, str]]) -> list[tuple[int, str, list[str]]]:
    """(rowid, text hash, the texts of its units: title and each sentence) for rowid -> (title, abstract)."""
    return [(rowid, text_hash(t, a), units(t, a)) for rowid, (t, a) in papers.items()]


def sentence_rows(split: list[tuple[int, str, list[str]]], vectors: np.ndarray) -> list[tuple[int, str, np.ndarray]]:
    """(rowid, text hash, one vector per unit): ``vectors`` holds every unit's vector, in ``split``'s order."""
    items, at = [], 0
    for rowid, h, us in split:
        items.append((rowid, h, vectors[at : at + len(us)]))
        at += len(us)
    return items


def progress_bar(total: int | None, desc: str, show: bool) -> Any:
    """A tqdm bar on stderr (rate and ETA); a no-op unless ``show``."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" papers", disable=not show, file=sys.stderr, smoothing=0.1)
