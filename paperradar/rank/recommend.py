"""For you: a day's papers ranked for one reader by a model of what they keep, each saying why.

**The model** (:func:`train`) is a linear SVM per reader (scikit-learn's
``LinearSVC``, as arxiv-sanity-lite does) over sparse term features: the
paper's title (twice) and abstract, unigrams and bigrams hashed into 2^20
columns, sublinear tf times idf^1.5 (rare terms: the method, data set and
instrument names a reader's papers share weigh more than plain idf says),
unit length. Positives are the reader's library and upvotes; negatives are
the papers they hid (weighted :data:`HIDDEN_WEIGHT` times) and a fixed random
sample of the store (the *background*, whose document frequencies are also
the idf). At ranking time the SVM's score, put on the background's scale, is
joined by

- **nearest saved papers**: each candidate's MiniLM cosine to each positive,
  as a z-score against that positive's cosines to the background (a saved
  paper in a crowded field is close to everything; one in a quiet corner is
  not), the best of them (``Tuning.vector``);
- **category prior**: the log-ratio of how often the candidate's best
  category occurs in the library and in the background (``Tuning.category``);
- **authors**: a candidate sharing an author with the library or by a
  followed author (``Tuning.author``); followed categories and the words of
  saved searches (``Tuning.follow``);
- **hidden papers**: a candidate whose vector is within :data:`TWIN` of a
  hidden paper is a near twin of it and is dropped; a milder closeness
  lowers the score (``Tuning.hidden``).

Why each idea is in, and what the others measured, is in
docs/recommendations.md (``paperradar eval recs``; the weights were chosen on
the recs-dev set, nothing here knows a task, user or id of it).

**Why**: each ranked paper names the two or three positives it is closest
to (MiniLM cosine; term cosine where a paper has no vector) and the terms
that add most to its SVM score (weight x tf-idf, read back from its text).

**Speed**: everything that does not depend on the reader is computed once
per process and kept on the :class:`~paperradar.app.Radar`
(``radar.recommender``): the background (term statistics and negatives),
and the term rows and vectors of each batch of candidates (a day's papers:
the same for every reader). Trained models are kept by (reader, fingerprint
of their signals), so a request re-ranks without retraining; a changed
library, upvote, hidden paper or follow changes the fingerprint. Any change
to the papers (the store's ``max_seq``) drops the cached candidate rows.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
from scipy import sparse

from ..app import Radar
from ..store import Store, StoredPaper
from .authors import fold
from .ranked import Ranked
from .trending import trending

N_FEATURES = 2**20  # hashed term columns: few collisions among the terms of one reader's papers
BACKGROUND = 3000  # papers whose document frequencies give the idf (more measured no better)
NEGATIVES = 1000  # of them, the sampled negatives of every model
SEED = 20260401  # the background is the same sample in every process over the same store
MIN_POSITIVES = 3  # fewer: cold start (trending papers in the followed categories)
HIDDEN_WEIGHT = 3.0  # a hidden paper counts as this many sampled negatives
TWIN = 0.92  # MiniLM cosine at or above which a candidate is a near twin of a hidden paper: dropped
TWIN_TERMS = 0.8  # the same on term vectors, for papers without a vector
HIDDEN_NEAR = 0.75  # from this cosine to a hidden paper up to TWIN, the score is lowered (Tuning.hidden)
NEAR = 3  # saved papers named in why: the closest always, the next ones when they are close too:
NEAR_FLOOR = 0.3  # cosine at or above which a saved paper is close ...
NEAR_SPREAD = 0.1  # ... or within this of the closest
TERMS = 5  # terms named in why
MAX_CANDIDATES = 5000  # papers of one day read at most
MAX_MODELS = 256  # trained models kept per process (least recently used dropped; a few MB each at most)
MAX_BATCHES = 8  # candidate batches kept (a few days' papers)
DEFAULT_LIMIT = 50

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern


@dataclass(frozen=True)
class Tuning:
    """Every constant of the ranking, in one place (what ``eval recs`` measured; see the module doc)."""

    C: float = 0.1  # SVM regularisation (0.01 to 1: the same MRR to three decimals; see the docs)
    idf_power: float = 1.5
    title_repeat: int = 2
    vector: float = 0.2  # weight of the best nearest-saved-paper z-score (SVM score has weight 1)
    category: float = 0.1  # weight of the category log-ratio
    author: float = 1.0  # shares an author with the library, or by a followed author
    follow: float = 0.5  # in a followed category / has every word of a saved search
    hidden: float = 1.0  # subtracted at TWIN, in proportion from HIDDEN_NEAR (nothing below it)


DEFAULT = Tuning()


@dataclass
class Signals:
    """What the store says of a reader's taste: positives and negatives as rowids, and their follows."""

    positives: list[int]  # saved (library, imports) and upvoted papers
    negatives: list[int]  # hidden papers: strong negatives
    authors: list[str] = field(default_factory=list)  # followed authors (names)
    categories: list[str] = field(default_factory=list)  # followed categories
    searches: list[str] = field(default_factory=list)  # saved searches (queries)
    saved: int = 0
    upvoted: int = 0

    @property
    def exclude(self) -> set[int]:
        """Never recommended: what the reader already has or hid."""
        return set(self.positives) | set(self.negatives)

    def fingerprint(self) -> str:
        """Changes whenever anything the model learns from changes."""
        text = repr((sorted(set(self.positives)), sorted(set(self.negatives)), sorted(self.authors),
                     sorted(self.categories), sorted(self.searches)))
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Model:
    """A reader's trained model: the SVM's term weights and what ranking and why need of the positives."""

    positives: np.ndarray  # rowids
    negatives: np.ndarray  # hidden rowids
    cols: np.ndarray  # hashed term columns with a weight (sorted)
    weights: np.ndarray  # their SVM weights
    intercept: float
    scale: tuple[float, float]  # mean and spread of the SVM score over the background
    pos_rows: dict[int, tuple[str, str]]  # rowid -> (id, title): what why names
    pos_x: sparse.csr_matrix  # term rows of the positives (why's nearness without vectors)
    pos_v: np.ndarray | None  # their MiniLM vectors (rows of positives with one: pos_v_rows)
    pos_v_rows: np.ndarray
    pos_v_stats: tuple[np.ndarray, np.ndarray] | None  # per positive: mean, spread of its cosines to the background
    hid_x: sparse.csr_matrix
    hid_v: np.ndarray | None
    categories: dict[str, int]  # category -> how many positives are in it
    authors: frozenset[str]  # folded names: the library's authors and the followed ones
    followed_authors: frozenset[str]
    follow_categories: frozenset[str]
    searches: tuple[tuple[str, frozenset[str]], ...]  # (query, its words)
    tuning: Tuning
    generation: int  # the background it was trained against
    fingerprint: str = ""
    category_scores: dict[str, float] = field(default_factory=dict)  # filled as categories are met

    def weight_vector(self) -> np.ndarray:
        full = np.zeros(N_FEATURES, dtype=np.float32)
        full[self.cols] = self.weights
        return full


