"""Validation of the package and the entry points :func:`~wholecomm.data.loading.load`, :func:`~wholecomm.data.loading.load_all`, :func:`~wholecomm.data.loading.load_resources`."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from .cache import _MEMO, _cache_read, _cache_write, _content_key, _file_signature, cache_dir
from .descriptor import descriptor, resource_descriptor
from .problems import DataError, Problem, excerpt
from .reading import _foreign_key_problems, _read_resource
from .rules import _row_rule_problems


def _validate(desc: dict) -> dict[str, pd.DataFrame]:
    """Validate every resource of ``desc`` and return the typed frames (raises :class:`~wholecomm.data.problems.DataError`)."""
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
        if frame is not None and line_of is not None:
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


def _validated_cached(desc: dict, directory: Path | None, key: str) -> dict[str, pd.DataFrame]:
    """The frames of ``desc`` from the cache entry ``key`` in ``directory`` (None: no cache);
    validated (``_validate``) and written there when the entry is absent or unreadable."""
    target = directory / f"{key[:40]}.pkl" if directory is not None else None
    frames = _cache_read(target) if target is not None and target.is_file() else None
    if frames is None:
        frames = _validate(desc)
        if directory is not None and target is not None:
            _cache_write(directory, target, frames)
    return frames


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
    frames = memo["frames"] if memo and memo["key"] == key else _validated_cached(desc, directory, key)
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
    (the same checks as :func:`~wholecomm.data.loading.load`, restricted to those resources; cached the same way):
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
    frames = _validated_cached(part, directory, _content_key(part, directory))
    return {name: frames[name].copy(deep=False) for name in names}


def load_all() -> dict[str, pd.DataFrame]:
    """Validate the whole package (once per file state; cached across processes) and return every resource."""
    return {name: frame.copy(deep=False) for name, frame in _validated_frames().items()}


def load(name: str) -> pd.DataFrame:
    """Return resource ``name`` as a typed DataFrame, after validating the whole package;
    when the package fails only in files that ``name`` does not need (itself and the
    resources its foreign keys point to), after validating just those
    (:func:`~wholecomm.data.loading.load_resources`): a page depends only on the resources it uses, so a missing
    or broken file fails only the pages that read it.

    Enumerated text fields are categoricals in the order of the schema's enum;
    integers are ``int64`` (``Int64`` when optional); booleans are ``bool``
    (``boolean`` when optional). ``df.attrs`` records the resource name, file and
    provenance. Bad data raise :class:`~wholecomm.data.problems.DataError`; an unknown name raises ``KeyError``.
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
