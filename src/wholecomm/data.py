"""The data layer: one entry point, :func:`load`, that returns validated, typed DataFrames.

Every resource is described in ``datapackage.json`` (a Frictionless data package):
fields, types, units, constraints, primary and foreign keys, provenance and sha256.
On first use in a process the whole package is validated:

1. file-level checks with messages a person can act on: missing file, empty file,
   encoding (UTF-8), delimiter, checksum (for the book's own files);
2. the package schema, with the ``frictionless`` validator: missing or unexpected
   columns, wrong types, values outside an enum or range, blank required values,
   duplicate keys, foreign keys to unknown rows;
3. cross-field rules that a column schema cannot express (listed in ``ROW_RULES``).

Any failure raises :class:`DataError` naming the file, the columns, the rows (as
line numbers of the CSV file, the header being line 1) and the broken rule. Nothing is
dropped, coerced or filled.

To run the book on other files (for example the real data), set ``WHOLECOMM_DATA`` to a
directory holding CSV files with the same names and columns. If that directory has its
own ``datapackage.json`` it is used (its fields must match the book's); otherwise the
book's schema is applied and checksums are not checked. Published reference resources
missing from that directory are taken from the book's own package.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths

#: Smallest number of respondents a published locality-level survey cell may rest on.
MIN_CELL_DEFAULT = 10

TRUE_VALUES = {"true", "True", "TRUE", "1"}
FALSE_VALUES = {"false", "False", "FALSE", "0"}


# --------------------------------------------------------------------------- errors
@dataclass
class Problem:
    """One broken rule in one file."""

    file: Path
    rule: str
    columns: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()
    detail: str = ""

    def describe(self, max_rows: int = 10) -> str:
        where = []
        if self.columns:
            label = "column" if len(self.columns) == 1 else "columns"
            where.append(f"{label} {', '.join(repr(c) for c in self.columns)}")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:max_rows])
            more = f" and {len(self.rows) - max_rows} more" if len(self.rows) > max_rows else ""
            noun = "line" if len(self.rows) == 1 else "lines"
            where.append(f"{noun} {shown}{more} ({len(self.rows)} in all)")
        loc = "; ".join(where) if where else "whole file"
        text = f"{self.file}: {loc}: broken rule: {self.rule}"
        if self.detail:
            text += f". {self.detail}"
        return text


class DataError(ValueError):
    """Bad input data. ``problems`` lists each broken rule with file, columns and rows."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p.describe()}" for p in problems)
        super().__init__(
            f"The data failed validation ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}); nothing was dropped or corrected:\n{lines}\n"
            "Fix the file(s) and run again (the synthetic twin is regenerated with `make data`)."
        )


