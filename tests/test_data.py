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


def _load_fails(data_copy: Path, name: str, edit):
    """Edit resource ``name``'s file with ``edit`` (on its rows), then load it: it must fail with a
    DataError (returned as pytest's ExceptionInfo)."""
    _rewrite(data_copy / f"{name}.csv", edit)
    with pytest.raises(data.DataError) as exc:
        data.load(name)
    return exc


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
            assert (
                prov["generator"] == "wholecomm.twin"
                and isinstance(prov["seed"], int)
                and prov["generator_version"]
            )
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

    exc = _load_fails(data_copy, "localities", add)
    assert "localities.csv" in _problems(exc) and "shoe_size" in _problems(exc)


@pytest.mark.parametrize(
    "name, column, row, value, words",
    [
        ("localities", "population", 4, "many", ("line 5 ", "type-error", "'many'")),  # wrong type
        ("localities", "unemployment_rate", 2, "150.0", ("line 3 ", "maximum")),  # outside the range
        ("survey", "education", 10, "", ("line 11 ", "required")),  # a required value left blank
    ],
)
def test_a_broken_cell_is_named_by_column_line_and_rule(data_copy, name, column, row, value, words):
    def edit(rows):
        rows[row][_col(rows, column)] = value

    msg = _problems(_load_fails(data_copy, name, edit))
    assert f"{name}.csv" in msg and f"'{column}'" in msg
    assert all(w in msg for w in words), msg


def test_value_outside_enum(data_copy):
    def edit(rows):
        rows[6][_col(rows, "age_group")] = "16-17"
        rows[9][_col(rows, "age_group")] = "16-17"

    exc = _load_fails(data_copy, "survey", edit)
    msg = _problems(exc)
    assert "'age_group'" in msg and "lines 7, 10 (2 in all)" in msg and "enum" in msg


def test_duplicate_key(data_copy):
    def edit(rows):
        rows[3][_col(rows, "respondent_id")] = rows[2][_col(rows, "respondent_id")]

    exc = _load_fails(data_copy, "survey", edit)
    msg = _problems(exc)
    assert "survey.csv" in msg and "line 4 " in msg and "'respondent_id'" in msg and "primary-key" in msg


def test_foreign_key_to_unknown_locality(data_copy):
    def edit(rows):
        rows[5][_col(rows, "locality_id")] = "SE-99"

    exc = _load_fails(data_copy, "interviews", edit)
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

    exc = _load_fails(data_copy, "survey", edit)
    msg = _problems(exc)
    assert "'contact_none'" in msg and "line 8 " in msg and "exactly when no contact_* setting" in msg


def test_typology_rule_is_enforced(data_copy):
    def edit(rows):
        col = _col(rows, "locality_type")
        rows[1][col] = "struggling_new" if rows[1][col] != "struggling_new" else "thriving_new"

    exc = _load_fails(data_copy, "localities", edit)
    assert "typology rule" in _problems(exc) and "line 2 " in _problems(exc)


# ------------------------------------------------------------------ disclosure control
def test_small_cells_are_suppressed_and_flagged():
    table = pd.DataFrame({"locality_id": ["A", "B", "C"], "n": [9, 10, 250], "share": [0.5, 0.25, 0.1]})
    out = data.suppress_small_cells(table)
    assert out["suppressed"].tolist() == [True, False, False]
    assert out["share"].isna().tolist() == [True, False, False] and out["n"].isna().tolist() == [
        True,
        False,
        False,
    ]
    assert out.loc[1, "share"] == 0.25 and out.loc[2, "n"] == 250
    data.assert_disclosure_safe(out)
    with pytest.raises(ValueError, match="fewer than 10"):
        data.assert_disclosure_safe(table)
    assert data.suppress_small_cells(table, min_n=5)["suppressed"].sum() == 0
    with pytest.raises(KeyError, match="respondent count"):
        data.suppress_small_cells(table.drop(columns="n"))


