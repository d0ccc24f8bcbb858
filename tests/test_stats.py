"""Tests of wholecomm.stats, the shared estimators of the inference policy: Holm's
adjustment, test inversion, the Korn-Graubard interval, Firth's penalised likelihood
under separation (known answer: the 2x2 Haldane estimate), and the wild cluster
bootstrap interval (interval and test from one method)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from wholecomm import index, stats


# ------------------------------------------------------------------------ Holm
def test_holm_known_answer_and_peer():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.005]
    # by hand: sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> 0.06 (monotone)
    assert stats.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    rng = np.random.default_rng(3)
    for _ in range(20):
        q = rng.uniform(0, 0.2, size=9)
        assert stats.holm(q) == pytest.approx(multipletests(q, method="holm")[1], abs=1e-15)


def test_holm_refuses_bad_p_values():
    with pytest.raises(ValueError, match="between 0 and 1"):
        stats.holm([0.2, np.nan])
    with pytest.raises(ValueError, match="non-empty"):
        stats.holm([])


def test_moved_estimators_are_the_ones_index_uses():
    assert index.wild_cluster_bootstrap is stats.wild_cluster_bootstrap
    assert index.p_text is stats.p_text
    assert stats.p_text(1e-146) == "< 0.001"


# --------------------------------------------------------------- test inversion
def test_p_from_interval_inverts_a_normal_interval():
    est, se = 1.3, 0.6

    def interval(level):
        q = sps.norm.ppf(0.5 + level / 2)
        return est - q * se, est + q * se

    assert stats.p_from_interval(interval) == pytest.approx(2 * sps.norm.sf(est / se), abs=1e-9)
    assert stats.p_from_interval(lambda lv: (-1.0, 1.0)) == 1.0


# --------------------------------------------------------------- Korn-Graubard
def test_korn_graubard_is_clopper_pearson_without_design_effect_and_widens_with_few_clusters():
    from statsmodels.stats.proportion import proportion_confint

    n, k = 200, 37
    p = k / n
    se = np.sqrt(p * (1 - p) / n)
    lo, hi = stats.korn_graubard_interval(p, se, n, df=n - 1)
    ref = proportion_confint(k, n, alpha=0.05, method="beta")
    assert (lo, hi) == pytest.approx(ref, abs=1e-10)
    lo4, hi4 = stats.korn_graubard_interval(p, se, n, df=4)
    assert lo4 < lo and hi4 > hi
    assert 0 <= lo4 < p < hi4 <= 1


# ----------------------------------------------------------------------- Firth
def _table_frame(a, b, c, d):
    """Rows of a 2x2 table: x = exposure, y = outcome (a: x1 y1, b: x1 y0, c: x0 y1, d: x0 y0)."""
    x = [1] * (a + b) + [0] * (c + d)
    y = [1] * a + [0] * b + [1] * c + [0] * d
    return np.array(y, dtype=float), pd.DataFrame({"const": 1.0, "x": np.array(x, dtype=float)})


@pytest.mark.parametrize("cells", [(5, 0, 2, 6), (0, 7, 4, 3), (9, 3, 4, 8)])
def test_firth_on_a_2x2_table_is_the_haldane_estimate(cells):
    # Known answer (Firth 1993; Heinze and Schemper 2002): in the saturated logistic model
    # of a 2x2 table, Firth's estimate is the log odds ratio with 1/2 added to every cell.
    a, b, c, d = cells
    y, X = _table_frame(a, b, c, d)
    fit = stats.firth_logit(y, X).set_index("term")
    assert fit.loc["x", "estimate"] == pytest.approx(
        np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))), abs=1e-7
    )
    assert fit.loc["const", "estimate"] == pytest.approx(np.log((c + 0.5) / (d + 0.5)), abs=1e-7)
    assert np.isfinite(fit[["ci_low", "ci_high"]].to_numpy()).all()
    assert (fit["ci_low"] < fit["estimate"]).all() and (fit["estimate"] < fit["ci_high"]).all()


def test_firth_survives_complete_separation_where_maximum_likelihood_diverges():
    # Complete separation along a trend: no rural area (0) has staff, every medium town (2) has.
    size = np.array([0] * 15 + [1] * 10 + [2] * 2, dtype=float)
    staff = np.array([0] * 15 + [0] * 6 + [1] * 4 + [1] * 2, dtype=float)
    X = pd.DataFrame({"const": 1.0, "size_step": size})
    fit = stats.firth_logit(staff, X).set_index("term").loc["size_step"]
    assert np.isfinite(fit["estimate"]) and fit["estimate"] > 0
    assert np.isfinite(fit["ci_high"]) and fit["ci_low"] > 0  # the trend is clear, the interval finite
    assert fit["p_value"] < 0.05


def test_firth_interval_and_test_agree_and_approach_ml_in_large_samples():
    import statsmodels.api as sm

    rng = np.random.default_rng(11)
    for beta in (0.0, 0.4, 1.0):
        x = rng.normal(size=60)
        y = (rng.uniform(size=60) < 1 / (1 + np.exp(-(-0.3 + beta * x)))).astype(float)
        fit = stats.firth_logit(y, pd.DataFrame({"const": 1.0, "x": x})).set_index("term").loc["x"]
        excludes = fit["ci_low"] > 0 or fit["ci_high"] < 0
        assert excludes == (fit["p_value"] < 0.05)
    x = rng.normal(size=4000)
    y = (rng.uniform(size=4000) < 1 / (1 + np.exp(-(0.2 + 0.7 * x)))).astype(float)
    X = pd.DataFrame({"const": 1.0, "x": x})
    ml = sm.Logit(y, X).fit(disp=0).params["x"]
    assert stats.firth_logit(y, X).set_index("term").loc["x", "estimate"] == pytest.approx(ml, abs=2e-3)


def test_firth_refuses_bad_input():
    X = pd.DataFrame({"const": 1.0, "x": [0.0, 1.0, 2.0]})
    with pytest.raises(ValueError, match="0/1"):
        stats.firth_logit([0, 2, 1], X)
    with pytest.raises(ValueError, match="linearly dependent"):
        stats.firth_logit([0, 1, 1], X.assign(x2=2 * X["x"]))
    with pytest.raises(ValueError, match="one value per row"):
        stats.firth_logit([0, 1], X)


# --------------------------------------------------------- wild cluster interval
def test_wild_cluster_interval_inverts_its_own_test():
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(12), 6)
    treated = (g < 3).astype(float)  # few treated clusters
    y = 0.5 * treated + rng.normal(size=12)[g] * 0.3 + rng.normal(size=72)
    X = sm.add_constant(treated)
    out = stats.wild_cluster_interval(y, X, g, 1, n_boot=999, seed=1)
    assert out["ci_low"] < out["estimate"] < out["ci_high"]
    assert (out["ci_low"] > 0 or out["ci_high"] < 0) == (out["p"] < 0.05)
    # at the bounds the test of that value sits at the rejection boundary
    inside = stats.wild_cluster_bootstrap(y, X, g, 1, 999, 1, null=out["ci_low"] + 1e-3)["p"]
    outside = stats.wild_cluster_bootstrap(y, X, g, 1, 999, 1, null=out["ci_low"] - 0.05)["p"]
    assert inside > 0.05 >= outside
    # the null imposed at the estimate is not rejected
    assert stats.wild_cluster_bootstrap(y, X, g, 1, 999, 1, null=out["estimate"])["p"] > 0.5
