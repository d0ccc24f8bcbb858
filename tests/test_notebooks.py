"""Every notebook runs as Binder runs it (jupytext -> nbclient, fresh kernel, its own
directory notebooks/ as working directory), and gives the same results on another CPU."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import jupytext
import nbclient
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import results  # noqa: E402
from results import recording_sources  # noqa: E402

# Every executable page that shows data: the notebooks and the findings page.
NOTEBOOKS = recording_sources(ROOT)


def another_cpu() -> dict[str, str]:
    """Environment that makes this machine compute like another CPU: OpenBLAS's most basic
    kernel for the architecture (OPENBLAS_CORETYPE) and NumPy's own SIMD loops switched
    off down to its baseline (NPY_DISABLE_CPU_FEATURES)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    core = {"x86_64": "Prescott", "AMD64": "Prescott", "aarch64": "ARMV8"}.get(platform.machine())
    if core is None:
        pytest.skip(f"no known basic OpenBLAS kernel for {platform.machine()}")
    dispatched = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    env = {"OPENBLAS_CORETYPE": core}
    if dispatched:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(dispatched)
    return env


def _run(path: Path) -> None:
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    errors = [
        o
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    # It showed the provenance notice of its data (first output of the first code cell).
    first = next(c for c in nb.cells if c.cell_type == "code")
    html = "".join(o.get("data", {}).get("text/html", "") for o in first["outputs"])
    assert "wholecomm-provenance" in html


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_from_the_notebooks_directory(path, monkeypatch, tmp_path, built_html):
    """Also a reproducibility check: this second, independent clean run of the notebook
    must record exactly the results the book build recorded."""
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))  # inherited by the kernel
    _run(path)
    recorded = sorted(tmp_path.glob("*.json"))
    assert recorded, "the notebook recorded no results"
    for result in recorded:
        built = ROOT / "_build" / "results" / result.name
        assert built.is_file(), f"the book build recorded no {result.name}"
        assert result.read_bytes() == built.read_bytes(), f"{result.name} differs between two clean runs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_gives_the_same_results_on_another_cpu(path, monkeypatch, tmp_path, built_html):
    """Run under another BLAS kernel and without NumPy's SIMD loops, as on another CPU:
    every glued text and published table must be byte-identical to the build's, and every
    recorded number equal under the results policy (tools/results.py)."""
    env = another_cpu()
    monkeypatch.delenv("WHOLECOMM_DATA", raising=False)
    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _run(path)
    pages = [p.stem for p in sorted(tmp_path.glob("*.json"))]
    assert pages, "the notebook recorded no results"
    other = results.collect(tmp_path, pages)
    built = results.collect(ROOT / "_build" / "results", pages)
    assert results.shown_text(other) == results.shown_text(built), f"what a reader sees differs under {env}"
    diffs = results.differences(other, built)
    assert not diffs, f"results differ under {env}:\n" + "\n".join(diffs[:30])
    spread = results.largest_spread(other, built)
    report = ROOT / "_build" / "cpu-spread" / f"{path.stem}.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(
        json.dumps(
            {
                "environment": env,
                "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                "largest_relative_differences": spread[:20],
            },
            indent=1,
        )
        + "\n"
    )
