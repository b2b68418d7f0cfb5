"""The store protocol: every backend implements all of it, and its tables behave the same.

Runs on each backend of the ``store`` fixture (conftest.BACKENDS).
"""

from __future__ import annotations

import inspect

import numpy as np

from paperradar.model import Paper
from paperradar.store import Filters, Store
from paperradar.store.sync_state import Counts


def _protocol_methods() -> list[str]:
    return [name for name, _ in inspect.getmembers(Store, inspect.isfunction) if not name.startswith("_")]


def test_every_protocol_method_is_implemented_with_the_same_parameters(store) -> None:
    methods = _protocol_methods()
    assert len(methods) > 40
    for name in methods:
        implemented = getattr(type(store), name, None)
        assert callable(implemented), f"{type(store).__name__} lacks {name}"
        wanted = list(inspect.signature(getattr(Store, name)).parameters)
        assert list(inspect.signature(implemented).parameters) == wanted, name


def _papers(n: int) -> list[Paper]:
    return [Paper(title=f"Paper {i} on topic {i % 3}", abstract=f"First sentence {i}. Second sentence.",
                  authors=[f"Author {i}"], categories=["cs.CL" if i % 2 else "cs.CV"], id=f"2501.{i:05d}",
                  arxiv_id=f"2501.{i:05d}", published=f"2025-01-{1 + i % 5:02d}", source="test")
            for i in range(n)]


def test_feed_filters_and_browsing_agree(store) -> None:
    store.merge(_papers(20), "test")
    rows, total = store.feed("2025-01-01", "2025-01-02", "cs.CL")
    assert total == len(rows) == sum(1 for i in range(20) if i % 2 and 1 + i % 5 <= 2)
    assert dict(store.day_counts("2025-01-01", "2025-01-05"))["2025-01-01"] == 4
    assert store.latest_day() == "2025-01-05"
    assert dict(store.category_counts()) == {"cs.CL": 10, "cs.CV": 10}
    assert Filters(category="cs.CL").active and not Filters().active


def test_vectors_log_and_sentence_vectors(store) -> None:
    store.merge(_papers(6), "test")
    rowids = sorted(store.rowids([f"2501.{i:05d}" for i in range(6)]).values())
    pending = store.pending_vectors("m", lambda t, a: t)
    assert pending.rowids == rowids and pending.missing == 6
    vectors = np.eye(6, 8, dtype=np.float32)
    store.save_vectors("m", rowids, ["h"] * 6, vectors)
    keys, got = store.get_vectors("m", rowids[::-1])
    assert keys.tolist() == rowids[::-1] and np.allclose(got, vectors[::-1])
    assert store.vector_count("m") == 6 and store.max_vector_rowid() == rowids[-1]
    head, dropped, added, _ = store.vector_changes(0, "m")
    assert head == store.vector_log_head() and dropped == [] and sorted(added.tolist()) == rowids
    assert store.sentences_pending("m") == rowids
    store.save_sentence_vectors("m", [(r, "h", np.ones((2, 8), dtype=np.float32)) for r in rowids[:4]])
    assert store.sentences_pending("m") == rowids[4:]
    assert store.get_sentence_vectors("m", rowids[:1])[rowids[0]][1].shape == (2, 8)


def test_index_marks_and_sync_runs(store) -> None:
    assert not store.has_index_mark("keyword", "t1")
    store.add_index_mark("keyword", "t1", 5)
    assert store.has_index_mark("keyword", "t1") and not store.has_index_mark("vectors:m", "t1")
    run = store.start_sync_run("hf-daily", {"date": "2025-01-01"})
    store.record_sync_page(run, Counts(records=3, new=2, unchanged=1))
    store.finish_sync_run(run, "ok", None, [])
    report = store.sync_run(run)
    assert (report["status"], report["records"], report["new"]) == ("ok", 3, 2)
    assert store.last_sync_runs()["hf-daily"]["id"] == run
