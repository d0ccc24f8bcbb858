"""What the analyses require of the data, and how they cope when data depart from the twin:
raking fallback, fit checks, verdict helpers over every case, claims about a named
country, data-aware wording, disclosure in prose, resources loaded page by page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wholecomm import access, data, index, numerics, policy, survey
from wholecomm.index import PairedGap

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ raking fallback
def _toy(n_young: int, population=None):
    """One locality with 18 cells; ``n_young`` respondents aged 18-34, 30 older."""
    cells = pd.MultiIndex.from_product(
        [["18-34", "35-54", "55+"], ["female", "male"], ["low", "medium", "high"]],
        names=["age_group", "gender", "education"],
    ).to_frame(index=False)
    margins = cells.assign(locality_id="XX-77", population=population if population is not None else 100)
    rng = np.random.default_rng(1)
    older = cells[cells["age_group"] != "18-34"].sample(30, replace=True, random_state=2)
    young = cells[cells["age_group"] == "18-34"].sample(n_young, replace=True, random_state=3)
    sv = pd.concat([older, young], ignore_index=True).assign(
        locality_id="XX-77", design_weight=rng.uniform(1, 3, 30 + n_young)
    )
    return sv, margins


def test_collapse_rule_joins_empty_categories_to_the_next_and_the_last_to_the_one_before():
    cats = ["a", "b", "c", "d"]
    assert survey._collapse_groups(cats, np.array([0, 2, 0, 3]), np.ones(4)) == [["a", "b"], ["c", "d"]]
    assert survey._collapse_groups(cats, np.array([2, 2, 3, 0]), np.ones(4)) == [["a"], ["b"], ["c", "d"]]
    assert survey._collapse_groups(cats, np.array([1, 1, 1, 1]), np.array([1, 0, 1, 1])) == [
        ["a"],
        ["b", "c"],
        ["d"],
    ]
    assert survey._collapse_groups(cats, np.zeros(4), np.ones(4)) == [["a", "b", "c", "d"]]


def test_raking_falls_back_by_locality_and_reports_why():
    good_sv, good_m = _toy(12)
    bad_sv, bad_m = _toy(0)
    bad_sv["locality_id"], bad_m["locality_id"] = "YY-42", "YY-42"
    sv = pd.concat([good_sv, bad_sv], ignore_index=True)
    margins = pd.concat([good_m, bad_m], ignore_index=True)
    with pytest.raises(ValueError, match="no respondents in margin cell"):
        survey.rake(sv, margins)
    w, report = survey.rake_with_fallback(sv, margins)
    assert list(report["locality_id"]) == ["YY-42"]
    assert report["method"].iloc[0] == "collapsed categories"
    assert "age_group 18-34 + 35-54" in report["reason"].iloc[0]
    # The good locality is raked exactly as on its own; both keep their population totals.
    np.testing.assert_allclose(w[: len(good_sv)], survey.rake(good_sv, good_m).to_numpy())
    assert w[sv["locality_id"] == "YY-42"].sum() == pytest.approx(bad_m["population"].sum())
    young = (sv["locality_id"] == "YY-42") & sv["age_group"].eq("35-54")
    assert w[young].sum() == pytest.approx(
        bad_m.loc[bad_m["age_group"].isin(["18-34", "35-54"]), "population"].sum()
    )


def test_raking_that_cannot_converge_keeps_design_weights_for_that_locality_only():
    sv, margins = _toy(3)
    margins.loc[margins["age_group"] == "18-34", "population"] = 5000  # far beyond the trimming bounds
    w, report = survey.rake_with_fallback(sv, margins, trim=(0.5, 2.0))
    assert list(report["method"]) == ["design weights"]
    d = sv["design_weight"].to_numpy()
    np.testing.assert_allclose(w.to_numpy(), d * margins["population"].sum() / d.sum())


def test_nothing_to_report_when_every_locality_is_raked():
    sv, margins = _toy(12)
    w, report = survey.rake_with_fallback(sv, margins)
    assert report.empty
    np.testing.assert_allclose(w.to_numpy(), survey.rake(sv, margins).to_numpy())


# ------------------------------------------------------------------ fit checks
def test_check_fit_names_model_page_and_cause():
    ok = pd.DataFrame({"label": ["a"], "estimate": [1.0], "lo": [0.5], "hi": [1.5]})
    assert numerics.check_fit("m", ok) is ok
    numerics.CONTEXT["page"] = "survey"
    try:
        for bad, why in [
            (ok.assign(lo=np.nan), "not finite"),
            (ok.assign(lo=2.0), "not finite or not ordered"),
            (ok.assign(estimate=9.0), "not ordered"),
        ]:
            with pytest.raises(numerics.FitError, match=why) as exc:
                numerics.check_fit("attitude model", bad, cause="too few localities")
            assert "'attitude model'" in str(exc.value) and "page 'survey'" in str(exc.value)
            assert "too few localities" in str(exc.value)
        with pytest.raises(numerics.FitError, match="did not converge"):
            numerics.check_fit("m", ok, converged=False)
    finally:
        numerics.CONTEXT.pop("page", None)


# ------------------------------------------------------------------ verdict helpers, every case
def _gap(lo, hi, order=True):
    return PairedGap(
        a=("x",),
        b=("y",),
        n=10,
        mean_a=0,
        mean_b=0,
        diff=(lo + hi) / 2,
        ci_low=lo,
        ci_high=hi,
        t=0,
        p=0.5,
        wilcoxon_p=0.5,
        share_positive=0.5,
        per_locality=pd.DataFrame(),
        order_holds=order,
    )


@pytest.mark.parametrize(
    "lo, hi, order, word, words",
    [
        (1, 3, True, "supported", "lead areas are also the highest-scoring"),
        (1, 3, False, "supported", "does not match the claim exactly"),
        (-3, -1, True, "not supported", "lies wholly below zero"),
        (-3, -1, False, "not supported", "lies wholly below zero"),
        (-1, 1, True, "inconclusive", "includes zero"),
        (-1, 1, False, "inconclusive", "includes zero"),
    ],
)
def test_lead_lag_verdict_covers_every_sign_and_significance(lo, hi, order, word, words):
    assert index.lead_lag_outcome(_gap(lo, hi, order)) == word
    on_user_data = index.lead_lag_verdict(_gap(lo, hi, order), synthetic=False)
    on_twin = index.lead_lag_verdict(_gap(lo, hi, order), synthetic=True)
    assert on_user_data.startswith(f"Verdict on the data supplied by the user: {word};")
    assert words in on_user_data and "synthetic" not in on_user_data
    assert on_twin.startswith(f"Verdict on the synthetic twin: {word};") and words in on_twin
    assert "planted area effects" in on_twin


@pytest.mark.parametrize(
    "supported, contradicted, verb",
    [(True, False, "support"), (False, True, "contradict"), (False, False, "do not support")],
)
def test_claim_verdict_covers_every_case(supported, contradicted, verb):
    claim = survey.ClaimTest(
        claim="c", rule="r", table=pd.DataFrame(), supported=supported, contradicted=contradicted
    )
    assert claim.verdict == verb


# ------------------------------------------------------------------ claims about a named country
def test_country_claims_take_their_subject_from_the_claim_definition():
    assert access.claim_country("H6") == access.CLAIM_COUNTRIES["H6"]["country"]
    frame = pd.DataFrame({"country": ["AT", "BE"]})
    reason = survey.claim_examinable(frame, "associational_contact")
    assert reason and survey.CLAIM_COUNTRIES["associational_contact"]["name"] in reason
    subject = survey.CLAIM_COUNTRIES["associational_contact"]["country"]
    assert survey.claim_examinable(pd.DataFrame({"country": [subject, "AT"]})) is None
    assert "no other country" in survey.claim_examinable(pd.DataFrame({"country": [subject]}))


def test_h6_country_is_left_out_and_reported_when_absent():
    df = access.prepare()
    country = access.claim_country("H6")
    without = df[df["country"].astype(str) != country].copy()
    ids = [r.id for r in access.h6_registration(without)]
    assert ids == ["H6 (onward)"]
    assert country in access.not_examinable(without)[f"H6 ({country})"]
    assert access.not_examinable(df) == {}


# ------------------------------------------------------------------ wording and disclosure
def test_data_words_follow_the_data_in_use(data_copy):
    assert not data.is_synthetic()
    assert data.data_words()["data"] == "these data"


def test_data_words_on_the_twin(monkeypatch):
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    assert data.is_synthetic(["survey", "national_mipex"])
    assert data.data_words(["survey"])["on_data"] == "on the synthetic twin"


@pytest.mark.parametrize(
    "n, text", [(0, "0"), (3, "fewer than 10"), (9, "fewer than 10"), (10, "10"), (1234, "1,234")]
)
def test_disclosed_count(n, text):
    assert data.disclosed_count(n) == text


# ------------------------------------------------------------------ a page depends only on what it uses
def test_a_missing_resource_fails_only_what_reads_it(data_copy):
    (data_copy / "interviews.csv").unlink()
    assert len(data.load("survey")) > 0
    assert len(data.load("local_policies")) > 0
    with pytest.raises(data.DataError) as exc:
        data.load("interviews")
    message = str(exc.value)
    assert "interviews.csv" in message and "make data" not in message


def test_a_locality_without_coded_policies_is_left_out_and_named():
    lp, loc = data.load("local_policies"), data.load("localities")
    first = str(loc["locality_id"].iloc[0])
    rest = lp[lp["locality_id"].astype(str) != first]
    with pytest.raises(policy.PolicyInputError, match="have no rows in local_policies"):
        policy.prepare(rest, loc)
    out = policy.prepare(rest, loc, uncoded="exclude")
    assert first not in set(out["locality_id"]) and out.attrs["uncoded_localities"] == [first]
    assert first in policy.uncoded_note(out)
    assert (
        policy.uncoded_note(policy.prepare(lp, loc, uncoded="exclude"))
        == "Every locality has its policies coded."
    )


@pytest.mark.parametrize(
    "value, text",
    [
        (0.134, "0.13 points more"),
        (-0.25, "0.25 points less"),
        (0.001, "no change (0.00 points)"),
        (-0.004, "no change (0.00 points)"),
    ],
)
def test_signed_amount_never_says_minus_more(value, text):
    assert numerics.signed_amount(value) == text


@pytest.mark.parametrize(
    "lo, hi, words",
    [
        (0.1, 0.5, "clearly positive"),
        (-0.5, -0.1, "clearly negative"),
        (-0.1, 0.5, "not clearly different from zero"),
        (0.0, 0.5, "not clearly different from zero"),
    ],
)
def test_interval_direction_covers_every_case(lo, hi, words):
    assert numerics.interval_direction(lo, hi) == words


def test_interval_direction_rejects_bad_intervals():
    with pytest.raises(ValueError):
        numerics.interval_direction(np.nan, 1)
    with pytest.raises(ValueError):
        numerics.interval_direction(2, 1)


def test_the_toolbox_example_follows_the_catalogue_in_use(tmp_path, monkeypatch):
    from wholecomm import toolbox
    from wholecomm.twin import rough

    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    bundled = toolbox.example_questionnaire()
    assert bundled.parent.name == "examples" and bundled.name == toolbox.EXAMPLE
    rough.write(2, tmp_path / "rough")
    monkeypatch.setenv("WHOLECOMM_DATA", str(tmp_path / "rough"))
    monkeypatch.setenv("WHOLECOMM_DATA_CACHE", "off")
    path = toolbox.example_questionnaire()
    assert path != bundled and path == toolbox.example_questionnaire()  # written once, reused
    q = toolbox.read_questionnaire(path)
    assert set(q.answers["indicator_id"].astype(str)) <= set(toolbox.catalogue().ids)
    assessed = toolbox.assess(q)
    import yaml

    assert (
        assessed.summary()["name"] == yaml.safe_load(bundled.read_text(encoding="utf-8"))["locality"]["name"]
    )


def test_the_national_mipex_source_keeps_its_link_whichever_folder_supplies_it(tmp_path, monkeypatch):
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    book_source = index.national_source()
    assert book_source.startswith("https://")
    folder = tmp_path / "user"
    folder.mkdir()
    for csv in (ROOT / "data").glob("*.csv"):
        (folder / csv.name).write_bytes(csv.read_bytes())
    pkg = __import__("json").loads((ROOT / "data" / "datapackage.json").read_text())
    for res in pkg["resources"]:
        res.pop("hash", None), res.pop("bytes", None)
        res["provenance"] = {"kind": "user"}  # the user's package records no source
    (folder / "datapackage.json").write_text(__import__("json").dumps(pkg))
    monkeypatch.setenv("WHOLECOMM_DATA", str(folder))
    monkeypatch.setenv("WHOLECOMM_DATA_CACHE", "off")
    assert data.provenance("national_mipex")["origin"] == "user"
    assert index.national_source() == book_source


def test_validation_reports_an_absent_resource_and_validates_the_rest(data_copy, capsys):
    (data_copy / "interviews.csv").unlink()
    assert data.main([]) == 0
    out = capsys.readouterr().out
    assert "Not supplied: interviews" in out and "survey" in out and "make data" not in out
    # Any other problem still stops validation.
    (data_copy / "localities.csv").write_text("locality_id\n", encoding="utf-8")
    assert data.main([]) == 2
