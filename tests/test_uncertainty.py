"""Tests of the MIPEX-L uncertainty and sensitivity analysis (wholecomm.index): the
nominal draw reproduces the published scores, each factor does what it states, Sobol
indices of functions with known analytic indices, pairwise order against the draws,
Monte Carlo error, and the country-aware inference and coherence checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from test_index import small
from wholecomm import index


@pytest.fixture(scope="module")
def package_result():
    return index.from_package()


@pytest.fixture(scope="module")
def package_mc(package_result):
    return index.monte_carlo(package_result, n_draws=2000, seed=5)


# ------------------------------------------------------------ point scores untouched
def test_nominal_draw_reproduces_every_published_score(package_result):
    nominal = index.nominal_scores(package_result)
    published = package_result.overall.dropna()
    assert list(nominal.index) == list(published.index)
    np.testing.assert_allclose(nominal.to_numpy(), published.to_numpy(), rtol=0, atol=1e-9)
    mc = index.monte_carlo(package_result, n_draws=5, factors=())
    point = index.rank(published)["rank"].reindex(mc.ranks.columns).astype(int)
    assert (mc.ranks == point).all().all()


# ------------------------------------------------------------------- each factor
def test_thresholds_other_than_the_varied_ones_are_refused():
    res = small({"A": "aaa|aab", "B": "abc|abc", "C": "ccc|cbc"}, min_answered_share=0.6)
    with pytest.raises(ValueError, match="threshold"):
        index.monte_carlo(res, n_draws=10)
    res = small({"A": "aaa|aab", "B": "abc|abc", "C": "ccc|cbc"}, min_answered_share=5 / 6)
    assert len(index.monte_carlo(res, n_draws=10).ranks) == 10


def test_weights_stay_within_a_quarter_of_nominal(package_result):
    mc = index.monte_carlo(package_result, n_draws=3000, factors=("weights",), seed=2)
    w = mc.weights.to_numpy()
    k = w.shape[1]
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    ratio = w.max(axis=1) / w.min(axis=1)
    assert ratio.max() <= (1 + index.WEIGHT_SPREAD) / (1 - index.WEIGHT_SPREAD) + 1e-12
    assert ratio.max() > 1.5  # the range is used, not a token perturbation
    assert abs(w.mean() - 1 / k) < 1e-12
    assert (mc.rules == "arithmetic").all()


def test_aggregation_alternatives_by_hand():
    # Two areas; town A: labour 100, health 0; B: 50 and 50.
    res = small({"A": "aaa|ccc", "B": "bbb|bbb", "C": "abc|bbb"})
    mc = index.monte_carlo(res, n_draws=600, factors=("aggregation",), seed=4)
    f = mc.factors
    assert set(f["aggregation"]) == set(index.AGGREGATIONS)
    geo = (f["aggregation"] == "geometric").to_numpy()
    shift = f["geometric_shift"].to_numpy()[geo]
    assert shift.min() >= 0.1 and shift.max() <= 10 and shift.min() < 0.5 and shift.max() > 5
    expect = np.sqrt((100 + shift) * (0 + shift)) - shift
    np.testing.assert_allclose(mc.scores["A"].to_numpy()[geo], expect)
    loo = (f["aggregation"] == "leave_one_area_out").to_numpy()
    left = f["left_out_area"].to_numpy()[loo]
    assert set(left) == set(res.areas)
    np.testing.assert_allclose(mc.scores["A"].to_numpy()[loo], np.where(left == "labour_market", 0.0, 100.0))
    np.testing.assert_allclose(mc.scores["A"][(f["aggregation"] == "arithmetic").to_numpy()], 50.0)


def test_middle_answer_score_moves_middle_answers_only():
    res = small({"MID": "bbb|bbb", "TOP": "aaa|aaa", "LOW": "ccc|ccc"})
    mc = index.monte_carlo(res, n_draws=300, factors=("middle",), seed=6)
    m = mc.factors["middle"].to_numpy()
    assert m.min() >= 25 and m.max() <= 75 and np.ptp(m) > 40
    np.testing.assert_allclose(mc.scores["MID"], m)
    np.testing.assert_allclose(mc.scores["TOP"], 100.0)
    np.testing.assert_allclose(mc.scores["LOW"], 0.0)


def test_threshold_completes_thin_areas_from_donors_even_under_the_point_rule():
    # D answered 2 of 3 labour items: enough at 1/2 and 2/3, too few at 5/6.
    res = small({"A": "aba|aab", "B": "aba|aab", "C": "cac|ccc", "D": "a-a|aab"})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index.perturbation, "N_DONORS", 2)  # where the hot-deck reads it
        mc = index.monte_carlo(res, n_draws=400, factors=("threshold",), seed=8)
    t = mc.factors["threshold"].to_numpy()
    assert set(np.round(t, 6)) == {0.5, round(2 / 3, 6), round(5 / 6, 6)}
    assert (mc.factors["imputation"] == "point_rule").all()
    high = np.isclose(t, 5 / 6)
    np.testing.assert_allclose(mc.scores["D"][high], 250 / 3)  # hole filled with the donors' 50
    np.testing.assert_allclose(mc.scores["D"][~high], (100 + 250 / 3) / 2)


# ---------------------------------------------------------------- Sobol indices
def test_sobol_indices_of_a_linear_model_match_the_analytic_values():
    a = np.array([1.0, 2.0, 3.0])
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * 3}
    idx, x, y = index.sobol_indices(lambda x: x @ a, problem, n_base=4096, seed=3)
    truth = a**2 / np.sum(a**2)  # additive model: S1 = ST = a_i^2 / sum a^2
    np.testing.assert_allclose(idx["S1"], truth, atol=0.02)
    np.testing.assert_allclose(idx["ST"], truth, atol=0.02)
    assert ((idx["S1_ci_low"] <= truth + 0.01) & (truth - 0.01 <= idx["S1_ci_high"])).all()
    assert len(x) == 4096 * (3 + 2)


def test_sobol_indices_of_the_ishigami_function_match_the_analytic_values():
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    idx, _, _ = index.sobol_indices(Ishigami.evaluate, problem, n_base=8192, seed=7, num_resamples=100)
    a, b = 7.0, 0.1
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * 8 / 225
    v = v1 + v2 + v13
    s1 = np.array([v1, v2, 0]) / v
    st = np.array([v1 + v13, v2, v13]) / v
    np.testing.assert_allclose(idx["S1"], s1, atol=0.03)
    np.testing.assert_allclose(idx["ST"], st, atol=0.03)


def test_grouped_sobol_on_one_factor_gives_it_everything():
    res = small({"MID": "bbb|bbc", "TOP": "aab|aaa", "LOW": "cbc|ccc", "X": "abc|abc"})
    sa = index.sensitivity(res, n_base=256, factors=("middle",), num_resamples=50)
    shift = sa.indices[sa.indices["output"] == index.MEAN_SHIFT]
    if shift["S1"].iloc[0] != 0:  # the middle score moves some rank
        assert shift["S1"].iloc[0] == pytest.approx(1, abs=0.05)
        assert shift["ST"].iloc[0] == pytest.approx(1, abs=0.05)
    assert len(sa.mc.ranks) == 256 * 3


def test_sensitivity_on_the_package_names_factors_and_orders_them(package_result):
    sa = index.sensitivity(package_result, n_base=256, num_resamples=50)
    assert set(sa.indices["factor"]) == set(index.FACTORS)
    assert set(sa.indices["output"]) == set(package_result.overall.dropna().index) | {index.MEAN_SHIFT}
    assert len(sa.mc.ranks) == 256 * (len(index.FACTORS) + 2)
    ok = sa.indices.dropna()
    assert (ok["S1_ci_low"] <= ok["S1_ci_high"]).all() and (ok["ST_ci_low"] <= ok["ST_ci_high"]).all()
    summary = index.sensitivity_summary(sa)
    assert list(summary["ST"]) == sorted(summary["ST"], reverse=True)
    verdict = index.sensitivity_verdict(summary)
    assert str(summary["label"].iloc[0]).lower() in verdict


# --------------------------------------------------------------- pairwise order
def test_pairwise_probabilities_agree_with_the_draws(package_mc):
    p = index.pairwise_order(package_mc)
    ranks = package_mc.ranks
    rng = np.random.default_rng(0)
    for i, j in rng.choice(len(p), size=(20, 2)):
        a, b = p.index[i], p.columns[j]
        assert p.loc[a, b] == pytest.approx(float((ranks[a] < ranks[b]).mean()))
    ties = np.array([[float((ranks[a] == ranks[b]).mean()) for b in p.columns] for a in p.index])
    np.testing.assert_allclose(p.to_numpy() + p.to_numpy().T + ties, 1.0)
    assert np.all(np.diag(p.to_numpy()) == 0)


def test_firm_order_counts_and_overlap_reading():
    draws = pd.DataFrame({"A": [1, 1, 1, 2], "B": [2, 2, 3, 1], "C": [3, 3, 2, 3]})
    mc = index.MonteCarloResult(
        ranks=draws,
        scores=-draws.astype(float),
        rules=pd.Series(["arithmetic"] * 4),
        weights=pd.DataFrame(),
        point=pd.Series({"A": 3.0, "B": 2.0, "C": 1.0}),
        seed=0,
    )
    p = index.pairwise_order(mc)
    assert p.loc["A", "B"] == 0.75 and p.loc["A", "C"] == 1.0 and p.loc["B", "C"] == 0.75
    per, summary = index.firm_order(mc, p, firm=0.95, level=0.5)
    assert per.loc["A", "firmly_above"] == 1 and per.loc["C", "firmly_below"] == 1
    assert summary["n_pairs"] == 3 and summary["n_firm"] == 1


# -------------------------------------------------------------- Monte Carlo error
def test_monte_carlo_error_shrinks_with_draws(package_result):
    small_run = index.monte_carlo_error(index.monte_carlo(package_result, n_draws=1000, seed=9))
    large_run = index.monte_carlo_error(index.monte_carlo(package_result, n_draws=16000, seed=9))
    ratio = small_run.attrs["max_mean_rank_se"] / large_run.attrs["max_mean_rank_se"]
    assert 3 < ratio < 5  # about sqrt(16)
    assert large_run.attrs["n_unsettled"] <= small_run.attrs["n_unsettled"]
    assert (large_run["lo_min"] <= large_run["lo_max"]).all() and (
        large_run["hi_min"] <= large_run["hi_max"]
    ).all()


# ------------------------------------------------------- country-aware inference
def test_p_text_has_honest_precision():
    assert index.p_text(1.7e-10) == "< 0.001"
    assert index.p_text(0.0031) == "= 0.003"
    assert index.p_text(0.0199) == "= 0.020"
    assert index.p_text(0.41) == "= 0.41"
    with pytest.raises(ValueError):
        index.p_text(1.2)
    assert index.p_text(float("nan")) == "not computable on these data"


def test_bounded_mean_ci_stays_in_the_scale_and_uses_clusters():
    near_top = np.array([99.0, 100.0, 88.0, 100.0])
    ci = index.bounded_mean_ci(near_top)
    assert ci["ci_high"] <= 100 and ci["ci_low"] < ci["mean"] < ci["ci_high"]
    plain = stats.t.ppf(0.975, 3) * near_top.std(ddof=1) / 2
    assert ci["mean"] + plain > 100  # the plain t interval would cross 100
    y = np.array([10.0, 20.0, 30.0, 60.0, 70.0, 80.0])
    g = ["a", "a", "a", "b", "b", "c"]
    cl = index.bounded_mean_ci(y, g)
    assert cl["df"] == 2
    dev = np.bincount([0, 0, 0, 1, 1, 2], weights=y - y.mean())
    assert cl["se"] == pytest.approx(np.sqrt(3 / 2 * np.sum(dev**2)) / 6)
    with pytest.raises(ValueError, match="0.0, 100.0"):
        index.bounded_mean_ci([101.0, 50.0])


def test_wild_cluster_bootstrap_t_matches_statsmodels_and_finds_a_planted_effect():
    import statsmodels.api as sm

    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(8), 5)
    x = rng.normal(size=40) + rng.normal(size=8)[g]
    y = 0.8 * x + rng.normal(size=8)[g] * 0.5 + rng.normal(size=40)
    X = sm.add_constant(x)
    wild = index.wild_cluster_bootstrap(y, X, g, 1, n_boot=1999, seed=2)
    ref = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    assert wild["t"] == pytest.approx(ref.tvalues[1], rel=1e-9)
    assert wild["p"] < 0.01 and wild["n_clusters"] == 8
    null = index.wild_cluster_bootstrap(
        rng.normal(size=8)[g] + rng.normal(size=40), X, g, 1, n_boot=999, seed=3
    )
    assert 0 < null["p"] <= 1


def test_country_aware_group_comparisons_and_association(package_result):
    groups, _ = index.compare_groups(package_result)
    assert (groups["ci_low"].dropna() >= 0).all() and (groups["ci_high"].dropna() <= 100).all()
    size = groups[groups["grouping"] == "size_class"]
    assert size["adjusted_p"].nunique() == 1 and 0 < size["adjusted_p"].iloc[0] <= 1
    country = groups[groups["grouping"] == "country"]
    assert (country["adjusted_p"] == country["anova_p"]).all() and (country["n_countries"] == 1).all()


def test_ranked_only_drops_unranked_towns(package_result):
    r = index.ranked_only(package_result)
    assert list(r.localities) == list(package_result.overall.dropna().index)
    pd.testing.assert_frame_equal(r.area_scores, package_result.area_scores.loc[r.localities])


# ------------------------------------------------------------ coherence checks
def test_pairwise_alpha_equals_complete_case_alpha_without_gaps_and_uses_every_town():
    from wholecomm.index.reliability import _complete_case_alpha, _pairwise_alpha

    items = pd.DataFrame({"x": [1, 2, 3, 4, 5.0], "y": [2, 1, 4, 3, 5.0], "z": [1, 3, 2, 5, 4.0]})
    assert _pairwise_alpha(items.to_numpy()[None])[0] == pytest.approx(_complete_case_alpha(items))
    gap = items.copy()
    gap.loc[0, "x"] = np.nan
    cov = gap.cov()  # pandas: pairwise complete
    k = 3
    expect = k / (k - 1) * (1 - np.trace(cov) / cov.to_numpy().sum())
    assert _pairwise_alpha(gap.to_numpy()[None])[0] == pytest.approx(expect)


def test_alpha_by_area_has_intervals_over_all_towns(package_result):
    alpha = index.alpha_by_area(package_result, n_boot=300)
    assert (alpha["localities"] == len(package_result.localities)).all()
    assert (alpha["complete_localities"] < alpha["localities"]).any()
    assert ((alpha["ci_low"] <= alpha["alpha"]) & (alpha["alpha"] <= alpha["ci_high"])).all()


def test_principal_components_and_effective_weights(package_result):
    pc = index.principal_components(package_result)
    assert pc["eigenvalue"].sum() == pytest.approx(len(package_result.areas))
    assert pc["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert list(pc["eigenvalue"]) == sorted(pc["eigenvalue"], reverse=True)
    eff = index.area_index_correlations(package_result)
    assert eff["effective_share"].sum() == pytest.approx(1.0)
    assert (eff["r_rest"] <= eff["r_index"] + 1e-12).all()


def test_item_rest_correlation_by_hand():
    res = small({"A": "aaa|aaa", "B": "bbb|bbb", "C": "ccc|ccc", "D": "abc|abc"})
    ir = index.item_rest_correlations(res).set_index("indicator_id")
    x = res.indicator_scores
    rest = x[["LAB02", "LAB03"]].mean(axis=1)
    assert ir.loc["LAB01", "r_rest"] == pytest.approx(np.corrcoef(x["LAB01"], rest)[0, 1])
    assert ir.loc["LAB01", "n"] == 4


def test_bootstrap_resamples_equal_salibs_estimators_on_gathered_resamples():
    from SALib.analyze.sobol import first_order, total_order

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(64, 3)), rng.normal(size=(64, 3))
    ab = a + 0.5 * rng.normal(size=(64, 3))
    r = rng.integers(0, 64, size=(5, 64))
    counts = np.array([np.bincount(row, minlength=64) for row in r], dtype=float)
    s1, st = index._sobol_resamples(a, ab, b, counts)
    for k in range(5):
        np.testing.assert_allclose(s1[k], first_order(a[r[k]], ab[r[k]], b[r[k]]), rtol=1e-10)
        np.testing.assert_allclose(st[k], total_order(a[r[k]], ab[r[k]], b[r[k]]), rtol=1e-10)


def test_rank_intervals_equal_numpy_quantiles(package_mc):
    ri = index.rank_intervals(package_mc).reindex(package_mc.ranks.columns)
    r = package_mc.ranks.to_numpy()
    np.testing.assert_array_equal(ri["rank_low"], np.quantile(r, 0.05, axis=0, method="lower"))
    np.testing.assert_array_equal(ri["rank_high"], np.quantile(r, 0.95, axis=0, method="higher"))
    np.testing.assert_array_equal(ri["rank_median"], np.median(r, axis=0))


def test_hot_deck_distance_is_the_mean_absolute_difference_over_common_items(package_result):
    donors = index.hot_deck_donors(package_result, n_donors=3)
    x = package_result.indicator_scores.to_numpy()
    for (i, j), pool in list(donors.items())[:15]:
        common = ~np.isnan(x) & ~np.isnan(x[i])[None, :]
        dist = np.array(
            [
                np.abs(x[k, common[k]] - x[i, common[k]]).mean() if common[k].any() else np.inf
                for k in range(len(x))
            ]
        )
        candidates = [k for k in range(len(x)) if k != i and not np.isnan(x[k, j])]
        best = sorted(candidates, key=lambda k: (round(dist[k], 9), k))[:3]
        assert list(pool) == best


def test_town_drivers_pick_the_largest_total_index(package_result):
    sa = index.sensitivity(package_result, n_base=128, num_resamples=20)
    drivers = index.town_drivers(sa).set_index("locality_id")
    towns = sa.indices[sa.indices["output"] != index.MEAN_SHIFT]
    for town, row in drivers.iterrows():
        st = towns[towns["output"] == town].set_index("factor")["ST"]
        assert row["ST"] == pytest.approx(st.max())
        assert st.max() > 0


# ------------------------------------------------------------ tables and figures of the chapter
def test_town_table_carries_the_firm_order_and_area_labels(package_result, package_mc):
    per, _ = index.firm_order(package_mc, index.pairwise_order(package_mc))
    plain = index.town_table(package_result, mc=package_mc)
    towns = index.town_table(package_result, mc=package_mc, firm=per, area_labels=True)
    # The same rows as a left merge of the two tables: unranked towns have no firm counts.
    merged = plain.merge(per.reset_index(), on="locality_id", how="left")
    pd.testing.assert_frame_equal(towns, merged.rename(columns=index.AREA_LABELS))
    assert towns.loc[towns["overall"].isna(), "firmly_above"].isna().all()
    ranked = towns.dropna(subset=["rank"])
    assert (ranked["rank_low"] <= ranked["rank_high"]).all() and (ranked["firmly_above"] >= 0).all()


def test_factor_table_for_readers_leaves_out_the_codes_only():
    full, shown = index.factor_table(), index.factor_table(keys=False)
    assert list(full["factor"]) == list(index.FACTORS)
    pd.testing.assert_frame_equal(shown, full.drop(columns="factor"))


def test_chapter_figures_draw_the_tables_they_are_given(package_result, package_mc):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    towns = index.town_table(package_result, mc=package_mc)
    fig = index.ranking_figure(towns)
    ranked = towns.dropna(subset=["overall"])
    # one interval line per ranked town, from rank_low to rank_high
    segments = fig.axes[1].collections[0].get_segments()
    assert len(segments) == len(ranked)
    assert sorted(s[0][0] for s in segments) == sorted(ranked["rank_low"].astype(float))
    groups, points = index.compare_groups(package_result)
    fig = index.groups_figure(groups, points)
    assert [ax.get_ylabel() for ax in fig.axes[:3]] == list(index.GROUPINGS.values())
    sens = pd.DataFrame(
        {
            "label": ["A", "B"],
            "S1": [0.5, 0.1],
            "S1_ci_low": [0.4, 0.0],
            "S1_ci_high": [0.6, 0.2],
            "ST": [0.7, 0.2],
            "ST_ci_low": [0.6, 0.1],
            "ST_ci_high": [0.8, 0.3],
        }
    )
    fig = index.sobol_figure(sens)
    dots = [c.get_offsets()[:, 0].tolist() for c in fig.axes[0].collections if len(c.get_offsets())]
    assert [0.5, 0.1] in dots and [0.7, 0.2] in dots
    plt.close("all")