@dataclass
class ForYou:
    """A day's papers for one reader: ranked with why, or (``cold``) trending ones in their categories."""

    papers: list[Ranked]
    cold: bool
    reason: str
    day: str
    positives: int
    candidates: int  # the day's papers it was chosen from


class UnknownPapers(LookupError):
    """Ids the store does not hold (``recommend --library``)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__("no paper with id " + ", ".join(repr(i) for i in ids))
        self.ids = ids


# -- what stays between requests (on the Radar) ---------------------------------------------------------------


@dataclass
class _Background:
    """The store's random sample: idf, negatives' term rows and vectors. One per (store size, tuning)."""

    generation: int
    papers: int  # store.count() when made
    idf_power: float
    title_repeat: int
    idf: np.ndarray
    neg_rowids: np.ndarray
    neg_x: sparse.csr_matrix
    neg_v: np.ndarray | None  # vectors of the negatives that have one
    categories: dict[str, float]  # category -> share of background papers in it
    neg_cols: np.ndarray  # the columns the negatives use (each model trains on these and its papers')


@dataclass
class _Batch:
    """Candidates' features: term rows, vectors (zeros where missing) and stored rows, by rowid; and,
    made when first needed and kept with the batch (every reader of the day shares them), each
    paper's folded author names, words, and named terms (what why reads back)."""

    rowids: np.ndarray
    position: dict[int, int]
    x: sparse.csr_matrix
    v: np.ndarray | None
    has_v: np.ndarray
    rows: dict[int, StoredPaper]
    _authors: dict[int, frozenset[str]] = field(default_factory=dict)
    _words: dict[int, frozenset[str]] = field(default_factory=dict)
    _terms: dict[int, tuple[list[str], np.ndarray]] = field(default_factory=dict)

    def row(self, i: int) -> StoredPaper:
        return self.rows[int(self.rowids[i])]

    def authors(self, i: int) -> frozenset[str]:
        found = self._authors.get(i)
        if found is None:
            found = self._authors[i] = frozenset(fold(a) for a in self.row(i).get("authors") or [])
        return found

    def words(self, i: int) -> frozenset[str]:
        found = self._words.get(i)
        if found is None:
            row = self.row(i)
            found = self._words[i] = frozenset(_TOKEN.findall(f"{row.get('title') or ''} {row.get('abstract') or ''}".lower()))
        return found

    def terms(self, i: int) -> tuple[list[str], np.ndarray]:
        """The paper's distinct words and word pairs and their hashed columns (hashed columns have no names:
        the paper's own terms are hashed again to find them)."""
        found = self._terms.get(i)
        if found is None:
            row = self.row(i)
            words = _TOKEN.findall(f"{row.get('title') or ''} {row.get('abstract') or ''}".lower())
            names = list(dict.fromkeys(words + [f"{a} {b}" for a, b in pairwise(words)]))
            found = self._terms[i] = (names, _columns(names))
        return found


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.background: _Background | None = None
        self.generation = 0
        self.seq: int | None = None
        self.batches: OrderedDict[tuple[int, ...], _Batch] = OrderedDict()
        self.days: OrderedDict[str, list[int]] = OrderedDict()  # a day's candidates' rowids (same seq)
        self.models: OrderedDict[tuple[Any, str], Model] = OrderedDict()


