"""Reading a filled-in questionnaire (YAML): every problem with its line, then the checked
:class:`Questionnaire`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import index
from .catalogue import (
    _NULL_TAG,
    FIELD_WORDS,
    LOCALITY_FIELDS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    MAX_YEARS,
    YEAR_RANGE,
    Catalogue,
    Cell,
    Problem,
    QuestionnaireError,
    _format,
    _loc_key,
    _needed,
    _short,
    catalogue,
    rule_text,
)


# ------------------------------------------------------------------ questionnaire
@dataclass
class Questionnaire:
    """A checked questionnaire.

    ``answers`` is long: year, indicator_id, answer_code (None = not answered), line
    (line of the answer in the file, or of the ``answers:`` key when the indicator is
    absent), one row per year and catalogue indicator. ``warnings`` are (line, message)
    pairs about missing answers.
    """

    name: str
    country: str
    size_class: str
    locality_type: str
    years: list[int]
    answers: pd.DataFrame
    source: str = "<questionnaire>"
    warnings: list[Problem] = field(default_factory=list)
    year_lines: dict = field(default_factory=dict)

    @property
    def locality(self) -> dict:
        """The locality's fields (:data:`~wholecomm.toolbox.catalogue.LOCALITY_FIELDS`) by name."""
        return {f: getattr(self, f) for f in LOCALITY_FIELDS}

    def warning_lines(self) -> list[str]:
        return [_format(self.source, line, msg, "warning: ") for line, msg in self.warnings]


def _line(node) -> int:
    return node.start_mark.line + 1


