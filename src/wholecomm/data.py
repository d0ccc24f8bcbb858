"""The data layer: one entry point, :func:`load`, that returns validated, typed DataFrames.

Every resource is described in ``datapackage.json`` (a Frictionless data package):
fields, types, units, constraints, primary and foreign keys, provenance and sha256.
On first use the whole package is validated, and the frames the analyses get are the
frames that were validated: the validator and the reader are one parse path.

1. **Descriptor.** The book's ``data/datapackage.json`` is the contract. A user's data
   folder may hold its own ``datapackage.json``; it may say how the files are written
   (``encoding``, ``dialect`` delimiter and quote character, ``missingValues``,
   ``trueValues``/``falseValues``, ``decimalChar``) and carry descriptive metadata,
   but every field, type, constraint, primary key and foreign key must be the book's.
   All differences are listed in one :class:`DataError`. Every resource ``path`` must
   be a relative path that resolves inside the data folder (no absolute path, no
   ``..``, no symbolic link leaving the folder, no list of files).
2. **File structure**, checked on the bytes: the declared encoding; no control
   characters (NUL, ...; a tab only as the delimiter); quotes only around whole fields
   and closed; the same number of fields on every line as in the header; no blank lines
   between rows (blank lines at the very end are not rows and are ignored); a header
   naming each of the book's columns once (in any order); at least one row; the sha256
   checksum when the package records one.
3. **Values**, one rule for every field: a value is used exactly as written. Leading or
   trailing whitespace is an error, never trimmed; a cell equal to one of the
   resource's missing-value markers (default: empty) is missing. Integers are ASCII
   digits with an optional sign and must fit in 64 bits; numbers are decimal literals
   (finite); booleans are one of the field's true/false values; then ``required``,
   ``enum``, ``minimum``/``maximum``, ``pattern``, ``minLength``/``maxLength``,
   ``unique``.
4. **Keys**: primary keys unique and complete; foreign keys resolved (grouped per column,
   with a count and the first values and lines); checked only when the referenced file is
   itself valid, so one broken file is reported once.
5. **Cross-field rules** that a column schema cannot express (listed in ``ROW_RULES``).

Any failure raises :class:`DataError` naming the file, the columns, the physical line
numbers of the file (the header being line 1, a quoted line break counting as a line),
the broken rule and what to do; cell values are quoted as short escaped excerpts.
Nothing is dropped, coerced, trimmed or filled.

Validated frames are cached (a pickle per state, keyed by the sha256 of every file, the
effective descriptor and this module's code) in ``_build/data-cache`` of the book, or in
``$WHOLECOMM_DATA_CACHE`` (``off`` disables it): the build validates once and every
notebook kernel and the ``wholecomm`` command reuse the result. Writes are atomic, so
concurrent kernels never read a partial file.

To run the book on other files (for example the real data), set ``WHOLECOMM_DATA`` to a
directory holding CSV files with the same names and columns. Without its own
``datapackage.json`` the book's schema applies (UTF-8, comma-separated, empty cells
missing) and checksums are not checked. Published reference resources missing from that
directory are taken from the book's own package. Resources of a user's package that are
not part of the book's are not read.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import pickle
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd

from . import paths
from .errors import InputError

#: Smallest number of respondents a published locality-level survey cell may rest on.
MIN_CELL_DEFAULT = 10

TRUE_VALUES = ("true", "True", "TRUE", "1")
FALSE_VALUES = ("false", "False", "FALSE", "0")
MISSING_VALUES = ("",)
CACHE_ENV = "WHOLECOMM_DATA_CACHE"
#: Rows parsed per chunk: bounds the memory of the string cells alive at once.
CHUNK_ROWS = 200_000
#: Longest excerpt of a cell quoted in a message.
EXCERPT_CHARS = 40
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_INT_RE = re.compile(r"[+-]?[0-9]+")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s]+")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")
_TEXT_BYTES = bytes(range(32, 127)) + bytes(range(128, 256)) + b"\n\r"
#: Above this many distinct values a column's integers and numbers are checked with numpy first.
_FAST_MIN = 2_000
_NUMBER_BYTES = np.zeros(256, dtype=bool)
_NUMBER_BYTES[list(b"0123456789+-.eE")] = True
_NUMBER_BYTES[0] = True  # padding of numpy's fixed-width byte strings


def excerpt(value, limit: int = EXCERPT_CHARS) -> str:
    """A cell as it may appear in a message: escaped (``repr``) and at most ``limit`` characters."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


# --------------------------------------------------------------------------- errors
@dataclass
class Problem:
    """One broken rule in one file."""

    file: Path
    rule: str
    columns: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()
    detail: str = ""
    n_rows: int | None = None  # the number of lines when ``rows`` lists only the first ones

    def describe(self, max_rows: int = 10) -> str:
        where = []
        if self.columns:
            label = "column" if len(self.columns) == 1 else "columns"
            where.append(f"{label} {', '.join(excerpt(c) for c in self.columns)}")
        if self.rows:
            total = self.n_rows if self.n_rows is not None else len(self.rows)
            shown = ", ".join(str(r) for r in self.rows[:max_rows])
            more = f" and {total - min(max_rows, len(self.rows))} more" if total > max_rows else ""
            noun = "line" if total == 1 else "lines"
            where.append(f"{noun} {shown}{more} ({total} in all)")
        loc = "; ".join(where) if where else "whole file"
        text = f"{self.file}: {loc}: broken rule: {self.rule}"
        if self.detail:
            text += f". {self.detail}"
        return text


def _advice(problems: list[Problem]) -> str:
    try:
        book = paths.book_data_dir().resolve()
        user = paths.uses_user_data()
    except Exception:  # noqa: BLE001 - advice must never hide the problems
        return "Fix the file(s) named above and run again."
    if not user and all(Path(p.file).resolve().is_relative_to(book) for p in problems):
        return (
            "These are the book's own files (the synthetic twin): restore them (`git checkout data/`) "
            "or regenerate them with `make data`."
        )
    return (
        f"Fix the file(s) named above in your data folder ({paths.DATA_ENV}={paths.data_dir()}) and run "
        f"again, or unset {paths.DATA_ENV} to use the book's synthetic twin."
    )


