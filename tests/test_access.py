"""Tests of wholecomm.access: paired differences, clustered McNemar and odds ratios worked
by hand, the missing-value rule, bad input, computed verdicts, and recovery of the
synthetic twin's planted interview relationships."""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit

from wholecomm import access, data, policy
from wholecomm.twin import generate, load_parameters
from wholecomm.twin.generate import to_csv_bytes


def typed_frame(frames: dict, name: str) -> pd.DataFrame:
    """A generated (CSV-ready) frame typed exactly as data.load would type the file."""
    raw = pd.read_csv(io.BytesIO(to_csv_bytes(frames[name])), dtype=str, keep_default_na=False, na_values=[])
    return data._typed(raw, data.resource_descriptor(name))


LOCALITIES = pd.DataFrame(
    {
        "locality_id": ["ES-01", "ES-02", "SE-01"],
        "country": ["ES", "ES", "SE"],
        "size_class": ["small_town", "rural_area", "medium_town"],
        "economic_trend": ["improving", "declining", "stable"],
        "political_orientation": ["progressive", "centrist", "conservative"],
        "locality_type": ["thriving_new", "struggling_new", "thriving_experienced"],
    }
)


def interviews(rows):
    """rows: (locality_id, housing_access, employment_access, housing_disc, employment_disc,
    registration, onward); other themes False."""
    out = []
    for i, (lid, h, e, hd, ed, reg, onw) in enumerate(rows, start=1):
        rec = {
            "interview_id": f"I{i:04d}",
            "locality_id": lid,
            "role": "migrant",
            "housing_access": h,
            "employment_access": e,
        }
        rec.update({t: False for t in access.THEMES})
        rec.update(
            {
                "theme_housing_discrimination": hd,
                "theme_employment_discrimination": ed,
                "theme_registration_barriers": reg,
                "theme_onward_migration": onw,
            }
        )
        out.append(rec)
    return pd.DataFrame(out)


@pytest.fixture()
def small():
    iv = interviews(
        [
            ("ES-01", "hard", "easy", True, False, True, True),
            ("ES-01", "hard", None, True, False, True, False),
            ("ES-01", "mixed", "hard", False, True, False, False),
            ("ES-02", "hard", "hard", True, True, False, True),
            ("ES-02", None, None, False, False, True, True),
            ("ES-02", "easy", "easy", True, False, False, False),
            ("SE-01", "hard", "easy", False, False, False, False),
            ("SE-01", "easy", "mixed", False, True, False, False),
            ("SE-01", None, "easy", True, False, False, True),
        ]
    )
    return access.prepare(iv, LOCALITIES)


# ------------------------------------------------------------ estimators
def test_clustered_mcnemar_by_hand():
    # Cluster 1: (1,0) (1,0) (0,1) -> b 2, c 1; cluster 2: (1,0) (1,1) (0,0) -> b 1, c 0;
    # cluster 3: (0,1) (1,0) -> b 1, c 1. Differences 1, 1, 0: X2 = 2^2 / 2 = 2.
    x = [1, 1, 0, 1, 1, 0, 0, 1]
    y = [0, 0, 1, 0, 1, 0, 1, 0]
    g = [1, 1, 1, 2, 2, 2, 3, 3]
    r = access.clustered_mcnemar(x, y, g)
    assert (r["b"], r["c"]) == (4, 2)
    assert r["statistic"] == pytest.approx(2.0)
    assert r["p_value"] == pytest.approx(stats.chi2.sf(2.0, 1))
    assert r["ordinary_statistic"] == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="no discordant pairs"):
        access.clustered_mcnemar([1, 0], [1, 0], [1, 2])


def test_paired_difference_by_hand():
    # Same pairs: shares 5/8 and 3/8, difference 0.25. Per-pair differences
    # 1,1,-1 | 1,0,0 | -1,1: cluster residual sums 0.25, 0.25, -0.5; CR1 variance
    # 3/2 * 0.375 / 64 -> se 0.09375; t(2) quantile 4.3027.
    x = [1, 1, 0, 1, 1, 0, 0, 1]
    y = [0, 0, 1, 0, 1, 0, 1, 0]
    g = [1, 1, 1, 2, 2, 2, 3, 3]
    r = access.paired_difference(x, y, g)
    assert r["difference"] == pytest.approx(0.25)
    assert (r["share_x"], r["share_y"]) == (0.625, 0.375)
    assert r["ci_high"] - 0.25 == pytest.approx(4.302653 * 0.09375, rel=1e-5)
    assert r["statistic"] == pytest.approx(2.0)


