"""Build the book into _build/html: `make book` runs this.

* Notebooks are executed through jupyter-cache (`execute_notebooks: cache`), so a
  notebook whose code did not change is not run again. That cache keys on a notebook's
  code only, so this script clears it whenever something else the notebooks depend on
  changed: the wholecomm library, the data directory (or ``$WHOLECOMM_DATA``), or the lock.
* The build runs with ``-n -W --keep-going``: any warning or failing cell fails it.
  A failing cell's traceback is printed (execute.show_tb) and the failing notebooks
  are named at the end.
* The data in use are validated first (``python -m wholecomm.data`` with this checkout's
  library), before any notebook runs: with bad data the build stops at once and prints
  one block naming file, column, lines, rule and what to do, with the full log in
  ``_build/build-failed.log``. The validated frames are cached (``_build/data-cache``),
  so the notebooks' kernels load them without validating again.
* The log is kept in ``_build/build.log``; a summary with the number of executed
  notebooks and the wall time is printed and written to ``_build/build-summary.json``.
* Launch (Binder) and repository buttons link to the repository URL taken from
  ``repository.url`` in ``_config.yml``, else from ``$GITHUB_REPOSITORY`` (GitHub Actions),
  else from the ``origin`` git remote. When none is known the book is built without those
  buttons, and the build says so, rather than linking to a repository that may not exist.
  The configuration actually used is written to ``_build/_config.resolved.yml``.
* After the HTML, the whole book is printed to one PDF (``tools/book_pdf.py``: Debian's
  Chromium prints every page with the print stylesheet, pypdf joins them with a bookmark per
  chapter) into ``_build/html/wholecomm-companion.pdf``, linked from every page. Without
  Chromium the book is built without the PDF and without the links, and the build says so.
* Notebook kernels run with ``WHOLECOMM_BOOK_BUILD=1``: glued values then go to the book's
  prose only (run elsewhere, in JupyterLab, a page also shows them in its cell outputs).

Usage: python tools/build_book.py [--root DIR] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book_pdf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = re.compile(r"^(\S+): Executing notebook using (?:local|temporary) CWD \[mystnb\]")
CACHED = re.compile(r"^(\S+): Using cached notebook: ID=\d+ \[mystnb\]")
FAILED = re.compile(r"(?:Executing notebook failed|Execution Failed)[^\n]*", re.IGNORECASE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: One thread for every numerical library: a parallel BLAS may split a sum differently
#: with another number of threads, and the recorded results must not depend on the machine.
SINGLE_THREADED = {
    name: "1"
    for name in (
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
    )
}
WARN_LOC = re.compile(r"^(/[^\s:]+\.(?:md|ipynb)):(?:\d+:)? (?:WARNING|ERROR)", re.MULTILINE)


def fingerprint(root: Path) -> str:
    """Hash of everything besides notebook code that notebook outputs depend on."""
    digest = hashlib.sha256()
    data_override = os.environ.get("WHOLECOMM_DATA", "")
    data_dir = Path(data_override).resolve() if data_override else root / "data"
    digest.update(f"WHOLECOMM_DATA={data_override}\n".encode())
    files = sorted((root / "src" / "wholecomm").rglob("*"))
    files += sorted(p for p in data_dir.glob("*") if p.is_file())
    files += [root / "requirements.lock"]
    for path in files:
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def guard_cache(root: Path, force: bool) -> str:
    build = root / "_build"
    cache = build / ".jupyter_cache"
    stamp = build / ".wholecomm-fingerprint"
    current = fingerprint(root)
    previous = stamp.read_text().strip() if stamp.exists() else None
    if force or (cache.exists() and previous != current):
        reason = "--force" if force else "library, data or lock changed since the last build"
        print(f"Clearing the notebook cache ({reason}): every notebook will be executed.")
        shutil.rmtree(cache, ignore_errors=True)
        # Sphinx must re-read every page too, or pages would keep outputs of the old run.
        shutil.rmtree(build / ".doctrees", ignore_errors=True)
        shutil.rmtree(build / "jupyter_execute", ignore_errors=True)
    build.mkdir(exist_ok=True)
    # From here on the cache holds only outputs computed against the current inputs.
    stamp.write_text(current + "\n")
    return current


def data_in_use(root: Path) -> str:
    override = os.environ.get("WHOLECOMM_DATA", "").strip()
    return (
        f"data supplied by the user (WHOLECOMM_DATA={override})"
        if override
        else f"the book's synthetic twin ({root / 'data'})"
    )


def validate_data(root: Path, log_path: Path) -> tuple[int, str]:
    """Validate the data in use with the library of ``root``; return (exit code, output).

    The output (and the full traceback of an unexpected failure) goes to ``log_path``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root / "src"), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "wholecomm.data"], cwd=root, env=env, capture_output=True, text=True
    )
    out = (proc.stdout + proc.stderr).strip()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text(
        f"$ python -m wholecomm.data  (data in use: {data_in_use(root)})\n{out}\n", encoding="utf-8"
    )
    return proc.returncode, out


