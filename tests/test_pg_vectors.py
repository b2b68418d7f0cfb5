"""Vectors in pgvector (store/pg_vectors.py, index/pg_vectors.py) on a real PostgreSQL 18 with pgvector.

Every answer is checked against brute force over the stored float16 vectors:
exact where the search is exact (small candidate sets, a small store's
fallback), recall@10 where it goes through the HNSW index. Vectors are
written through the store (``save_vectors``), as embedding writes them.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from paperradar.app import Radar
from paperradar.index.embed import text_vector
from paperradar.index.pg_vectors import PgVectorIndex
from paperradar.model import Paper
from paperradar.rank.semantic import nearest
from paperradar.store import Filters, open_store, pg_vectors
from paperradar.store.pg_vectors import TABLE, halfvec_text

DIM = 384
MODEL = "test-model"
RNG_SEED = 15


def _papers(n: int, prefix: str = "2501") -> list[Paper]:
    return [Paper(title=f"Paper {prefix} {i}", abstract="An abstract.", authors=[f"Author {i}"], categories=["cs.CL"],
                  id=f"{prefix}.{i:05d}", arxiv_id=f"{prefix}.{i:05d}", published="2025-01-02", source="test")
            for i in range(n)]


@pytest.fixture
def pg_store(pg_server):
    """A fresh PostgreSQL store; its halfvec table emptied too (a reused test database keeps it).

    Dropped afterwards rather than handed back for reuse: the keyword side adds its own objects
    to ``papers`` on first use (index/pg_keyword.py), which the schema test would then find."""
    name = pg_server.fresh_database()
    store = open_store(pg_server.url(name))
    with store.write() as conn:
        conn.execute(f"DELETE FROM {TABLE}")
    yield store
    store.dispose()
    pg_server.drop(name)


def _rowids(store) -> list[int]:
    return [r[0] for r in store.conn.execute("SELECT rowid FROM papers ORDER BY rowid")]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _filled(store, n: int) -> tuple[list[int], np.ndarray]:
    """``n`` papers with random unit vectors of MODEL, saved through the store in batches."""
    store.merge(_papers(n), "test")
    rowids = _rowids(store)
    vectors = _unit(np.random.default_rng(RNG_SEED), n)
    for i in range(0, n, 500):
        store.save_vectors(MODEL, rowids[i : i + 500], ["h"] * len(rowids[i : i + 500]), vectors[i : i + 500])
    return rowids, vectors


def _brute(store, query: np.ndarray, rowids: list[int], k: int, model: str = MODEL) -> list[int]:
    """Brute-force cosine over the stored float16 vectors: what any exact search must return."""
    keys, vecs = store.get_vectors(model, rowids)
    q = query.astype(np.float16).astype(np.float32)
    scores = (vecs @ q) / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(q))
    return [int(keys[i]) for i in np.argsort(-scores, kind="stable")[:k]]


def _near(rng: np.random.Generator, vectors: np.ndarray) -> np.ndarray:
    """A query near a stored vector (as a real query is near its topic), unit length."""
    q = vectors[rng.integers(len(vectors))] + 0.6 * _unit(rng, 1)[0]
    return q / np.linalg.norm(q)


def test_search_equals_brute_force_when_exact_and_recall_is_high_through_hnsw(pg_store) -> None:
    rowids, vectors = _filled(pg_store, 3000)
    index = PgVectorIndex(pg_store, MODEL, DIM)
    assert len(index) == 3000
    with pg_store.conn.raw.transaction():  # the search's plan, under its settings (sorting disabled)
        pg_store.conn.raw.execute("SET LOCAL enable_sort = off")
        plan = pg_store.conn.raw.execute(f"EXPLAIN SELECT paper FROM {TABLE} WHERE model = $1"
                                         " ORDER BY vec <=> $2::halfvec LIMIT 10", (MODEL, halfvec_text(vectors[0])))
        assert "halfvecs_hnsw" in " ".join(r[0] for r in plan)  # the recall below is the HNSW index's
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(30):
        query = _near(rng, vectors)
        truth = _brute(pg_store, query, rowids, 10)
        exact = index.search(query, 10, candidates=np.array(rowids))  # 3,000 candidates: scored exactly
        assert [r for r, _ in exact] == truth
        _, vecs = pg_store.get_vectors(MODEL, [exact[0][0]])
        assert exact[0][1] == pytest.approx(float(vecs[0] @ query / np.linalg.norm(vecs[0])), abs=2e-3)
        found = index.search(query, 10)  # the HNSW index
        assert len(found) == 10
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        hits += len({r for r, _ in found} & set(truth))
    assert hits / 300 >= 0.95


def test_a_search_deeper_than_pgvectors_ef_search_limit_answers_in_order(pg_store) -> None:
    """pgvector takes hnsw.ef_search up to 1000: a search for more rows (filtered hybrid search widens
    to 2,000) must still answer, every row asked for, best first."""
    rowids, vectors = _filled(pg_store, 1500)
    index = PgVectorIndex(pg_store, MODEL, DIM)
    found = index.search(vectors[0], 1200)
    assert len(found) == 1200 and len({r for r, _ in found}) == 1200
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert found[0][0] == rowids[0]


def test_candidates_far_from_the_query_still_give_their_exact_top_k(pg_store) -> None:
    rowids, vectors = _filled(pg_store, 3000)
    index = PgVectorIndex(pg_store, MODEL, DIM)
    rng = np.random.default_rng(2)
    for left_out in (1500, 300, 20):  # the query's nearest papers the filter excludes
        query = _near(rng, vectors)
        neighbourhood = set(_brute(pg_store, query, rowids, left_out))
        candidates = [r for r in rowids if r not in neighbourhood]
        truth = _brute(pg_store, query, candidates, 10)
        found = index.search(query, 10, candidates=np.array(candidates[::-1]))  # any order of candidates
        assert [r for r, _ in found] == truth
        assert [r for r, _ in index.search(query, 10, candidates=np.array([candidates[0], -5]))] == [candidates[0]]


def test_changed_and_deleted_vectors_are_seen_at_once_and_the_model_is_respected(pg_store) -> None:
    rowids, vectors = _filled(pg_store, 600)
    index = PgVectorIndex(pg_store, MODEL, DIM)
    query = _unit(np.random.default_rng(3), 1)[0]
    first = index.search(query, 5)[0][0]
    moved = next(r for r in rowids[100:] if r != first)
    pg_store.save_vectors(MODEL, [moved], ["changed"], query[None, :])  # now the nearest
    assert index.search(query, 1)[0][0] == moved
    assert index.search(query, 1, candidates=np.array([first, moved]))[0][0] == moved
    with pg_store.write() as conn:
        conn.execute("DELETE FROM vectors WHERE paper = ?", (moved,))
    assert moved not in {r for r, _ in index.search(query, 20)}
    assert len(index) == 599
    others = rowids[:100]  # re-embedded by another model: not this model's any more
    pg_store.save_vectors("other-model", others, ["h"] * 100, vectors[:100])
    assert len(index) == 499
    assert not {r for r, _ in index.search(vectors[0], 50)} & set(others)
    assert index.search(vectors[0], 5, candidates=np.array(others)) == []
    assert len(PgVectorIndex(pg_store, "other-model", DIM)) == 100


def test_the_first_use_adds_missing_halfvecs_and_drops_orphans(pg_store) -> None:
    rowids, vectors = _filled(pg_store, 300)
    with pg_store.write() as conn:  # as `paperradar copy` leaves them: only the BYTEA rows
        conn.execute(f"DELETE FROM {TABLE}")
    with pg_store.write() as conn:  # and a vector deleted with foreign keys off leaves its copy behind
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(f"INSERT INTO {TABLE} (paper, model, vec) VALUES (?, ?, ?::halfvec)",
                     (rowids[0], MODEL, halfvec_text(vectors[0])))
        conn.execute("DELETE FROM vectors WHERE paper = ?", (rowids[0],))
    index = PgVectorIndex(pg_store, MODEL, DIM)
    assert len(index) == 299
    assert rowids[0] not in {r for r, _ in index.search(vectors[0], 10)}
    assert index.search(vectors[7], 1)[0][0] == rowids[7]
    keys, got = index.get(np.array([rowids[7], -1]))
    assert keys.tolist() == [rowids[7]]
    assert np.allclose(got[0], vectors[7], atol=1e-3)


def test_vectors_of_another_width_are_stored_but_not_indexed(pg_store) -> None:
    pg_store.merge(_papers(2), "test")
    rowids = _rowids(pg_store)
    pg_store.save_vectors("m", rowids, ["h", "h"], np.ones((2, 4), dtype=np.float32))
    assert pg_store.vector_count("m") == 2
    assert pg_store.halfvec_count("m") == 0


def test_radar_uses_pgvector_and_real_embeddings_find_their_topic(pg_store) -> None:
    topics = {
        "2502.00001": ("Dark matter halos of galaxy clusters from weak gravitational lensing",
                       "We measure the mass profiles of galaxy clusters with weak lensing shear."),
        "2502.00002": ("Fine-tuning large language models for machine translation",
                       "We adapt a pretrained transformer language model to translate low-resource languages."),
        "2502.00003": ("Protein folding with deep learning",
                       "A neural network predicts three-dimensional protein structures from amino acid sequences."),
        "2502.00004": ("Reinforcement learning for robot grasping",
                       "A robot arm learns to grasp unknown objects by trial and error in simulation."),
    }
    pg_store.merge([Paper(title=t, abstract=a, authors=["A. Author"], categories=["cs.LG"], id=i, arxiv_id=i,
                          published="2025-02-01", source="test") for i, (t, a) in topics.items()], "test")
    radar = Radar(pg_store)
    assert isinstance(radar.vectors, PgVectorIndex)
    report = radar.refresh(embed=True).embedding  # as `paperradar embed` (the keyword side: index/pg_keyword.py)
    assert report is not None and report.embedded == 4 and report.indexed == 0  # nothing to save: in the database
    assert len(radar.vectors) == 4 and pg_store.halfvec_count(radar.model) == 4
    assert radar.refresh(embed=True).embedding.embedded == 0
    by_id = {r[1]: r[0] for r in pg_store.conn.execute("SELECT rowid, id FROM papers")}
    query = text_vector(radar.encoder, "mass of galaxy clusters measured by gravitational lensing")
    assert nearest(radar, query, 1)[0][0] == by_id["2502.00001"]
    query = text_vector(radar.encoder, "translating between languages with a transformer")
    assert [r for r, _ in nearest(radar, query, 4)] == _brute_model(pg_store, radar.model, query, list(by_id.values()))
    assert nearest(radar, query, 1)[0][0] == by_id["2502.00002"]


def _brute_model(store, model: str, query: np.ndarray, rowids: list[int]) -> list[int]:
    keys, vecs = store.get_vectors(model, rowids)
    scores = vecs @ query.astype(np.float16).astype(np.float32) / np.linalg.norm(vecs, axis=1)
    return [int(keys[i]) for i in np.argsort(-scores, kind="stable")]


def test_filtered_semantic_search_on_postgresql_is_the_exact_top_k_among_papers_that_pass(pg_store) -> None:
    """rank/semantic.py's filters on PostgreSQL (the keyword side's filter, this index's candidates):
    a category whose papers are all far from the query still gives its exact top k."""
    papers = _papers(800)
    for i, paper in enumerate(papers):
        paper.categories = ["astro-ph.GA"] if i % 8 == 0 else ["cs.CL"]
    pg_store.merge(papers, "test")
    rowids = _rowids(pg_store)
    rng = np.random.default_rng(4)
    vectors = _unit(rng, len(rowids))
    radar = Radar(pg_store)
    pg_store.save_vectors(radar.model, rowids, ["h"] * len(rowids), vectors)
    astro = [r[0] for r in pg_store.conn.execute(
        "SELECT paper FROM paper_categories WHERE category = 'astro-ph.GA' ORDER BY paper")]
    assert len(astro) == 100
    for _ in range(5):
        query = _near(rng, vectors)
        found = nearest(radar, query, 10, Filters(category="astro-ph.GA"))
        assert [r for r, _ in found] == _brute(pg_store, query, astro, 10, radar.model)


def _uses_hnsw(store, query: np.ndarray) -> bool:
    """Whether an unfiltered search's plan (under its settings: sorting disabled) is the HNSW index's."""
    with store.conn.raw.transaction():
        store.conn.raw.execute("SET LOCAL enable_sort = off")
        plan = store.conn.raw.execute(f"EXPLAIN SELECT paper FROM {TABLE} WHERE model = $1"
                                      " ORDER BY vec <=> $2::halfvec LIMIT 10", (MODEL, halfvec_text(query)))
        return "halfvecs_hnsw" in " ".join(r[0] for r in plan)


def test_a_bulk_fill_after_a_copy_builds_the_hnsw_index_and_searches_right_meanwhile(pg_store,
                                                                                    monkeypatch) -> None:
    """Many copies missing (as ``paperradar copy`` leaves a database): loaded by one binary COPY without
    the index, then the index built once; another process searching meanwhile never sees part of them."""
    monkeypatch.setattr(pg_vectors, "BULK_MIN", 1000)
    rowids, vectors = _filled(pg_store, 3000)
    with pg_store.write() as conn:
        conn.execute(f"DELETE FROM {TABLE} WHERE paper > ?", (rowids[499],))  # 2,500 of 3,000 missing
    rng = np.random.default_rng(5)
    queries = [_near(rng, vectors) for _ in range(20)]
    truths = [_brute(pg_store, q, rowids, 10) for q in queries]
    other = open_store(pg_store.url)  # another process's store: searches while this one fills
    answers: list[tuple[int, list[int]]] = []
    filling = threading.Event()

    def search_meanwhile() -> None:
        while not filling.is_set():
            i = len(answers) % len(queries)
            answers.append((i, [r for r, _ in other.nearest_halfvecs(MODEL, queries[i], 10)]))

    phases: list[tuple[str, int, int]] = []
    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    try:
        added = pg_store.fill_halfvecs(MODEL, lambda *p: phases.append(p))
    finally:
        filling.set()
        searcher.join()
        other.dispose()
    assert added == 2500
    assert phases[0][0] == "halfvec copies" and phases[-1] == ("HNSW index", 3000, 3000)
    assert ("halfvec copies", 2500, 2500) in phases
    assert pg_store.halfvec_count(MODEL) == 3000
    assert _uses_hnsw(pg_store, vectors[0])  # the index is back, over every vector
    assert pg_store.fill_halfvecs(MODEL) == 0
    index = PgVectorIndex(pg_store, MODEL, DIM)
    assert index.search(vectors[9], 1)[0][0] == rowids[9]
    hits = 0
    for query, truth in zip(queries, truths, strict=True):
        assert [r for r, _ in index.search(query, 10, candidates=np.array(rowids))] == truth  # exact
        hits += len({r for r, _ in index.search(query, 10)} & set(truth))  # the rebuilt HNSW index
    assert hits / 200 >= 0.95
    assert answers
    # searched meanwhile: the 500 copies there before (a partial load is never seen), or all of them
    before = [_brute(pg_store, q, rowids[:500], 10) for q in queries]
    for i, found in answers:
        assert len(found) == 10
        assert len(set(found) & set(before[i])) >= 8 or len(set(found) & set(truths[i])) >= 8


def _topics(store, n: int, topics: int, seed: int) -> tuple[list[int], np.ndarray]:
    """``n`` papers whose vectors lie around ``topics`` centres (as real embeddings cluster by subject:
    a neighbour's cosine about 0.5, a topic centre's 0.7), loaded as ``paperradar copy`` leaves them
    and indexed by the bulk fill (one HNSW build: far quicker than ``n`` inserts into the index)."""
    store.merge(_papers(n), "test")
    rowids = _rowids(store)
    rng = np.random.default_rng(seed)
    centres = _unit(rng, topics)
    vectors = centres[rng.integers(topics, size=n)] + _unit(rng, n)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.pgvector = False  # the BYTEA rows only, then the copies in bulk
    try:
        for i in range(0, n, 2000):
            store.save_vectors(MODEL, rowids[i : i + 2000], ["h"] * len(rowids[i : i + 2000]), vectors[i : i + 2000])
    finally:
        store.pgvector = True
    assert store.fill_halfvecs(MODEL) == n
    with store.conn.raw.transaction():
        store.conn.raw.execute(f"ANALYZE {TABLE}")  # reltuples: the candidate set's share is weighed by it
    return rowids, vectors


def test_a_large_candidate_set_goes_through_the_filtered_iterative_scan_with_high_recall(pg_store,
                                                                                        monkeypatch) -> None:
    """A large share of the table passes (a big category): the HNSW index's iterative scan with the
    candidates in its WHERE clause, recall@10 against brute force ≥ 0.98; a filter that excludes the
    query's neighbourhood still gives k that pass (recall measured, not promised exact), and a scan
    that gives up short of k is answered exactly."""
    monkeypatch.setattr(pg_vectors, "EXACT_WITHIN_MAX", 1000)  # 8,000 rows: large sets from 1,000
    rowids, vectors = _topics(pg_store, 8000, 40, seed=6)
    index = PgVectorIndex(pg_store, MODEL, DIM)
    scans: list[int] = []
    real_scan = pg_store._index_scan

    def spy(model, query, k, keys=None, max_scan=None):
        found = real_scan(model, query, k, keys, max_scan)
        if keys is not None:
            scans.append(len(found))
        return found

    monkeypatch.setattr(pg_store, "_index_scan", spy)
    rng = np.random.default_rng(7)
    half = rowids[::2]  # half the papers pass, unrelated to any query
    hits = far_hits = 0
    for _ in range(25):
        query = _near(rng, vectors)
        truth = _brute(pg_store, query, half, 10)
        found = index.search(query, 10, candidates=np.array(half))
        assert len(found) == 10 and {r for r, _ in found} <= set(half)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        hits += len({r for r, _ in found} & set(truth))
        neighbourhood = set(_brute(pg_store, query, rowids, 1000))  # the filter leaves out the nearest 1,000
        far = [r for r in rowids if r not in neighbourhood]
        truth = _brute(pg_store, query, far, 10)
        found = index.search(query, 10, candidates=np.array(far))
        assert len(found) == 10 and not {r for r, _ in found} & neighbourhood
        far_hits += len({r for r, _ in found} & set(truth))
    assert len(scans) == 50  # every search went through the filtered iterative scan
    assert hits / 250 >= 0.98
    assert far_hits / 250 >= 0.9  # approximate where the filter excludes the neighbourhood: see docs
    # a scan allowed too few tuples to find k among the farthest papers gives up: answered exactly
    monkeypatch.setattr(pg_vectors, "scan_budget", lambda candidates, k: 1)
    monkeypatch.setattr(pg_vectors, "FILTERED_EF_SEARCH", 10)  # its first (and only) batch: about the nearest 20
    scans.clear()
    query = _near(rng, vectors)
    farthest = _brute(pg_store, query, rowids, 8000)[-1500:]
    assert [r for r, _ in index.search(query, 10, candidates=np.array(farthest))] == _brute(pg_store, query,
                                                                                            farthest, 10)
    assert len(scans) == 1 and scans[0] < 10  # the scan gave up short of k