# ------------------------------------------------------------------ helpers for user packages
def _book_descriptor(drop_hashes: bool = True) -> dict:
    desc = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    if drop_hashes:
        for res in desc["resources"]:
            res.pop("hash", None)
            res.pop("bytes", None)
    return desc


def _resource(desc: dict, name: str) -> dict:
    return next(r for r in desc["resources"] if r["name"] == name)


def _field(desc: dict, name: str, column: str) -> dict:
    return next(f for f in _resource(desc, name)["schema"]["fields"] if f["name"] == column)


def _write_package(folder: Path, desc: dict) -> None:
    (folder / "datapackage.json").write_text(json.dumps(desc, indent=1), encoding="utf-8")


def _load_error(name: str = "survey") -> data.DataError:
    with pytest.raises(data.DataError) as exc:
        data.load(name)
    return exc.value


# ------------------------------------------------------------------ confinement
def test_absolute_resource_path_is_refused_without_echoing_the_outside_file(data_copy, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("locality_id,country\nTOP-SECRET-VALUE,ZZ\n", encoding="utf-8")
    desc = _book_descriptor()
    _resource(desc, "localities")["path"] = str(outside)
    _write_package(data_copy, desc)
    err = _load_error("localities")
    msg = str(err)
    assert "datapackage.json" in msg and "absolute path" in msg and "'localities'" in msg
    assert "TOP-SECRET-VALUE" not in msg


@pytest.mark.parametrize("path", ["../survey.csv", "sub/../../survey.csv", "..\\survey.csv"])
def test_parent_directory_path_is_refused(data_copy, path):
    desc = _book_descriptor()
    _resource(desc, "survey")["path"] = path
    _write_package(data_copy, desc)
    msg = str(_load_error())
    assert "'..' leaves the data folder" in msg and "datapackage.json" in msg


def test_symbolic_link_leaving_the_folder_is_refused(data_copy, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (data_copy / "survey.csv").rename(outside / "survey.csv")
    (data_copy / "survey.csv").symlink_to(outside / "survey.csv")
    msg = str(_load_error())
    assert "outside the folder" in msg and str(outside / "survey.csv") in msg


def test_list_valued_path_is_refused(data_copy):
    desc = _book_descriptor()
    _resource(desc, "survey")["path"] = ["survey.csv", "more.csv"]
    _write_package(data_copy, desc)
    msg = str(_load_error())
    assert "'survey'" in msg and "a list of files" in msg


def test_long_or_unprintable_cells_are_quoted_as_short_escaped_excerpts(data_copy):
    def edit(rows):
        rows[4][_col(rows, "gender")] = "\u00a0" + "x" * 100_000

    _rewrite(data_copy / "survey.csv", edit)
    msg = str(_load_error())
    assert "'gender'" in msg and "line 5 " in msg and "100,001 characters" in msg
    assert "\\xa0" in msg and "\u00a0" not in msg  # escaped, not printed raw
    assert len(msg) < 2_000


# ------------------------------------------------------------------ the book's schema is the contract
def _widen_enum(desc):
    _field(desc, "localities", "size_class")["constraints"]["enum"].append("village")


def _relax_minimum(desc):
    _field(desc, "survey", "design_weight")["constraints"]["minimum"] = -5


def _drop_required(desc):
    del _field(desc, "localities", "population")["constraints"]["required"]


def _drop_primary_key(desc):
    del _resource(desc, "survey")["schema"]["primaryKey"]


def _drop_foreign_key(desc):
    _resource(desc, "survey")["schema"]["foreignKeys"] = []


def _change_type(desc):
    _field(desc, "survey", "years_in_locality")["type"] = "number"


LOOSENINGS = {
    "widened enum": (_widen_enum, "constraint 'enum' of field 'size_class'"),
    "relaxed minimum": (_relax_minimum, "constraint 'minimum' of field 'design_weight' must be 0.01"),
    "required dropped": (_drop_required, "constraint 'required' of field 'population' must be True"),
    "primary key dropped": (_drop_primary_key, "primaryKey must be ['respondent_id']"),
    "foreign key dropped": (_drop_foreign_key, "foreignKeys must be [locality_id -> localities.locality_id]"),
    "type changed": (_change_type, "field 'years_in_locality' must have type 'integer'"),
}


@pytest.mark.parametrize("case", sorted(LOOSENINGS))
def test_a_user_package_cannot_loosen_the_books_schema(data_copy, case):
    edit, expected = LOOSENINGS[case]
    desc = _book_descriptor()
    edit(desc)
    _write_package(data_copy, desc)
    err = _load_error("localities")
    assert len(err.problems) == 1 and expected in str(err)
    assert str(err.problems[0].file).endswith("datapackage.json")


def test_every_difference_from_the_books_schema_is_listed_in_one_error(data_copy):
    desc = _book_descriptor()
    for edit, _ in LOOSENINGS.values():
        edit(desc)
    _write_package(data_copy, desc)

    def village(rows):  # a row that only the widened enum would let through
        rows[1][_col(rows, "size_class")] = "village"

    _rewrite(data_copy / "localities.csv", village)
    err = _load_error("localities")
    assert len(err.problems) == len(LOOSENINGS)
    for _, expected in LOOSENINGS.values():
        assert expected in str(err)


def test_a_user_package_may_declare_dialect_encoding_and_missing_values(data_copy, monkeypatch):
    """Semicolon-separated, Windows-1252, 'NA' for missing: the frames equal the book's."""
    desc = _book_descriptor()
    for res in desc["resources"]:
        if res["name"] == "national_mipex":
            continue
        path = data_copy / res["path"]
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        rows = [rows[0]] + [["NA" if v == "" else v for v in r] for r in rows[1:]]
        buf = io.StringIO()
        csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)
        path.write_bytes(buf.getvalue().encode("cp1252"))
        res["dialect"] = {"delimiter": ";", "header": True}
        res["encoding"] = "cp1252"
        res["schema"]["missingValues"] = ["NA"]
    _write_package(data_copy, desc)
    theirs = data.load_all()
    monkeypatch.setenv("WHOLECOMM_DATA", str(ROOT / "data"))
    ours = data.load_all()
    assert set(theirs) == set(ours)
    for name in ours:
        pd.testing.assert_frame_equal(theirs[name], ours[name], check_exact=True)


def test_a_malformed_descriptor_is_a_data_error_naming_it(data_copy):
    (data_copy / "datapackage.json").write_text(
        '{"resources": [\n  {"name": "survey",,}\n]}', encoding="utf-8"
    )
    err = _load_error()
    assert "datapackage.json" in str(err) and "valid JSON" in str(err) and "line 2 " in str(err)
    (data_copy / "datapackage.json").write_text('{"name": "no resources"}', encoding="utf-8")
    assert "list of 'resources'" in str(_load_error())


# ------------------------------------------------------------------ no silent change
@pytest.mark.parametrize("value", ["9223372036854775808", str(10**30), "-9223372036854775809"])
def test_integers_beyond_64_bits_are_refused(data_copy, value):
    def edit(rows):
        rows[3][_col(rows, "respondent_id")] = value

    _rewrite(data_copy / "survey.csv", edit)
    msg = str(_load_error())
    assert "'respondent_id'" in msg and "line 4 " in msg and "64-bit" in msg


def test_largest_64_bit_integer_loads_exactly(data_copy):
    def edit(rows):
        rows[3][_col(rows, "respondent_id")] = str(2**63 - 1)

    _rewrite(data_copy / "survey.csv", edit)
    assert data.load("survey")["respondent_id"].iloc[2] == 2**63 - 1


def test_whitespace_around_any_value_is_one_rule(data_copy):
    def edit(rows):
        rows[2][_col(rows, "years_in_locality")] = " 12"
        rows[5][_col(rows, "gender")] = "female "
        rows[7][_col(rows, "design_weight")] = "1.5\u00a0"
        rows[8][_col(rows, "locality_id")] = " " + rows[8][_col(rows, "locality_id")]

    _rewrite(data_copy / "survey.csv", edit)
    err = _load_error()
    rule = "values must not begin or end with whitespace (nothing is trimmed)"
    found = {(p.columns, p.rows) for p in err.problems if p.rule == rule}
    assert found == {
        (("years_in_locality",), (3,)),
        (("gender",), (6,)),
        (("design_weight",), (8,)),
        (("locality_id",), (9,)),
    }, str(err)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\t", "\r"])
def test_control_characters_are_refused_even_in_free_text(data_copy, char):
    def edit(rows):
        rows[3][_col(rows, "question")] = "Does the municipality" + char + " publish a plan?"

    _rewrite(data_copy / "mipex_l_indicators.csv", edit)
    msg = str(_load_error("mipex_l_indicators"))
    assert "mipex_l_indicators.csv" in msg and "control characters" in msg and "line 4 " in msg


@pytest.mark.parametrize("name", ["survey", "localities"])
def test_a_header_without_rows_is_refused_as_file_has_no_rows(data_copy, name):
    path = data_copy / f"{name}.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    err = _load_error(name)
    assert [p.rule for p in err.problems] == [
        "file has no rows"
    ]  # no foreign-key noise from the empty parent
    assert f"{name}.csv" in str(err)


# ------------------------------------------------------------------ clear messages
@pytest.mark.parametrize(
    "value", ["55\u00a0596", "55_596", "\uff15\uff15\uff15\uff19\uff16", "5.5e4", "55,596", "0x10", "１"]
)
def test_values_python_would_accept_are_type_errors_with_file_column_line(data_copy, value):
    def edit(rows):
        rows[6][_col(rows, "population")] = value

    _rewrite(data_copy / "localities.csv", edit)
    err = _load_error("localities")
    prob = next(p for p in err.problems if p.columns == ("population",))
    assert prob.rows == (7,) and "integer expected" in prob.rule and str(prob.file).endswith("localities.csv")


def test_line_numbers_are_physical_lines_after_a_quoted_line_break(data_copy):
    def edit(rows):
        rows[2][_col(rows, "question")] = "Does the municipality\npublish a plan?"
        rows[6][_col(rows, "area")] = "space"

    _rewrite(data_copy / "mipex_l_indicators.csv", edit)
    err = _load_error("mipex_l_indicators")
    assert [(p.columns, p.rows) for p in err.problems] == [(("area",), (8,))], str(err)
    lines = (data_copy / "mipex_l_indicators.csv").read_text(encoding="utf-8").split("\n")
    assert ",space," in lines[8 - 1]


def test_row_rule_lines_are_physical_lines_too(data_copy):
    hit = []

    def edit(rows):
        rows[1][_col(rows, "answer_text")] = "First line\nsecond line of the option"
        ind, score = _col(rows, "indicator_id"), _col(rows, "score")
        victim = rows[20][ind]
        for i, r in enumerate(rows[1:], start=1):
            if r[ind] == victim:
                hit.append(i)
                if r[score] == "100":
                    r[score] = "50"

    _rewrite(data_copy / "mipex_l_options.csv", edit)
    err = _load_error("mipex_l_options")
    (prob,) = err.problems
    assert "0 and a 100 score" in prob.rule
    assert prob.rows == tuple(i + 2 for i in hit)  # record i is on line i + 1, plus the quoted line break


def test_column_order_is_free(data_copy, monkeypatch):
    def reorder(rows):
        order = list(range(len(rows[0])))[::-1]
        rows[:] = [[r[i] for i in order] for r in rows]

    for name in ("survey.csv", "localities.csv", "interviews.csv"):
        _rewrite(data_copy / name, reorder)
    theirs = data.load_all()
    monkeypatch.setenv("WHOLECOMM_DATA", str(ROOT / "data"))
    ours = data.load_all()
    for name in ours:
        pd.testing.assert_frame_equal(theirs[name], ours[name], check_exact=True)


def test_an_unclosed_quote_names_its_line_and_does_not_echo_the_file(data_copy):
    lines = (data_copy / "survey.csv").read_text(encoding="utf-8").split("\n")
    lines[99] = lines[99].replace(",female,", ',"female,', 1).replace(",male,", ',"male,', 1)
    (data_copy / "survey.csv").write_text("\n".join(lines), encoding="utf-8")
    err = _load_error()
    assert [p.rule for p in err.problems] == ["unclosed quote starting at line 100"]
    assert len(str(err)) < 1_000


def test_a_stray_quote_inside_a_value_is_refused(data_copy):
    lines = (data_copy / "localities.csv").read_text(encoding="utf-8").split("\n")
    lines[4] = (
        lines[4]
        .replace("improving", 'impro"ving', 1)
        .replace("stable", 'sta"ble', 1)
        .replace("declining", 'decl"ining', 1)
    )
    (data_copy / "localities.csv").write_text("\n".join(lines), encoding="utf-8")
    err = _load_error("localities")
    assert "quote character may only enclose a whole field" in str(err) and "line 5 " in str(err)


def test_trailing_blank_lines_are_not_rows(data_copy):
    path = data_copy / "survey.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n\r\n", encoding="utf-8")
    assert len(data.load("survey")) == sum(1 for _ in open(ROOT / "data" / "survey.csv")) - 1