def data_failure_block(root: Path, out: str, log: Path) -> str:
    """The one block printed when the data are bad: the problems, the data in use, the log."""
    if "The data failed validation" in out:
        body = out[out.index("The data failed validation") :]
    else:  # not a DataError: show the end of the traceback
        body = "\n".join(out.splitlines()[-15:])
    rule = "=" * 78
    return (
        f"\n{rule}\nBUILD STOPPED before any notebook was executed: the data cannot be used.\n"
        f"Data in use: {data_in_use(root)}\n\n{body}\n\nFull log: {log}\n{rule}"
    )


DATA_ERROR = re.compile(r"DataError: (The data failed validation.*?What to do:[^\n]*)", re.S)
GITHUB_URL = re.compile(r"^(?:https://|git@|ssh://git@)github\.com[:/]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")


def repository_url(root: Path, config: dict) -> tuple[str | None, str]:
    """The book's repository URL and where it came from (see the module docstring)."""
    setting = str((config.get("repository") or {}).get("url") or "").strip()
    if setting:
        return setting.rstrip("/"), "repository.url in _config.yml"
    if os.environ.get("GITHUB_REPOSITORY", "").strip():
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return f"{server}/{os.environ['GITHUB_REPOSITORY'].strip()}", "$GITHUB_REPOSITORY"
    try:
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        remote = ""
    if m := GITHUB_URL.match(remote):
        return f"https://github.com/{m.group(1)}/{m.group(2)}", "the origin git remote"
    return None, "none known"


