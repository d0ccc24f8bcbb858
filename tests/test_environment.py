"""The locks, the Binder environment, the JupyterLab front end and the book configuration agree
with each other."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import nodesemver as semver
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from build_book import repository_url, resolved_config  # noqa: E402
from lock import RUNTIME_GROUP, groups  # noqa: E402
from sync_environment import FULL_LOCK, RUNTIME_LOCK, locked_pins, render  # noqa: E402

VIA = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)\s*(?:#\s*via\s*(.*))?$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_environment_yml_pins_exactly_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert pip_section == locked_pins(), "environment.yml is out of date: run `make lock`"
    assert (ROOT / "environment.yml").read_text() == render(locked_pins())
    assert "python=3.11" in env["dependencies"]


def _requirement_name(line: str) -> str:
    return _norm(re.split(r"[<>=!~ \[]", line)[0])


def _lock_entries(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """``{name: (version, [via ...])}`` of a lock written by tools/lock.py."""
    out = {}
    for line in lock.read_text().splitlines():
        if m := VIA.match(line.strip()):
            out[_norm(m.group(1))] = (
                m.group(2),
                [v.strip() for v in (m.group(3) or "").split(",") if v.strip()],
            )
    return out


def test_locks_cover_every_direct_requirement_and_pin_jupyter_book_1():
    full, runtime = _lock_entries(FULL_LOCK), _lock_entries(RUNTIME_LOCK)
    sections = groups()
    for group, lines in sections.items():
        for line in lines:
            assert _requirement_name(line) in full, (
                f"{line} ({group}) is not in requirements.lock: run `make lock`"
            )
    for line in sections[RUNTIME_GROUP]:
        assert _requirement_name(line) in runtime, (
            f"{line} is not in requirements-runtime.lock: run `make lock`"
        )
    major, minor, patch = (int(x) for x in re.match(r"(\d+)\.(\d+)\.(\d+)", full["jupyter-book"][0]).groups())
    assert major == 1 and (minor, patch) >= (0, 4)
    for front_end in ("jupytext", "jupyterlab", "notebook", "ipykernel"):
        assert front_end in runtime, f"Binder needs {front_end}"


def test_runtime_lock_is_the_runtime_group_of_the_full_lock():
    """One source of versions: the runtime lock pins exactly the full lock's versions, holds every
    package the runtime group needs and none that only the other groups need."""
    full, runtime = _lock_entries(FULL_LOCK), _lock_entries(RUNTIME_LOCK)
    differing = {
        n: (full.get(n, ("missing",))[0], v) for n, (v, _) in runtime.items() if full.get(n, (None,))[0] != v
    }
    assert not differing, f"runtime lock versions differ from requirements.lock (full, runtime): {differing}"
    runtime_direct = {_requirement_name(line) for line in groups()[RUNTIME_GROUP]}
    # Closure: every package of the full lock is in the runtime lock exactly when the runtime
    # group or a runtime package requires it (the full lock's `via` annotations say who does).
    needed = set(runtime_direct)
    changed = True
    while changed:
        changed = False
        for name, (_, via) in full.items():
            if name not in needed and any(_norm(v) in needed for v in via if not v.startswith("-")):
                needed.add(name)
                changed = True
    assert set(runtime) == needed, (
        f"only in the runtime lock: {sorted(set(runtime) - needed)}; "
        f"missing from it: {sorted(needed - set(runtime))}"
    )
    test_only = set(full) - needed
    assert {"pytest", "playwright"} <= test_only, "test tools must stay out of what Binder installs"


def test_make_installs_the_full_lock_and_locks_both_groups():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -r requirements.lock" in makefile
    assert "tools/lock.py" in makefile
    assert "requirements-runtime.lock" in (ROOT / "tools" / "sync_environment.py").read_text()


def test_installed_packages_are_the_locked_versions():
    mismatched = []
    for pin in locked_pins(FULL_LOCK):
        name, wanted = pin.split("==")
        if version(name) != wanted:
            mismatched.append(f"{name}: installed {version(name)}, locked {wanted}")
    assert not mismatched, mismatched


SHARED = re.compile(r'shareKey:"([^"]+)",import:null,requiredVersion:"([^"]+)"')


def _lab_core_versions() -> dict[str, str]:
    static = Path(sys.prefix) / "share" / "jupyter" / "lab" / "static" / "package.json"
    resolutions = json.loads(static.read_text())["resolutions"]
    return {name: re.sub(r"^[~^=]", "", spec) for name, spec in resolutions.items()}


def _extension_requirements(ext_dir: Path) -> dict[str, str]:
    """The packages a prebuilt JupyterLab extension takes from JupyterLab (webpack shared modules
    with no bundled fallback) and the version range it requires of each."""
    found = {}
    for js in (ext_dir / "static").glob("remoteEntry*.js"):
        found.update(SHARED.findall(js.read_text(encoding="utf-8", errors="replace")))
    return found


def test_pinned_jupyterlab_satisfies_the_pinned_extensions():
    """jupytext's extension (and every other installed one) loads in the pinned JupyterLab: each
    package it takes from JupyterLab is there in a version within its required range. An
    extension built for a newer JupyterLab fails to load ("Failed to create module") and
    JupyterLab then opens the .md notebooks as plain text."""
    core = _lab_core_versions()
    labext = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    jupytext_ext = labext / "jupyterlab-jupytext"
    assert (jupytext_ext / "package.json").is_file(), "jupytext's JupyterLab extension is not installed"
    extensions = sorted(p.parent for p in labext.glob("**/package.json") if (p.parent / "static").is_dir())
    assert jupytext_ext in extensions
    problems = []
    for ext in extensions:
        requirements = _extension_requirements(ext)
        if ext == jupytext_ext:
            assert "@jupyterlab/notebook" in requirements  # the parser found its requirements
        for package, wanted in requirements.items():
            have = core.get(package)
            if have is None or not semver.satisfies(have, wanted, loose=True):
                problems.append(f"{ext.relative_to(labext)} needs {package} {wanted}, JupyterLab has {have}")
    assert not problems, problems


def test_the_extension_check_rejects_an_older_jupyterlab():
    """The range check of the test above fails for the JupyterLab Binder's base image had (4.4.9)."""
    requirements = _extension_requirements(
        Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-jupytext"
    )
    wanted = requirements["@jupyterlab/application"]
    assert semver.satisfies(_lab_core_versions()["@jupyterlab/application"], wanted, loose=True)
    assert not semver.satisfies("4.4.9", wanted, loose=True)


