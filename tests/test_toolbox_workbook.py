"""The spreadsheet route of the toolbox: `wholecomm questionnaire --format xlsx` writes a
workbook (instructions first, one row per question with a drop-down of the answer texts
and "Don't know"), and `wholecomm assess` reads it back to the same answers and scores as
the YAML questionnaire; bad cells are reported by sheet, row and column."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from openpyxl import load_workbook

from wholecomm import cli, toolbox

pytestmark = pytest.mark.usefixtures("book_data")


def blank():
    return load_workbook(io.BytesIO(toolbox.questionnaire_workbook()))


def list_items(wb, formula: str) -> list[str]:
    sheet, rng = formula.lstrip("=").split("!")
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[rng.replace("$", "")] for c in row]


def fill(wb, locality: dict, years: dict[int, dict[str, str | None]]):
    """Fill a blank workbook as an officer would: texts chosen from the lists."""
    loc = wb["Locality"]
    for row in loc.iter_rows(min_row=2):
        if row[0].value in locality:
            row[1].value = locality[row[0].value]
    ans = wb["Answers"]
    for k, (year, answers) in enumerate(years.items()):
        col = 5 + k
        ans.cell(row=2, column=col, value=year)
        for r in range(3, ans.max_row + 1):
            ind = ans.cell(row=r, column=2).value
            if ind in answers:
                ans.cell(row=r, column=col, value=answers[ind])
    return wb


def save(wb, path):
    wb.save(path)
    return path


def yaml_text(cat, locality, years) -> str:
    lines = ["locality:"] + [f"  {k}: {json.dumps(v)}" for k, v in locality.items()] + ["assessments:"]
    for year, answers in years.items():
        lines += [f"  - year: {year}", "    answers:"]
        lines += [f"      {ind}: {'' if code is None else code}".rstrip() for ind, code in answers.items()]
    return "\n".join(lines) + "\n"


LOCALITY = {
    "name": "Sheetville (fictional)",
    "country": "AT",
    "size_class": "medium_town",
    "locality_type": "struggling_experienced",
}


def test_blank_workbook_layout(cat):
    wb = blank()
    assert wb.sheetnames[0] == "Instructions"
    assert wb.sheetnames[:3] == ["Instructions", "Locality", "Answers"]
    assert wb["Lists"].sheet_state == "hidden"
    text = " ".join(str(c.value) for c in wb["Instructions"]["A"] if c.value)
    assert "Don't know" in text and "wholecomm assess" in text and "never as 0" in text
    ans = wb["Answers"]
    ids = [ans.cell(row=r, column=2).value for r in range(3, ans.max_row + 1)]
    assert ids == cat.ids  # one row per question, catalogue order
    # every question has a drop-down: its answer texts (best first) and "Don't know"
    by_cell = {}
    for dv in ans.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            by_cell[rng.coord.split(":")[0]] = dv
    for r, ind in enumerate(ids, start=3):
        dv = by_cell[f"E{r}"]
        assert dv.type == "list" and dv.allow_blank
        expected = [*cat.options.loc[cat.options["indicator_id"] == ind, "answer_text"], toolbox.DONT_KNOW]
        assert list_items(wb, dv.formula1) == expected
    # the locality has drop-downs with the data's categories
    loc_dvs = {
        rng.coord: dv for dv in wb["Locality"].data_validations.dataValidation for rng in dv.sqref.ranges
    }
    countries = list_items(wb, loc_dvs["B3"].formula1)
    assert [c.split(" ")[0] for c in countries] == cat.allowed["country"]


def test_round_trip_equals_the_yaml_questionnaire(cat, tmp_path):
    rng = np.random.default_rng(20)
    years = {}
    for year in (2022, 2024):
        answers = {}
        for ind in cat.ids:
            opts = cat.options[cat.options["indicator_id"] == ind]
            k = int(rng.integers(0, len(opts) + 2))
            answers[ind] = None if k >= len(opts) else str(opts["answer_code"].iloc[k])
        years[year] = answers
    text_of = {(o.indicator_id, o.answer_code): o.answer_text for o in cat.options.itertuples(index=False)}
    # In the workbook: answer texts; "Don't know" or an empty cell for the missing ones.
    cells = {
        year: {
            ind: (text_of[(ind, c)] if c else (toolbox.DONT_KNOW if hash(ind) % 2 else None))
            for ind, c in answers.items()
        }
        for year, answers in years.items()
    }
    locality_cells = {**LOCALITY, "country": "AT (Austria)", "size_class": "medium_town"}
    path = save(fill(blank(), locality_cells, cells), tmp_path / "sheet.xlsx")
    from_xlsx = toolbox.read_questionnaire(path)
    from_yaml = toolbox.parse_questionnaire(yaml_text(cat, LOCALITY, years))
    assert from_xlsx.locality == from_yaml.locality
    assert from_xlsx.years == from_yaml.years == [2022, 2024]
    cols = ["year", "indicator_id", "answer_code"]
    left = from_xlsx.answers[cols].fillna("-").sort_values(cols[:2]).reset_index(drop=True)
    right = from_yaml.answers[cols].fillna("-").sort_values(cols[:2]).reset_index(drop=True)
    assert left.equals(right)
    a, b = toolbox.assess(from_xlsx), toolbox.assess(from_yaml)
    assert np.allclose(a.scores["score"], b.scores["score"], equal_nan=True)
    assert a.priorities["indicator_id"].tolist() == b.priorities["indicator_id"].tolist()
    # warnings point at the cells of the missing answers
    assert all(isinstance(w[0], toolbox.Cell) and w[0].sheet == "Answers" for w in from_xlsx.warnings)


def test_example_workbook_reads_back_to_the_example(tmp_path):
    path = tmp_path / "ex.xlsx"
    path.write_bytes(toolbox.questionnaire_workbook(example=True))
    from_xlsx = toolbox.read_questionnaire(path)
    example = toolbox.read_questionnaire(toolbox.example_questionnaire())
    assert from_xlsx.locality == example.locality and from_xlsx.years == example.years
    cols = ["year", "indicator_id", "answer_code"]
    assert from_xlsx.answers[cols].fillna("-").equals(example.answers[cols].fillna("-"))


def test_a_filled_questionnaire_is_exported_as_a_workbook_and_read_back(cat, tmp_path):
    q = toolbox.parse_questionnaire(yaml_text(cat, LOCALITY, {2023: {i: "b" for i in cat.ids}}))
    path = tmp_path / "q.xlsx"
    path.write_bytes(toolbox.questionnaire_workbook(q=q))
    back = toolbox.read_questionnaire(path)
    assert back.locality == q.locality and set(back.answers["answer_code"]) == {"b"}


def test_bad_cells_are_reported_by_sheet_row_and_column(cat, tmp_path):
    answers = {ind: "x" for ind in cat.ids}
    wb = fill(blank(), {**LOCALITY, "country": "Atlantis"}, {2024: {}})
    ans = wb["Answers"]
    text_of = {(o.indicator_id, o.answer_code): o.answer_text for o in cat.options.itertuples(index=False)}
    for r in range(3, ans.max_row + 1):
        ans.cell(row=r, column=5, value=text_of[(ans.cell(row=r, column=2).value, "a")])
    ans.cell(row=4, column=5, value="Perhaps")  # not an option
    ans.cell(row=2, column=6, value=None)
    ans.cell(row=7, column=6, value=answers[cat.ids[4]])  # an answer in a column without a year
    ans.cell(row=2, column=7, value="20x4")  # a bad year
    ans.cell(row=9, column=7, value=text_of[(cat.ids[6], "a")])
    path = save(wb, tmp_path / "bad.xlsx")
    with pytest.raises(toolbox.QuestionnaireError) as exc:
        toolbox.read_questionnaire(path)
    lines = exc.value.lines()
    assert any(
        line.startswith("bad.xlsx: sheet Locality, row 3, column B: unknown country 'Atlantis'")
        or line.endswith("unknown country 'Atlantis': choose one of AT, BE, DE, ES, IT, NL, PL, SE")
        for line in lines
    ), lines
    assert any(
        "sheet Answers, row 4, column E: 'Perhaps' is not an answer option for " + cat.ids[1] in line
        for line in lines
    ), lines
    assert any(
        "sheet Answers, row 2, column F: this answer column has answers but no year" in line for line in lines
    ), lines
    assert any("sheet Answers, row 2, column G: year '20x4'" in line for line in lines), lines
    # sorted by sheet, then row, then column
    assert lines.index(next(x for x in lines if "Locality" in x)) < lines.index(
        next(x for x in lines if "Answers" in x)
    )


def test_not_a_workbook_or_wrong_sheets(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(toolbox.QuestionnaireError, match="cannot be read as an Excel workbook"):
        toolbox.read_questionnaire(fake)
    from openpyxl import Workbook

    other = tmp_path / "other.xlsx"
    Workbook().save(other)
    with pytest.raises(toolbox.QuestionnaireError, match="Locality, Answers is missing"):
        toolbox.read_questionnaire(other)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(toolbox.QuestionnaireError, match="save the workbook as .xlsx"):
        toolbox.read_questionnaire(old)


def test_command_writes_and_reads_the_workbook(cat, tmp_path, capsys):
    out = tmp_path / "town.xlsx"
    assert cli.main(["questionnaire", "--format", "xlsx"]) == 2  # a workbook needs --out
    assert "--out" in capsys.readouterr().err
    assert cli.main(["questionnaire", "--out", str(out)]) == 0  # .xlsx: a workbook
    assert out.read_bytes()[:4] == b"PK\x03\x04"
    assert cli.main(["questionnaire", "--out", str(out), "--format", "xlsx"]) == 2  # exists
    text_of = {(o.indicator_id, o.answer_code): o.answer_text for o in cat.options.itertuples(index=False)}
    wb = fill(load_workbook(out), LOCALITY, {2025: {i: text_of[(i, "b")] for i in cat.ids}})
    wb.save(out)
    report = tmp_path / "report.html"
    assert cli.main(["assess", str(out), "--out", str(report)]) == 0, capsys.readouterr().err
    assert "Sheetville (fictional)" in report.read_text(encoding="utf-8")


def test_locality_choices_read_as_in_a_sentence():
    """The drop-down of a locality field shows the code and the words a sentence uses, the
    same words as the toolbox report ("small_town (small towns, 5,000-49,999)")."""
    choice_label = toolbox.choice_label
    assert choice_label("size_class", "small_town") == "small_town (small towns, 5,000-49,999)"
    assert choice_label("locality_type", "thriving_new") == "thriving_new (thriving, new to diversity)"
    assert choice_label("country", "AT") == "AT (Austria)"
    assert choice_label("country", "XX") == "XX"
