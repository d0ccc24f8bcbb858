"""Tests of wholecomm.survey: coding rules, raking, design-based estimates, scales,
claims, disclosure control, bad input, and recovery of the twin's planted effects."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit, logit

from wholecomm import data, survey
from wholecomm.twin import generate, load_parameters

ITEMS = survey.ATTITUDE_ITEMS


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def twin():
    return generate()


@pytest.fixture(scope="module")
def twin_frame(twin):
    fr = twin.frames
    return survey.analysis_frame(fr["survey"], fr["population_margins"], fr["localities"])


@pytest.fixture(scope="module")
def package():
    return {
        "survey": data.load("survey"),
        "margins": data.load("population_margins"),
        "localities": data.load("localities"),
    }


@pytest.fixture(scope="module")
def frame(package):
    return survey.analysis_frame(package["survey"], package["margins"], package["localities"])


def items_frame(rows):
    return pd.DataFrame(rows, columns=ITEMS)


# ------------------------------------------------------------ coding rules
def test_attitude_index_hand_worked():
    sv = items_frame(
        [
            [5, 5, 5, 1, 5, 5],  # services 1 -> reversed 5: mean 5
            [4, 8, 2, 9, 3, 5],  # 4 substantive: (4 + 2 + 3 + 5) / 4 = 3.5
            [1, 8, 9, 8, 2, 3],  # 3 substantive: below the threshold of 4 -> NaN
            [2, 3, 4, 5, 8, 1],  # services 5 -> 1: (2 + 3 + 4 + 1 + 1) / 5 = 2.2
            [3, 3, 3, 3, 3, 3],  # services 3 -> 3: 3
        ]
    )
    got = survey.attitude_index(sv)
    np.testing.assert_allclose(got.to_numpy(), [5.0, 3.5, np.nan, 2.2, 3.0])
    assert got.name == "attitude_index"


def test_reversed_item_is_reversed():
    agree_pressure = items_frame([[3, 3, 3, 5, 3, 3]])  # strongly agrees services are overstretched
    disagree_pressure = items_frame([[3, 3, 3, 1, 3, 3]])
    assert survey.attitude_index(agree_pressure).iloc[0] == pytest.approx((3 * 5 + 1) / 6)
    assert survey.attitude_index(disagree_pressure).iloc[0] == pytest.approx((3 * 5 + 5) / 6)
    rec = survey.recode_items(items_frame([[1, 2, 3, 4, 5, 1]]))
    assert rec["att_services"].iloc[0] == 2 and rec["att_economy"].iloc[0] == 1


def test_reversal_direction_on_twin(twin):
    """Raw att_services correlates negatively with the other items; after recoding, positively."""
    sv = twin.frames["survey"]
    valid = sv[ITEMS].isin([1, 2, 3, 4, 5]).all(axis=1)
    raw = sv.loc[valid, ITEMS].astype(float)
    others = raw.drop(columns="att_services").mean(axis=1)
    assert np.corrcoef(raw["att_services"], others)[0, 1] < -0.3
    rec = survey.recode_items(sv.loc[valid])
    assert np.corrcoef(rec["att_services"], others)[0, 1] > 0.3


def test_non_substantive_codes_never_enter_a_mean():
    rng = np.random.default_rng(1)
    codes = rng.choice([1, 2, 3, 4, 5, 8, 9], size=(500, 6), p=[0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.10])
    sv = items_frame(codes)
    got = survey.attitude_index(sv).to_numpy()
    # Independent computation: recode by hand, then mean over substantive answers.
    rec = codes.astype(float)
    rec[(codes == 8) | (codes == 9)] = np.nan
    rec[:, ITEMS.index("att_services")] = 6 - rec[:, ITEMS.index("att_services")]
    count = np.isfinite(rec).sum(axis=1)
    expected = np.where(count >= 4, np.nansum(rec, axis=1) / np.maximum(count, 1), np.nan)
    np.testing.assert_allclose(got, expected)
    assert np.nanmin(got) >= 1 and np.nanmax(got) <= 5
    # Swapping don't know and refused changes nothing; turning them into scale points would.
    swapped = np.where(codes == 8, 9, np.where(codes == 9, 8, codes))
    np.testing.assert_allclose(survey.attitude_index(items_frame(swapped)).to_numpy(), got)
    recoded = survey.recode_items(sv).to_numpy()
    assert set(np.unique(recoded[np.isfinite(recoded)])) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_analysis_frame_codes(frame, package):
    sv = package["survey"]
    for col in ("meaningful_contact", "trust_newcomers", "aware_measures", "impact_measures"):
        raw = sv[col if col != "meaningful_contact" else "contact_meaningful"]
        assert frame.loc[raw.isin([8, 9]).to_numpy(), col].isna().all()
    assert frame.loc[(sv["aware_measures"] != 1).to_numpy(), "impact_measures"].isna().all()
    assert set(frame["meaningful_contact"].dropna().unique()) <= {0.0, 1.0}
    assert (frame["contact_any"] == ~sv["contact_none"].to_numpy()).all()
    for col in (
        "respondent_id",
        "locality_id",
        "country",
        "size_class",
        "locality_type",
        "attitude_index",
        "contact_any",
        "meaningful_contact",
        "trust_newcomers",
        "age_group",
        "gender",
        "education",
        "born_abroad",
        "weight",
    ):
        assert col in frame.columns
    assert len(frame) == len(sv) and frame["respondent_id"].is_unique


# ------------------------------------------------------------------ raking
def test_rake_hand_worked():
    """Four respondents, four independent margin constraints: the unique calibrated weights
    (worked by hand) are 20, 40, 30, 10."""
    sv = pd.DataFrame(
        {
            "locality_id": "XX-01",
            "age_group": ["18-34", "18-34", "55+", "55+"],
            "gender": ["female", "male", "female", "male"],
            "education": ["low", "high", "high", "low"],
            "design_weight": [1.0, 1.0, 1.0, 1.0],
        }
    )
    cells = pd.MultiIndex.from_product(
        [["18-34", "35-54", "55+"], ["female", "male"], ["low", "medium", "high"]],
        names=["age_group", "gender", "education"],
    ).to_frame(index=False)
    pop = {
        ("18-34", "female", "low"): 20,
        ("18-34", "male", "high"): 40,
        ("55+", "female", "high"): 30,
        ("55+", "male", "low"): 10,
    }
    cells["population"] = [pop.get(tuple(r), 0) for r in cells.itertuples(index=False)]
    cells.insert(0, "locality_id", "XX-01")
    w = survey.rake(sv, cells, tol=1e-10, max_iter=1000)
    np.testing.assert_allclose(w.to_numpy(), [20, 40, 30, 10], rtol=1e-6)


def margin_errors(sv, margins, w):
    errs = []
    for var in survey.RAKING_VARIABLES:
        target = margins.groupby(["locality_id", var], observed=True)["population"].sum()
        got = (
            pd.Series(w.to_numpy(), index=sv.index)
            .groupby([sv["locality_id"].astype(str).to_numpy(), sv[var].astype(str).to_numpy()])
            .sum()
        )
        target.index = target.index.set_levels([lv.astype(str) for lv in target.index.levels])
        t = target[target > 0]
        errs.append(((got.reindex(t.index) - t).abs() / t).max())
    return max(errs)


def test_rake_reproduces_margins_and_respects_trim(package):
    sv, pm = package["survey"], package["margins"]
    trim = (0.5, 3.0)
    w = survey.rake(sv, pm, trim=trim)
    assert margin_errors(sv, pm, w) <= 1e-6
    diag = survey.weight_diagnostics(sv, w)
    # Factors are measured against the design weights scaled to the raked total, equal to
    # the population total up to the raking tolerance.
    assert (diag["factor_min"] >= trim[0] * (1 - 1e-6)).all() and (
        diag["factor_max"] <= trim[1] * (1 + 1e-6)
    ).all()
    assert np.isclose(diag["factor_min"].min(), trim[0], rtol=1e-6)  # the lower bound binds somewhere
    totals = pd.Series(w.to_numpy()).groupby(sv["locality_id"].astype(str).to_numpy()).sum()
    pop = pm.groupby(pm["locality_id"].astype(str))["population"].sum()
    np.testing.assert_allclose(totals.to_numpy(), pop.reindex(totals.index).to_numpy(), rtol=1e-6)


def skewed_locality(n_high=90, n_low=5, n_medium=5):
    """One locality whose sample is mostly highly educated, against a population that is not."""
    edu = ["high"] * n_high + ["low"] * n_low + ["medium"] * n_medium
    n = len(edu)
    sv = pd.DataFrame(
        {
            "locality_id": "XX-01",
            "age_group": np.tile(["18-34", "35-54", "55+"], n)[:n],
            "gender": np.tile(["female", "male"], n)[:n],
            "education": edu,
            "design_weight": np.tile([1.0, 2.0], n)[:n],
        }
    )
    cells = pd.MultiIndex.from_product(
        [["18-34", "35-54", "55+"], ["female", "male"], ["low", "medium", "high"]],
        names=["age_group", "gender", "education"],
    ).to_frame(index=False)
    share = cells["education"].map({"low": 0.30, "medium": 0.45, "high": 0.25})
    cells["population"] = np.round(10_000 * share / 6).astype(int)
    cells.insert(0, "locality_id", "XX-01")
    return sv, cells


def test_trimming_binds_and_still_meets_margins():
    sv, cells = skewed_locality(n_high=70, n_low=10, n_medium=20)
    untrimmed = survey.rake(sv, cells, trim=None)
    scaled = sv["design_weight"] * untrimmed.sum() / sv["design_weight"].sum()
    g = untrimmed / scaled
    trim = (0.3, 4.0)
    assert g.max() > trim[1] and g.min() < trim[0]  # both bounds bind
    w = survey.rake(sv, cells, trim=trim, max_iter=1000)
    g = w / scaled
    assert g.min() >= trim[0] * (1 - 1e-6) and g.max() <= trim[1] * (1 + 1e-6)
    assert np.isclose(g.min(), trim[0], rtol=1e-6) and np.isclose(g.max(), trim[1], rtol=1e-6)
    assert margin_errors(sv, cells, w) <= 1e-6


def test_rake_infeasible_trim_raises():
    sv, cells = skewed_locality()
    with pytest.raises(RuntimeError, match="did not converge"):
        survey.rake(sv, cells, trim=(0.9, 1.1))


# -------------------------------------------------------- closed-form estimates
def test_weighted_mean_single_stratum_hand_worked():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": 1.0, "locality_id": "A"})
    est = survey.weighted_mean(df, "y", "w").iloc[0]
    assert est["estimate"] == pytest.approx(2.5)
    assert est["se"] == pytest.approx(np.sqrt(5 / 12))  # s / sqrt(n) with s^2 = 5/3
    q = stats.t.ppf(0.975, 3)
    assert est["ci_low"] == pytest.approx(2.5 - q * np.sqrt(5 / 12))
    assert est["ci_high"] == pytest.approx(2.5 + q * np.sqrt(5 / 12))
    assert est["n"] == 4
    df["w"] = [1.0, 1.0, 2.0, 4.0]
    assert survey.weighted_mean(df, "y", "w").iloc[0]["estimate"] == pytest.approx(25 / 8)


def test_weighted_mean_two_strata_hand_worked():
    df = pd.DataFrame(
        {
            "y": [1.0, 3.0, 5.0, 7.0],
            "w": [1.0, 1.0, 3.0, 3.0],
            "locality_id": ["A", "A", "B", "B"],
            "g": ["d1", "d2", "d1", "d2"],
        }
    )
    est = survey.weighted_mean(df, "y", "w").iloc[0]
    # Stratified mean: 2/8 * 2 + 6/8 * 6 = 5; variance (2/8)^2 * 2/2 + (6/8)^2 * 2/2 = 0.625.
    assert est["estimate"] == pytest.approx(5.0)
    assert est["se"] == pytest.approx(np.sqrt(0.625))
    eq = survey.weighted_mean(df, "y", "w", pooling="equal").iloc[0]
    # Each locality counts equally: (2 + 6) / 2 = 4; variance (1/2)^2 * 1 + (1/2)^2 * 1 = 0.5.
    assert eq["estimate"] == pytest.approx(4.0)
    assert eq["se"] == pytest.approx(np.sqrt(0.5))
    by = survey.weighted_mean(df, "y", "w", by="locality_id").set_index("locality_id")
    assert by.loc["A", "estimate"] == pytest.approx(2.0) and by.loc["A", "se"] == pytest.approx(1.0)
    assert by.loc["B", "estimate"] == pytest.approx(6.0) and by.loc["B", "se"] == pytest.approx(1.0)
    # A domain cutting across strata, equal weights: d1 = {1, 5}, mean 3; z = -1, 0 | 1, 0;
    # each stratum contributes 2 * 0.5 = 1, so the variance is 2.
    df["w"] = 1.0
    dom = survey.weighted_mean(df, "y", "w", by="g").set_index("g")
    assert dom.loc["d1", "estimate"] == pytest.approx(3.0)
    assert dom.loc["d1", "se"] == pytest.approx(np.sqrt(2.0))


def test_weighted_proportion_hand_worked():
    df = pd.DataFrame({"y": [True, False, True, True], "w": 1.0, "locality_id": "A"})
    est = survey.weighted_proportion(df, "y", "w").iloc[0]
    assert est["estimate"] == pytest.approx(0.75)
    assert est["se"] == pytest.approx(0.25)  # sqrt(p (1 - p) / (n - 1))
    half = stats.t.ppf(0.975, 3) * 0.25 / (0.75 * 0.25)
    assert est["ci_low"] == pytest.approx(expit(logit(0.75) - half))
    assert est["ci_high"] == pytest.approx(expit(logit(0.75) + half))
    assert 0 <= est["ci_low"] < est["estimate"] < est["ci_high"] <= 1


def test_missing_values_are_left_out_and_counted():
    df = pd.DataFrame({"y": [1.0, np.nan, 3.0, np.nan], "w": [1.0, 5.0, 1.0, 5.0], "locality_id": "A"})
    est = survey.weighted_mean(df, "y", "w").iloc[0]
    assert est["estimate"] == pytest.approx(2.0) and est["n"] == 2


def test_kish_effective_sample_size():
    sv = pd.DataFrame({"locality_id": "A", "design_weight": [1.0, 1.0, 1.0, 1.0]})
    diag = survey.weight_diagnostics(sv, np.array([1.0, 1.0, 2.0, 4.0]), min_n=1).loc["A"]
    assert diag["n_eff"] == pytest.approx(64 / 22)  # (1+1+2+4)^2 / (1+1+4+16)
    assert diag["deff"] == pytest.approx(4 * 22 / 64)


# ---------------------------------------------------------------- coverage
def _population(seed=11):
    rng = np.random.default_rng(seed)
    sizes = [4000, 2500, 6000, 1500]
    pops = []
    for h, N in enumerate(sizes):
        size = rng.lognormal(0, 0.6, N)  # selection measure
        y = 2 + 0.5 * h + 0.4 * np.log(size) + rng.normal(0, 1, N)
        pops.append(
            pd.DataFrame(
                {
                    "locality_id": f"S{h}",
                    "size": size,
                    "y": y,
                    "b": rng.random(N) < expit(-1 + 0.3 * h + 0.5 * np.log(size)),
                }
            )
        )
    return pops


def test_ci_coverage_pps_within_strata():
    """200 replications of a stratified design with unequal selection probabilities
    (PPS with replacement within strata): the 95% CIs cover the population values
    between 90% and 98% of the time."""
    pops = _population()
    true_mean = np.mean(np.concatenate([p["y"] for p in pops]))
    true_prop = np.mean(np.concatenate([p["b"] for p in pops]))
    true_equal = np.mean([p["y"].mean() for p in pops])
    rng = np.random.default_rng(2024)
    hits = np.zeros(3)
    reps = 200
    for _ in range(reps):
        parts = []
        for p, n in zip(pops, [40, 60, 50, 30], strict=False):
            prob = p["size"].to_numpy() / p["size"].sum()
            idx = rng.choice(len(p), size=n, p=prob)
            parts.append(p.iloc[idx].assign(w=1 / (n * prob[idx])))
        s = pd.concat(parts, ignore_index=True)
        m = survey.weighted_mean(s, "y", "w").iloc[0]
        b = survey.weighted_proportion(s, "b", "w").iloc[0]
        e = survey.weighted_mean(s, "y", "w", pooling="equal").iloc[0]
        hits += [
            m["ci_low"] <= true_mean <= m["ci_high"],
            b["ci_low"] <= true_prop <= b["ci_high"],
            e["ci_low"] <= true_equal <= e["ci_high"],
        ]
    coverage = hits / reps
    assert np.all((coverage >= 0.90) & (coverage <= 0.98)), coverage


# ------------------------------------------------------------------- scales
def test_cronbach_alpha_hand_worked():
    items = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 1, 4, 3]})
    # var(a) = var(b) = 5/3; sum = 3, 3, 7, 7 with variance 16/3: alpha = 2 (1 - (10/3) / (16/3)) = 0.75.
    assert survey.cronbach_alpha(items) == pytest.approx(0.75)
    assert survey.cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [1, 2, 3]})) == pytest.approx(1.0)


def test_scale_check_twin(twin):
    check = survey.scale_check(twin.frames["survey"])
    assert 0.7 < check.alpha < 0.95
    assert check.same_sign and check.min_abs_loading > 0.4 and check.one_factor
    assert check.srmr <= check.srmr_threshold and 0.7 < check.omega < 0.97
    assert check.sentence.startswith("The six items form one scale")
    assert check.n_complete < len(twin.frames["survey"])  # non-substantive answers excluded


# ---------------------------------------------------------------- recovery
def test_planted_attitude_effects_recovered(twin, twin_frame):
    """Planted on the latent 1-5 scale: contact 0.35, 0.12 per 10 index points, education
    high - low 0.50. The index is a mean of rounded, clipped items, which attenuates slopes a
    little: contact within +-0.1, index within +-0.08, education high-low positive and within
    0.30-0.70."""
    planted = twin.params["survey"]["attitude"]
    scores = twin.truth["overall_scores"].reindex(twin.frames["localities"]["locality_id"])
    table = survey.attitude_model(twin_frame, scores).set_index("term")
    assert abs(table.loc["contact_any", "estimate"] - planted["contact_any"]) <= 0.1
    assert abs(table.loc["mipex_l_per_10", "estimate"] - planted["index_per_10_points"]) <= 0.08
    edu = table.loc["education[high]", "estimate"]
    assert edu > 0 and 0.30 <= edu <= 0.70
    assert (table["ci_low"] < table["estimate"]).all() and (table["estimate"] < table["ci_high"]).all()
    assert table.attrs["n_localities"] == scores.notna().sum()
    assert table.attrs["excluded_localities"] == sorted(scores[scores.isna()].index)
    # Locality-level terms on t(G - 1), respondent-level terms on the normal quantile.
    G = table.attrs["n_localities"]
    for term in ("mipex_l_per_10", "Intercept"):
        row = table.loc[term]
        assert row["df"] == G - 1
        assert (row["ci_high"] - row["estimate"]) / row["se"] == pytest.approx(stats.t.ppf(0.975, G - 1))
        assert row["p_value"] == pytest.approx(2 * stats.t.sf(abs(row["estimate"] / row["se"]), G - 1))
    row = table.loc["contact_any"]
    assert np.isinf(row["df"])
    assert (row["ci_high"] - row["estimate"]) / row["se"] == pytest.approx(stats.norm.ppf(0.975))


def test_planted_contact_recovered(twin_frame):
    contact = survey.contact_by_setting(twin_frame)
    se = contact[contact["country"] == "SE"].set_index("setting")["estimate"]
    for setting, planted in {"hobby": 0.40, "sports": 0.35, "leisure": 0.35, "work": 0.20}.items():
        assert abs(se[setting] - planted) < 0.05, setting
    claim = survey.associational_contact_claim(twin_frame)
    assert claim.supported
    mean = survey.meaningful_contact_claim(twin_frame)
    given = mean.table.set_index("quantity").loc["meaningful_given_contact"]
    assert abs(given["estimate"] - 0.30) < 0.03
    assert mean.supported


def test_sweden_claim_fails_without_the_planted_pattern():
    """The claim test can fail: with Sweden's contact override removed it is not supported."""
    params = copy.deepcopy(load_parameters())
    params["survey"]["contact_country_override"] = {}
    tw = generate(params=params)
    fr = tw.frames
    frame = survey.analysis_frame(fr["survey"], fr["population_margins"], fr["localities"])
    assert not survey.associational_contact_claim(frame).supported


