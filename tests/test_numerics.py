"""Decisions on floats (ranks, ties, sorts, thresholds, rank correlations) do not depend on
the last bits that differ between CPUs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wholecomm import index, numerics


def _nudge(values: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Move each value by a few units in the last place, as another BLAS kernel may."""
    out = values.astype(float).copy()
    for i, k in enumerate(steps):
        for _ in range(abs(int(k))):
            out[i] = np.nextafter(out[i], np.inf if k > 0 else -np.inf)
    return out


@pytest.fixture
def tied_scores() -> pd.Series:
    # 30.8333... twice, as (0+50+50+100+50+35)/6 and 185/6: equal on paper.
    return pd.Series(
        [185 / 6, 185 / 6, 50.0, 12.5, 50.0, 70.0],
        index=["AT-02", "IT-02", "BE-01", "DE-03", "ES-04", "SE-05"],
    )


def test_tie_round_keeps_types_and_rounds_to_the_documented_decimals(tied_scores):
    assert numerics.TIE_DECIMALS == index.TIE_DECIMALS == 9
    assert isinstance(numerics.tie_round(tied_scores), pd.Series)
    assert isinstance(numerics.tie_round(1.0), float)
    assert numerics.tie_round(1 / 3) == round(1 / 3, 9)
    assert numerics.tie_round(np.array([0.1 + 0.2])).tolist() == [0.3]


def test_ranks_and_rank_correlation_ignore_last_bit_noise(tied_scores):
    rng = np.random.default_rng(7)
    other = tied_scores.to_numpy() * 0.9 + 3
    rho = numerics.spearman(tied_scores, other)
    ranks = index.rank(tied_scores)
    for _ in range(20):
        noisy = pd.Series(
            _nudge(tied_scores.to_numpy(), rng.integers(-3, 4, len(tied_scores))), index=tied_scores.index
        )
        assert numerics.spearman(noisy, _nudge(other, rng.integers(-3, 4, len(other)))) == rho
        pd.testing.assert_frame_equal(index.rank(noisy).drop(columns="score"), ranks.drop(columns="score"))


def test_plain_spearman_would_depend_on_the_noise(tied_scores):
    """The failure the rule prevents: raw floats split a tie that exact arithmetic has."""
    from scipy import stats

    split = tied_scores.copy()
    split.iloc[0] = np.nextafter(split.iloc[0], np.inf)
    y = np.arange(len(split), dtype=float)
    assert stats.spearmanr(split, y).statistic != stats.spearmanr(tied_scores, y).statistic
    assert numerics.spearman(split, y) == numerics.spearman(tied_scores, y)


def test_first_extremes_sorts_and_ties_use_the_rule(tied_scores):
    noisy = tied_scores.copy()
    noisy.iloc[4] = np.nextafter(50.0, np.inf)  # ES-04 above BE-01 only in the last bit
    noisy.iloc[1] = np.nextafter(noisy.iloc[1], np.inf)
    assert numerics.first_max(noisy.drop("SE-05")) == "BE-01"
    assert numerics.first_min(noisy) == "DE-03"
    assert numerics.ties(noisy, 50.0).tolist() == [False, False, True, False, True, False]
    frame = noisy.rename("score").reset_index()
    ordered = numerics.sort_by(frame, "score", ascending=False, then=["index"])
    assert ordered["index"].tolist() == ["SE-05", "BE-01", "ES-04", "AT-02", "IT-02", "DE-03"]
    with pytest.raises(ValueError, match="no non-missing"):
        numerics.first_max(pd.Series([np.nan]))


def test_aggregation_agreement_is_the_same_whatever_the_last_bits():
    """Equal-on-paper overall scores stay tied under every rule, whatever BLAS returns."""
    answers = []
    codes = {"I1": "a", "I2": "b", "I3": "c", "I4": "a"}
    for loc, pattern in {"T1": "abca", "T2": "acba", "T3": "bbcc", "T4": "aaab", "T5": "ccca"}.items():
        for (ind, _), code in zip(codes.items(), pattern, strict=False):
            answers.append({"locality_id": loc, "indicator_id": ind, "answer_code": code})
    indicators = pd.DataFrame(
        {
            "indicator_id": list(codes),
            "area": ["x", "x", "y", "y"],
            "stage": ["formulation", "output", "formulation", "output"],
        }
    )
    options = pd.DataFrame(
        [
            {"indicator_id": i, "answer_code": c, "score": s}
            for i in codes
            for c, s in (("a", 100.0), ("b", 50.0), ("c", 0.0))
        ]
    )
    res = index.score(pd.DataFrame(answers), indicators, options)
    base = index.aggregation_agreement(res)
    noisy_area = res.area_scores.copy()
    noisy_area.iloc[:, 0] = _nudge(noisy_area.iloc[:, 0].to_numpy(), np.array([1, -1, 2, 0, -2]))
    res.area_scores = noisy_area
    pd.testing.assert_frame_equal(index.aggregation_agreement(res), base)
