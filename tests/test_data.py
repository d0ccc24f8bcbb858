"""The data layer: the package validates, loads typed frames, and rejects bad input with
an error naming file, column, rows and rule (one test per kind of bad input).

Line numbers in messages are line numbers of the CSV file (the header is line 1), so the
row ``rows[k]`` of a file read with csv.reader is reported as line k + 1."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from wholecomm import data, paths

ROOT = Path(__file__).resolve().parents[1]


def _rewrite(path: Path, edit) -> None:
    """Apply ``edit(rows)`` to a CSV's rows (lists of strings, header first) and write it back."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    edit(rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _col(rows, name):
    return rows[0].index(name)


def _problems(excinfo) -> str:
    return str(excinfo.value)


# ------------------------------------------------------------------ the good path
def test_book_package_validates_and_loads_typed_frames(monkeypatch):
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    frames = data.load_all()
    desc = json.loads((ROOT / "data" / "datapackage.json").read_text())
    assert set(frames) == {r["name"] for r in desc["resources"]}
    for res in desc["resources"]:
        raw_rows = sum(1 for _ in open(ROOT / "data" / res["path"], encoding="utf-8")) - 1
        assert len(frames[res["name"]]) == raw_rows, f"{res['name']}: rows were dropped or added"
    sv = frames["survey"]
    assert isinstance(sv["age_group"].dtype, pd.CategoricalDtype)
    assert list(sv["age_group"].cat.categories) == ["18-34", "35-54", "55+"]
    assert sv["born_abroad"].dtype == bool and sv["att_economy"].dtype == "int64"
    assert str(sv["impact_measures"].dtype) == "Int64"  # optional integer: missing stays missing
    assert sv["impact_measures"].isna().sum() == (sv["aware_measures"] != 1).sum()


def test_every_resource_has_provenance_and_checksum():
    desc = json.loads((ROOT / "data" / "datapackage.json").read_text())
    for res in desc["resources"]:
        prov = res["provenance"]
        assert prov["kind"] in {"synthetic", "published", "design"}
        if prov["kind"] == "synthetic":
            assert prov["generator"] == "wholecomm.twin" and isinstance(prov["seed"], int) and prov["generator_version"]
        if prov["kind"] == "published":
            assert prov["source"].startswith("https://") and prov["retrieved"] and prov["licence"]
        assert res["hash"] == "sha256:" + data.sha256(ROOT / "data" / res["path"])
        for fld in res["schema"]["fields"]:
            assert fld.get("description"), f"{res['name']}.{fld['name']} has no description"


def test_user_directory_is_used_and_labelled(data_copy):
    assert paths.uses_user_data()
    assert data.provenance("survey")["kind"] == "user"
    assert data.provenance("national_mipex")["kind"] == "published"
    notice = data.provenance_notice(["survey"])
    assert "Data supplied by the user" in notice and str(data_copy) in notice
    assert "Synthetic twin" not in notice
    assert len(data.load("survey")) > 0


def test_unset_data_directory_variable_pointing_nowhere_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("WHOLECOMM_DATA", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="WHOLECOMM_DATA"):
        data.load("survey")


# ------------------------------------------------------------------ bad input, one per case
def test_missing_file(data_copy):
    (data_copy / "survey.csv").unlink()
    with pytest.raises(data.DataError) as exc:
        data.load("survey")
    assert "survey.csv" in _problems(exc) and "must exist" in _problems(exc)


def test_empty_file(data_copy):
    (data_copy / "interviews.csv").write_text("", encoding="utf-8")
    with pytest.raises(data.DataError) as exc:
        data.load("interviews")
    assert "interviews.csv" in _problems(exc) and "must not be empty" in _problems(exc)


def test_missing_column(data_copy):
    _rewrite(data_copy / "survey.csv", lambda rows: [r.pop(_col(rows, "gender")) for r in rows[::-1]])
    with pytest.raises(data.DataError) as exc:
        data.load("survey")
    msg = _problems(exc)
    assert "survey.csv" in msg and "'gender'" in msg


def test_unexpected_column(data_copy):
    def add(rows):
        rows[0].append("shoe_size")
        for r in rows[1:]:
            r.append("42")
    _rewrite(data_copy / "localities.csv", add)
    with pytest.raises(data.DataError) as exc:
        data.load("localities")
    assert "localities.csv" in _problems(exc) and "shoe_size" in _problems(exc)