# ----------------------------------------------------------------------- descriptor
def _read_json(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _field_signature(desc: dict) -> dict[str, list[tuple[str, str]]]:
    return {r["name"]: [(f["name"], f["type"]) for f in r["schema"]["fields"]] for r in desc["resources"]}


def descriptor() -> dict:
    """The data package descriptor in use, with each resource's ``path`` resolved.

    Adds two keys per resource: ``_file`` (absolute path of the CSV) and ``_origin``
    (``"book"`` or ``"user"``).
    """
    return copy.deepcopy(_descriptor_cached(str(paths.data_dir()), str(paths.book_data_dir())))


@lru_cache(maxsize=8)
def _descriptor_cached(data_dir: str, book_dir: str) -> dict:
    data, book = Path(data_dir), Path(book_dir)
    book_desc = _read_json(book / paths.PACKAGE_FILE)
    if data.resolve() == book.resolve():
        desc = book_desc
        for res in desc["resources"]:
            res["_file"] = str(book / res["path"])
            res["_origin"] = "book"
        return desc
    user_pkg = data / paths.PACKAGE_FILE
    if user_pkg.is_file():
        desc = _read_json(user_pkg)
        ours, theirs = _field_signature(book_desc), _field_signature(desc)
        problems = []
        for name, fields in ours.items():
            if name in theirs and theirs[name] != fields:
                problems.append(
                    Problem(user_pkg, f"resource {name!r} must have the book's fields {fields}",
                            detail=f"Found {theirs[name]}.")
                )
        if problems:
            raise DataError(problems)
        present = {r["name"] for r in desc["resources"]}
        desc["resources"] += [copy.deepcopy(r) for r in book_desc["resources"] if r["name"] not in present]
    else:
        desc = copy.deepcopy(book_desc)
        desc["provenance"] = {"kind": "user"}
    for res in desc["resources"]:
        user_file = data / res["path"]
        if res.get("provenance", {}).get("kind") == "published" and not user_file.exists():
            res["_file"] = str(book / res["path"])
            res["_origin"] = "book"
        else:
            res["_file"] = str(user_file)
            res["_origin"] = "user"
            if not user_pkg.is_file():
                # The book's checksums and provenance describe the book's files, not these.
                res.pop("hash", None)
                res.pop("bytes", None)
                res["provenance"] = {"kind": "user", "directory": str(data)}
    return desc


def resource_descriptor(name: str) -> dict:
    for res in descriptor()["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(r["name"] for r in descriptor()["resources"])
    raise KeyError(f"No resource {name!r} in the data package. Known resources: {known}.")


def resource_names() -> list[str]:
    return [r["name"] for r in descriptor()["resources"]]


# ------------------------------------------------------------------ file-level checks
def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_problems(res: dict) -> list[Problem]:
    path = Path(res["_file"])
    if not path.is_file():
        return [Problem(path, f"file of resource {res['name']!r} must exist",
                        detail="It is missing. Check the file name and the data directory "
                        f"({paths.DATA_ENV} or the book's data/).")]
    raw = path.read_bytes()
    if not raw.strip():
        return [Problem(path, "file must not be empty", detail="It has no header and no rows.")]
    try:
        text = raw.decode(res.get("encoding", "utf-8"))
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return [Problem(path, f"file must be encoded as {res.get('encoding', 'utf-8').upper()}", rows=(line,),
                        detail=f"Byte {raw[exc.start:exc.start + 1]!r} at offset {exc.start} cannot be decoded; "
                        "re-save the file as UTF-8.")]
    problems = []
    header = text.splitlines()[0]
    delim = res.get("dialect", {}).get("delimiter", ",")
    expected = [f["name"] for f in res["schema"]["fields"]]
    if delim not in header and len(expected) > 1:
        found = max((";", "\t", "|", ","), key=header.count)
        problems.append(Problem(path, f"columns must be separated by {delim!r}", rows=(1,),
                                detail=f"The header line has no {delim!r}; it looks separated by {found!r}."))
        return problems
    expected_hash = res.get("hash")
    if expected_hash:
        algo, _, hexdigest = expected_hash.partition(":")
        if algo != "sha256":
            raise ValueError(f"Unsupported hash {expected_hash!r} in datapackage.json (sha256 expected).")
        actual = hashlib.sha256(raw).hexdigest()
        if actual != hexdigest:
            problems.append(Problem(path, "sha256 checksum must match datapackage.json",
                                    detail=f"Expected {hexdigest}, found {actual}: the file changed after it "
                                    "was packaged. Regenerate it (`make data`) or restore it."))
    return problems


# --------------------------------------------------------------- schema validation
def _frictionless_problems(desc: dict, names: Iterable[str]) -> list[Problem]:
    import frictionless

    import os

    clean = copy.deepcopy(desc)
    # frictionless only reads relative paths below a base path ("safe" paths).
    base = os.path.commonpath([str(Path(r["_file"]).parent) for r in clean["resources"]])
    for res in clean["resources"]:
        res["_abs"] = res.pop("_file")
        res["path"] = os.path.relpath(res["_abs"], base)
        res.pop("_origin", None)
        res.pop("hash", None)  # checked above, with a clearer message
        res.pop("bytes", None)
    package = frictionless.Package.from_descriptor(
        {k: v for k, v in clean.items() if k in ("name", "resources", "profile")}, basepath=base
    )
    wanted = set(names)
    report = package.validate(checklist=frictionless.Checklist(skip_errors=["hash-count", "byte-count"]))
    problems: list[Problem] = []
    for task in report.tasks:
        if task.name not in wanted:
            continue
        path = Path(next(r["_abs"] for r in clean["resources"] if r["name"] == task.name))
        grouped: dict[tuple, list] = {}
        for err in task.errors:
            column = getattr(err, "field_name", None) or getattr(err, "label", None)
            key = (err.type, column, getattr(err, "note", ""))
            if err.type in ("constraint-error", "type-error"):
                note = getattr(err, "note", "")
                key = (err.type, column, note.split('"')[0] if "constraint" in note else note)
            grouped.setdefault(key, []).append(err)
        schema = next(r["schema"] for r in clean["resources"] if r["name"] == task.name)
        for (etype, column, _), errs in grouped.items():
            first = errs[0]
            columns: tuple[str, ...] = (column,) if column else ()
            if etype == "primary-key":
                columns = tuple(schema.get("primaryKey", []))
            elif etype == "foreign-key":
                columns = tuple(getattr(first, "field_names", None) or ())
            rows = tuple(sorted({e.row_number for e in errs if getattr(e, "row_number", None)}))
            cells = [getattr(e, "cell", None) for e in errs if getattr(e, "cell", None) not in (None, "")]
            example = f" Example value: {cells[0]!r}." if cells else ""
            rule = f"{etype}: {getattr(first, 'note', '') or first.title}"
            detail = first.message if not rows else f"{first.title}.{example}"
            problems.append(Problem(path, rule, columns, rows, detail))
    return problems


# ------------------------------------------------------------------------ typing
def _typed(raw: pd.DataFrame, res: dict) -> pd.DataFrame:
    out = {}
    for fld in res["schema"]["fields"]:
        name, ftype = fld["name"], fld["type"]
        col = raw[name]
        blank = col == ""
        required = fld.get("constraints", {}).get("required", False)
        enum = fld.get("constraints", {}).get("enum")
        if ftype == "string":
            values = col.where(~blank, None)
            out[name] = pd.Categorical(values, categories=enum) if enum else values.astype("string")
        elif ftype == "integer":
            ints = pd.to_numeric(col.where(~blank, None), errors="raise")
            out[name] = ints.astype("int64") if required else ints.astype("Int64")
        elif ftype == "number":
            out[name] = pd.to_numeric(col.where(~blank, None), errors="raise").astype("float64")
        elif ftype == "boolean":
            mapped = col.map(lambda v: True if v in TRUE_VALUES else False if v in FALSE_VALUES else pd.NA)
            out[name] = mapped.astype("bool") if required else mapped.astype("boolean")
        else:  # date, etc.: keep the validated text
            out[name] = col.where(~blank, None).astype("string")
    return pd.DataFrame(out, index=raw.index)


def _read_typed(res: dict) -> pd.DataFrame:
    raw = pd.read_csv(res["_file"], dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
    frame = _typed(raw, res)
    frame.attrs["resource"] = res["name"]
    frame.attrs["file"] = res["_file"]
    return frame


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
    """The project typology of each locality (the documented rule).

    * economy: ``thriving`` when the economic trend is improving or stable and
      unemployment is below 10 percent, otherwise ``struggling``;
    * diversity: ``experienced`` when the foreign-born share in 2014 was at least
      5 percent, otherwise ``new`` (new to diversity).
    """
    thriving = localities["economic_trend"].isin(["improving", "stable"]) & (localities["unemployment_rate"] < 10)
    experienced = localities["foreign_born_share_2014"] >= 5
    economy = np.where(thriving, "thriving", "struggling")
    diversity = np.where(experienced, "experienced", "new")
    return pd.Series([f"{e}_{d}" for e, d in zip(economy, diversity)], index=localities.index, name="locality_type")


@row_rule("localities")
def _locality_rules(frames):
    loc = frames["localities"]
    lo = loc["size_class"].map(lambda s: SIZE_BOUNDS[s][0]).astype("int64")
    hi = loc["size_class"].map(lambda s: SIZE_BOUNDS[s][1]).astype("int64")
    yield (("size_class", "population"), ~loc["population"].between(lo, hi),
           "population must lie in its size class (rural_area < 5,000; small_town 5,000-49,999; "
           "medium_town 50,000-250,000)")
    yield (("locality_type",), loc["locality_type"].astype(str) != locality_type(loc),
           "locality_type must follow the typology rule (see wholecomm.data.locality_type)")


CONTACT_SETTINGS = ["work", "neighbourhood", "hobby", "sports", "leisure", "school", "religious"]


@row_rule("survey")
def _survey_rules(frames):
    sv = frames["survey"]
    any_contact = sv[[f"contact_{s}" for s in CONTACT_SETTINGS]].any(axis=1)
    yield (("contact_none",), sv["contact_none"] == any_contact,
           "contact_none must be true exactly when no contact_* setting is true")
    aware = sv["aware_measures"] == 1
    yield (("aware_measures", "impact_measures"), aware == sv["impact_measures"].isna(),
           "impact_measures must be answered exactly when aware_measures = 1 (routing)")


@row_rule("local_policies")
def _policy_rules(frames):
    lp = frames["local_policies"]
    present = lp["measure_present"]
    yield (("measure_present", "approach"), present == (lp["approach"] == "none"),
           "approach must be 'none' exactly when measure_present is false")
    for col in ("lead_actor", "main_funding"):
        yield (("measure_present", col), present == lp[col].isna(),
               f"{col} must be given exactly when measure_present is true")


@row_rule("population_margins")
def _margin_rules(frames):
    pm = frames["population_margins"]
    cells = pm.groupby("locality_id", observed=True).size()
    full = len(pm["age_group"].cat.categories) * len(pm["gender"].cat.categories) * len(pm["education"].cat.categories)
    bad = cells[cells != full].index
    yield (("locality_id",), pm["locality_id"].isin(bad),
           f"every locality must have all {full} age x gender x education cells")


@row_rule("mipex_l_options")
def _option_rules(frames):
    op = frames["mipex_l_options"]
    scores = op.groupby("indicator_id", observed=True)["score"].agg(["min", "max"])
    bad = scores[(scores["min"] != 0) | (scores["max"] != 100)].index
    yield (("indicator_id", "score"), op["indicator_id"].isin(bad),
           "each indicator's options must include a 0 and a 100 score")


@row_rule("mipex_l_answers")
def _answer_rules(frames):
    ans = frames["mipex_l_answers"]
    loc = frames["localities"].set_index("locality_id")
    n_ind = len(frames["mipex_l_indicators"])
    assessed = ans["locality_id"].map(loc["mipex_l_assessed"]).astype(bool)
    yield (("locality_id",), ~assessed,
           "answers may only be given for localities with mipex_l_assessed = true")
    counts = ans.groupby("locality_id", observed=True)["indicator_id"].transform("size")
    yield (("locality_id", "indicator_id"), counts != n_ind,
           f"each assessed locality must have one row for each of the {n_ind} indicators "
           "(an unanswered item is a row with an empty answer_code)")


def _row_rule_problems(frames: dict[str, pd.DataFrame], names: Iterable[str]) -> list[Problem]:
    problems = []
    for name in names:
        for rule in ROW_RULES.get(name, []):
            for columns, mask, text in rule(frames):
                mask = pd.Series(mask, index=frames[name].index).fillna(False).astype(bool)
                if mask.any():
                    rows = tuple(int(i) + 2 for i in np.flatnonzero(mask.to_numpy()))
                    problems.append(Problem(Path(frames[name].attrs["file"]), text, columns, rows))
    return problems


# ---------------------------------------------------------------------- loading
_VALIDATED: dict[tuple, dict[str, pd.DataFrame]] = {}


def _state_key(desc: dict) -> tuple:
    stats = []
    for res in desc["resources"]:
        p = Path(res["_file"])
        st = p.stat() if p.exists() else None
        stats.append((res["name"], str(p), st.st_size if st else -1, st.st_mtime_ns if st else -1))
    return (json.dumps(desc, sort_keys=True), tuple(stats))


def _validated_frames() -> dict[str, pd.DataFrame]:
    desc = descriptor()
    key = _state_key(desc)
    if key not in _VALIDATED:
        names = [r["name"] for r in desc["resources"]]
        problems = [p for res in desc["resources"] for p in _file_problems(res)]
        if problems:
            raise DataError(problems)
        problems = _frictionless_problems(desc, names)
        if problems:
            raise DataError(problems)
        frames = {}
        for res in desc["resources"]:
            frame = _read_typed(res)
            frame.attrs["provenance"] = res.get("provenance", {})
            frames[res["name"]] = frame
        problems = _row_rule_problems(frames, names)
        if problems:
            raise DataError(problems)
        _VALIDATED.clear()
        _VALIDATED[key] = frames
    return _VALIDATED[key]


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
        todo += [fk["reference"]["resource"] for fk in by_name[name]["schema"].get("foreignKeys", [])
                 if fk["reference"].get("resource")]
    return [r["name"] for r in desc["resources"] if r["name"] in wanted]


_VALIDATED_PARTS: dict[tuple, dict[str, pd.DataFrame]] = {}


def load_resources(names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Validate and return only ``names`` and the resources their foreign keys point to
    (the same checks as :func:`load`, restricted to those resources): for a program that
    needs a few small resources, such as the toolbox's command, and not the survey."""
    desc = descriptor()
    key = _state_key(desc)
    names = list(names)
    if key in _VALIDATED:  # the whole package is already validated
        return {name: _VALIDATED[key][name].copy() for name in names}
    wanted = _closure(desc, names)
    part_key = (key, tuple(wanted))
    if part_key not in _VALIDATED_PARTS:
        part = {**desc, "resources": [r for r in desc["resources"] if r["name"] in wanted]}
        problems = [p for res in part["resources"] for p in _file_problems(res)]
        if problems:
            raise DataError(problems)
        # The book's own files whose sha256 matched its package above are exactly the files
        # that the build and the tests validate in full; any other file (user data, with or
        # without its own datapackage.json) is validated here.
        unverified = [r["name"] for r in part["resources"] if not (r.get("hash") and r.get("_origin") == "book")]
        problems = _frictionless_problems(part, unverified) if unverified else []
        if problems:
            raise DataError(problems)
        frames = {}
        for res in part["resources"]:
            frame = _read_typed(res)
            frame.attrs["provenance"] = res.get("provenance", {})
            frames[res["name"]] = frame
        problems = _row_rule_problems(frames, wanted)
        if problems:
            raise DataError(problems)
        _VALIDATED_PARTS.clear()
        _VALIDATED_PARTS[part_key] = frames
    frames = _VALIDATED_PARTS[part_key]
    return {name: frames[name].copy() for name in names}


def load_all() -> dict[str, pd.DataFrame]:
    """Validate the whole package (once per process and file state) and return every resource."""
    return {name: frame.copy() for name, frame in _validated_frames().items()}


def load(name: str) -> pd.DataFrame:
    """Return resource ``name`` as a typed DataFrame, after validating the whole package.

    Enumerated text fields are categoricals in the order of the schema's enum;
    integers are ``int64`` (``Int64`` when optional); booleans are ``bool``
    (``boolean`` when optional). ``df.attrs`` records the resource name, file and
    provenance.
    """
    resource_descriptor(name)  # a clear KeyError for unknown names
    return _validated_frames()[name].copy()


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
        parts.append(f"The MIPEX-L catalogue ({', '.join(kinds['design'])}) is this book's pilot design, "
                     "modelled on MIPEX and MIPEX-R.")
    if "user" in kinds:
        directory = provenance(kinds["user"][0]).get("directory", str(paths.data_dir()))
        parts.append(f"**Data supplied by the user** ({', '.join(kinds['user'])}), read from `{directory}`.")
    if "published" in kinds:
        for name in kinds["published"]:
            prov = provenance(name)
            parts.append(f"Published data ({name}): {prov.get('source')}, retrieved {prov.get('retrieved')}.")
    return " ".join(parts)


# ---------------------------------------------------------- disclosure control
def suppress_small_cells(table: pd.DataFrame, count_column: str = "n", min_n: int = MIN_CELL_DEFAULT,
                         value_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Disclosure control for survey tables: blank the values of cells resting on fewer
    than ``min_n`` respondents and flag them in a ``suppressed`` column.

    ``count_column`` holds the unweighted number of respondents of each row. The count
    itself is kept (it discloses nothing about answers) unless it is below ``min_n``,
    in which case it is blanked too. Values are never rounded or moved elsewhere.
    """
    if count_column not in table.columns:
        raise KeyError(f"Disclosure control needs the respondent count column {count_column!r}; "
                       f"the table has {list(table.columns)}.")
    if min_n < 1:
        raise ValueError(f"min_n must be at least 1, got {min_n}.")
    out = table.copy()
    small = out[count_column] < min_n
    cols = list(value_columns) if value_columns is not None else [
        c for c in out.columns if c != count_column and pd.api.types.is_numeric_dtype(out[c])]
    for col in [*cols, count_column]:
        out[col] = out[col].astype("Float64") if pd.api.types.is_numeric_dtype(out[col]) else out[col]
        out.loc[small, col] = pd.NA
    out["suppressed"] = small.to_numpy()
    out.attrs["min_n"] = min_n
    return out


def assert_disclosure_safe(table: pd.DataFrame, count_column: str = "n", min_n: int = MIN_CELL_DEFAULT) -> None:
    """Raise if any published row rests on fewer than ``min_n`` respondents."""
    counts = table[count_column]
    bad = counts.notna() & (counts < min_n)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} table rows rest on fewer than {min_n} respondents "
                         f"(rows {list(table.index[bad])[:10]}); pass the table through suppress_small_cells().")
