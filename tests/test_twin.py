"""The synthetic twin: deterministic, structured like the study, never named after real towns."""

from __future__ import annotations

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