class DataError(InputError):
    """Bad input data. ``problems`` lists each broken rule with file, columns and rows."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p.describe()}" for p in problems)
        super().__init__(
            f"The data failed validation ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}); nothing was dropped or corrected:\n{lines}\n"
            f"What to do: {_advice(problems)}"
        )

    @property
    def files(self) -> list[str]:
        return sorted({str(p.file) for p in self.problems})


# ----------------------------------------------------------------------- descriptor
def _read_json(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(
            [
                Problem(
                    path,
                    "the data package descriptor must be readable",
                    detail=f"{type(exc).__name__}: {exc.strerror or exc}",
                )
            ]
        ) from None
    try:
        desc = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            [
                Problem(
                    path,
                    "the data package descriptor must be UTF-8 encoded JSON",
                    rows=(line,),
                    detail="Re-save it as UTF-8.",
                )
            ]
        ) from None
    except json.JSONDecodeError as exc:
        raise DataError(
            [
                Problem(
                    path,
                    "the data package descriptor must be valid JSON",
                    rows=(exc.lineno,),
                    detail=f"{exc.msg} (line {exc.lineno}, column {exc.colno}).",
                )
            ]
        ) from None
    if (
        not isinstance(desc, dict)
        or not isinstance(desc.get("resources"), list)
        or not all(isinstance(r, dict) and isinstance(r.get("name"), str) for r in desc["resources"])
    ):
        raise DataError(
            [
                Problem(
                    path,
                    "the data package descriptor must be an object with a list of "
                    "'resources', each an object with a 'name'",
                )
            ]
        )
    return desc


def _confined(base: Path, rel, pkg: Path, name: str) -> tuple[Path | None, Problem | None]:
    """The file of resource ``name``: ``rel`` must resolve inside ``base``."""

    def bad(why: str) -> tuple[None, Problem]:
        shown = excerpt(rel) if isinstance(rel, str) else type(rel).__name__
        return None, Problem(
            pkg,
            f"the path of resource {name!r} must be one relative file name inside the data folder {base}",
            detail=f"Found {shown}: {why}.",
        )

    if not isinstance(rel, str):
        return bad("a list of files or a non-text path is not supported")
    if not rel or "\x00" in rel:
        return bad("it is empty or has a NUL character")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", rel) and not PureWindowsPath(rel).drive:
        return bad("a URL is not a file in the data folder")
    if PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).is_absolute() or PureWindowsPath(rel).drive:
        return bad("an absolute path")
    if ".." in PurePosixPath(rel.replace("\\", "/")).parts:
        return bad("'..' leaves the data folder")
    target = (base / rel).resolve()
    if not target.is_relative_to(base.resolve()):
        return bad(f"it resolves to {target}, outside the folder (a symbolic link?)")
    return base / rel, None


def _norm_fk(fks) -> list:
    out = []
    for fk in fks or []:
        fields = fk.get("fields") if isinstance(fk, dict) else fk
        ref = fk.get("reference", {}) if isinstance(fk, dict) else {}
        as_list = lambda v: [v] if isinstance(v, str) else list(v or [])  # noqa: E731
        out.append(
            (
                tuple(as_list(fields)),
                ref.get("resource", "") if isinstance(ref, dict) else ref,
                tuple(as_list(ref.get("fields") if isinstance(ref, dict) else None)),
            )
        )
    return sorted(out, key=repr)


def _norm_pk(pk) -> list:
    return [pk] if isinstance(pk, str) else list(pk or [])


#: Keys of a user's resource that say how the file is written or describe it, and may differ.
_FREE_RESOURCE_KEYS = {
    "name",
    "path",
    "title",
    "description",
    "provenance",
    "hash",
    "bytes",
    "profile",
    "format",
    "mediatype",
    "encoding",
    "dialect",
    "schema",
    "licenses",
    "sources",
    "scheme",
    "homepage",
    "version",
    "keywords",
    "contributors",
}
_FREE_SCHEMA_KEYS = {
    "fields",
    "missingValues",
    "primaryKey",
    "foreignKeys",
    "profile",
    "title",
    "description",
}
_FREE_FIELD_KEYS = {
    "name",
    "type",
    "constraints",
    "title",
    "description",
    "unit",
    "trueValues",
    "falseValues",
    "decimalChar",
    "example",
    "rdfType",
    "format",
}
_DIALECT_KEYS = {
    "delimiter",
    "quoteChar",
    "doubleQuote",
    "header",
    "lineTerminator",
    "skipInitialSpace",
    "caseSensitiveHeader",
    "csvddfVersion",
}


def _contract_problems(book_res: dict, res: dict, pkg: Path) -> list[Problem]:
    """Differences between a user's resource and the book's that the user may not make."""
    name = book_res["name"]
    out: list[Problem] = []

    def add(rule: str, found, columns: tuple[str, ...] = ()) -> None:
        out.append(
            Problem(
                pkg,
                f"resource {name!r}: {rule}",
                columns,
                detail=f"Found {found}. A data package may say how its files are written but not "
                "change the book's schema; remove the difference or copy the book's "
                "data/datapackage.json and edit only encoding, dialect and missing values",
            )
        )

    for key in sorted(set(res) - _FREE_RESOURCE_KEYS):
        add(f"key {key!r} is not supported", excerpt(json.dumps(res[key]))[:80])
    schema = res.get("schema")
    if (
        not isinstance(schema, dict)
        or not isinstance(schema.get("fields"), list)
        or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in schema["fields"])
    ):
        add("'schema' must be an object with a list of 'fields', each with a 'name'", "something else")
        return out
    for key in sorted(set(schema) - _FREE_SCHEMA_KEYS):
        add(f"schema key {key!r} is not supported", excerpt(json.dumps(schema[key]))[:80])
    ours = {f["name"]: f for f in book_res["schema"]["fields"]}
    theirs: dict[str, dict] = {}
    for f in schema["fields"]:
        if f["name"] in theirs:
            add(f"field {f['name']!r} must be described once", "it twice", (f["name"],))
        theirs[f["name"]] = f
    for fname in ours.keys() - theirs.keys():
        add(f"field {fname!r} of the book's schema is missing", "no such field", (fname,))
    for fname in theirs.keys() - ours.keys():
        add(f"field {fname!r} is not in the book's schema", "an extra field", (fname,))
    for fname in [n for n in ours if n in theirs]:
        mine, yours = ours[fname], theirs[fname]
        if yours.get("type") != mine["type"]:
            add(f"field {fname!r} must have type {mine['type']!r}", repr(yours.get("type")), (fname,))
        for key in sorted(set(yours) - _FREE_FIELD_KEYS):
            add(f"field key {key!r} is not supported", excerpt(json.dumps(yours[key]))[:80], (fname,))
        if yours.get("format", mine.get("format")) != mine.get("format"):
            add(
                f"field {fname!r} must have format {mine.get('format')!r}",
                repr(yours.get("format")),
                (fname,),
            )
        c_mine, c_yours = mine.get("constraints", {}), yours.get("constraints", {})
        if not isinstance(c_yours, dict):
            add(f"constraints of field {fname!r} must be an object", type(c_yours).__name__, (fname,))
            continue
        for key in sorted(set(c_mine) | set(c_yours)):
            if c_mine.get(key) != c_yours.get(key):
                want = f"{c_mine[key]!r}" if key in c_mine else "absent"
                add(
                    f"constraint {key!r} of field {fname!r} must be {want} as in the book's schema",
                    excerpt(json.dumps(c_yours[key]), 80) if key in c_yours else "it absent",
                    (fname,),
                )
        for key in ("trueValues", "falseValues"):
            vals = yours.get(key)
            if vals is not None and not (
                isinstance(vals, list) and vals and all(isinstance(v, str) for v in vals)
            ):
                add(
                    f"{key} of field {fname!r} must be a list of strings", excerpt(json.dumps(vals)), (fname,)
                )
        dec = yours.get("decimalChar")
        if dec is not None and dec not in (".", ","):
            add(f"decimalChar of field {fname!r} must be '.' or ','", excerpt(dec), (fname,))
    if _norm_pk(schema.get("primaryKey")) != _norm_pk(book_res["schema"].get("primaryKey")):
        add(
            f"primaryKey must be {_norm_pk(book_res['schema'].get('primaryKey'))} as in the book's schema",
            _norm_pk(schema.get("primaryKey")),
        )
    try:
        fk_theirs = _norm_fk(schema.get("foreignKeys"))
    except (AttributeError, TypeError):
        fk_theirs = None
    fk_ours = _norm_fk(book_res["schema"].get("foreignKeys"))
    if fk_theirs != fk_ours:
        shown = "; ".join(f"{' + '.join(a)} -> {b}.{' + '.join(c or a)}" for a, b, c in fk_ours) or "none"
        add(
            f"foreignKeys must be [{shown}] as in the book's schema",
            excerpt(json.dumps(schema.get("foreignKeys")), 120),
        )
    missing = schema.get("missingValues", list(MISSING_VALUES))
    if not (isinstance(missing, list) and all(isinstance(v, str) for v in missing)):
        add("missingValues must be a list of strings", excerpt(json.dumps(missing)))
    enc = res.get("encoding", "utf-8")
    if not isinstance(enc, str):
        add("encoding must be a text", excerpt(json.dumps(enc)))
    else:
        import codecs

        try:
            codecs.lookup(enc)
        except LookupError:
            add("encoding must be an encoding Python knows (for example 'utf-8', 'cp1252')", excerpt(enc))
    dialect = res.get("dialect", {})
    if not isinstance(dialect, dict):
        add("dialect must be an object", excerpt(json.dumps(dialect)))
    else:
        for key in sorted(set(dialect) - _DIALECT_KEYS):
            add(f"dialect key {key!r} is not supported", excerpt(json.dumps(dialect[key])))
        for key, default in (("delimiter", ","), ("quoteChar", '"')):
            val = dialect.get(key, default)
            if not (isinstance(val, str) and len(val) == 1 and val.isascii() and val not in "\r\n"):
                add(f"dialect {key} must be one ASCII character other than a line break", excerpt(val))
        if dialect.get("delimiter", ",") == dialect.get("quoteChar", '"'):
            add("dialect delimiter and quoteChar must differ", excerpt(dialect.get("delimiter", ",")))
        for key, want in (("header", True), ("doubleQuote", True), ("skipInitialSpace", False)):
            if dialect.get(key, want) is not want:
                add(
                    f"dialect {key} must be {str(want).lower()} (the only form supported)",
                    excerpt(dialect[key]),
                )
    hsh = res.get("hash")
    if hsh is not None and not (isinstance(hsh, str) and re.fullmatch(r"(sha256:)?[0-9a-fA-F]{64}", hsh)):
        add("hash must be a sha256 digest ('sha256:' and 64 hexadecimal digits)", excerpt(hsh))
    return out


def descriptor() -> dict:
    """The data package descriptor in use, with each resource's ``path`` resolved.

    Adds two keys per resource: ``_file`` (absolute path of the CSV) and ``_origin``
    (``"book"`` or ``"user"``). Raises :class:`DataError` when a user's package breaks
    the book's contract or a path leaves the data folder.
    """
    return copy.deepcopy(_descriptor_cached(str(paths.data_dir()), str(paths.book_data_dir()), _pkg_state()))


def _pkg_state() -> tuple:
    """The descriptors' contents (small files), so an edited datapackage.json is read again."""
    out = []
    for d in (paths.data_dir(), paths.book_data_dir()):
        try:
            out.append(hashlib.sha256((d / paths.PACKAGE_FILE).read_bytes()).hexdigest())
        except OSError:
            out.append(None)
    return tuple(out)