def test_meaningful_claim_fails_when_contact_is_meaningful():
    params = copy.deepcopy(load_parameters())
    params["survey"]["meaningful_given_contact"] = 0.9
    params["survey"]["meaningful_without_contact"] = 0.6
    fr = generate(params=params).frames
    frame = survey.analysis_frame(fr["survey"], fr["population_margins"], fr["localities"])
    assert not survey.meaningful_contact_claim(frame).supported


def test_raked_composition_matches_population(frame, package):
    comp = survey.composition(frame, package["margins"]).pivot_table(
        index=["variable", "category"], columns="source", values="share", observed=True
    )
    np.testing.assert_allclose(comp["Sample, raked"], comp["Population"], atol=1e-4)
    assert (comp["Sample, unweighted"] - comp["Population"]).abs().max() > 1  # the raking had work to do


def test_item_distribution_sums(package, frame):
    dist = survey.item_distribution(package["survey"], frame["weight"])
    sub = dist[dist["base"] == "substantive"].groupby("item")["estimate"].sum()
    np.testing.assert_allclose(sub.to_numpy(), 1.0)
    seg = survey.likert_segments(dist)
    width = seg.pivot_table(index="label", columns="segment", values="end", observed=True)
    np.testing.assert_allclose(width["Strongly agree"] - width["Strongly disagree"], 100.0)


