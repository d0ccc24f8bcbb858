"""Tests of the MIPEX-L index engine (wholecomm.index): hand-worked known answers, the
missing-data rule, invariances, bad input, ranking, robustness and recovery of the
synthetic twin's planted scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wholecomm import index

# ---------------------------------------------------------------- small catalogue
# Two areas of three indicators each; stages formulation / output / evaluation.
INDICATORS = pd.DataFrame(
    {
        "indicator_id": ["LAB01", "LAB02", "LAB03", "HEA01", "HEA02", "HEA03"],
        "area": ["labour_market"] * 3 + ["health"] * 3,
        "stage": ["formulation", "output", "evaluation"] * 2,
    }
)
OPTIONS = pd.DataFrame(
    {
        "indicator_id": np.repeat(INDICATORS["indicator_id"].to_numpy(), 3),
        "answer_code": ["a", "b", "c"] * 6,
        "score": [100, 50, 0] * 6,
    }
)


def answers(table: dict[str, str]) -> pd.DataFrame:
    """``{"T1": "abc|aab"}`` -> long answers; labour codes before the bar, health after;
    '-' = unanswered (empty answer_code)."""
    rows = []
    for loc, codes in table.items():
        flat = codes.replace("|", "")
        for ind, code in zip(INDICATORS["indicator_id"], flat, strict=False):
            rows.append({"locality_id": loc, "indicator_id": ind, "answer_code": "" if code == "-" else code})
    return pd.DataFrame(rows)


def small(table, **kw) -> index.IndexResult:
    return index.score(answers(table), INDICATORS, OPTIONS, **kw)


# ------------------------------------------------------------- known answers
def test_all_top_answers_score_100_and_all_bottom_answers_score_0():
    res = small({"TOP": "aaa|aaa", "BOT": "ccc|ccc"})
    assert res.overall["TOP"] == 100 and res.overall["BOT"] == 0
    assert (res.area_scores.loc["TOP"] == 100).all() and (res.area_scores.loc["BOT"] == 0).all()
    assert (res.stage_scores.loc["TOP"] == 100).all() and (res.stage_scores.loc["BOT"] == 0).all()
    assert not res.area_flags.to_numpy().any() and not res.overall_flag.any()
    assert res.overall.name == "overall" and res.overall.index.name == "locality_id"


def test_mixed_answers_worked_by_hand():
    # labour a,b,c -> (100+50+0)/3 = 50; health a,a,b -> 250/3; overall = (50 + 250/3)/2 = 200/3.
    res = small({"T": "abc|aab"})
    assert res.area_scores.loc["T", "labour_market"] == pytest.approx(50)
    assert res.area_scores.loc["T", "health"] == pytest.approx(250 / 3)
    assert res.overall["T"] == pytest.approx(200 / 3)
    # Stages across areas: formulation a,a -> 100; output b,a -> 75; evaluation c,b -> 25.
    assert res.stage_scores.loc["T"].tolist() == pytest.approx([100, 75, 25])
    assert list(res.stage_scores.columns) == ["formulation", "output", "evaluation"]
    # Areas in catalogue order (labour before health), whatever the input order.
    assert list(res.area_scores.columns) == ["labour_market", "health"]


def test_one_missing_answer_within_the_rule_is_left_out_not_scored_zero():
    # labour a, -, c: 2 of 3 answered (= 2/3, enough) -> mean of answered = 50 (not 100/3).
    res = small({"T": "a-c|aaa"})
    assert np.isnan(res.indicator_scores.loc["T", "LAB02"])
    assert res.area_scores.loc["T", "labour_market"] == pytest.approx(50)
    assert not res.area_flags.loc["T", "labour_market"]
    assert res.overall["T"] == pytest.approx(75)
    assert res.area_answered.loc["T", "labour_market"] == 2


def test_missing_beyond_the_rule_gives_nan_and_a_flag_never_zero():
    # labour a, -, -: 1 of 3 answered < 2/3 -> labour missing and flagged; overall missing too.
    res = small({"T": "a--|abc", "U": "aaa|aaa"})
    assert np.isnan(res.area_scores.loc["T", "labour_market"])
    assert res.area_flags.loc["T", "labour_market"] and not res.area_flags.loc["T", "health"]
    assert res.area_scores.loc["T", "health"] == pytest.approx(50)
    assert np.isnan(res.overall["T"]) and res.overall_flag["T"]
    assert res.overall["U"] == 100 and not res.overall_flag["U"]
    # Stage rule: output has LAB02 (missing) and HEA02 (b): 1 of 2 < 2/3 -> flagged.
    assert res.stage_flags.loc["T", "output"] and np.isnan(res.stage_scores.loc["T", "output"])
    assert res.stage_flags.loc["T", "evaluation"]
    assert res.stage_scores.loc["T", "formulation"] == pytest.approx(100)
    summary = index.missing_summary(res)
    assert summary["n_flagged_areas"] == 1 and summary["n_without_overall"] == 1
    assert summary["without_overall"] == ["T"] and summary["n_unanswered"] == 2


def test_min_answered_share_is_applied_as_stated():
    strict = small({"T": "a-c|aaa"}, min_answered_share=1.0)
    assert strict.area_flags.loc["T", "labour_market"] and np.isnan(strict.overall["T"])
    lax = small({"T": "a--|aaa"}, min_answered_share=1 / 3)
    assert lax.area_scores.loc["T", "labour_market"] == 100 and lax.overall["T"] == 100
    with pytest.raises(ValueError, match="min_answered_share"):
        small({"T": "aaa|aaa"}, min_answered_share=0)


def test_an_area_with_nothing_answered_is_flagged_even_with_a_tiny_threshold():
    res = small({"T": "---|aaa"}, min_answered_share=0.01)
    assert res.area_flags.loc["T", "labour_market"] and np.isnan(res.overall["T"])


def test_empty_string_and_na_both_mean_unanswered():
    a = answers({"T": "a-c|aaa"})
    b = a.copy()
    b["answer_code"] = b["answer_code"].replace("", np.nan)
    c = a.copy()
    c["answer_code"] = pd.Categorical(c["answer_code"].replace("", None), categories=["a", "b", "c"])
    ra, rb, rc = (index.score(x, INDICATORS, OPTIONS) for x in (a, b, c))
    pd.testing.assert_frame_equal(ra.indicator_scores, rb.indicator_scores)
    pd.testing.assert_frame_equal(ra.indicator_scores, rc.indicator_scores)


def test_vectorised_scoring_matches_a_plain_groupby_computation():
    rng = np.random.default_rng(7)
    locs = [f"L{i:04d}" for i in range(300)]
    codes = np.array(["a", "b", "c", ""])[rng.choice(4, size=len(locs) * 6, p=[0.3, 0.3, 0.2, 0.2])]
    ans = pd.DataFrame(
        {
            "locality_id": np.repeat(locs, 6),
            "indicator_id": np.tile(INDICATORS["indicator_id"], len(locs)),
            "answer_code": codes,
        }
    )
    res = index.score(ans, INDICATORS, OPTIONS)
    merged = ans.merge(OPTIONS, on=["indicator_id", "answer_code"], how="left").merge(
        INDICATORS, on="indicator_id"
    )
    grouped = merged.groupby(["locality_id", "area"])["score"].agg(["mean", "count"]).reset_index()
    grouped["expected"] = np.where(grouped["count"] >= 2, grouped["mean"], np.nan)
    expected = grouped.pivot(index="locality_id", columns="area", values="expected")[
        ["labour_market", "health"]
    ]
    np.testing.assert_allclose(res.area_scores.to_numpy(), expected.to_numpy(), equal_nan=True)
    overall = expected.mean(axis=1, skipna=False)
    np.testing.assert_allclose(res.overall.to_numpy(), overall.to_numpy(), equal_nan=True)


# -------------------------------------------------------------- invariances
@pytest.fixture(scope="module")
def package_inputs():
    from wholecomm import data

    return data.load("mipex_l_answers"), data.load("mipex_l_indicators"), data.load("mipex_l_options")


@pytest.fixture(scope="module")
def package_result(package_inputs):
    return index.score(*package_inputs)


def test_invariant_to_row_order_and_column_order(package_inputs, package_result):
    ans, ind, opt = package_inputs
    shuffled = (
        ans.sample(frac=1, random_state=1)[["answer_code", "indicator_id", "locality_id"]],
        ind.sample(frac=1, random_state=2)[["stage", "question", "area", "indicator_id"]],
        opt.sample(frac=1, random_state=3)[["score", "answer_text", "answer_code", "indicator_id"]],
    )
    other = index.score(*shuffled)
    for name in ("indicator_scores", "area_scores", "area_flags", "stage_scores", "stage_flags"):
        pd.testing.assert_frame_equal(getattr(other, name), getattr(package_result, name))
    pd.testing.assert_series_equal(other.overall, package_result.overall)
    pd.testing.assert_series_equal(other.overall_flag, package_result.overall_flag)


def test_tidy_is_long_and_complete(package_result):
    tidy = package_result.tidy()
    n_loc = len(package_result.localities)
    n_units = (
        package_result.indicator_scores.shape[1] + len(package_result.areas) + len(package_result.stages) + 1
    )
    assert len(tidy) == n_loc * n_units
    assert list(tidy.columns) == ["locality_id", "level", "unit", "score", "flagged"]
    area = tidy[tidy["level"] == "area"]
    assert area["score"].isna().sum() == package_result.area_flags.to_numpy().sum() == area["flagged"].sum()
    overall = tidy[tidy["level"] == "overall"].set_index("locality_id")["score"]
    pd.testing.assert_series_equal(overall, package_result.overall, check_names=False)


# ---------------------------------------------------------------- bad input
def test_unknown_answer_code_raises_naming_the_row():
    bad = answers({"T": "abc|aab"})
    bad.loc[4, "answer_code"] = "d"
    with pytest.raises(ValueError, match=r"answer_code must be one of.*row 4.*HEA02.*'d'"):
        index.score(bad, INDICATORS, OPTIONS)


def test_code_valid_elsewhere_but_not_for_its_indicator_raises():
    opts = OPTIONS[~((OPTIONS["indicator_id"] == "LAB01") & (OPTIONS["answer_code"] == "b"))]
    with pytest.raises(ValueError, match=r"LAB01.*'b'.*Valid codes for LAB01: a/c"):
        index.score(answers({"T": "bbc|aab"}), INDICATORS, opts)


def test_unknown_indicator_raises():
    bad = answers({"T": "abc|aab"})
    bad.loc[0, "indicator_id"] = "XYZ99"
    with pytest.raises(ValueError, match=r"unknown indicator.*XYZ99"):
        index.score(bad, INDICATORS, OPTIONS)


def test_duplicate_locality_indicator_row_raises():
    base = answers({"T": "abc|aab"})
    bad = pd.concat([base, base.iloc[[2]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"must appear once.*LAB03"):
        index.score(bad, INDICATORS, OPTIONS)


def test_missing_rows_raise_instead_of_being_filled():
    bad = answers({"T": "abc|aab"}).drop(index=5)
    with pytest.raises(ValueError, match=r"one row for each of the 6 indicators.*'T' \(1 missing\)"):
        index.score(bad, INDICATORS, OPTIONS)


def test_malformed_inputs_raise():
    good = answers({"T": "abc|aab"})
    with pytest.raises(ValueError, match="answer_code"):
        index.score(good.drop(columns="answer_code"), INDICATORS, OPTIONS)
    with pytest.raises(ValueError, match="indicator_id must be unique"):
        index.score(good, pd.concat([INDICATORS, INDICATORS.iloc[[0]]]), OPTIONS)
    with pytest.raises(ValueError, match="score must be a number from 0 to 100"):
        index.score(good, INDICATORS, OPTIONS.assign(score=OPTIONS["score"].replace(100, 120)))
    with pytest.raises(ValueError, match="appear once"):
        index.score(good, INDICATORS, pd.concat([OPTIONS, OPTIONS.iloc[[0]]]))
    blank = good.copy()
    blank.loc[0, "locality_id"] = None
    with pytest.raises(ValueError, match="locality_id' must not be empty"):
        index.score(blank, INDICATORS, OPTIONS)


# ------------------------------------------------------------------- ranking
def test_rank_highest_first_ties_share_best_rank_nan_unranked():
    scores = pd.Series({"A": 80.0, "B": 90.0, "C": 80.0, "D": np.nan, "E": 70.0}, name="overall")
    out = index.rank(scores)
    assert out.loc[["B", "A", "C", "E"], "rank"].tolist() == [1, 2, 2, 4]
    assert pd.isna(out.loc["D", "rank"])
    assert out.loc[["A", "C"], "tied"].all() and not out.loc[["B", "D", "E"], "tied"].any()
    assert list(out.index) == ["B", "A", "C", "E", "D"]


def test_rank_treats_rounding_noise_as_a_tie_and_rejects_bad_input():
    out = index.rank(pd.Series({"A": 0.1 + 0.2, "B": 0.3}))
    assert out["rank"].tolist() == [1, 1] and out["tied"].all()
    with pytest.raises(ValueError, match="unique"):
        index.rank(pd.Series([1.0, 2.0], index=["A", "A"]))
    with pytest.raises(TypeError):
        index.rank([1, 2])


# ---------------------------------------------------------------- aggregation
def test_alternative_aggregations_by_hand():
    # labour a,b,- -> 75 (2 of 3); health c,c,c -> 0.
    res = small({"T": "ab-|ccc"})
    assert index.aggregate(res, "area")["T"] == pytest.approx(37.5)
    assert index.aggregate(res, "indicator")["T"] == pytest.approx(150 / 5)
    # Geometric mean with the one-point shift: sqrt(76 * 1) - 1; a zero area stays finite.
    assert index.aggregate(res, "geometric")["T"] == pytest.approx(np.sqrt(76.0) - 1)
    assert index.aggregate(res, "area", weights=[0.25, 0.75])["T"] == pytest.approx(18.75)
    with pytest.raises(ValueError, match="weights"):
        index.aggregate(res, "area", weights=[0.5, 0.6])
    with pytest.raises(ValueError, match="rule"):
        index.aggregate(res, "median")


def test_aggregation_agreement_has_perfect_self_agreement(package_result):
    agree = index.aggregation_agreement(package_result).set_index("rule")
    assert agree.loc["area", "spearman_rho"] == pytest.approx(1.0)
    assert agree.loc["area", "max_rank_shift"] == 0
    assert (agree["spearman_rho"] > 0.8).all()


# ---------------------------------------------------------------- Monte Carlo
def test_monte_carlo_is_deterministic_and_point_ranks_lie_in_their_intervals(package_result):
    mc1 = index.monte_carlo(package_result, n_draws=300, seed=11)
    mc2 = index.monte_carlo(package_result, n_draws=300, seed=11)
    mc3 = index.monte_carlo(package_result, n_draws=300, seed=12)
    pd.testing.assert_frame_equal(mc1.ranks, mc2.ranks)
    assert not mc1.ranks.equals(mc3.ranks)
    assert set(mc1.rules) == set(index.AGGREGATIONS)
    np.testing.assert_allclose(mc1.weights.sum(axis=1), 1.0)
    ri = index.rank_intervals(mc1)
    assert ri["point_inside"].all()
    assert ((ri["rank"] >= ri["rank_low"]) & (ri["rank"] <= ri["rank_high"])).all()
    assert (ri["rank_low"] <= ri["rank_median"]).all() and (ri["rank_median"] <= ri["rank_high"]).all()
    # Only localities with an overall score are ranked.
    assert set(ri.index) == set(package_result.overall.dropna().index)


def test_monte_carlo_without_perturbation_reproduces_the_point_ranks():
    res = small({"A": "aaa|aab", "B": "abc|abc", "C": "ccc|cbc", "D": "a-c|abb"})
    mc = index.monte_carlo(res, n_draws=20, factors=())
    point = index.rank(res.overall)["rank"].astype(int)
    assert (mc.ranks == point.reindex(mc.ranks.columns)).all().all()
    np.testing.assert_allclose(
        mc.scores.to_numpy(), np.tile(res.overall.dropna().to_numpy(), (20, 1)), atol=1e-12
    )
    ri = index.rank_intervals(mc)
    assert (ri["rank_low"] == ri["rank"]).all() and (ri["rank_high"] == ri["rank"]).all()


def test_monte_carlo_hot_deck_takes_answers_of_the_nearest_towns():
    # D has LAB02 unanswered; its nearest towns (A, B: same answers elsewhere) answered LAB02 with b;
    # the far town C answered a. With N_DONORS = 2 only A and B donate: imputed 50 in every draw.
    res = small({"A": "aba|aab", "B": "aba|aab", "C": "cac|ccc", "D": "a-a|aab"})
    donors = index.hot_deck_donors(res, n_donors=2)
    assert list(donors) == [(3, res.indicator_scores.columns.get_loc("LAB02"))]
    assert sorted(res.localities[i] for i in donors[next(iter(donors))]) == ["A", "B"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index.perturbation, "N_DONORS", 2)  # where the hot-deck reads it
        mc = index.monte_carlo(res, n_draws=200, factors=("imputation",), seed=3)
    assert mc.n_imputed == 1
    hot = (mc.factors["imputation"] == "hot_deck").to_numpy()
    assert 0 < hot.sum() < 200
    # labour = (100 + 50 + 100) / 3 under the hot-deck, (100 + 100) / 2 under the point rule; health = 250 / 3
    np.testing.assert_allclose(mc.scores["D"][hot], (250 / 3 + 250 / 3) / 2)
    np.testing.assert_allclose(mc.scores["D"][~hot], (100 + 250 / 3) / 2)
    with pytest.raises(ValueError, match="factors"):
        index.monte_carlo(res, factors=("mode",))
    with pytest.raises(TypeError):
        index.monte_carlo("not a result")


# ---------------------------------------------------------------- reliability
def test_complete_case_alpha_is_the_shared_estimator_and_nan_where_undefined():
    from wholecomm import survey
    from wholecomm.index.reliability import _complete_case_alpha

    # Three items: variances 1, 4/3, 4/3; totals 4, 7, 10 (variance 9) -> 1.5 (1 - 11/27) = 8/9.
    items = pd.DataFrame({"x": [1, 2, 3], "y": [2, 2, 4], "z": [1, 3, 3]})
    assert _complete_case_alpha(items) == pytest.approx(8 / 9) == pytest.approx(survey.cronbach_alpha(items))
    # Rows with a missing item are left out (complete cases).
    with_gap = pd.concat([items, pd.DataFrame({"x": [5], "y": [np.nan], "z": [1]})], ignore_index=True)
    assert _complete_case_alpha(with_gap) == pytest.approx(8 / 9)
    # Undefined: a total that does not vary, one item, fewer than two complete rows.
    assert np.isnan(_complete_case_alpha(pd.DataFrame({"x": [2, 2], "y": [3, 3]})))
    assert np.isnan(_complete_case_alpha(items[["x"]]))
    assert np.isnan(_complete_case_alpha(pd.DataFrame({"x": [1, np.nan], "y": [np.nan, 2]})))


def test_alpha_by_area_and_area_correlations(package_result):
    alpha = index.alpha_by_area(package_result)
    assert list(alpha["area"]) == package_result.areas
    assert alpha["alpha"].between(0, 1).all()
    corr = index.area_correlations(package_result)
    assert np.allclose(np.diag(corr), 1) and np.allclose(corr, corr.T)


# ---------------------------------------------------------------- paired gaps
def test_lead_lag_known_answer():
    frame = pd.DataFrame(
        {"lead": [60.0, 70.0, 80.0, np.nan], "lag": [50.0, 50.0, 50.0, 10.0]}, index=["A", "B", "C", "D"]
    )
    gap = index._paired_gap(frame, ["lead"], ["lag"])
    # Differences 10, 20, 30: mean 20, sd 10, se 10/sqrt(3); D lacks a score and is excluded.
    half = stats.t.ppf(0.975, 2) * 10 / np.sqrt(3)
    assert gap.n == 3 and gap.excluded == ["D"]
    assert gap.diff == pytest.approx(20) and gap.ci_low == pytest.approx(20 - half)
    assert gap.ci_high == pytest.approx(20 + half)
    assert gap.t == pytest.approx(20 / (10 / np.sqrt(3)))
    assert gap.share_positive == 1.0


def test_lead_lag_on_package_finds_the_planted_gap(package_result):
    gap = index.lead_lag(package_result)
    assert gap.ci_low > 0 and gap.order_holds
    # On the twin the verdict says the gap was planted, so that it shows the method recovers it;
    # on user data it says what those data show.
    twin = index.lead_lag_verdict(gap)
    assert twin == index.lead_lag_verdict(gap, synthetic=True)
    assert twin.startswith("Verdict on the synthetic twin: supported;") and "mipex_l.area_effect" in twin
    assert index.lead_lag_verdict(gap, synthetic=False).startswith(
        "Verdict on the data supplied by the user: supported;"
    )


def test_lead_lag_verdict_on_user_data_by_default(package_result, data_copy):
    gap = index.lead_lag(package_result)
    assert "synthetic" not in index.lead_lag_verdict(gap)
    assert "supplied by the user: supported" in index.lead_lag_verdict(gap)


# ---------------------------------------------------------------- associations
def test_cohesion_association_known_answer_and_exclusions():
    x = pd.Series({"A": 30.0, "B": 40.0, "C": 50.0, "D": 60.0, "E": 70.0, "F": np.nan, "G": 55.0})
    y = pd.DataFrame(
        {"attitude_index": pd.array([2.8, 3.1, 3.0, 3.3, 3.3, 3.0, pd.NA], dtype="Float64"), "n": [100] * 7},
        index=list("ABCDEFG"),
    )
    res = index.cohesion_association(x, y)
    xs, ys = np.array([30, 40, 50, 60, 70.0]), np.array([2.8, 3.1, 3.0, 3.3, 3.3])
    slope, intercept = np.polyfit(xs, ys, 1)
    assert res.n == 5 and res.slope == pytest.approx(10 * slope)
    assert res.intercept == pytest.approx(intercept + 50 * slope)
    r = np.corrcoef(xs, ys)[0, 1]
    assert res.r == pytest.approx(r)
    se = 1 / np.sqrt(5 - 3)
    assert res.r_ci_low == pytest.approx(np.tanh(np.arctanh(r) - 1.959964 * se), abs=1e-5)
    assert res.r_ci_high == pytest.approx(np.tanh(np.arctanh(r) + 1.959964 * se), abs=1e-5)
    assert res.slope_ci_low < res.slope < res.slope_ci_high
    assert res.excluded.set_index("locality_id")["reason"].to_dict() == {
        "F": "no index score",
        "G": "no outcome (or suppressed)",
    }
    assert (res.line["ci_low"] <= res.line["fit"]).all() and (res.line["fit"] <= res.line["ci_high"]).all()
    with pytest.raises(ValueError, match="trust"):
        index.cohesion_association(x, y, outcome="trust")


def test_multilevel_recovers_a_known_index_effect():
    rng = np.random.default_rng(5)
    n_loc, per = 30, 80
    locs = [f"L{i:02d}" for i in range(n_loc)]
    idx = pd.Series(rng.uniform(10, 90, n_loc), index=locs)
    lid = np.repeat(locs, per)
    contact = rng.random(n_loc * per) < 0.5
    edu = rng.choice(["low", "medium", "high"], n_loc * per)
    y = (
        3
        + 0.2 * (idx[lid].to_numpy() - 50) / 10
        + 0.4 * contact
        + np.where(edu == "high", 0.3, 0)
        + np.repeat(rng.normal(0, 0.1, n_loc), per)
        + rng.normal(0, 0.5, n_loc * per)
    )
    frame = pd.DataFrame(
        {
            "locality_id": lid,
            "attitude_index": y,
            "contact_any": contact,
            "age_group": pd.Categorical(
                rng.choice(["18-34", "35-54", "55+"], n_loc * per), ["18-34", "35-54", "55+"]
            ),
            "gender": pd.Categorical(rng.choice(["female", "male"], n_loc * per), ["female", "male"]),
            "education": pd.Categorical(edu, ["low", "medium", "high"]),
            "born_abroad": rng.random(n_loc * per) < 0.1,
        }
    )
    frame.loc[0, "attitude_index"] = np.nan
    table = index.multilevel_attitudes(frame, idx.drop("L29")).set_index("term")
    assert table.loc[index.INDEX_TERM, "ci_low"] < 0.2 < table.loc[index.INDEX_TERM, "ci_high"]
    assert abs(table.loc["contact_any", "estimate"] - 0.4) < 0.1
    assert abs(table.loc["education[high]", "estimate"] - 0.3) < 0.1
    assert table.attrs["n_excluded_no_index"] == 1 and table.attrs["n_excluded_no_score"] == per
    assert table.attrs["excluded_localities"] == ["L29"]
    assert table.attrs["n_localities"] == n_loc - 1
    assert 0 < table.attrs["icc"] < 0.2  # planted: 0.1**2 / (0.1**2 + 0.5**2) = 0.04
    # One mixed model: the same fit as the survey's, on the same scores.
    from wholecomm import survey

    direct = survey.attitude_model(frame, idx.drop("L29").reindex(locs)).set_index("term")
    pd.testing.assert_series_equal(table["estimate"], direct["estimate"])
    narrow = index.multilevel_attitudes(frame, idx, level=0.5).set_index("term")
    wide = index.multilevel_attitudes(frame, idx).set_index("term")
    assert (narrow["ci_high"] - narrow["ci_low"] < wide["ci_high"] - wide["ci_low"]).all()
    bad = frame.copy()
    bad["gender"] = bad["gender"].astype(object)
    bad.loc[3, "gender"] = None
    with pytest.raises(ValueError, match="gender"):
        index.multilevel_attitudes(bad, idx)


def test_local_vs_national_by_hand():
    loc = pd.DataFrame(
        {
            "locality_id": ["AT-01", "AT-02", "SE-01", "SE-02"],
            "country": ["AT", "AT", "SE", "SE"],
            "mipex_l_assessed": [True, True, True, False],
        }
    )
    nat = pd.DataFrame(
        {
            "iso2": ["AT", "SE"],
            "mipex2020_overall": [46, 86],
            "source_url": ["https://www.mipex.eu/austria", "https://www.mipex.eu/sweden"],
        }
    )
    overall = pd.Series({"AT-01": 50.0, "AT-02": 40.0, "SE-01": 90.0, "SE-02": np.nan})
    out = index.local_vs_national(overall, loc, nat)
    assert out["locality_id"].tolist() == ["AT-01", "AT-02", "SE-01"]
    assert out["difference"].tolist() == pytest.approx([4.0, -6.0, 4.0])
    assert out["source_url"].iloc[2] == "https://www.mipex.eu/sweden"
    with pytest.raises(ValueError, match="no MIPEX 2020 score"):
        index.local_vs_national(overall, loc, nat.iloc[:1])


def test_overall_scores_cover_every_locality():
    from wholecomm import data

    loc = data.load("localities")
    overall = index.overall_scores()
    assert overall.name == "overall" and list(overall.index) == list(loc["locality_id"])
    not_assessed = loc.loc[~loc["mipex_l_assessed"], "locality_id"]
    assert overall[not_assessed].isna().all()


# ----------------------------------------------------- recovery of the twin
@pytest.fixture(scope="module")
def twin():
    from wholecomm.twin import generate

    return generate()


def test_recovers_the_twins_planted_scores(twin):
    f = twin.frames
    res = index.score(f["mipex_l_answers"], f["mipex_l_indicators"], f["mipex_l_options"])
    truth = twin.truth["overall_scores"]
    est = res.overall.dropna()
    # Tolerances: r > 0.85 and mean absolute error < 6 points (54 three-level items per town).
    assert np.corrcoef(est, truth[est.index])[0, 1] > 0.85
    assert np.abs(est - truth[est.index]).mean() < 6
    areas = res.area_scores.stack().dropna()
    true_areas = twin.truth["area_scores"].stack().reindex(areas.index)
    assert np.corrcoef(areas, true_areas)[0, 1] > 0.8
    assert np.abs(areas - true_areas).mean() < 15
    # The planted ordering of areas: language and labour lead; the three lagging areas are lowest.
    means = res.area_scores.mean().sort_values(ascending=False)
    assert set(means.index[:2]) == set(index.LEAD_AREAS)
    assert set(means.index[-3:]) == set(index.LAG_AREAS)


def test_lead_lag_with_countries_is_the_cluster_robust_interval_of_the_differences(package_result):
    from wholecomm import stats as shared

    countries = index.town_countries(package_result)
    gap = index.lead_lag(package_result, countries=countries)
    d = gap.per_locality["difference"]
    crv = shared.ols_cluster(d.to_numpy(), np.ones((len(d), 1)), countries.reindex(d.index).to_numpy(), 0)
    assert (gap.ci_low, gap.ci_high) == pytest.approx((crv["ci_low"], crv["ci_high"]))
    assert gap.ci_low < gap.diff < gap.ci_high
    sgap = index.stage_gap(package_result, "formulation", "evaluation", countries=countries)
    assert sgap.ci_low < sgap.diff < sgap.ci_high