_DESC_MEMO: dict[tuple, dict] = {}


def _descriptor_cached(data_dir: str, book_dir: str, state: tuple) -> dict:
    key = (data_dir, book_dir, state)
    if key not in _DESC_MEMO:
        _DESC_MEMO.clear()
        _DESC_MEMO[key] = _build_descriptor(Path(data_dir), Path(book_dir))
    return _DESC_MEMO[key]


def _build_descriptor(data: Path, book: Path) -> dict:
    book_pkg = book / paths.PACKAGE_FILE
    book_desc = _read_json(book_pkg)
    problems: list[Problem] = []
    if data.resolve() == book.resolve():
        desc = book_desc
        for res in desc["resources"]:
            res["_file"], prob = _confined(book, res.get("path"), book_pkg, res["name"])
            res["_origin"] = "book"
            problems += [prob] if prob else []
        if problems:
            raise DataError(problems)
        for res in desc["resources"]:
            res["_file"] = str(res["_file"])
        return desc
    user_pkg = data / paths.PACKAGE_FILE
    if user_pkg.is_file():
        user_desc = _read_json(user_pkg)
        theirs: dict[str, dict] = {}
        for res in user_desc["resources"]:
            if res["name"] in theirs:
                problems.append(Problem(user_pkg, f"resource {res['name']!r} must be described once"))
            theirs[res["name"]] = res
        desc = {k: v for k, v in book_desc.items() if k != "resources"}
        desc["resources"] = []
        for book_res in book_desc["resources"]:
            res = copy.deepcopy(book_res)
            user_res = theirs.get(book_res["name"])
            if user_res is None:
                if res.get("provenance", {}).get("kind") != "published":
                    res["provenance"] = {"kind": "user", "directory": str(data)}
                    res.pop("hash", None)
                    res.pop("bytes", None)
            else:
                found = _contract_problems(book_res, user_res, user_pkg)
                problems += found
                if found:
                    continue
                for key in ("path", "encoding", "dialect", "hash", "bytes", "title", "description"):
                    if key in user_res:
                        res[key] = user_res[key]
                    else:
                        res.pop(key, None) if key in ("hash", "bytes") else None
                res["provenance"] = user_res.get("provenance", {"kind": "user", "directory": str(data)})
                if "missingValues" in user_res["schema"]:
                    res["schema"]["missingValues"] = user_res["schema"]["missingValues"]
                yours = {f["name"]: f for f in user_res["schema"]["fields"]}
                for fld in res["schema"]["fields"]:
                    for key in ("trueValues", "falseValues", "decimalChar"):
                        if key in yours[fld["name"]]:
                            fld[key] = yours[fld["name"]][key]
            desc["resources"].append(res)
    else:
        desc = copy.deepcopy(book_desc)
        desc["provenance"] = {"kind": "user"}
        for res in desc["resources"]:
            if res.get("provenance", {}).get("kind") == "published":
                continue
            # The book's checksums and provenance describe the book's files, not these.
            res.pop("hash", None)
            res.pop("bytes", None)
            res["provenance"] = {"kind": "user", "directory": str(data)}
    origin_pkg = user_pkg if user_pkg.is_file() else data
    for res in desc["resources"]:
        if problems:
            break
        user_file, prob = _confined(data, res.get("path"), origin_pkg, res["name"])
        if prob:
            problems.append(prob)
            continue
        if res.get("provenance", {}).get("kind") == "published" and not user_file.exists():
            res["_file"], prob = _confined(book, res.get("path"), book_pkg, res["name"])
            res["_origin"] = "book"
            problems += [prob] if prob else []
        else:
            res["_file"] = user_file
            res["_origin"] = "user"
    if problems:
        raise DataError(problems)
    for res in desc["resources"]:
        res["_file"] = str(res["_file"])
    return desc