# ------------------------------------------------------- disclosure control
def test_suppressed_cells_never_appear(frame):
    small = frame[frame["locality_id"] == "AT-01"].head(6)
    sub = pd.concat([frame[frame["locality_id"] != "AT-01"], small])
    out = survey.locality_outcomes(sub)
    row = out.loc["AT-01"]
    assert row["suppressed"]
    values = [
        "n",
        "attitude_index",
        "attitude_index_ci_low",
        "attitude_index_ci_high",
        "contact_any",
        "meaningful_contact",
        "trust_newcomers",
    ]
    assert out.loc[out["suppressed"], values].isna().all().all()
    assert out.loc[~out["suppressed"], values].notna().all().all()
    data.assert_disclosure_safe(out)
    assert int(out["suppressed"].sum()) == 1
    full = survey.locality_outcomes(frame)
    assert not full["suppressed"].any() and len(full) == frame["locality_id"].nunique()
    data.assert_disclosure_safe(full)


def test_weight_diagnostics_disclosure():
    sv = pd.DataFrame({"locality_id": ["A"] * 4 + ["B"] * 12, "design_weight": 1.0})
    diag = survey.weight_diagnostics(sv, np.ones(16))
    assert diag.loc["A", ["n", "n_eff", "deff"]].isna().all() and diag.loc["A", "suppressed"]
    assert diag.loc["B", "n_eff"] == pytest.approx(12)
    data.assert_disclosure_safe(diag)


