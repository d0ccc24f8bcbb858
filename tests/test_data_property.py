"""Property: whatever happens to a valid data folder, loading it either gives exactly the values
written in the files, or raises a DataError that names the changed file. Never another
exception, never a changed value.

The files are changed at random (inserting, deleting or replacing a few characters drawn
from those that break CSV files and number parsers, duplicating, swapping or truncating
lines, invalid bytes). When the load succeeds, every cell is compared with an independent
reading of the file by Python's ``csv`` module."""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wholecomm import data

ROOT = Path(__file__).resolve().parents[1]
SURVEY_ROWS = 150  # a shorter survey keeps each example fast; it stays a valid package
STUDY_FILES = sorted(p.name for p in (ROOT / "data").glob("*.csv") if p.name != "mipex2020_national.csv")
TOKENS = [
    ",",
    '"',
    '""',
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\x00",
    "\x1b",
    "\u00a0",
    "\ufeff",
    "0",
    "1",
    "9",
    "-",
    "+",
    ".",
    "e",
    "E",
    "_",
    "a",
    "x",
    "true",
    "false",
    "NA",
    "AT-01",
    "SE-99",
    "\uff15",
    "\u00e9",
    ";",
    "9223372036854775808",
    "1e999",
    "nan",
    "inf",
    "0.001",
    "100000",
]


def _base_folder() -> Path:
    base = Path(tempfile.mkdtemp(prefix="wholecomm-prop-base-"))
    for name in STUDY_FILES:
        shutil.copy(ROOT / "data" / name, base / name)
    lines = (base / "survey.csv").read_text(encoding="utf-8").split("\n")
    (base / "survey.csv").write_text("\n".join(lines[: SURVEY_ROWS + 1]) + "\n", encoding="utf-8")
    return base


@pytest.fixture(scope="module")
def base_folder():
    base = _base_folder()
    saved = {k: os.environ.get(k) for k in ("WHOLECOMM_DATA", "WHOLECOMM_DATA_CACHE")}
    os.environ["WHOLECOMM_DATA_CACHE"] = "off"
    os.environ["WHOLECOMM_DATA"] = str(base)
    try:
        data.load_all()  # the unchanged base folder is valid
        yield base
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- mutations
snippets = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4).map("".join)


@st.composite
def mutations(draw):
    name = draw(st.sampled_from(STUDY_FILES))
    kind = draw(
        st.sampled_from(
            [
                "insert",
                "delete",
                "replace",
                "duplicate_line",
                "swap_lines",
                "truncate",
                "bad_bytes",
                "replace_cell",
            ]
        )
    )
    return name, kind, draw(snippets), draw(st.floats(0, 1)), draw(st.floats(0, 1)), draw(st.integers(1, 12))


def mutate(path: Path, kind: str, snippet: str, u: float, v: float, k: int) -> None:
    raw = path.read_bytes()
    if kind == "bad_bytes":
        pos = int(u * len(raw))
        path.write_bytes(raw[:pos] + b"\xff\xfe"[: 1 + k % 2] + raw[pos:])
        return
    text = raw.decode("utf-8")
    pos = int(u * len(text))
    lines = text.split("\n")
    i, j = int(u * (len(lines) - 1)), int(v * (len(lines) - 1))
    if kind == "insert":
        text = text[:pos] + snippet + text[pos:]
    elif kind == "delete":
        text = text[:pos] + text[pos + k :]
    elif kind == "replace":
        text = text[:pos] + snippet + text[pos + k :]
    elif kind == "duplicate_line":
        lines.insert(j, lines[i])
        text = "\n".join(lines)
    elif kind == "swap_lines":
        lines[i], lines[j] = lines[j], lines[i]
        text = "\n".join(lines)
    elif kind == "truncate":
        text = text[:pos]
    elif kind == "replace_cell":  # a whole cell replaced: keeps the structure, tests the value rules
        rows = list(csv.reader(io.StringIO(text, newline="")))
        r = 1 + int(u * (len(rows) - 2)) if len(rows) > 1 else 0
        c = int(v * (len(rows[r]) - 1)) if rows[r] else 0
        if rows[r]:
            rows[r][c] = snippet if k % 3 else rows[r][c] + snippet
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        text = buf.getvalue()
    path.write_bytes(text.encode("utf-8"))


# ---------------------------------------------------------------- oracle
def file_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    """The file as Python's csv module reads it (trailing empty lines are not rows)."""
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    while rows and rows[-1] == []:
        rows.pop()
    return rows[0], rows[1:]


def assert_values_as_written(frame: pd.DataFrame, res: dict, path: Path) -> None:
    header, rows = file_cells(path)
    assert len(frame) == len(rows), f"{path.name}: {len(frame)} rows loaded, {len(rows)} in the file"
    fields = {f["name"]: f for f in res["schema"]["fields"]}
    assert sorted(header) == sorted(fields)
    for idx, name in enumerate(header):
        ftype = fields[name]["type"]
        for r, (cell, value) in enumerate(
            zip((row[idx] for row in rows), frame[name].tolist(), strict=False)
        ):
            where = f"{path.name} line-record {r + 1} column {name}: file {cell!r}, loaded {value!r}"
            if cell == "":
                assert value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)), (
                    where
                )
            elif ftype == "integer":
                assert int(cell) == value and -(2**63) <= value < 2**63, where
            elif ftype == "number":
                assert float(cell) == value, where
            elif ftype == "boolean":
                assert value is (cell in data.TRUE_VALUES) and cell in (
                    *data.TRUE_VALUES,
                    *data.FALSE_VALUES,
                ), where
            else:
                assert str(value) == cell, where


def check_one(base: Path, name: str, kind: str, snippet: str, u: float, v: float, k: int) -> str:
    """Apply one mutation to a copy of ``base``; return how the load ended ('loaded' or 'DataError')."""
    folder = Path(tempfile.mkdtemp(prefix="wholecomm-prop-"))
    try:
        for f in STUDY_FILES:
            shutil.copy(base / f, folder / f)
        mutate(folder / name, kind, snippet, u, v, k)
        os.environ["WHOLECOMM_DATA"] = str(folder)
        try:
            frames = data.load_all()
        except data.DataError as exc:
            assert name in str(exc), f"the error does not name {name}:\n{exc}"
            return "DataError"
        desc = data.descriptor()
        for res in desc["resources"]:
            if res["_origin"] == "user":
                assert_values_as_written(frames[res["name"]], res, Path(res["_file"]))
        return "loaded"
    finally:
        os.environ["WHOLECOMM_DATA"] = str(base)
        shutil.rmtree(folder, ignore_errors=True)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutation=mutations())
def test_a_changed_file_loads_as_written_or_raises_a_data_error_naming_it(base_folder, mutation):
    check_one(base_folder, *mutation)
