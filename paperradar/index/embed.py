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
index; nothing else calls these functions.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..store import Store
from .encoder import MODEL_NAME, Encoder, Settings, model_package_version
from .sentences import units

BATCH = 512  # papers per committed batch: about 3 s of work on 2 cores
SENTENCE_BATCH = 256  # papers per committed batch of sentence vectors (about 8 sentences each)
CHUNK_WORDS = 80  # about the 96 tokens the encoder keeps


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


def embed_documents(store: Store, enc: Encoder, report: EmbedReport, progress: bool = False,
                    batch: int | None = None, limit: int | None = None,
                    every: tuple[int, Callable[[], Any]] | None = None) -> None:
    """Pass 1: a document vector for every paper that lacks one of ``report.model`` or whose text changed.

    ``limit`` stops after that many papers (the rest stay pending);
    ``every = (n, call)`` calls ``call`` after about every ``n`` papers (the
    caller saves the vector index then, so searches meanwhile stay fast).
    """
    batch = batch or BATCH  # read at call time: a test may shrink it
    todo = store.pending_vectors(report.model, text_hash)
    report.pending, report.missing, report.changed = len(todo.rowids), todo.missing, todo.changed
    rowids = todo.rowids[:limit] if limit is not None else todo.rowids
    report.begin("documents", len(rowids))
    bar = progress_bar(len(rowids), "embedding", progress)
    try:
        for i in range(0, len(rowids), batch):
            chunk = rowids[i : i + batch]
            texts = store.paper_texts(chunk)
            keys = [r for r in chunk if r in texts]
            vecs = enc.encode([paper_text(*texts[r]) for r in keys])
            store.save_vectors(report.model, keys, [text_hash(*texts[r]) for r in keys], vecs)
            report.embedded += len(keys)
            report.advance(len(chunk))
            bar.update(len(chunk))
            if every and report.embedded % every[0] < len(keys) and report.embedded < len(rowids):
                every[1]()
        if limit is None or limit >= len(todo.rowids):
            store.mark_vectors_checked(report.model, todo.checked_seq)
    finally:
        bar.close()


def embed_sentences(store: Store, enc: Encoder, report: EmbedReport, progress: bool = False,
                    batch: int = SENTENCE_BATCH, limit: int | None = None) -> None:
    """Pass 2: sentence vectors for every paper whose document vector is newer than its sentence vectors."""
    started = time.perf_counter()
    total = store.count_sentences_pending(report.model)
    report.begin("sentences", total if limit is None else min(total, limit))
    bar = progress_bar(total if limit is None else min(total, limit), "sentences", progress)
    after = 0
    try:
        while limit is None or report.sentences < limit:
            want = batch if limit is None else min(batch, limit - report.sentences)
            chunk = store.sentences_pending(report.model, after=after, limit=want)
            if not chunk:
                break
            after = chunk[-1]
            texts = store.paper_texts(chunk)
            store.save_sentence_vectors(report.model, sentence_items(enc, texts))
            report.sentences += len(chunk)
            report.advance(len(chunk))
            bar.update(len(chunk))
    finally:
        bar.close()
        report.sentence_seconds += time.perf_counter() - started


def sentence_items(enc: Encoder, papers: dict[int, tuple[str, str]]) -> list[tuple[int, str, np.ndarray]]:
    """(rowid, text hash, one unit vector per unit) for papers given as rowid -> (title, abstract)."""
    split = [(rowid, text_hash(t, a), units(t, a)) for rowid, (t, a) in papers.items()]
    vectors = enc.encode([u for _, _, us in split for u in us])
    items, at = [], 0
    for rowid, h, us in split:
        items.append((rowid, h, vectors[at : at + len(us)]))
        at += len(us)
    return items


def progress_bar(total: int | None, desc: str, show: bool) -> Any:
    """A tqdm bar on stderr (rate and ETA); a no-op unless ``show``."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=" papers", disable=not show, file=sys.stderr, smoothing=0.1)
