"""Every notebook runs as Binder runs it: jupytext -> nbclient, fresh kernel, cwd notebooks/."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbclient
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_from_the_notebooks_directory(path, monkeypatch):
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # It showed the provenance notice of its data (first output of the first code cell).
    first = next(c for c in nb.cells if c.cell_type == "code")
    html = "".join(o.get("data", {}).get("text/html", "") for o in first["outputs"])
    assert "wholecomm-provenance" in html
