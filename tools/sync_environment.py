"""Write environment.yml (Binder / conda) from requirements-runtime.lock, the runtime group of the lock.

Binder installs the runtime packages only (no test tools), at exactly the versions of
requirements.lock. tests/test_environment.py fails when they disagree; `make lock` runs this script.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)")


FULL_LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"


def locked_pins(lock: Path = RUNTIME_LOCK) -> list[str]:
    pins = []
    for line in lock.read_text(encoding="utf-8").splitlines():
        m = PIN.match(line.strip())
        if m:
            pins.append(f"{m.group(1)}=={m.group(2)}")
    return pins


def render(pins: list[str]) -> str:
    lines = [
        "# Binder / conda environment of the Whole-COMM research companion.",
        "# Generated from requirements-runtime.lock by tools/sync_environment.py (`make lock`): do not edit.",
        "# The pip section pins the runtime group of requirements.lock (book, JupyterLab front end,",
        "# analysis) at the same versions, without the test tools; postBuild then installs the",
        "# wholecomm package itself and makes JupyterLab open the MyST notebooks as notebooks.",
        "name: wholecomm",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
        *[f"    - {p}" for p in pins],
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    (ROOT / "environment.yml").write_text(render(locked_pins()), encoding="utf-8")
    print(f"environment.yml written with {len(locked_pins())} pinned packages.")