def resource_descriptor(name: str) -> dict:
    for res in descriptor()["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(r["name"] for r in descriptor()["resources"])
    raise KeyError(f"No resource {name!r} in the data package. Known resources: {known}.")


def resource_names() -> list[str]:
    return [r["name"] for r in descriptor()["resources"]]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------- file structure
def _lines_of(raw: bytes, positions: Iterable[int]) -> tuple[int, ...]:
    return tuple(raw.count(b"\n", 0, p) + 1 for p in positions)


@dataclass
class _Structure:
    header: list[str]
    lines: np.ndarray  # physical line of each data record
    n_fields: np.ndarray  # fields of each data record


def _scan(raw: bytes, delim: int, quote: int, path: Path) -> tuple[_Structure | None, list[Problem]]:
    """Records, their physical lines and field counts, from the bytes (vectorised, in blocks).

    Quotes may only open a field and close it (doubled inside a quoted field)."""
    a = np.frombuffer(raw, dtype=np.uint8)
    n = a.size
    qpos = np.flatnonzero(a == quote)
    problems: list[Problem] = []
    if qpos.size:
        # parity of the quotes before each quote: even = it opens a field, odd = it closes one
        opens = qpos[0::2]
        closes = qpos[1::2]
        before = np.where(opens > 0, a[np.maximum(opens - 1, 0)], 10)
        bad_open = opens[~np.isin(before, (delim, 10, quote)) & (opens > 0)]
        after = np.where(closes + 1 < n, a[np.minimum(closes + 1, n - 1)], 10)
        bad_close = closes[~np.isin(after, (delim, 10, 13, quote))]
        stray = np.sort(np.concatenate([bad_open, bad_close]))
        if stray.size:
            problems.append(
                Problem(
                    path,
                    "a quote character may only enclose a whole field (and is doubled inside it)",
                    rows=_lines_of(raw, stray[:10]),
                    n_rows=int(stray.size),
                    detail="Quote the whole field, or remove the stray quote",
                )
            )
        if qpos.size % 2:
            line = raw.count(b"\n", 0, int(qpos[-1] if not stray.size else stray[0])) + 1
            problems.append(
                Problem(
                    path,
                    f"unclosed quote starting at line {line}",
                    rows=(line,),
                    detail="A quoted field runs to the end of the file; close the quote",
                )
            )
        if problems:
            return None, problems
    # record boundaries: newlines outside quotes; delimiters outside quotes counted per record
    block = 1 << 24
    parity = 0
    nl_before = 0  # newlines (inside or outside quotes) before the block
    ends, end_lines, delim_cum = [], [], []
    delim_total = 0
    for lo in range(0, n, block):
        blk = a[lo : lo + block]
        q = blk == quote
        par = (np.cumsum(q, dtype=np.uint8) & 1) ^ parity if qpos.size else None
        nl = np.flatnonzero(blk == 10)
        dl = np.flatnonzero(blk == delim)
        if par is not None:
            nl_out = nl[par[nl] == 0]
            dl = dl[par[dl] == 0]
            nl_idx = np.searchsorted(nl, nl_out)
            parity = int(par[-1])
        else:
            nl_out, nl_idx = nl, np.arange(nl.size)
        ends.append(nl_out + lo)
        end_lines.append(nl_idx + nl_before + 1)  # physical line on which each record ends
        delim_cum.append(np.searchsorted(dl, nl_out) + delim_total)
        delim_total += dl.size
        nl_before += nl.size
    ends_a = np.concatenate(ends) if ends else np.zeros(0, np.int64)
    end_lines_a = np.concatenate(end_lines) if end_lines else np.zeros(0, np.int64)
    cum = np.concatenate(delim_cum) if delim_cum else np.zeros(0, np.int64)
    if ends_a.size == 0 or ends_a[-1] != n - 1:  # last record without a final newline
        ends_a = np.append(ends_a, n)
        end_lines_a = np.append(end_lines_a, nl_before + 1)
        cum = np.append(cum, delim_total)
    starts = np.concatenate([[0], ends_a[:-1] + 1])
    start_lines = np.concatenate([[1], end_lines_a[:-1] + 1])
    n_fields = np.diff(np.concatenate([[0], cum])) + 1
    length = ends_a - starts
    blank = (length == 0) | ((length == 1) & (a[np.minimum(starts, n - 1)] == 13))
    # blank lines at the end are not rows
    keep = len(blank)
    while keep > 0 and blank[keep - 1]:
        keep -= 1
    starts, start_lines, n_fields, blank = starts[:keep], start_lines[:keep], n_fields[:keep], blank[:keep]
    if keep == 0:
        return None, [Problem(path, "file must not be empty", detail="It has no header and no rows")]
    head_bytes = raw[starts[0] : ends_a[0]]
    header = next(
        csv.reader(io.StringIO(head_bytes.decode("utf-8")), delimiter=chr(delim), quotechar=chr(quote)), [""]
    )
    body_lines, body_fields, body_blank = start_lines[1:], n_fields[1:], blank[1:]
    if body_blank.any():
        rows = body_lines[body_blank]
        problems.append(
            Problem(
                path,
                "the file must not have blank lines between rows",
                rows=tuple(rows[:10].tolist()),
                n_rows=int(rows.size),
                detail="Delete the blank line(s)",
            )
        )
    wrong = (body_fields != len(header)) & ~body_blank
    if wrong.any():
        rows = body_lines[wrong]
        found = sorted(set(body_fields[wrong].tolist()))[:5]
        problems.append(
            Problem(
                path,
                f"every line must have as many fields as the header ({len(header)})",
                rows=tuple(rows[:10].tolist()),
                n_rows=int(rows.size),
                detail=f"Found {', '.join(map(str, found))} fields; check for an unquoted "
                f"{chr(delim)!r} inside a value or a missing separator",
            )
        )
    return _Structure(header, body_lines.astype(np.int64), body_fields), problems


def _file_bytes(res: dict) -> tuple[bytes | None, list[Problem]]:
    """The file's bytes as UTF-8 (decoded from the declared encoding), after file-level checks."""
    path = Path(res["_file"])
    if not path.is_file():
        return None, [
            Problem(
                path,
                f"file of resource {res['name']!r} must exist",
                detail="It is missing. Check the file name and the data directory "
                f"({paths.DATA_ENV} or the book's data/)",
            )
        ]
    raw = path.read_bytes()
    problems = []
    expected_hash = res.get("hash")
    if expected_hash:
        hexdigest = expected_hash.split(":")[-1].lower()
        actual = hashlib.sha256(raw).hexdigest()
        if actual != hexdigest:
            advice = (
                "Regenerate it (`make data`) or restore it"
                if res.get("_origin") == "book"
                else "Restore the file, or update the hash in the folder's datapackage.json if the change was "
                "deliberate"
            )
            problems.append(
                Problem(
                    path,
                    "sha256 checksum must match datapackage.json",
                    detail=f"Expected {hexdigest}, found {actual}: the file changed after it "
                    f"was packaged. {advice}",
                )
            )
    if not raw.strip():
        return None, [Problem(path, "file must not be empty", detail="It has no header and no rows")]
    enc = res.get("encoding", "utf-8")
    try:
        if codec_name(enc) == "utf-8":
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            raw.decode("utf-8")
        else:
            raw = raw.decode(enc).encode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Problem(
                path,
                f"file must be encoded as {enc.upper()}",
                rows=(line,),
                detail=f"Byte {raw[exc.start : exc.start + 1]!r} at offset {exc.start} cannot be "
                f"decoded; re-save the file as {enc.upper()} or declare its encoding in a "
                "datapackage.json",
            )
        ]
    delim = res.get("dialect", {}).get("delimiter", ",")
    hits = []
    allowed = _TEXT_BYTES + (b"\t" if delim == "\t" else b"")
    if not raw.translate(None, allowed) and raw.count(b"\r") == raw.count(b"\r\n"):
        return raw, problems  # no control character (one C-level pass; the search below only on a hit)
    for m in _CONTROL.finditer(raw):
        if chr(m.group()[0]) != delim:
            hits.append(m.start())
            if len(hits) >= 10:
                break
    if delim != "\t":
        tab = raw.find(b"\t")
        if tab >= 0:
            hits = sorted([*hits, tab])[:10]
    if hits:
        shown = sorted({raw[h : h + 1] for h in hits})
        problems.append(
            Problem(
                path,
                "values must not contain control characters (NUL, tab unless it is the "
                "delimiter, a carriage return without a line feed, ...)",
                rows=_lines_of(raw, hits),
                detail=f"Found {', '.join(map(repr, shown))}; re-export the file as plain text",
            )
        )
        return None, problems
    return raw, problems


