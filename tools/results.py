"""Recorded results of the book: compare the last build with the expected results, or accept it.

Each notebook page records its glued values and published tables in
``_build/results/<page>.json`` while the book builds (``wholecomm.book.Page``). The
expected results are committed in ``tests/expected_results.json``.

    python tools/results.py compare   # exit 1 and list the differences if any (the tests do this)
    python tools/results.py accept    # `make results`: the current results become the expected ones

Tolerances: numbers are equal when |a - b| <= ABS_TOL + REL_TOL * |b|; text, integers,
booleans, the set of keys and the shape of every table must match exactly.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected_results.json"
REL_TOL = 1e-6
ABS_TOL = 1e-9


def recording_sources(root: Path = ROOT) -> list[Path]:
    """Sources in the table of contents that record results: executable pages using ``Page``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [root / f"{ch['file']}.md" for part in toc.get("parts", []) for ch in part.get("chapters", [])]
    return [f for f in files if f.is_file() and "kernelspec:" in f.read_text() and "Page(" in f.read_text()]


def book_pages(root: Path = ROOT) -> list[str]:
    """Names of the results files (one per recording page) of the book."""
    return [f.stem for f in recording_sources(root)]


def collect(results_dir: Path | None = None, pages: list[str] | None = None) -> dict:
    results_dir = results_dir or ROOT / "_build" / "results"
    out = {}
    for page in pages if pages is not None else book_pages():
        path = results_dir / f"{page}.json"
        if not path.is_file():
            raise FileNotFoundError(f"No recorded results for page {page!r} ({path}): build the book first.")
        record = json.loads(path.read_text(encoding="utf-8"))
        out[page] = {"values": {k: v["value"] for k, v in record["values"].items()},
                     "tables": record["tables"], "table_meta": record.get("table_meta", {})}
    return out


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) or isinstance(b, float):
            if math.isnan(a) and math.isnan(b):
                return True
            return abs(a - b) <= ABS_TOL + REL_TOL * abs(b)
        return a == b
    return a == b


def differences(current: dict, expected: dict) -> list[str]:
    diffs = []
    for page in sorted(set(current) | set(expected)):
        if page not in expected:
            diffs.append(f"{page}: new page (not in the expected results)")
            continue
        if page not in current:
            diffs.append(f"{page}: missing from the current results")
            continue
        cur, exp = current[page], expected[page]
        for key in sorted(set(cur["values"]) | set(exp["values"])):
            if key not in exp["values"]:
                diffs.append(f"{page}.{key}: new value {cur['values'][key]!r}")
            elif key not in cur["values"]:
                diffs.append(f"{page}.{key}: no longer recorded (expected {exp['values'][key]!r})")
            elif not _same(cur["values"][key], exp["values"][key]):
                diffs.append(f"{page}.{key}: {cur['values'][key]!r} != expected {exp['values'][key]!r}")
        for key in sorted(set(cur["tables"]) | set(exp["tables"])):
            if key not in exp["tables"] or key not in cur["tables"]:
                diffs.append(f"{page} table {key}: present in only one of current/expected")
                continue
            a, b = cur["tables"][key], exp["tables"][key]
            if len(a) != len(b):
                diffs.append(f"{page} table {key}: {len(a)} rows != expected {len(b)}")
                continue
            for i, (ra, rb) in enumerate(zip(a, b)):
                if set(ra) != set(rb):
                    diffs.append(f"{page} table {key}: columns {sorted(ra)} != expected {sorted(rb)}")
                    break
                bad = [c for c in ra if not _same(ra[c], rb[c])]
                if bad:
                    diffs.append(f"{page} table {key} row {i}: {', '.join(f'{c}={ra[c]!r} (expected {rb[c]!r})' for c in bad)}")
    return diffs


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compare"
    current = collect()
    if command == "accept":
        EXPECTED.write_text(json.dumps(current, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        n_values = sum(len(p["values"]) for p in current.values())
        print(f"Expected results updated: {len(current)} pages, {n_values} values ({EXPECTED.relative_to(ROOT)}). "
              "Review the change with `git diff` before committing.")
        return 0
    if command == "compare":
        expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
        diffs = differences(current, expected)
        if diffs:
            print(f"{len(diffs)} differences from {EXPECTED.relative_to(ROOT)}:")
            print("\n".join(f"  {d}" for d in diffs[:200]))
            print("If the change is deliberate, run `make results` and commit the updated file.")
            return 1
        print(f"Results match {EXPECTED.relative_to(ROOT)} ({len(current)} pages).")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
