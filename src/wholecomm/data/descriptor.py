"""The data package descriptor in use: the book's, or a user's checked against the book's contract."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from .. import paths
from .contract import _contract_problems
from .problems import DataError, Problem, excerpt


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


def descriptor() -> dict:
    """The data package descriptor in use, with each resource's ``path`` resolved.

    Adds two keys per resource: ``_file`` (absolute path of the CSV) and ``_origin``
    (``"book"`` or ``"user"``). Raises :class:`~wholecomm.data.problems.DataError` when a user's package breaks
    the book's contract or a path leaves the data folder.
    """
    return copy.deepcopy(_descriptor_cached(str(paths.data_dir()), str(paths.book_data_dir()), _pkg_state()))


def _pkg_state() -> tuple:
    """The descriptors' contents (small files), so an edited datapackage.json is read again."""
    out: list[str | None] = []
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
    if data.resolve() == book.resolve():
        return _book_descriptor(book_desc, book, book_pkg)
    problems: list[Problem] = []
    user_pkg = data / paths.PACKAGE_FILE
    if user_pkg.is_file():
        desc = _user_package_descriptor(book_desc, _read_json(user_pkg), user_pkg, data, problems)
    else:
        desc = _plain_folder_descriptor(book_desc, data)
    _resolve_files(desc, data, book, user_pkg if user_pkg.is_file() else data, book_pkg, problems)
    if problems:
        raise DataError(problems)
    for res in desc["resources"]:
        res["_file"] = str(res["_file"])
    return desc


def _book_descriptor(desc: dict, book: Path, book_pkg: Path) -> dict:
    """The book's own package: every path confined to the book's data folder."""
    problems: list[Problem] = []
    for res in desc["resources"]:
        res["_file"], prob = _confined(book, res.get("path"), book_pkg, res["name"])
        res["_origin"] = "book"
        problems += [prob] if prob else []
    if problems:
        raise DataError(problems)
    for res in desc["resources"]:
        res["_file"] = str(res["_file"])
    return desc


def _user_package_descriptor(
    book_desc: dict, user_desc: dict, user_pkg: Path, data: Path, problems: list[Problem]
) -> dict:
    """The book's resources, each with what the user's package may say of how its file is
    written; contract problems are appended to ``problems``."""
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
                _mark_user(res, data)
        else:
            found = _contract_problems(book_res, user_res, user_pkg)
            problems += found
            if found:
                continue
            _take_user_format(res, user_res, data)
        desc["resources"].append(res)
    return desc


def _mark_user(res: dict, data: Path) -> None:
    """The book's checksums and provenance describe the book's files, not the user's."""
    res["provenance"] = {"kind": "user", "directory": str(data)}
    res.pop("hash", None)
    res.pop("bytes", None)


def _take_user_format(res: dict, user_res: dict, data: Path) -> None:
    """Copy into the book's resource what the user's may change: path, how it is written, metadata."""
    for key in ("path", "encoding", "dialect", "hash", "bytes", "title", "description"):
        if key in user_res:
            res[key] = user_res[key]
        elif key in ("hash", "bytes"):
            res.pop(key, None)
    res["provenance"] = user_res.get("provenance", {"kind": "user", "directory": str(data)})
    if "missingValues" in user_res["schema"]:
        res["schema"]["missingValues"] = user_res["schema"]["missingValues"]
    yours = {f["name"]: f for f in user_res["schema"]["fields"]}
    for fld in res["schema"]["fields"]:
        for key in ("trueValues", "falseValues", "decimalChar"):
            if key in yours[fld["name"]]:
                fld[key] = yours[fld["name"]][key]


def _plain_folder_descriptor(book_desc: dict, data: Path) -> dict:
    """A folder of CSV files without a package: the book's schema, the user's files."""
    desc = copy.deepcopy(book_desc)
    desc["provenance"] = {"kind": "user"}
    for res in desc["resources"]:
        if res.get("provenance", {}).get("kind") != "published":
            _mark_user(res, data)
    return desc


def _resolve_files(
    desc: dict, data: Path, book: Path, origin_pkg: Path, book_pkg: Path, problems: list[Problem]
) -> None:
    """Each resource's file in the user's folder; a published resource absent there is the book's.
    Stops at the first problem (earlier ones included)."""
    for res in desc["resources"]:
        if problems:
            break
        user_file, prob = _confined(data, res.get("path"), origin_pkg, res["name"])
        if prob:
            problems.append(prob)
            continue
        if (
            res.get("provenance", {}).get("kind") == "published"
            and user_file is not None
            and not user_file.exists()
        ):
            res["_file"], prob = _confined(book, res.get("path"), book_pkg, res["name"])
            res["_origin"] = "book"
            problems += [prob] if prob else []
        else:
            res["_file"] = user_file
            res["_origin"] = "user"


def resource_descriptor(name: str) -> dict:
    for res in descriptor()["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(r["name"] for r in descriptor()["resources"])
    raise KeyError(f"No resource {name!r} in the data package. Known resources: {known}.")


def resource_names() -> list[str]:
    return [r["name"] for r in descriptor()["resources"]]