def test_odds_ratio_by_hand():
    # a 10, b 20, c 5, d 40: OR = 400 / 100 = 4; se(log OR) = sqrt(1/10 + 1/20 + 1/5 + 1/40).
    r = access.odds_ratio_2x2(10, 20, 5, 40)
    se = math.sqrt(0.375)
    assert r["odds_ratio"] == pytest.approx(4.0)
    assert r["se_log"] == pytest.approx(se)
    assert r["ci_low"] == pytest.approx(math.exp(math.log(4) - 1.959964 * se), rel=1e-5)
    assert r["ci_high"] == pytest.approx(math.exp(math.log(4) + 1.959964 * se), rel=1e-5)
    with pytest.raises(ValueError, match="zero cell"):
        access.odds_ratio_2x2(0, 5, 3, 4)


# --------------------------------------------------- analyses on small data
def test_missing_assessments_are_counted_not_filled(small):
    c = access.discussion_counts(small)
    assert c == {
        "interviews": 9,
        "localities": 3,
        "housing_discussed": 7,
        "housing_not_discussed": 2,
        "employment_discussed": 7,
        "employment_not_discussed": 2,
        "both_discussed": 6,
        "neither_discussed": 1,
    }


def test_h1_uses_interviews_discussing_both(small):
    # Both discussed: rows 1, 3, 4, 6, 7, 8. Housing hard: 1, 4, 7 (3 of 6); employment
    # hard: 3, 4 (2 of 6); difference 1/6.
    r = access.h1_housing_vs_employment(small)
    assert r.details["housing_hard_pct"] == pytest.approx(50.0)
    assert r.details["employment_hard_pct"] == pytest.approx(100 / 3)
    assert r.estimate == pytest.approx(100 / 6)
    assert r.details["interviews"] == 6


def test_h5_paired_discrimination(small):
    # Housing discrimination in 5 of 9 interviews, employment in 3 of 9.
    r = access.h5_discrimination(small)
    assert r.details["housing_pct"] == pytest.approx(500 / 9)
    assert r.details["employment_pct"] == pytest.approx(300 / 9)
    assert r.estimate == pytest.approx(200 / 9)


def test_hard_by_trend_shares(small):
    t = access.hard_by_trend(small).set_index(["domain", "economic_trend"])
    # Improving (ES-01): housing hard 2 of 3; declining (ES-02): housing discussed 2, hard 1.
    assert t.loc[("housing", "improving"), "share_pct"] == pytest.approx(200 / 3)
    assert t.loc[("housing", "declining"), "interviews"] == 2
    assert t.loc[("housing", "declining"), "share_pct"] == pytest.approx(50.0)


def test_h4_newcombe_on_localities():
    # Progressive: 2 of 3 localities with a proactive housing measure; others: 1 of 4.
    rows = []
    spec = {
        "AT-01": ("progressive", "proactive"),
        "AT-02": ("progressive", "proactive"),
        "AT-03": ("progressive", "none"),
        "AT-04": ("centrist", "proactive"),
        "AT-05": ("centrist", "reactive"),
        "BE-01": ("conservative", "none"),
        "BE-02": ("conservative", "none"),
    }
    for lid, (_, approach) in spec.items():
        present = approach != "none"
        rows.append(
            {
                "locality_id": lid,
                "policy_area": "housing",
                "measure_present": present,
                "approach": approach,
                "lead_actor": "municipality" if present else None,
                "relation_higher_level": "decoupled",
                "dedicated_staff": False,
                "main_funding": "eu" if present else None,
            }
        )
    loc = pd.DataFrame(
        {
            "locality_id": list(spec),
            "country": [k[:2] for k in spec],
            "size_class": "small_town",
            "economic_trend": "stable",
            "political_orientation": [v[0] for v in spec.values()],
        }
    )
    pdf = policy.prepare(pd.DataFrame(rows), loc)
    r = access.h4_progressive_housing(pdf)
    ref = policy.newcombe_difference(2, 3, 1, 4)
    assert r.estimate == pytest.approx(100 * (2 / 3 - 1 / 4))
    assert (r.ci_low, r.ci_high) == pytest.approx((100 * ref["ci_low"], 100 * ref["ci_high"]))
    # the p-value inverts the Newcombe interval: at level 1 - p its lower bound is 0
    assert policy.newcombe_difference(2, 3, 1, 4, 1 - r.p_value)["ci_low"] == pytest.approx(0, abs=1e-9)
    assert r.details["fisher_p"] == pytest.approx(stats.fisher_exact([[2, 1], [1, 3]]).pvalue)
    assert r.verdict == "inconclusive"  # 7 localities cannot decide it


