"""One resource read and typed under the rules validated; its keys and foreign keys checked."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import _norm_fk, _norm_pk
from .problems import Problem, excerpt
from .structure import _file_bytes, _scan, _Structure
from .values import _Collector, _typed_columns

#: Rows parsed per chunk: bounds the memory of the string cells alive at once.
CHUNK_ROWS = 200_000


def _read_resource(res: dict) -> tuple[pd.DataFrame | None, np.ndarray | None, list[Problem]]:
    """Parse and type one file under exactly the rules validated; return (frame, line numbers, problems)."""
    path = Path(res["_file"])
    raw, problems = _file_bytes(res)
    if raw is None:
        return None, None, problems
    dialect = res.get("dialect", {})
    delim, quote = dialect.get("delimiter", ","), dialect.get("quoteChar", '"')
    structure, found = _scan(raw, ord(delim), ord(quote), path)
    problems += found
    if structure is None or found:
        return None, None, problems
    header_problems = _header_problems(structure, [f["name"] for f in res["schema"]["fields"]], delim, path)
    if header_problems:
        return None, None, problems + header_problems
    reader = pd.read_csv(
        io.BytesIO(raw),
        sep=delim,
        quotechar=quote,
        doublequote=True,
        dtype=object,
        na_filter=False,
        keep_default_na=False,
        skip_blank_lines=False,
        engine="c",
        encoding="utf-8",
        header=0,
        nrows=int(structure.lines.size),
        chunksize=CHUNK_ROWS,
    )
    coll = _Collector(path)
    lines = structure.lines
    with reader:
        frame = _typed_columns(reader, res, lines, coll)
    if len(frame) != lines.size:  # the scan and the parser must agree on every record
        return (
            None,
            None,
            [
                Problem(
                    path,
                    "the file's structure could not be read unambiguously",
                    detail=f"{lines.size} records by line scan, {len(frame)} by the CSV parser",
                )
            ],
        )
    problems += coll.problems()
    _key_problems(frame, res, lines, coll := _Collector(path))
    problems += coll.problems()
    return frame, lines, problems


def _header_problems(structure: _Structure, expected: list[str], delim: str, path: Path) -> list[Problem]:
    """The header names each of the book's columns once (another delimiter is recognised and
    named), and at least one row follows it."""
    header = structure.header
    if len(header) == 1 and len(expected) > 1 and delim not in header[0]:
        text = header[0]
        guess = max((";", "\t", "|", ","), key=text.count)
        if text.count(guess):
            return [
                Problem(
                    path,
                    f"columns must be separated by {delim!r}",
                    rows=(1,),
                    detail=f"The header line has no {delim!r}; it looks separated "
                    f"by {guess!r}. Re-export it with {delim!r} or declare the "
                    "delimiter in a datapackage.json",
                )
            ]
    problems = []
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        problems.append(Problem(path, "each column must appear once in the header", tuple(dup), (1,)))
    missing = [c for c in expected if c not in header]
    extra = [h for h in header if h not in expected]
    for col in missing:
        near = [h for h in extra if h.strip().lower() == col.lower()]
        hint = f" The header has {excerpt(near[0])}: remove the whitespace or fix the case." if near else ""
        problems.append(
            Problem(
                path,
                "the header must name every column of the book's schema",
                (col,),
                (1,),
                detail=f"Column {col!r} is missing.{hint}",
            )
        )
    if extra:
        problems.append(
            Problem(
                path,
                "the header may only name columns of the book's schema",
                tuple(extra),
                (1,),
                detail=f"Expected only {expected}",
            )
        )
    if not problems and structure.lines.size == 0:
        problems.append(
            Problem(
                path,
                "file has no rows",
                rows=(1,),
                detail="It has a header but no data; every resource needs at least one row",
            )
        )
    return problems


def _key_problems(frame: pd.DataFrame, res: dict, lines: np.ndarray, coll: _Collector) -> None:
    schema = res["schema"]
    keys = []
    pk = _norm_pk(schema.get("primaryKey"))
    if pk:
        keys.append((tuple(pk), "primary-key"))
    for fld in schema["fields"]:
        if fld.get("constraints", {}).get("unique") and [fld["name"]] != pk:
            keys.append(((fld["name"],), "unique"))
    for cols, kind in keys:
        sub = frame[list(cols)]
        incomplete = sub.isna().any(axis=1).to_numpy()
        if kind == "primary-key" and incomplete.any():
            coll.add(cols, "primary-key: every row needs a complete key", lines[incomplete])
        dup = sub.duplicated(keep="first").to_numpy() & ~incomplete
        if dup.any():
            first = sub.duplicated(keep=False).to_numpy() & ~dup & ~incomplete
            shown = ", ".join(str(x) for x in lines[first][:5])
            coll.add(
                cols,
                f"{kind}: each row must have a different {' + '.join(cols)}",
                lines[dup],
                [" / ".join(str(v) for v in row) for row in sub[dup].head(3).itertuples(index=False)],
                detail=f"These lines repeat a key already used (first uses on lines {shown}).",
            )


def _foreign_key_problems(
    frames: dict[str, pd.DataFrame], lines: dict[str, np.ndarray], desc: dict, valid: set[str]
) -> list[Problem]:
    problems = []
    by_name = {r["name"]: r for r in desc["resources"]}
    for res in desc["resources"]:
        name = res["name"]
        if name not in valid:
            continue
        for fields, ref_name, ref_fields in _norm_fk(res["schema"].get("foreignKeys")):
            if ref_name not in valid or ref_name not in frames:
                continue  # the referenced file is reported on its own
            child = frames[name][list(fields)]
            parent = frames[ref_name][list(ref_fields or fields)]
            present = child.notna().all(axis=1).to_numpy()
            child_key = (
                pd.MultiIndex.from_frame(child.astype(object))
                if len(fields) > 1
                else pd.Index(child.iloc[:, 0].astype(object))
            )
            parent_key = (
                pd.MultiIndex.from_frame(parent.astype(object))
                if len(fields) > 1
                else pd.Index(parent.iloc[:, 0].astype(object))
            )
            bad = present & ~child_key.isin(parent_key)
            if bad.any():
                values = pd.Series(np.asarray(child_key, dtype=object)[bad])
                first_lines = lines[name][bad]
                counts = values.value_counts(sort=False)
                shown = []
                for v in list(counts.index)[:5]:
                    at = first_lines[(values == v).to_numpy()][:3]
                    shown.append(
                        f"{excerpt(v if not isinstance(v, tuple) else ' / '.join(map(str, v)))} "
                        f"({counts[v]} row{'s' if counts[v] != 1 else ''}, line"
                        f"{'s' if len(at) > 1 else ''} {', '.join(map(str, at))})"
                    )
                more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
                ref_file = Path(by_name[ref_name]["_file"]).name
                problems.append(
                    Problem(
                        Path(res["_file"]),
                        f"foreign-key: each value must exist in {ref_name}."
                        f"{' + '.join(ref_fields or fields)} ({ref_file})",
                        tuple(fields),
                        tuple(int(x) for x in first_lines[:10]),
                        detail=f"{int(bad.sum())} rows refer to {len(counts)} unknown value"
                        f"{'s' if len(counts) != 1 else ''}: {'; '.join(shown)}{more}",
                        n_rows=int(bad.sum()),
                    )
                )
    return problems
