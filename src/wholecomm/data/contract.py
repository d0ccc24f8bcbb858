"""What a user's data package may and may not change in the book's schema."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from pathlib import Path

from .problems import Problem, excerpt

#: Defaults of how a file is written, which a user's package may change per field or resource.
TRUE_VALUES = ("true", "True", "TRUE", "1")
FALSE_VALUES = ("false", "False", "FALSE", "0")
MISSING_VALUES = ("",)


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


#: Adds one problem: ``add(rule, found, columns=())``.
_Add = Callable[..., None]


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
    _fields_differences(book_res["schema"]["fields"], schema["fields"], add)
    _key_differences(book_res["schema"], schema, add)
    _format_differences(res, add)
    return out


def _fields_differences(ours_list: list[dict], theirs_list: list[dict], add: _Add) -> None:
    """Fields missing, extra or described twice, then each common field's differences."""
    ours = {f["name"]: f for f in ours_list}
    theirs: dict[str, dict] = {}
    for f in theirs_list:
        if f["name"] in theirs:
            add(f"field {f['name']!r} must be described once", "it twice", (f["name"],))
        theirs[f["name"]] = f
    for fname in ours.keys() - theirs.keys():
        add(f"field {fname!r} of the book's schema is missing", "no such field", (fname,))
    for fname in theirs.keys() - ours.keys():
        add(f"field {fname!r} is not in the book's schema", "an extra field", (fname,))
    for fname in [n for n in ours if n in theirs]:
        _field_differences(fname, ours[fname], theirs[fname], add)


def _field_differences(fname: str, mine: dict, yours: dict, add: _Add) -> None:
    """One field: type, keys and format as the book's; how its values are written may differ."""
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
    if not _constraint_differences(fname, mine.get("constraints", {}), yours.get("constraints", {}), add):
        return
    for key in ("trueValues", "falseValues"):
        vals = yours.get(key)
        if vals is not None and not (
            isinstance(vals, list) and vals and all(isinstance(v, str) for v in vals)
        ):
            add(f"{key} of field {fname!r} must be a list of strings", excerpt(json.dumps(vals)), (fname,))
    dec = yours.get("decimalChar")
    if dec is not None and dec not in (".", ","):
        add(f"decimalChar of field {fname!r} must be '.' or ','", excerpt(dec), (fname,))


def _constraint_differences(fname: str, c_mine: dict, c_yours, add: _Add) -> bool:
    """A field's constraints must be the book's, key by key; False when they are not an object."""
    if not isinstance(c_yours, dict):
        add(f"constraints of field {fname!r} must be an object", type(c_yours).__name__, (fname,))
        return False
    for key in sorted(set(c_mine) | set(c_yours)):
        if c_mine.get(key) != c_yours.get(key):
            want = f"{c_mine[key]!r}" if key in c_mine else "absent"
            add(
                f"constraint {key!r} of field {fname!r} must be {want} as in the book's schema",
                excerpt(json.dumps(c_yours[key]), 80) if key in c_yours else "it absent",
                (fname,),
            )
    return True


def _key_differences(book_schema: dict, schema: dict, add: _Add) -> None:
    """Primary and foreign keys must be the book's; missing values must be a list of strings."""
    if _norm_pk(schema.get("primaryKey")) != _norm_pk(book_schema.get("primaryKey")):
        add(
            f"primaryKey must be {_norm_pk(book_schema.get('primaryKey'))} as in the book's schema",
            _norm_pk(schema.get("primaryKey")),
        )
    try:
        fk_theirs = _norm_fk(schema.get("foreignKeys"))
    except (AttributeError, TypeError):
        fk_theirs = None
    fk_ours = _norm_fk(book_schema.get("foreignKeys"))
    if fk_theirs != fk_ours:
        shown = "; ".join(f"{' + '.join(a)} -> {b}.{' + '.join(c or a)}" for a, b, c in fk_ours) or "none"
        add(
            f"foreignKeys must be [{shown}] as in the book's schema",
            excerpt(json.dumps(schema.get("foreignKeys")), 120),
        )
    missing = schema.get("missingValues", list(MISSING_VALUES))
    if not (isinstance(missing, list) and all(isinstance(v, str) for v in missing)):
        add("missingValues must be a list of strings", excerpt(json.dumps(missing)))


def _format_differences(res: dict, add: _Add) -> None:
    """How the file is written: an encoding Python knows, a supported dialect, a sha256 hash."""
    enc = res.get("encoding", "utf-8")
    if not isinstance(enc, str):
        add("encoding must be a text", excerpt(json.dumps(enc)))
    else:
        try:
            codecs.lookup(enc)
        except LookupError:
            add("encoding must be an encoding Python knows (for example 'utf-8', 'cp1252')", excerpt(enc))
    dialect = res.get("dialect", {})
    if not isinstance(dialect, dict):
        add("dialect must be an object", excerpt(json.dumps(dialect)))
    else:
        _dialect_differences(dialect, add)
    hsh = res.get("hash")
    if hsh is not None and not (isinstance(hsh, str) and re.fullmatch(r"(sha256:)?[0-9a-fA-F]{64}", hsh)):
        add("hash must be a sha256 digest ('sha256:' and 64 hexadecimal digits)", excerpt(hsh))


def _dialect_differences(dialect: dict, add: _Add) -> None:
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
