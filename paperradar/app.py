"""The running system: one object that owns the store and every index derived from it.

:class:`Radar` is built once from ``--db`` (by the CLI, by ``serve``) and
handed to every surface; rankers take it to reach the keyword index, the
vector index and the encoder. Nothing is found through module globals.

The store is the truth; the keyword index, the document vectors, the vector
index and the sentence vectors are derived from it. :meth:`Radar.refresh`
is the one place that brings them up to date (``import``, ``sync``,
``serve``, ``embed`` and ``search`` all call it); an import streams its rows
into the keyword index through :meth:`Radar.indexing`, which belongs to the
same bookkeeping. An index folder made from another database (a restored
backup next to a newer index) is rebuilt, never served: see
:mod:`paperradar.store.marks`.

A database or index folder that cannot be written (a read-only copy) is
served as it is: :meth:`Radar.refresh` leaves a keyword index that is behind
alone and says so once on stderr, while whatever must write (an import,
embedding) stops with a :class:`~paperradar.store.StorageFault` before it
starts. A write that fails midway (a full disk) leaves the indexes at their
last commit, which the store's marks describe, so the next run catches up.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import Settings
from .index.embed import (
    Batches,
    EmbedReport,
    current_model,
    embed_documents,
    embed_sentences,
    model_key,
    progress_bar,
    text_hash,
)
from .index.encoder import DIM, Encoder
from .index.keyword import MARK, META_SEQ, IndexBusy, KeywordIndex, index_dir
from .index.vectors import VectorIndex
from .store import MergeResult, StorageFault, Store, on_server, open_store

if TYPE_CHECKING:
    from .index.pg_vectors import PgVectorIndex

SAVE_EVERY = 20_480  # a long embedding run saves the vector index this often, so searches meanwhile stay fast
FOREIGN_WAIT = 600.0  # seconds to wait for the index writer when an index must be rebuilt before use

log = logging.getLogger("paperradar")


@dataclass
class Refreshed:
    """What one :meth:`Radar.refresh` did."""

    keyword: int = 0  # papers (re)indexed by keyword
    embedding: EmbedReport | None = None


class Radar:
    """The store, its keyword index, its vector index, the encoder and the settings, opened once and shared."""

    def __init__(self, store: Store, encoder: Encoder | None = None, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        self._encoder = encoder
        self._keyword: KeywordIndex | None = None
        self._vectors: VectorIndex | PgVectorIndex | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._opening = threading.Lock()
        self.embedding: EmbedReport | None = None  # the embedding run in progress (serve --embed), if any
        self._stale_noted = False  # said once that a read-only keyword index is behind
        self.recommender: Any = None  # rank/recommend.py's caches (background, candidates, models), made on first use

    @classmethod
    def open(cls, location: str, settings: Settings | None = None) -> Radar:
        """The system over the database at ``location`` (a path or URL; see :func:`open_store`)."""
        return cls(open_store(location), settings=settings)

    def close(self) -> None:
        """Close this thread's database connection and the search threads (indexes need no closing)."""
        self.store.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    # -- the parts ------------------------------------------------------------

    @property
    def keyword(self) -> KeywordIndex:
        """The keyword index beside the database, opened on first use; one made from another
        database is rebuilt before it is first served. On PostgreSQL the database's own text index
        (:class:`~.index.pg_keyword.PgKeywordIndex`: nothing beside it, nothing to catch up)."""
        if self._keyword is not None:  # the common case, without the lock
            return self._keyword
        with self._opening:
            if self._keyword is not None:
                return self._keyword
            if self.on_server:  # the text index is in the database (index/pg_keyword.py)
                from .index.pg_keyword import PgKeywordIndex

                self._keyword = PgKeywordIndex(self.store)  # type: ignore[assignment]
                return self._keyword  # type: ignore[return-value]
            index = KeywordIndex(index_dir(self.store.path))
            if self._keyword_foreign(index):
                fault = self._keyword_unwritable(index)
                if fault is not None:  # never served, and it cannot be rebuilt here
                    raise StorageFault(fault.path, fault.cause, f"the keyword index {index.path} was made from "
                                       "another database and must be rebuilt")
                with self._writing(index, FOREIGN_WAIT):
                    self._catch_up_keyword(index, True, None)
            self._keyword = index
            return index

    @property
    def vectors(self) -> VectorIndex | PgVectorIndex:
        """The current model's vector index (opened on first use, no model loaded): beside the database
        file, or on PostgreSQL the database's own pgvector index (index/pg_vectors.py)."""
        if self._vectors is not None:
            return self._vectors
        with self._opening:
            if self._vectors is None:
                self._vectors = self._open_vectors()
            return self._vectors

    def _open_vectors(self) -> VectorIndex | PgVectorIndex:
        if self.on_server:  # pgvector's index in the database; imported only then (psycopg)
            from .index.pg_vectors import PgVectorIndex

            return PgVectorIndex(self.store, current_model(), DIM)  # type: ignore[arg-type]
        return VectorIndex(self.store, current_model(), DIM)

    @property
    def on_server(self) -> bool:
        """Whether the store is a server database (PostgreSQL): its indexes live in it, not in folders
        beside a file."""
        return on_server(self.store.path)

    @property
    def encoder(self) -> Encoder:
        """The text encoder (loaded on first use: semantic queries, embedding)."""
        if self._encoder is not None:
            return self._encoder
        with self._opening:
            if self._encoder is None:
                self._encoder = Encoder.load()
            return self._encoder

    @property
    def pool(self) -> ThreadPoolExecutor:
        """Threads for the parts of a search that run beside the caller's (hybrid's vector half, a long
        question's any-word search): the encoder and both indexes release the GIL."""
        if self._pool is not None:
            return self._pool
        with self._opening:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1),
                                                thread_name_prefix="paperradar-search")
            return self._pool

    @property
    def model(self) -> str:
        """The current model's key, known without loading it."""
        return current_model()

    # -- bringing derived indexes up to date -------------------------------------

    def refresh(self, embed: bool = False, progress: bool = False, limit: int | None = None,
                index_after: int = 0, wait: float = 0.0, batches: Batches | None = None) -> Refreshed:
        """Bring every derived index up to date with the database; the only code that does.

        On PostgreSQL the database keeps both indexes current as it is written; what is left is
        what a ``paperradar copy`` moved without: the text column and its GIN index, the
        ``halfvec`` copies and their HNSW index (minutes at a million papers), made here so that
        no search meets them.

        Always: the keyword index indexes what it has not seen (skipped, not
        waited for, when another process is writing it, unless ``wait``
        seconds are given), and an index made from another database is
        rebuilt first. With ``embed``: document vectors for papers that lack
        a current one (at most ``limit``), the vector index (left alone until
        ``index_after`` vectors changed since it was saved), then the
        sentence vectors of similar papers. ``progress`` shows bars on stderr.
        ``batches`` computes the vectors elsewhere (``embed --ray``:
        :mod:`paperradar.index.embed_ray`); by default this process's encoder.
        Embedding a store that cannot be written stops at once, before the
        model is loaded: every vector it made would have to be stored.
        """
        if embed and self.store.read_only:
            raise StorageFault(self.store.path, self.store.read_only)
        done = Refreshed(keyword=self._refresh_keyword(progress, wait))
        if self.on_server and getattr(self.store, "pgvector", False):
            self.vectors.refresh()  # the halfvec copies and HNSW index a `paperradar copy` left to make
        if embed:
            done.embedding = self._embed(progress, limit, index_after, batches)
        return done

    @contextmanager
    def indexing(self) -> Iterator[ImportIndexing]:
        """An import's hold on the keyword index: caught up first, each stored batch added as it
        lands (so indexing overlaps parsing), committed and stamped at the end; one import at a time.
        A read-only database or index folder stops it before anything is read."""
        if self.store.read_only:
            raise StorageFault(self.store.path, self.store.read_only)
        index = self.keyword
        with self._writing(index, FOREIGN_WAIT):  # one writer at a time: wait for another import to finish
            self._catch_up_keyword(index, self._keyword_foreign(index), None)
            session = ImportIndexing(self, index)
            yield session
            if session.added and not getattr(index, "in_database", False):
                index.commit()
                self._keyword_saved(index, self.store.max_seq())

    @contextmanager
    def _writing(self, index: KeywordIndex, wait: float) -> Iterator[None]:
        """Hold the keyword index's writer: released (merges done) and the readers reloaded at the end;
        after a failure (a full disk) dropped uncommitted, so the index stays at its last commit, which
        the store's seq mark describes, and the next writer catches up from there."""
        index.writer(wait=wait)
        try:
            yield
        except BaseException:
            index.abandon()
            raise
        index.close()
        index.refresh()

    def _refresh_keyword(self, progress: bool, wait: float) -> int:
        index = self.keyword
        if getattr(index, "in_database", False):
            return 0  # the database keeps its own text index current
        foreign = self._keyword_foreign(index)
        if not foreign and not self._keyword_behind(index):
            return 0
        fault = self._keyword_unwritable(index)
        if fault is not None:
            self._note_stale(fault)
            return 0
        try:
            index.writer(wait=max(wait, FOREIGN_WAIT if foreign else 0.0))
        except IndexBusy:
            return 0  # an import is writing it and indexes these papers itself
        with self._writing(index, 0.0):
            bar = progress_bar(None, "keyword index", progress)
            done = self._catch_up_keyword(index, foreign, bar.update)
            bar.close()
        return done

    def _keyword_unwritable(self, index: KeywordIndex) -> StorageFault | None:
        """Why the keyword index cannot be brought up to date here (None: it can): the database or the
        index folder is read-only. Asked before writing, so a read-only copy is served as it is."""
        if self.store.read_only:
            return StorageFault(self.store.path, self.store.read_only)
        if index.read_only:
            return StorageFault(str(index.path), index.read_only)
        return None

    def _note_stale(self, fault: StorageFault) -> None:
        """Say once (stderr, through logging) that search serves a keyword index that is behind."""
        if not self._stale_noted:
            self._stale_noted = True
            log.warning("paperradar: the keyword index is behind the database and cannot be brought up to "
                        "date (%s): search finds the papers it holds", fault)

    def _catch_up_keyword(self, index: KeywordIndex, foreign: bool, progress: Callable[[int], Any] | None) -> int:
        """Index every row the index has not seen (all of them for a foreign index); safe to repeat.

        A row is replaced (deleted, then added) so a catch-up after a crash that
        came between the index commit and the seq record indexes nothing twice.
        """
        if getattr(index, "in_database", False):
            return 0  # PostgreSQL: indexed by the database as it is written
        seq = 0 if foreign else int(self.store.get_meta(META_SEQ, "0") or 0)
        if seq and index.count() == 0:
            seq = 0  # the index directory was removed: rebuild it all
        if foreign:
            index.clear()
        target = self.store.max_seq()
        if target <= seq and not foreign:
            return 0
        done = 0
        replace = not foreign and index.count() > 0  # rows may be in the index already (a crash after its commit)
        for batch in self.store.changed_since(seq):
            index.add(batch, replace=replace)
            done += len(batch)
            if progress is not None:
                progress(len(batch))
        index.commit()
        self._keyword_saved(index, target)
        return done

    def _keyword_saved(self, index: KeywordIndex, seq: int) -> None:
        """Record a committed keyword index: position and mark in the database, then the stamp beside it."""
        token = uuid.uuid4().hex
        with self.store.write() as conn:
            self.store.set_meta(META_SEQ, str(seq), conn)
            self.store.add_index_mark(MARK, token, seq, conn)
        index.write_stamp(token)

    def _keyword_foreign(self, index: KeywordIndex) -> bool:
        """Whether the keyword index holds documents that were not made from this database."""
        if getattr(index, "in_database", False):
            return False
        token = index.stamp()
        if token is None:
            return index.count() > 0
        return not self.store.has_index_mark(MARK, token)

    def _keyword_behind(self, index: KeywordIndex) -> bool:
        """True when the store holds rows the index has not seen (cheap: two small reads)."""
        seq = int(self.store.get_meta(META_SEQ, "0") or 0)
        return self.store.max_seq() > seq or (seq > 0 and index.count() == 0)

    def _embed(self, progress: bool, limit: int | None, index_after: int, batches: Batches | None) -> EmbedReport:
        # elsewhere, each worker checks that its encoder is the current model (index/embed_ray.py)
        steps: Encoder | Batches = batches if batches is not None else self.encoder
        report = EmbedReport(current_model() if batches is not None else model_key(self.encoder))
        if report.model != current_model():
            raise RuntimeError(f"encoder {report.model} is not the default {current_model()}")
        self.embedding = report
        started = time.perf_counter()

        def save_index() -> None:
            report.indexed += self.vectors.update()  # keeps searches' exact backlog small

        try:
            embed_documents(self.store, steps, report, progress, limit=limit, every=(SAVE_EVERY, save_index))
            report.begin("vector index", 0)
            bar = progress_bar(None, "vector index", progress)
            report.indexed += self.vectors.update(progress=bar.update, min_changes=index_after)
            bar.close()
            report.seconds = time.perf_counter() - started
            embed_sentences(self.store, steps, report, progress, limit=limit)
            report.begin("done", 0)
        except KeyboardInterrupt:
            report.interrupted = True
            raise
        finally:
            report.seconds = report.seconds or time.perf_counter() - started
            self.embedding = None
        return report

    def refresh_in_background(self, on_done: Callable[[Any], None] | None = None) -> threading.Thread:
        """:meth:`refresh` with embedding in a daemon thread (``serve --embed``: the site is up meanwhile).

        Searches use the vectors as they are committed; ``on_done`` gets the
        embedding report, or the exception if it failed.
        """

        def work() -> None:
            try:
                result: Any = self.refresh(embed=True).embedding
            except Exception as exc:  # noqa: BLE001 - reported to the caller, never kills the server
                result = exc
            finally:
                self.store.close()  # this thread's connection
            if on_done is not None:
                on_done(result)

        thread = threading.Thread(target=work, name="paperradar-embed", daemon=True)
        thread.start()
        return thread

    # -- how far the derived data is ------------------------------------------------

    def embedding_progress(self) -> dict[str, Any] | None:
        """What the embedding running in this process has done (None when none runs): how much of the
        store semantic search covers, the phase, and the time left at the rate so far (for the web app)."""
        report = self.embedding
        if report is None:
            return None
        papers, embedded = self.store.count(), self.store.vector_count(self.model)
        eta = report.eta_seconds()
        return {
            "phase": report.phase, "papers": papers, "embedded": embedded,
            "covered": round(embedded / papers, 4) if papers else 1.0,
            "phase_done": report.phase_done, "phase_total": report.phase_total,
            "eta_seconds": round(eta) if eta is not None else None,
        }  # fmt: skip

    def embed_status(self) -> dict[str, Any]:
        """How far embedding is: papers, embedded with the current model, pending, in the vector index."""
        model = self.model
        todo = self.store.pending_vectors(model, text_hash)
        models = self.store.vector_models()
        return {
            "model": model, "papers": self.store.count(), "embedded": models.get(model, 0),
            "pending": len(todo.rowids), "missing": todo.missing, "changed": todo.changed,
            "sentences": self.store.sentence_vector_count(model),
            "sentences_pending": self.store.count_sentences_pending(model),
            "indexed": len(self.vectors),
            "other_models": {m: n for m, n in models.items() if m != model},
        }  # fmt: skip


class ImportIndexing:
    """What an import holds while it writes: add each stored batch's rows, or catch up after a
    one-transaction (``--strict``) import."""

    def __init__(self, radar: Radar, index: KeywordIndex) -> None:
        self._radar = radar
        self._index = index
        self.added = False

    def add(self, result: MergeResult) -> None:
        """Index the rows one merged batch wrote (replacing older copies only when some were updated)."""
        if result.rows:
            self._index.add(result.rows, replace=result.updated > 0)
            self.added = True

    def catch_up(self) -> None:
        """Index whatever the store holds that the index lacks (after a --strict import's commit)."""
        self._radar._catch_up_keyword(self._index, False, None)

