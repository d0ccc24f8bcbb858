"""Tests of the inference policy as the chapters apply it: the place design of the
survey (localities as clusters within country strata) against a hand-computed answer
and the peer samplics, rankings only when the contrasts allow them, the Sweden claim on
the place design, and the hypotheses of the housing-employment page (Holm, separation,
interval and test from one method)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wholecomm import access, data, policy, stats, survey


@pytest.fixture(scope="module")
def frame():
    return survey.analysis_frame(
        data.load("survey"), data.load("population_margins"), data.load("localities")
    )


def tiny():
    # 2 countries x 2 localities x 2 respondents, weights 1 (pooling by weights).
    return pd.DataFrame(
        {
            "country": ["A"] * 4 + ["B"] * 4,
            "locality_id": ["a1", "a1", "a2", "a2", "b1", "b1", "b2", "b2"],
            "weight": 1.0,
            "y": [1.0, 3.0, 5.0, 7.0, 2.0, 2.0, 4.0, 8.0],
        }
    )


def test_place_variance_by_hand():
    d = tiny()
    est = survey.place_estimates(d, "y", "country", pooling="weights").set_index("country")
    # Country A: mean 4, z_i = (y_i - 4) / 4; locality totals (-4 + -... ) by hand:
    # a1: (1-4 + 3-4)/4 = -1, a2: (5-4 + 7-4)/4 = 1; stratum A: 2/1 * ((-1-0)^2 + (1-0)^2) = 4
    # country B's totals are 0 for A's domain -> variance 4, se 2; df = 2 localities - 1 country.
    assert est.loc["A", "estimate"] == 4.0
    assert est.loc["A", "se"] == pytest.approx(2.0)
    assert est.loc["A", "df"] == 1
    # Overall: mean 4, z_i = (y_i - 4)/8; totals a1 -0.5, a2 0.5, b1 -0.5, b2 0.5
    # variance = 2 * (0.25 + 0.25) + 2 * (0.25 + 0.25) = 2, df = 4 - 2.
    overall = survey.place_estimates(d, "y", None, pooling="weights").iloc[0]
    assert overall["se"] == pytest.approx(np.sqrt(2.0)) and overall["df"] == 2
    # The contrast of two countries in different strata: variances add.
    c = survey.place_contrast(d, "y", d["country"] == "A", d["country"] == "B", pooling="weights")
    b = est.loc["B"]
    assert c["estimate"] == pytest.approx(4.0 - b["estimate"])
    assert c["se"] == pytest.approx(np.hypot(2.0, b["se"]))
    assert c["df"] == 1


def test_place_design_refuses_bad_input():
    d = tiny()
    with pytest.raises(ValueError, match="overlap"):
        survey.place_contrast(d, "y", d["country"] == "A", np.ones(8, dtype=bool))
    bad = d.assign(country=["A"] * 3 + ["B"] * 5)  # locality a2 in two countries
    with pytest.raises(ValueError, match="'a2'"):
        survey.place_estimates(bad, "y")
    with pytest.raises(ValueError, match="empty for 1 rows"):
        survey.place_estimates(d.assign(locality_id=[None, *d["locality_id"][1:]]), "y")


def test_place_estimates_keep_the_point_estimates_and_widen_the_intervals(frame):
    resid = survey.weighted_mean(frame, "attitude_index", "weight", "country", pooling=survey.POOLING)
    place = survey.place_estimates(frame, "attitude_index", "country")
    assert place["estimate"].to_numpy() == pytest.approx(resid["estimate"].to_numpy(), abs=1e-12)
    assert (place["df"] == 4).all()  # five localities per country
    comp = survey.design_comparison(frame, "attitude_index", "country")
    assert (comp["ratio"] > 1).all()
    props = survey.place_estimates(frame, "aware_measures", "country", "proportion")
    assert ((props["ci_low"] < props["estimate"]) & (props["estimate"] < props["ci_high"])).all()
    assert ((props["ci_low"] >= 0) & (props["ci_high"] <= 1)).all()


@pytest.mark.parametrize("design", ["places", "residents"])
def test_survey_estimates_and_ses_equal_samplics(frame, design):
    pytest.importorskip("samplics", reason="samplics (test group of requirements.in) is the peer")
    from samplics import PopParam
    from samplics.estimation import TaylorEstimator

    d = frame.dropna(subset=["attitude_index"]).reset_index(drop=True)
    # equal pooling: each locality's weights sum to one
    w = d["weight"] / d.groupby("locality_id")["weight"].transform("sum")
    d = d.assign(weight=w)
    est = TaylorEstimator(PopParam.mean)
    if design == "places":
        est.estimate(
            y=d["attitude_index"].to_numpy(),
            samp_weight=d["weight"].to_numpy(),
            stratum=d["country"].astype(str).to_numpy(),
            psu=d["locality_id"].astype(str).to_numpy(),
            domain=d["country"].astype(str).to_numpy(),
            remove_nan=True,
        )
        ours = survey.place_estimates(d, "attitude_index", "country", pooling="weights").set_index("country")
    else:
        est.estimate(
            y=d["attitude_index"].to_numpy(),
            samp_weight=d["weight"].to_numpy(),
            stratum=d["locality_id"].astype(str).to_numpy(),
            psu=d["respondent_id"].astype(str).to_numpy(),
            domain=d["country"].astype(str).to_numpy(),
            remove_nan=True,
        )
        ours = survey.weighted_mean(d, "attitude_index", "weight", "country", pooling="weights").set_index(
            "country"
        )
    for country, row in ours.iterrows():
        assert est.point_est[country] == pytest.approx(row["estimate"], rel=1e-10)
        assert est.stderror[country] == pytest.approx(row["se"], rel=1e-8)


# ----------------------------------------------------- the housing-employment page
@pytest.fixture(scope="module")
def hypotheses():
    return access.evaluate()


def test_verdicts_use_holm_over_the_page_family(hypotheses):
    results = list(hypotheses.values())
    raw = [r.p_value for r in results]
    assert [r.p_adjusted for r in results] == pytest.approx(list(stats.holm(raw)))
    for r in results:
        side = (r.estimate > r.null) == (r.direction == "greater")
        expected = (
            ("supported" if side else "not supported") if r.p_adjusted < access.ALPHA else "inconclusive"
        )
        assert r.verdict == expected
    table = access.summary_table(hypotheses)
    assert (table["p_holm"] >= table["p_value"]).all()


def test_interval_and_test_come_from_one_method(hypotheses):
    for r in hypotheses.values():
        excludes = r.ci_low > r.null or r.ci_high < r.null
        assert excludes == (r.p_value < 0.05), r.id


def test_few_treated_clusters_use_the_wild_bootstrap(hypotheses):
    es = hypotheses["H6 (ES)"]
    assert es.test.startswith("Wild cluster")
    # the bootstrap is more cautious than CR1 with five treated localities
    assert es.p_value > es.details["cr1_p"]


def test_capacity_survives_perfect_separation():
    pdf = policy.prepare()
    size = pdf["size_class"].astype(str)
    pdf = pdf.assign(
        dedicated_staff=np.where(
            size == "rural_area", False, np.where(size == "medium_town", True, pdf["dedicated_staff"])
        )
    )
    staff = access.h3_capacity(pdf)[0]
    assert staff.details["staff_pct_rural_area"] == 0 and staff.details["staff_pct_medium_town"] == 100
    assert np.isfinite([staff.estimate, staff.ci_low, staff.ci_high]).all()
    assert staff.estimate > 1 and staff.ci_low > 1
    assert staff.verdict == "supported"


def test_dont_know_sensitivity_brackets_the_awareness_share(frame):
    sv = data.load("survey")
    dk = survey.awareness_dont_know(sv, frame).set_index("treatment")
    as_missing, as_no, as_yes = (
        dk.loc[t, "estimate"]
        for t in ("don't know as missing", "don't know as not aware", "don't know as aware")
    )
    assert as_no <= as_missing <= as_yes
    assert as_missing == pytest.approx(survey.awareness(frame).iloc[0]["estimate"], abs=1e-12)
    n_dk = int((sv["aware_measures"] == survey.DONT_KNOW).sum())
    assert dk.loc["don't know as not aware", "n"] == dk.loc["don't know as missing", "n"] + n_dk
    assert dk["dont_know_share"].iloc[0] == pytest.approx(n_dk / len(sv))
    with pytest.raises(ValueError, match="not in the survey"):
        survey.awareness_dont_know(sv.iloc[1:], frame)


def test_verdict_stability_record_is_read_with_its_provenance(tmp_path):
    import json

    rec = {
        "realisations": 4,
        "seeds": [2, 5],
        "wild_bootstrap_draws": 99,
        "date": "2026-01-01",
        "counts": {"H1": {"supported": 4}, "H4": {"supported": 1, "inconclusive": 3}},
    }
    path = tmp_path / "vs.json"
    path.write_text(json.dumps(rec), encoding="utf-8")
    vs = access.verdict_stability(path).set_index("hypothesis")
    assert vs.loc["H1", "supported_pct"] == 100 and vs.loc["H4", "inconclusive_pct"] == 75
    assert vs.loc["H4", "not_supported_pct"] == 0
    assert vs.attrs["seeds"] == [2, 5] and "counts" not in vs.attrs
    with pytest.raises(FileNotFoundError, match="verdict_stability.py"):
        access.verdict_stability(tmp_path / "absent.json")


def test_stored_verdict_stability_covers_every_hypothesis(hypotheses):
    vs = access.verdict_stability()
    assert set(vs["hypothesis"]) == set(hypotheses)
    shares = vs[["supported_pct", "inconclusive_pct", "not_supported_pct"]].sum(axis=1)
    assert shares.to_numpy() == pytest.approx(100.0)
    assert vs.attrs["realisations"] >= 50


def test_minimum_detectable_effects_known_answer():
    from scipy import stats as sps

    r = access.HypothesisResult(
        id="X",
        claim="",
        estimand="",
        estimate=5.0,
        ci_low=-1.96,
        ci_high=11.96,
        null=0.0,
        direction="greater",
        unit="percentage points",
        test="",
        p_value=0.1,
        n="",
    )
    q = access.HypothesisResult(
        id="Y",
        claim="",
        estimand="",
        estimate=0.8,
        ci_low=np.exp(-1.96),
        ci_high=np.exp(1.96),
        null=1.0,
        direction="less",
        unit="odds ratio",
        test="",
        p_value=0.5,
        n="",
    )
    mde = access.minimum_detectable_effects({"X": r, "Y": q}).set_index("hypothesis")
    z = sps.norm.ppf(0.975)
    k = z + sps.norm.ppf(0.8)
    se_x, se_y = 13.92 / (2 * z), 3.92 / (2 * z)  # from the intervals' widths
    assert mde.loc["X", "mde"] == pytest.approx(k * se_x)
    assert mde.loc["Y", "mde"] == pytest.approx(np.exp(-k * se_y))  # predicted below 1
    k2 = sps.norm.ppf(1 - 0.025 / 2) + sps.norm.ppf(0.8)  # Holm's first step, m = 2
    assert mde.loc["X", "mde_holm_first_step"] == pytest.approx(k2 * se_x)
    assert mde.loc["Y", "mde_holm_first_step"] < mde.loc["Y", "mde"] < 1