# --------------------------------------------------------------- bad input
def test_missing_margins_for_a_locality_raise(package):
    pm = package["margins"]
    with pytest.raises(ValueError, match="AT-02"):
        survey.rake(package["survey"], pm[pm["locality_id"] != "AT-02"])


def test_nonpositive_weights_raise(package):
    sv = package["survey"].copy()
    sv.loc[sv.index[3], "design_weight"] = 0.0
    with pytest.raises(ValueError, match="design_weight"):
        survey.rake(sv, package["margins"])
    df = pd.DataFrame({"y": [1.0, 2.0], "w": [1.0, -1.0], "locality_id": "A"})
    with pytest.raises(ValueError, match="positive"):
        survey.weighted_mean(df, "y", "w")


def test_unknown_category_raises(package):
    sv = package["survey"].copy()
    sv["gender"] = sv["gender"].astype(str)
    sv.loc[sv.index[0], "gender"] = "other"
    with pytest.raises(ValueError, match="gender.*other"):
        survey.rake(sv, package["margins"])


def test_bad_codes_raise():
    with pytest.raises(ValueError, match="att_welcome.*7"):
        survey.attitude_index(items_frame([[1, 2, 7, 4, 5, 1]]))
    sv = items_frame([[1, 2, 3, 4, 5, 1]]).astype("Int64")
    sv.loc[0, "att_belong"] = pd.NA
    with pytest.raises(ValueError, match="att_belong.*empty"):
        survey.attitude_index(sv)
    df = pd.DataFrame({"y": [0.0, 2.0], "w": 1.0, "locality_id": "A"})
    with pytest.raises(ValueError, match="0/1"):
        survey.weighted_proportion(df, "y", "w")


