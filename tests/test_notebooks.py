"""Every notebook runs as Binder runs it: jupytext -> nbclient, fresh kernel, its own
directory (notebooks/) as working directory."""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbclient
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from results import recording_sources  # noqa: E402

# Every executable page that shows data: the notebooks and the findings page.
NOTEBOOKS = recording_sources(ROOT)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_from_the_notebooks_directory(path, monkeypatch, tmp_path, built_html):
    """Also a reproducibility check: this second, independent clean run of the notebook
    must record exactly the results the book build recorded."""
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))  # inherited by the kernel
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # It showed the provenance notice of its data (first output of the first code cell).
    first = next(c for c in nb.cells if c.cell_type == "code")
    html = "".join(o.get("data", {}).get("text/html", "") for o in first["outputs"])
    assert "wholecomm-provenance" in html
    recorded = sorted(tmp_path.glob("*.json"))
    assert recorded, "the notebook recorded no results"
    for result in recorded:
        built = ROOT / "_build" / "results" / result.name
        assert built.is_file(), f"the book build recorded no {result.name}"
        assert result.read_bytes() == built.read_bytes(), f"{result.name} differs between two clean runs"
