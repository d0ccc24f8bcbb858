"""Shared fixtures. `make test` builds the book before running pytest, so the tests of
the built HTML find it; run `make book` first when calling pytest by hand."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# One thread for the numerical libraries here and in every kernel the tests start, as in
# the build (tools/build_book.py): results must not depend on the number of cores.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))
sys.path.insert(0, str(ROOT / "tools"))
from book_pdf import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (one Chromium set-up for the book and its tests)


@pytest.fixture(scope="session")
def built_html() -> Path:
    """The built book, which must be current: built from the library, data and lock as they are now."""
    if not (HTML / "index.html").is_file():
        pytest.fail("The book is not built: run `make test` (it builds the book first) or `make book`.")
    from build_book import fingerprint

    stamp = ROOT / "_build" / ".wholecomm-fingerprint"
    if not stamp.is_file() or stamp.read_text().strip() != fingerprint(ROOT):
        pytest.fail("The built book is older than the library or data: run `make test` (or `make book`).")
    return HTML


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the book's study CSV files in a user data directory (no datapackage.json, no
    published reference files), selected through WHOLECOMM_DATA: the book's schema applies,
    checksums do not, and published reference data come from the book's package."""
    target = tmp_path / "userdata"
    target.mkdir()
    for csv in (ROOT / "data").glob("*.csv"):
        if csv.name != "mipex2020_national.csv":
            shutil.copy(csv, target / csv.name)
    monkeypatch.setenv("WHOLECOMM_DATA", str(target))
    monkeypatch.setenv("WHOLECOMM_DATA_CACHE", str(tmp_path / "data-cache"))
    return target


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright, with the flags of a machine whose only
    network is localhost (the set-up ``tools/book_pdf.py`` prints the book with)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run `make test` (it installs it) or "
            "`sudo apt-get install chromium`."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


# ------------------------------------------------------------------ toolbox tests
@pytest.fixture
def book_data(monkeypatch):
    """The book's own data package, whatever WHOLECOMM_DATA says in the environment (the
    toolbox tests use it with ``pytestmark = pytest.mark.usefixtures("book_data")``)."""
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)


@pytest.fixture(scope="module")
def cat():
    """The indicator catalogue of the book's data package."""
    from wholecomm import toolbox

    return toolbox.catalogue()