def _mapping(node, what: str, problems: list) -> dict | None:
    """{key text: (key node, value node)} of a mapping node, reporting duplicates and non-text keys."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        kind = (
            "empty"
            if _is_null(node)
            else "a list"
            if isinstance(node, yaml.SequenceNode)
            else "a single value"
        )
        problems.append((_line(node), f"{what} must be a block of `key: value` lines, found {kind}"))
        return None
    out: dict = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            problems.append((_line(key), f"{what}: keys must be plain names"))
            continue
        if len(key.value) > MAX_TEXT_CHARS:
            problems.append((_line(key), f"{what}: a key is too long ({len(key.value):,} characters)"))
            continue
        if key.value in out:
            problems.append(
                (
                    _line(key),
                    f"{what}: duplicate key '{key.value}' (first given on line {_line(out[key.value][0])})",
                )
            )
            continue
        out[key.value] = (key, value)
    return out


def _is_null(node) -> bool:
    import yaml

    return node is None or (
        isinstance(node, yaml.ScalarNode) and (node.tag == _NULL_TAG or node.value.strip() == "")
    )


def _text(node, what: str, problems: list) -> str | None:
    """The raw text of a scalar (no YAML type guessing: `NO` stays 'NO'); None when empty."""
    import yaml

    if _is_null(node):
        return None
    if not isinstance(node, yaml.ScalarNode):
        problems.append((_line(node), f"{what} must be a single value, not a list or block"))
        return None
    if len(node.value) > MAX_TEXT_CHARS:
        problems.append(
            (_line(node), f"{what} is too long ({len(node.value):,} characters; at most {MAX_TEXT_CHARS})")
        )
        return None
    return node.value.strip()


def _suggest(value: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def unknown_value(what: str, value: str, allowed: Iterable[str], expected: str) -> str:
    """The message for a value not among ``allowed``: "unknown <what> '<value>'<expected>",
    with the closest allowed value when one is close."""
    return f"unknown {what} '{_short(value)}'{expected}{_suggest(value, allowed)}"


def _parse_locality(node, line: int, cat: Catalogue, problems: list) -> dict:
    out = dict.fromkeys(LOCALITY_FIELDS)
    block = _mapping(node, "locality", problems) if not _is_null(node) else None
    if block is None:
        if _is_null(node):
            problems.append((line, "locality: is empty; give name, country, size_class and locality_type"))
        return out
    for key, (knode, _) in block.items():
        if key not in LOCALITY_FIELDS:
            problems.append(
                (
                    _line(knode),
                    unknown_value(
                        "field",
                        key,
                        LOCALITY_FIELDS,
                        f" under locality: expected {', '.join(LOCALITY_FIELDS)}",
                    ),
                )
            )
    for name in LOCALITY_FIELDS:
        if name not in block:
            problems.append((line, f"locality: the field '{name}' is missing"))
            continue
        knode, vnode = block[name]
        value = _text(vnode, f"locality {name}", problems)
        if value is None:
            if _is_null(vnode):
                extra = f": one of {', '.join(cat.allowed[name])}" if name in cat.allowed else ""
                problems.append((_line(knode), f"locality {name} is empty{extra}"))
            continue
        if name in cat.allowed and value not in cat.allowed[name]:
            problems.append(
                (
                    _line(vnode),
                    unknown_value(
                        FIELD_WORDS[name],
                        value,
                        cat.allowed[name],
                        f": must be one of {', '.join(cat.allowed[name])}",
                    ),
                )
            )
            continue
        out[name] = value
    return out


def _parse_year(node, knode, problems: list) -> int | None:
    text = _text(node, "year", problems)
    if text is None:
        if _is_null(node):
            problems.append((_line(knode), "year is empty: give the year the answers describe, e.g. 2024"))
        return None
    if not re.fullmatch(r"[0-9]{4}", text) or not (YEAR_RANGE[0] <= int(text) <= YEAR_RANGE[1]):
        problems.append(
            (
                _line(node),
                f"year '{_short(text)}' must be a four-digit year from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}",
            )
        )
        return None
    return int(text)


def _parse_assessment(entry, k: int, cat: Catalogue, problems: list, warnings: list):
    """One `- year: ... answers: ...` entry -> (year, year line, {indicator: (code, line)}, answers line)."""
    block = _mapping(entry, f"assessment {k}", problems)
    if block is None:
        return None
    for key, (knode, _) in block.items():
        if key not in ("year", "answers"):
            problems.append(
                (
                    _line(knode),
                    unknown_value(
                        "field", key, ("year", "answers"), f" in assessment {k}: expected year and answers"
                    ),
                )
            )
    year = None
    year_line = _line(entry)
    if "year" not in block:
        problems.append((year_line, f"assessment {k} has no year"))
    else:
        knode, vnode = block["year"]
        year_line = _line(knode)
        year = _parse_year(vnode, knode, problems)
    if "answers" not in block:
        problems.append((year_line, f"assessment {k} has no answers: block"))
        return year, year_line, {}, year_line
    knode, vnode = block["answers"]
    answers_line = _line(knode)
    label = f"{year}" if year is not None else f"assessment {k}"
    if _is_null(vnode):
        problems.append((answers_line, f"{label}: answers: is empty; answer the indicators below it"))
        return year, year_line, {}, answers_line
    amap = _mapping(vnode, f"{label} answers", problems)
    if amap is None:
        return year, year_line, {}, answers_line
    known = set(cat.ids)
    given: dict = {}
    for ind, (inode, anode) in amap.items():
        if ind not in known:
            problems.append(
                (
                    _line(inode),
                    unknown_value("indicator", ind, cat.ids, ": not in the MIPEX-L catalogue"),
                )
            )
            continue
        code = _text(anode, f"the answer for {ind}", problems)
        if code is None:
            if _is_null(anode):
                given[ind] = (None, _line(inode))
            continue
        codes = cat.codes(ind)
        if code not in codes:
            problems.append(
                (
                    _line(anode),
                    f"answer '{_short(code)}' for {ind} is not among the options {', '.join(codes)}",
                )
            )
            continue
        given[ind] = (code, _line(anode))
    return year, year_line, given, answers_line


def _nesting_depth(text: str) -> int:
    """Deepest nesting of flow brackets, or of block indentation levels, in YAML text (a
    cheap guard run before the parser, whose recursion a hostile file could exhaust)."""
    deepest = depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}" and depth:
            depth -= 1
    levels = 0
    for line in text.splitlines():
        stripped = line.lstrip(" -")
        if stripped and not stripped.startswith("#"):
            levels = max(levels, (len(line) - len(stripped)) // 2)
    return max(deepest, levels // 2)


def depth_line(text: str) -> int | None:
    """Line of the first flow bracket nested more than MAX_DEPTH deep (None = by indentation)."""
    depth = 0
    line = 1
    for ch in text:
        if ch == "\n":
            line += 1
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif ch in "]}" and depth:
            depth -= 1
    return None


def _check_size_and_depth(text: str, source: str) -> None:
    """Refuse a text too large or nested too deeply to be a questionnaire."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise QuestionnaireError(
            [
                (
                    None,
                    f"the questionnaire is too large ({len(text.encode('utf-8')):,} bytes; at "
                    f"most {MAX_FILE_BYTES:,}): is this the right file?",
                )
            ],
            source,
        )
    depth = _nesting_depth(text)
    if depth > MAX_DEPTH:
        raise QuestionnaireError(
            [
                (
                    depth_line(text),
                    f"not a questionnaire: blocks or brackets are nested more than {MAX_DEPTH} levels deep",
                )
            ],
            source,
        )


def _yaml_problem(exc) -> tuple[int | None, str]:
    """(line, message) of a YAML parser error."""
    mark = exc.problem_mark or exc.context_mark
    reason = str(exc.problem or exc.context or "cannot be read")
    if exc.context and exc.problem:
        where = (
            f" that starts on line {exc.context_mark.line + 1}"
            if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line
            else ""
        )
        reason += f" ({exc.context}{where})"
    return (mark.line + 1 if mark else None, f"not valid YAML: {reason}")


