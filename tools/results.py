"""Recorded results of the book: compare the last build with the expected results, or accept it.

Each notebook page records its glued values and published tables in
``_build/results/<page>.json`` while the book builds (``wholecomm.book.Page``). The
expected results are committed in ``tests/expected_results.json``.

    python tools/results.py compare   # exit 1 and list the differences if any (the tests do this)
    python tools/results.py accept    # `make results`: the current results become the expected ones
    python tools/results.py changelog # what a reader sees changed, as CHANGELOG.md lines

``accept`` also prints the ``changelog`` lines: paste them under "Changed results" in the
Unreleased section of CHANGELOG.md, with the reason for the change.

Comparison policy (the same on every machine; see "Results and reproducibility" in the README):

* **What a reader sees is compared exactly**: the text of every glued value as formatted
  on the page, and every cell of every published table as rendered.
* **Structure is compared exactly**: the pages, the keys of the glued values, the tables,
  their columns and their number of rows.
* **Integers, text, booleans and missing values are compared exactly** (counts, ids,
  verdicts, labels). Lists (e.g. an interval's two bounds) are compared element by element.
* **Other numbers are compared with a tolerance that fits how they are computed**:
  - closed-form values (means, shares, intervals, statistics, and everything computed by
    a fixed sequence of arithmetic): ``|a - b| <= 1e-12 + 1e-9 * |b|``;
  - values from iterative fits (marked ``fit=True`` when recorded; maximum-likelihood and
    REML fits): ``|a - b| <= 1e-12 + 1e-6 * |b|``;
  - p-values (a key or column named ``p``, ``p_value``, ``p_*`` or ``*_p``) are compared on
    the log scale, which treats 1e-150 and 0.05 with the same relative care:
    ``|ln a - ln b| <= 1e-9`` (closed form) or ``1e-6`` (fits); a recorded p-value outside
    [0, 1] is itself a difference.

The measured spread between two BLAS kernels (``OPENBLAS_CORETYPE=Haswell`` and
``Prescott``) is below 1e-12 relative for every recorded value, so each tolerance has a
margin of at least a thousand while a change in the fourth significant digit of any
number, or in any character a reader sees, fails the gate.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected_results.json"

#: (relative, absolute) tolerances for numbers, by how they are computed.
TOLERANCES = {"closed": (1e-9, 1e-12), "fit": (1e-6, 1e-12)}
#: Tolerance on |ln a - ln b| for p-values, by how they are computed.
P_LOG_TOLERANCES = {"closed": 1e-9, "fit": 1e-6}
P_NAME = re.compile(r"^(p|p_value|p_.*|.*_p)$")


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
        out[page] = {
            "values": record["values"],
            "tables": record["tables"],
            "table_meta": record.get("table_meta", {}),
            "rendered": record.get("rendered", {}),
        }
    return out


# ------------------------------------------------------------------ comparison
def is_p_value(name: str) -> bool:
    """Whether a recorded value or column holds p-values (by the naming convention above)."""
    return bool(P_NAME.match(name))


def same_number(a: float, b: float, kind: str = "closed", p_value: bool = False) -> bool:
    """Equality of two recorded numbers under the policy of this module."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    if p_value:
        if not (0 <= a <= 1 and 0 <= b <= 1):
            return False
        tiny = 1e-300  # p-values this small (or 0 after underflow) are all equally "< 0.001"
        if a < tiny or b < tiny:
            return a < tiny and b < tiny
        return abs(math.log(a) - math.log(b)) <= P_LOG_TOLERANCES[kind]
    rel, abs_tol = TOLERANCES[kind]
    return abs(a - b) <= abs_tol + rel * abs(b)