def _state(radar: Radar) -> _State:
    state = getattr(radar, "recommender", None)
    if state is None:
        with _STATE_LOCK:
            state = getattr(radar, "recommender", None)
            if state is None:
                state = _State()
                radar.recommender = state
    return state


_STATE_LOCK = threading.Lock()  # only guards making a Radar's state once


def forget(radar: Radar) -> None:
    """Drop every cached model, batch and the background (tests; after a large import)."""
    radar.recommender = None


# -- terms -----------------------------------------------------------------------------------------------------


def _text(title: str | None, abstract: str | None, repeat: int) -> str:
    title = (title or "").strip()
    return ". ".join([title] * repeat + [" ".join((abstract or "").split())])


def _hasher() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(ngram_range=(1, 2), n_features=N_FEATURES, alternate_sign=False, norm=None,
                             dtype=np.float32)


def _counts(texts: Sequence[str]) -> sparse.csr_matrix:
    """Sublinear term frequencies (1 + log tf) of hashed unigrams and bigrams, one row per text."""
    if not texts:
        return sparse.csr_matrix((0, N_FEATURES), dtype=np.float32)
    x = _hasher().transform(texts).tocsr()
    x.data = 1.0 + np.log(x.data)
    return x


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Rows of tf x idf, unit length (an empty text stays a row of zeros)."""
    x = counts.copy()
    x.data *= idf[x.indices]
    lengths = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x.data /= np.repeat(np.maximum(lengths, 1e-12), np.diff(x.indptr)).astype(x.data.dtype)
    return x


def _background(radar: Radar, tuning: Tuning) -> _Background:
    """The background for this tuning, made (about a second at 3,000 papers) when missing or when the
    store has grown or shrunk by a quarter since."""
    state = _state(radar)
    store = radar.store
    papers = store.count()
    bg = state.background
    if (bg is not None and bg.idf_power == tuning.idf_power and bg.title_repeat == tuning.title_repeat
            and abs(papers - bg.papers) * 4 <= max(bg.papers, 1)):
        return bg
    with state.lock:
        bg = state.background
        if (bg is not None and bg.idf_power == tuning.idf_power and bg.title_repeat == tuning.title_repeat
                and abs(papers - bg.papers) * 4 <= max(bg.papers, 1)):
            return bg
        rowids = _sample_rowids(store, papers, BACKGROUND)
        texts = store.paper_texts(list(map(int, rowids)))
        rowids = np.array([r for r in rowids if r in texts], dtype=np.int64)
        counts = _counts([_text(*texts[int(r)], tuning.title_repeat) for r in rowids])
        n = max(len(rowids), 1)
        df = np.bincount(counts.indices, minlength=N_FEATURES)
        idf = ((np.log((n + 1) / (df + 1)) + 1.0) ** tuning.idf_power).astype(np.float32)
        take = rowids[:NEGATIVES]
        neg_x = _tfidf(counts[: len(take)], idf)
        found, vectors = store.get_vectors(radar.model, list(map(int, take)))
        cats: dict[str, int] = {}
        for row in store.rows(list(map(int, rowids))).values():
            for c in set(row.get("categories") or []):
                cats[c] = cats.get(c, 0) + 1
        state.generation += 1
        bg = _Background(state.generation, papers, tuning.idf_power, tuning.title_repeat, idf, take, neg_x,
                         vectors if len(found) else None, {c: k / n for c, k in cats.items()},
                         np.unique(neg_x.indices))
        state.background = bg
        state.batches.clear()
        state.models.clear()
        return bg


def _sample_rowids(store: Store, papers: int, want: int) -> np.ndarray:
    """Up to ``want`` rowids of stored papers in a random order, the same for the same store size (rowids
    run from 1 to about the paper count; a few past it cover deleted rows). The caller keeps those the
    store has; the first :data:`NEGATIVES` of them are the negatives."""
    span = papers + papers // 20 + 10
    rng = np.random.default_rng(SEED)
    every = np.arange(1, span + 1, dtype=np.int64)
    return rng.permutation(every) if span <= want * 1.2 else rng.choice(every, size=int(want * 1.1), replace=False)


def _forget_old(state: _State, seq: int | None) -> None:
    """Drop the cached batches and days once a paper changed (``seq`` moved); the caller holds the lock."""
    if state.seq != seq:
        state.batches.clear()
        state.days.clear()
        state.seq = seq


def _batch(radar: Radar, candidates: Sequence[int], bg: _Background,
           rows: Iterable[StoredPaper] | None = None) -> _Batch:
    """The candidates' features: from a cached batch holding them all (a day's papers, shared by every
    reader), else computed now and kept."""
    state = _state(radar)
    seq = radar.store.max_seq()
    with state.lock:
        _forget_old(state, seq)
        for key, batch in reversed(state.batches.items()):
            if all(c in batch.position for c in candidates):
                state.batches.move_to_end(key)
                return batch
    given = {r["rowid"]: r for r in rows} if rows is not None else {}
    missing = [c for c in candidates if c not in given]
    found = dict(given)
    if missing:
        found.update(radar.store.rows(list(missing)))
    ids = np.array([c for c in dict.fromkeys(candidates) if c in found], dtype=np.int64)
    stored = {int(r): found[int(r)] for r in ids}
    x = _tfidf(_counts([_text(stored[int(r)]["title"], stored[int(r)]["abstract"], bg.title_repeat)
                        for r in ids]), bg.idf)
    x.sort_indices()  # why's terms look columns up by binary search
    v, has_v = _vectors(radar, ids)
    batch = _Batch(ids, {int(r): i for i, r in enumerate(ids)}, x, v, has_v, stored)
    with state.lock:
        state.batches[tuple(int(r) for r in ids)] = batch
        while len(state.batches) > MAX_BATCHES:
            state.batches.popitem(last=False)
    return batch


def _vectors(radar: Radar, rowids: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Vectors of the rowids in order (zeros where a paper has none) and which have one."""
    has = np.zeros(len(rowids), dtype=bool)
    if not len(rowids):
        return None, has
    found, vectors = radar.store.get_vectors(radar.model, list(map(int, rowids)))
    if not len(found):
        return None, has
    where = {int(r): i for i, r in enumerate(rowids)}
    out = np.zeros((len(rowids), vectors.shape[1]), dtype=np.float32)
    idx = np.array([where[int(r)] for r in found])
    out[idx] = vectors
    has[idx] = True
    return out, has