def _root(text: str, source: str):
    """The composed YAML document; every reason it cannot be read is a QuestionnaireError."""
    import yaml

    try:
        root = _compose(text)
    except RecursionError:
        raise QuestionnaireError(
            [(None, f"not a questionnaire: nested too deeply (more than {MAX_DEPTH} levels)")], source
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise QuestionnaireError([_yaml_problem(exc)], source) from None
    except yaml.YAMLError as exc:
        raise QuestionnaireError([(None, f"not valid YAML: {exc}")], source) from None
    if root is None:
        raise QuestionnaireError(
            [
                (
                    None,
                    "the file is empty: it needs a locality: block and an assessments: list "
                    "(start from `wholecomm questionnaire`)",
                )
            ],
            source,
        )
    return root


def _top_level(root, source: str, problems: list) -> dict:
    """The top-level mapping; unknown keys are problems, a non-mapping is an error."""
    top = _mapping(root, "the questionnaire", problems)
    if top is None:
        problems[-1] = (
            problems[-1][0],
            "wrong structure: the file must have the top-level keys locality: and "
            "assessments: (start from `wholecomm questionnaire`)",
        )
        raise QuestionnaireError(problems, source)
    for key, (knode, _) in top.items():
        if key not in ("locality", "assessments"):
            problems.append(
                (
                    _line(knode),
                    unknown_value(
                        "top-level key",
                        key,
                        ("locality", "assessments"),
                        ": expected locality: and assessments:",
                    ),
                )
            )
    return top


def _assessments(top: dict, cat: Catalogue, problems: list, warnings: list) -> list:
    """The parsed entries of the assessments: list."""
    import yaml

    if "assessments" not in top:
        problems.append((1, "the top-level key assessments: is missing"))
        return []
    knode, vnode = top["assessments"]
    if not isinstance(vnode, yaml.SequenceNode) or not vnode.value:
        found = "empty" if _is_null(vnode) or isinstance(vnode, yaml.SequenceNode) else "not a list"
        problems.append(
            (
                _line(knode),
                f"assessments: must be a list of `- year: ... answers: ...` entries, found {found}",
            )
        )
        return []
    if len(vnode.value) > MAX_YEARS:
        problems.append(
            (
                _line(knode),
                f"assessments: has {len(vnode.value)} entries; at most {MAX_YEARS} "
                "years can be assessed in one questionnaire",
            )
        )
        return []
    parsed = (
        _parse_assessment(entry, k, cat, problems, warnings) for k, entry in enumerate(vnode.value, start=1)
    )
    return [entry for entry in parsed if entry is not None]


def parse_questionnaire(
    text: str,
    source: str = "<questionnaire>",
    min_answered_share: float = index.MIN_ANSWERED_SHARE,
    cat: Catalogue | None = None,
) -> Questionnaire:
    """Check a questionnaire given as YAML text (see :func:`read_questionnaire`); ``cat``
    = the catalogue in use, when the caller already has it."""
    _check_size_and_depth(text, source)
    root = _root(text, source)
    problems: list = []
    warnings: list = []
    top = _top_level(root, source, problems)
    cat = catalogue() if cat is None else cat
    if "locality" not in top:
        problems.append((1, "the top-level key locality: is missing"))
        loc = dict.fromkeys(LOCALITY_FIELDS)
    else:
        knode, vnode = top["locality"]
        loc = _parse_locality(vnode, _line(knode), cat, problems)
    entries = _assessments(top, cat, problems, warnings)
    return _build_questionnaire(loc, entries, cat, problems, warnings, source, min_answered_share)


def _build_questionnaire(
    loc: dict,
    entries: list,
    cat: Catalogue,
    problems: list,
    warnings: list,
    source: str,
    min_answered_share: float,
) -> Questionnaire:
    """The checks shared by both formats: duplicate years, missing answers, scorability.
    ``entries`` = [(year, where, {indicator: (code, where)}, where of the answers)]."""
    seen: dict[int, object] = {}
    rows = []
    year_lines = {}
    for year, year_line, given, answers_line in entries:
        if year is None:
            continue
        if year in seen:
            first = seen[year]
            first = f"line {first}" if not isinstance(first, Cell) else str(first)
            problems.append(
                (year_line, f"year {year} appears twice (first on {first}): each year may be assessed once")
            )
            continue
        seen[year] = year_line
        year_lines[year] = year_line
        for ind in cat.ids:
            code, line = given.get(ind, (None, answers_line))
            if ind not in given:
                warnings.append(
                    (
                        answers_line,
                        f"{year}: {ind} is missing from the answers; it counts as not answered (never as 0)",
                    )
                )
            elif code is None:
                warnings.append(
                    (line, f"{year}: {ind} is not answered; it counts as not answered (never as 0)")
                )
            rows.append({"year": year, "indicator_id": ind, "answer_code": code, "line": line})
    answers = pd.DataFrame(rows, columns=["year", "indicator_id", "answer_code", "line"])
    if not answers.empty:
        problems += _scorability_problems(answers, cat, year_lines, min_answered_share)
    if problems:
        raise QuestionnaireError(problems, source)
    years = sorted(seen)
    answers = answers.sort_values(["year"], kind="stable").reset_index(drop=True)
    return Questionnaire(
        name=loc["name"],
        country=loc["country"],
        size_class=loc["size_class"],
        locality_type=loc["locality_type"],
        years=years,
        answers=answers,
        source=source,
        warnings=sorted(warnings, key=lambda w: (_loc_key(w[0]), w[1])),
        year_lines=year_lines,
    )


def _scorability_problems(answers: pd.DataFrame, cat: Catalogue, year_lines: dict, share: float) -> list:
    """A year in which no area reaches the answered share cannot be scored at all: an error."""
    sizes = cat.area_sizes()
    area_of = cat.indicators.set_index("indicator_id")["area"]
    out = []
    for year, grp in answers.groupby("year", sort=True):
        answered = grp[grp["answer_code"].notna()]["indicator_id"].map(area_of).value_counts()
        answered = answered.reindex(sizes.index, fill_value=0)
        ok = answered >= np.array([_needed(int(n), share) for n in sizes])
        if not ok.any():
            out.append(
                (
                    year_lines.get(year),
                    f"{year}: too few answers to score anything "
                    f"({int(answered.sum())} of {int(sizes.sum())} answered; "
                    f"an area needs {rule_text(sizes, share)} answered)",
                )
            )
    return out


def check_questionnaire_file(path) -> None:
    """Refuse a questionnaire path that is missing, not a file, too large or of an unknown kind."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise QuestionnaireError([(None, "file not found" if not path.exists() else "not a file")], source)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise QuestionnaireError(
            [
                (
                    None,
                    f"the file is too large ({size:,} bytes; at most {MAX_FILE_BYTES:,}): "
                    "is this the right file?",
                )
            ],
            source,
        )
    if path.suffix.lower() in (".xls", ".ods", ".xlsm", ".csv"):
        raise QuestionnaireError(
            [
                (
                    None,
                    f"cannot read {path.suffix} files: save the workbook as .xlsx, or use "
                    "the YAML questionnaire",
                )
            ],
            source,
        )


def _compose(text: str):
    """The YAML node tree of ``text``: through libyaml when it is installed (fast), and
    through PyYAML's own parser when libyaml finds a problem, so that every message about
    a bad file is worded and placed the same whichever parser is installed."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def read_questionnaire(
    path, min_answered_share: float = index.MIN_ANSWERED_SHARE, cat: Catalogue | None = None
) -> Questionnaire:
    """Read and check a filled-in questionnaire: YAML text, or a workbook (``.xlsx``, see
    :func:`~wholecomm.toolbox.workbook.questionnaire_workbook`, read by
    :func:`~wholecomm.toolbox.workbook.read_workbook`). ``cat`` = the catalogue in use, when
    the caller already has it.

    Raises :class:`~wholecomm.toolbox.catalogue.QuestionnaireError` listing every problem
    with its line (or sheet, row and column): malformed YAML, wrong top-level structure, unknown or empty locality
    fields (country, size class, locality type), missing or invalid years, duplicate
    years, unknown indicators, answers that are not among the indicator's options, years
    with too few answers to score any area, and inputs beyond the size limits
    (:data:`~wholecomm.toolbox.catalogue.MAX_FILE_BYTES`,
    :data:`~wholecomm.toolbox.catalogue.MAX_TEXT_CHARS`,
    :data:`~wholecomm.toolbox.catalogue.MAX_YEARS`, :data:`~wholecomm.toolbox.catalogue.MAX_DEPTH`).
    Missing answers are not errors: they are listed in ``warnings`` and scored by the
    engine's rule (module docstring).
    """
    path = Path(path)
    source = str(path)
    check_questionnaire_file(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise QuestionnaireError([(None, f"cannot be read: {exc.strerror or exc}")], source) from None
    if raw[:4] == b"PK\x03\x04" or path.suffix.lower() == ".xlsx":
        from .workbook import read_workbook

        return read_workbook(path, min_answered_share, cat)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise QuestionnaireError([(line, "the file is not UTF-8 text; save it as UTF-8")], source) from None
    return parse_questionnaire(text, source, min_answered_share, cat)