def test_verdicts_are_computed():
    base = dict(
        id="X",
        claim="c",
        estimand="e",
        estimate=2.0,
        null=0.0,
        direction="greater",
        unit="pp",
        test="t",
        p_value=0.01,
        n="n",
    )
    assert access.HypothesisResult(ci_low=1.0, ci_high=3.0, **base).verdict == "supported"
    assert access.HypothesisResult(ci_low=-3.0, ci_high=-1.0, **base).verdict == "not supported"
    assert access.HypothesisResult(ci_low=-1.0, ci_high=3.0, **base).verdict == "inconclusive"
    table = access.summary_table(
        [
            access.HypothesisResult(ci_low=1.0, ci_high=3.0, **base),
            access.HypothesisResult(ci_low=-1.0, ci_high=3.0, **base),
        ]
    )
    assert list(table["verdict"]) == ["supported", "inconclusive"]


# -------------------------------------------------------------- bad input
def test_prepare_rejects_bad_input(small):
    iv = interviews(
        [
            ("ES-01", "hard", "easy", True, False, False, False),
            ("ES-02", "easy", "mixed", False, False, False, False),
        ]
    )
    with pytest.raises(access.AccessInputError, match="missing column.*theme_transport"):
        access.prepare(iv.drop(columns="theme_transport"), LOCALITIES)
    with pytest.raises(access.AccessInputError, match="'role' has value.*'mayor'"):
        access.prepare(iv.assign(role="mayor"), LOCALITIES)
    with pytest.raises(access.AccessInputError, match="'housing_access' has value.*'impossible'"):
        access.prepare(iv.assign(housing_access=["impossible", "easy"]), LOCALITIES)
    with pytest.raises(access.AccessInputError, match="'theme_transport' must not be empty"):
        access.prepare(iv.assign(theme_transport=pd.array([True, None], dtype="boolean")), LOCALITIES)
    with pytest.raises(access.AccessInputError, match="interview_id must be unique"):
        access.prepare(iv.assign(interview_id="I0001"), LOCALITIES)
    with pytest.raises(access.AccessInputError, match="not in localities"):
        access.prepare(iv.assign(locality_id="PL-09"), LOCALITIES)
    with pytest.raises(access.AccessInputError, match="missing column"):
        access.h5_discrimination(small.drop(columns="theme_housing_discrimination"))
    with pytest.raises(access.AccessInputError, match="domain must be one of"):
        access.ordinal_trend_model(small, "health")


def test_constants_match_the_data_package():
    fields = {f["name"]: f for f in data.resource_descriptor("interviews")["schema"]["fields"]}
    assert access.ROLES == fields["role"]["constraints"]["enum"]
    assert access.LEVELS == fields["housing_access"]["constraints"]["enum"]
    assert access.THEMES == [n for n in fields if n.startswith("theme_")]


def test_book_data_runs_end_to_end():
    results = access.evaluate()
    table = access.summary_table(results)
    assert set(table["verdict"]) <= {"supported", "not supported", "inconclusive"}
    assert (table["ci_low"] <= table["estimate"]).all() and (table["estimate"] <= table["ci_high"]).all()
    counts = access.discussion_counts()
    iv = data.load("interviews")
    assert counts["housing_not_discussed"] == int(iv["housing_access"].isna().sum())


# ------------------------------------------------ recovery from the twin
@pytest.fixture(scope="module")
def big_twin():
    """A larger twin (25 localities per country, 200 localities, about 3,300 interviews)
    from the book's parameters and seed; the survey is shrunk (it is not used here)."""
    params = copy.deepcopy(load_parameters())
    params["localities"]["per_country"] = 25
    params["survey"]["respondents_per_locality"] = [3, 4]
    twin = generate(params)
    loc = typed_frame(twin.frames, "localities")
    df = access.prepare(typed_frame(twin.frames, "interviews"), loc)
    pdf = policy.prepare(typed_frame(twin.frames, "local_policies"), loc)
    return twin.params, df, access.evaluate(df, pdf)