def codec_name(enc: str) -> str:
    import codecs

    try:
        name = codecs.lookup(enc).name
    except LookupError:
        return enc
    return "utf-8" if name in ("utf-8", "utf-8-sig") else name


# --------------------------------------------------------------------- values
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
            todo = ~missing
            values = fast
        else:
            ws = np.fromiter((s != s.strip() for s in u), bool, k) & ~missing
            if ws.any():
                issues.append(("values must not begin or end with whitespace (nothing is trimmed)", ws))
            todo = ~missing & ~ws
        if fast is not None:
            pass
        elif self.type == "integer":
            ok = np.fromiter((bool(_INT_RE.fullmatch(s)) for s in u), bool, k)
            issues.append(("type-error: integer expected (ASCII digits with an optional sign)", todo & ~ok))
            todo &= ok
            ints = [int(s) if t else 0 for s, t in zip(u, todo, strict=False)]
            big = np.fromiter((not INT64_MIN <= v <= INT64_MAX for v in ints), bool, k) & todo
            issues.append((f"integer out of the 64-bit range {INT64_MIN}..{INT64_MAX}", big))
            todo &= ~big
            values = np.array([v if t else 0 for v, t in zip(ints, todo, strict=False)], dtype=np.int64)
        elif self.type == "number":
            text = (
                u
                if self.decimal == "."
                else np.array([s.replace(self.decimal, ".") if "." not in s else s for s in u], dtype=object)
            )
            ok = np.fromiter((bool(_NUM_RE.fullmatch(s)) for s in text), bool, k)
            issues.append(
                (
                    "type-error: number expected (digits, one decimal "
                    f"{'point' if self.decimal == '.' else 'comma'}, optional exponent)",
                    todo & ~ok,
                )
            )
            todo &= ok
            values = np.array(
                [float(s) if t else 0.0 for s, t in zip(text, todo, strict=False)], dtype=np.float64
            )
            inf = todo & ~np.isfinite(values)
            issues.append(("number out of the range of 64-bit floating point", inf))
            todo &= ~inf
        elif self.type == "boolean":
            t_ = np.isin(u, self.true)
            f_ = np.isin(u, self.false)
            issues.append(
                (f"type-error: boolean expected (one of {self.true + self.false})", todo & ~(t_ | f_))
            )
            todo &= t_ | f_
            values = t_
        elif self.type == "string":
            values = u
            fmt = self.fld.get("format")
            if fmt == "uri":
                ok = np.fromiter((bool(_URI_RE.fullmatch(s)) for s in u), bool, k)
                issues.append(("format-error: a URI expected (scheme://...)", todo & ~ok))
                todo &= ok
        else:
            raise DataError(
                [
                    Problem(
                        Path("datapackage.json"), f"field type {self.type!r} is not supported", (self.name,)
                    )
                ]
            )
        if self.enum is not None:
            allowed = [str(e) for e in self.enum] if self.type == "string" else self.enum
            bad = todo & ~np.isin(values, allowed)
            issues.append((f"constraint-error: value must be one of {self.enum}", bad))
        for key, op, word in (
            ("minimum", np.less, "at least"),
            ("maximum", np.greater, "at most"),
            ("exclusiveMinimum", np.less_equal, "above"),
            ("exclusiveMaximum", np.greater_equal, "below"),
        ):
            if key in self.cons and self.type in ("integer", "number"):
                bad = todo & op(values, self.cons[key])
                issues.append((f"constraint-error: value must be {word} {self.cons[key]} ({key})", bad))
        if self.type == "string":
            if self.pattern is not None:
                ok = np.fromiter((bool(self.pattern.fullmatch(s)) for s in u), bool, k)
                issues.append(
                    (f"constraint-error: value must match the pattern {self.cons['pattern']!r}", todo & ~ok)
                )
            for key, op, word in (("minLength", np.less, "at least"), ("maxLength", np.greater, "at most")):
                if key in self.cons:
                    lengths = np.fromiter((len(s) for s in u), np.int64, k)
                    issues.append(
                        (
                            f"constraint-error: value must have {word} {self.cons[key]} characters ({key})",
                            todo & op(lengths, self.cons[key]),
                        )
                    )
        if self.required:
            issues.append(("constraint-error: a value is required (the cell is missing)", missing))
        return [(r, m) for r, m in issues if m.any()], missing, values

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
    :func:`load` does; raises :class:`DataError` on a broken rule."""
    coll = _Collector(Path(res.get("_file", res.get("path", res["name"]))))
    frame = _typed_columns([raw.astype(object).fillna("")], res, None, coll)
    if coll.found:
        raise DataError(coll.problems())
    frame.index = raw.index
    return frame


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
    expected = [f["name"] for f in res["schema"]["fields"]]
    header = structure.header
    if len(header) == 1 and len(expected) > 1 and delim not in header[0]:
        text = header[0]
        guess = max((";", "\t", "|", ","), key=text.count)
        if text.count(guess):
            return (
                None,
                None,
                problems
                + [
                    Problem(
                        path,
                        f"columns must be separated by {delim!r}",
                        rows=(1,),
                        detail=f"The header line has no {delim!r}; it looks separated "
                        f"by {guess!r}. Re-export it with {delim!r} or declare the "
                        "delimiter in a datapackage.json",
                    )
                ],
            )
    head_problems = []
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        head_problems.append(Problem(path, "each column must appear once in the header", tuple(dup), (1,)))
    missing = [c for c in expected if c not in header]
    extra = [h for h in header if h not in expected]
    for col in missing:
        near = [h for h in extra if h.strip().lower() == col.lower()]
        hint = f" The header has {excerpt(near[0])}: remove the whitespace or fix the case." if near else ""
        head_problems.append(
            Problem(
                path,
                "the header must name every column of the book's schema",
                (col,),
                (1,),
                detail=f"Column {col!r} is missing.{hint}",
            )
        )
    if extra:
        head_problems.append(
            Problem(
                path,
                "the header may only name columns of the book's schema",
                tuple(extra),
                (1,),
                detail=f"Expected only {expected}",
            )
        )
    problems += head_problems
    if head_problems:
        return None, None, problems
    if structure.lines.size == 0:
        return (
            None,
            None,
            problems
            + [
                Problem(
                    path,
                    "file has no rows",
                    rows=(1,),
                    detail="It has a header but no data; every resource needs at least one row",
                )
            ],
        )
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


# ------------------------------------------------------------------- row rules
RowRule = Callable[[dict[str, pd.DataFrame]], Iterable[tuple[tuple[str, ...], pd.Series, str]]]
ROW_RULES: dict[str, list[RowRule]] = {}


def row_rule(resource: str) -> Callable[[RowRule], RowRule]:
    def register(fn: RowRule) -> RowRule:
        ROW_RULES.setdefault(resource, []).append(fn)
        return fn

    return register


SIZE_BOUNDS = {"rural_area": (0, 4_999), "small_town": (5_000, 49_999), "medium_town": (50_000, 250_000)}


def locality_type(localities: pd.DataFrame) -> pd.Series:
    """The locality type of each locality, by this book's own documented rule (its thresholds are
    the book's choice, not a typology published by Whole-COMM).

    * economy: ``thriving`` when the economic trend is improving or stable and
      unemployment is below 10 percent, otherwise ``struggling``;
    * diversity: ``experienced`` when the foreign-born share in 2014 was at least
      5 percent, otherwise ``new`` (new to diversity).
    """
    thriving = localities["economic_trend"].isin(["improving", "stable"]) & (
        localities["unemployment_rate"] < 10
    )
    experienced = localities["foreign_born_share_2014"] >= 5
    economy = np.where(thriving, "thriving", "struggling")
    diversity = np.where(experienced, "experienced", "new")
    return pd.Series(
        [f"{e}_{d}" for e, d in zip(economy, diversity, strict=False)],
        index=localities.index,
        name="locality_type",
    )


@row_rule("localities")
def _locality_rules(frames):
    loc = frames["localities"]
    lo = loc["size_class"].map(lambda s: SIZE_BOUNDS[s][0]).astype("int64")
    hi = loc["size_class"].map(lambda s: SIZE_BOUNDS[s][1]).astype("int64")
    yield (
        ("size_class", "population"),
        ~loc["population"].between(lo, hi),
        "population must lie in its size class (rural_area < 5,000; small_town 5,000-49,999; "
        "medium_town 50,000-250,000)",
    )
    yield (
        ("locality_type",),
        loc["locality_type"].astype(str) != locality_type(loc),
        "locality_type must follow the typology rule (see wholecomm.data.locality_type)",
    )


CONTACT_SETTINGS = ["work", "neighbourhood", "hobby", "sports", "leisure", "school", "religious"]


@row_rule("survey")
def _survey_rules(frames):
    sv = frames["survey"]
    any_contact = sv[[f"contact_{s}" for s in CONTACT_SETTINGS]].any(axis=1)
    yield (
        ("contact_none",),
        sv["contact_none"] == any_contact,
        "contact_none must be true exactly when no contact_* setting is true",
    )
    aware = sv["aware_measures"] == 1
    yield (
        ("aware_measures", "impact_measures"),
        aware == sv["impact_measures"].isna(),
        "impact_measures must be answered exactly when aware_measures = 1 (routing)",
    )


@row_rule("local_policies")
def _policy_rules(frames):
    lp = frames["local_policies"]
    present = lp["measure_present"]
    yield (
        ("measure_present", "approach"),
        present == (lp["approach"] == "none"),
        "approach must be 'none' exactly when measure_present is false",
    )
    for col in ("lead_actor", "main_funding"):
        yield (
            ("measure_present", col),
            present == lp[col].isna(),
            f"{col} must be given exactly when measure_present is true",
        )


@row_rule("population_margins")
def _margin_rules(frames):
    pm = frames["population_margins"]
    cells = pm.groupby("locality_id", observed=True).size()
    full = (
        len(pm["age_group"].cat.categories)
        * len(pm["gender"].cat.categories)
        * len(pm["education"].cat.categories)
    )
    bad = cells[cells != full].index
    yield (
        ("locality_id",),
        pm["locality_id"].isin(bad),
        f"every locality must have all {full} age x gender x education cells",
    )


@row_rule("mipex_l_options")
def _option_rules(frames):
    op = frames["mipex_l_options"]
    scores = op.groupby("indicator_id", observed=True)["score"].agg(["min", "max"])
    bad = scores[(scores["min"] != 0) | (scores["max"] != 100)].index
    yield (
        ("indicator_id", "score"),
        op["indicator_id"].isin(bad),
        "each indicator's options must include a 0 and a 100 score",
    )


@row_rule("mipex_l_answers")
def _answer_rules(frames):
    ans = frames["mipex_l_answers"]
    loc = frames["localities"].set_index("locality_id")
    n_ind = len(frames["mipex_l_indicators"])
    assessed = ans["locality_id"].map(loc["mipex_l_assessed"]).astype(bool)
    yield (
        ("locality_id",),
        ~assessed,
        f"answers may only be given for localities with mipex_l_assessed = true in "
        f"{Path(frames['localities'].attrs.get('file', 'localities.csv')).name}",
    )
    counts = ans.groupby("locality_id", observed=True)["indicator_id"].transform("size")
    yield (
        ("locality_id", "indicator_id"),
        counts != n_ind,
        f"each assessed locality must have one row for each of the {n_ind} indicators of "
        f"{Path(frames['mipex_l_indicators'].attrs.get('file', 'mipex_l_indicators.csv')).name} "
        "(an unanswered item is a row with an empty answer_code)",
    )


def _row_rule_problems(
    frames: dict[str, pd.DataFrame], names: Iterable[str], lines: dict[str, np.ndarray] | None = None
) -> list[Problem]:
    problems = []
    for name in names:
        for rule in ROW_RULES.get(name, []):
            for columns, mask, text in rule(frames):
                mask = pd.Series(mask, index=frames[name].index).fillna(False).astype(bool).to_numpy()
                if mask.any():
                    at = np.flatnonzero(mask)
                    line_of = lines.get(name) if lines else None
                    rows = line_of[at] if line_of is not None else at + 2
                    problems.append(
                        Problem(
                            Path(frames[name].attrs["file"]),
                            text,
                            columns,
                            tuple(int(r) for r in rows[:10]),
                            n_rows=int(at.size),
                        )
                    )
    return problems


# ---------------------------------------------------------------------- loading
#: Bumped when the cached format changes (the cache key also includes this module's code).
CACHE_VERSION = 1
_MEMO: dict = {}


def _validate(desc: dict) -> dict[str, pd.DataFrame]:
    """Validate every resource of ``desc`` and return the typed frames (raises :class:`DataError`)."""
    frames: dict[str, pd.DataFrame] = {}
    lines: dict[str, np.ndarray] = {}
    problems: list[Problem] = []
    valid: set[str] = set()
    for res in desc["resources"]:
        path = Path(res["_file"])
        try:
            frame, line_of, found = _read_resource(res)
        except DataError as exc:
            found, frame = (
                [Problem(path, p.rule, p.columns, p.rows, p.detail, p.n_rows) for p in exc.problems],
                None,
            )
        except Exception as exc:  # noqa: BLE001 - every failure inside load() is a DataError
            found, frame = (
                [
                    Problem(
                        path,
                        "the file could not be read",
                        detail=f"{type(exc).__name__}: {excerpt(exc, 200)}",
                    )
                ],
                None,
            )
        problems += found
        if frame is not None:
            frame.attrs["resource"] = res["name"]
            frame.attrs["file"] = res["_file"]
            frame.attrs["provenance"] = res.get("provenance", {})
            frames[res["name"]] = frame
            lines[res["name"]] = line_of
            if not found:
                valid.add(res["name"])
    problems += _foreign_key_problems(frames, lines, desc, valid)
    if problems:
        raise DataError(problems)
    names = [r["name"] for r in desc["resources"]]
    try:
        problems = _row_rule_problems(frames, names, lines)
    except Exception as exc:  # noqa: BLE001
        raise DataError(
            [
                Problem(
                    Path(desc["resources"][0]["_file"]).parent,
                    "a cross-field rule could not be checked",
                    detail=f"{type(exc).__name__}: {excerpt(exc, 200)}",
                )
            ]
        ) from exc
    if problems:
        raise DataError(problems)
    return frames


def cache_dir() -> Path | None:
    """Where validated frames are cached: ``$WHOLECOMM_DATA_CACHE`` (``off`` disables the cache),
    else ``_build/data-cache`` of the book."""
    override = os.environ.get(CACHE_ENV, "").strip()
    if override.lower() in ("off", "0", "no", "false"):
        return None
    return Path(override) if override else paths.build_dir() / "data-cache"


def _file_signature(desc: dict) -> tuple:
    out = []
    for res in desc["resources"]:
        try:
            st = os.stat(res["_file"])
            out.append((res["_file"], st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            out.append((res["_file"], None))
    return tuple(out)


def _file_digests(desc: dict, directory: Path | None) -> list[str]:
    """sha256 of each resource's file. A digest recorded in the cache directory's stat index is
    reused when the file's size, mtime and inode are unchanged and the file was already older
    than 2 s when the digest was taken (as git treats "racily clean" files); otherwise the
    file is hashed again."""
    index_path = directory / "stat-index.json" if directory is not None else None
    try:
        index = json.loads(index_path.read_text(encoding="utf-8")) if index_path else {}
    except (OSError, ValueError):
        index = {}
    out, changed = [], False
    for res in desc["resources"]:
        path = res["_file"]
        try:
            st = os.stat(path)
        except OSError:
            out.append("missing")
            continue
        stat = [st.st_size, st.st_mtime_ns, st.st_ino]
        entry = index.get(path)
        if entry and entry[:3] == stat and entry[4]:
            out.append(entry[3])
            continue
        digest = sha256(Path(path))
        index[path] = [*stat, digest, st.st_mtime_ns / 1e9 < time.time() - 2.0]
        changed = True
        out.append(digest)
    if changed and index_path is not None:
        try:
            index_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=index_path.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(index, fh)
            os.replace(tmp, index_path)
        except OSError:
            pass
    return out


def _content_key(desc: dict, directory: Path | None = None) -> str:
    digest = hashlib.sha256()
    digest.update(f"v{CACHE_VERSION} pandas {pd.__version__} numpy {np.__version__}\n".encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(json.dumps(desc, sort_keys=True, default=str).encode())
    for file_digest in _file_digests(desc, directory):
        digest.update(file_digest.encode())
    return digest.hexdigest()


def _cache_read(path: Path) -> dict[str, pd.DataFrame] | None:
    try:
        with path.open("rb") as fh:
            stored = pickle.load(fh)
        if stored.get("version") == CACHE_VERSION:
            return stored["frames"]
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        AttributeError,
        KeyError,
        TypeError,
        ValueError,
        ImportError,
        IndexError,
    ):
        pass
    return None


def _cache_write(directory: Path, path: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Write atomically (a temporary file renamed into place), so readers never see a partial file;
    keep the most recent entries only."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pkl")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(
                    {"version": CACHE_VERSION, "frames": frames}, fh, protocol=pickle.HIGHEST_PROTOCOL
                )
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        entries = sorted(directory.glob("*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[8:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only place: validate again next time


def _validated_frames() -> dict[str, pd.DataFrame]:
    desc = descriptor()
    signature = _file_signature(desc)
    now = time.time()
    memo = _MEMO.get("entry")
    # Trust the files' stat signature only when they are older than the moment it was taken
    # (a file rewritten within the same clock tick keeps its size and mtime).
    if memo and memo["signature"] == signature and memo["desc"] == desc and memo["settled"]:
        return memo["frames"]
    directory = cache_dir()
    key = _content_key(desc, directory)
    if memo and memo["key"] == key:
        frames = memo["frames"]
    else:
        target = directory / f"{key[:40]}.pkl" if directory is not None else None
        frames = _cache_read(target) if target is not None and target.is_file() else None
        if frames is None:
            frames = _validate(desc)
            if target is not None:
                _cache_write(directory, target, frames)
    newest = max((s[2] for s in signature if len(s) > 2), default=0) / 1e9
    _MEMO["entry"] = {
        "signature": signature,
        "desc": desc,
        "key": key,
        "frames": frames,
        "settled": newest < now - 2.0,
    }
    return frames


def _closure(desc: dict, names: Iterable[str]) -> list[str]:
    """``names`` and every resource their foreign keys point to, in package order."""
    by_name = {r["name"]: r for r in desc["resources"]}
    wanted, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        if name not in by_name:
            raise KeyError(f"Unknown resource {name!r}; the package has {', '.join(by_name)}.")
        wanted.add(name)
        todo += [
            fk["reference"]["resource"]
            for fk in by_name[name]["schema"].get("foreignKeys", [])
            if fk["reference"].get("resource")
        ]
    return [r["name"] for r in desc["resources"] if r["name"] in wanted]


def load_resources(names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Validate and return only ``names`` and the resources their foreign keys point to
    (the same checks as :func:`load`, restricted to those resources; cached the same way):
    for a program that needs a few small resources, such as the toolbox's command, and not
    the survey. When the whole package is already validated in this process, its frames
    are used."""
    desc = descriptor()
    names = list(names)
    memo = _MEMO.get("entry")
    if memo and memo["desc"] == desc and memo["settled"] and memo["signature"] == _file_signature(desc):
        return {name: memo["frames"][name].copy(deep=False) for name in names}
    wanted = _closure(desc, names)
    part = {**desc, "resources": [r for r in desc["resources"] if r["name"] in wanted]}
    directory = cache_dir()
    target = directory / f"{_content_key(part, directory)[:40]}.pkl" if directory is not None else None
    frames = _cache_read(target) if target is not None and target.is_file() else None
    if frames is None:
        frames = _validate(part)
        if target is not None:
            _cache_write(directory, target, frames)
    return {name: frames[name].copy(deep=False) for name in names}


