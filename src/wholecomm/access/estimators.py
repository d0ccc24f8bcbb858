"""Estimators the access hypotheses need beyond :mod:`wholecomm.stats`: the clustered
McNemar test, paired differences of shares within interviews, the 2x2 odds ratio and a
cluster-robust logistic regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .. import policy
from ..policy import clustered_mean


def clustered_mcnemar(x, y, clusters) -> dict:
    """McNemar test for paired binary outcomes with clustered pairs (Durkalski et al. 2003).

    With ``b_k`` pairs (x True, y False) and ``c_k`` pairs (x False, y True) in cluster k:
    ``X2 = (sum_k (b_k - c_k))^2 / sum_k (b_k - c_k)^2``, chi-square with 1 degree of
    freedom. Also returns the discordant counts and the ordinary (unclustered) McNemar
    statistic ``(b - c)^2 / (b + c)`` for comparison.
    """
    x = policy._as_bool_array(x, "clustered_mcnemar x")
    y = policy._as_bool_array(y, "clustered_mcnemar y")
    if len(x) != len(y):
        raise ValueError("clustered_mcnemar: x and y must have the same length (one pair per observation).")
    g = policy._as_clusters(clusters, len(x))
    b_k = np.bincount(g, weights=(x & ~y).astype(float))
    c_k = np.bincount(g, weights=(~x & y).astype(float))
    b, c = int(b_k.sum()), int(c_k.sum())
    if b + c == 0:
        raise ValueError("clustered_mcnemar: no discordant pairs; the test is undefined.")
    d = b_k - c_k
    denom = np.sum(d**2)
    stat = float(d.sum() ** 2 / denom) if denom > 0 else float("nan")
    return {
        "statistic": stat,
        "p_value": float(stats.chi2.sf(stat, 1)),
        "b": b,
        "c": c,
        "ordinary_statistic": float((b - c) ** 2 / (b + c)),
        "ordinary_p_value": float(stats.chi2.sf((b - c) ** 2 / (b + c), 1)),
    }


def paired_difference(x, y, clusters, level: float = 0.95) -> dict:
    """Difference between the shares of ``x`` and ``y`` measured on the same interviews
    (share x - share y), with a CR1 cluster-robust interval (the mean of the per-interview
    differences x_i - y_i, t on G - 1 degrees of freedom, with its p-value ``t_p_value``)
    and the clustered McNemar test (``p_value``)."""
    x = policy._as_bool_array(x, "paired_difference x")
    y = policy._as_bool_array(y, "paired_difference y")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError("paired_difference: x and y need the same, positive number of observations.")
    m = clustered_mean(x.astype(float) - y.astype(float), clusters, level)
    test = clustered_mcnemar(x, y, clusters)
    return {
        "share_x": float(x.mean()),
        "share_y": float(y.mean()),
        "difference": m["estimate"],
        "ci_low": m["ci_low"],
        "ci_high": m["ci_high"],
        "n": m["n"],
        "clusters": m["clusters"],
        "t_p_value": m["p_value"],
        "statistic": test["statistic"],
        "p_value": test["p_value"],
        "discordant_x_only": test["b"],
        "discordant_y_only": test["c"],
    }


def odds_ratio_2x2(a: int, b: int, c: int, d: int, level: float = 0.95) -> dict:
    """Odds ratio ``(a d) / (b c)`` of a 2x2 table (a = exposed with outcome, b = exposed
    without, c = unexposed with, d = unexposed without) with Woolf's log interval.
    Independent observations are assumed; a zero cell raises an error (no correction is
    applied silently)."""
    cells = np.array([a, b, c, d], dtype=float)
    if np.any(cells < 0):
        raise ValueError("odds_ratio_2x2: counts must not be negative.")
    if np.any(cells == 0):
        raise ValueError(
            f"odds_ratio_2x2: a zero cell ({dict(zip('abcd', cells.astype(int), strict=False))}) makes the odds "
            "ratio or its interval infinite; report the counts instead."
        )
    z = float(stats.norm.ppf(0.5 + level / 2))
    log_or = np.log(a * d / (b * c))
    se = np.sqrt(np.sum(1 / cells))
    return {
        "odds_ratio": float(np.exp(log_or)),
        "ci_low": float(np.exp(log_or - z * se)),
        "ci_high": float(np.exp(log_or + z * se)),
        "se_log": float(se),
    }


def _logit_cluster(y: pd.Series, X: pd.DataFrame, groups, level: float = 0.95):
    import statsmodels.api as sm

    g = policy._as_clusters(groups, len(y))
    fit = sm.GLM(
        y.astype(float), sm.add_constant(X.astype(float), has_constant="add"), family=sm.families.Binomial()
    ).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    return fit, fit.conf_int(alpha=1 - level), int(g.max() + 1)
