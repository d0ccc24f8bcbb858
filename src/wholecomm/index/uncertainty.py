"""Monte Carlo uncertainty analysis of the ranking: draws, rank intervals, their Monte Carlo
error, and the pairwise order read from the joint draws."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from .common import DEFAULT_SEED, stats
from .perturbation import (
    AGGREGATIONS,
    FACTORS,
    _as_result,
    _check_factors,
    _decode,
    _design,
    _evaluate,
    _prepare,
    _Prepared,
    _ranks,
)
from .scoring import IndexResult, rank


@dataclass
class MonteCarloResult:
    """Rank distribution of each locality over the uncertainty factors of the index.

    ``ranks`` and ``scores``: draws x localities (ranks on scores rounded to
    ``TIE_DECIMALS``); ``factors``: the value of each factor in each draw (aggregation,
    geometric shift, left-out area, imputation, realisation, threshold, middle);
    ``weights``: the area weights of each draw; ``rules``: the aggregation of each draw;
    ``point``: the published scores; ``design``: the unit-cube inputs of the draws."""

    ranks: pd.DataFrame
    scores: pd.DataFrame
    rules: pd.Series
    weights: pd.DataFrame
    point: pd.Series
    seed: int
    n_imputed: int = 0
    settings: dict = field(default_factory=dict)
    factors: pd.DataFrame | None = None
    design: np.ndarray | None = None


def _mc_result(
    prep: _Prepared,
    u: np.ndarray,
    seed: int,
    settings: dict,
    scores: np.ndarray | None = None,
    ranks: np.ndarray | None = None,
) -> MonteCarloResult:
    f = _decode(u, len(prep.areas), prep.hole_lo.shape[0])
    if scores is None:
        scores = _evaluate(prep, u)[0]
    if ranks is None:
        ranks = _ranks(scores)
    draws = pd.RangeIndex(len(u), name="draw")
    agg = np.asarray(AGGREGATIONS, dtype=object)[f["aggregation"]]
    factors = pd.DataFrame(
        {
            "aggregation": agg,
            "geometric_shift": np.where(f["aggregation"] == 1, f["shift"], np.nan),
            "left_out_area": np.where(
                f["aggregation"] == 2, np.asarray(prep.areas, dtype=object)[f["left_out"]], None
            ),
            "imputation": np.where(f["hot_deck"], "hot_deck", "point_rule"),
            "realisation": f["realisation"],
            "threshold": f["threshold"],
            "middle": f["middle"],
        },
        index=draws,
    )
    return MonteCarloResult(
        ranks=pd.DataFrame(ranks, index=draws, columns=prep.ids),
        scores=pd.DataFrame(scores, index=draws, columns=prep.ids),
        rules=pd.Series(agg, index=draws, name="aggregation"),
        weights=pd.DataFrame(f["weights"], index=draws, columns=pd.Index(prep.areas, name="area")),
        point=prep.point,
        seed=int(seed),
        n_imputed=prep.n_holes,
        settings=settings,
        factors=factors,
        design=u,
    )


def monte_carlo(
    result_or_inputs, n_draws: int = 10_000, seed: int = DEFAULT_SEED, factors: Sequence[str] = FACTORS
) -> MonteCarloResult:
    """Uncertainty analysis of the ranking (OECD/JRC handbook; COINr's practice).

    Each draw sets every factor in ``factors`` independently (the others stay nominal):

    * **weights**: each area weight uniform within +-25% (:data:`~wholecomm.index.perturbation.WEIGHT_SPREAD`) of the
      nominal equal weight, then rescaled to sum to 1;
    * **aggregation** (equally likely): the arithmetic mean of the areas (nominal); a
      geometric mean of the shifted area scores, exp(sum w log(s + c)) - c, with the
      shift c log-uniform in 0.1-10 points (:data:`~wholecomm.index.perturbation.GEOMETRIC_SHIFT`); or the arithmetic
      mean leaving one area out (each area equally likely);
    * **imputation** (equally likely): the point rule (an area's unanswered items are
      left out, i.e. the area is the mean of the town's own answers in it: nominal), or a
      hot-deck: each unanswered item takes the answer of one of the
      :data:`~wholecomm.index.perturbation.N_DONORS` towns most similar to the town (:func:`~wholecomm.index.perturbation.hot_deck_donors`) that
      answered it, one of :data:`~wholecomm.index.perturbation.N_REALISATIONS` realisations drawn once;
    * **threshold**: answered-share threshold 1/2, 2/3 (nominal) or 5/6; an area
      answered below the threshold is completed by the hot-deck whatever the
      imputation factor (under the point rule it would have no score);
    * **middle**: the middle answer scores uniformly 25-75 points (nominal 50); other
      scores move piecewise linearly (0 and 100 stay).

    At the nominal values every town gets its published score. The ranked towns are
    those with a published overall score, in every draw; ranks (1 = best, ties share
    the best rank) are taken on scores rounded to ``TIE_DECIMALS``. Deterministic for a
    given ``seed``.
    """
    result = _as_result(result_or_inputs)
    if int(n_draws) < 1:
        raise InputError(f"n_draws must be at least 1, got {n_draws!r}.")
    factors = _check_factors(factors)
    rng = np.random.default_rng(seed)
    prep = _prepare(result, rng)
    u = _design(prep, rng.random((int(n_draws), len(prep.areas) + 4)), factors)
    return _mc_result(prep, u, seed, {"n_draws": int(n_draws), "factors": factors, "design": "Monte Carlo"})


def nominal_scores(result: IndexResult) -> pd.Series:
    """Scores of the ranked towns with every uncertainty factor at its nominal value
    (equal to the published overall scores; a check of the uncertainty model)."""
    prep = _prepare(result, np.random.default_rng(0), n_realisations=1)
    return pd.Series(_evaluate(prep, prep.nominal[None, :])[0][0], index=prep.ids, name="nominal")


def rank_intervals(mc: MonteCarloResult, level: float = 0.90) -> pd.DataFrame:
    """Per locality: point rank (published scores), median Monte Carlo rank and the central
    ``level`` interval of the Monte Carlo ranks (default 5th to 95th percentile; the
    lower bound rounds down and the upper bound up to whole ranks). ``point_inside``
    says whether the point rank lies in the interval. Sorted by point rank."""
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1, got {level!r}.")
    ranks = np.sort(mc.ranks.to_numpy(), axis=0)  # one sort; quantiles are order statistics
    n = len(ranks)
    tail = (1 - level) / 2
    point = rank(mc.point)

    def quantile(q: float, method: str) -> np.ndarray:  # numpy's "lower"/"higher" quantiles
        h = (n - 1) * q
        return ranks[int(np.floor(h + 1e-9)) if method == "lower" else int(np.ceil(h - 1e-9))]

    h = (n - 1) * 0.5
    median = (ranks[int(np.floor(h))] + ranks[int(np.ceil(h))]) / 2.0
    out = pd.DataFrame(
        {
            "score": mc.point,
            "rank": point["rank"].reindex(mc.point.index),
            "tied": point["tied"].reindex(mc.point.index),
            "rank_median": median,
            "rank_low": quantile(tail, "lower").astype(int),
            "rank_high": quantile(1 - tail, "higher").astype(int),
        },
        index=mc.point.index,
    )
    out["point_inside"] = (out["rank"] >= out["rank_low"]) & (out["rank"] <= out["rank_high"])
    out["point_inside"] = out["point_inside"].astype(bool)
    order = np.lexsort((np.asarray(out.index, dtype=str), out["rank"].astype(float).to_numpy()))
    return out.iloc[order]


def rank_interval_summary(intervals: pd.DataFrame) -> dict:
    """Widths of the Monte Carlo rank intervals (``rank_high - rank_low + 1`` ranks)."""
    width = (intervals["rank_high"] - intervals["rank_low"] + 1).astype(int)
    return {
        "n": len(intervals),
        "median_width": float(width.median()),
        "max_width": int(width.max()),
        "min_width": int(width.min()),
        "all_point_inside": bool(intervals["point_inside"].all()),
        "n_point_outside": int((~intervals["point_inside"]).sum()),
        "widest_id": str(width.idxmax()),
    }


def monte_carlo_error(mc: MonteCarloResult, level: float = 0.90, confidence: float = 0.95) -> pd.DataFrame:
    """Monte Carlo error of the rank summaries, per locality.

    ``mean_rank_se``: standard error of the mean rank (sd / sqrt(draws)); ``lo_min``,
    ``lo_max`` (``hi_min``, ``hi_max``): the distribution-free ``confidence`` interval of
    the lower (upper) endpoint of the ``level`` rank interval, from the order statistics
    of the draws (binomial normal approximation); ``endpoint_settled`` is True when both
    endpoint intervals hold a single rank, i.e. more draws would not move the endpoints.
    ``attrs``: n_draws, max_mean_rank_se, n_unsettled."""
    ranks = np.sort(mc.ranks.to_numpy(), axis=0)
    n = ranks.shape[0]
    z = stats.norm.ppf(0.5 + confidence / 2)
    tail = (1 - level) / 2

    def order_stat(q: float, side: int) -> np.ndarray:
        k = n * q + side * z * np.sqrt(n * q * (1 - q))
        idx = int(np.clip(np.floor(k) if side < 0 else np.ceil(k), 0, n - 1))
        return ranks[idx]

    out = pd.DataFrame(
        {
            "mean_rank": ranks.mean(axis=0),
            "mean_rank_se": ranks.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.nan,
            "lo_min": order_stat(tail, -1),
            "lo_max": order_stat(tail, +1),
            "hi_min": order_stat(1 - tail, -1),
            "hi_max": order_stat(1 - tail, +1),
        },
        index=mc.ranks.columns,
    )
    out["endpoint_settled"] = (out["lo_min"] == out["lo_max"]) & (out["hi_min"] == out["hi_max"])
    out.attrs.update(
        {
            "n_draws": n,
            "max_mean_rank_se": float(out["mean_rank_se"].max()),
            "n_unsettled": int((~out["endpoint_settled"]).sum()),
        }
    )
    return out


# ----------------------------------------------------------- pairwise order
def pairwise_order(mc: MonteCarloResult) -> pd.DataFrame:
    """P(row town ranks above column town): the share of the joint draws in which the
    row town has a strictly better (smaller) rank. ``P[i, j] + P[j, i]`` is below 1 by
    the share of draws in which the two are tied. Rows and columns in point-rank order."""
    ranks = mc.ranks.to_numpy()
    order = rank(mc.point).index
    pos = mc.ranks.columns.get_indexer(order)
    r = ranks[:, pos]
    n = r.shape[1]
    p = np.empty((n, n))
    for i in range(n):
        p[i] = (r[:, [i]] < r).mean(axis=0)
    return pd.DataFrame(p, index=pd.Index(order, name="locality_id"), columns=pd.Index(order, name="below"))


def firm_order(
    mc: MonteCarloResult, pairwise: pd.DataFrame | None = None, firm: float = 0.95, level: float = 0.90
) -> tuple[pd.DataFrame, dict]:
    """Per town: the number of towns it ranks above (below) in at least ``firm`` of the
    draws; and a summary of the pairs whose ``level`` rank intervals overlap: how many
    of them still keep one order in at least ``firm`` of the draws."""
    p = pairwise_order(mc) if pairwise is None else pairwise
    values = p.to_numpy()
    per = pd.DataFrame(
        {"firmly_above": (values >= firm).sum(axis=1), "firmly_below": (values.T >= firm).sum(axis=1)},
        index=p.index,
    )
    ri = rank_intervals(mc, level).reindex(p.index)
    lo, hi = ri["rank_low"].to_numpy(), ri["rank_high"].to_numpy()
    iu = np.triu_indices(len(p), k=1)
    overlap = (lo[iu[0]] <= hi[iu[1]]) & (lo[iu[1]] <= hi[iu[0]])
    firm_pair = (values[iu] >= firm) | (values.T[iu] >= firm)
    summary = {
        "n_pairs": int(len(iu[0])),
        "n_firm": int(firm_pair.sum()),
        "n_overlap": int(overlap.sum()),
        "n_overlap_firm": int((overlap & firm_pair).sum()),
        "firm": firm,
        "level": level,
        "max_pair_se": float(np.sqrt(values * (1 - values) / len(mc.ranks)).max()),
    }
    return per, summary