def load_all() -> dict[str, pd.DataFrame]:
    """Validate the whole package (once per file state; cached across processes) and return every resource."""
    return {name: frame.copy(deep=False) for name, frame in _validated_frames().items()}


def load(name: str) -> pd.DataFrame:
    """Return resource ``name`` as a typed DataFrame, after validating the whole package;
    when the package fails only in files that ``name`` does not need (itself and the
    resources its foreign keys point to), after validating just those
    (:func:`load_resources`): a page depends only on the resources it uses, so a missing
    or broken file fails only the pages that read it.

    Enumerated text fields are categoricals in the order of the schema's enum;
    integers are ``int64`` (``Int64`` when optional); booleans are ``bool``
    (``boolean`` when optional). ``df.attrs`` records the resource name, file and
    provenance. Bad data raise :class:`DataError`; an unknown name raises ``KeyError``.
    """
    resource_descriptor(name)  # a clear KeyError for unknown names
    try:
        return _validated_frames()[name].copy(deep=False)
    except DataError as exc:
        desc = descriptor()
        needed = {
            Path(r["_file"]).resolve() for r in desc["resources"] if r["name"] in _closure(desc, [name])
        }
        if any(Path(p.file).resolve() in needed for p in exc.problems):
            raise
    return load_resources([name])[name]