def test_margin_cell_without_respondents_raises():
    sv, cells = skewed_locality(n_high=10, n_low=0, n_medium=10)
    with pytest.raises(ValueError, match="education=low"):
        survey.rake(sv, cells)


def test_model_input_checks(twin, twin_frame):
    scores = twin.truth["overall_scores"]
    with pytest.raises(ValueError, match="no entry"):
        survey.attitude_model(twin_frame, scores.drop(scores.index[0]))
    with pytest.raises(ValueError, match="between 0 and 100"):
        survey.attitude_model(twin_frame, scores.reindex(twin.frames["localities"]["locality_id"]) + 200)


def test_deterministic(package):
    a = survey.analysis_frame(package["survey"], package["margins"], package["localities"])
    b = survey.analysis_frame(package["survey"], package["margins"], package["localities"])
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------- reliability (stats.cronbach_alpha)
def test_cronbach_alpha_is_one_function_with_one_zero_variance_rule():
    from wholecomm import stats as shared
    from wholecomm.errors import InputError

    assert survey.cronbach_alpha is shared.cronbach_alpha
    # A total score without variance: alpha is undefined, NaN (documented), never an error.
    assert np.isnan(shared.cronbach_alpha(pd.DataFrame({"a": [2, 2, 2], "b": [3, 3, 3]})))
    assert np.isnan(shared.cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [3, 2, 1]})))
    with_gap = pd.DataFrame({"a": [1, 2, 3, 4, np.nan], "b": [2, 1, 4, 3, 5]})
    assert shared.cronbach_alpha(with_gap) == pytest.approx(0.75)  # complete rows only
    with pytest.raises(InputError, match="at least 2 items"):
        shared.cronbach_alpha(with_gap[["a"]])
    with pytest.raises(InputError, match="complete rows"):
        shared.cronbach_alpha(pd.DataFrame({"a": [1, np.nan], "b": [np.nan, 2]}))
    with pytest.raises(InputError, match="non-numeric"):
        shared.cronbach_alpha(pd.DataFrame({"a": ["x", "y"], "b": [1, 2]}))


