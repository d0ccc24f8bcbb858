"""Compile requirements.in into the two locks and regenerate environment.yml: `make lock` runs this.

requirements.in lists the direct dependencies in groups (a line ``# group: NAME`` starts one):

* ``requirements.lock``: every group, resolved for Python 3.11. ``make``, the tests and CI
  install it. Existing pins are kept (uv only resolves what is new or no longer fits).
* ``requirements-runtime.lock``: the ``runtime`` group alone, resolved with
  ``requirements.lock`` as constraints, so every package it pins has the version of the full
  lock. Binder installs it (environment.yml is generated from it), without the test tools.

tests/test_environment.py checks that the groups, the two locks and environment.yml agree.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IN = ROOT / "requirements.in"
FULL = ROOT / "requirements.lock"
RUNTIME = ROOT / "requirements-runtime.lock"
RUNTIME_GROUP = "runtime"
GROUP = re.compile(r"^#\s*group:\s*([a-z0-9-]+)\s*$")
UV_ARGS = ["--python-version", "3.11", "--no-header", "--annotation-style", "line", "--quiet"]


def groups(path: Path = IN) -> dict[str, list[str]]:
    """The requirement lines of each group of ``requirements.in``, in file order."""
    out: dict[str, list[str]] = {}
    current = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if m := GROUP.match(raw.strip()):
            current = m.group(1)
            if current in out:
                raise ValueError(f"{path.name}, line {number}: group {current!r} starts twice.")
            out[current] = []
            continue
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if current is None:
            raise ValueError(f"{path.name}, line {number}: {line!r} comes before the first `# group:` line.")
        out[current].append(line)
    if RUNTIME_GROUP not in out:
        raise ValueError(f"{path.name} has no `# group: {RUNTIME_GROUP}` section.")
    return out


def uv() -> str:
    exe = Path(sys.executable).parent / "uv"
    return str(exe) if exe.exists() else "uv"


def main() -> int:
    sections = groups()
    subprocess.run([uv(), "pip", "compile", str(IN.name), *UV_ARGS, "-o", FULL.name], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        runtime_in = Path(tmp) / "runtime.in"
        runtime_in.write_text("\n".join(sections[RUNTIME_GROUP]) + "\n", encoding="utf-8")
        subprocess.run(
            [
                uv(),
                "pip",
                "compile",
                str(runtime_in),
                "--constraint",
                FULL.name,
                *UV_ARGS,
                "-o",
                RUNTIME.name,
            ],
            cwd=ROOT,
            check=True,
        )
    # Name the group instead of the temporary input file, and drop the constraints from the annotations.
    lines = []
    for line in RUNTIME.read_text(encoding="utf-8").splitlines():
        pin, sep, via = line.partition("# via ")
        if sep:
            sources = [s.strip() for s in via.split(",") if s.strip() and s.strip() != f"-c {FULL.name}"]
            sources = [f"requirements.in [{RUNTIME_GROUP}]" if s.startswith("-r ") else s for s in sources]
            line = pin + sep + ", ".join(sources) if sources else pin.rstrip()
        lines.append(line)
    text = "\n".join(lines) + "\n"
    RUNTIME.write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, str(ROOT / "tools" / "sync_environment.py")], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