def main(argv: list[str] | None = None) -> int:
    """Validate the data in use and print a one-paragraph summary (``python -m wholecomm.data``).

    Exit code 0 when valid, 2 with the problems on standard error otherwise."""
    import sys

    start = time.perf_counter()
    absent: list[str] = []
    try:
        frames = _validated_frames()
    except DataError as exc:
        # A page depends only on the resources it uses: when the only problem is that some
        # resources' files are absent, the others are validated and the pages that read an
        # absent resource stop with a message naming its file.
        try:
            desc = descriptor()
            absent = [r["name"] for r in desc["resources"] if not Path(r["_file"]).is_file()]
            missing_rules = {f"file of resource {name!r} must exist" for name in absent}
            if not absent or any(p.rule not in missing_rules for p in exc.problems):
                raise exc
            keep = [
                r["name"] for r in desc["resources"] if not set(_closure(desc, [r["name"]])) & set(absent)
            ]
            frames = load_resources(keep) if keep else {}
        except DataError as exc2:
            print(str(exc2), file=sys.stderr)
            return 2
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    rows = ", ".join(f"{name} {len(frame):,}" for name, frame in frames.items())
    where = paths.data_dir()
    note = (
        f" Not supplied: {', '.join(absent)} (the pages that use "
        f"{'it' if len(absent) == 1 else 'them'} will stop with a message naming the file)."
        if absent
        else ""
    )
    print(
        f"Data valid ({'data supplied by the user' if paths.uses_user_data() else 'synthetic twin'}, {where}): "
        f"{rows} rows; {time.perf_counter() - start:.1f} s.{note}"
    )
    return 0