def _p_hard(params: dict, kind: str, trend: str) -> float:
    """Planted share assessing access as hard, averaged over the localities' normal random
    effect on the difficulty (sd ``interviews.locality_sd.difficulty``, Gauss-Hermite)."""
    ip = params["interviews"]
    dp, cut = ip[f"{kind}_difficulty"], ip["difficulty_cut_points"]
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    eta = dp["intercept"] + dp[trend] + ip["locality_sd"]["difficulty"] * nodes
    return float(np.sum(weights * expit(eta - cut["mixed_to_hard"])) / np.sum(weights))


def test_twin_h1_housing_harder_than_employment(big_twin):
    params, df, results = big_twin
    both = df[df["housing_access"].notna() & df["employment_access"].notna()]
    trends = both["economic_trend"].astype(str)
    planted = np.mean([_p_hard(params, "housing", t) - _p_hard(params, "employment", t) for t in trends])
    r = results["H1"]
    assert r.verdict == "supported"
    assert r.estimate / 100 == pytest.approx(planted, abs=0.05)


def test_twin_h2_economy_effects(big_twin):
    params, _, results = big_twin
    for dom in ("housing", "employment"):
        dp = params["interviews"][f"{dom}_difficulty"]
        planted = dp["improving"] - dp["declining"]  # log odds ratio, improving vs declining
        r = results[f"H2 ({dom})"]
        assert r.verdict == "supported", dom
        assert math.log(r.estimate) == pytest.approx(planted, abs=0.4), dom


def test_twin_h5_discrimination_gap_near_planted(big_twin):
    params, _, results = big_twin
    th = params["interviews"]["themes"]
    planted = th["housing_discrimination"] - th["employment_discrimination"]  # 0.35 - 0.15 = 0.20
    r = results["H5"]
    assert r.verdict == "supported"
    assert r.estimate / 100 == pytest.approx(planted, abs=0.04)


def test_twin_h6_registration_barriers(big_twin):
    params, _, results = big_twin
    ip = params["interviews"]
    base, after = ip["themes"]["onward_migration"], ip["onward_given_registration"]
    p_with = base + (1 - base) * after
    planted_log_or = math.log(p_with / (1 - p_with)) - math.log(base / (1 - base))
    r = results["H6 (onward)"]
    assert r.verdict == "supported"
    assert math.log(r.estimate) == pytest.approx(planted_log_or, abs=0.5)
    es = results["H6 (ES)"]
    assert es.verdict == "supported"
    assert es.details["country_pct"] / 100 == pytest.approx(
        ip["registration_barriers_country"]["ES"], abs=0.07
    )
    assert es.details["other_pct"] / 100 == pytest.approx(ip["themes"]["registration_barriers"], abs=0.02)


def test_twin_h3_h4_direction(big_twin):
    _, _, results = big_twin
    assert results["H3 (staff)"].verdict == "supported"
    assert results["H3 (proactive)"].verdict == "supported"
    assert results["H4"].estimate > 0
    # with 200 localities the planted progressive-housing effect clears Holm's bar too
    assert results["H4"].verdict == "supported"


def _stability_record(tmp_path, joint: dict, hypotheses=("H1", "H4")):
    import json

    counts = {h: {"supported": 0, "inconclusive": 0, "not supported": 0} for h in hypotheses}
    for key, n in joint.items():
        for h, v in zip(hypotheses, key.split(access.JOINT_SEPARATOR), strict=True):
            counts[h][v] += n
    rec = {
        "realisations": sum(joint.values()),
        "seeds": [2, 1 + sum(joint.values())],
        "wild_bootstrap_draws": 99,
        "date": "2026-01-01",
        "counts": counts,
        "hypotheses": list(hypotheses),
        "joint": joint,
    }
    path = tmp_path / "vs.json"
    path.write_text(json.dumps(rec), encoding="utf-8")
    return path


