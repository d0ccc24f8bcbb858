"""The toolbox for local governments (wholecomm.toolbox and the `wholecomm` command):
the command end to end, exit codes, line-numbered messages for each kind of bad
questionnaire, scores worked by hand, the missing-data rule, peer selection, priorities,
monitoring, escaping and self-containment of the report, and the blank questionnaire."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wholecomm import cli, data, index, toolbox

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("book_data")


def q_text(
    years: dict[int, dict[str, str | None]],
    name="Testville (fictional)",
    country="DE",
    size_class="small_town",
    locality_type="thriving_new",
) -> str:
    """A questionnaire as YAML text; None = an empty answer; an indicator left out is absent."""
    lines = [
        "locality:",
        f"  name: {json.dumps(name)}",
        f"  country: {country}",
        f"  size_class: {size_class}",
        f"  locality_type: {locality_type}",
        "assessments:",
    ]
    for year, answers in years.items():
        lines += [f"  - year: {year}", "    answers:"]
        lines += [f"      {ind}: {'' if code is None else code}".rstrip() for ind, code in answers.items()]
    return "\n".join(lines) + "\n"


def all_answers(cat, code="a", **overrides) -> dict[str, str | None]:
    out = {ind: code for ind in cat.ids}
    out.update(overrides)
    return out


def by_prefix(cat, pattern: dict[str, str]) -> dict[str, str | None]:
    """{"GOV": "aabccc", ...} -> answers ('-' = empty); areas not given: all 'a'."""
    out = {}
    for ind in cat.ids:
        codes = pattern.get(ind[:3], "aaaaaa")
        c = codes[int(ind[3:]) - 1]
        out[ind] = None if c == "-" else c
    return out


def run_cli(args, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "WHOLECOMM_DATA"}
    return subprocess.run(
        [sys.executable, "-m", "wholecomm.cli", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def scores_of(a: toolbox.Assessment, year: int) -> pd.Series:
    sc = a.scores[a.scores["year"] == year]
    return sc.set_index("unit")["score"]


# ------------------------------------------------------------------ the command
def test_command_end_to_end_writes_the_report(tmp_path, cat):
    path = tmp_path / "town.yml"
    path.write_text(
        q_text({2023: all_answers(cat, "b"), 2025: all_answers(cat, "a", GOV01=None)}), encoding="utf-8"
    )
    out = tmp_path / "report.html"
    proc = run_cli(["assess", path.name, "--out", out.name], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # The missing answer is a warning with its line (GOV01 of the second year).
    gov01_line = path.read_text().splitlines().index("      GOV01:") + 1
    assert f"town.yml:{gov01_line}: warning: 2025: GOV01 is not answered" in proc.stderr
    report = out.read_text(encoding="utf-8")
    assert "Testville (fictional)" in report and "Monitoring over time" in report
    assert "The peers in this report are synthetic" in report


def test_command_lists_every_problem_with_its_line_and_exits_2(tmp_path):
    text = """locality:
  name: Badtown
  country: FR
  size_class: village
  locality_type: booming
assessments:
  - year: 2024
    answers:
      GOV01: a
      GOV07: b
      HOU03: d
  - year: 2024
    answers:
      GOV01: a