def test_wrong_type(data_copy):
    def edit(rows):
        rows[4][_col(rows, "population")] = "many"
    _rewrite(data_copy / "localities.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load("localities")
    msg = _problems(exc)
    assert "'population'" in msg and "line 5 " in msg and "type-error" in msg and "'many'" in msg


def test_value_outside_enum(data_copy):
    def edit(rows):
        rows[6][_col(rows, "age_group")] = "16-17"
        rows[9][_col(rows, "age_group")] = "16-17"
    _rewrite(data_copy / "survey.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load("survey")
    msg = _problems(exc)
    assert "'age_group'" in msg and "lines 7, 10 (2 in all)" in msg and "enum" in msg


def test_value_outside_range(data_copy):
    def edit(rows):
        rows[2][_col(rows, "unemployment_rate")] = "150.0"
    _rewrite(data_copy / "localities.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load("localities")
    msg = _problems(exc)
    assert "'unemployment_rate'" in msg and "line 3 " in msg and "maximum" in msg


def test_duplicate_key(data_copy):
    def edit(rows):
        rows[3][_col(rows, "respondent_id")] = rows[2][_col(rows, "respondent_id")]
    _rewrite(data_copy / "survey.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load("survey")
    msg = _problems(exc)
    assert "survey.csv" in msg and "line 4 " in msg and "'respondent_id'" in msg and "primary-key" in msg


def test_foreign_key_to_unknown_locality(data_copy):
    def edit(rows):
        rows[5][_col(rows, "locality_id")] = "SE-99"
    _rewrite(data_copy / "interviews.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load("interviews")
    msg = _problems(exc)
    assert "interviews.csv" in msg and "line 6 " in msg and "foreign-key" in msg and "'locality_id'" in msg


def test_checksum_mismatch(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "data", pkg)  # with its datapackage.json and its sha256 values
    monkeypatch.setenv("WHOLECOMM_DATA", str(pkg))
    assert len(data.load("localities")) == 40  # the intact copy validates
    text = (pkg / "localities.csv").read_text(encoding="utf-8")
    (pkg / "localities.csv").write_text(text.replace("improving", "declining", 1), encoding="utf-8")
    with pytest.raises(data.DataError) as exc:
        data.load("localities")
    assert "localities.csv" in _problems(exc) and "sha256 checksum" in _problems(exc)


def test_wrong_delimiter(data_copy):
    text = (data_copy / "localities.csv").read_text(encoding="utf-8")
    (data_copy / "localities.csv").write_text(text.replace(",", ";"), encoding="utf-8")
    with pytest.raises(data.DataError) as exc:
        data.load("localities")
    msg = _problems(exc)
    assert "localities.csv" in msg and "separated by ','" in msg and "';'" in msg


def test_wrong_encoding(data_copy):
    text = (data_copy / "mipex_l_indicators.csv").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].replace("municipality", "municipalité", 1)
    (data_copy / "mipex_l_indicators.csv").write_bytes("".join(lines).encode("latin-1"))
    with pytest.raises(data.DataError) as exc:
        data.load("mipex_l_indicators")
    msg = _problems(exc)
    assert "mipex_l_indicators.csv" in msg and "UTF-8" in msg and "line 4 " in msg


def test_cross_field_rule(data_copy):
    def edit(rows):
        rows[7][_col(rows, "contact_none")] = "true"
        for s in ("work", "neighbourhood", "hobby", "sports", "leisure", "school", "religious"):
            rows[7][_col(rows, f"contact_{s}")] = "false"
        rows[7][_col(rows, "contact_work")] = "true"
    _rewrite(data_copy / "survey.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load("survey")
    msg = _problems(exc)
    assert "'contact_none'" in msg and "line 8 " in msg and "exactly when no contact_* setting" in msg


def test_typology_rule_is_enforced(data_copy):
    def edit(rows):
        col = _col(rows, "locality_type")
        rows[1][col] = "struggling_new" if rows[1][col] != "struggling_new" else "thriving_new"
    _rewrite(data_copy / "localities.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load("localities")
    assert "typology rule" in _problems(exc) and "line 2 " in _problems(exc)


def test_blank_required_value(data_copy):
    def edit(rows):
        rows[10][_col(rows, "education")] = ""
    _rewrite(data_copy / "survey.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load("survey")
    assert "'education'" in _problems(exc) and "line 11 " in _problems(exc) and "required" in _problems(exc)


# ------------------------------------------------------------------ disclosure control
def test_small_cells_are_suppressed_and_flagged():
    table = pd.DataFrame({"locality_id": ["A", "B", "C"], "n": [9, 10, 250], "share": [0.5, 0.25, 0.1]})
    out = data.suppress_small_cells(table)
    assert out["suppressed"].tolist() == [True, False, False]
    assert out["share"].isna().tolist() == [True, False, False] and out["n"].isna().tolist() == [True, False, False]
    assert out.loc[1, "share"] == 0.25 and out.loc[2, "n"] == 250
    data.assert_disclosure_safe(out)
    with pytest.raises(ValueError, match="fewer than 10"):
        data.assert_disclosure_safe(table)
    assert data.suppress_small_cells(table, min_n=5)["suppressed"].sum() == 0
    with pytest.raises(KeyError, match="respondent count"):
        data.suppress_small_cells(table.drop(columns="n"))
