"""Habits of the code base, checked on every `make test`.

* ruff (lint with McCabe complexity at most 15, and the formatter) and mypy pass on the
  library and the tools (configuration in pyproject.toml; `make lint` runs the same);
* code is one click away on every page that runs code (the chapters, the summary of
  results and the build status): every code cell is ``hide-input``, none is removed, and
  every table or figure is followed by the line "Computed by {py:func}`...`" naming the
  library function its cell calls, which exists where the line says;
* the chapter template (notebooks/templates/chapter.md) runs and follows the same rules;
* the issue forms and the pre-commit configuration are valid.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbclient
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "tools"))
from format_notebooks import notebook_files  # noqa: E402

PAGES = notebook_files(ROOT)
TEMPLATE = ROOT / "notebooks" / "templates" / "chapter.md"
COMPUTED_BY = re.compile(r"^Computed by \{py:func\}`~?(wholecomm(?:\.\w+)+)`")


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


# ------------------------------------------------------------------- code checks
def test_ruff_finds_nothing_including_complexity_over_15():
    proc = _run(
        [str(BIN / "ruff"), "check", "--output-format", "concise", "src", "tools", "tests", "book/_ext"]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_formatter_has_nothing_to_change():
    proc = _run([str(BIN / "ruff"), "format", "--check", "src", "tools", "tests", "book/_ext"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_finds_no_type_error_in_the_library_and_tools():
    proc = _run([str(BIN / "python"), "-m", "mypy"])
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr


def test_complexity_limit_is_the_one_promised():
    config = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"\[tool\.ruff\.lint\.mccabe\]\s*max-complexity\s*=\s*15\b", config)
    assert '"C90"' in config


# ------------------------------------------------------------- code on the page
def _cells(path: Path) -> list[dict]:
    return jupytext.read(path).cells


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


@pytest.mark.parametrize("path", [*PAGES, TEMPLATE], ids=lambda p: p.stem)
def test_no_code_is_hidden_for_good(path):
    code = [c for c in _cells(path) if c.cell_type == "code"]
    assert code, f"{path.name} runs no code"
    removed = [i for i, c in enumerate(code) if {"remove-input", "remove-cell"} & set(_tags(c))]
    assert not removed, (
        f"{path.name}: code cells {removed} are removed; use hide-input (one click shows them)"
    )
    shown = [i for i, c in enumerate(code) if "hide-input" not in _tags(c)]
    assert not shown, f"{path.name}: code cells {shown} are not hide-input"


def _display_cells(executed: dict) -> list[int]:
    """Indexes of the code cells whose output is a table (HTML table) or a figure."""
    shown = []
    for i, cell in enumerate(executed["cells"]):
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if any(k.startswith("image/") for k in data) or "<table" in "".join(data.get("text/html", "")):
                shown.append(i)
                break
    return shown


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    obj = importlib.import_module(module)
    return getattr(obj, name)


def _calls(source: str, func: str, earlier: list[dict]) -> bool:
    """The cell calls ``func``, or shows a variable an earlier cell of the page set from a
    call of ``func`` (two hops: the cell, the variable, the function)."""
    if re.search(rf"\b{re.escape(func)}\(", source):
        return True
    for cell in earlier:
        if cell["cell_type"] != "code":
            continue
        for m in re.finditer(
            rf"^([\w, ]+?)\s*=\s*[\w.]*\b{re.escape(func)}\(", "".join(cell["source"]), re.M
        ):
            names = [n.strip() for n in m.group(1).split(",") if n.strip()]
            if any(re.search(rf"\b{re.escape(n)}\b", source) for n in names):
                return True
    return False


def _check_computed_by(cells: list[dict], name: str) -> list[str]:
    problems = []
    for i in _display_cells({"cells": cells}):
        source = "".join(cells[i]["source"])
        following = cells[i + 1] if i + 1 < len(cells) else None
        text = (
            "".join(following["source"]).lstrip()
            if following and following["cell_type"] == "markdown"
            else ""
        )
        m = COMPUTED_BY.match(text)
        if not m:
            problems.append(
                f"{name}: the cell shown by `{source.strip()[:60]}...` is not followed by 'Computed by {{py:func}}`...`'"
            )
            continue
        dotted = m.group(1)
        try:
            func = _resolve(dotted)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{name}: {dotted} does not exist ({exc})")
            continue
        if getattr(func, "__module__", None) != dotted.rpartition(".")[0]:
            problems.append(
                f"{name}: {dotted} is defined in {func.__module__}; name it there (the reference documents it there)"
            )
        if not _calls(source, dotted.rsplit(".", 1)[1], cells[:i]):
            problems.append(f"{name}: the cell above 'Computed by {dotted}' does not call it")
    return problems


@pytest.mark.book
@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_every_table_and_figure_names_the_function_that_computes_it(path, built_html):
    executed = ROOT / "_build" / "jupyter_execute" / path.parent.name / f"{path.stem}.ipynb"
    assert executed.is_file(), f"the build kept no executed copy of {path.name}"
    nb = json.loads(executed.read_text(encoding="utf-8"))
    assert _display_cells(nb), f"{path.name} shows no table or figure"
    assert not _check_computed_by(nb["cells"], path.name)


def test_the_chapter_template_runs_and_follows_the_rules(tmp_path, monkeypatch):
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))
    nb = jupytext.read(TEMPLATE)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(TEMPLATE.parent)}}
    ).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    cells = [dict(c, source=c.source) for c in nb.cells]
    assert _display_cells({"cells": cells}), "the template shows no table"
    assert not _check_computed_by(cells, TEMPLATE.name)
    recorded = json.loads((tmp_path / "chapter-template.json").read_text())
    assert recorded["page"] == "chapter-template"


def test_the_convention_check_catches_a_missing_or_wrong_line():
    table = {
        "cell_type": "code",
        "source": "page.table('x', overview.sample_sizes(), 'c')",
        "outputs": [{"data": {"text/html": "<table></table>"}}],
    }
    right = {"cell_type": "markdown", "source": "Computed by {py:func}`wholecomm.overview.sample_sizes`."}
    assert _check_computed_by([table, right], "t") == []
    assert _check_computed_by([table], "t")  # no line at all
    wrong = dict(right, source="Computed by {py:func}`wholecomm.overview.not_there`.")
    assert _check_computed_by([table, wrong], "t")
    other = dict(right, source="Computed by {py:func}`wholecomm.overview.not_assessed`.")
    assert _check_computed_by([table, other], "t")  # names a function the cell does not call
    # Two hops: the cell shows a variable an earlier cell set from the function.
    setter = {"cell_type": "code", "source": "sizes = overview.sample_sizes()", "outputs": []}
    shows = dict(table, source="page.table('x', sizes, 'c')")
    assert _check_computed_by([setter, shows, right], "t") == []
    unrelated = dict(setter, source="other = overview.sample_sizes()")
    assert _check_computed_by([unrelated, shows, right], "t")


# ------------------------------------------------------------ contributor files
@pytest.mark.parametrize(
    "path", sorted((ROOT / ".github" / "ISSUE_TEMPLATE").glob("*.yml")), ids=lambda p: p.name
)
def test_issue_forms_are_valid(path):
    schema = "vendor.github-issue-config" if path.name == "config.yml" else "vendor.github-issue-forms"
    proc = _run([str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(path)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_issue_forms_cover_bugs_numbers_and_data():
    names = {
        yaml.safe_load(p.read_text())["name"]
        for p in (ROOT / ".github" / "ISSUE_TEMPLATE").glob("*.yml")
        if p.name != "config.yml"
    }
    assert {"Something does not work", "A number looks wrong", "A question about the data"} <= names


def test_pre_commit_runs_the_same_checks_offline():
    proc = _run([str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert all(repo["repo"] == "local" for repo in config["repos"]), "hooks must not download anything"
    entries = " ".join(h["entry"] for repo in config["repos"] for h in repo["hooks"])
    for check in ("ruff check", "ruff format", "mypy", "format_notebooks.py"):
        assert check in entries


def test_issue_and_edit_buttons_are_on_when_the_repository_is_known(tmp_path, monkeypatch):
    from build_book import resolved_config

    monkeypatch.setenv("GITHUB_REPOSITORY", "example/wholecomm")
    for name in ("_config.yml", "_toc.yml"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    target, url, _ = resolved_config(tmp_path)
    html = yaml.safe_load(target.read_text())["html"]
    assert url == "https://github.com/example/wholecomm"
    assert html["use_issues_button"] and html["use_edit_page_button"] and html["use_repository_button"]
