"""Where the book, its data and its outputs are.

Notebooks never use relative paths: they ask this module. The same code therefore
runs from the book build (working directory ``notebooks/``), from Binder, from the
test suite and from the command line.

* The project root is the nearest directory, from the working directory upwards,
  that holds ``_config.yml`` and ``data/datapackage.json``; failing that, the
  checkout this package was installed from (editable install).
* The data directory is ``$WHOLECOMM_DATA`` when set (point it at the real files),
  otherwise ``<root>/data``.
* Build outputs of the library (recorded results) go under ``<root>/_build``.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "WHOLECOMM_DATA"
PACKAGE_FILE = "datapackage.json"


class ProjectNotFoundError(RuntimeError):
    """Raised when neither the working directory nor the install location is a book checkout."""


def _is_root(path: Path) -> bool:
    return (path / "_config.yml").is_file() and (path / "data" / PACKAGE_FILE).is_file()


def project_root(start: Path | None = None) -> Path:
    """Return the book's root directory (see the module docstring for the search order)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_root(candidate):
            return candidate
    installed = Path(__file__).resolve().parents[2]
    if _is_root(installed):
        return installed
    raise ProjectNotFoundError(
        f"No Whole-COMM book checkout found from {here} upwards, nor at {installed}. "
        "Run from inside the repository, or install the package from a checkout with "
        "`pip install -e .`."
    )


def book_data_dir() -> Path:
    """The book's own data package (the synthetic twin and the published reference data)."""
    return project_root() / "data"


def data_dir() -> Path:
    """The data directory in use: ``$WHOLECOMM_DATA`` if set, else the book's own ``data/``."""
    override = os.environ.get(DATA_ENV, "").strip()
    if override:
        path = Path(override).expanduser().resolve()
        if not path.is_dir():
            raise FileNotFoundError(
                f"{DATA_ENV}={override!r} is not a directory. Point it at the folder that "
                "holds your CSV files (same names as in data/datapackage.json), or unset it "
                "to use the book's synthetic twin."
            )
        return path
    return book_data_dir()


def uses_user_data() -> bool:
    """True when the data directory is not the book's own package."""
    return data_dir() != book_data_dir().resolve()


def build_dir() -> Path:
    return project_root() / "_build"


RESULTS_ENV = "WHOLECOMM_RESULTS_DIR"


def results_dir() -> Path:
    """Where notebooks record their key results (one JSON file per page):
    ``$WHOLECOMM_RESULTS_DIR`` if set (the tests use it to compare two runs), else
    ``<root>/_build/results``."""
    override = os.environ.get(RESULTS_ENV, "").strip()
    return Path(override) if override else build_dir() / "results"
