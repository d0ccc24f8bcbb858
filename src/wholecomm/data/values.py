"""Values, one rule for every field: types, constraints and the typed columns of a frame."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .contract import FALSE_VALUES, MISSING_VALUES, TRUE_VALUES
from .problems import DataError, Problem, excerpt

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_INT_RE = re.compile(r"[+-]?[0-9]+")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s]+")
#: Above this many distinct values a column's integers and numbers are checked with numpy first.
_FAST_MIN = 2_000
_NUMBER_BYTES = np.zeros(256, dtype=bool)
_NUMBER_BYTES[list(b"0123456789+-.eE")] = True
_NUMBER_BYTES[0] = True  # padding of numpy's fixed-width byte strings


@dataclass
class _Issue:
    rule: str
    mask: np.ndarray  # rows (of a chunk) breaking the rule
    examples: list


class _Field:
    """One field's rules, applied to the distinct values of a column, then mapped to its rows."""

    def __init__(self, fld: dict, missing: Iterable[str]):
        self.fld = fld
        self.name, self.type = fld["name"], fld["type"]
        self.cons = fld.get("constraints", {})
        self.required = bool(self.cons.get("required")) or False
        self.missing = list(missing)
        self.enum = self.cons.get("enum")
        self.true = list(fld.get("trueValues", TRUE_VALUES))
        self.false = list(fld.get("falseValues", FALSE_VALUES))
        self.decimal = fld.get("decimalChar", ".")
        self.pattern = re.compile(self.cons["pattern"]) if "pattern" in self.cons else None
        self.dense = False

    # -- distinct values -> (status per unique, typed value per unique)
    def _fast_numbers(self, u: np.ndarray, missing: np.ndarray) -> np.ndarray | None:
        """Typed values of many distinct integers or numbers, with numpy, when every one of them
        is plainly well formed (ASCII digits, sign, point, exponent; no whitespace; within
        range); None otherwise (then the value-by-value path finds and names the bad ones)."""
        try:
            b = u[~missing].astype("S")
        except (UnicodeEncodeError, ValueError):
            return None
        if b.size == 0 or b.itemsize == 0:
            return None
        if self.type == "integer":
            body = np.strings.lstrip(b, b"+-")
            length, digits = np.strings.str_len(b), np.strings.str_len(body)
            if not np.all(np.strings.isdigit(body) & (digits > 0) & (length - digits <= 1) & (digits <= 18)):
                return None
            parsed = b.astype(np.int64)
            values = np.zeros(u.size, dtype=np.int64)
        else:
            if self.decimal != "." or not _NUMBER_BYTES[b.view(np.uint8)].all():
                return None
            try:
                parsed = b.astype(np.float64)
            except ValueError:
                return None
            if not np.isfinite(parsed).all():
                return None
            values = np.zeros(u.size, dtype=np.float64)
        values[~missing] = parsed
        return values

    def check_uniques(self, u: np.ndarray) -> tuple[list[tuple[str, np.ndarray]], np.ndarray, np.ndarray]:
        """Rules broken by each distinct value (list of (rule, mask)), missing mask, typed values."""
        k = u.size
        missing = np.zeros(k, bool)
        for marker in self.missing:
            missing |= u == marker
        issues: list[tuple[str, np.ndarray]] = []
        fast = (
            self._fast_numbers(u, missing) if k > _FAST_MIN and self.type in ("integer", "number") else None
        )
        if fast is not None:
            todo, values = ~missing, fast
        else:
            ws = np.fromiter((s != s.strip() for s in u), bool, k) & ~missing
            if ws.any():
                issues.append(("values must not begin or end with whitespace (nothing is trimmed)", ws))
            parse = self._PARSERS.get(self.type)
            if parse is None:
                raise DataError(
                    [
                        Problem(
                            Path("datapackage.json"),
                            f"field type {self.type!r} is not supported",
                            (self.name,),
                        )
                    ]
                )
            values, todo = parse(self, u, ~missing & ~ws, issues)
        issues += self._constraint_issues(u, values, todo)
        if self.required:
            issues.append(("constraint-error: a value is required (the cell is missing)", missing))
        return [(r, m) for r, m in issues if m.any()], missing, values

    # -- one parser per type: (typed values, mask of values still to check), issues appended
    def _parse_integer(self, u: np.ndarray, todo: np.ndarray, issues: list) -> tuple[np.ndarray, np.ndarray]:
        k = u.size
        ok = np.fromiter((bool(_INT_RE.fullmatch(s)) for s in u), bool, k)
        issues.append(("type-error: integer expected (ASCII digits with an optional sign)", todo & ~ok))
        todo = todo & ok
        ints = [int(s) if t else 0 for s, t in zip(u, todo, strict=False)]
        big = np.fromiter((not INT64_MIN <= v <= INT64_MAX for v in ints), bool, k) & todo
        issues.append((f"integer out of the 64-bit range {INT64_MIN}..{INT64_MAX}", big))
        todo &= ~big
        values = np.array([v if t else 0 for v, t in zip(ints, todo, strict=False)], dtype=np.int64)
        return values, todo

    def _parse_number(self, u: np.ndarray, todo: np.ndarray, issues: list) -> tuple[np.ndarray, np.ndarray]:
        text = (
            u
            if self.decimal == "."
            else np.array([s.replace(self.decimal, ".") if "." not in s else s for s in u], dtype=object)
        )
        ok = np.fromiter((bool(_NUM_RE.fullmatch(s)) for s in text), bool, u.size)
        issues.append(
            (
                "type-error: number expected (digits, one decimal "
                f"{'point' if self.decimal == '.' else 'comma'}, optional exponent)",
                todo & ~ok,
            )
        )
        todo = todo & ok
        values = np.array(
            [float(s) if t else 0.0 for s, t in zip(text, todo, strict=False)], dtype=np.float64
        )
        inf = todo & ~np.isfinite(values)
        issues.append(("number out of the range of 64-bit floating point", inf))
        return values, todo & ~inf

    def _parse_boolean(self, u: np.ndarray, todo: np.ndarray, issues: list) -> tuple[np.ndarray, np.ndarray]:
        t_ = np.isin(u, self.true)
        f_ = np.isin(u, self.false)
        issues.append((f"type-error: boolean expected (one of {self.true + self.false})", todo & ~(t_ | f_)))
        return t_, todo & (t_ | f_)

    def _parse_string(self, u: np.ndarray, todo: np.ndarray, issues: list) -> tuple[np.ndarray, np.ndarray]:
        if self.fld.get("format") == "uri":
            ok = np.fromiter((bool(_URI_RE.fullmatch(s)) for s in u), bool, u.size)
            issues.append(("format-error: a URI expected (scheme://...)", todo & ~ok))
            todo = todo & ok
        return u, todo

    _PARSERS = {
        "integer": _parse_integer,
        "number": _parse_number,
        "boolean": _parse_boolean,
        "string": _parse_string,
    }

    def _constraint_issues(
        self, u: np.ndarray, values: np.ndarray, todo: np.ndarray
    ) -> list[tuple[str, np.ndarray]]:
        """enum, minimum/maximum (numbers), pattern and length (text) of the well-typed values."""
        issues: list[tuple[str, np.ndarray]] = []
        if self.enum is not None:
            allowed = [str(e) for e in self.enum] if self.type == "string" else self.enum
            issues.append(
                (f"constraint-error: value must be one of {self.enum}", todo & ~np.isin(values, allowed))
            )
        if self.type in ("integer", "number"):
            for key, op, word in (
                ("minimum", np.less, "at least"),
                ("maximum", np.greater, "at most"),
                ("exclusiveMinimum", np.less_equal, "above"),
                ("exclusiveMaximum", np.greater_equal, "below"),
            ):
                if key in self.cons:
                    bad = todo & op(values, self.cons[key])
                    issues.append((f"constraint-error: value must be {word} {self.cons[key]} ({key})", bad))
        if self.type != "string":
            return issues
        if self.pattern is not None:
            ok = np.fromiter((bool(self.pattern.fullmatch(s)) for s in u), bool, u.size)
            issues.append(
                (f"constraint-error: value must match the pattern {self.cons['pattern']!r}", todo & ~ok)
            )
        for key, op, word in (("minLength", np.less, "at least"), ("maxLength", np.greater, "at most")):
            if key in self.cons:
                lengths = np.fromiter((len(s) for s in u), np.int64, u.size)
                issues.append(
                    (
                        f"constraint-error: value must have {word} {self.cons[key]} characters ({key})",
                        todo & op(lengths, self.cons[key]),
                    )
                )
        return issues

    def convert(self, col: np.ndarray) -> tuple[dict, list[_Issue]]:
        """Typed pieces of one chunk: ``{"values", "missing"}`` per row, and the broken rules."""
        if self.dense:  # (nearly) every value distinct, as in an id column: skip the hashing
            codes, uniq = np.arange(col.size), col
        else:
            codes, uniq = pd.factorize(col)
            self.dense = col.size >= 10_000 and len(uniq) > 0.5 * col.size
        uniq = np.asarray(uniq, dtype=object)
        issues_u, missing_u, values_u = self.check_uniques(uniq)
        issues = []
        for rule, mask_u in issues_u:
            bad_codes = np.flatnonzero(mask_u)
            mask = np.isin(codes, bad_codes)
            examples = [uniq[c] for c in pd.unique(codes[mask])[:3]]
            issues.append(_Issue(rule, mask, examples))
        missing = missing_u[codes]
        if self.type == "string" and self.enum is not None:
            pos = {str(e): i for i, e in enumerate(self.enum)}
            enum_code = np.array([pos.get(s, -1) for s in uniq], dtype=np.int32)
            enum_code[missing_u] = -1
            values = enum_code[codes]
        elif self.type == "string":
            values = np.asarray(values_u, dtype=object)[codes]
        else:
            values = values_u[codes]
        return {"values": values, "missing": missing}, issues

    def assemble(self, pieces: list[dict]) -> pd.api.extensions.ExtensionArray | np.ndarray:
        values = np.concatenate([p["values"] for p in pieces]) if pieces else np.zeros(0)
        missing = np.concatenate([p["missing"] for p in pieces]) if pieces else np.zeros(0, bool)
        if self.type == "string" and self.enum is not None:
            return pd.Categorical.from_codes(values.astype(np.int32), categories=self.enum)
        if self.type == "string":
            out = values.astype(object)
            out[missing] = None
            return pd.array(out, dtype="string")
        if self.type == "integer":
            if self.required:
                return values.astype(np.int64)
            return pd.arrays.IntegerArray(values.astype(np.int64), missing)
        if self.type == "number":
            out = values.astype(np.float64)
            out[missing] = np.nan
            return out
        if self.type == "boolean":
            if self.required:
                return values.astype(bool)
            return pd.arrays.BooleanArray(values.astype(bool), missing)
        raise AssertionError(self.type)