# ------------------------------------------------------- ordinal one-factor model
def test_bivariate_normal_cdf_matches_scipy():
    from wholecomm.survey import ordinal

    mvn = stats.multivariate_normal
    for rho in (-0.7, 0.0, 0.3, 0.9):
        for h, k in ((-1.2, 0.4), (0.5, 0.5), (1.1, -2.0), (0.0, 0.7), (-0.3, 0.0)):
            expected = mvn.cdf([h, k], mean=[0, 0], cov=[[1, rho], [rho, 1]])
            assert ordinal.bivariate_normal_cdf(np.array(h), np.array(k), rho) == pytest.approx(
                expected, abs=1e-6
            )


def test_tetrachoric_known_answer():
    # Median splits: P(both high) = 1/4 + arcsin(rho) / (2 pi); rho = 0.5 gives 1/3.
    from wholecomm.survey import ordinal

    x = np.repeat([0, 0, 1, 1], [200, 100, 100, 200])
    y = np.repeat([0, 1, 0, 1], [200, 100, 100, 200])
    assert ordinal.polychoric(x, y) == pytest.approx(0.5, abs=1e-5)
    assert ordinal.polychoric(x, 1 - y) == pytest.approx(-0.5, abs=1e-5)


def test_polychoric_recovers_planted_correlation():
    from wholecomm.survey import ordinal

    rng = np.random.default_rng(7)
    latent = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=20000)
    x = np.digitize(latent[:, 0], [-1.5, -0.4, 0.3, 1.2]) + 1
    y = np.digitize(latent[:, 1], [-0.8, 0.0, 0.9, 1.8]) + 1
    assert ordinal.polychoric(x, y) == pytest.approx(0.6, abs=0.02)
    # Pearson's r of the codes understates it: the reason to model the items as ordinal.
    assert np.corrcoef(x, y)[0, 1] < 0.58


