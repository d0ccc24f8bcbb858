"""The launch button's notebook, as a Binder reader gets it: JupyterLab from the project's
environment, set up as postBuild sets it up, driven in Debian's Chromium (Playwright).

For each notebook: open it by the URL path the book's launch button uses, check it opens as
a notebook (cells, not a text editor), Run All, and check that no cell fails or writes to
stderr, that the figures render (as many as the book build drew), that the prose shows the
glued numbers (the values the run recorded) with citations and cross-references as text,
and that saving the notebook leaves its file byte-identical. JupyterLab serves a copy of
the notebooks from a temporary directory, on localhost with a token; nothing leaves
localhost."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from format_notebooks import notebook_files  # noqa: E402

BIN = Path(sys.executable).parent
ROLE = re.compile(r"\{(glue:md|glue:text|glue|cite:p|cite:t|cite|doc|ref|numref|term)\}`([^`]*)`")
RUN_TIMEOUT_MS = 420_000


def _launch_order() -> list[Path]:
    """Every notebook; pages that quote other pages' values ({glue:text}) after those pages."""
    files = notebook_files(ROOT)
    return sorted(files, key=lambda p: "{glue:text}" in p.read_text(encoding="utf-8"))


NOTEBOOKS = _launch_order()


def launch_path(source: Path) -> str:
    """The JupyterLab URL path the book's launch button opens for ``source``: taken from the
    built page's Binder link when the build had one, else built the way the theme builds it."""
    rel = source.relative_to(ROOT).with_suffix("")
    built = ROOT / "_build" / "html" / f"{rel.as_posix()}.html"
    if built.is_file():
        m = re.search(r"mybinder\.org/v2/[^\"']*?urlpath=([^&\"']+)", built.read_text(encoding="utf-8"))
        if m:
            return unquote(m.group(1))
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    interface = {"jupyterlab": "lab", "classic": "tree"}[cfg["launch_buttons"]["notebook_interface"]]
    book = (cfg.get("repository") or {}).get("path_to_book", "").strip("/")
    return "/".join(p for p in (f"{interface}/tree", book, f"{rel.as_posix()}{source.suffix}") if p)