class _Collector:
    """Broken rules of one file, accumulated over chunks (lines, count, a few examples)."""

    def __init__(self, path: Path):
        self.path = path
        self.found: dict[tuple, dict] = {}

    def add(
        self, columns: tuple[str, ...], rule: str, lines: np.ndarray, examples=(), detail: str = ""
    ) -> None:
        entry = self.found.setdefault(
            (columns, rule), {"lines": [], "n": 0, "examples": [], "detail": detail}
        )
        entry["n"] += int(lines.size)
        if sum(len(x) for x in entry["lines"]) < 10:
            entry["lines"].append(lines[:10])
        for ex in examples:
            if ex not in entry["examples"] and len(entry["examples"]) < 3:
                entry["examples"].append(ex)

    def problems(self) -> list[Problem]:
        out = []
        for (columns, rule), e in self.found.items():
            lines = tuple(int(x) for x in np.concatenate(e["lines"])[:10]) if e["lines"] else ()
            detail = e["detail"]
            if e["examples"]:
                label = "Value" if len(e["examples"]) == 1 else "Values"
                detail = (
                    detail + " " if detail else ""
                ) + f"{label}: {', '.join(excerpt(x) for x in e['examples'])}"
            out.append(Problem(self.path, rule, columns, lines, detail, n_rows=e["n"]))
        return out


