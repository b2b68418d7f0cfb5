"""Ranking metrics on small hand-computed examples."""

from __future__ import annotations

import math

import pytest

from paperradar.eval.metrics import (
    average_precision,
    dcg,
    mean,
    ndcg_at_k,
    ndcg_pct,
    pct_cutoff,
    ranked_gains,
)


def test_dcg_first_gain_undiscounted_then_log2_of_rank() -> None:
    # 3 + 2/log2(2) + 1/log2(3) + 0 = 5 + 0.6309...
    assert dcg([3, 2, 1, 0]) == pytest.approx(5 + 1 / math.log2(3))
    assert dcg([3, 2, 1, 0], k=2) == pytest.approx(5.0)
    assert dcg([]) == 0.0
    assert dcg([1, 1], k=0) == 0.0


def test_ndcg_of_ideal_order_is_one_and_of_reversed_order_hand_computed() -> None:
    assert ndcg_at_k([3, 2, 1, 0], 4) == pytest.approx(1.0)
    # reversed: 0 + 1/1 + 2/log2(3) + 3/log2(4) = 2.5 + 1.2619; ideal 3 + 2 + 1/log2(3) + 0
    got = ndcg_at_k([0, 1, 2, 3], 4)
    assert got == pytest.approx((1 + 2 / math.log2(3) + 1.5) / (5 + 1 / math.log2(3)))


def test_ndcg_cut_uses_the_ideal_of_the_whole_pool() -> None:
    # top 2 of [1, 0, 3]: dcg 1 + 0; ideal top 2 of [3, 1, 0]: 3 + 1
    assert ndcg_at_k([1, 0, 3], 2) == pytest.approx(1 / 4)


def test_ndcg_without_any_gain_is_zero() -> None:
    assert ndcg_at_k([0, 0, 0], 2) == 0.0
    assert ndcg_pct([]) == 0.0


def test_ndcg_pct_cuts_at_twenty_percent_of_the_pool_rounded_down() -> None:
    assert pct_cutoff(125) == 25
    assert pct_cutoff(124) == 24
    assert pct_cutoff(3) == 1
    # pool of 10: cut at 2; gains beyond rank 2 do not count
    gains = [0, 2, 0, 0, 0, 0, 0, 0, 0, 3]
    assert ndcg_pct(gains) == pytest.approx(2 / (3 + 2))


def test_average_precision_counts_grades_at_or_above_threshold() -> None:
    # relevant (>= 2) at ranks 1 and 3: (1/1 + 2/3) / 2
    assert average_precision([3, 1, 2, 0]) == pytest.approx((1 + 2 / 3) / 2)
    # threshold 1: ranks 1, 2, 3 -> (1 + 1 + 1) / 3
    assert average_precision([3, 1, 2, 0], threshold=1) == pytest.approx(1.0)
    assert average_precision([0, 1, 0]) == 0.0


def test_ranked_gains_and_mean() -> None:
    assert ranked_gains(["a", "x", "b"], {"a": 2, "b": 1}) == [2.0, 0.0, 1.0]
    assert mean([1.0, 2.0, 6.0]) == 3.0
    assert mean([]) == 0.0