def postbuild_commands() -> list[list[str]]:
    """The jupytext-config commands of postBuild, run here exactly as Binder runs them."""
    return [
        shlex.split(line)
        for line in (ROOT / "postBuild").read_text().splitlines()
        if line.startswith("jupytext-config ")
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, built_html):
    """JupyterLab on a free localhost port with a token, serving a copy of the notebooks."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    repo = tmp / "repo"
    for source in NOTEBOOKS:
        target = repo / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHOLECOMM_", "JUPYTER"))}
    home = tmp / "home"
    home.mkdir()
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        WHOLECOMM_RESULTS_DIR=str(tmp / "results"),
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    for command in postbuild_commands():
        subprocess.run(command, env=env, check=True, capture_output=True)
    port, token = _free_port(), secrets.token_hex(24)
    cmd = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={repo}",
    ]
    if os.geteuid() == 0:  # Binder runs as an unprivileged user; CI machines may be root
        cmd.append("--allow-root")
    log = (tmp / "jupyterlab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, cwd=repo, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(tmp / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(
                f"JupyterLab did not answer on {base}: {(tmp / 'jupyterlab.log').read_text()[-3000:]}"
            )
        yield {
            "base": base,
            "token": token,
            "repo": repo,
            "results": tmp / "results",
            "log": tmp / "jupyterlab.log",
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _shut_down_kernels(lab) -> None:
    api = f"{lab['base']}/api/kernels"
    headers = {"Authorization": f"token {lab['token']}"}
    kernels = json.load(urllib.request.urlopen(urllib.request.Request(api, headers=headers), timeout=10))
    for kernel in kernels:
        urllib.request.urlopen(
            urllib.request.Request(f"{api}/{kernel['id']}", method="DELETE", headers=headers), timeout=30
        )


def _wait_for_idle_kernel(lab, rel: str, timeout: float = 180) -> None:
    """Wait until the notebook's kernel has started and is idle (Run All before that runs nothing)."""
    api = f"{lab['base']}/api/sessions"
    headers = {"Authorization": f"token {lab['token']}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sessions = json.load(urllib.request.urlopen(urllib.request.Request(api, headers=headers), timeout=10))
        states = [
            s["kernel"]["execution_state"] for s in sessions if s.get("path") == rel and s.get("kernel")
        ]
        if states and states[0] == "idle":
            time.sleep(1)
            return
        time.sleep(0.5)
    pytest.fail(f"no idle kernel for {rel} after {timeout} s")


def _save_and_compare(page, panel: str, saved: Path, source: Path) -> None:
    before = saved.stat().st_mtime_ns
    page.click(f"{panel} .jp-Toolbar [data-command='docmanager:save']")
    deadline = time.monotonic() + 60
    while saved.stat().st_mtime_ns == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert saved.stat().st_mtime_ns != before, f"JupyterLab did not save {saved.name}"
    text = b""
    while time.monotonic() < deadline:  # the server may still be writing
        time.sleep(0.5)
        text = saved.read_bytes()
        if text and text == saved.read_bytes():
            break
    assert text == source.read_bytes(), f"saving {source.relative_to(ROOT)} in JupyterLab changed it"


def _built_image_count(source: Path) -> int:
    executed = ROOT / "_build" / "jupyter_execute" / source.relative_to(ROOT).with_suffix(".ipynb")
    nb = nbformat.read(executed, as_version=4)
    return sum(
        any(kind in o.get("data", {}) for kind in ("image/png", "image/svg+xml"))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


def _plain(markdown: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*|`(.+?)`", lambda m: m.group(1) or m.group(2), markdown)


STATE_JS = """() => {
    const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
    const md = [...nb.querySelectorAll('.jp-MarkdownCell .jp-MarkdownOutput')];
    return {
        prose: md.map(e => e.textContent).join('\\n'),
        visibleLabels: md.flatMap(e => [...e.querySelectorAll('p')]).filter(p => !p.hidden
            && /^\\([\\w.:-]+\\)=$/.test(p.textContent.trim())).length,
        values: [...nb.querySelectorAll('.wholecomm-glue-value')].map(e => [e.title, e.textContent]),
        missing: [...nb.querySelectorAll('.wholecomm-glue-missing')].map(e => e.title),
        images: [...nb.querySelectorAll('.jp-OutputArea-output img')].map(i => [i.naturalWidth, i.alt || '']),
        problems: [...nb.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
            .map(e => e.textContent.slice(0, 2000)),
    };
}"""


@pytest.mark.browser
@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_launched_notebook_opens_runs_and_shows_its_numbers(browser, lab, source):
    rel = source.relative_to(ROOT).as_posix()
    path = launch_path(source)
    assert path.endswith(rel), f"the launch button opens {path}, not {rel}"
    notebook = jupytext.read(source)
    n_code = sum(c.cell_type == "code" for c in notebook.cells)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if r.url.startswith(("http", "ws"))
            and not r.url.startswith(lab["base"].replace("http", "ws", 1))
            and not r.url.startswith(lab["base"])
            else None
        ),
    )
    try:
        page.goto(f"{lab['base']}/{path}?token={lab['token']}")
        panel = ".jp-NotebookPanel:not(.lm-mod-hidden)"
        page.wait_for_selector(f"{panel} .jp-Notebook .jp-Cell", timeout=120_000)
        assert page.locator(".jp-FileEditor:visible").count() == 0, f"{rel} opened in the text editor"
        # Notebook windowing may attach cells lazily: count them from the model's view once all are there.
        page.wait_for_function(
            f"n => document.querySelectorAll('{panel} .jp-CodeCell').length === n", arg=n_code, timeout=60_000
        )
        _wait_for_idle_kernel(lab, rel)
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        page.wait_for_function(
            f"""() => {{ const ps = [...document.querySelectorAll('{panel} .jp-CodeCell .jp-InputPrompt')]
                .map(e => e.textContent.trim());
                return ps.length > 0 && ps.every(t => /^\\[\\d+\\]:$/.test(t)); }}""",
            timeout=RUN_TIMEOUT_MS,
            polling=500,
        )
        page.wait_for_timeout(500)  # let the prose script run after the last output
        state = page.evaluate(STATE_JS)
        # Saving (as autosave does) writes back exactly the tracked file.
        _save_and_compare(page, panel, lab["repo"] / rel, source)
        assert state["problems"] == [], f"{rel}: error or stderr output: {state['problems']}"

        expected_images = _built_image_count(source)
        drawn = [w for w, _ in state["images"] if w > 0]
        assert len(drawn) == expected_images == len(state["images"]), (
            f"{rel}: {len(drawn)} of {len(state['images'])} images rendered, the book build drew {expected_images}"
        )

        roles = [
            m for cell in notebook.cells if cell.cell_type == "markdown" for m in ROLE.findall(cell.source)
        ]
        if "Page(" not in source.read_text(encoding="utf-8"):
            assert roles == [], f"{rel} has MyST roles but no Page to show them in JupyterLab"
            return
        # A role JupyterLab renders as text reads `{glue:md}key` (the key in code font).
        left = re.findall(r"\{(?:glue|cite|doc|ref|numref|term)[:a-z]*\}.{0,40}", state["prose"])
        assert left == [], f"{rel}: roles left as text in the prose: {left[:5]}"
        assert state["visibleLabels"] == 0
        assert state["missing"] == [], f"{rel}: values of other pages not shown: {state['missing'][:5]}"
        n_glue = sum(r.startswith("glue") for r, _ in roles)
        assert len(state["values"]) == n_glue, (
            f"{rel}: {len(state['values'])} of {n_glue} glued values in the prose"
        )
        if n_glue:
            # The numbers in the prose are the values this run recorded.
            recorded = {}
            for result in lab["results"].glob("*.json"):
                for key, v in json.loads(result.read_text())["values"].items():
                    recorded[(result.stem, key)] = _plain(v["text"])
            page_name = re.search(r'Page\("([a-z0-9-]+)"', source.read_text()).group(1)
            for title, shown in state["values"]:
                role, content = ROLE.match(title).groups()
                other, _, key = content.rpartition("::")
                key = key.split(":")[0]
                owner = Path(other).stem if other else page_name
                assert shown.strip() == recorded[(owner, key)].strip(), (rel, title, shown)
            assert any(re.search(r"\d", shown) for _, shown in state["values"]), (
                f"{rel}: no number in the prose"
            )
        assert outside == [], f"requests leaving localhost: {outside[:5]}"

    finally:
        context.close()
        _shut_down_kernels(lab)