def resolved_config(root: Path, pdf: bool = False) -> tuple[Path, str | None, str]:
    """Write the configuration the build uses, with the repository URL filled in (or the
    launch and repository buttons switched off), to ``_build/_config.resolved.yml``."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    url, source = repository_url(root, config)
    repo = config.setdefault("repository", {})
    html_cfg = config.setdefault("html", {})
    if url:
        repo["url"] = url
    else:
        repo.pop("url", None)
        html_cfg["use_repository_button"] = False
        html_cfg["use_issues_button"] = False
        html_cfg["use_edit_page_button"] = False
        config["launch_buttons"] = {
            key: ("" if isinstance(value, str) else False) if key != "notebook_interface" else value
            for key, value in (config.get("launch_buttons") or {}).items()
        }
    # The whole-book PDF link on every page, only when the PDF can be printed (see tools/book_pdf.py).
    context = config.setdefault("sphinx", {}).setdefault("config", {}).setdefault("html_context", {})
    context["wholecomm_pdf"] = bool(pdf)
    # Local Sphinx extensions are found relative to the configuration file: make them absolute.
    local = (config.get("sphinx") or {}).get("local_extensions") or {}
    for name, path in local.items():
        local[name] = str((root / path).resolve())
    target = root / "_build" / "_config.resolved.yml"
    target.parent.mkdir(exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target, url, source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="book root (default: this checkout)")
    parser.add_argument(
        "--force", action="store_true", help="clear the notebook cache and execute everything"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    build = root / "_build"
    log_path = build / "build.log"
    print(f"Validating the data ({data_in_use(root)}) ...", flush=True)
    code, out = validate_data(root, log_path)
    if code != 0:
        failed_log = build / "build-failed.log"
        shutil.copy2(log_path, failed_log)
        summary = {
            "exit_code": code,
            "wall_seconds": 0.0,
            "executed": [],
            "n_executed": 0,
            "n_cached": 0,
            "pages_with_warnings": [],
            "data_valid": False,
        }
        (build / "build-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(data_failure_block(root, out, failed_log))
        return code
    print(out.splitlines()[-1] if out else "Data valid.", flush=True)
    guard_cache(root, args.force)
    can_pdf, no_pdf_reason = book_pdf.can_print()
    config_path, repo_url, repo_source = resolved_config(root, pdf=can_pdf)
    if repo_url:
        print(f"Launch and repository buttons link to {repo_url} (from {repo_source}).")
    else:
        print(
            "No repository URL is known (repository.url in _config.yml is empty, $GITHUB_REPOSITORY is "
            "unset and the origin git remote is not a GitHub repository): building WITHOUT launch "
            "(Binder) and repository buttons. Set repository.url in _config.yml to publish them."
        )
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(root),
        "--builder",
        "html",
        "--config",
        str(config_path),
        "-n",
        "-W",
        "--keep-going",
    ]
    env = {**SINGLE_THREADED, **os.environ, "PYTHONUNBUFFERED": "1", "WHOLECOMM_BOOK_BUILD": "1"}
    print("$", " ".join(cmd), flush=True)
    start = time.perf_counter()
    executed, cached, failed_lines = [], 0, []
    with (
        log_path.open("a", encoding="utf-8") as log,
        subprocess.Popen(
            cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            line = ANSI.sub("", line)
            log.write(line)
            if m := EXECUTED.search(line):
                executed.append(m.group(1))
            elif CACHED.search(line):
                cached += 1
            if FAILED.search(line):
                failed_lines.append(line.strip())
        code = proc.wait()
    wall = time.perf_counter() - start
    text = log_path.read_text(encoding="utf-8")
    warned = sorted(
        {Path(p).relative_to(root).as_posix() for p in WARN_LOC.findall(text) if Path(p).is_relative_to(root)}
    )
    summary = {
        "exit_code": code,
        "wall_seconds": round(wall, 1),
        "executed": executed,
        "n_executed": len(executed),
        "n_cached": cached,
        "pages_with_warnings": warned,
        "repository_url": repo_url,
        "repository_url_source": repo_source,
    }
    (build / "build-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nNotebooks executed: {len(executed)}, taken from the cache: {cached}; wall time {wall:.1f} s.")
    if code != 0:
        shutil.copy2(log_path, build / "build-failed.log")
        print(f"\nBUILD FAILED (exit code {code}). Log: {build / 'build-failed.log'}")
        for path in warned:
            print(f"  problem in: {path}")
        for line in failed_lines:
            print(f"  {line}")
        reports = build / "html" / "reports"
        for report in sorted(reports.glob("**/*.err.log")) if reports.exists() else []:
            print(f"\n--- {report.relative_to(root)} ---\n{report.read_text(encoding='utf-8')[-4000:]}")
        if m := DATA_ERROR.search(ANSI.sub("", text)):
            print(f"\nA notebook stopped on bad data ({data_in_use(root)}):\n{m.group(1)}")
        return code
    if can_pdf:
        print("Printing the whole book to PDF ...", flush=True)
        info = book_pdf.build_pdf(build / "html", root)
        summary["pdf"] = {key: info[key] for key in ("pages", "printed", "seconds", "chapters")}
        (build / "build-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(
            f"PDF: {info['file']} ({info['pages']} A4 pages; {info['printed']} page(s) printed, "
            f"the others from the cache; {info['seconds']} s)."
        )
    else:
        print(f"The whole-book PDF was NOT built, and the pages do not link to it: {no_pdf_reason}.")
    print(f"Book built: {build / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