def _typed_columns(
    chunks: Iterable[pd.DataFrame], res: dict, lines: np.ndarray | None, coll: _Collector
) -> pd.DataFrame:
    missing = res["schema"].get("missingValues", list(MISSING_VALUES))
    fields = [_Field(f, missing) for f in res["schema"]["fields"]]
    pieces: dict[str, list] = {f.name: [] for f in fields}
    offset = 0
    for chunk in chunks:
        n = len(chunk)
        chunk_lines = lines[offset : offset + n] if lines is not None else np.arange(offset, offset + n) + 2
        for f in fields:
            col = chunk[f.name].to_numpy(dtype=object)
            typed, issues = f.convert(col)
            pieces[f.name].append(typed)
            for issue in issues:
                coll.add((f.name,), issue.rule, chunk_lines[issue.mask], issue.examples)
        offset += n
    return pd.DataFrame({f.name: f.assemble(pieces[f.name]) for f in fields})


def _typed(raw: pd.DataFrame, res: dict) -> pd.DataFrame:
    """Type a frame of text cells (as read with ``dtype=str``) under ``res``'s schema, exactly as
    :func:`~wholecomm.data.loading.load` does; raises :class:`~wholecomm.data.problems.DataError` on a broken rule."""
    coll = _Collector(Path(res.get("_file", res.get("path", res["name"]))))
    frame = _typed_columns([raw.astype(object).fillna("")], res, None, coll)
    if coll.found:
        raise DataError(coll.problems())
    frame.index = raw.index
    return frame
