"""Intervals and variance shares for scores of towns grouped in countries (few clusters)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..stats import cluster_codes as _cluster_codes
from .common import stats


# ------------------------------------------------------ country-aware inference
def bounded_mean_ci(
    values, clusters=None, level: float = 0.95, lower: float = 0.0, upper: float = 100.0
) -> dict:
    """Mean of scores bounded by ``lower``-``upper`` with an interval that stays inside
    the scale by construction: a t interval on the logit of the rescaled mean (delta
    method), transformed back.

    Without ``clusters`` the standard error is the usual one with n - 1 degrees of
    freedom. With ``clusters`` (e.g. the country of each town) it is cluster-robust
    (CR1: sum over clusters of the squared sums of deviations, times G / (G - 1)) with
    G - 1 degrees of freedom, so towns of one country count as correlated. A mean at a
    bound, or without spread, gets the degenerate interval [mean, mean]."""
    y = np.asarray(values, dtype=float)
    if y.size == 0 or np.isnan(y).any():
        raise InputError("bounded_mean_ci needs at least one value and no missing values.")
    if (y < lower).any() or (y > upper).any():
        raise InputError(f"bounded_mean_ci: values must lie in [{lower}, {upper}].")
    n, mean = y.size, float(y.mean())
    if clusters is None:
        df = n - 1
        se = float(y.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        method = f"t ({df} df), logit scale"
    else:
        g = _cluster_codes(clusters)
        if len(g) != n:
            raise InputError("bounded_mean_ci: clusters must have one entry per value.")
        n_g = int(g.max()) + 1
        df = n_g - 1
        sums = np.bincount(g, weights=y - mean, minlength=n_g)
        se = float(np.sqrt(n_g / (n_g - 1) * np.sum(sums**2)) / n) if n_g > 1 else np.nan
        method = f"cluster-robust t ({df} df, {n_g} clusters), logit scale"
    out = {"mean": mean, "n": n, "df": df, "se": se, "method": method}
    p = (mean - lower) / (upper - lower)
    if df < 1 or not np.isfinite(se):
        return out | {"ci_low": np.nan, "ci_high": np.nan}
    if se == 0 or p <= 0 or p >= 1:
        return out | {"ci_low": mean, "ci_high": mean}
    q = stats.t.ppf(0.5 + level / 2, df)
    half = q * se / (upper - lower) / (p * (1 - p))
    centre = np.log(p / (1 - p))
    lo, hi = (lower + (upper - lower) / (1 + np.exp(-(centre + s * half))) for s in (-1, 1))
    return out | {"ci_low": float(lo), "ci_high": float(hi)}


def country_icc(values: pd.Series, countries: pd.Series) -> float:
    """Intraclass correlation of ``values`` within countries (one-way ANOVA estimator,
    truncated at 0), over the entries present in both."""
    d = pd.DataFrame({"y": values, "g": countries}).dropna()
    groups = [grp["y"].to_numpy() for _, grp in d.groupby("g", observed=True)]
    k, n = len(groups), len(d)
    if k < 2 or n <= k:
        return float("nan")
    sizes = np.array([len(s) for s in groups])
    grand = d["y"].mean()
    msb = sum(len(s) * (s.mean() - grand) ** 2 for s in groups) / (k - 1)
    msw = sum(((s - s.mean()) ** 2).sum() for s in groups) / (n - k)
    n0 = (n - (sizes**2).sum() / n) / (k - 1)
    return float(max(0.0, (msb - msw) / (msb + (n0 - 1) * msw))) if msb + (n0 - 1) * msw > 0 else float("nan")


# ------------------------------------------------------------- town summaries
def _t_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    values = np.asarray(values, dtype=float)
    n = values.size
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean, float(mean - half), float(mean + half)