def same(a, b, kind: str = "closed", p_value: bool = False) -> bool:
    """Equality of two recorded values: exact for integers, text, booleans and missing
    values; by :func:`same_number` for floats; element by element for lists."""
    if isinstance(a, list) or isinstance(b, list):
        return (
            isinstance(a, list)
            and isinstance(b, list)
            and len(a) == len(b)
            and all(same(x, y, kind, p_value) for x, y in zip(a, b, strict=False))
        )
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, float) or isinstance(b, float):
            return same_number(float(a), float(b), kind, p_value)
        return a == b
    return a == b


def _matched(cur: dict, exp: dict, diffs: list[str], new, gone):
    """Keys present in both ``cur`` and ``exp``, sorted; a message for each key in only one
    of them (``new(key)`` or ``gone(key)``) is appended to ``diffs``."""
    for key in sorted(set(cur) | set(exp)):
        if key not in exp:
            diffs.append(new(key))
        elif key not in cur:
            diffs.append(gone(key))
        else:
            yield key


def _value_diffs(page: str, cur: dict, exp: dict) -> list[str]:
    diffs: list[str] = []
    for key in _matched(
        cur,
        exp,
        diffs,
        lambda k: f"{page}.{k}: new value {cur[k].get('value')!r}",
        lambda k: f"{page}.{k}: no longer recorded (expected {exp[k].get('value')!r})",
    ):
        c, e = cur[key], exp[key]
        if c.get("text") != e.get("text"):
            diffs.append(f"{page}.{key}: text {c.get('text')!r} != expected {e.get('text')!r}")
        kind = "fit" if (c.get("fit") or e.get("fit")) else "closed"
        if not same(c.get("value"), e.get("value"), kind, is_p_value(key)):
            diffs.append(
                f"{page}.{key}: {c.get('value')!r} != expected {e.get('value')!r} ({kind} tolerance)"
            )
    return diffs


def _table_diffs(page: str, key: str, a: list, b: list, kind: str) -> list[str]:
    if len(a) != len(b):
        return [f"{page} table {key}: {len(a)} rows != expected {len(b)}"]
    diffs = []
    for i, (ra, rb) in enumerate(zip(a, b, strict=False)):
        if set(ra) != set(rb):
            return [f"{page} table {key}: columns {sorted(ra)} != expected {sorted(rb)}"]
        bad = [c for c in ra if not same(ra[c], rb[c], kind, is_p_value(c))]
        if bad:
            diffs.append(
                f"{page} table {key} row {i}: "
                + ", ".join(f"{c}={ra[c]!r} (expected {rb[c]!r})" for c in bad)
            )
    return diffs


def _rendered_diffs(page: str, key: str, a: list | None, b: list | None) -> list[str]:
    if a == b:
        return []
    if a is None or b is None:
        return [f"{page} table {key}: rendered cells recorded in only one of current/expected"]
    if len(a) != len(b):
        return [f"{page} table {key}: {len(a) - 1} rendered rows != expected {len(b) - 1}"]
    diffs = []
    for i, (ra, rb) in enumerate(zip(a, b, strict=False)):
        if ra != rb:
            where = "header" if i == 0 else f"row {i - 1}"
            cells = [
                f"{j}: {x!r} (expected {y!r})" for j, (x, y) in enumerate(zip(ra, rb, strict=False)) if x != y
            ]
            diffs.append(f"{page} table {key} {where} as shown: " + ("; ".join(cells) or f"{ra} != {rb}"))
    return diffs


def differences(current: dict, expected: dict) -> list[str]:
    """Every difference between two collections of recorded results, under the policy above."""
    diffs: list[str] = []
    for page in _matched(
        current,
        expected,
        diffs,
        lambda p: f"{p}: new page (not in the expected results)",
        lambda p: f"{p}: missing from the current results",
    ):
        cur, exp = current[page], expected[page]
        diffs += _value_diffs(page, cur["values"], exp["values"])
        for key in sorted(set(cur["tables"]) | set(exp["tables"])):
            if key not in exp["tables"] or key not in cur["tables"]:
                diffs.append(f"{page} table {key}: present in only one of current/expected")
                continue
            meta = {**exp.get("table_meta", {}).get(key, {}), **cur.get("table_meta", {}).get(key, {})}
            kind = "fit" if meta.get("fit") else "closed"
            diffs += _table_diffs(page, key, cur["tables"][key], exp["tables"][key], kind)
            diffs += _rendered_diffs(
                page, key, cur.get("rendered", {}).get(key), exp.get("rendered", {}).get(key)
            )
    return diffs


