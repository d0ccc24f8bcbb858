"""Opening a notebook changes nothing: every notebook is stored exactly as JupyterLab saves it.

JupyterLab saves a MyST notebook through jupytext, with the running kernel's kernelspec in
the front matter, whenever a kernel starts (autosave). A file in any other form is rewritten
as soon as a reader opens it. tests/test_jupyterlab.py checks the same in the real front end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from format_notebooks import as_saved, kernelspec, notebook_files  # noqa: E402

NOTEBOOKS = notebook_files(ROOT)


def test_every_executable_page_is_a_jupytext_notebook():
    names = {p.relative_to(ROOT).as_posix() for p in NOTEBOOKS}
    assert {p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.md")} <= names
    assert "book/findings.md" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_jupytext_round_trip_leaves_the_file_byte_identical(path):
    """Read and write with the pinned jupytext and its configuration: not one byte changes
    (fix with `python tools/format_notebooks.py`)."""
    original = path.read_bytes()
    assert as_saved(path).encode("utf-8") == original, (
        f"{path.relative_to(ROOT)} changes when JupyterLab saves it: run `python tools/format_notebooks.py`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_front_matter_names_the_kernel_as_jupyterlab_writes_it(path):
    meta = jupytext.read(path).metadata
    assert meta["kernelspec"] == kernelspec()
    assert meta["jupytext"]["text_representation"]["format_name"] == "myst"
    assert meta["jupytext"]["text_representation"]["jupytext_version"] == jupytext.__version__


def test_the_round_trip_check_notices_a_changed_file(tmp_path):
    """A notebook in another form (as they were: a short kernel name, quoted long captions) fails."""
    source = next(p for p in NOTEBOOKS if "caption:" in p.read_text())
    text = source.read_text().replace("display_name: Python 3 (ipykernel)", "display_name: Python 3")
    copy = tmp_path / source.name
    copy.write_text(text)
    assert as_saved(copy) != text
    assert as_saved(copy) == source.read_text()