# -- signals, training ---------------------------------------------------------------------------------------


def signals(store: Store, user_id: int) -> Signals:
    """The reader's positives (library, upvotes), strong negatives (hidden) and follows."""
    saved = store.saved_ids(user_id)
    voted = store.voted_ids(user_id)
    hidden = store.hidden_ids(user_id)
    rowids = store.rowids(sorted(saved | voted | hidden))
    positives = sorted({rowids[i] for i in saved | voted if i in rowids and i not in hidden})
    negatives = sorted({rowids[i] for i in hidden if i in rowids})
    follows = store.follows(user_id)
    return Signals(positives, negatives,
                   authors=[f["value"] for f in follows if f["kind"] == "author"],
                   categories=[f["value"] for f in follows if f["kind"] == "category"],
                   searches=[f["value"] for f in follows if f["kind"] == "search"],
                   saved=len(saved), upvoted=len(voted - saved))


def train(radar: Radar, positives: list[int], negatives: list[int], signals_: Signals | None = None,
          tuning: Tuning = DEFAULT) -> Model:
    """A reader's model from positive and negative rowids (and, optionally, their follows)."""
    from sklearn.svm import LinearSVC

    if not positives:
        raise ValueError("a model needs at least one positive paper")
    bg = _background(radar, tuning)
    store = radar.store
    pos = np.array(list(dict.fromkeys(positives)), dtype=np.int64)
    given = set(pos.tolist())
    hid = np.array([n for n in dict.fromkeys(negatives) if n not in given], dtype=np.int64)
    rows = store.rows(list(map(int, np.concatenate([pos, hid]))))
    pos = np.array([r for r in pos if int(r) in rows], dtype=np.int64)
    hid = np.array([r for r in hid if int(r) in rows], dtype=np.int64)
    if not len(pos):
        raise ValueError("none of the positive papers is stored")

    def term_rows(ids: np.ndarray) -> sparse.csr_matrix:
        return _tfidf(_counts([_text(rows[int(r)]["title"], rows[int(r)]["abstract"], bg.title_repeat)
                               for r in ids]), bg.idf)

    pos_x, hid_x = term_rows(pos), term_rows(hid)
    keep = ~np.isin(bg.neg_rowids, np.concatenate([pos, hid]))
    neg_x = bg.neg_x[keep]
    x = sparse.vstack([pos_x, hid_x, neg_x]).tocsr()
    y = np.r_[np.ones(len(pos)), np.zeros(len(hid) + neg_x.shape[0])]
    weight = np.r_[np.ones(len(pos)), np.full(len(hid), HIDDEN_WEIGHT), np.ones(neg_x.shape[0])]
    # train on the columns present only (a small problem, a small model); the negatives' are known already.
    # A column of a negative left out (a sampled paper that is in the library) is all zeros: weight 0
    cols = np.union1d(bg.neg_cols, np.concatenate([pos_x.indices, hid_x.indices]))
    local = sparse.csr_matrix((x.data, np.searchsorted(cols, x.indices), x.indptr), shape=(x.shape[0], len(cols)))
    if y.min() == y.max():  # no negatives at all (an empty store but for the library)
        coef, intercept = np.asarray(pos_x.mean(axis=0)).ravel()[cols], 0.0
    else:
        svm = LinearSVC(C=tuning.C, class_weight="balanced", max_iter=5000)
        svm.fit(local, y, sample_weight=weight)
        coef, intercept = svm.coef_[0], float(svm.intercept_[0])
    nz = coef != 0
    cols, coef = cols[nz].astype(np.int64), coef[nz].astype(np.float32)
    full = np.zeros(N_FEATURES, dtype=np.float32)
    full[cols] = coef
    bg_scores = bg.neg_x @ full + intercept
    scale = (float(bg_scores.mean()), float(bg_scores.std()) or 1.0)

    pos_v, pos_v_rows = _vectors(radar, pos)
    hid_v, hid_has = _vectors(radar, hid)
    pos_stats = None
    if pos_v is not None:
        pos_v = pos_v[pos_v_rows]
        pos_stats = _stats(pos_v, bg.neg_v)
    if hid_v is not None:
        hid_v = hid_v[hid_has]
    sig = signals_ or Signals(list(map(int, pos)), list(map(int, hid)))
    library_authors = {fold(a) for r in pos for a in rows[int(r)].get("authors") or []}
    followed = frozenset(fold(a) for a in sig.authors)
    return Model(
        positives=pos, negatives=hid, cols=cols, weights=coef, intercept=intercept, scale=scale,
        pos_rows={int(r): (rows[int(r)]["id"], rows[int(r)]["title"]) for r in pos},
        pos_x=pos_x, pos_v=pos_v, pos_v_rows=np.flatnonzero(pos_v_rows) if pos_v is not None else np.zeros(0, int),
        pos_v_stats=pos_stats, hid_x=hid_x, hid_v=hid_v,
        categories=_category_counts([rows[int(r)] for r in pos]),
        authors=frozenset(library_authors - {""}) | followed, followed_authors=followed,
        follow_categories=frozenset(sig.categories),
        searches=tuple((q, frozenset(_query_words(q))) for q in sig.searches if _query_words(q)),
        tuning=tuning, generation=bg.generation, fingerprint=sig.fingerprint())