def test_a_blank_line_between_rows_is_refused(data_copy):
    lines = (data_copy / "survey.csv").read_text(encoding="utf-8").split("\n")
    lines.insert(20, "")
    (data_copy / "survey.csv").write_text("\n".join(lines), encoding="utf-8")
    err = _load_error()
    assert [(p.rule, p.rows) for p in err.problems] == [
        ("the file must not have blank lines between rows", (21,))
    ]


@pytest.mark.parametrize(
    "change, found", [(lambda r: r[:-1], "26 fields"), (lambda r: [*r, "x"], "28 fields")]
)
def test_lines_with_too_few_or_too_many_fields_are_refused(data_copy, change, found):
    def edit(rows):
        rows[40] = change(rows[40])

    _rewrite(data_copy / "survey.csv", edit)
    err = _load_error()
    assert len(err.problems) == 1 and err.problems[0].rows == (41,) and found in str(err)


def test_foreign_key_problems_are_grouped_per_column_with_count_and_first_values(data_copy):
    def edit(rows):
        col = _col(rows, "locality_id")
        for i in range(10, 40):
            rows[i][col] = "SE-99"
        rows[300][col] = "XX-01"
        rows[301][col] = "XX-01"

    _rewrite(data_copy / "interviews.csv", edit)
    err = _load_error("interviews")
    fk = [p for p in err.problems if p.rule.startswith("foreign-key")]
    assert len(fk) == 1 and fk[0].columns == ("locality_id",) and fk[0].n_rows == 32
    msg = str(err)
    assert "32 rows refer to 2 unknown values" in msg and "'SE-99' (30 rows, lines 11, 12, 13)" in msg
    assert "'XX-01' (2 rows, lines 301, 302)" in msg


