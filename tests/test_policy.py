"""Tests of wholecomm.policy: estimators against hand-worked answers, QCA on tiny truth
tables worked by hand, bad input, and recovery of the synthetic twin's planted policy
relationships."""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import t as student_t

from wholecomm import data, policy, stats
from wholecomm.errors import InputError
from wholecomm.twin import generate, load_parameters
from wholecomm.twin.generate import to_csv_bytes


# ---------------------------------------------------------------- helpers
def typed_frame(frames: dict, name: str) -> pd.DataFrame:
    """A generated (CSV-ready) frame typed exactly as data.load would type the file."""
    raw = pd.read_csv(io.BytesIO(to_csv_bytes(frames[name])), dtype=str, keep_default_na=False, na_values=[])
    return data._typed(raw, data.resource_descriptor(name))


def make_localities(rows):
    """rows: (locality_id, size_class, economic_trend, political_orientation)."""
    return pd.DataFrame(
        [
            {
                "locality_id": lid,
                "country": lid[:2],
                "size_class": s,
                "economic_trend": e,
                "political_orientation": o,
            }
            for lid, s, e, o in rows
        ]
    )


def make_policies(spec):
    """spec: locality_id -> (dedicated_staff, {area: approach}); areas missing from the
    dict get 'none'. Uses two areas (housing, health) to keep tables small."""
    rows = []
    for lid, (staff, approaches) in spec.items():
        for area in ("health", "housing"):
            approach = approaches.get(area, "none")
            present = approach != "none"
            rows.append(
                {
                    "locality_id": lid,
                    "policy_area": area,
                    "measure_present": present,
                    "approach": approach,
                    "lead_actor": "municipality" if present else None,
                    "relation_higher_level": "cooperative",
                    "dedicated_staff": staff,
                    "main_funding": "local" if present else None,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture()
def small():
    loc = make_localities(
        [
            ("AT-01", "rural_area", "declining", "progressive"),
            ("AT-02", "small_town", "stable", "centrist"),
            ("BE-01", "medium_town", "improving", "conservative"),
            ("BE-02", "medium_town", "improving", "progressive"),
        ]
    )
    lp = make_policies(
        {
            "AT-01": (False, {"housing": "reactive"}),
            "AT-02": (False, {"health": "reactive", "housing": "proactive"}),
            "BE-01": (True, {"health": "proactive", "housing": "proactive"}),
            "BE-02": (True, {"health": "proactive"}),
        }
    )
    return lp, loc


# ------------------------------------------------------------- estimators
def test_wilson_known_values():
    # 8 of 20: the textbook Wilson interval (0.2188, 0.6134).
    lo, hi = policy.wilson_interval(8, 20)
    assert lo == pytest.approx(0.21880, abs=1e-4)
    assert hi == pytest.approx(0.61342, abs=1e-4)
    # 0 of 10: lower bound 0, upper bound z^2/n / (1 + z^2/n) = 0.2775.
    lo, hi = policy.wilson_interval(0, 10)
    assert lo == 0
    assert hi == pytest.approx(0.27753, abs=1e-4)


def test_wilson_bad_input():
    with pytest.raises(ValueError, match="n must be positive"):
        policy.wilson_interval(0, 0)
    with pytest.raises(ValueError, match="between 0 and n"):
        policy.wilson_interval(5, 4)


def test_newcombe_published_example():
    # Newcombe (1998), method 10: 56/70 vs 48/80 -> 0.2000 (0.0524, 0.3339).
    r = policy.newcombe_difference(56, 70, 48, 80)
    assert r["estimate"] == pytest.approx(0.2)
    assert r["ci_low"] == pytest.approx(0.0524, abs=5e-4)
    assert r["ci_high"] == pytest.approx(0.3339, abs=5e-4)


def test_clustered_proportion_design_effect_by_hand():
    # y = 1,1 | 0,0 | 1,0 in clusters A, B, C: p = 0.5, cluster sums of residuals 1, -1, 0,
    # CR1 variance = 3/2 * 2 / 36 = 1/12; independent variance 0.25/6 = 1/24; deff = 2.
    # Three clusters leave 2 degrees of freedom: the effective n = 6 / 2 is scaled by
    # (z / t(2))^2 = (1.959964 / 4.302653)^2 = 0.207500.
    r = stats.clustered_proportion([True, True, False, False, True, False], list("AABBCC"))
    assert r["estimate"] == 0.5
    assert r["deff"] == pytest.approx(2.0)
    assert r["df"] == 2
    lo, hi = stats.wilson_interval(1.5 * 0.2075, 3 * 0.2075)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((lo, hi), abs=1e-5)
    # Clusters 1,0 | 1,0 | 1,0 have residual sums 0 (variance 0): the design effect is
    # floored at 1, so the interval is never narrower than for independent observations.
    balanced = stats.clustered_proportion([True, False] * 3, list("AABBCC"))
    assert balanced["deff"] == 1.0
    assert (balanced["ci_low"], balanced["ci_high"]) == pytest.approx(
        stats.wilson_interval(3 * 0.2075, 6 * 0.2075), abs=1e-5
    )


def wilson_with_quantile(p: float, n: float, q: float) -> tuple[float, float]:
    """Wilson's interval written out with critical value ``q`` (independent of the library)."""
    centre = (p + q**2 / (2 * n)) / (1 + q**2 / n)
    half = q / (1 + q**2 / n) * math.sqrt(p * (1 - p) / n + q**2 / (4 * n**2))
    return max(0.0, centre - half), min(1.0, centre + half)


def test_clustered_proportion_uses_t_on_clusters_minus_one():
    # Korn-Graubard-style degrees of freedom: the clustered Wilson interval is Wilson's
    # with the t(G - 1) quantile in place of z, at the design-effect-adjusted n.
    rng = np.random.default_rng(5)
    for n_clusters in (3, 5, 12, 40):
        g = np.repeat(np.arange(n_clusters), 6)
        y = rng.random(len(g)) < 0.3 + 0.4 * (g % 2)
        r = stats.clustered_proportion(y, g)
        q = student_t.ppf(0.975, n_clusters - 1)
        expected = wilson_with_quantile(y.mean(), len(y) / r["deff"], q)
        assert (r["ci_low"], r["ci_high"]) == pytest.approx(expected, abs=1e-9)
        assert r["df"] == n_clusters - 1
    # One cluster: no design degrees of freedom; the independent-sample Wilson interval.
    one = stats.clustered_proportion([True, False, True], ["a"] * 3)
    assert one["df"] is None
    assert (one["ci_low"], one["ci_high"]) == pytest.approx(stats.wilson_interval(2, 3))


def test_clustered_proportion_coverage_with_five_clusters():
    # Five clusters of 20 with a cluster-level random effect (sd 0.8 on the logit scale
    # around a share of 0.4): the target is the share in the population of clusters,
    # E[expit(logit(0.4) + 0.8 u)] (Gauss-Hermite quadrature). The t(G - 1) interval
    # covers it at least at the nominal rate; the z interval (the Wilson interval at
    # n / deff) clearly less often (about 90% here).
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    truth = float(np.sum(weights * expit(np.log(0.4 / 0.6) + 0.8 * nodes)) / np.sum(weights))
    rng = np.random.default_rng(20240601)
    covered_t = covered_z = 0
    reps = 1000
    g = np.repeat(np.arange(5), 20)
    for _ in range(reps):
        p_cluster = expit(np.log(0.4 / 0.6) + rng.normal(0, 0.8, 5))
        y = rng.random(100) < p_cluster[g]
        r = stats.clustered_proportion(y, g)
        covered_t += r["ci_low"] <= truth <= r["ci_high"]
        lo, hi = stats.wilson_interval(y.sum() / r["deff"], 100 / r["deff"])
        covered_z += lo <= truth <= hi
    assert covered_t / reps >= 0.94
    assert covered_z / reps <= 0.93
    assert covered_t - covered_z >= 0.03 * reps


def test_estimators_are_the_shared_ones():
    # The policy names are the shared estimators of wholecomm.stats (one implementation).
    for name in (
        "wilson_interval",
        "clustered_proportion",
        "clustered_mean",
        "clustered_difference",
        "newcombe_difference",
        "cochran_armitage",
        "verdict",
    ):
        assert getattr(policy, name) is getattr(stats, name)
    with pytest.raises(InputError, match="level"):
        stats.clustered_proportion([True, False], ["a", "b"], level=1.5)


def test_clustered_mean_by_hand():
    # d = 1,0 | 1,1: mean 0.75; cluster residual sums -0.5, 0.5; CR1 variance
    # 2/1 * 0.5 / 16 = 0.0625 -> se 0.25; t(1) quantile 12.706.
    r = policy.clustered_mean([1, 0, 1, 1], ["a", "a", "b", "b"])
    assert r["estimate"] == 0.75
    assert r["se"] == pytest.approx(0.25)
    assert r["ci_high"] - r["estimate"] == pytest.approx(12.7062 * 0.25, rel=1e-4)


def test_clustered_difference_estimate():
    y = [1, 1, 0, 0, 0, 1, 0]
    g = [True, True, True, False, False, False, False]
    r = policy.clustered_difference(y, g, ["a", "b", "c", "d", "e", "f", "g"])
    assert r["estimate"] == pytest.approx(2 / 3 - 1 / 4)
    assert r["ci_low"] < r["estimate"] < r["ci_high"]
    with pytest.raises(ValueError, match="both groups"):
        policy.clustered_difference(y, [True] * 7, list("abcdefg"))


def test_cochran_armitage_by_hand():
    # x = 1, 2, 3 of 5 each, scores 0, 1, 2: pbar = 0.4, T = 2,
    # Var = 0.24 * (25 - 225/15) = 2.4, z = 2 / sqrt(2.4).
    r = policy.cochran_armitage([1, 2, 3], [5, 5, 5])
    assert r["z"] == pytest.approx(2 / math.sqrt(2.4))
    with pytest.raises(ValueError, match="no variation"):
        policy.cochran_armitage([0, 0], [3, 4])


def test_verdict_rule():
    assert policy.verdict(0.1, 0.5, 0, "greater") == "supported"
    assert policy.verdict(-0.5, -0.1, 0, "greater") == "not supported"
    assert policy.verdict(-0.1, 0.5, 0, "greater") == "inconclusive"
    assert policy.verdict(0.2, 0.8, 1, "less") == "supported"
    assert policy.verdict(1.2, 3.0, 1, "less") == "not supported"
    with pytest.raises(ValueError, match="direction"):
        policy.verdict(0, 1, 0, "bigger")
    with pytest.raises(ValueError, match="finite interval"):
        policy.verdict(float("nan"), 1, 0, "greater")


def test_shares_on_small_data(small):
    df = policy.prepare(*small)
    by_area = policy.measures_by_area(df).set_index("policy_area")
    assert by_area.loc["housing", "with_measure"] == 3
    assert by_area.loc["housing", "share_pct"] == pytest.approx(75.0)
    assert by_area.loc["health", "share_pct"] == pytest.approx(75.0)
    mat = policy.approach_matrix(df)
    assert mat.loc["AT-02", "housing"] == 2 and mat.loc["AT-01", "health"] == 0
    # 6 measures, 4 proactive.
    assert policy.proactive_share(df)["share_pct"] == pytest.approx(100 * 4 / 6)
    staff = policy.staff_share(df)
    assert (staff["with_staff"], staff["localities"]) == (2, 4)
    by_staff = policy.proactive_by_staff(df)
    # staff: BE-01 (2 proactive) + BE-02 (1 proactive) = 3 of 3; no staff: 1 of 3.
    assert by_staff["staff_pct"] == pytest.approx(100.0)
    assert by_staff["no_staff_pct"] == pytest.approx(100 / 3)
    assert by_staff["difference_pp"] == pytest.approx(200 / 3)
    funding = policy.funding_shares(df).set_index("main_funding")
    assert funding.loc["local", "share_pct"] == pytest.approx(100.0)
    assert funding["share_pct"].sum() == pytest.approx(100.0)


def test_locality_summary_and_qca_calibration(small):
    df = policy.prepare(*small)
    crisp = policy.qca_data(df)
    # AT-01: 1 measure, reactive -> 0; AT-02: 1 of 2 proactive = 50%, above the crossover of 45% -> 1.
    assert crisp.loc["AT-01", "PROACTIVE"] == 0
    assert crisp.loc["AT-02", "PROACTIVE"] == 1
    assert crisp.loc["BE-01"].to_dict() == {
        "MEDIUM": 1,
        "CAPACITY": 1,
        "THRIVING": 1,
        "PROGRESSIVE": 0,
        "PROACTIVE": 1,
        "measures": 2,
        "share_proactive": 1.0,
        # direct method: log-odds 3 * (1 - 0.45) / (0.8 - 0.45) = 4.714
        "outcome_membership": pytest.approx(expit(3 * 0.55 / 0.35)),
    }
    # A locality without any measure has no proactive policy (coded 0, share left empty).
    lp, loc = small
    lp = lp.copy()
    lp.loc[lp["locality_id"] == "AT-01", ["measure_present", "approach", "lead_actor", "main_funding"]] = [
        False,
        "none",
        None,
        None,
    ]
    crisp = policy.qca_data(policy.prepare(lp, loc))
    assert crisp.loc["AT-01", "PROACTIVE"] == 0 and np.isnan(crisp.loc["AT-01", "share_proactive"])


def tiny_crisp():
    # Worked by hand: A B Y
    #   c1 1 1 1, c2 1 1 1   -> (1,1): n 2, with outcome 2, consistency 1.0, coverage 2/3
    #   c3 1 0 1, c4 1 0 0   -> (1,0): n 2, with outcome 1, consistency 0.5, coverage 1/3
    #   c5 0 1 0             -> (0,1): n 1, consistency 0, coverage 0
    #   (0,0): no case       -> remainder
    return pd.DataFrame(
        {"A": [1, 1, 1, 1, 0], "B": [1, 1, 0, 0, 1], "Y": [1, 1, 1, 0, 0]},
        index=["c1", "c2", "c3", "c4", "c5"],
    )


def test_truth_table_by_hand():
    tt = policy.truth_table(tiny_crisp(), ["A", "B"], "Y").set_index("configuration")
    assert list(tt.loc["A*B", ["n", "n_outcome"]]) == [2, 2]
    assert tt.loc["A*B", "consistency"] == 1.0
    assert tt.loc["A*B", "coverage"] == pytest.approx(2 / 3)
    assert tt.loc["A*~B", "consistency"] == 0.5
    assert tt.loc["A*~B", "coverage"] == pytest.approx(1 / 3)
    assert tt.loc["~A*B", "consistency"] == 0.0
    assert tt.loc["~A*~B", "status"] == "remainder" and tt.loc["~A*~B", "n"] == 0
    assert tt.loc["A*B", "status"] == "consistent" and tt.loc["A*~B", "status"] == "inconsistent"
    assert tt.loc["A*B", "cases"] == "c1, c2"
    assert len(tt) == 4


def test_truth_table_configurations_below_the_frequency_cutoff_are_remainders():
    # With a cut-off of 2 cases, ~A*B (one case, without the outcome) is unobserved, not
    # "inconsistent": it must not enter the minimisation as outcome 0.
    tt = policy.truth_table(tiny_crisp(), ["A", "B"], "Y", frequency_threshold=2).set_index("configuration")
    assert tt.loc["~A*B", "status"] == "remainder" and tt.loc["~A*B", "n"] == 1
    assert pd.isna(tt.loc["~A*B", "outcome"])
    assert tt.loc["~A*B", "cases"] == "c5"
    assert tt.loc["A*~B", "status"] == "inconsistent" and tt.loc["A*B", "status"] == "consistent"
    # With a cut-off of 3 every configuration is a remainder: nothing to minimise.
    tt3 = policy.truth_table(tiny_crisp(), ["A", "B"], "Y", frequency_threshold=3)
    assert (tt3["status"] == "remainder").all()
    assert policy.minimise(tt3) == []


def test_minimisation_and_solution_fit_by_hand():
    crisp = tiny_crisp()
    tt = policy.truth_table(crisp, ["A", "B"], "Y")
    assert policy.minimise(tt) == [["A*B"]]
    fit = policy.solution_fit(crisp, ["A*B"], "Y").set_index("term")
    assert fit.loc["solution", "consistency"] == 1.0
    assert fit.loc["solution", "raw_coverage"] == pytest.approx(2 / 3)
    # With a consistency threshold of 0.5, A*B and A*~B both pass and minimise to A:
    # A covers c1-c4, 3 of them with the outcome: consistency 3/4, coverage 3/3.
    tt = policy.truth_table(crisp, ["A", "B"], "Y", consistency_threshold=0.5)
    assert policy.minimise(tt) == [["A"]]
    fit = policy.solution_fit(crisp, ["A"], "Y").set_index("term")
    assert fit.loc["solution", "consistency"] == 0.75
    assert fit.loc["solution", "raw_coverage"] == 1.0


def test_quine_mccluskey_three_conditions():
    # Minterms 110, 100, 000: A*~C covers 110 and 100, ~B*~C covers 100 and 000; both needed.
    primes = policy.prime_implicants([(1, 1, 0), (1, 0, 0), (0, 0, 0)])
    assert set(primes) == {(1, None, 0), (None, 0, 0)}
    tt = pd.DataFrame({"A": [1, 1, 0], "B": [1, 0, 0], "C": [0, 0, 0], "status": ["consistent"] * 3})
    assert policy.minimise(tt, ["A", "B", "C"]) == [["A*~C", "~B*~C"]]


def test_qca_bad_input():
    crisp = tiny_crisp()
    with pytest.raises(policy.PolicyInputError, match="0 or 1"):
        policy.truth_table(crisp.assign(A=[2, 1, 1, 1, 0]), ["A", "B"], "Y")
    with pytest.raises(policy.PolicyInputError, match="missing set membership"):
        policy.truth_table(crisp.assign(B=[1, None, 0, 0, 1]), ["A", "B"], "Y")
    with pytest.raises(policy.PolicyInputError, match="missing column"):
        policy.truth_table(crisp, ["A", "Z"], "Y")
    with pytest.raises(policy.PolicyInputError, match="cannot also be a condition"):
        policy.truth_table(crisp, ["A", "Y"], "Y")


def test_silhouette_by_hand():
    # Points 0, 1 | 10, 11: widths (10.5 - 1)/10.5 and (9.5 - 1)/9.5, twice each.
    x = np.array([0.0, 1.0, 10.0, 11.0])
    dist = np.abs(x[:, None] - x[None, :])
    expected = ((10.5 - 1) / 10.5 + (9.5 - 1) / 9.5) / 2
    assert policy.silhouette(dist, np.array([1, 1, 2, 2])) == pytest.approx(expected)


def test_ward_typology_finds_planted_groups():
    high = [[1, 1, 1, 0.5], [1, 1, 0.5, 1], [1, 0.5, 1, 1], [0.5, 1, 1, 1]]
    low = [[0, 0, 0, 0.5], [0, 0, 0.5, 0], [0.5, 0, 0, 0], [0, 0.5, 0, 0], [0, 0, 0, 0]]
    prof = pd.DataFrame(high + low, index=[f"AT-{i:02d}" for i in range(1, 10)])
    typ = policy.ward_typology(prof, k_values=range(2, 5))
    assert typ.k == 2
    assert set(typ.labels[typ.labels == 1].index) == {"AT-01", "AT-02", "AT-03", "AT-04"}  # type 1 = highest
    assert typ.silhouettes.set_index("k").loc[2, "silhouette"] == typ.silhouettes["silhouette"].max()
    with pytest.raises(policy.PolicyInputError, match="k must lie"):
        policy.ward_typology(prof, k_values=[1, 2])


# -------------------------------------------------------------- bad input
def test_prepare_rejects_bad_input(small):
    lp, loc = small
    with pytest.raises(policy.PolicyInputError, match="missing column.*dedicated_staff"):
        policy.prepare(lp.drop(columns="dedicated_staff"), loc)
    with pytest.raises(policy.PolicyInputError, match="'approach' has value.*'planned'"):
        policy.prepare(lp.assign(approach=lp["approach"].replace("proactive", "planned")), loc)
    with pytest.raises(policy.PolicyInputError, match="duplicated"):
        policy.prepare(pd.concat([lp, lp.iloc[[0]]]), loc)
    with pytest.raises(policy.PolicyInputError, match="not in localities"):
        policy.prepare(lp, loc[loc["locality_id"] != "AT-01"])
    with pytest.raises(policy.PolicyInputError, match="have no rows in local_policies"):
        policy.prepare(lp[lp["locality_id"] != "AT-01"], loc)
    with pytest.raises(policy.PolicyInputError, match="incomplete"):
        policy.prepare(lp.drop(index=0), loc)
    bad = lp.copy()
    bad.loc[0, "measure_present"] = True  # AT-01 health: approach none
    with pytest.raises(policy.PolicyInputError, match="approach must be 'none' exactly"):
        policy.prepare(bad, loc)
    with pytest.raises(policy.PolicyInputError, match="'dedicated_staff' must hold True/False"):
        policy.prepare(lp.assign(dedicated_staff="yes"), loc)
    with pytest.raises(policy.PolicyInputError, match="'size_class' must not be empty"):
        policy.prepare(lp, loc.assign(size_class=[None, "small_town", "medium_town", "medium_town"]))


def test_model_rejects_empty_level(small):
    df = policy.prepare(*small)
    with pytest.raises(policy.PolicyInputError, match="reference level"):
        policy.proactive_model(df, reference={"size_class": "nowhere"})


def test_constants_match_the_data_package():
    fields = {
        f["name"]: f
        for r in data.descriptor()["resources"]
        for f in r["schema"]["fields"]
        if r["name"] in ("local_policies", "localities")
    }
    enum = lambda name: fields[name]["constraints"]["enum"]  # noqa: E731
    assert policy.POLICY_AREAS == enum("policy_area")
    assert policy.APPROACHES == enum("approach")
    assert policy.LEAD_ACTORS == enum("lead_actor")
    assert policy.RELATIONS == enum("relation_higher_level")
    assert policy.FUNDING == enum("main_funding")
    assert policy.SIZE_CLASSES == enum("size_class")
    assert policy.TRENDS == enum("economic_trend")
    assert policy.ORIENTATIONS == enum("political_orientation")


# ------------------------------------------------------ the book's data
def test_book_data_runs_end_to_end():
    df = policy.prepare()
    assert len(df) == len(data.load("local_policies"))
    model = policy.proactive_model(df)
    assert (model["ci_low"] <= model["odds_ratio"]).all() and (model["odds_ratio"] <= model["ci_high"]).all()
    typ = policy.ward_typology(policy.policy_profile(df))
    summary = policy.typology_summary(typ, df)
    assert summary["localities"].sum() == df["locality_id"].nunique()
    tt = policy.truth_table(policy.qca_data(df))
    assert tt["n"].sum() == df["locality_id"].nunique()
    assert tt.loc[tt["status"] != "remainder", "n_outcome"].sum() == policy.qca_data(df)["PROACTIVE"].sum()


# ------------------------------------------------ recovery from the twin
@pytest.fixture(scope="module")
def big_twin():
    """A larger twin (25 localities per country, 200 in all) from the book's parameters and
    seed, so that planted effects are estimated precisely; the survey is shrunk to keep
    generation fast (it is not used here)."""
    params = copy.deepcopy(load_parameters())
    params["localities"]["per_country"] = 25
    params["survey"]["respondents_per_locality"] = [3, 4]
    twin = generate(params)
    df = policy.prepare(typed_frame(twin.frames, "local_policies"), typed_frame(twin.frames, "localities"))
    return twin, df


def test_twin_size_drives_dedicated_staff(big_twin):
    twin, df = big_twin
    staff = policy.staff_by(df, "size_class").set_index("size_class")["share_pct"] / 100
    # Planted logits: intercept -0.5, rural -1.2, medium +1.3 (plus 0.5 x commitment).
    # Without the commitment term: rural 0.15, small 0.38, medium 0.69.
    sl = twin.params["policies"]["staff_logit"]
    planted = {s: expit(sl["intercept"] + sl[s]) for s in policy.SIZE_CLASSES}
    assert staff["rural_area"] < staff["small_town"] < staff["medium_town"]
    for s in policy.SIZE_CLASSES:
        assert staff[s] == pytest.approx(planted[s], abs=0.15), s
    # And the analysis finds exactly the twin's planted staff allocation.
    truth = twin.truth["dedicated_staff"]
    found = policy.locality_summary(df).set_index("locality_id")["dedicated_staff_any"]
    assert (found == truth.reindex(found.index)).all()


def test_twin_capacity_and_size_drive_proactive_policy(big_twin):
    _, df = big_twin
    model = policy.proactive_model(df).set_index("term")
    # Planted log-odds +1.0 for staff; the estimate also absorbs part of the unobserved
    # commitment (which raises both staff and proactive policy), so it is allowed to lie
    # between 0.5 and 2.0 on the log scale, with the interval excluding no effect.
    staff = model.loc["dedicated_staff"]
    assert staff["ci_low"] > 1
    assert 0.5 < math.log(staff["odds_ratio"]) < 2.0
    medium = model.loc["size_class=medium_town"]
    assert medium["odds_ratio"] > 1 and medium["ci_low"] > 1
    diff = policy.proactive_by_staff(df)
    assert diff["ci_low_pp"] > 0


def test_twin_progressive_governments_proactive_on_housing(big_twin):
    _, df = big_twin
    housing = df[(df["policy_area"] == "housing") & df["measure_present"]]
    prog = housing["political_orientation"] == "progressive"
    gap_housing = housing.loc[prog, "proactive"].mean() - housing.loc[~prog, "proactive"].mean()
    other = df[(df["policy_area"] != "housing") & df["measure_present"]]
    oprog = other["political_orientation"] == "progressive"
    gap_other = other.loc[oprog, "proactive"].mean() - other.loc[~oprog, "proactive"].mean()
    # Planted: +1.2 log-odds for progressive x housing only, so the progressive gap is
    # positive in housing and larger there than in the other areas.
    assert gap_housing > 0.1
    assert gap_housing > gap_other + 0.05


def test_prime_implicants_order_does_not_depend_on_hashing():
    """The QCA solution is reported in the same order in every Python process."""
    import subprocess
    import sys

    code = (
        "from wholecomm import policy; "
        "print(policy.prime_implicants([(1,1,1,0),(1,1,0,1),(1,1,1,1),(0,1,1,1),(1,0,1,1)]))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(outputs) == 1, outputs


# ------------------------------------------------------- QCA reporting standard
def test_necessity_by_hand():
    nec = policy.necessity(tiny_crisp(), ["A", "B"], "Y").set_index("condition")
    # Y in c1, c2, c3, all with A: A is necessary; ~A (c5 only) never goes with Y.
    assert nec.loc["A", "consistency"] == 1.0 and nec.loc["A", "necessary"]
    assert nec.loc["A", "coverage"] == pytest.approx(3 / 4)
    assert nec.loc["A", "relevance"] == pytest.approx(1 / 2)  # |~A| = 1 over |~(A and Y)| = 2
    assert nec.loc["~A", "consistency"] == 0.0
    assert nec.loc["B", "consistency"] == pytest.approx(2 / 3) and not nec.loc["B", "necessary"]


def test_parsimonious_and_intermediate_by_hand():
    # A*B consistent, ~A*B inconsistent, A*~B and ~A*~B remainders.
    crisp = pd.DataFrame({"A": [1, 1, 0], "B": [1, 1, 1], "Y": [1, 1, 0]})
    tt = policy.truth_table(crisp, ["A", "B"], "Y")
    assert policy.minimise(tt) == [["A*B"]]
    assert policy.parsimonious(tt) == [["A"]]
    assert policy.intermediate(["A*B"], ["A"], ["A", "B"], {"A": 1, "B": 1}) == ["A*B"]
    assert policy.intermediate(["A*B"], ["A"], ["A", "B"], {"A": 1, "B": 0}) == ["A"]
    with pytest.raises(policy.PolicyInputError, match="unknown conditions"):
        policy.intermediate(["A*B"], ["A"], ["A", "B"], {"C": 1})


def test_qca_recovers_a_planted_configurational_effect():
    # Y = A*B + C on every configuration of four conditions, two cases each, D irrelevant:
    # an interaction (A and B only together) and a single sufficient condition.
    import itertools

    rows = [dict(zip("ABCD", v, strict=False)) for v in itertools.product([0, 1], repeat=4) for _ in range(2)]
    crisp = pd.DataFrame(rows)
    crisp["Y"] = ((crisp["A"] & crisp["B"]) | crisp["C"]).astype(int)
    sol = policy.qca_solutions(crisp, list("ABCD"), "Y", expectations={c: 1 for c in "ABCD"})
    assert sorted(sol["complex"]) == ["A*B", "C"]
    assert sorted(sol["parsimonious"]) == ["A*B", "C"] and sorted(sol["intermediate"]) == ["A*B", "C"]
    assert sol["n_contradictions"] == 0
    neg = policy.qca_solutions(crisp, list("ABCD"), "Y", expectations={c: 1 for c in "ABCD"}, negate=True)
    assert sorted(neg["complex"]) == ["~A*~C", "~B*~C"]


def test_qca_robustness_grid_contains_the_baseline():
    rob = policy.qca_robustness(
        consistency_thresholds=(0.8, 1.0), frequency_thresholds=(1,), crossovers=(0.45,)
    )
    assert len(rob) == 2
    base = rob[
        (rob["consistency_threshold"] == policy.QCA_CONSISTENCY_THRESHOLD)
        & (rob["outcome_crossover"] == policy.QCA_OUTCOME_CROSSOVER)
    ].iloc[0]
    assert base["same_as_baseline"] and base["baseline_terms_kept"] == rob.attrs["baseline_terms"]


def test_outcome_calibration_by_the_direct_method():
    # Anchors 0.2 / 0.45 / 0.8: log-odds -3, 0, 3 at the anchors, linear on each side.
    share = pd.Series([0.2, 0.8, 0.5, 0.3, 1.0, None], index=list("abcdef"))
    m = policy.outcome_membership(share)
    assert m["a"] == pytest.approx(expit(-3))
    assert m["b"] == pytest.approx(expit(3))
    assert m["c"] == pytest.approx(expit(3 * 0.05 / 0.35))
    assert m["d"] == pytest.approx(expit(-3 * 0.15 / 0.25))
    assert m["f"] == 0.0  # no measure: fully out
    assert (m.drop("f").sort_values().index.tolist()) == ["a", "d", "c", "b", "e"]
    # A case exactly on the crossover is maximally ambiguous: named in the error.
    with pytest.raises(policy.PolicyInputError, match=r"\['x'\].*crossover 0.45"):
        policy.outcome_membership(pd.Series([0.45, 0.6], index=["x", "y"]))
    with pytest.raises(policy.PolicyInputError, match="anchors"):
        policy.outcome_membership(share, {"crossover": 0.9})


def test_no_locality_sits_on_the_outcome_crossover():
    # With at most eight areas no share of proactive measures can equal 0.45: every case
    # is clearly in or out, and "at least half proactive" is in.
    crisp = policy.qca_data(policy.prepare(uncoded="exclude"))
    assert (crisp["outcome_membership"] != 0.5).all()
    with_measures = crisp[crisp["measures"] > 0]
    assert (with_measures["PROACTIVE"] == (with_measures["share_proactive"] >= 0.5).astype(int)).all()
    assert ((crisp["outcome_membership"] > 0.5) == (crisp["PROACTIVE"] == 1)).all()


# ------------------------------------------------------- the page's tables and figures
def test_page_tables_on_small_data(small):
    df = policy.prepare(*small)
    by_area = policy.measures_by_area_table(df).set_index("area")
    # health: AT-02 reactive, BE-01 and BE-02 proactive; housing: AT-01 reactive, AT-02 and BE-01 proactive
    assert by_area.loc[
        "Health", ["localities", "with_measure", "none", "reactive", "proactive"]
    ].tolist() == [
        4,
        3,
        1,
        1,
        2,
    ]
    assert (by_area[["none", "reactive", "proactive"]].sum(axis=1) == by_area["localities"]).all()
    assert by_area.loc["Housing", "share_pct"] == pytest.approx(75.0)
    assert list(policy.relations_table(df, "country")["Cooperative"]) == [100.0, 100.0]
    assert policy.lead_table(df, "size_class")["Municipality"].tolist() == [100.0, 100.0, 100.0]
    assert "factor_label" not in policy.proactive_by_table(df).columns
    assert "main_funding" not in policy.funding_table(df).columns
    tt = policy.qca_truth_table(df)
    assert "outcome" not in tt.columns and tt["n"].sum() == 4
    fit = policy.qca_solution_table(df)
    assert fit["term"].iloc[-1] == "solution"
    assert fit["cases_with_outcome"].iloc[-1] == 3  # AT-02, BE-01, BE-02 have half or more proactive


def test_solution_table_when_nothing_is_sufficient():
    loc = make_localities(
        [("AT-01", "rural_area", "declining", "progressive"), ("AT-02", "small_town", "stable", "centrist")]
    )
    lp = make_policies({"AT-01": (False, {"housing": "reactive"}), "AT-02": (True, {"health": "reactive"})})
    fit = policy.qca_solution_table(policy.prepare(lp, loc))
    assert fit.empty and list(fit.columns)[:2] == ["term", "cases"]


def test_page_figures_are_drawn_from_the_twin():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = policy.prepare(uncoded="exclude")
    n_localities = df["locality_id"].nunique()
    heat = policy.approach_heatmap(df)
    assert heat.axes[0].get_xlabel() == "Policy area"
    assert len(heat.axes[0].get_yticklabels()) == n_localities
    by_area = policy.measures_by_area_figure(df)
    assert by_area.axes[0].get_xlim() == (0, 100)
    assert len(by_area.axes[0].get_yticklabels()) == df["policy_area"].nunique()
    assert [ax.get_title() for ax in policy.proactive_by_figure(df).axes] == [
        policy.FACTOR_LABELS[f] for f in ("size_class", "economic_trend", "political_orientation", "country")
    ]
    assert policy.relations_figure(df).axes[0].get_ylabel() == "Country"
    assert policy.lead_figure(df).axes[0].get_ylabel() == "Size class"
    typ = policy.typology_figure(df)
    legend = [t.get_text() for ax in typ.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    k = policy.ward_typology(policy.policy_profile(df)).k
    assert legend[:k] == [f"Type {i}" for i in range(1, k + 1)]
    plt.close("all")