"""
    (tmp_path / "bad.yml").write_text(text, encoding="utf-8")
    proc = run_cli(["assess", "bad.yml", "--out", "r.html"], tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert "bad.yml:3: unknown country 'FR': must be one of AT, BE, DE, ES, IT, NL, PL, SE" in lines
    assert (
        "bad.yml:4: unknown size class 'village': must be one of rural_area, small_town, medium_town" in lines
    )
    assert any(line.startswith("bad.yml:5: unknown locality type 'booming'") for line in lines)
    assert any(line.startswith("bad.yml:10: unknown indicator 'GOV07'") for line in lines)
    assert "bad.yml:11: answer 'd' for HOU03 is not among the options a, b, c" in lines
    assert any(line.startswith("bad.yml:12: year 2024 appears twice (first on line 7)") for line in lines)
    assert not (tmp_path / "r.html").exists()
    assert "Traceback" not in proc.stderr


def test_command_reports_malformed_yaml_with_the_parser_line(tmp_path):
    (tmp_path / "broken.yml").write_text(
        "locality:\n  name: x\n  country: AT\n bad indent: [\n", encoding="utf-8"
    )
    proc = run_cli(["assess", "broken.yml"], tmp_path)
    assert proc.returncode == 2
    assert re.search(r"^broken\.yml:4: not valid YAML", proc.stderr, re.M), proc.stderr


def test_help_documents_every_option_and_the_exit_codes(tmp_path):
    proc = run_cli(["assess", "--help"], tmp_path)
    assert proc.returncode == 0
    for option in ("--out", "--min-answered-share", "--peers", "--top", "--data", "--quiet", "--debug"):
        assert option in proc.stdout
    for code in ("0  success", "2  invalid input", "3  internal error"):
        assert code in proc.stdout
    assert "Exit codes" in cli.__doc__ and "3: internal error" in cli.__doc__


def test_internal_error_exits_3_with_a_short_message(tmp_path, monkeypatch, capsys, cat):
    path = tmp_path / "town.yml"
    path.write_text(q_text({2024: all_answers(cat)}), encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(toolbox, "assess", broken)
    assert cli.main(["assess", str(path), "--out", str(tmp_path / "r.html")]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "simulated failure" in err and "/issues" in err
    assert "Traceback" not in err
    assert cli.main(["assess", str(path), "--out", str(tmp_path / "r.html"), "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["assess", "town.yml", "--peers", "size,postcode"],
        ["assess", "town.yml", "--min-answered-share", "0"],
        ["assess", "town.yml", "--min-answered-share", "1.5"],
        ["assess", "town.yml", "--top", "0"],
        ["assess", "town.yml", "--data", "no-such-directory"],
        ["assess", "no-such-file.yml"],
        [],
    ],
)
def test_usage_errors_exit_2(args, tmp_path, monkeypatch, capsys, cat):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "town.yml").write_text(q_text({2024: all_answers(cat)}), encoding="utf-8")
    assert cli.main(args) == 2
    assert capsys.readouterr().err.strip()


def test_questionnaire_command_writes_refuses_to_overwrite_and_prints(tmp_path, capsys, cat):
    out = tmp_path / "my-town.yml"
    assert cli.main(["questionnaire", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == toolbox.blank_questionnaire()
    assert cli.main(["questionnaire", "--out", str(out)]) == 2
    assert cli.main(["questionnaire", "--out", str(out), "--example", "--force"]) == 0
    assert "Exampleton" in out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["questionnaire"]) == 0
    assert capsys.readouterr().out == toolbox.blank_questionnaire()


def test_quiet_prints_nothing_on_success(tmp_path, capsys, cat):
    path = tmp_path / "town.yml"
    path.write_text(q_text({2024: all_answers(cat, GOV01=None)}), encoding="utf-8")
    assert cli.main(["assess", str(path), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "town-report.html").is_file()


# ------------------------------------------------------- bad questionnaires (lines)
def problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(toolbox.QuestionnaireError) as exc:
        toolbox.parse_questionnaire(text, "q.yml")
    assert all(line.startswith("q.yml") for line in exc.value.lines())
    return exc.value.problems


GOOD_HEAD = "locality:\n  name: T\n  country: AT\n  size_class: rural_area\n  locality_type: thriving_new\n"


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        (
            GOOD_HEAD + "assessments:\n  - year: 2024\n    answers:\n      XYZ01: a\n",
            9,
            "unknown indicator 'XYZ01'",
        ),
        (
            GOOD_HEAD + "assessments:\n  - year: 2024\n    answers:\n      GOV01: d\n",
            9,
            "answer 'd' for GOV01 is not among the options a, b, c",
        ),
        (
            GOOD_HEAD + "assessments:\n  - year: 2024\n    answers:\n      GOV01: A\n",
            9,
            "answer 'A' for GOV01 is not among the options a, b, c",
        ),
        (
            GOOD_HEAD.replace("AT", "NO") + "assessments:\n  - year: 2024\n    answers:\n      GOV01: a\n",
            3,
            "unknown country 'NO'",
        ),
        (
            GOOD_HEAD.replace("rural_area", "hamlet")
            + "assessments:\n  - year: 2024\n    answers:\n      GOV01: a\n",
            4,
            "unknown size class 'hamlet'",
        ),
        (
            GOOD_HEAD.replace("thriving_new", "rich")
            + "assessments:\n  - year: 2024\n    answers:\n      GOV01: a\n",
            5,
            "unknown locality type 'rich'",
        ),
        (
            GOOD_HEAD
            + "assessments:\n  - year: 2024\n    answers:\n      GOV01: a\n  - year: 2024\n    answers:\n"
            "      GOV01: a\n",
            10,
            "year 2024 appears twice (first on line 7)",
        ),
        (
            GOOD_HEAD + "assessments:\n  - year: 24\n    answers:\n      GOV01: a\n",
            7,
            "year '24' must be a four-digit",
        ),
        (GOOD_HEAD + "assessments:\n  - answers:\n      GOV01: a\n", 7, "has no year"),
        (
            GOOD_HEAD + "assessments:\n  - year: 2024\n    answers:\n      GOV01: a\n      GOV01: b\n",
            10,
            "duplicate key 'GOV01' (first given on line 9)",
        ),
        (
            GOOD_HEAD + "assessments:\n  - year: 2024\n    answers:\n      GOV01: [a, b]\n",
            9,
            "must be a single value",
        ),
        (GOOD_HEAD + "assessment:\n  - year: 2024\n", 6, "unknown top-level key 'assessment'"),
        (
            GOOD_HEAD + "assessments:\n  - year: 2024\n    answers:\n      GOV01: 'a\n",
            10,
            "not valid YAML: found unexpected end of stream (while scanning a quoted scalar that starts on line 9)",
        ),
        (GOOD_HEAD + "assessments:\n  - year: 2024\n   answers:\n", 8, "not valid YAML"),
        (GOOD_HEAD + "assessments: 2024\n", 6, "assessments: must be a list"),
        ("- a\n- b\n", 1, "wrong structure"),
    ],
)
def test_each_kind_of_bad_input_is_reported_on_its_line(text, line, fragment):
    found = problems(text)
    assert any(ln == line and fragment in msg for ln, msg in found), found


def test_all_problems_are_collected_and_sorted_by_line():
    text = (
        GOOD_HEAD.replace("AT", "FR")
        + "assessments:\n  - year: 2024\n    answers:\n      GOV01: z\n      XX: a\n"
    )
    found = problems(text)
    lines = [ln for ln, _ in found]
    assert lines == sorted(lines) and {3, 9, 10} <= set(lines)


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(toolbox.QuestionnaireError, match="the file is empty"):
        toolbox.parse_questionnaire("# only a comment\n", "q.yml")
    with pytest.raises(toolbox.QuestionnaireError, match="file not found"):
        toolbox.read_questionnaire(tmp_path / "nope.yml")
    bad = tmp_path / "latin1.yml"
    bad.write_bytes(b"locality:\n  name: M\xfcnster\n")
    with pytest.raises(toolbox.QuestionnaireError) as exc:
        toolbox.read_questionnaire(bad)
    assert exc.value.problems == [(2, "the file is not UTF-8 text; save it as UTF-8")]


def test_missing_answers_are_warnings_with_lines_not_errors(cat):
    answers = all_answers(cat)
    answers["GOV02"] = None
    del answers["LAB03"]
    text = q_text({2024: answers})
    q = toolbox.parse_questionnaire(text, "q.yml")
    lines = text.splitlines()
    gov02 = lines.index("      GOV02:") + 1
    answers_line = lines.index("    answers:") + 1
    assert (gov02, "2024: GOV02 is not answered; it counts as not answered (never as 0)") in q.warnings
    assert any(ln == answers_line and "LAB03 is missing from the answers" in msg for ln, msg in q.warnings)
    assert len(q.warnings) == 2
    assert q.answers.set_index("indicator_id").loc[["GOV02", "LAB03"], "answer_code"].isna().all()


def test_too_few_answers_to_score_anything_is_an_error(cat):
    answers = {ind: None for ind in cat.ids}
    answers["GOV01"] = "a"
    with pytest.raises(toolbox.QuestionnaireError) as exc:
        toolbox.parse_questionnaire(q_text({2024: answers}), "q.yml")
    assert exc.value.problems[0][0] == 7
    assert "too few answers to score anything (1 of 54 answered" in exc.value.problems[0][1]


# ------------------------------------------------------------ scores by hand
def test_all_a_scores_100_everywhere(cat):
    a = toolbox.assess(toolbox.parse_questionnaire(q_text({2024: all_answers(cat, "a")})))
    assert (scores_of(a, 2024) == 100).all() and a.scores["scored"].all()
    assert len(a.priorities) == 0  # nothing below the best peer


def test_constructed_mix_worked_by_hand(cat):
    # GOV a a b c c c -> 250/6; LAB b b b b - - -> 4 answered of 6 (enough): 200/4 = 50;
    # EDU c x 6 -> 0; the other six areas all a -> 100.
    # Overall = (250/6 + 50 + 0 + 6 * 100) / 9.
    q = toolbox.parse_questionnaire(
        q_text({2024: by_prefix(cat, {"GOV": "aabccc", "LAB": "bbbb--", "EDU": "cccccc"})})
    )
    s = scores_of(toolbox.assess(q), 2024)
    assert s["governance_capacity"] == pytest.approx(250 / 6)
    assert s["labour_market"] == pytest.approx(50)
    assert s["education"] == 0
    assert s["housing"] == 100
    assert s["overall"] == pytest.approx((250 / 6 + 50 + 0 + 600) / 9)


def test_area_with_too_few_answers_is_not_scored_never_zero(cat):
    # HOU: a - - - c c -> 3 of 6 answered, fewer than 4: not scored, and so is the overall score.
    q = toolbox.parse_questionnaire(q_text({2024: by_prefix(cat, {"HOU": "a---cc"})}))
    a = toolbox.assess(q)
    sc = a.scores.set_index("unit")
    assert np.isnan(sc.loc["housing", "score"]) and not sc.loc["housing", "scored"]
    assert np.isnan(sc.loc["overall", "score"]) and not sc.loc["overall", "scored"]
    assert sc.loc["housing", "answered"] == 3
    assert any(
        "Housing is not scored: too few answers (3 of 6 answered, at least 4 needed)" in m
        for _, m in a.warnings
    )
    table = toolbox.scores_table(a).set_index("policy_area")
    assert table.loc["Housing", "status"] == toolbox.NOT_SCORED
    report = toolbox.render_report(a)
    row = re.search(
        r"<td>Housing</td><td class=\"num\"[^>]*>3 of 6</td>\s*<td class=\"num not-scored\"[^>]*>([^<]*)</td>",
        report,
    )
    assert row and row.group(1) == toolbox.NOT_SCORED
    # Housing is not ranked among the priorities (its area has no score).
    assert not a.priorities["area"].eq("housing").any()
    # A lower threshold scores it, as the mean of the answered indicators: (100 + 0 + 0) / 3.
    b = toolbox.assess(q, min_answered_share=0.5)
    assert scores_of(b, 2024)["housing"] == pytest.approx(100 / 3)


def test_scores_match_the_index_engine(cat):
    q = toolbox.read_questionnaire(toolbox.example_questionnaire())
    a = toolbox.assess(q)
    long = q.answers.assign(
        locality_id=q.answers["year"].astype(str), answer_code=q.answers["answer_code"].fillna("")
    )
    res = index.score(
        long[["locality_id", "indicator_id", "answer_code"]],
        data.load("mipex_l_indicators"),
        data.load("mipex_l_options"),
    )
    for year in q.years:
        s = scores_of(a, year)
        assert s.drop("overall").to_numpy() == pytest.approx(res.area_scores.loc[str(year)].to_numpy())
        assert s["overall"] == pytest.approx(res.overall[str(year)])


def test_blank_questionnaire_round_trips(cat):
    blank = toolbox.blank_questionnaire()
    keys = re.findall(r"^\s+([A-Z]{3}[0-9]{2}):", blank, re.M)
    assert keys == cat.ids  # every indicator, once, in catalogue order
    for ind, question in zip(cat.indicators["indicator_id"], cat.indicators["question"], strict=False):
        assert f"# {ind} (" in blank
        words = " ".join(question.split()[:4])
        assert words in " ".join(blank.replace("#", " ").split())
    assert "(100)" in blank and "(50)" in blank and "(0)" in blank
    # Fill in the blank: locality, year, every answer 'b'.
    filled = blank.replace("  name:            #", "  name: Roundtrip #")
    filled = filled.replace("  country:         #", "  country: SE #")
    filled = filled.replace("  size_class:      #", "  size_class: medium_town #")
    filled = filled.replace("  locality_type:   #", "  locality_type: thriving_experienced #")
    filled = filled.replace("  - year:          #", "  - year: 2024 #")
    filled = re.sub(r"^(\s+[A-Z]{3}[0-9]{2}):(\s+#)", r"\1: b\2", filled, flags=re.M)
    q = toolbox.parse_questionnaire(filled, "blank.yml")
    assert q.warnings == [] and q.years == [2024] and q.country == "SE"
    assert (scores_of(toolbox.assess(q), 2024) == 50).all()
    # The blank itself is rejected, with a line for each missing locality field and the year.
    with pytest.raises(toolbox.QuestionnaireError) as exc:
        toolbox.parse_questionnaire(blank, "blank.yml")
    assert len(exc.value.problems) == 5


def test_download_link_is_a_yaml_data_uri():
    link = toolbox.questionnaire_download_link()
    assert 'download="whole-comm-questionnaire.yml"' in link
    assert 'href="data:application/yaml;charset=utf-8;base64,' in link
    import base64

    payload = re.search(r"base64,([A-Za-z0-9+/=]+)", link).group(1)
    assert base64.b64decode(payload).decode("utf-8") == toolbox.blank_questionnaire()


# ------------------------------------------------------------------ peers
@pytest.mark.parametrize(
    "country, size_class, locality_type",
    [
        ("NL", "rural_area", "struggling_experienced"),  # NL-02 (not assessed) is NL, struggling_experienced
        ("IT", "small_town", "struggling_new"),
        ("SE", "medium_town", "thriving_experienced"),
    ],
)
def test_peers_are_exactly_the_assessed_localities_sharing_the_attribute(
    country, size_class, locality_type, cat
):
    q = toolbox.parse_questionnaire(
        q_text(
            {2024: all_answers(cat, "b")}, country=country, size_class=size_class, locality_type=locality_type
        )
    )
    a = toolbox.assess(q)
    loc = data.load("localities")
    assessed = loc[loc["mipex_l_assessed"]]
    assert set(data.load("mipex_l_answers")["locality_id"].astype(str)) == set(
        assessed["locality_id"].astype(str)
    )
    for group, value in (("size_class", size_class), ("country", country), ("locality_type", locality_type)):
        expected = set(assessed.loc[assessed[group].astype(str) == value, "locality_id"].astype(str))
        got = set(a.peers.loc[a.peers["group"] == group, "locality_id"])
        assert got == expected, group
        row = a.benchmarks[(a.benchmarks["group"] == group) & (a.benchmarks["unit"] == "overall")].iloc[0]
        assert row["n_peers"] == len(expected)
        overall = index.from_package().overall.reindex(sorted(expected)).dropna()
        assert row["n_scored"] == len(overall)
        assert row["median"] == pytest.approx(overall.median())
        assert row["q1"] == pytest.approx(overall.quantile(0.25))
        assert row["q3"] == pytest.approx(overall.quantile(0.75))
        assert row["best"] == pytest.approx(overall.max())
        assert row["gap"] == pytest.approx(50 - overall.median())
    assert "NL-02" not in set(a.peers["locality_id"])


def test_peer_group_selection_and_bad_groups(cat):
    q = toolbox.parse_questionnaire(q_text({2024: all_answers(cat, "b")}))
    a = toolbox.assess(q, groups=["country"])
    assert a.groups == ["country"] and set(a.benchmarks["group"]) == {"country"}
    with pytest.raises(ValueError, match="peer groups"):
        toolbox.assess(q, groups=["postcode"])
    with pytest.raises(ValueError, match="peer groups"):
        toolbox.assess(q, groups=[])
    with pytest.raises(ValueError, match="min_answered_share"):
        toolbox.assess(q, min_answered_share=0)
    with pytest.raises(TypeError):
        toolbox.assess({"name": "x"})


def test_small_peer_group_is_flagged_in_the_report(tmp_path, monkeypatch, cat, capsys):
    # A data directory in which only two German localities were assessed.
    target = tmp_path / "userdata"
    target.mkdir()
    for path in (ROOT / "data").glob("*.csv"):
        if path.name != "mipex2020_national.csv":
            shutil.copy(path, target / path.name)
    keep = {"DE-01", "DE-02"}

    def rewrite(name, edit):
        rows = list(csv.reader(io.StringIO((target / name).read_text(encoding="utf-8"))))
        rows = edit(rows)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        (target / name).write_text(buf.getvalue(), encoding="utf-8")

    def localities(rows):
        col = rows[0].index("mipex_l_assessed")
        for r in rows[1:]:
            if r[0].startswith("DE-") and r[0] not in keep:
                r[col] = "false"
        return rows

    rewrite("localities.csv", localities)
    rewrite(
        "mipex_l_answers.csv",
        lambda rows: [r for r in rows if not (r[0].startswith("DE-") and r[0] not in keep)],
    )
    path = tmp_path / "town.yml"
    path.write_text(q_text({2024: all_answers(cat, "b")}, country="DE"), encoding="utf-8")
    out = tmp_path / "r.html"
    assert cli.main(["assess", str(path), "--out", str(out), "--data", str(target)]) == 0
    assert "WHOLECOMM_DATA" not in os.environ  # restored after the command
    err = capsys.readouterr().err
    assert "warning: Same country (Germany): only 2 peers (fewer than 3)" in err
    report = out.read_text(encoding="utf-8")
    assert "Same country (Germany): 2 peers" in report and "Fewer than 3 peers" in report
    assert "Data supplied by the user" in report
    assert "The peers in this report are synthetic" not in report


# ------------------------------------------------------- gaps and priorities
@pytest.fixture(scope="module")
def example() -> toolbox.Assessment:
    return toolbox.assess(toolbox.read_questionnaire(toolbox.example_questionnaire()))


def test_reference_gap_is_the_mean_of_the_group_gaps(example):
    g = example.gaps
    for r in g.itertuples(index=False):
        b = example.benchmarks[example.benchmarks["unit"] == r.unit].set_index("group")
        assert r.reference_gap == pytest.approx((b["own"] - b["median"]).mean())
    assert g["reference_gap"].is_monotonic_increasing  # largest shortfall first


def test_priorities_follow_the_documented_rule(example, cat):
    p = example.priorities
    assert len(p) > 0 and p["rank"].tolist() == list(range(1, len(p) + 1))
    gap = example.gaps.set_index("unit")["reference_gap"]
    peers = sorted(set(example.peers["locality_id"]))
    peer_ind = index.from_package().indicator_scores.loc[peers]
    opts = cat.options
    for r in p.itertuples(index=False):
        assert r.priority == pytest.approx(max(0.0, -gap[r.area]) * r.points_gained / 100)
        assert r.score < peer_ind[r.indicator_id].max()  # below the best peer
        higher = opts[(opts["indicator_id"] == r.indicator_id) & (opts["score"] > r.score)].sort_values(
            "score"
        )
        assert r.next_code == higher.iloc[0]["answer_code"] and r.next_text == higher.iloc[0]["answer_text"]
        assert r.points_gained == higher.iloc[0]["score"] - r.score
        at100 = sorted(peer_ind.index[peer_ind[r.indicator_id] == 100])
        assert r.peers_100 == ", ".join(at100) and r.n_peers_100 == len(at100)
    keys = list(zip(-p["priority"], -p["points_gained"], -p["n_peers_100"], p["indicator_id"], strict=False))
    assert keys == sorted(keys)
    # Unanswered indicators are never priorities (their level is unknown).
    ans = example.questionnaire.answers
    unanswered = ans.loc[(ans["year"] == example.latest_year) & ans["answer_code"].isna(), "indicator_id"]
    assert not p["indicator_id"].isin(unanswered).any()


def test_monitoring_change_worked_by_hand(cat):
    q = toolbox.parse_questionnaire(
        q_text(
            {
                2021: by_prefix(cat, {"GOV": "cccccc"}),
                2023: by_prefix(cat, {"GOV": "bbbbbb"}),
                2025: by_prefix(cat, {"GOV": "aaaccc"}),
            }
        )
    )
    a = toolbox.assess(q)
    ch = a.changes.set_index("unit")
    assert ch.loc["governance_capacity", ["2021", "2023", "2025"]].tolist() == [0, 50, 50]
    assert ch.loc["governance_capacity", "change"] == 50
    assert ch.loc["housing", "change"] == 0
    assert ch.loc["overall", "change"] == pytest.approx(50 / 9)
    assert a.latest_year == 2025 and a.summary()["n_areas_improved"] == 1
    single = toolbox.assess(toolbox.parse_questionnaire(q_text({2024: all_answers(cat)})))
    assert single.changes.empty
    assert "The questionnaire has one assessment year" in toolbox.render_report(single)


def test_example_is_fictional_with_two_years_and_a_few_missing_answers(example):
    q = example.questionnaire
    assert "fictional" in q.name.lower() and len(q.years) == 2
    assert 1 <= q.answers["answer_code"].isna().sum() <= 5
    assert example.scores["scored"].all()
    assert example.changes["change"].abs().max() > 0


# ------------------------------------------------------------------ the report
class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_user_text_is_escaped(cat):
    name = '<script>alert(1)</script> & "Quotes"'
    q = toolbox.parse_questionnaire(q_text({2024: all_answers(cat, "b")}, name=name))
    report = toolbox.render_report(toolbox.assess(q))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    assert "<script" not in report.lower()
    parser = _Tags()
    parser.feed(report)
    assert "script" not in {t for t, _ in parser.tags}
    alts = [attrs["alt"] for tag, attrs in parser.tags if tag == "img"]
    assert alts and all(name in alt for alt in alts[:1])  # the attribute carries the text, escaped


def test_report_is_self_contained(example):
    report = toolbox.render_report(example)
    for needle in ("http://", "https://", 'src="/', "<link", "<script", "@import", "url("):
        assert needle not in report, needle
    parser = _Tags()
    parser.feed(report)
    imgs = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert len(imgs) == 2  # benchmarks and monitoring
    for attrs in imgs:
        assert attrs["src"].startswith("data:image/svg+xml;base64,")
        assert attrs.get("alt", "").strip()
    assert "The peers in this report are synthetic" in report
    assert data.provenance_notice(list(toolbox.RESOURCES)).split("**")[1] in report
    # No local folder leaks into a report that may be shared.
    assert str(toolbox.example_questionnaire().parent) not in report


def test_report_is_deterministic_and_lists_the_top_priorities(example):
    first, second = toolbox.render_report(example, top=3), toolbox.render_report(example, top=3)
    assert first == second
    assert "Showing 3 of" in first
    for ind in example.priorities["indicator_id"].head(3):
        assert f"<strong>{ind}</strong>" in first
    with pytest.raises(ValueError):
        toolbox.render_report(example, top=0)


def test_report_is_the_same_with_and_without_the_compiled_template_cache(tmp_path, monkeypatch, cat):
    from wholecomm.toolbox import report

    a = toolbox.assess(toolbox.read_questionnaire(toolbox.example_questionnaire()))
    monkeypatch.setenv("WHOLECOMM_DATA_CACHE", "off")
    report._environment.cache_clear()
    uncached = toolbox.render_report(a)
    cache = tmp_path / "cache"
    monkeypatch.setenv("WHOLECOMM_DATA_CACHE", str(cache))
    try:
        report._environment.cache_clear()
        assert toolbox.render_report(a) == uncached  # compiles and stores the template
        stored = list((cache / "templates").glob("report-*.cache"))
        assert len(stored) == 1
        report._environment.cache_clear()
        assert toolbox.render_report(a) == uncached  # a new environment reads the stored template
        # A cache folder that cannot be used (here a file stands where it should be) only costs time.
        blocked = tmp_path / "blocked"
        blocked.write_text("not a folder", encoding="utf-8")
        monkeypatch.setenv("WHOLECOMM_DATA_CACHE", str(blocked))
        report._environment.cache_clear()
        assert toolbox.render_report(a) == uncached
    finally:
        report._environment.cache_clear()


def test_a_catalogue_passed_on_is_the_one_used(cat):
    path = toolbox.example_questionnaire()
    q = toolbox.read_questionnaire(path, cat=cat)
    assert q.answers.equals(toolbox.read_questionnaire(path).answers)
    peers = toolbox.peer_data(cat)
    assert peers.catalogue is cat
    a, b = toolbox.assess(q, peers=peers), toolbox.assess(q)
    for name in ("scores", "benchmarks", "gaps", "priorities", "changes"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    # A catalogue that does not match the questionnaire is refused, not silently used.
    other = toolbox.Catalogue(cat.indicators.iloc[1:].reset_index(drop=True), cat.options, cat.allowed)
    with pytest.raises(ValueError, match="differ from the catalogue"):
        toolbox.assess(q, peers=toolbox.PeerData(**{**peers.__dict__, "catalogue": other}))