def test_a_file_that_is_not_text_is_a_data_error(data_copy):
    (data_copy / "survey.csv").write_bytes(bytes(range(256)) * 4)
    msg = str(_load_error())
    assert "survey.csv" in msg and "UTF-8" in msg


def test_a_utf8_byte_order_mark_is_not_part_of_the_header(data_copy, monkeypatch):
    path = data_copy / "localities.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    theirs = data.load("localities")
    monkeypatch.setenv("WHOLECOMM_DATA", str(ROOT / "data"))
    pd.testing.assert_frame_equal(theirs, data.load("localities"))


# ------------------------------------------------------------------ validated once
def test_validated_frames_are_cached_by_content_and_reused(data_copy, monkeypatch):
    cache = Path(data.cache_dir())
    first = data.load_all()
    entries = list(cache.glob("*.pkl"))
    assert len(entries) == 1

    def must_not_run(desc):
        raise AssertionError("validated again although nothing changed")

    monkeypatch.setattr(data.loading, "_validate", must_not_run)
    data._MEMO.clear()  # a new process: only the cache on disk is left
    again = data.load_all()
    for name in first:
        pd.testing.assert_frame_equal(first[name], again[name], check_exact=True)
        assert again[name].attrs == first[name].attrs

    def edit(rows):
        rows[1][_col(rows, "design_weight")] = "1.25"

    _rewrite(data_copy / "survey.csv", edit)  # new content: a new key, validated again
    with pytest.raises(AssertionError, match="validated again"):
        data.load("survey")


