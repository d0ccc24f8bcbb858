"""Make sure the browser tests can run: Debian's Chromium at /usr/bin/chromium, and
axe-core (from the npm registry, pinned in tools/browser/package-lock.json).

`make test` runs this before pytest. Chromium is installed with apt-get when it is
missing and we are root (as on CI); otherwise this stops with the exact command to run.
Playwright itself comes from requirements.lock and drives that Chromium (it never
downloads a browser of its own).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"
INSTALL = ["apt-get", "install", "-y", "-qq", "chromium"]


BROWSER_TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")
AXE = os.path.join(BROWSER_TOOLS, "node_modules", "axe-core", "axe.min.js")


def ensure_axe() -> int:
    if os.path.exists(AXE):
        return 0
    if not shutil.which("npm"):
        print(
            "The accessibility tests need axe-core from the npm registry, and npm is missing. Install "
            "Node.js and npm (e.g. `sudo apt-get install npm`), then run `make test` again.",
            file=sys.stderr,
        )
        return 1
    print("Installing axe-core for the accessibility tests (npm ci) ...", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=BROWSER_TOOLS, check=True)
    return 0 if os.path.exists(AXE) else 1


def main() -> int:
    if ensure_axe() != 0:
        return 1
    if os.path.exists(CHROMIUM):
        return 0
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing Debian's chromium for the browser tests (apt-get) ...", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(INSTALL, check=True, env=env, stdout=subprocess.DEVNULL)
        if os.path.exists(CHROMIUM):
            return 0
    print(
        f"The browser tests need Chromium at {CHROMIUM}. Install it with:\n"
        f"    sudo apt-get install chromium\n"
        "then run `make test` again.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
