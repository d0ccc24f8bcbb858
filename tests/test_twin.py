"""The synthetic twin: deterministic, structured like the study, never named after real towns."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from wholecomm import twin
from wholecomm.twin.generate import to_csv_bytes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generated():
    return twin.generate()


def test_regeneration_is_byte_identical(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    shutil.copy(ROOT / "data" / "datapackage.json", out)
    shutil.copy(ROOT / "data" / "mipex2020_national.csv", out)
    twin.write(twin.generate(), out)
    for path in sorted((ROOT / "data").iterdir()):
        assert (out / path.name).read_bytes() == path.read_bytes(), f"{path.name} differs after regeneration"


def test_a_different_seed_gives_different_data_but_the_same_structure():
    params = twin.load_parameters()
    params["seed"] = params["seed"] + 1
    other = twin.generate(params)
    base = twin.generate()
    assert to_csv_bytes(other.frames["survey"]) != to_csv_bytes(base.frames["survey"])
    for name, frame in base.frames.items():
        assert list(other.frames[name].columns) == list(frame.columns)


def test_structure_matches_the_study(generated):
    f = generated.frames
    loc = f["localities"]
    assert len(loc) == 40 and loc.groupby("country").size().eq(5).all()
    assert sorted(loc["country"].unique()) == ["AT", "BE", "DE", "ES", "IT", "NL", "PL", "SE"]
    assert loc["mipex_l_assessed"].sum() == 39
    assert 40 <= len(f["mipex_l_indicators"]) <= 70
    assert f["mipex_l_indicators"]["area"].nunique() == 9
    assert 600 <= len(f["interviews"]) <= 700
    per_loc = f["survey"].groupby("locality_id").size()
    assert per_loc.between(240, 340).all()
    assert loc["locality_id"].str.fullmatch(r"(AT|BE|DE|ES|IT|NL|PL|SE)-\d\d").all()  # codes, never names


def test_parameters_file_documents_every_planted_relationship():
    text = (ROOT / "src" / "wholecomm" / "twin" / "parameters.yml").read_text()
    for planted in (
        "bigger -> more policy",
        "language and labour lead",
        "contact_any",
        "index_per_10_points",
        "housing hard, employment relatively easy",
        "more common than in employment",
        "registration barriers -> moving to larger cities",
        "capacity -> proactive",
        "planted configurational effect",
    ):
        assert planted in text


def test_planted_truth_is_consistent_with_the_parameters(generated):
    truth = generated.truth
    areas = truth["area_scores"].mean()
    assert areas["language_orientation"] > areas["anti_discrimination"]
    assert truth["overall_scores"].between(0, 100).all()
    assert len(truth["overall_scores"]) == 39
    loc = generated.frames["localities"].set_index("locality_id")
    commitment = truth["commitment"]
    assert commitment.groupby(loc["size_class"]).mean().idxmax() == "medium_town"


def test_generated_frames_pass_the_package_validation(generated, tmp_path, monkeypatch):
    out = tmp_path / "data"
    out.mkdir()
    shutil.copy(ROOT / "data" / "datapackage.json", out)
    shutil.copy(ROOT / "data" / "mipex2020_national.csv", out)
    params = twin.load_parameters()
    params["seed"] = 7
    twin.write(twin.generate(params), out)
    monkeypatch.setenv("WHOLECOMM_DATA", str(out))
    from wholecomm import data

    frames = data.load_all()  # raises DataError if the generator broke a rule
    assert len(frames["localities"]) == 40
    assert isinstance(frames["localities"]["country"].dtype, pd.CategoricalDtype)


def _qca_on_big_twin(params: dict) -> tuple[pd.DataFrame, dict]:
    """The local-policies QCA (policy.qca_data, then truth table and minimisation through
    policy.qca_solutions, called as the page calls them) on a twin of 25 localities per
    country generated from ``params``: the crisp sets and the solutions."""
    import copy

    from wholecomm import data, policy

    params = copy.deepcopy(params)
    params["localities"]["per_country"] = 25
    params["survey"]["respondents_per_locality"] = [3, 4]  # the survey is not used here
    frames = twin.generate(params).frames

    def typed(name):
        raw = pd.read_csv(
            io.BytesIO(to_csv_bytes(frames[name])), dtype=str, keep_default_na=False, na_values=[]
        )
        return data._typed(raw, data.resource_descriptor(name))

    crisp = policy.qca_data(policy.prepare(typed("local_policies"), typed("localities")))
    return crisp, policy.qca_solutions(crisp)


def test_qca_recovers_the_planted_configuration():
    from wholecomm import policy
    from wholecomm.twin.planted import PLANTED_CONFIGURATION

    conjunction = "*".join(PLANTED_CONFIGURATION["conjunction"])
    params = twin.load_parameters()
    crisp, found = _qca_on_big_twin(params)
    assert found["outcome"] == PLANTED_CONFIGURATION["outcome"]
    # The planted conjunction is a term of the conservative solution, consistent with the
    # outcome, and the solution's main path: no other term covers as many outcome cases.
    assert conjunction in found["complex"], found["complex"]
    fit = policy.solution_fit(crisp, found["complex"]).set_index("term")
    assert fit.loc[conjunction, "consistency"] >= policy.QCA_CONSISTENCY_THRESHOLD
    others = fit.drop(index=[conjunction, "solution"])["raw_coverage"]
    assert (fit.loc[conjunction, "raw_coverage"] > others).all(), fit
    # Without the planted interaction the QCA does not find the conjunction: the test can fail.
    section, key = PLANTED_CONFIGURATION["parameter"].split(".")[1:]
    params["policies"][section][key] = 0.0
    _, without = _qca_on_big_twin(params)
    assert conjunction not in without["complex"], without["complex"]
