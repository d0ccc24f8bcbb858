"""Reproducibility gates on the recorded results of the built book."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import results  # noqa: E402
from wholecomm import data  # noqa: E402


def test_results_match_the_expected_results(built_html):
    current = results.collect()
    expected = json.loads(results.EXPECTED.read_text(encoding="utf-8"))
    diffs = results.differences(current, expected)
    assert not diffs, (
        "Results differ from tests/expected_results.json (run `make results` if deliberate):\n"
        + "\n".join(diffs[:50])
    )


def _record(**values) -> dict:
    return {
        "p": {
            "values": {k: {"value": v, "text": str(v)} for k, v in values.items()},
            "tables": {"t1": [{"a": 1.5, "p_value": 0.01}]},
            "table_meta": {},
            "rendered": {"t1": [["a", "p_value"], ["1.5", "0.01"]]},
        }
    }


def test_comparison_tolerates_float_noise_and_detects_a_changed_value():
    base = _record(x=1.0, n=3, t="a")
    noisy = json.loads(json.dumps(base))
    noisy["p"]["values"]["x"]["value"] = 1.0 + 1e-12
    noisy["p"]["tables"]["t1"][0]["a"] = 1.5 * (1 + 1e-12)
    assert results.differences(noisy, base) == []
    changed = json.loads(json.dumps(base))
    changed["p"]["values"]["x"]["value"] = 1.0 + 1e-7
    changed["p"]["tables"]["t1"][0]["a"] = 2.5
    diffs = results.differences(changed, base)
    assert any("p.x" in d for d in diffs) and any("table t1 row 0" in d for d in diffs)
    changed["p"]["values"].pop("n")
    assert any("no longer recorded" in d for d in results.differences(changed, base))


def test_what_a_reader_sees_must_be_identical():
    base = _record(x=1.0)
    glued = json.loads(json.dumps(base))
    glued["p"]["values"]["x"]["text"] = "1.00"  # the same value, shown differently
    assert any("text '1.00'" in d for d in results.differences(glued, base))
    cell = json.loads(json.dumps(base))
    cell["p"]["rendered"]["t1"][1][0] = "1.6"
    assert any("as shown" in d for d in results.differences(cell, base))
    assert results.shown_text(cell) != results.shown_text(base)


def test_integers_text_and_booleans_are_exact_lists_recurse():
    assert not results.same(3, 4) and results.same(3, 3)
    assert not results.same(True, 1) and not results.same("supported", "Supported")
    assert not results.same(None, 0.0) and results.same(None, None)
    assert results.same([1.0, 2.0], [1.0, 2.0 * (1 + 1e-12)])
    assert not results.same([1.0, 2.0], [1.0, 2.001]) and not results.same([1.0], [1.0, 2.0])
    assert results.same(float("nan"), float("nan")) and not results.same(float("nan"), 1.0)


def test_tolerance_fits_how_a_value_is_computed():
    a, b = 4.7820475, 4.7820475 * (1 + 1e-7)  # a difference an early-stopping optimiser makes
    assert not results.same(a, b, "closed") and results.same(a, b, "fit")
    assert not results.same(a, a * (1 + 1e-5), "fit")
    base = _record(x=a)
    moved = json.loads(json.dumps(base))
    moved["p"]["values"]["x"]["value"] = b
    assert results.differences(moved, base)
    moved["p"]["values"]["x"]["fit"] = base["p"]["values"]["x"]["fit"] = True
    assert results.differences(moved, base) == []


def test_p_values_are_compared_on_the_log_scale():
    assert (
        results.is_p_value("p_value") and results.is_p_value("h2_housing_p") and results.is_p_value("p_size")
    )
    assert not results.is_p_value("pct_unanswered") and not results.is_p_value("top_theme_pct")
    tiny = 2.444e-146
    assert results.same(tiny, tiny * (1 + 1e-12), p_value=True)
    assert not results.same(tiny, tiny * 1.001, p_value=True)  # absolutely tiny, relatively large
    assert results.same(0.0, 1e-310, p_value=True) and not results.same(0.0, 1e-20, p_value=True)
    assert not results.same(1.2, 1.2, p_value=True)  # not a probability


def test_every_published_survey_table_respects_the_minimum_cell_size(built_html):
    current = results.collect()
    checked = 0
    for page, record in current.items():
        for key, meta in record["table_meta"].items():
            if "respondents_column" not in meta:
                continue  # not a survey table (e.g. only marked as fitted values)
            column = meta["respondents_column"]
            for row in record["tables"][key]:
                n = row[column]
                assert n is None or n >= data.MIN_CELL_DEFAULT, (
                    f"{page} table {key}: a row rests on {n} respondents"
                )
            checked += 1
    assert checked >= 1, "no survey table declared its respondent counts"
    # Every table of the survey chapter with a respondent count declares it (so it is checked).
    survey = current.get("survey")
    if survey:
        for key, rows in survey["tables"].items():
            if rows and {"n", "Respondents"} & set(rows[0]):
                assert key in survey["table_meta"], (
                    f"survey table {key} has counts but no disclosure declaration"
                )


def test_the_publisher_refuses_a_table_with_a_small_cell(tmp_path, monkeypatch):
    import pandas as pd

    from wholecomm.book import Page

    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))
    page = Page("disclosure-check", show_notice=False)
    with pytest.raises(ValueError, match="fewer than 10"):
        page.table(
            "bad", pd.DataFrame({"group": ["a"], "n": [3], "share": [0.5]}), "caption", respondents="n"
        )
    page.table(
        "ok",
        data.suppress_small_cells(pd.DataFrame({"group": ["a"], "n": [3], "share": [0.5]})),
        "caption",
        respondents="n",
    )
    assert (
        json.loads((tmp_path / "disclosure-check.json").read_text())["table_meta"]["ok"]["respondents_column"]
        == "n"
    )


def test_changelog_lists_what_a_reader_sees_change_and_nothing_else():
    base = _record(x=1.0, n=3, t="a")
    assert results.changelog(base, base) == []
    noisy = json.loads(json.dumps(base))
    noisy["p"]["values"]["x"]["value"] = 1.0 + 1e-12  # same text: not a change a reader sees
    assert results.changelog(noisy, base) == []
    changed = json.loads(json.dumps(base))
    changed["p"]["values"]["x"]["text"] = "9.9"
    changed["p"]["values"]["new_key"] = {"value": 1, "text": "1"}
    changed["q"] = changed["p"]
    lines = results.changelog(changed, base)
    assert (
        lines[0].startswith("- `p`: ")
        and "`x` '1.0' -> '9.9'" in lines[0]
        and "`new_key` new: '1'" in lines[0]
    )
    assert lines[1] == "- `q`: new page."
    assert results.changelog(base, changed)[1] == "- `q`: page removed."