def field_labels(name: str) -> dict[str, str]:
    """Column name -> description, from the schema."""
    return {f["name"]: f.get("description", "") for f in resource_descriptor(name)["schema"]["fields"]}


# ------------------------------------------------------------------- provenance
def provenance(name: str) -> dict:
    """Provenance of one resource as recorded in the package (plus where it was read from)."""
    res = resource_descriptor(name)
    prov = dict(res.get("provenance", {}))
    prov["file"] = res["_file"]
    prov["origin"] = res["_origin"]
    return prov


def provenance_notice(names: Iterable[str] | None = None) -> str:
    """One-paragraph notice saying what kind of data the page shows, built from the metadata."""
    names = list(names) if names is not None else resource_names()
    kinds: dict[str, list[str]] = {}
    for name in names:
        kinds.setdefault(provenance(name)["kind"], []).append(name)
    parts = []
    if "synthetic" in kinds:
        prov = provenance(kinds["synthetic"][0])
        parts.append(
            f"**Synthetic twin (seed {prov.get('seed')}, generator {prov.get('generator')} "
            f"{prov.get('generator_version')}).** The data on this page "
            f"({', '.join(kinds['synthetic'])}) have the structure of the Whole-COMM study but are "
            "generated, not observed: no number computed from them is a finding about real towns "
            "or people."
        )
    if "design" in kinds:
        parts.append(
            f"The MIPEX-L catalogue ({', '.join(kinds['design'])}) is this book's pilot design, "
            "modelled on MIPEX and MIPEX-R."
        )
    if "user" in kinds:
        directory = provenance(kinds["user"][0]).get("directory", str(paths.data_dir()))
        parts.append(f"**Data supplied by the user** ({', '.join(kinds['user'])}), read from `{directory}`.")
    if "published" in kinds:
        for name in kinds["published"]:
            prov = provenance(name)
            parts.append(f"Published data ({name}): {prov.get('source')}, retrieved {prov.get('retrieved')}.")
    return " ".join(parts)


def is_synthetic(names: Iterable[str] | None = None) -> bool:
    """True when every observed resource among ``names`` (all by default) is the book's
    synthetic twin: the condition for calling the data "the synthetic twin" in prose.
    Published and design resources (national MIPEX, the catalogue) do not count."""
    names = list(names) if names is not None else resource_names()
    kinds = [provenance(n)["kind"] for n in names]
    observed = [k for k in kinds if k not in ("published", "design")]
    return bool(observed) and all(k == "synthetic" for k in observed)


def data_words(names: Iterable[str] | None = None) -> dict[str, str]:
    """Words for prose that say which data a result was computed on, from the metadata
    (:func:`is_synthetic`): ``data`` ("the synthetic data" / "these data"), ``on_data``
    ("on the synthetic twin" / "on the data supplied by the user") and ``kind``
    ("synthetic twin" / "data supplied by the user")."""
    if is_synthetic(names):
        return {"data": "the synthetic data", "on_data": "on the synthetic twin", "kind": "synthetic twin"}
    return {
        "data": "these data",
        "on_data": "on the data supplied by the user",
        "kind": "data supplied by the user",
    }


# ---------------------------------------------------------- disclosure control
def disclosed_count(n: int, min_n: int = MIN_CELL_DEFAULT) -> str:
    """A count as it may appear in prose or a figure: the number when it is at least
    ``min_n`` (or zero), otherwise "fewer than ``min_n``" (disclosure control)."""
    n = int(n)
    return f"{n:,}" if n == 0 or n >= min_n else f"fewer than {min_n}"


def suppress_small_cells(
    table: pd.DataFrame,
    count_column: str = "n",
    min_n: int = MIN_CELL_DEFAULT,
    value_columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Disclosure control for survey tables: blank the values of cells resting on fewer
    than ``min_n`` respondents and flag them in a ``suppressed`` column.

    ``count_column`` holds the unweighted number of respondents of each row. The count
    itself is kept (it discloses nothing about answers) unless it is below ``min_n``,
    in which case it is blanked too. Values are never rounded or moved elsewhere.
    """
    if count_column not in table.columns:
        raise KeyError(
            f"Disclosure control needs the respondent count column {count_column!r}; "
            f"the table has {list(table.columns)}."
        )
    if min_n < 1:
        raise ValueError(f"min_n must be at least 1, got {min_n}.")
    out = table.copy()
    small = out[count_column] < min_n
    cols = (
        list(value_columns)
        if value_columns is not None
        else [c for c in out.columns if c != count_column and pd.api.types.is_numeric_dtype(out[c])]
    )
    for col in [*cols, count_column]:
        out[col] = out[col].astype("Float64") if pd.api.types.is_numeric_dtype(out[col]) else out[col]
        out.loc[small, col] = pd.NA
    out["suppressed"] = small.to_numpy()
    out.attrs["min_n"] = min_n
    return out


def assert_disclosure_safe(
    table: pd.DataFrame, count_column: str = "n", min_n: int = MIN_CELL_DEFAULT
) -> None:
    """Raise if any published row rests on fewer than ``min_n`` respondents."""
    counts = table[count_column]
    bad = counts.notna() & (counts < min_n)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} table rows rest on fewer than {min_n} respondents "
            f"(rows {list(table.index[bad])[:10]}); pass the table through suppress_small_cells()."
        )


if __name__ == "__main__":
    raise SystemExit(main())
