"""Make sure the browser tests can run: Debian's Chromium at /usr/bin/chromium.

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


def main() -> int:
    if os.path.exists(CHROMIUM):
        return 0
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing Debian's chromium for the browser tests (apt-get) ...", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(INSTALL, check=True, env=env, stdout=subprocess.DEVNULL)
        if os.path.exists(CHROMIUM):
            return 0
    print(f"The browser tests need Chromium at {CHROMIUM}. Install it with:\n"
          f"    sudo apt-get install chromium\n"
          "then run `make test` again.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