def test_one_factor_recovers_planted_loadings():
    from wholecomm.survey import ordinal

    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.75])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    names = list("abcde")
    fit = ordinal.one_factor(pd.DataFrame(r, index=names, columns=names))
    assert fit.loadings.to_numpy() == pytest.approx(lam, abs=1e-6)
    assert fit.srmr == pytest.approx(0.0, abs=1e-6)
    assert fit.omega == pytest.approx(lam.sum() ** 2 / (lam.sum() ** 2 + np.sum(1 - lam**2)), abs=1e-6)
    # Two uncorrelated blocks do not fit one factor.
    two = np.eye(6)
    two[:3, :3] = two[3:, 3:] = 0.6
    np.fill_diagonal(two, 1.0)
    bad = ordinal.one_factor(pd.DataFrame(two, index=list("abcdef"), columns=list("abcdef")))
    assert bad.srmr > ordinal.SRMR_GOOD


def test_ordinal_bad_input():
    from wholecomm.errors import InputError
    from wholecomm.survey import ordinal

    with pytest.raises(InputError, match="two categories"):
        ordinal.polychoric([1, 1, 1], [1, 2, 3])
    with pytest.raises(InputError, match="differ in length"):
        ordinal.polychoric([1, 2], [1, 2, 3])
    with pytest.raises(InputError, match="at least 3 items"):
        ordinal.one_factor(pd.DataFrame(np.eye(2)))
    with pytest.raises(InputError, match="not a correlation matrix"):
        ordinal.one_factor(pd.DataFrame(np.full((3, 3), 2.0)))


# ------------------------------------------ calibration-aware variance and the fpc
def _poststratified_locality(n_f=6, n_m=4, population=40.0):
    rng = np.random.default_rng(3)
    gender = np.array(["female"] * n_f + ["male"] * n_m)
    w = np.where(gender == "female", population * 0.5 / n_f, population * 0.5 / n_m)
    return pd.DataFrame({"locality_id": "A", "gender": gender, "w": w, "y": rng.normal(3, 1, n_f + n_m)})


def test_calibrated_variance_known_answer():
    """Weights post-stratified on gender: the calibrated linearised variance uses the
    residuals from the post-stratum means (the textbook post-stratified variance), times
    the finite population correction 1 - n / N."""
    df = _poststratified_locality()
    n, N = len(df), df["w"].sum()
    est = survey.weighted_mean(df, "y", "w", calibration=["gender"], fpc=True).iloc[0]
    R = np.average(df["y"], weights=df["w"])
    post_mean = df.groupby("gender")["y"].transform(lambda s: np.average(s, weights=df.loc[s.index, "w"]))
    z = df["w"] * (df["y"] - post_mean) / N
    expected = (1 - n / N) * n / (n - 1) * np.sum((z - z.mean()) ** 2)
    assert est["estimate"] == pytest.approx(R)
    assert est["se"] ** 2 == pytest.approx(expected, rel=1e-10)
    plain = survey.weighted_mean(df, "y", "w").iloc[0]
    assert est["se"] < plain["se"]


