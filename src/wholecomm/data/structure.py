"""File structure, checked on the bytes: encoding, control characters, quotes, fields per line."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import paths
from .problems import Problem

_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")
_TEXT_BYTES = bytes(range(32, 127)) + bytes(range(128, 256)) + b"\n\r"


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