def test_a_damaged_cache_entry_is_ignored_and_replaced(data_copy):
    data.load_all()
    (entry,) = Path(data.cache_dir()).glob("*.pkl")
    entry.write_bytes(b"not a pickle")
    data._MEMO.clear()
    assert len(data.load("survey")) > 0
    assert entry.read_bytes()[:1] == b"\x80"  # rewritten as a pickle


def test_concurrent_kernels_share_one_cache_entry(data_copy):
    import os
    import subprocess
    import sys

    code = "from wholecomm import data; print(len(data.load('survey')))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len({o for o, _ in outs}) == 1
    cache = Path(data.cache_dir())
    assert len(list(cache.glob("*.pkl"))) == 1 and not list(cache.glob(".tmp-*"))


def test_header_cells_are_quoted_as_short_excerpts_too(data_copy):
    def add(rows):
        rows[0].append("z" * 50_000)
        for r in rows[1:]:
            r.append("1")

    _rewrite(data_copy / "localities.csv", add)
    msg = str(_load_error("localities"))
    assert "header may only name columns" in msg and "50,000 characters" in msg and len(msg) < 2_000


# ------------------------------------------------------------ overview of the package
def test_overview_figures_draw_every_locality_once():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from wholecomm import labels, overview

    loc = data.load("localities")
    fig = overview.localities_by_type_figure(loc)
    try:
        (ax,) = fig.axes
        heights = sum(p.get_width() for p in ax.patches)  # horizontal bars: one count per segment
        assert heights == len(loc)
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == [labels.TYPE_LABELS[c] for c in loc["locality_type"].cat.categories]
    finally:
        plt.close(fig)
    sizes = overview.sample_sizes()
    small = sizes["respondents"].between(1, data.MIN_CELL_DEFAULT - 1)
    fig = overview.sample_sizes_figure(sizes)
    try:
        shown = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
        assert shown == int((~small).sum())  # disclosure control: small samples are left out
    finally:
        plt.close(fig)
    planted = sizes.assign(respondents=[3] + [50] * (len(sizes) - 1))
    fig = overview.sample_sizes_figure(planted)
    try:
        assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == len(sizes) - 1
    finally:
        plt.close(fig)


def test_missingness_counts_codes_and_can_keep_only_columns_with_gaps():
    from wholecomm import overview

    sv = data.load("survey")
    full = overview.missingness("survey", sv)
    assert list(full["column"]) == list(sv.columns)
    row = full.set_index("column").loc["att_economy"]
    assert row["dont_know_pct"] == pytest.approx(100 * (sv["att_economy"] == 8).mean())
    assert row["refused_pct"] == pytest.approx(100 * (sv["att_economy"] == 9).mean())
    gaps = overview.missingness("survey", sv, missing_only=True)
    some = full[["empty_pct", "dont_know_pct", "refused_pct"]].fillna(0).sum(axis=1) > 0
    assert list(gaps["column"]) == list(full.loc[some, "column"])
    assert "respondent_id" not in set(gaps["column"])  # a complete column is left out
