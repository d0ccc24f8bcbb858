"""Reliability and structure of the areas: Cronbach's alpha by area, correlations, principal
components, item-rest correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..numerics import TIE_DECIMALS
from ..stats import alpha_from_cov, pairwise_cov
from .common import AREA_LABELS, DEFAULT_SEED
from .scoring import IndexResult


# ------------------------------------------------------------------ reliability
def _pairwise_alpha(x: np.ndarray) -> np.ndarray:
    """Cronbach's alpha from pairwise-complete covariances of a stack of data sets (b x n x k):
    every row enters each covariance whose two items it answers."""
    return alpha_from_cov(pairwise_cov(x))


def _complete_case_alpha(items: pd.DataFrame) -> float:
    """The shared Cronbach's alpha on the complete rows; NaN where it is undefined (fewer than
    two items or complete rows, or a total that does not vary)."""
    from ..stats import cronbach_alpha  # the one estimator of the library

    complete = items.dropna()
    if complete.shape[1] < 2 or len(complete) < 2 or complete.sum(axis=1).var(ddof=1) <= 0:
        return float("nan")
    return cronbach_alpha(complete)


def alpha_by_area(
    result: IndexResult, n_boot: int = 2000, seed: int = DEFAULT_SEED, level: float = 0.95
) -> pd.DataFrame:
    """Cronbach's alpha of each area's indicators across all assessed localities.

    Every town enters (pairwise-complete covariances: each covariance on the towns that
    answered both items); the interval is a percentile bootstrap over towns
    (``n_boot`` resamples). ``alpha_complete`` is the complete-case alpha for comparison
    and ``complete_localities`` its number of towns. Alpha assumes reflective indicators
    (items that measure one underlying trait); policy indicators are formative (each is
    a distinct measure that defines the area), so a low alpha does not make an area score
    wrong: it says the area's measures are not interchangeable."""
    rng = np.random.default_rng(seed)
    tail = 100 * (1 - level) / 2
    rows = []
    n = len(result.localities)
    boot = rng.integers(0, n, size=(n_boot, n))
    for area in result.areas:
        cols = result.indicators.index[result.indicators["area"] == area]
        items = result.indicator_scores[cols]
        x = items.to_numpy()
        complete = int(items.notna().all(axis=1).sum())
        alpha_c = _complete_case_alpha(items)
        alpha = float(_pairwise_alpha(x[None])[0]) if len(cols) >= 2 else float("nan")
        draws = _pairwise_alpha(x[boot]) if len(cols) >= 2 else np.full(n_boot, np.nan)
        lo, hi = np.nanpercentile(draws, [tail, 100 - tail]) if np.isfinite(draws).any() else (np.nan, np.nan)
        rows.append(
            {
                "area": area,
                "label": AREA_LABELS.get(area, area),
                "indicators": len(cols),
                "localities": int(items.notna().any(axis=1).sum()),
                "alpha": alpha,
                "ci_low": float(lo),
                "ci_high": float(hi),
                "complete_localities": complete,
                "alpha_complete": alpha_c,
            }
        )
    return pd.DataFrame(rows)


def area_correlations(result: IndexResult, method: str = "pearson", labels: bool = False) -> pd.DataFrame:
    """Correlations between area scores across localities (pairwise complete)."""
    corr = result.area_scores.corr(method=method)
    return corr.rename(index=AREA_LABELS, columns=AREA_LABELS) if labels else corr


def correlation_summary(corr: pd.DataFrame) -> dict:
    """Smallest, median and largest correlation between two different areas."""
    values = corr.to_numpy()[np.triu_indices(len(corr), k=1)]
    return {
        "min": float(np.nanmin(values)),
        "median": float(np.nanmedian(values)),
        "max": float(np.nanmax(values)),
    }


def principal_components(result: IndexResult) -> pd.DataFrame:
    """Principal components of the area scores of the ranked towns (correlation matrix):
    component, eigenvalue, share of variance, cumulative share, and the loadings of each
    area (columns named by area; the sign makes the loadings sum to a positive number).
    ``attrs["n_above_one"]``: components with an eigenvalue above 1 (Kaiser rule)."""
    x = result.area_scores[result.overall.notna()].to_numpy()
    if len(x) < 3:
        raise InputError("Principal components need at least three ranked towns.")
    corr = np.corrcoef(x, rowvar=False)
    values, vectors = np.linalg.eigh(corr)
    order = np.argsort(-np.round(values, TIE_DECIMALS), kind="stable")
    values, vectors = values[order], vectors[:, order]
    vectors = vectors * np.where(vectors.sum(axis=0) < 0, -1.0, 1.0)
    out = pd.DataFrame(vectors.T, columns=result.areas)
    out.insert(0, "component", np.arange(1, len(values) + 1))
    out.insert(1, "eigenvalue", values)
    out.insert(2, "share", values / values.sum())
    out.insert(3, "cumulative_share", np.cumsum(values) / values.sum())
    out.attrs["n_above_one"] = int((np.round(values, TIE_DECIMALS) > 1).sum())
    out.attrs["n"] = len(x)
    return out


def area_index_correlations(result: IndexResult) -> pd.DataFrame:
    """How much each area actually drives the overall score (COINr's check of
    "effective weights"): Pearson r of the area with the overall score, r with the
    mean of the other areas (area-rest), and the area's share of the squared
    correlations (r^2 / sum r^2), beside its nominal weight. Ranked towns only."""
    a = result.area_scores[result.overall.notna()]
    overall = result.overall.dropna()
    rows = []
    for area in a.columns:
        rest = a.drop(columns=area).mean(axis=1)
        rows.append(
            {
                "area": area,
                "label": AREA_LABELS.get(area, area),
                "r_index": float(np.corrcoef(a[area], overall)[0, 1]),
                "r_rest": float(np.corrcoef(a[area], rest)[0, 1]),
            }
        )
    out = pd.DataFrame(rows)
    r2 = out["r_index"] ** 2
    out["effective_share"] = r2 / r2.sum()
    out["nominal_weight"] = 1.0 / len(out)
    return out


def item_rest_correlations(result: IndexResult) -> pd.DataFrame:
    """Item-rest correlation of each indicator: Pearson r between the indicator and the
    mean of the other answered indicators of its area, over the towns that answered the
    indicator and at least one other of its area. NaN when either side does not vary."""
    rows = []
    x = result.indicator_scores
    for area in result.areas:
        cols = list(result.indicators.index[result.indicators["area"] == area])
        for col in cols:
            rest = x[[c for c in cols if c != col]].mean(axis=1)
            ok = x[col].notna() & rest.notna()
            a, b = x.loc[ok, col].to_numpy(), rest[ok].to_numpy()
            r = (
                float(np.corrcoef(a, b)[0, 1])
                if ok.sum() > 2 and a.std() > 0 and b.std() > 0
                else float("nan")
            )
            rows.append(
                {
                    "indicator_id": col,
                    "area": area,
                    "label": AREA_LABELS.get(area, area),
                    "n": int(ok.sum()),
                    "r_rest": r,
                }
            )
    return pd.DataFrame(rows)
