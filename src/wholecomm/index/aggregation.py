"""Alternative aggregation rules of the overall score and how far they move the ranking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..numerics import spearman
from .common import RULES
from .scoring import IndexResult, rank


# ---------------------------------------------------------------- aggregations
def _geometric(area: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted geometric mean of area scores, shifted by one point: exp(sum w log(s + 1)) - 1.

    The shift keeps a 0 area score finite (log 1 = 0): an area at 0 pulls the overall
    score down strongly but not to 0, which a plain geometric mean would do."""
    return np.exp(np.sum(weights * np.log1p(area), axis=-1)) - 1.0


def aggregate(result: IndexResult, rule: str = "area", weights: Sequence[float] | None = None) -> pd.Series:
    """Overall score under an aggregation rule.

    * ``"area"`` (the default of the index): weighted mean of area scores (equal weights
      unless ``weights`` are given, one per area, in ``result.areas`` order);
    * ``"indicator"``: mean of all answered indicators (each indicator weighs the same);
    * ``"geometric"``: weighted geometric mean of the area scores, each shifted by one
      point (see ``_geometric``; zero area scores stay finite).

    Every rule is computed for the same localities: those whose areas all meet the
    missing-data rule; the others are NaN.
    """
    if rule not in RULES:
        raise InputError(f"rule must be one of {RULES}, got {rule!r}.")
    n_area = len(result.areas)
    w = np.full(n_area, 1.0 / n_area) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n_area,) or not np.all(np.isfinite(w)) or (w < 0).any() or not np.isclose(w.sum(), 1.0):
        raise InputError(
            f"weights must be {n_area} non-negative numbers summing to 1 (one per area in "
            f"{result.areas}); got {weights!r}."
        )
    area = result.area_scores.to_numpy()
    if rule == "area":
        values = area @ w
    elif rule == "geometric":
        values = _geometric(area, w)
    else:
        ind = result.indicator_scores.to_numpy()
        answered = ~np.isnan(ind)
        counts = answered.sum(axis=1)
        values = np.where(
            counts > 0, np.where(answered, ind, 0.0).sum(axis=1) / np.maximum(counts, 1), np.nan
        )
    values = np.where(result.overall_flag.to_numpy(), np.nan, values)
    return pd.Series(values, index=result.overall.index, name=rule)


def alternative_aggregations(result: IndexResult) -> pd.DataFrame:
    """Overall scores under each rule of :data:`~wholecomm.index.common.RULES` (columns), one row per locality."""
    return pd.concat([aggregate(result, rule) for rule in RULES], axis=1)


def aggregation_agreement(result: IndexResult) -> pd.DataFrame:
    """How far each alternative rule moves the ranking: Spearman rank correlation with the
    default ("area") scores and the largest change of rank, over the ranked localities."""
    alt = alternative_aggregations(result).dropna()
    base = rank(alt["area"])["rank"].reindex(alt.index).astype(float)
    rows = []
    for rule in RULES:
        r = rank(alt[rule])["rank"].reindex(alt.index).astype(float)
        rho = spearman(alt["area"], alt[rule])
        rows.append(
            {
                "rule": rule,
                "spearman_rho": float(rho),
                "max_rank_shift": int(np.abs(r - base).max()),
                "mean_rank_shift": float(np.abs(r - base).mean()),
                "n": len(alt),
            }
        )
    return pd.DataFrame(rows)
