"""The build fails loudly on a failing cell, and a rebuild with nothing changed executes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = [sys.executable, str(ROOT / "tools" / "build_book.py")]
sys.path.insert(0, str(ROOT / "tools"))
from bench import copy_book  # noqa: E402  (the benchmark's copy of the book, without build output)


def _copy_book(target: Path) -> None:
    copy_book(target)
    # Reuse the execution cache so only the changed notebook runs.
    cache = ROOT / "_build" / ".jupyter_cache"
    if cache.exists():
        shutil.copytree(cache, target / "_build" / ".jupyter_cache")
        shutil.copy2(ROOT / "_build" / ".wholecomm-fingerprint", target / "_build" / ".wholecomm-fingerprint")


@pytest.mark.slow
def test_a_failing_cell_fails_the_build_and_names_the_notebook(tmp_path, built_html):
    book = tmp_path / "book"
    book.mkdir()
    _copy_book(book)
    victim = book / "notebooks" / "data-overview.md"
    victim.write_text(
        victim.read_text() + "\n```{code-cell} ipython3\nraise ZeroDivisionError('planted failure')\n```\n"
    )
    proc = subprocess.run([*BUILD, "--root", str(book)], capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert "BUILD FAILED" in out
    assert "problem in: notebooks/data-overview.md" in out
    assert "planted failure" in out  # the traceback reaches the console
    summary = json.loads((book / "_build" / "build-summary.json").read_text())
    assert [Path(p).name for p in summary["executed"]] == ["data-overview.md"]


@pytest.mark.slow
def test_a_rebuild_with_nothing_changed_executes_no_notebook(built_html):
    proc = subprocess.run(BUILD, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    summary = json.loads((ROOT / "_build" / "build-summary.json").read_text())
    assert summary["exit_code"] == 0 and summary["n_executed"] == 0, summary


def test_cache_fingerprint_changes_with_library_and_data(tmp_path):
    from build_book import fingerprint

    book = tmp_path / "fp"
    for part in ("src", "data"):
        shutil.copytree(ROOT / part, book / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "requirements.lock", book / "requirements.lock")
    before = fingerprint(book)
    assert fingerprint(book) == before
    (book / "src" / "wholecomm" / "overview.py").write_text("# changed\n", encoding="utf-8")
    after_code = fingerprint(book)
    assert after_code != before
    (book / "data" / "localities.csv").write_text("changed\n", encoding="utf-8")
    assert fingerprint(book) != after_code


def _bad_survey(folder: Path) -> None:
    path = folder / "survey.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[6] = lines[6].replace(",female,", ",femme,", 1).replace(",male,", ",femme,", 1)
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize("whose", ["user", "twin"])
def test_bad_data_stop_the_build_before_any_notebook_with_one_readable_block(tmp_path, whose):
    import os

    book = tmp_path / "book"
    book.mkdir()
    copy_book(book)
    env = dict(os.environ)
    env.pop("WHOLECOMM_DATA", None)
    if whose == "user":
        user = tmp_path / "user"
        user.mkdir()
        for csv in (ROOT / "data").glob("*.csv"):
            shutil.copy(csv, user / csv.name)
        _bad_survey(user)
        env["WHOLECOMM_DATA"] = str(user)
    else:
        _bad_survey(book / "data")
    proc = subprocess.run([*BUILD, "--root", str(book)], capture_output=True, text=True, timeout=300, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Executing notebook" not in out and "jupyter-book build" not in out
    block = out[out.index("BUILD STOPPED") :]
    assert "survey.csv" in block and "'gender'" in block and "line 7 " in block and "must be one of" in block
    assert "Traceback" not in out
    log = book / "_build" / "build-failed.log"
    assert f"Full log: {log}" in block and "survey.csv" in log.read_text(encoding="utf-8")
    if whose == "user":
        assert "data supplied by the user" in block and "make data" not in block
    else:
        assert "synthetic twin" in block and "`make data`" in block


def test_a_page_taken_from_the_notebook_cache_keeps_its_outputs_in_the_executed_copy(tmp_path):
    """myst-nb writes the executed copy of a page it takes from jupyter-cache without outputs;
    the book's extension merges them back from the cache (and leaves a copy with outputs,
    or one the cache does not hold, as it is)."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from html_fixes import merge_cached_outputs

    run = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# A page"), nbformat.v4.new_code_cell("print(6 * 7)")]
    )
    run.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    run.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    cache = get_cache(tmp_path / "cache")
    cache.cache_notebook_bundle(CacheBundleIn(run, "page.ipynb"), check_validity=False)

    written = nbformat.from_dict(json.loads(nbformat.writes(run)))
    written.cells[1].outputs = []
    executed = tmp_path / "page.ipynb"
    nbformat.write(written, executed)
    assert merge_cached_outputs(executed, tmp_path / "cache")
    assert nbformat.read(executed, as_version=4).cells[1].outputs[0]["text"] == "42\n"
    assert not merge_cached_outputs(executed, tmp_path / "cache")  # it has outputs now

    other = nbformat.from_dict(json.loads(nbformat.writes(written)))
    other.cells[1].source = "print(6 * 9)"
    nbformat.write(other, executed)
    assert not merge_cached_outputs(executed, tmp_path / "cache")  # not in the cache
    assert nbformat.read(executed, as_version=4).cells[1].outputs == []