def _stats(vectors: np.ndarray, background: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``vectors``: mean and spread of its cosines to the background's vectors."""
    if background is None or not len(background):
        return np.zeros(len(vectors), np.float32), np.ones(len(vectors), np.float32)
    sims = vectors @ background.T
    return sims.mean(axis=1), np.maximum(sims.std(axis=1), 1e-3)


def _category_counts(papers: list[StoredPaper]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in papers:
        for c in set(p.get("categories") or []):
            counts[c] = counts.get(c, 0) + 1
    return counts


def _query_words(query: str) -> list[str]:
    """The words a saved search requires, lower case (operators, fields and excluded words left out)."""
    words = []
    for part in query.split():
        if part.startswith("-") or part.upper() in ("OR", "AND", "NOT"):
            continue
        part = part.split(":", 1)[-1]
        words.extend(w.lower() for w in _TOKEN.findall(part))
    return words


# -- ranking -----------------------------------------------------------------------------------------------


def rank(radar: Radar, model: Model, candidates: list[int], limit: int | None = DEFAULT_LIMIT,
         explain: int | None = None, rows: Iterable[StoredPaper] | None = None) -> list[Ranked]:
    """The candidates (rowids) best first, at most ``limit`` (None: all), each with ``score`` and ``why``
    (``{"near": [{"id", "title", "similarity"}], "terms": [...]}``; only the first ``explain`` get one,
    default: all returned). Near twins of hidden papers are left out."""
    bg = _background(radar, model.tuning)
    if model.generation != bg.generation:
        raise StaleModel("the model was trained against an older background: train it again")
    rows = list(rows) if rows is not None else None
    positives = set(model.positives.tolist())
    want = [c for c in dict.fromkeys(candidates) if c not in positives]
    if not want:
        return []
    batch = _batch(radar, want, bg, rows)
    idx = np.array([batch.position[c] for c in want if c in batch.position], dtype=np.int64)
    if not len(idx):
        return []
    weights = model.weight_vector()
    score, keep = _scores(model, batch, idx, bg, weights)
    idx, score = idx[keep], score[keep]
    order = np.lexsort((batch.rowids[idx], -score))  # ties: the older rowid first
    if limit is not None:
        order = order[:limit]
    # the papers as they are now: a cached batch's rows keep their text, but votes change upvotes
    chosen = [int(batch.rowids[idx[i]]) for i in order]
    fresh = {r["rowid"]: r for r in rows} if rows is not None else radar.store.rows(chosen)
    out = []
    explain = len(order) if explain is None else explain
    for k, i in enumerate(order):
        row = fresh.get(chosen[k]) or batch.rows[chosen[k]]
        extra: dict[str, Any] = {"score": round(float(score[i]), 4)}
        if k < explain:
            extra["why"] = _why(model, batch, int(idx[i]), weights)
        out.append(Ranked(row, **extra))
    return out


class StaleModel(RuntimeError):
    """A model made before the background changed (the store grew by a quarter): retrain."""


def _scores(model: Model, batch: _Batch, idx: np.ndarray, bg: _Background,
            weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's score, and which are kept (not near twins of a hidden paper)."""
    t = model.tuning
    parts, keep = components(model, batch, idx, bg, weights)
    score = (parts["svm"] + t.vector * parts["vector"] + t.category * parts["category"]
             + t.author * parts["author"] + t.follow * parts["follow"] - t.hidden * parts["hidden"])
    return score, keep


def components(model: Model, batch: _Batch, idx: np.ndarray, bg: _Background,
               weights: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The signals :func:`_scores` weighs, one value per candidate (rows ``idx`` of the batch), and which
    candidates are kept. Apart so that ``eval recs`` can be tuned from one pass over the tasks."""
    n = len(idx)
    x = batch.x[idx]
    weights = model.weight_vector() if weights is None else weights
    parts = {"svm": ((x @ weights + model.intercept - model.scale[0]) / model.scale[1]).astype(float)}
    v = batch.v[idx] if batch.v is not None else None
    has_v = batch.has_v[idx]
    parts["vector"] = np.zeros(n)
    if v is not None and model.pos_v is not None and len(model.pos_v):
        z = (v @ model.pos_v.T - model.pos_v_stats[0]) / model.pos_v_stats[1]
        parts["vector"] = np.where(has_v, z.max(axis=1), 0.0)
    parts["category"] = np.array([_category_score(model, bg, batch.row(i).get("categories") or []) for i in idx])
    parts["author"] = np.array([bool(batch.authors(i) & model.authors) for i in idx] if model.authors
                               else np.zeros(n), dtype=float)
    follows = bool(model.follow_categories or model.searches)
    parts["follow"] = np.array([_follow_hits(model, batch, i) > 0 for i in idx] if follows else np.zeros(n),
                               dtype=float)
    parts["hidden"] = np.zeros(n)
    keep = np.ones(n, dtype=bool)
    if len(model.negatives):
        if v is not None and model.hid_v is not None and len(model.hid_v):
            sims = v @ model.hid_v.T
            best = sims.max(axis=1)
            keep &= ~(has_v & (best >= TWIN))
            parts["hidden"] = np.where(has_v, np.clip((best - HIDDEN_NEAR) / (TWIN - HIDDEN_NEAR), 0.0, 1.0), 0.0)
        if model.hid_x.shape[0]:
            keep &= ~((x @ model.hid_x.T).toarray().max(axis=1) >= TWIN_TERMS)
    return parts, keep


def _category_score(model: Model, bg: _Background, categories: list[str]) -> float:
    """The best of the paper's categories by log(share among the positives / share in the background),
    both smoothed: a category no positive has scores low, one rare in the store but common in the
    library high. A paper without categories scores 0."""
    if not categories:
        return 0.0
    known = model.category_scores
    for c in categories:
        if c not in known:
            n = len(model.positives)
            floor = 1.0 / (len(bg.neg_rowids) + 1)
            known[c] = math.log((model.categories.get(c, 0) + 0.5) / (n + 1)) - math.log(
                max(bg.categories.get(c, 0.0), floor))
    return max(known[c] for c in categories)


def _follow_hits(model: Model, batch: _Batch, i: int) -> int:
    hits = sum(1 for c in batch.row(i).get("categories") or [] if c in model.follow_categories)
    if model.searches:
        hits += sum(1 for _, need in model.searches if need <= batch.words(i))
    return hits


def _why(model: Model, batch: _Batch, i: int, weights: np.ndarray) -> dict[str, Any]:
    """The positives the paper is closest to and the terms that add most to its score."""
    if batch.v is not None and batch.has_v[i] and model.pos_v is not None and len(model.pos_v):
        sims = model.pos_v @ batch.v[i]
        which = model.positives[model.pos_v_rows]
    else:
        sims = (model.pos_x @ batch.x[i].T).toarray().ravel()
        which = model.positives
    near = []
    order = np.argsort(-sims, kind="stable")[:NEAR]
    for k in order:
        if near and sims[k] < NEAR_FLOOR and sims[k] < sims[order[0]] - NEAR_SPREAD:
            break  # a library on several topics: name only the saved papers that are really close
        pid, title = model.pos_rows[int(which[k])]
        near.append({"id": pid, "title": title, "similarity": round(float(sims[k]), 3)})
    why: dict[str, Any] = {"near": near, "terms": _terms(batch, i, weights)}
    follows = _follow_reasons(model, batch, i)
    if follows:
        why["follows"] = follows
    return why


def _columns(terms: list[str]) -> np.ndarray:
    """The hashed column of each term (what the vectorizer gives it)."""
    from sklearn.feature_extraction import FeatureHasher

    if not terms:
        return np.zeros(0, dtype=np.int64)
    hasher = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)
    return hasher.transform([[t] for t in terms]).indices.astype(np.int64)  # one column per term, in order


def _terms(batch: _Batch, i: int, weights: np.ndarray) -> list[str]:
    """The paper's terms with the largest weight x tf-idf. A word pair shadows its words; terms with a stop
    word or a number are not shown (they still count in the score) unless nothing else is left."""
    names, cols = batch.terms(i)
    start, end = batch.x.indptr[i], batch.x.indptr[i + 1]
    if not names or start == end:
        return []
    have, value = batch.x.indices[start:end], batch.x.data[start:end]  # sorted columns (see _batch)
    at = np.minimum(np.searchsorted(have, cols), len(have) - 1)
    gains = weights[cols] * np.where(have[at] == cols, value[at], 0.0)
    ranked = [names[k] for k in np.argsort(-gains, kind="stable") if gains[k] > 0]
    return _distinct(t for t in ranked if _shown(t)) or _distinct(ranked)


def _shown(term: str) -> bool:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return not any(w in ENGLISH_STOP_WORDS or w.isdigit() or "_" in w or (len(w) <= 2 and not w.isalpha())
                   for w in term.split(" "))


def _distinct(ranked: Iterable[str]) -> list[str]:
    chosen: list[str] = []
    for t in ranked:
        if len(chosen) >= TERMS:
            break
        parts = set(t.split(" "))
        if any(parts & set(c.split(" ")) for c in chosen):
            continue  # "graph neural" after "neural": the same words again
        chosen.append(t)
    return chosen


def _follow_reasons(model: Model, batch: _Batch, i: int) -> list[str]:
    row = batch.row(i)
    out = [f"author {a}" for a in row.get("authors") or [] if fold(a) in model.followed_authors]
    out += [f"category {c}" for c in row.get("categories") or [] if c in model.follow_categories]
    out += [f"search '{q}'" for q, need in model.searches if need <= batch.words(i)]
    return out


# -- the surfaces' entry points ------------------------------------------------------------------------------


def day_papers(store: Store, day: date | str) -> list[StoredPaper]:
    """The papers first listed on ``day``: the candidates of a day's ranking."""
    d = day.isoformat() if isinstance(day, date) else day
    return store.feed(d, d, limit=MAX_CANDIDATES)[0]


def day_rowids(radar: Radar, day: date | str) -> list[int]:
    """The rowids of :func:`day_papers`, read once while the store does not change (every reader of a day,
    every subscriber of a digest run, asks for the same list; the rows themselves are read by the ranking,
    as they are now, for the papers it shows)."""
    d = day.isoformat() if isinstance(day, date) else day
    state = _state(radar)
    seq = radar.store.max_seq()
    with state.lock:
        _forget_old(state, seq)
        found = state.days.get(d)
        if found is not None:
            state.days.move_to_end(d)
            return found
    found = [r["rowid"] for r in day_papers(radar.store, d)]
    with state.lock:
        if state.seq == seq:
            state.days[d] = found
            while len(state.days) > MAX_BATCHES:
                state.days.popitem(last=False)
    return found


def for_library(radar: Radar, library: list[str], hidden: list[str], day: date | str,
                limit: int | None = DEFAULT_LIMIT, explain: int | None = None,
                tuning: Tuning = DEFAULT) -> ForYou:
    """``recommend --library`` (and ``eval recs``): the papers of ``day`` ranked for a reader whose library
    is ``library`` and who hid ``hidden`` (paper ids). Raises :class:`UnknownPapers`."""
    store = radar.store
    asked = list(dict.fromkeys(library + hidden))
    found = store.rowids(asked)
    unknown = [i for i in asked if i not in found]
    if unknown:
        raise UnknownPapers(unknown)
    pos = list(dict.fromkeys(found[i] for i in library))
    neg = [r for r in dict.fromkeys(found[i] for i in hidden) if r not in set(pos)]
    model = train(radar, pos, neg, tuning=tuning)
    exclude = set(pos) | set(neg)
    rows = [r for r in day_rowids(radar, day) if r not in exclude]
    papers = rank(radar, model, rows, limit, explain=explain)
    d = day.isoformat() if isinstance(day, date) else day
    reason = f"{len(rows)} papers of {d} ranked by a model of the {len(pos)} papers given" + (
        f" and {len(neg)} hidden" if neg else "")
    return ForYou(papers, False, reason, d, len(pos), len(rows))


def recommend_library(radar: Radar, library: list[str], hidden: list[str], day: date | str,
                      limit: int | None = DEFAULT_LIMIT, explain: int | None = None,
                      tuning: Tuning = DEFAULT) -> list[Ranked]:
    """The papers of :func:`for_library`."""
    return for_library(radar, library, hidden, day, limit, explain, tuning).papers


def model_for(radar: Radar, user_id: int, sig: Signals | None = None) -> Model:
    """The reader's model: cached by (reader, fingerprint of their signals), trained when missing."""
    sig = sig or signals(radar.store, user_id)
    state = _state(radar)
    bg = _background(radar, DEFAULT)
    key = (user_id, sig.fingerprint())
    with state.lock:
        model = state.models.get(key)
        if model is not None and model.generation == bg.generation:
            state.models.move_to_end(key)
            return model
    model = train(radar, sig.positives, sig.negatives, sig)
    with state.lock:
        for old in [k for k in state.models if k[0] == user_id]:
            del state.models[old]  # the reader's previous library: not needed again
        state.models[key] = model
        while len(state.models) > MAX_MODELS:
            state.models.popitem(last=False)
    return model


_threadpools: Any = None


def one_blas_thread() -> Any:
    """A context in which numpy's and scipy's BLAS use one thread. The ranking's products are small (a
    day's few hundred papers against a library), and OpenBLAS's helper threads spin while they wait: on
    two cores the default doubled the server's CPU time a request and its time p50 on the 115k database
    (bench/foryou.py: 122 ms of CPU and 58 ms a page; with one thread 36 and 33). The setting is the
    process's (threadpoolctl): a call that overlaps another may run with either, never with a wrong
    answer."""
    global _threadpools
    if _threadpools is None:
        from threadpoolctl import ThreadpoolController

        _threadpools = ThreadpoolController()
    return _threadpools.limit(limits=1, user_api="blas")


def for_user(radar: Radar, user_id: int, day: date, limit: int = DEFAULT_LIMIT, one_thread: bool = True) -> ForYou:
    """``day``'s papers for the reader: ranked by their model, each with why; with fewer than
    :data:`MIN_POSITIVES` positives, the trending papers in their followed categories (``cold``). BLAS runs
    on one thread (:func:`one_blas_thread`) unless ``one_thread`` is false (the benchmark's comparison)."""
    with one_blas_thread() if one_thread else nullcontext():
        return _for_user(radar, user_id, day, limit)


def _for_user(radar: Radar, user_id: int, day: date, limit: int) -> ForYou:
    store = radar.store
    sig = signals(store, user_id)
    exclude = sig.exclude
    candidates = [r for r in day_rowids(radar, day) if r not in exclude]
    n = len(sig.positives)
    if n < MIN_POSITIVES:
        return _cold(radar, sig, day, limit, len(candidates))
    model = model_for(radar, user_id, sig)
    try:
        papers = rank(radar, model, candidates, limit)
    except StaleModel:  # the background was remade meanwhile (the store grew): once more, retrained
        papers = rank(radar, model_for(radar, user_id, sig), candidates, limit)
    what = " and ".join(w for w in (f"{sig.saved} saved" if sig.saved else "",
                                    f"{sig.upvoted} upvoted" if sig.upvoted else "") if w)
    hidden = f" and the {len(sig.negatives)} you hid" if sig.negatives else ""
    reason = f"{len(candidates)} papers of {day.isoformat()} ranked by a model of your {what} papers{hidden}"
    return ForYou(papers, False, reason, day.isoformat(), n, len(candidates))


def _cold(radar: Radar, sig: Signals, day: date, limit: int, candidates: int) -> ForYou:
    """Trending papers (as of the end of ``day``) in the followed categories, or in every category when
    none is followed; when nothing has upvotes, the day's papers in those categories."""
    store = radar.store
    exclude = sig.exclude
    as_of = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1)
    need = f"save, upvote or import at least {MIN_POSITIVES} papers for recommendations"
    found: dict[int, Ranked] = {}
    for category in sig.categories or [None]:
        rows, _, _ = trending(store, as_of=as_of, category=category, limit=limit + len(exclude))
        for r in rows:
            if r["rowid"] not in exclude:
                found.setdefault(r["rowid"], r.with_(score=round(float(r["trend"]), 6)))
    papers = sorted(found.values(), key=lambda r: (-r["score"], r["id"]))[:limit]
    where = f"in {', '.join(sig.categories)}" if sig.categories else "in every category (follow some to narrow it)"
    if papers:
        return ForYou(papers, True, f"trending papers {where}: {need}", day.isoformat(), len(sig.positives),
                      candidates)
    listed: dict[int, Ranked] = {}
    for category in sig.categories or [None]:
        d = day.isoformat()
        for r in store.feed(d, d, category=category, limit=limit + len(exclude))[0]:
            if r["rowid"] not in exclude:
                listed.setdefault(r["rowid"], Ranked(r, score=float(r["upvotes"])))
    papers = list(listed.values())[:limit]
    return ForYou(papers, True, f"papers of {day.isoformat()} {where} (nothing is trending): {need}",
                  day.isoformat(), len(sig.positives), candidates)


__all__ = ["DEFAULT", "ForYou", "Model", "Signals", "StaleModel", "Tuning", "UnknownPapers", "day_papers", "day_rowids",
           "for_library", "for_user", "forget", "model_for", "rank", "recommend_library", "signals", "train"]