def shown_text(results: dict) -> dict:
    """Only what a reader sees: each page's glued texts and rendered tables."""
    return {
        page: {
            "values": {k: v.get("text") for k, v in rec["values"].items()},
            "rendered": rec.get("rendered", {}),
        }
        for page, rec in results.items()
    }


def changelog(current: dict, expected: dict) -> list[str]:
    """Markdown lines, one per page, of what a reader sees change between ``expected`` and
    ``current``: glued values with their old and new text, and the tables whose rendered
    cells or rows changed; pages and keys that appear or go are named."""
    now, before = shown_text(current), shown_text(expected)
    lines = []
    for page in sorted(set(now) | set(before)):
        if page not in before:
            lines.append(f"- `{page}`: new page.")
            continue
        if page not in now:
            lines.append(f"- `{page}`: page removed.")
            continue
        new, old = now[page], before[page]
        parts = []
        for key in sorted(set(new["values"]) | set(old["values"])):
            a, b = old["values"].get(key), new["values"].get(key)
            if a != b:
                parts.append(
                    f"`{key}` {'new: ' + repr(b) if a is None else 'removed' if b is None else f'{a!r} -> {b!r}'}"
                )
        tables = sorted(
            k
            for k in set(new["rendered"]) | set(old["rendered"])
            if new["rendered"].get(k) != old["rendered"].get(k)
        )
        if tables:
            parts.append("tables " + ", ".join(f"`{t}`" for t in tables))
        if parts:
            lines.append(f"- `{page}`: " + "; ".join(parts) + ".")
    return lines


def largest_spread(current: dict, expected: dict) -> list[tuple[float, str]]:
    """Relative differences of every recorded float between two collections (largest
    first), for reports: ``[(relative difference, "page.key"), ...]``."""
    out: list[tuple[float, str]] = []

    def walk(a, b, where: str) -> None:
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                walk(x, y, f"{where}[{i}]")
        elif (
            isinstance(a, float) and isinstance(b, float) and math.isfinite(a) and math.isfinite(b) and a != b
        ):
            out.append((abs(a - b) / max(abs(b), 1e-300), where))

    for page in sorted(set(current) & set(expected)):
        cur, exp = current[page], expected[page]
        for key in sorted(set(cur["values"]) & set(exp["values"])):
            walk(cur["values"][key].get("value"), exp["values"][key].get("value"), f"{page}.{key}")
        for key in sorted(set(cur["tables"]) & set(exp["tables"])):
            for i, (ra, rb) in enumerate(zip(cur["tables"][key], exp["tables"][key], strict=False)):
                for col in sorted(set(ra) & set(rb)):
                    walk(ra[col], rb[col], f"{page} table {key} row {i} {col}")
    return sorted(out, reverse=True)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compare"
    current = collect()
    if command == "changelog":
        print("\n".join(changelog(current, json.loads(EXPECTED.read_text(encoding="utf-8")))) or "No change.")
        return 0
    if command == "accept":
        before = json.loads(EXPECTED.read_text(encoding="utf-8")) if EXPECTED.is_file() else {}
        notes = changelog(current, before)
        EXPECTED.write_text(
            json.dumps(current, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        n_values = sum(len(p["values"]) for p in current.values())
        print(
            f"Expected results updated: {len(current)} pages, {n_values} values ({EXPECTED.relative_to(ROOT)}). "
            "Review the change with `git diff` before committing."
        )
        if notes:
            print("What a reader sees changed (for CHANGELOG.md, Unreleased, with the reason):")
            print("\n".join(notes))
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