def test_joint_verdicts_known_answer(tmp_path):
    path = _stability_record(
        tmp_path,
        {
            "supported|supported": 6,
            "supported|inconclusive": 3,
            "inconclusive|not supported": 1,
        },
    )
    joint = access.joint_verdicts(path)
    assert joint["twins"].tolist() == [6, 3, 1]
    assert joint["share_pct"].tolist() == pytest.approx([60, 30, 10])
    assert joint.loc[0, "supported"] == "H1, H4" and joint.loc[0, "inconclusive"] == "none"
    assert joint.loc[2, "not supported"] == "H4" and joint.loc[2, "inconclusive"] == "H1"
    assert joint.attrs["all_supported_pct"] == pytest.approx(60)
    assert joint.attrs["combinations"] == 3
    # the per-hypothesis table agrees with the joint outcome it was summed from
    vs = access.verdict_stability(path).set_index("hypothesis")
    assert vs.loc["H1", "supported_pct"] == pytest.approx(90) and vs.loc["H4", "supported_pct"] == 60
    # the rarest combinations are pooled in one row that keeps the total
    top = access.joint_verdicts(path, top=1)
    assert top["twins"].tolist() == [6, 4] and top.loc[1, "supported"] == "(various)"


def test_joint_verdicts_rejects_a_record_without_or_with_bad_joint_outcomes(tmp_path):
    path = _stability_record(tmp_path, {"supported|supported": 2})
    import json

    rec = json.loads(path.read_text())
    del rec["joint"]
    path.write_text(json.dumps(rec))
    with pytest.raises(ValueError, match="no joint outcome"):
        access.joint_verdicts(path)
    rec["joint"] = {"supported|maybe": 2}
    path.write_text(json.dumps(rec))
    with pytest.raises(ValueError, match="one verdict per hypothesis"):
        access.joint_verdicts(path)
    with pytest.raises(FileNotFoundError, match="verdict_stability.py"):
        access.joint_verdicts(tmp_path / "absent.json")


def test_stored_record_has_the_joint_outcome_of_every_realisation():
    joint = access.joint_verdicts(top=10_000)
    vs = access.verdict_stability()
    assert joint["twins"].sum() == vs.attrs["realisations"] >= 50
    assert set(access.summary_table(access.evaluate())["hypothesis"]) == set(vs["hypothesis"])


class _Page:
    """Records what a page would glue."""

    def __init__(self):
        self.values: dict[str, dict] = {}

    def glue(self, key, value, fmt=None, fit=False):
        text = value if fmt is None else (fmt.format(value) if isinstance(fmt, str) else value)
        self.values[key] = {"value": value, "text": str(text), "fit": fit}


def test_glue_hypothesis_glues_every_key():
    fields = {"id": "X", "claim": "", "estimand": "", "null": 0.0, "direction": "greater", "test": ""}
    r = access.HypothesisResult(
        **fields, estimate=12.34, ci_low=2.0, ci_high=22.5, unit="pp", p_value=0.0123, n="9 interviews"
    )
    r.p_adjusted = 0.0246
    page = _Page()
    access.glue_hypothesis(page, "hx", r, "{:.1f}", fit=True)
    v = page.values
    assert v["hx_est"]["text"] == "12.3" and v["hx_ci"]["text"] == "2.0 to 22.5"
    assert v["hx_p"]["text"] == policy.p_format(0.0123).format(0.0123)
    assert v["hx_verdict"]["value"] == "supported" and v["hx_n"]["value"] == "9 interviews"
    assert v["hx_est"]["fit"] and not v["hx_verdict"]["fit"]
    with pytest.raises(ValueError, match="fmt"):
        access.glue_hypothesis(page, "hx", r, "%.1f")


def test_theme_table_and_figures(small):
    table = access.theme_table(small, "role")
    assert "role" in table and "group" not in table and "theme" not in table
    assert len(table) == len(access.THEMES) * small["role"].nunique()
    assert set(table["role"]) <= set(access.ROLE_LABELS.values())
    with pytest.raises(access.AccessInputError, match="by must be one of"):
        access.theme_table(small, "country")
    import matplotlib

    matplotlib.use("Agg")
    fig = access.themes_figure(small, "locality_type")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Interviews raising the theme (%)" and ax.get_xlim() == (0, 100)
    fig = access.hard_by_trend_figure(small)
    assert fig.axes[0].get_ylabel() == "Interviews assessing access as hard (%)"
    with pytest.raises(access.AccessInputError, match="by must be one of"):
        access.themes_figure(small, "country")


def test_summary_table_without_null():
    results = access.evaluate()
    assert "null" in access.summary_table(results)
    assert "null" not in access.summary_table(results, include_null=False)