def test_book_config_fails_loudly_and_stays_offline():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    ex = cfg["execute"]
    assert ex["execute_notebooks"] == "cache"
    assert ex["raise_on_error"] is True and ex["allow_errors"] is False and ex["show_tb"] is True
    assert ex["timeout"] >= 300
    assert cfg["sphinx"]["config"]["intersphinx_mapping"] == {}
    assert cfg["launch_buttons"]["notebook_interface"] == "jupyterlab"
    text = (ROOT / "_config.yml").read_text()
    url = cfg["repository"]["url"]
    assert url == "" or (url.startswith("https://") and text.count(url) == 1), (
        "the repository URL must live in one place"
    )


def _git_repo(tmp_path: Path, remote: str | None) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", remote], check=True)
    return tmp_path


@pytest.mark.parametrize(
    "remote, expected",
    [
        ("git@github.com:someone/companion.git", "https://github.com/someone/companion"),
        ("https://github.com/someone/companion.git", "https://github.com/someone/companion"),
        ("/srv/git/companion.git", None),
        (None, None),
    ],
)
def test_repository_url_falls_back_from_setting_to_ci_to_git_remote(tmp_path, monkeypatch, remote, expected):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    root = _git_repo(tmp_path, remote)
    assert repository_url(root, {"repository": {"url": ""}})[0] == expected
    monkeypatch.setenv("GITHUB_REPOSITORY", "ci-owner/ci-repo")
    assert repository_url(root, {"repository": {"url": ""}}) == (
        "https://github.com/ci-owner/ci-repo",
        "$GITHUB_REPOSITORY",
    )
    assert (
        repository_url(root, {"repository": {"url": "https://github.com/set/here"}})[0]
        == "https://github.com/set/here"
    )


def test_without_a_repository_url_the_build_has_no_launch_or_repository_buttons(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    root = _git_repo(tmp_path, None)
    (root / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    path, url, _ = resolved_config(root)
    cfg = yaml.safe_load(path.read_text())
    assert url is None and "url" not in cfg["repository"]
    assert cfg["html"]["use_repository_button"] is False
    assert not any(v for k, v in cfg["launch_buttons"].items() if k != "notebook_interface")
    monkeypatch.setenv("GITHUB_REPOSITORY", "ci-owner/ci-repo")
    cfg = yaml.safe_load(resolved_config(root)[0].read_text())
    assert cfg["repository"]["url"] == "https://github.com/ci-owner/ci-repo"
    assert cfg["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert cfg["html"]["use_repository_button"] is True


def test_binder_installs_the_package_and_opens_only_md_notebooks_as_notebooks():
    post = (ROOT / "postBuild").read_text()
    assert "pip install --no-deps -e ." in post
    viewer = [line.split() for line in post.splitlines() if line.startswith("jupytext-config")]
    # Only Markdown (.md) files open as notebooks; .py, .R, ... stay text files.
    assert viewer == [["jupytext-config", "set-default-viewer", "markdown"]]


def test_notebooks_are_myst_text_notebooks_that_read_no_files():
    notebooks = sorted((ROOT / "notebooks").glob("*.md"))
    assert notebooks
    forbidden = re.compile(r"read_csv\(|read_parquet\(|open\(|\.\./data|!pip|%pip")
    for nb in notebooks:
        text = nb.read_text()
        head = text.split("---", 2)[1]
        assert "format_name: myst" in head, f"{nb.name} lacks jupytext MyST front matter"
        assert not forbidden.search(text), f"{nb.name} reads files or installs packages itself"
