"""Validated frames cached on disk, keyed by the content of every file and of this package's code."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from .structure import sha256

CACHE_ENV = "WHOLECOMM_DATA_CACHE"
#: Bumped when the cached format changes (the cache key also includes the code of this package).
CACHE_VERSION = 1
_MEMO: dict = {}


def cache_dir() -> Path | None:
    """Where validated frames are cached: ``$WHOLECOMM_DATA_CACHE`` (``off`` disables the cache),
    else ``_build/data-cache`` of the book."""
    override = os.environ.get(CACHE_ENV, "").strip()
    if override.lower() in ("off", "0", "no", "false"):
        return None
    return Path(override) if override else paths.build_dir() / "data-cache"


def _file_signature(desc: dict) -> tuple:
    out: list[tuple] = []
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
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
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
