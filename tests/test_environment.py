"""The lock, the Binder environment and the book configuration agree with each other."""

from __future__ import annotations

import re
import sys
from importlib.metadata import version
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from sync_environment import locked_pins, render  # noqa: E402


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_environment_yml_pins_exactly_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert pip_section == locked_pins(), "environment.yml is out of date: run `make lock`"
    assert (ROOT / "environment.yml").read_text() == render(locked_pins())
    assert "python=3.11" in env["dependencies"]


def test_lock_covers_every_direct_requirement_and_pins_jupyter_book_1():
    pinned = {_norm(p.split("==")[0]): p.split("==")[1] for p in locked_pins()}
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = _norm(re.split(r"[<>=!~ ]", line)[0])
            assert name in pinned, f"{name} from requirements.in is not in requirements.lock"
    major, minor, patch = (int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)", pinned["jupyter-book"]).groups())
    assert major == 1 and (minor, patch) >= (0, 4)
    assert "jupytext" in pinned  # Binder opens the .md notebooks as notebooks


def test_installed_packages_are_the_locked_versions():
    mismatched = []
    for pin in locked_pins():
        name, wanted = pin.split("==")
        if version(name) != wanted:
            mismatched.append(f"{name}: installed {version(name)}, locked {wanted}")
    assert not mismatched, mismatched


def test_book_config_fails_loudly_and_stays_offline():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    ex = cfg["execute"]
    assert ex["execute_notebooks"] == "cache"
    assert ex["raise_on_error"] is True and ex["allow_errors"] is False and ex["show_tb"] is True
    assert ex["timeout"] >= 300
    assert cfg["sphinx"]["config"]["intersphinx_mapping"] == {}
    assert cfg["launch_buttons"]["notebook_interface"] == "jupyterlab"
    text = (ROOT / "_config.yml").read_text()
    assert text.count(cfg["repository"]["url"]) == 1, "the repository URL must live in one place"


def test_binder_installs_the_package_and_opens_md_as_notebooks():
    post = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post
    assert "jupytext-config set-default-viewer" in post


def test_notebooks_are_myst_text_notebooks_that_read_no_files():
    notebooks = sorted((ROOT / "notebooks").glob("*.md"))
    assert notebooks
    forbidden = re.compile(r"read_csv\(|read_parquet\(|open\(|\.\./data|!pip|%pip")
    for nb in notebooks:
        text = nb.read_text()
        head = text.split("---", 2)[1]
        assert "format_name: myst" in head, f"{nb.name} lacks jupytext MyST front matter"
        assert not forbidden.search(text), f"{nb.name} reads files or installs packages itself"
