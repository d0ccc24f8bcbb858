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
    assert not diffs, ("Results differ from tests/expected_results.json (run `make results` if deliberate):\n"
                       + "\n".join(diffs[:50]))


def test_comparison_detects_a_changed_value_and_tolerates_float_noise():
    base = {"p": {"values": {"x": 1.0, "n": 3, "t": "a"}, "tables": {"t1": [{"a": 1.5}]}, "table_meta": {}}}
    noisy = json.loads(json.dumps(base))
    noisy["p"]["values"]["x"] = 1.0 + 1e-12
    assert results.differences(noisy, base) == []
    changed = json.loads(json.dumps(base))
    changed["p"]["values"]["x"] = 1.001
    changed["p"]["tables"]["t1"][0]["a"] = 2.5
    diffs = results.differences(changed, base)
    assert any("p.x" in d for d in diffs) and any("table t1 row 0" in d for d in diffs)
    changed["p"]["values"].pop("n")
    assert any("no longer recorded" in d for d in results.differences(changed, base))


def test_every_published_survey_table_respects_the_minimum_cell_size(built_html):
    current = results.collect()
    checked = 0
    for page, record in current.items():
        for key, meta in record["table_meta"].items():
            column = meta["respondents_column"]
            for row in record["tables"][key]:
                n = row[column]
                assert n is None or n >= data.MIN_CELL_DEFAULT, f"{page} table {key}: a row rests on {n} respondents"
            checked += 1
    assert checked >= 1, "no survey table declared its respondent counts"
    # Every table of the survey chapter with a respondent count declares it (so it is checked).
    survey = current.get("survey")
    if survey:
        for key, rows in survey["tables"].items():
            if rows and {"n", "Respondents"} & set(rows[0]):
                assert key in survey["table_meta"], f"survey table {key} has counts but no disclosure declaration"


def test_the_publisher_refuses_a_table_with_a_small_cell(tmp_path, monkeypatch):
    import pandas as pd

    from wholecomm.book import Page

    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))
    page = Page("disclosure-check", show_notice=False)
    with pytest.raises(ValueError, match="fewer than 10"):
        page.table("bad", pd.DataFrame({"group": ["a"], "n": [3], "share": [0.5]}), "caption", respondents="n")
    page.table("ok", data.suppress_small_cells(pd.DataFrame({"group": ["a"], "n": [3], "share": [0.5]})),
               "caption", respondents="n")
    assert json.loads((tmp_path / "disclosure-check.json").read_text())["table_meta"]["ok"]["respondents_column"] == "n"
