"""The benchmark's record in the README: a partial run (`tools/bench.py --data-only`)
replaces the rows it measured and keeps the full run's other rows and misses."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("wholecomm_bench", ROOT / "tools" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FULL = """# Title

<!-- bench:start -->
Measured on x86_64, 2 cores (2026-01-01) with `make bench`, load average (1 minute) 0.2 at the start and 0.3 at the end:

| measurement | time | peak memory | notes |
| --- | --- | --- | --- |
| cold build (empty cache) | 200.0 s | 400 MB | 9 notebooks executed |
| validating a 1,000,000-row survey (100 MB) in a user folder, cold, new process | 20.0 s | 600 MB | x |
| `wholecomm assess` on the example (whole process) | 2.0 s | | y |

Missed: cold build 200.0 s > 180.0 s
Missed: validating 1M rows took 20.0 s > 15.0 s
<!-- bench:end -->

After.
"""


def test_a_partial_run_replaces_only_its_rows(tmp_path):
    bench = _bench()
    bench.ROOT = tmp_path
    (tmp_path / "README.md").write_text(FULL)
    rows = [
        "| validating a 1,010,157-row survey (114 MB) in a user folder, cold, new process | 11.0 s | 590 MB | z |",
        "| later load from the cache, new process | 0.4 s | 190 MB | every resource |",
    ]
    bench.record_rows_in_readme(
        "Measured on x86_64, 2 cores (2026-02-02) with `tools/bench.py --data-only`:",
        rows,
        [],
        bench.REMEASURED["data"],
    )
    text = (tmp_path / "README.md").read_text()
    block = text[text.index("<!-- bench:start -->") : text.index("<!-- bench:end -->")]
    assert text.endswith("<!-- bench:end -->\n\nAfter.\n")
    assert "(2026-01-01) with `make bench`" in block  # the full run's heading stays
    assert "| cold build (empty cache) | 200.0 s |" in block and "| `wholecomm assess`" in block
    assert rows[0] in block and rows[1] in block and "| 20.0 s |" not in block
    assert block.index(rows[0]) < block.index("| `wholecomm assess`")  # replaced in place, new rows last
    assert block.index(rows[1]) > block.index("| `wholecomm assess`")
    assert "Partly re-measured on x86_64, 2 cores (2026-02-02)" in block
    assert "Missed: cold build 200.0 s > 180.0 s" in block  # not measured again: still stands
    assert "Missed: validating" not in block  # measured again, within the target now
    assert "\n\n\n" not in block
