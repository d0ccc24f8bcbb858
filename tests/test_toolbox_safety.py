"""Safety of the `wholecomm` command with hostile or careless input: the report never
replaces the questionnaire (also through symbolic and hard links), an existing file is
replaced only with --force, every invalid input exits 2 with a clear message, user text
is never mathematics in a figure, control characters never reach the terminal, size
limits hold, and no local folder appears in the report."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from wholecomm import cli, toolbox

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("book_data")


def q_text(cat, name="Testville (fictional)", code="b", name_raw: str | None = None) -> str:
    shown = name_raw if name_raw is not None else json.dumps(name)
    lines = [
        "locality:",
        f"  name: {shown}",
        "  country: DE",
        "  size_class: small_town",
        "  locality_type: thriving_new",
        "assessments:",
        "  - year: 2024",
        "    answers:",
    ]
    lines += [f"      {ind}: {code}" for ind in cat.ids]
    return "\n".join(lines) + "\n"


@pytest.fixture()
def town(tmp_path, cat) -> Path:
    path = tmp_path / "town.yml"
    path.write_text(q_text(cat), encoding="utf-8")
    return path


def run(args, capsys) -> tuple[int, str]:
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


# ------------------------------------------------------------- never over the input
def test_report_never_replaces_the_questionnaire(town, capsys):
    before = town.read_bytes()
    for extra in ([], ["--force"]):
        code, err = run(["assess", town, "--out", town, *extra], capsys)
        assert code == 2 and "is the questionnaire itself" in err
        assert town.read_bytes() == before


def test_report_never_replaces_the_questionnaire_through_links(town, tmp_path, capsys):
    before = town.read_bytes()
    sym = tmp_path / "alias.yml"
    sym.symlink_to(town)
    hard = tmp_path / "hard.yml"
    os.link(town, hard)
    sub = tmp_path / "sub"
    sub.mkdir()
    dotted = sub / ".." / "town.yml"
    for questionnaire, out in ((town, sym), (sym, town), (town, hard), (hard, town), (town, dotted)):
        code, err = run(["assess", questionnaire, "--out", out, "--force"], capsys)
        assert code == 2, (questionnaire, out, err)
        assert "is the questionnaire itself" in err
        assert town.read_bytes() == before


def test_existing_report_is_replaced_only_with_force(town, tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_text("keep me", encoding="utf-8")
    code, err = run(["assess", town, "--out", out], capsys)
    assert code == 2 and "exists" in err and "--force" in err
    assert out.read_text(encoding="utf-8") == "keep me"
    # the default name is protected in the same way
    default = tmp_path / "town-report.html"
    default.write_text("keep me too", encoding="utf-8")
    assert run(["assess", town], capsys)[0] == 2
    assert default.read_text(encoding="utf-8") == "keep me too"
    assert run(["assess", town, "--out", out, "--force"], capsys)[0] == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # no temporary file is left behind
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_link_at_the_output_is_replaced_not_followed(town, tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("precious", encoding="utf-8")
    link = tmp_path / "report.html"
    link.symlink_to(target)
    assert run(["assess", town, "--out", link], capsys)[0] == 2
    assert run(["assess", town, "--out", link, "--force"], capsys)[0] == 0
    assert target.read_text(encoding="utf-8") == "precious"
    assert not link.is_symlink() and link.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_output_into_a_missing_folder_or_onto_a_folder_exits_2(town, tmp_path, capsys):
    for out in (tmp_path / "no" / "r.html", tmp_path):
        code, err = run(["assess", town, "--out", out, "--force"], capsys)
        assert code == 2 and err.count("\n") == 1, err


# ------------------------------------------------------------- invalid input: exit 2
def one_problem_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, err
    assert "Traceback" not in err and "internal error" not in err
    return lines[0]


@pytest.mark.parametrize(
    "make",
    [
        "empty",  # a folder with none of the files
        "bad_csv",  # a localities.csv that is not a table of the package
        "bad_json",  # a datapackage.json that is not JSON
        "wrong_json",  # a datapackage.json that is JSON but not a data package
        "not_utf8",  # a CSV in another encoding
    ],
)
def test_bad_data_folder_exits_2_with_one_line(make, town, tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    if make == "bad_csv":
        (folder / "localities.csv").write_text("x;y\n1;2\n", encoding="utf-8")
    elif make == "bad_json":
        shutil.copytree(ROOT / "data", folder, dirs_exist_ok=True)
        (folder / "datapackage.json").write_text("{not json", encoding="utf-8")
    elif make == "wrong_json":
        (folder / "datapackage.json").write_text('{"resources": 7}', encoding="utf-8")
    elif make == "not_utf8":
        shutil.copytree(ROOT / "data", folder, dirs_exist_ok=True)
        (folder / "datapackage.json").unlink()
        raw = (folder / "localities.csv").read_bytes()
        (folder / "localities.csv").write_bytes(raw.replace(b"\n", "\xe9\n".encode("latin-1"), 1))
    out = tmp_path / "r.html"
    code, err = run(["assess", town, "--data", folder, "--out", out], capsys)
    assert code == 2, err
    line = one_problem_line(err)
    assert line.startswith(f"wholecomm: --data {folder} cannot be used"), line
    assert not out.exists()
    code, err = run(["questionnaire", "--data", folder], capsys)
    assert code == 2 and one_problem_line(err).startswith("wholecomm: --data")


@pytest.mark.parametrize(
    "text",
    [
        "locality: " + "[" * 5000 + "]" * 5000 + "\n",
        "locality: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
        "".join(" " * (2 * k) + f"k{k}:\n" for k in range(400)),
    ],
)
def test_deeply_nested_yaml_exits_2(text, tmp_path, capsys):
    path = tmp_path / "deep.yml"
    path.write_text(text, encoding="utf-8")
    code, err = run(["assess", path, "--out", tmp_path / "r.html"], capsys)
    assert code == 2, err
    assert "nested" in err and "Traceback" not in err and "internal error" not in err


def test_size_limits_have_clear_messages(cat, tmp_path, capsys):
    big = tmp_path / "big.yml"
    big.write_text(q_text(cat) + "#" * (toolbox.MAX_FILE_BYTES + 1) + "\n", encoding="utf-8")
    code, err = run(["assess", big], capsys)
    assert code == 2 and "too large" in err and f"{toolbox.MAX_FILE_BYTES:,}" in err

    long_name = tmp_path / "long.yml"
    long_name.write_text(q_text(cat, name="N" * 1_000_000)[:1_500_000], encoding="utf-8")
    code, err = run(["assess", long_name], capsys)
    assert code == 2 and "too long" in err and f"at most {toolbox.MAX_TEXT_CHARS}" in err
    assert len(err) < 1000  # the value is not echoed back
    assert not (tmp_path / "long-report.html").exists()

    years = "\n".join(
        f"  - year: {2000 + k}\n    answers:\n      GOV01: a" for k in range(toolbox.MAX_YEARS + 1)
    )
    many = tmp_path / "many.yml"
    many.write_text(q_text(cat).split("assessments:")[0] + "assessments:\n" + years + "\n", encoding="utf-8")
    code, err = run(["assess", many], capsys)
    assert code == 2 and f"at most {toolbox.MAX_YEARS}" in err


def test_long_unknown_values_are_shortened_in_messages(cat):
    text = q_text(cat).replace("country: DE", "country: " + "X" * 150)
    with pytest.raises(toolbox.QuestionnaireError) as exc:
        toolbox.parse_questionnaire(text, "q.yml")
    (line,) = [m for _, m in exc.value.problems if "country" in m]
    assert "X" * 39 + "…" in line and "X" * 41 not in line


def test_the_name_limit_is_enough_for_real_names(cat):
    q = toolbox.parse_questionnaire(q_text(cat, name="A" * toolbox.MAX_TEXT_CHARS))
    assert q.name == "A" * toolbox.MAX_TEXT_CHARS


# ---------------------------------------------------------- figures and terminal
def test_dollar_signs_in_the_name_are_text_not_mathematics(cat, tmp_path, capsys):
    name = r"Bad $\foo{$ town and $x^2$"
    path = tmp_path / "math.yml"
    path.write_text(q_text(cat, name=name), encoding="utf-8")
    code, err = run(["assess", path, "--out", tmp_path / "r.html"], capsys)
    assert code == 0, err
    # The legend shows the name exactly as written.
    from matplotlib.figure import Figure

    q = toolbox.parse_questionnaire(q_text(cat, name=name))
    a = toolbox.assess(q)
    fig = Figure()
    ax = toolbox.plot_benchmarks(a, ax=fig.subplots())
    import io

    fig.savefig(io.BytesIO(), format="png")  # renders without a mathtext error
    shown = [t._preprocess_math(t.get_text()) for t in ax.get_legend().get_texts()]
    assert (f"{name} (2024)", False) in shown, shown


def test_control_characters_never_reach_the_terminal(cat, tmp_path, capsys):
    path = tmp_path / "esc.yml"
    path.write_text(q_text(cat, name_raw='"Clear\\e[2J\\e]0;title\\x07 town\\u202e"'), encoding="utf-8")
    code, err = run(["assess", path, "--out", tmp_path / "r.html"], capsys)
    assert code == 0
    assert "Clear[2J]0;title town" in err
    assert not any(
        ord(ch) < 32 and ch not in "\n\t" or 0x7F <= ord(ch) <= 0x9F or ch == "\u202e" for ch in err
    )
    # also in error messages quoting the user's text
    bad = tmp_path / "bad.yml"
    bad.write_text(q_text(cat).replace("GOV01: b", 'GOV01: "\\e[31mz"'), encoding="utf-8")
    code, err = run(["assess", bad], capsys)
    assert code == 2 and "\x1b" not in err and "[31mz" in err


def test_library_warnings_do_not_reach_the_user(cat, tmp_path, capsys):
    import warnings

    path = tmp_path / "t.yml"
    path.write_text(q_text(cat), encoding="utf-8")
    original = toolbox.render_report

    def noisy(*args, **kwargs):
        warnings.warn("internal detail in /some/site-packages/module.py", UserWarning, stacklevel=2)
        return original(*args, **kwargs)

    pytest.MonkeyPatch.setattr(pytest.MonkeyPatch(), toolbox, "render_report", noisy)
    try:
        code, err = run(["assess", path, "--out", tmp_path / "r.html"], capsys)
    finally:
        toolbox.render_report = original
    assert code == 0 and "site-packages" not in err


# ---------------------------------------------------------------- the report
def test_no_local_folder_in_the_report_even_with_user_data(cat, town, tmp_path, capsys):
    folder = tmp_path / "my-data-folder"
    shutil.copytree(ROOT / "data", folder)
    (folder / "datapackage.json").unlink()
    out = tmp_path / "r.html"
    code, err = run(["assess", town, "--data", folder, "--out", out], capsys)
    assert code == 0, err
    report = out.read_text(encoding="utf-8")
    assert "data supplied by the user" in report.lower()
    assert str(tmp_path) not in report and str(folder) not in report
    assert "my-data-folder" in report


# ------------------------------------------------------- only what it needs, lazily
def test_assess_validates_only_the_resources_it_uses(town, tmp_path, capsys):
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    (folder / "datapackage.json").unlink()
    # a broken survey (never used by the toolbox) does not stop the assessment ...
    (folder / "survey.csv").write_text("not;the;survey\n1;2;3\n", encoding="utf-8")
    code, err = run(["assess", town, "--data", folder, "--out", tmp_path / "r.html"], capsys)
    assert code == 0, err
    # ... a broken answers file does, in one line naming the file
    answers = (folder / "mipex_l_answers.csv").read_text(encoding="utf-8").splitlines()
    answers[1] = answers[1].rsplit(",", 1)[0] + ",z"
    (folder / "mipex_l_answers.csv").write_text("\n".join(answers) + "\n", encoding="utf-8")
    code, err = run(["assess", town, "--data", folder, "--out", tmp_path / "r2.html"], capsys)
    assert code == 2 and one_problem_line(err).startswith(
        f"wholecomm: --data {folder} cannot be used: mipex_l_answers.csv"
    )


def test_assess_loads_no_plotting_or_statistics_library(town, tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from wholecomm import cli; "
        f"rc = cli.main(['assess', {str(town)!r}, '--out', {str(tmp_path / 'r.html')!r}, '--quiet']); "
        "print(rc, sorted(m for m in ('matplotlib', 'seaborn', 'scipy', 'scipy.stats') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "WHOLECOMM_DATA"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert out.stdout.split() == ["0", "[]"], out.stdout + out.stderr


def test_both_yaml_parsers_give_the_same_questionnaire_and_the_same_messages(monkeypatch):
    """libyaml (used when installed, for speed) and PyYAML's own parser read a questionnaire
    into the same result, and a broken file is reported the same whichever is installed."""
    import yaml

    text = toolbox.example_questionnaire().read_text(encoding="utf-8")
    broken = text.replace("  - year: 2024", "  - year: 2024\n   answers: [a, b", 1)
    fast = toolbox.parse_questionnaire(text, "q.yml")
    with pytest.raises(toolbox.QuestionnaireError) as with_libyaml:
        toolbox.parse_questionnaire(broken, "q.yml")
    monkeypatch.delattr(yaml, "CSafeLoader")
    slow = toolbox.parse_questionnaire(text, "q.yml")
    with pytest.raises(toolbox.QuestionnaireError) as without:
        toolbox.parse_questionnaire(broken, "q.yml")
    assert fast.locality == slow.locality and fast.years == slow.years
    pd.testing.assert_frame_equal(fast.answers, slow.answers)
    assert str(with_libyaml.value) == str(without.value) and "line" in str(without.value)