def test_calibration_removes_the_variance_of_a_calibration_variable():
    df = _poststratified_locality().assign(male=lambda d: (d["gender"] == "male").astype(float))
    calibrated = survey.weighted_proportion(df, "male", "w", calibration=["gender"]).iloc[0]
    assert calibrated["se"] == pytest.approx(0.0, abs=1e-7)
    assert survey.weighted_proportion(df, "male", "w").iloc[0]["se"] > 0.05


def test_fpc_matches_samplics(twin_frame):
    """The finite population correction agrees with samplics (weights treated as fixed)."""
    pytest.importorskip("samplics", reason="samplics (test group of requirements.in) is the peer")
    from samplics import PopParam
    from samplics.estimation import TaylorEstimator

    sub = twin_frame[twin_frame["locality_id"].isin(sorted(twin_frame["locality_id"].unique())[:4])]
    sub = sub[sub["attitude_index"].notna()].reset_index(drop=True)
    ours = survey.weighted_mean(sub, "attitude_index", "weight", fpc=True).iloc[0]
    population = sub.groupby("locality_id")["weight"].sum()
    fpc = {k: 1 - (sub["locality_id"] == k).sum() / population[k] for k in population.index}
    assert min(fpc.values()) < 0.99  # the correction matters on the twin
    peer = TaylorEstimator(PopParam.mean)
    peer.estimate(
        y=sub["attitude_index"].to_numpy(),
        samp_weight=sub["weight"].to_numpy(),
        stratum=sub["locality_id"].astype(str).to_numpy(),
        psu=sub["respondent_id"].astype(str).to_numpy(),
        fpc=fpc,
    )
    assert ours["estimate"] == pytest.approx(float(peer.point_est), rel=1e-10)
    assert ours["se"] == pytest.approx(float(peer.stderror), rel=1e-8)


def test_calibrated_estimates_on_the_twin(twin_frame):
    """The chapter's design (calibration + fpc) only shrinks the standard errors of the
    locality means, never moves the estimates."""
    lid = "locality_id"
    plain = survey.weighted_mean(twin_frame, "attitude_index", "weight", by=lid)
    design = survey.weighted_mean(twin_frame, "attitude_index", "weight", by=lid, **survey.RESIDENT_DESIGN)
    assert design["estimate"].to_numpy() == pytest.approx(plain["estimate"].to_numpy(), rel=1e-12)
    assert (design["se"] <= plain["se"] * (1 + 1e-9)).all()
    assert (design["se"] < plain["se"]).mean() > 0.9


def test_calibration_needs_strata():
    df = _poststratified_locality()
    with pytest.raises(ValueError, match="need strata"):
        survey.weighted_mean(df, "y", "w", strata=None, calibration=["gender"])


def test_fpc_is_left_out_where_weights_are_not_population_counts():
    """Weights summing to fewer than the respondents cannot give a sampling fraction: the
    correction is not applied there (the plain standard error), and a warning names the stratum."""
    df = _poststratified_locality().assign(w=0.5)
    with pytest.warns(UserWarning, match=r"not applied in 1 stratum.*sum to fewer than their respondents"):
        corrected = survey.weighted_mean(df, "y", "w", fpc=True).iloc[0]
    plain = survey.weighted_mean(df, "y", "w").iloc[0]
    assert corrected["se"] == pytest.approx(plain["se"], rel=1e-12)
    assert corrected["estimate"] == pytest.approx(plain["estimate"], rel=1e-12)


# ------------------------------------------------------- the chapter's tables and figures
def test_chapter_pieces_without_the_claim_country(twin_frame):
    """Without the claim's country the table is empty and says why, and the figure says so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    country = survey.CLAIM_COUNTRIES["associational_contact"]["country"]
    without = twin_frame[twin_frame["country"].astype(str) != country]
    table = survey.associational_table(without)
    assert table.empty and "no respondents" in table.attrs["not_examinable"]
    fig = survey.associational_figure(without)
    assert isinstance(fig, Figure)
    assert any("Not examinable" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)
    shown = survey.associational_table(twin_frame)
    assert {"estimate", "ci_low", "ci_high", "n"} <= set(shown.columns)
    assert (shown["ci_low"] <= shown["estimate"]).all() and (shown["estimate"] <= shown["ci_high"]).all()


def test_design_table_names_groups_and_widens_place_intervals(twin_frame):
    table = survey.design_table(twin_frame)
    assert set(table["measure"]) == {"attitude_index", "aware_measures"}
    assert not table["group"].str.fullmatch(r"[A-Z]{2}").any()  # country codes replaced by names
    assert (table["ratio"] > 1).all()
