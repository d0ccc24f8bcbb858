"""The toolbox for local governments: self-evaluation, tailored benchmarks, priorities
and monitoring, built on the MIPEX-L index engine (:mod:`wholecomm.index.scoring`).

A municipality fills in the MIPEX-L questionnaire (a YAML file, see
:func:`blank_questionnaire`) for one or more years; :func:`read_questionnaire` checks it
and reports every problem with its line number; :func:`assess` scores it and compares it
with its peers; :func:`render_report` writes one self-contained HTML report. The command
line (``wholecomm questionnaire`` / ``wholecomm assess``, :mod:`wholecomm.cli`) is a thin
wrapper around these four functions.

Rules
-----
Scoring
    The index engine's rule, unchanged (:func:`wholecomm.index.scoring.score`): indicator score =
    score of the chosen option; an area is scored only when at least
    ``min_answered_share`` (default two thirds) of its indicators are answered, as the mean
    of the answered ones; the overall score is the mean of the area scores and exists only
    when every area is scored. An unanswered indicator is never counted as 0; an area
    without enough answers is reported as "not scored: too few answers". A year in which
    no area can be scored is an error.
Peers
    The localities of the data package that were assessed with MIPEX-L (rows in
    ``mipex_l_answers``), scored with the same engine and rule. A peer group is every
    assessed locality sharing one attribute with the municipality: its size class, its
    country or its locality type. Groups with fewer than :data:`MIN_PEERS` localities with
    a score are flagged ("fewer than 3 peers").
Benchmarks
    For each peer group and each area (and overall): number of peers with a score,
    median, first and third quartiles (linear interpolation) and best score. These
    describe the peer group; they are not estimates with sampling error.
Gaps
    Own score minus the group median, per area and group. The *reference gap* of an area
    is the mean of its gaps over the groups with at least :data:`MIN_PEERS` scored peers
    (over all groups with a scored peer when none has that many). Areas are listed from the
    most negative reference gap.
Priorities
    Candidates are the answered indicators, in areas that have a score, on which the
    municipality scores below the best peer (the best score on that indicator among all
    localities of the selected peer groups). Each gets

    ``priority = max(0, -reference gap of its area) x (points gained by moving up one
    answer level) / 100``

    i.e. the area's shortfall against its peers, weighted by the size of the next step
    (a step of 50 points counts half, a step of 100 points in full). Ties are broken by
    the points gained (larger first), then by the number of peers scoring 100 on the
    indicator (more first), then by indicator id. Indicators in areas that could not be
    scored are not ranked: answer their missing questions first.
Monitoring
    With several years, the scores of every year and the change from the first to the
    last year (missing when either year is not scored).
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import html
import io
import json
import math
import os
import re
import textwrap
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from . import data, index, overview, paths
from .errors import InputError

#: Peer groups, in report order: the locality attribute shared with the municipality.
PEER_GROUPS = ("size_class", "country", "locality_type")
GROUP_LABELS = {
    "size_class": "Same size class",
    "country": "Same country",
    "locality_type": "Same locality type",
}
#: Peer groups with fewer scored localities than this are flagged.
MIN_PEERS = 3
#: The resources the toolbox reads (for the provenance notice).
RESOURCES = ("localities", "mipex_l_indicators", "mipex_l_options", "mipex_l_answers")
#: Shown where an area or the overall score is missing by the rule.
NOT_SCORED = "not scored: too few answers"
#: Year range accepted in a questionnaire.
YEAR_RANGE = (1990, 2100)
#: The bundled fictional example.
EXAMPLE = "fictional-town.yml"
#: File name of the downloadable blank questionnaire.
QUESTIONNAIRE_FILENAME = "whole-comm-questionnaire.yml"

SIZE_LABELS = {"rural_area": "rural areas", "small_town": "small towns", "medium_town": "medium-sized towns"}
SIZE_HELP = {
    "rural_area": "under 5,000 inhabitants",
    "small_town": "5,000-49,999",
    "medium_town": "50,000-250,000",
}
# Labels shared with the rest of the book (wholecomm.overview), in the case used in sentences.
TYPE_LABELS = {key: label[0].lower() + label[1:] for key, label in overview.TYPE_LABELS.items()}
COUNTRY_NAMES = dict(overview.COUNTRY_NAMES)
LOCALITY_FIELDS = ("name", "country", "size_class", "locality_type")
FIELD_WORDS = {"country": "country", "size_class": "size class", "locality_type": "locality type"}

_NULL_TAG = "tag:yaml.org,2002:null"
_EPS = 1e-9

#: Largest questionnaire file accepted (bytes); a filled-in questionnaire with ten years
#: is under 200 kB as YAML and under 100 kB as a workbook.
MAX_FILE_BYTES = 2_000_000
#: Longest text accepted in one field (the municipality's name, an answer, a key).
MAX_TEXT_CHARS = 200
#: Most assessment years in one questionnaire.
MAX_YEARS = 50
#: Deepest nesting of YAML blocks accepted (a questionnaire needs 4).
MAX_DEPTH = 20


# --------------------------------------------------------------------------- errors
@dataclass(frozen=True)
class Cell:
    """Where a value sits in a workbook: sheet, row (from 1) and column letter."""

    sheet: str
    row: int
    column: str = ""
    sheet_no: int = 0

    def __str__(self) -> str:
        return f"sheet {self.sheet}, row {self.row}" + (f", column {self.column}" if self.column else "")

    def key(self) -> tuple:
        return (self.sheet_no, self.row, len(self.column), self.column)


Problem = tuple  # (line number, Cell or None, message)


def _loc_key(where) -> tuple:
    if isinstance(where, Cell):
        return where.key()
    return (0, where or 0, 0, "")


def _format(source: str, line, message: str, kind: str = "") -> str:
    if isinstance(line, Cell):
        return f"{source}: {line}: {kind}{message}"
    where = f"{source}:{line}" if line else source
    return f"{where}: {kind}{message}"


def _short(value: str, limit: int = 40) -> str:
    """A user value as quoted in a message: at most ``limit`` characters."""
    value = str(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


class QuestionnaireError(InputError):
    """A questionnaire that cannot be scored. ``problems`` lists (where, message) pairs,
    where = a line number counting from 1, a workbook :class:`Cell`, or None (the whole
    file); ``source`` names the file."""

    def __init__(self, problems: Sequence[Problem], source: str = "<questionnaire>"):
        self.problems = sorted(((p[0], p[1]) for p in problems), key=lambda p: (_loc_key(p[0]), p[1]))
        self.source = source
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One ``file:line: message`` per problem."""
        return [_format(self.source, line, msg) for line, msg in self.problems]


# ------------------------------------------------------------------- catalogue
@dataclass(frozen=True)
class Catalogue:
    """The MIPEX-L indicator catalogue and answer options, and the allowed locality values."""

    indicators: pd.DataFrame  # indicator_id, area, stage, question (catalogue order)
    options: pd.DataFrame  # indicator_id, answer_code, answer_text, score
    allowed: dict  # field -> list of allowed values (from the data package schema)

    @property
    def ids(self) -> list[str]:
        return [str(i) for i in self.indicators["indicator_id"]]

    @property
    def areas(self) -> list[str]:
        present = set(self.indicators["area"].astype(str))
        return [a for a in index.AREAS if a in present] + sorted(present - set(index.AREAS))

    def codes(self, indicator_id: str) -> list[str]:
        return self._codes().get(indicator_id, [])

    def _codes(self) -> dict:
        cache = self.__dict__.get("_codes_cache")
        if cache is None:
            cache = {
                str(ind): sorted(str(c) for c in g["answer_code"])
                for ind, g in self.options.groupby(self.options["indicator_id"].astype(str), sort=False)
            }
            object.__setattr__(self, "_codes_cache", cache)
        return cache

    def area_sizes(self) -> pd.Series:
        return self.indicators["area"].astype(str).value_counts().reindex(self.areas)


def catalogue() -> Catalogue:
    """The catalogue of the data package in use (validated by :func:`wholecomm.data.loading.load`)."""
    frames = data.load_resources(RESOURCES)  # validated together, once
    ind, opt = frames["mipex_l_indicators"], frames["mipex_l_options"]
    fields = {f["name"]: f for f in data.resource_descriptor("localities")["schema"]["fields"]}
    allowed = {
        name: list(fields[name]["constraints"]["enum"]) for name in ("country", "size_class", "locality_type")
    }
    ind = ind.assign(
        indicator_id=ind["indicator_id"].astype(str),
        area=ind["area"].astype(str),
        stage=ind["stage"].astype(str),
        question=ind["question"].astype(str),
    )
    opt = opt.assign(
        indicator_id=opt["indicator_id"].astype(str),
        answer_code=opt["answer_code"].astype(str),
        answer_text=opt["answer_text"].astype(str),
    )
    order = {a: k for k, a in enumerate(index.AREAS)}
    ind = ind.sort_values(
        ["area", "indicator_id"],
        key=lambda s: s.map(order).fillna(len(order)) if s.name == "area" else s,
        kind="stable",
    ).reset_index(drop=True)
    opt = opt.sort_values(["indicator_id", "score"], ascending=[True, False], kind="stable").reset_index(
        drop=True
    )
    return Catalogue(ind, opt, allowed)


def area_label(area: str) -> str:
    return (
        "Overall" if area == "overall" else index.AREA_LABELS.get(area, area.replace("_", " ").capitalize())
    )


def _rule_text(sizes: pd.Series, share: float) -> str:
    """'at least 4 of its 6 indicators' (or a share when areas differ in size)."""
    if sizes.nunique() == 1:
        n = int(sizes.iloc[0])
        return f"at least {_needed(n, share)} of its {n} indicators"
    return f"at least {share:.0%} of its indicators"


def _needed(n: int, share: float) -> int:
    """Smallest number of answered items out of ``n`` that satisfies the rule."""
    return int(math.ceil(share * n - _EPS))


# --------------------------------------------------------------- blank questionnaire
def _comment(text: str, indent: str, width: int = 92, hang: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=f"{indent}# ",
        subsequent_indent=f"{indent}# {hang}",
        break_on_hyphens=False,
    )


def blank_questionnaire(
    limit: int | None = None, min_answered_share: float = index.MIN_ANSWERED_SHARE
) -> str:
    """The blank MIPEX-L questionnaire as YAML text, generated from the indicator catalogue.

    A header explains how to fill it in; every indicator line is preceded by comments
    with its question and its options with their scores. ``limit`` keeps only the first
    ``limit`` indicators (for showing an excerpt; the result is then not a complete
    questionnaire).
    """
    cat = catalogue()
    rule = _rule_text(cat.area_sizes(), min_answered_share) + " are answered"
    allowed = cat.allowed
    lines = [
        "# MIPEX-L-style self-evaluation questionnaire: the pilot questionnaire of the",
        "# Whole-COMM research companion, modelled on MIPEX and MIPEX-R. It is this book's own",
        "# questionnaire, not the Whole-COMM toolbox and not MIPEX-L (whose indicators are not public).",
        "#",
        "# How to fill it in",
        "# 1. Under `locality:` give the municipality's name and, for the benchmarks, its",
        "#    country, size class and locality type (allowed values are listed next to each).",
        "#    Put the name in quotes if it contains a colon or a #.",
        "# 2. Under `assessments:` set `year:` to the year the answers describe and answer each",
        "#    indicator with the letter of one option, for example `GOV01: a`. The options and",
        "#    their scores (0-100) are in the comments above each indicator.",
        "# 3. Leave an answer empty when you do not know it. It then counts as not answered,",
        f"#    never as 0: an area is scored only when {rule},",
        "#    and the overall score only when every area is scored.",
        "# 4. To monitor change over time, add further years: copy the block from `- year:`",
        "#    to its last answer, paste it at the end of the file and change the year.",
        "#    Each year may appear only once.",
        "# 5. Run:   wholecomm assess this-file.yml --out report.html",
        "#",
        "# Lines starting with # are comments and are ignored.",
        "",
        "locality:",
        "  name:            # free text (the report shows it as written)",
        f"  country:         # one of {' '.join(allowed['country'])}",
        "  size_class:      # "
        + " | ".join(f"{s} ({SIZE_HELP.get(s, '')})" if s in SIZE_HELP else s for s in allowed["size_class"]),
        f"  locality_type:   # one of {' | '.join(allowed['locality_type'])}",
        "  #   thriving = the local economy improved or was stable over the last five years and",
        "  #   unemployment is below 10 percent, otherwise struggling; experienced = the",
        "  #   foreign-born share of the population was at least 5 percent in 2014, otherwise new",
        "",
        "assessments:",
        "  - year:          # the year the answers describe, for example 2024",
        "    answers:",
    ]
    indent = "      "
    shown = cat.indicators if limit is None else cat.indicators.head(limit)
    current_area = None
    for row in shown.itertuples(index=False):
        if row.area != current_area:
            current_area = row.area
            lines += [
                "",
                f"{indent}# ===== {area_label(row.area)} " + "=" * max(3, 70 - len(area_label(row.area))),
            ]
        stage = index.STAGE_LABELS.get(row.stage, row.stage)
        lines += _comment(f"{row.indicator_id} ({stage}): {row.question}", indent)
        opts = cat.options[cat.options["indicator_id"] == row.indicator_id]
        for opt in opts.itertuples(index=False):
            lines += _comment(
                f"  {opt.answer_code} = {opt.answer_text} ({int(opt.score)})", indent, hang="      "
            )
        codes = ", ".join(sorted(opts["answer_code"]))
        lines.append(f"{indent}{row.indicator_id}:        # {codes}")
    if limit is not None and limit < len(cat.indicators):
        lines += ["", f"{indent}# ... and {len(cat.indicators) - limit} more indicators"]
    return "\n".join(lines) + "\n"


def download_link(text: str, filename: str, label: str, mime: str = "application/yaml") -> str:
    """An HTML link that downloads ``text`` as ``filename`` (a data: URI: works offline)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a class="wholecomm-download" href="data:{mime};charset=utf-8;base64,{payload}" '
        f'download="{html.escape(filename)}">{html.escape(label)}</a>'
    )


def download_link_bytes(content: bytes, filename: str, label: str, mime: str) -> str:
    """An HTML link that downloads binary ``content`` as ``filename`` (a data: URI)."""
    payload = base64.b64encode(content).decode("ascii")
    return (
        f'<a class="wholecomm-download" href="data:{mime};base64,{payload}" '
        f'download="{html.escape(filename)}">{html.escape(label)}</a>'
    )


def questionnaire_download_link(label: str = "Download the blank questionnaire (YAML)") -> str:
    """The blank questionnaire as a download link (``whole-comm-questionnaire.yml``)."""
    return download_link(blank_questionnaire(), QUESTIONNAIRE_FILENAME, label)


def example_questionnaire(cat: Catalogue | None = None) -> Path:
    """Path of the fictional example (Exampleton, two assessment years) for the catalogue
    in use (``cat``, default :func:`catalogue`).

    The bundled file when its indicators are those of the catalogue. With another
    catalogue, the same municipality and years answered over that catalogue by a fixed
    rule (:func:`example_for_catalogue`), written once to ``_build/examples/``."""
    path = Path(str(resources.files("wholecomm").joinpath("examples", EXAMPLE)))
    if not path.is_file():
        raise FileNotFoundError(f"The bundled example questionnaire is missing: {path}.")
    import yaml

    cat = catalogue() if cat is None else cat
    bundled = yaml.safe_load(path.read_text(encoding="utf-8"))
    ids = {str(k) for a in bundled["assessments"] for k in (a.get("answers") or {})}
    if ids == set(cat.ids):
        return path
    text = example_for_catalogue(cat, bundled)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    target = paths.build_dir() / "examples" / f"fictional-town-{digest}.yml"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    return target


def example_for_catalogue(cat: Catalogue, bundled: dict) -> str:
    """The fictional example over another catalogue: the bundled municipality and years;
    indicator ``i`` (catalogue order) of assessment ``k`` gets option
    ``(crc32(id) + 2k) mod (number of options)`` of its options, and every seventh
    indicator is left empty in the first year (so no area loses more than a third of its
    answers and every area stays scorable under the default rule)."""
    lines = [
        "# EXAMPLE: Exampleton is a fictional municipality in an imaginary region, invented to",
        "# show the toolbox; its answers follow a fixed rule over the indicator catalogue in use",
        "# and describe no real place.",
        "",
        "locality:",
    ]
    for key, value in bundled["locality"].items():
        lines.append(f"  {key}: {json.dumps(str(value))}")
    lines.append("assessments:")
    for k, assessment in enumerate(bundled["assessments"]):
        lines += [f"  - year: {int(assessment['year'])}", "    answers:"]
        for i, ind in enumerate(cat.ids):
            codes = cat.codes(ind)
            code = codes[(zlib.crc32(ind.encode()) + 2 * k) % len(codes)]
            lines.append(f"      {ind}: {'' if k == 0 and i % 7 == 6 else code}".rstrip())
    return "\n".join(lines) + "\n"


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
        return {
            "name": self.name,
            "country": self.country,
            "size_class": self.size_class,
            "locality_type": self.locality_type,
        }

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
                    f"unknown field '{_short(key)}' under locality: expected "
                    f"{', '.join(LOCALITY_FIELDS)}{_suggest(key, LOCALITY_FIELDS)}",
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
                    f"unknown {FIELD_WORDS[name]} '{_short(value)}': must be one of "
                    f"{', '.join(cat.allowed[name])}{_suggest(value, cat.allowed[name])}",
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
                    f"unknown field '{_short(key)}' in assessment {k}: expected year and answers"
                    f"{_suggest(key, ('year', 'answers'))}",
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
                    f"unknown indicator '{_short(ind)}': not in the MIPEX-L catalogue"
                    f"{_suggest(ind, cat.ids)}",
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


def parse_questionnaire(
    text: str, source: str = "<questionnaire>", min_answered_share: float = index.MIN_ANSWERED_SHARE
) -> Questionnaire:
    """Check a questionnaire given as YAML text (see :func:`read_questionnaire`)."""
    import yaml

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
    try:
        root = _compose(text)
    except RecursionError:
        raise QuestionnaireError(
            [(None, f"not a questionnaire: nested too deeply (more than {MAX_DEPTH} levels)")], source
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = str(exc.problem or exc.context or "cannot be read")
        if exc.context and exc.problem:
            where = (
                f" that starts on line {exc.context_mark.line + 1}"
                if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line
                else ""
            )
            reason += f" ({exc.context}{where})"
        raise QuestionnaireError(
            [(mark.line + 1 if mark else None, f"not valid YAML: {reason}")], source
        ) from None
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
    problems: list = []
    warnings: list = []
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
                    f"unknown top-level key '{_short(key)}': expected locality: and assessments:"
                    f"{_suggest(key, ('locality', 'assessments'))}",
                )
            )
    cat = catalogue()
    if "locality" not in top:
        problems.append((1, "the top-level key locality: is missing"))
        loc = dict.fromkeys(LOCALITY_FIELDS)
    else:
        knode, vnode = top["locality"]
        loc = _parse_locality(vnode, _line(knode), cat, problems)
    entries = []
    if "assessments" not in top:
        problems.append((1, "the top-level key assessments: is missing"))
    else:
        knode, vnode = top["assessments"]
        if not isinstance(vnode, yaml.SequenceNode) or not vnode.value:
            found = "empty" if _is_null(vnode) or isinstance(vnode, yaml.SequenceNode) else "not a list"
            problems.append(
                (
                    _line(knode),
                    f"assessments: must be a list of `- year: ... answers: ...` entries, found {found}",
                )
            )
        elif len(vnode.value) > MAX_YEARS:
            problems.append(
                (
                    _line(knode),
                    f"assessments: has {len(vnode.value)} entries; at most {MAX_YEARS} "
                    "years can be assessed in one questionnaire",
                )
            )
        else:
            for k, entry in enumerate(vnode.value, start=1):
                parsed = _parse_assessment(entry, k, cat, problems, warnings)
                if parsed is not None:
                    entries.append(parsed)
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
                    f"an area needs {_rule_text(sizes, share)} answered)",
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


def read_questionnaire(path, min_answered_share: float = index.MIN_ANSWERED_SHARE) -> Questionnaire:
    """Read and check a filled-in questionnaire: YAML text, or a workbook (``.xlsx``, see
    :func:`questionnaire_workbook`, read by :func:`read_workbook`).

    Raises :class:`QuestionnaireError` listing every problem with its line (or sheet, row
    and column): malformed YAML, wrong top-level structure, unknown or empty locality
    fields (country, size class, locality type), missing or invalid years, duplicate
    years, unknown indicators, answers that are not among the indicator's options, years
    with too few answers to score any area, and inputs beyond the size limits
    (:data:`MAX_FILE_BYTES`, :data:`MAX_TEXT_CHARS`, :data:`MAX_YEARS`, :data:`MAX_DEPTH`).
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
        return read_workbook(path, min_answered_share)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise QuestionnaireError([(line, "the file is not UTF-8 text; save it as UTF-8")], source) from None
    return parse_questionnaire(text, source, min_answered_share)


# ------------------------------------------------------------------- workbook
#: Sheet names of the questionnaire workbook, in order.
SHEETS = ("Instructions", "Locality", "Answers", "Lists")
#: The answer that means "not answered" in the workbook's drop-down lists.
DONT_KNOW = "Don't know"
#: Answer columns in a blank workbook (one year each; extra ones may stay empty).
BLANK_YEAR_COLUMNS = 3
_FIRST_ANSWER_COL = 5  # column E
_FIRST_QUESTION_ROW = 3


def _choice_label(field_name: str, value: str) -> str:
    """The text shown in a workbook drop-down for a locality value: 'AT (Austria)'."""
    label = {"country": COUNTRY_NAMES, "size_class": SIZE_LABELS, "locality_type": TYPE_LABELS}[
        field_name
    ].get(value)
    if field_name == "size_class" and value in SIZE_HELP:
        label = f"{label}, {SIZE_HELP[value]}"
    return f"{value} ({label})" if label else value


def questionnaire_workbook(
    example: bool = False,
    q: Questionnaire | None = None,
    min_answered_share: float = index.MIN_ANSWERED_SHARE,
) -> bytes:
    """The questionnaire as an Excel workbook (bytes), generated from the indicator catalogue.

    Sheets: *Instructions* (how to fill it in), *Locality* (name and drop-downs for
    country, size class and locality type), *Answers* (one row per question: area,
    indicator, stage, question, then one column per assessment year with a drop-down of
    the answer texts and "Don't know"), and a hidden *Lists* sheet holding the drop-down
    lists. ``example`` fills in the bundled fictional example; ``q`` fills in a checked
    questionnaire. :func:`read_workbook` reads it back.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    if example and q is None:
        q = read_questionnaire(example_questionnaire(), min_answered_share)
    cat = catalogue()
    rule = _rule_text(cat.area_sizes(), min_answered_share)
    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE8F3")
    input_fill = PatternFill("solid", fgColor="FFF6D5")
    wrap = Alignment(wrap_text=True, vertical="top")

    ins = wb.active
    ins.title = SHEETS[0]
    lines = [
        (
            "MIPEX-L-style self-evaluation questionnaire (Whole-COMM research companion pilot)",
            Font(bold=True, size=14),
        ),
        (
            "This book's own pilot questionnaire, modelled on MIPEX and MIPEX-R: not the Whole-COMM toolbox and "
            "not MIPEX-L (whose indicators are not public).",
            None,
        ),
        ("", None),
        ("How to fill it in", bold),
        (
            "1. On the sheet Locality, type the municipality's name and choose its country, size class and "
            "locality type from the lists (yellow cells).",
            None,
        ),
        (
            "2. On the sheet Answers, type the year the answers describe in the yellow cell above the answer "
            "column (row 2), then choose one answer per question from the list in its cell.",
            None,
        ),
        (
            f'3. When you do not know an answer, choose "{DONT_KNOW}" or leave the cell empty. It counts as not '
            f"answered, never as 0: an area is scored only when {rule} are answered, and the overall score only "
            "when every area is scored.",
            None,
        ),
        (
            "4. To monitor change over time, fill in the next answer column for another year (its year in row 2). "
            "Leave unused columns empty. Each year may appear only once.",
            None,
        ),
        (
            "5. Save the file (keep the .xlsx format), then run:   wholecomm assess this-file.xlsx --out "
            "report.html",
            None,
        ),
        ("", None),
        (
            "Do not rename the sheets or move the rows; the indicator codes in column B tell the toolbox which "
            "question a row answers.",
            None,
        ),
        (
            f"{len(cat.ids)} questions in {len(cat.areas)} policy areas. Answer texts and their scores (0-100) are "
            "listed on the sheet Answers, next to each question.",
            None,
        ),
    ]
    for k, (text, font) in enumerate(lines, start=1):
        c = ins.cell(row=k, column=1, value=text)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        if font is not None:
            c.font = font
    ins.column_dimensions["A"].width = 110

    # -- hidden lists
    lst = wb.create_sheet(SHEETS[3])
    lst.sheet_state = "hidden"
    list_ranges = {}
    col = 1
    for name in ("country", "size_class", "locality_type"):
        items = [_choice_label(name, v) for v in cat.allowed[name]]
        letter = get_column_letter(col)
        lst.cell(row=1, column=col, value=name)
        for r, item in enumerate(items, start=2):
            lst.cell(row=r, column=col, value=item)
        list_ranges[name] = f"{quote_sheetname(SHEETS[3])}!${letter}$2:${letter}${len(items) + 1}"
        col += 1
    for ind in cat.ids:
        opts = cat.options[cat.options["indicator_id"] == ind]
        items = [*opts["answer_text"].astype(str), DONT_KNOW]
        letter = get_column_letter(col)
        lst.cell(row=1, column=col, value=ind)
        for r, item in enumerate(items, start=2):
            lst.cell(row=r, column=col, value=item)
        list_ranges[ind] = f"{quote_sheetname(SHEETS[3])}!${letter}$2:${letter}${len(items) + 1}"
        col += 1

    # -- locality
    loc = wb.create_sheet(SHEETS[1], 1)
    loc.append(["Field", "Value", "How to fill it in"])
    helps = {
        "name": "Free text, as the report should show it",
        "country": "Choose from the list",
        "size_class": "Choose from the list (inhabitants)",
        "locality_type": "thriving = economy improved or stable over five years and unemployment below 10%, "
        "otherwise struggling; experienced = foreign-born share at least 5% in 2014, "
        "otherwise new",
    }
    for k, name in enumerate(LOCALITY_FIELDS, start=2):
        value = None
        if q is not None:
            value = q.name if name == "name" else _choice_label(name, getattr(q, name))
        loc.cell(row=k, column=1, value=name).font = bold
        cell = loc.cell(row=k, column=2, value=value)
        cell.fill = input_fill
        loc.cell(row=k, column=3, value=helps[name]).alignment = wrap
        if name in list_ranges:
            dv = DataValidation(
                type="list",
                formula1=f"={list_ranges[name]}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="Not in the list",
                error="Choose a value from the list.",
            )
            loc.add_data_validation(dv)
            dv.add(cell)
    for c in loc[1]:
        c.font, c.fill = bold, head_fill
    loc.column_dimensions["A"].width = 16
    loc.column_dimensions["B"].width = 44
    loc.column_dimensions["C"].width = 70

    # -- answers
    ans = wb.create_sheet(SHEETS[2], 2)
    years = list(q.years) if q is not None else [None] * BLANK_YEAR_COLUMNS
    heads = ["Policy area", "Indicator", "Stage", "Question"]
    ans.append(heads + [f"Answer ({k})" for k in range(1, len(years) + 1)] + ["Answer options (score)"])
    ans.append(["", "", "", "Year the answers describe →"] + [y for y in years] + [""])
    for c in ans[1]:
        c.font, c.fill = bold, head_fill
        c.alignment = wrap
    ans.cell(row=2, column=4).font = bold
    given = {}
    if q is not None:
        given = {
            (int(r.year), r.indicator_id): r.answer_code
            for r in q.answers.itertuples(index=False)
            if isinstance(r.answer_code, str)
        }
    text_of = {(r.indicator_id, r.answer_code): r.answer_text for r in cat.options.itertuples(index=False)}
    for k in range(len(years)):
        cell = ans.cell(row=2, column=_FIRST_ANSWER_COL + k)
        cell.fill = input_fill
        cell.font = bold
    year_dv = DataValidation(
        type="whole",
        operator="between",
        formula1=str(YEAR_RANGE[0]),
        formula2=str(YEAR_RANGE[1]),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a year",
        error=f"Type a year from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}.",
    )
    ans.add_data_validation(year_dv)
    year_dv.add(
        f"{get_column_letter(_FIRST_ANSWER_COL)}2:{get_column_letter(_FIRST_ANSWER_COL + len(years) - 1)}2"
    )
    last_col = _FIRST_ANSWER_COL + len(years) - 1
    for r, row in enumerate(cat.indicators.itertuples(index=False), start=_FIRST_QUESTION_ROW):
        opts = cat.options[cat.options["indicator_id"] == row.indicator_id]
        ans.cell(row=r, column=1, value=area_label(row.area))
        ans.cell(row=r, column=2, value=row.indicator_id)
        ans.cell(row=r, column=3, value=index.STAGE_LABELS.get(row.stage, row.stage))
        ans.cell(row=r, column=4, value=row.question).alignment = wrap
        for k, year in enumerate(years):
            code = given.get((year, row.indicator_id)) if year is not None else None
            cell = ans.cell(
                row=r, column=_FIRST_ANSWER_COL + k, value=text_of[(row.indicator_id, code)] if code else None
            )
            cell.fill = input_fill
            cell.alignment = wrap
        ans.cell(
            row=r,
            column=last_col + 1,
            value="\n".join(
                f"{t} ({int(sc)})" for t, sc in zip(opts["answer_text"], opts["score"], strict=False)
            ),
        ).alignment = wrap
        dv = DataValidation(
            type="list",
            formula1=f"={list_ranges[row.indicator_id]}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Not an answer option",
            error=f"Choose one of the answers in the list, or {DONT_KNOW}.",
        )
        ans.add_data_validation(dv)
        dv.add(f"{get_column_letter(_FIRST_ANSWER_COL)}{r}:{get_column_letter(last_col)}{r}")
    widths = {"A": 22, "B": 10, "C": 12, "D": 60}
    for letter, w in widths.items():
        ans.column_dimensions[letter].width = w
    for k in range(len(years)):
        ans.column_dimensions[get_column_letter(_FIRST_ANSWER_COL + k)].width = 40
    ans.column_dimensions[get_column_letter(last_col + 1)].width = 60
    ans.freeze_panes = "E3"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def read_workbook(path, min_answered_share: float = index.MIN_ANSWERED_SHARE) -> Questionnaire:
    """Read and check a questionnaire workbook (:func:`questionnaire_workbook`); problems
    name the sheet, row and column of the cell."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    path = Path(path)
    source = str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
        if unpacked > 20 * MAX_FILE_BYTES:
            raise QuestionnaireError(
                [
                    (
                        None,
                        f"the workbook unpacks to {unpacked:,} bytes; at most "
                        f"{20 * MAX_FILE_BYTES:,}: is this the right file?",
                    )
                ],
                source,
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path, read_only=True, data_only=True)
    except QuestionnaireError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise QuestionnaireError(
            [
                (
                    None,
                    f"cannot be read as an Excel workbook (.xlsx): "
                    f"{_short(str(exc) or type(exc).__name__, 120)}",
                )
            ],
            source,
        ) from None
    try:
        missing = [name for name in SHEETS[1:3] if name not in wb.sheetnames]
        if missing:
            raise QuestionnaireError(
                [
                    (
                        None,
                        f"the sheet{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                        "is missing: start from `wholecomm questionnaire --format xlsx` and do "
                        "not rename its sheets",
                    )
                ],
                source,
            )
        sheet_no = {name: k for k, name in enumerate(wb.sheetnames)}
        cat = catalogue()
        problems: list = []
        warns: list = []

        def where(sheet, row, col):
            return Cell(sheet, row, get_column_letter(col), sheet_no[sheet])

        def text_at(sheet, row, col, value, what):
            text = _cell_text(value)
            if text is not None and len(text) > MAX_TEXT_CHARS:
                problems.append(
                    (
                        where(sheet, row, col),
                        f"{what} is too long ({len(text):,} characters; at most {MAX_TEXT_CHARS})",
                    )
                )
                return None
            return text

        # -- locality
        rows = list(wb[SHEETS[1]].iter_rows(min_row=1, max_row=50, max_col=3, values_only=True))
        loc = dict.fromkeys(LOCALITY_FIELDS)
        found = {}
        for r, row in enumerate(rows, start=1):
            key = _cell_text(row[0]) if row else None
            if key in LOCALITY_FIELDS:
                found[key] = (r, row[1] if len(row) > 1 else None)
        for name in LOCALITY_FIELDS:
            if name not in found:
                problems.append(
                    (Cell(SHEETS[1], 1, "A", sheet_no[SHEETS[1]]), f"the row '{name}' is missing")
                )
                continue
            r, value = found[name]
            text = text_at(SHEETS[1], r, 2, value, f"locality {name}")
            if text is None:
                if _cell_text(value) is None:
                    extra = f": choose one of {', '.join(cat.allowed[name])}" if name in cat.allowed else ""
                    problems.append((where(SHEETS[1], r, 2), f"locality {name} is empty{extra}"))
                continue
            if name in cat.allowed:
                choices = {_choice_label(name, v): v for v in cat.allowed[name]}
                code = text if text in cat.allowed[name] else choices.get(text)
                if code is None:
                    problems.append(
                        (
                            where(SHEETS[1], r, 2),
                            f"unknown {FIELD_WORDS[name]} '{_short(text)}': choose one of "
                            f"{', '.join(cat.allowed[name])}{_suggest(text, cat.allowed[name])}",
                        )
                    )
                    continue
                text = code
            loc[name] = text

        # -- answers
        sheet = SHEETS[2]
        grid = list(wb[sheet].iter_rows(min_row=1, max_row=len(cat.ids) + 200, values_only=True))
        header = grid[0] if grid else ()
        year_row = grid[1] if len(grid) > 1 else ()
        answer_cols = [
            c
            for c in range(_FIRST_ANSWER_COL, len(header) + 1)
            if str(_cell_text(header[c - 1]) or "").startswith("Answer (")
        ]
        if len(answer_cols) > MAX_YEARS:
            problems.append((where(sheet, 1, answer_cols[MAX_YEARS]), f"at most {MAX_YEARS} answer columns"))
            answer_cols = answer_cols[:MAX_YEARS]
        known = set(cat.ids)
        by_ind = {}
        for r in range(_FIRST_QUESTION_ROW, len(grid) + 1):
            row = grid[r - 1]
            ind = _cell_text(row[1]) if len(row) > 1 else None
            if ind is None:
                if any(_cell_text(row[c - 1]) for c in answer_cols if c - 1 < len(row)):
                    problems.append(
                        (where(sheet, r, 2), "an answer is given on a row without an indicator code")
                    )
                continue
            if ind not in known:
                problems.append(
                    (
                        where(sheet, r, 2),
                        f"unknown indicator '{_short(ind)}': not in the MIPEX-L "
                        f"catalogue{_suggest(ind, cat.ids)}",
                    )
                )
                continue
            if ind in by_ind:
                problems.append((where(sheet, r, 2), f"{ind} appears twice (first on row {by_ind[ind]})"))
                continue
            by_ind[ind] = r
        options = {}
        for o in cat.options.itertuples(index=False):
            options.setdefault(o.indicator_id, {})[str(o.answer_text).strip().casefold()] = o.answer_code
        entries = []
        for c in answer_cols:
            col_values = {
                ind: (grid[r - 1][c - 1] if c - 1 < len(grid[r - 1]) else None) for ind, r in by_ind.items()
            }
            year_value = year_row[c - 1] if c - 1 < len(year_row) else None
            any_answer = any(
                _cell_text(v) not in (None,) and _cell_text(v).casefold() != DONT_KNOW.casefold()
                for v in col_values.values()
            )
            year_text = text_at(sheet, 2, c, year_value, "the year")
            if year_text is None and not any_answer:
                continue  # an unused answer column
            year = None
            if year_text is None:
                if _cell_text(year_value) is None:
                    problems.append(
                        (
                            where(sheet, 2, c),
                            "this answer column has answers but no year: type the year the answers describe",
                        )
                    )
            elif not re.fullmatch(r"[0-9]{4}", year_text) or not (
                YEAR_RANGE[0] <= int(year_text) <= YEAR_RANGE[1]
            ):
                problems.append(
                    (
                        where(sheet, 2, c),
                        f"year '{_short(year_text)}' must be a four-digit year from "
                        f"{YEAR_RANGE[0]} to {YEAR_RANGE[1]}",
                    )
                )
            else:
                year = int(year_text)
            given = {}
            for ind, r in by_ind.items():
                text = text_at(sheet, r, c, col_values[ind], f"the answer for {ind}")
                if text is None:
                    if _cell_text(col_values[ind]) is None:
                        given[ind] = (None, where(sheet, r, c))
                    continue
                if text.casefold() in (DONT_KNOW.casefold(), "dont know", "don’t know"):
                    given[ind] = (None, where(sheet, r, c))
                    continue
                code = options[ind].get(text.casefold())
                if code is None and text in cat.codes(ind):
                    code = text  # the letter of the option, as in the YAML questionnaire
                if code is None:
                    problems.append(
                        (
                            where(sheet, r, c),
                            f"'{_short(text)}' is not an answer option for {ind}: "
                            f"choose one from the list, or {DONT_KNOW}",
                        )
                    )
                    continue
                given[ind] = (code, where(sheet, r, c))
            entries.append((year, where(sheet, 2, c), given, where(sheet, 2, c)))
        if not entries and not problems:
            problems.append(
                (
                    where(sheet, 2, _FIRST_ANSWER_COL),
                    "no answers: type the year in row 2 and answer the questions below it",
                )
            )
    finally:
        wb.close()
    return _build_questionnaire(loc, entries, cat, problems, warns, source, min_answered_share)


# -------------------------------------------------------------------- assessment
@dataclass
class Assessment:
    """Scores, benchmarks, gaps, priorities and monitoring of one questionnaire.

    Tables (all tidy DataFrames):

    * ``scores``: year, unit (area id or "overall"), label, answered, n_indicators,
      score (NaN = not scored), scored;
    * ``benchmarks``: group, group_label, value, unit, label, n_peers (localities in the
      group), n_scored (with a score on the unit), median, q1, q3, best, own, gap (own -
      median), few_peers (n_scored < MIN_PEERS);
    * ``peer_scores``: group, group_label, locality_id, unit, label, score (scored peers);
    * ``peers``: group, locality_id (the members of each peer group);
    * ``gaps``: unit, label, own, gap_<group> per group, reference_gap, few_peers;
    * ``priorities``: rank, indicator_id, area, area_label, question, answer_code,
      answer_text, score, next_code, next_text, points_gained, area_points,
      reference_gap, priority, best_peer, n_peers_100, peers_100;
    * ``monitoring``: year, unit, label, score, scored (every year);
    * ``changes``: unit, label, one column per year, change (last - first).
    """

    questionnaire: Questionnaire
    min_answered_share: float
    groups: list[str]
    latest_year: int
    result: index.IndexResult
    scores: pd.DataFrame
    benchmarks: pd.DataFrame
    peer_scores: pd.DataFrame
    peers: pd.DataFrame
    gaps: pd.DataFrame
    priorities: pd.DataFrame
    monitoring: pd.DataFrame
    changes: pd.DataFrame
    warnings: list[Problem]
    notice: str
    synthetic: bool
    n_assessed: int
    #: locality_id -> what the peer is ("small town in Austria; thriving, new to diversity")
    peer_descriptions: dict = field(default_factory=dict)

    def warning_lines(self) -> list[str]:
        q = self.questionnaire
        return q.warning_lines() + [_format(q.source, line, msg, "warning: ") for line, msg in self.warnings]

    def group_label(self, group: str) -> str:
        rows = self.benchmarks[self.benchmarks["group"] == group]
        return str(rows["group_label"].iloc[0]) if len(rows) else GROUP_LABELS[group]

    def summary(self) -> dict:
        """Key facts for prose: own scores, peer medians and counts, largest gap, top priority."""
        q = self.questionnaire
        latest = self.scores[self.scores["year"] == self.latest_year].set_index("unit")
        first_year = q.years[0]
        first = self.scores[self.scores["year"] == first_year].set_index("unit")
        out = {
            "name": q.name,
            "country": q.country,
            "size_class": q.size_class,
            "locality_type": q.locality_type,
            "n_years": len(q.years),
            "first_year": first_year,
            "latest_year": self.latest_year,
            "years": ", ".join(str(y) for y in q.years),
            "overall_latest": float(latest.loc["overall", "score"]),
            "overall_first": float(first.loc["overall", "score"]),
            "n_unanswered_latest": int(
                q.answers.loc[q.answers["year"] == self.latest_year, "answer_code"].isna().sum()
            ),
            "n_indicators": int(latest.loc["overall", "n_indicators"]),
            "n_areas_scored_latest": int(latest.drop(index="overall")["scored"].sum()),
            "n_areas": int(len(latest) - 1),
            "n_assessed": self.n_assessed,
            "min_answered_share": self.min_answered_share,
            "n_priorities": int(len(self.priorities)),
        }
        out["overall_change"] = out["overall_latest"] - out["overall_first"]
        overall = self.benchmarks[self.benchmarks["unit"] == "overall"].set_index("group")
        for group in self.groups:
            row = overall.loc[group]
            out[f"{group}_label"] = str(row["group_label"])
            out[f"{group}_n_peers"] = int(row["n_peers"])
            out[f"{group}_n_scored"] = int(row["n_scored"])
            out[f"{group}_median"] = float(row["median"])
            out[f"{group}_gap"] = float(row["gap"])
        out["answer_rule"] = _rule_text(
            self.result.indicators["area"].value_counts().reindex(self.result.areas), self.min_answered_share
        )
        out.update(
            {
                "largest_gap_area": "–",
                "largest_gap": np.nan,
                "n_areas_improved": 0,
                "n_areas_declined": 0,
                "most_improved_area": "–",
                "most_improved_change": np.nan,
            }
        )
        sizes = [out[f"{g}_n_peers"] for g in self.groups]
        out["min_group_n"], out["max_group_n"] = int(min(sizes)), int(max(sizes))
        gaps = self.gaps.dropna(subset=["reference_gap"])
        if len(gaps):
            out["largest_gap_area"] = str(gaps.iloc[0]["label"])
            out["largest_gap"] = float(gaps.iloc[0]["reference_gap"])
        if len(self.priorities):
            top = self.priorities.iloc[0]
            for key in ("indicator_id", "area_label", "question", "answer_text", "next_text", "peers_100"):
                out[f"top_{key}"] = str(top[key])
            out["top_points_gained"] = float(top["points_gained"])
            out["top_n_peers_100"] = int(top["n_peers_100"])
            out["top_priority"] = float(top["priority"])
        if len(q.years) > 1:
            ch = self.changes[self.changes["unit"] != "overall"].dropna(subset=["change"])
            out["n_areas_improved"] = int((ch["change"] > _EPS).sum())
            out["n_areas_declined"] = int((ch["change"] < -_EPS).sum())
            if len(ch):
                best = ch.sort_values(["change", "unit"], ascending=[False, True], kind="stable").iloc[0]
                out["most_improved_area"] = str(best["label"])
                out["most_improved_change"] = float(best["change"])
        return out


def _answers_for_engine(q: Questionnaire) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "locality_id": q.answers["year"].astype(str),
            "indicator_id": q.answers["indicator_id"].astype(str),
            "answer_code": q.answers["answer_code"].fillna("").astype(str),
        }
    )


def _scores_table(res: index.IndexResult, sizes: pd.Series) -> pd.DataFrame:
    rows = []
    for loc in res.localities:
        for area in res.areas:
            score = float(res.area_scores.loc[loc, area])
            rows.append(
                {
                    "year": int(loc),
                    "unit": area,
                    "label": area_label(area),
                    "answered": int(res.area_answered.loc[loc, area]),
                    "n_indicators": int(sizes[area]),
                    "score": score,
                    "scored": not bool(res.area_flags.loc[loc, area]),
                }
            )
        rows.append(
            {
                "year": int(loc),
                "unit": "overall",
                "label": "Overall",
                "answered": int(res.area_answered.loc[loc].sum()),
                "n_indicators": int(sizes.sum()),
                "score": float(res.overall[loc]),
                "scored": not bool(res.overall_flag[loc]),
            }
        )
    return pd.DataFrame(rows)


def _unit_scores(res: index.IndexResult) -> pd.DataFrame:
    """locality x unit (areas then overall)."""
    out = res.area_scores.copy()
    out["overall"] = res.overall
    return out


SIZE_SINGULAR = {"rural_area": "rural area", "small_town": "small town", "medium_town": "medium-sized town"}


def describe_localities(localities: pd.DataFrame) -> dict:
    """locality_id -> a description by what the locality is, not by its code:
    'small town in Austria; thriving, new to diversity'."""
    out = {}
    for r in localities.itertuples(index=False):
        size = SIZE_SINGULAR.get(str(r.size_class), str(r.size_class).replace("_", " "))
        country = COUNTRY_NAMES.get(str(r.country), str(r.country))
        kind = TYPE_LABELS.get(str(r.locality_type), str(r.locality_type).replace("_", " "))
        out[str(r.locality_id)] = f"{size} in {country}; {kind}"
    return out


def _count_phrase(descriptions: list[str]) -> list[str]:
    """['small town in Austria; ...', same, other] -> ['2 x small town in Austria; ...', 'other']."""
    counts: dict[str, int] = {}
    for d in descriptions:
        counts[d] = counts.get(d, 0) + 1
    return [f"{n} × {d}" if n > 1 else d for d, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _group_value_label(group: str, value: str) -> str:
    if group == "size_class":
        return SIZE_LABELS.get(value, value)
    if group == "country":
        return COUNTRY_NAMES.get(value, value)
    return TYPE_LABELS.get(value, value)


def peer_groups(
    q: Questionnaire, localities: pd.DataFrame, assessed: Iterable[str], groups: Sequence[str] = PEER_GROUPS
) -> pd.DataFrame:
    """Members of each peer group: assessed localities sharing the group's attribute with ``q``.

    Returns group, locality_id (sorted by group order, then locality_id)."""
    assessed = set(str(a) for a in assessed)
    loc = localities.assign(locality_id=localities["locality_id"].astype(str))
    loc = loc[loc["locality_id"].isin(assessed)]
    rows = []
    for group in groups:
        own = getattr(q, group)
        ids = sorted(loc.loc[loc[group].astype(str) == own, "locality_id"])
        rows += [{"group": group, "locality_id": i} for i in ids]
    return pd.DataFrame(rows, columns=["group", "locality_id"])


def _check_groups(groups) -> list[str]:
    groups = list(groups)
    unknown = [g for g in groups if g not in PEER_GROUPS]
    if unknown or not groups:
        raise ValueError(
            f"peer groups must be a non-empty selection of {', '.join(PEER_GROUPS)}; got {groups}."
        )
    if len(set(groups)) != len(groups):
        raise ValueError(f"peer groups must not repeat; got {groups}.")
    return [g for g in PEER_GROUPS if g in groups]


@dataclass
class PeerData:
    """The benchmark data: every assessed locality scored with the engine's rule, the
    localities table, and the provenance of the data (:func:`peer_data`)."""

    result: index.IndexResult
    localities: pd.DataFrame
    min_answered_share: float
    notice: str
    synthetic: bool


def _local_paths_removed(text: str) -> str:
    """A notice without absolute local folders (a report may be shared): `/a/b/c` -> `c`."""
    return re.sub(r"`((?:[A-Za-z]:)?[/\\][^`]*)`", lambda m: f"`{Path(m.group(1)).name or m.group(1)}`", text)


def peer_data(cat: Catalogue | None = None, min_answered_share: float = index.MIN_ANSWERED_SHARE) -> PeerData:
    """Score the assessed localities of the data in use (the peers of every assessment)."""
    cat = catalogue() if cat is None else cat
    share = float(min_answered_share)
    frames = data.load_resources(RESOURCES)
    res = index.score(frames["mipex_l_answers"], cat.indicators, cat.options, min_answered_share=share)
    prov = data.provenance("mipex_l_answers")
    return PeerData(
        result=res,
        localities=frames["localities"],
        min_answered_share=share,
        notice=_local_paths_removed(data.provenance_notice(list(RESOURCES))),
        synthetic=prov.get("kind") == "synthetic",
    )


def assess(
    q: Questionnaire,
    min_answered_share: float = index.MIN_ANSWERED_SHARE,
    groups: Sequence[str] = PEER_GROUPS,
    peers: PeerData | None = None,
) -> Assessment:
    """Score a checked questionnaire and benchmark it against its peers (rules in the module docstring).

    Raises :class:`QuestionnaireError` when a year has too few answers to score any area
    under ``min_answered_share``, and ``ValueError`` for an unknown peer group or a share
    outside (0, 1].
    """
    if not isinstance(q, Questionnaire):
        raise TypeError(f"assess() needs a Questionnaire (from read_questionnaire), got {type(q).__name__}.")
    if not (0 < float(min_answered_share) <= 1):
        raise ValueError(f"min_answered_share must be in (0, 1], got {min_answered_share!r}.")
    groups = _check_groups(groups)
    share = float(min_answered_share)
    cat = catalogue()
    if set(q.answers["indicator_id"]) != set(cat.ids):
        raise ValueError(
            "The questionnaire's indicators differ from the catalogue in use; read it again with "
            "read_questionnaire() against the same data."
        )
    problems = _scorability_problems(q.answers, cat, q.year_lines, share)
    if problems:
        raise QuestionnaireError(problems, q.source)
    sizes = cat.area_sizes()

    # -- own scores (same engine, same rule)
    own = index.score(_answers_for_engine(q), cat.indicators, cat.options, min_answered_share=share)
    scores = _scores_table(own, sizes)
    latest = max(q.years)
    own_latest = scores[scores["year"] == latest].set_index("unit")

    # -- peers: the package's assessed localities, scored with the same engine and rule
    if peers is None or abs(peers.min_answered_share - share) > 0:
        peers = peer_data(cat, share)
    peer_res = peers.result
    localities = peers.localities
    members = peer_groups(q, localities, peer_res.localities, groups)
    units = [*own.areas, "overall"]
    peer_units = _unit_scores(peer_res)

    bench_rows, peer_rows = [], []
    for group in groups:
        ids = members.loc[members["group"] == group, "locality_id"].tolist()
        value = getattr(q, group)
        glabel = f"{GROUP_LABELS[group]} ({_group_value_label(group, value)})"
        sub = peer_units.loc[ids, units] if ids else pd.DataFrame(columns=units, dtype=float)
        for unit in units:
            vals = sub[unit].dropna() if len(sub) else pd.Series(dtype=float)
            for loc_id, v in vals.items():
                peer_rows.append(
                    {
                        "group": group,
                        "group_label": glabel,
                        "locality_id": loc_id,
                        "unit": unit,
                        "label": area_label(unit),
                        "score": float(v),
                    }
                )
            n = int(len(vals))
            own_score = float(own_latest.loc[unit, "score"])
            median = float(vals.median()) if n else np.nan
            bench_rows.append(
                {
                    "group": group,
                    "group_label": glabel,
                    "value": value,
                    "unit": unit,
                    "label": area_label(unit),
                    "n_peers": len(ids),
                    "n_scored": n,
                    "median": median,
                    "q1": float(vals.quantile(0.25)) if n else np.nan,
                    "q3": float(vals.quantile(0.75)) if n else np.nan,
                    "best": float(vals.max()) if n else np.nan,
                    "own": own_score,
                    "gap": own_score - median,
                    "few_peers": n < MIN_PEERS,
                }
            )
    benchmarks = pd.DataFrame(bench_rows)
    peer_scores = pd.DataFrame(
        peer_rows, columns=["group", "group_label", "locality_id", "unit", "label", "score"]
    )

    # -- gaps
    gap_rows = []
    for unit in own.areas:
        b = benchmarks[benchmarks["unit"] == unit].set_index("group")
        row = {"unit": unit, "label": area_label(unit), "own": float(own_latest.loc[unit, "score"])}
        for group in groups:
            row[f"median_{group}"] = float(b.loc[group, "median"])
            row[f"gap_{group}"] = float(b.loc[group, "gap"])
        enough = b[(b["n_scored"] >= MIN_PEERS)]
        use = enough if len(enough) else b[b["n_scored"] > 0]
        row["reference_gap"] = float(use["gap"].mean()) if len(use) and np.isfinite(row["own"]) else np.nan
        row["few_peers"] = len(enough) == 0
        gap_rows.append(row)
    gaps = pd.DataFrame(gap_rows)
    gaps = (
        gaps.assign(_na=gaps["reference_gap"].isna(), _g=gaps["reference_gap"].round(index.TIE_DECIMALS))
        .sort_values(["_na", "_g", "unit"], kind="stable")
        .drop(columns=["_na", "_g"])
        .reset_index(drop=True)
    )

    # -- priorities
    priorities = _priorities(q, cat, own, peer_res, members, gaps, latest)

    # -- monitoring
    monitoring = scores[["year", "unit", "label", "score", "scored"]].copy()
    if len(q.years) > 1:
        wide = monitoring.pivot(index="unit", columns="year", values="score").reindex(units)
        changes = pd.DataFrame({"unit": units, "label": [area_label(u) for u in units]})
        for year in q.years:
            changes[str(year)] = wide[year].to_numpy()
        changes["change"] = (wide[q.years[-1]] - wide[q.years[0]]).to_numpy()
    else:
        changes = pd.DataFrame(columns=["unit", "label", str(latest), "change"])

    warnings = []
    flagged = scores[~scores["scored"] & (scores["unit"] != "overall")]
    for r in flagged.itertuples(index=False):
        warnings.append(
            (
                q.year_lines.get(r.year),
                f"{r.year}: {r.label} is {NOT_SCORED} ({r.answered} of "
                f"{r.n_indicators} answered, at least "
                f"{_needed(r.n_indicators, share)} needed)",
            )
        )
    for r in scores[~scores["scored"] & (scores["unit"] == "overall")].itertuples(index=False):
        warnings.append(
            (
                q.year_lines.get(r.year),
                f"{r.year}: the overall score is not given because not every area is scored",
            )
        )
    for group in groups:
        b = benchmarks[(benchmarks["group"] == group) & (benchmarks["unit"] == "overall")].iloc[0]
        if b["n_peers"] < MIN_PEERS:
            warnings.append(
                (
                    None,
                    f"{b['group_label']}: only {b['n_peers']} peer"
                    f"{'s' if b['n_peers'] != 1 else ''} (fewer than {MIN_PEERS}); "
                    "read this benchmark with care",
                )
            )
    return Assessment(
        questionnaire=q,
        min_answered_share=share,
        groups=groups,
        latest_year=latest,
        result=own,
        scores=scores,
        benchmarks=benchmarks,
        peer_scores=peer_scores,
        peers=members,
        gaps=gaps,
        priorities=priorities,
        monitoring=monitoring,
        changes=changes,
        warnings=warnings,
        notice=peers.notice,
        synthetic=peers.synthetic,
        peer_descriptions=describe_localities(
            localities[localities["locality_id"].astype(str).isin(set(members["locality_id"]))]
        ),
        n_assessed=len(peer_res.localities),
    )


def _priorities(q, cat, own, peer_res, members, gaps, latest) -> pd.DataFrame:
    cols = [
        "rank",
        "indicator_id",
        "area",
        "area_label",
        "question",
        "answer_code",
        "answer_text",
        "score",
        "next_code",
        "next_text",
        "points_gained",
        "area_points",
        "reference_gap",
        "priority",
        "best_peer",
        "n_peers_100",
        "peers_100",
    ]
    pool = sorted(set(members["locality_id"]))
    if not pool:
        return pd.DataFrame(columns=cols)
    peer_ind = peer_res.indicator_scores.loc[pool]
    own_ind = own.indicator_scores.loc[str(latest)]
    area_scored = ~own.area_flags.loc[str(latest)]
    answered = own.area_answered.loc[str(latest)]
    ref_gap = gaps.set_index("unit")["reference_gap"]
    codes = q.answers[q.answers["year"] == latest].set_index("indicator_id")["answer_code"]
    meta = cat.indicators.set_index("indicator_id")
    area_of, question_of = meta["area"].to_dict(), meta["question"].to_dict()
    options = {
        ind: list(g.itertuples(index=False)) for ind, g in cat.options.groupby("indicator_id", sort=False)
    }
    best_of = peer_ind.max().to_dict()
    top = peer_ind.to_numpy() >= 100 - _EPS
    peer_ids = peer_ind.index.to_numpy()
    column = {ind: k for k, ind in enumerate(peer_ind.columns)}
    rows = []
    for ind in cat.ids:
        score = own_ind[ind]
        area = area_of[ind]
        if np.isnan(score) or not area_scored[area]:
            continue
        best = best_of[ind]
        if not (np.isfinite(best) and best > score + _EPS):
            continue
        opts = options[ind]
        nxt = min((o for o in opts if o.score > score + _EPS), key=lambda o: o.score)
        current = next(o for o in opts if o.answer_code == codes[ind])
        nxt, current = (
            {"answer_code": nxt.answer_code, "answer_text": nxt.answer_text, "score": nxt.score},
            {"answer_text": current.answer_text},
        )
        gain = float(nxt["score"]) - float(score)
        gap = float(ref_gap[area])
        at100 = sorted(peer_ids[top[:, column[ind]]])
        rows.append(
            {
                "indicator_id": ind,
                "area": area,
                "area_label": area_label(area),
                "question": question_of[ind],
                "answer_code": codes[ind],
                "answer_text": current["answer_text"],
                "score": float(score),
                "next_code": nxt["answer_code"],
                "next_text": nxt["answer_text"],
                "points_gained": gain,
                "area_points": gain / int(answered[area]),
                "reference_gap": gap,
                "priority": max(0.0, -gap) * gain / 100 if np.isfinite(gap) else 0.0,
                "best_peer": float(best),
                "n_peers_100": len(at100),
                "peers_100": ", ".join(at100),
            }
        )
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    # Sorted on values rounded by the index's tie rule, so that priorities equal in exact
    # arithmetic tie on every machine (and in the self-assessment page's script).
    keys = out.assign(
        _p=out["priority"].round(index.TIE_DECIMALS), _g=out["points_gained"].round(index.TIE_DECIMALS)
    )
    out = out.loc[
        keys.sort_values(
            ["_p", "_g", "n_peers_100", "indicator_id"], ascending=[False, False, False, True], kind="stable"
        ).index
    ].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[cols]


# ---------------------------------------------------------------------- figures
def score_fmt(value, fmt: str = "{:.1f}", missing: str = NOT_SCORED) -> str:
    """Format string for a score: ``fmt``, or the ``missing`` text when the value is missing."""
    try:
        ok = value is not None and bool(np.isfinite(value))
    except TypeError:
        ok = False
    return fmt if ok else missing


# ------------------------------------------------------------------ display tables
def scores_table(a: Assessment, year: int | None = None) -> pd.DataFrame:
    """Scores of one year (default the latest) for display: area, answered, score, status."""
    year = a.latest_year if year is None else year
    sc = a.scores[a.scores["year"] == year]
    return pd.DataFrame(
        {
            "policy_area": sc["label"].to_numpy(),
            "answered": [f"{r.answered} of {r.n_indicators}" for r in sc.itertuples(index=False)],
            "score": sc["score"].to_numpy(),
            "status": np.where(sc["scored"], "scored", NOT_SCORED),
        }
    )


def benchmark_table(a: Assessment, unit: str = "overall") -> pd.DataFrame:
    """One unit's benchmarks for display: peer group, peers, median, quartiles, best, own, gap."""
    b = a.benchmarks[a.benchmarks["unit"] == unit]
    return pd.DataFrame(
        {
            "peer_group": b["group_label"].to_numpy(),
            "peers": b["n_peers"].to_numpy(),
            "peers_scored": b["n_scored"].to_numpy(),
            "median": b["median"].to_numpy(),
            "q1": b["q1"].to_numpy(),
            "q3": b["q3"].to_numpy(),
            "best": b["best"].to_numpy(),
            "own": b["own"].to_numpy(),
            "own_minus_median": b["gap"].to_numpy(),
            "note": np.where(b["few_peers"], f"fewer than {MIN_PEERS} peers", ""),
        }
    )


def gaps_table(a: Assessment) -> pd.DataFrame:
    """Gaps to the peer medians for display (areas from the largest shortfall)."""
    g = a.gaps
    out = pd.DataFrame({"policy_area": g["label"].to_numpy(), "own": g["own"].to_numpy()})
    for group in a.groups:
        out[f"gap_{group}"] = g[f"gap_{group}"].to_numpy()
    out["reference_gap"] = g["reference_gap"].to_numpy()
    return out


def priorities_table(a: Assessment, top: int | None = 10) -> pd.DataFrame:
    """The ranked priorities for display (the first ``top``; all with None)."""
    p = a.priorities if top is None else a.priorities.head(top)
    return pd.DataFrame(
        {
            "rank": p["rank"].to_numpy(),
            "indicator": p["indicator_id"].to_numpy(),
            "policy_area": p["area_label"].to_numpy(),
            "current_answer": [f"{c} ({s:.0f})" for c, s in zip(p["answer_code"], p["score"], strict=False)],
            "what_scoring_higher_requires": [
                f"{c} = {t}" for c, t in zip(p["next_code"], p["next_text"], strict=False)
            ],
            "points_gained": p["points_gained"].to_numpy(),
            "area_gap": p["reference_gap"].to_numpy(),
            "priority": p["priority"].to_numpy(),
            "peers_scoring_100": p["peers_100"].to_numpy(),
        }
    )


def changes_table(a: Assessment) -> pd.DataFrame:
    """Scores per year and change from the first to the last year, for display."""
    return a.changes.drop(columns="unit").rename(columns={"label": "policy_area"})


def report_download_link(a: Assessment, label: str = "Download this report (HTML)") -> str:
    """The HTML report of :func:`render_report` as a download link."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", a.questionnaire.name).strip("-").lower() or "municipality"
    return download_link(render_report(a), f"{name}-report.html", label, mime="text/html")


def benchmark_figure_data(a: Assessment) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy data of the benchmark figure: peer scores (group_label, label, score) and the
    municipality's own latest scores (label, score, scored)."""
    own = a.scores[a.scores["year"] == a.latest_year][["unit", "label", "score", "scored"]].reset_index(
        drop=True
    )
    return a.peer_scores.copy(), own


def plain_text(text: str) -> str:
    """Text for a matplotlib label, shown as written: every ``$`` is escaped, so none
    starts mathematics (matplotlib turns ``\\$`` back into ``$`` in plain text)."""
    return str(text).replace("$", r"\$")


def plot_benchmarks(a: Assessment, ax=None):
    """Box plot of the peers' scores per area and overall, one box per peer group (box =
    quartiles, line = median, whiskers = lowest and best peer), with the municipality's
    own latest score as a black diamond. Returns the axes."""
    import seaborn as sns
    from matplotlib.lines import Line2D

    peers, own = benchmark_figure_data(a)
    order = own["label"].tolist()
    with sns.axes_style("whitegrid"):
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(7.2, 7.0))
        hue_order = [a.group_label(g) for g in a.groups]
        palette = dict(zip(hue_order, sns.color_palette("colorblind", len(hue_order)), strict=False))
        with warnings.catch_warnings():  # seaborn 0.13 passes a deprecated argument to matplotlib
            warnings.filterwarnings("ignore", message=".*vert: bool.*")
            sns.boxplot(
                data=peers,
                x="score",
                y="label",
                hue="group_label",
                order=order,
                hue_order=hue_order,
                whis=(0, 100),
                palette=palette,
                width=0.8,
                fliersize=0,
                linewidth=0.9,
                ax=ax,
            )
        scored = own[own["scored"]]
        sns.stripplot(
            data=scored,
            x="score",
            y="label",
            order=order,
            color="black",
            marker="D",
            size=8,
            jitter=False,
            ax=ax,
            zorder=5,
        )
        for k, r in own.iterrows():
            if not r["scored"]:
                ax.text(1, k, NOT_SCORED, va="center", ha="left", fontsize=10, style="italic")
        handles, labels = ax.get_legend_handles_labels()
        handles = handles[: len(hue_order)] + [
            Line2D([], [], color="black", marker="D", linestyle="", markersize=7)
        ]
        labels = labels[: len(hue_order)] + [f"{a.questionnaire.name} ({a.latest_year})"]
        ax.legend(
            handles,
            [plain_text("\n".join(textwrap.wrap(x, 44, break_on_hyphens=False))) for x in labels],
            title="Peer group",
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncol=2,
            frameon=False,
            fontsize=10,
            title_fontsize=11,
        )
        ax.set_xlim(-2, 102)
        ax.set_xlabel("MIPEX-L score (0-100 points)")
        ax.set_ylabel("Policy area")
    return ax


def plot_monitoring(a: Assessment, fig=None):
    """Small multiples: the score of each area and overall in every assessment year
    (points; a missing point = not scored that year). Returns the figure."""
    import seaborn as sns

    mon = a.monitoring
    units = list(dict.fromkeys(mon["unit"]))
    ncols = 5
    nrows = int(math.ceil(len(units) / ncols))
    years = sorted(mon["year"].unique())
    colour = sns.color_palette("colorblind")[0]
    with sns.axes_style("whitegrid"):
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(9.0, 2.3 * nrows + 0.6))
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
        for ax, unit in zip(axes, units, strict=False):
            sub = mon[mon["unit"] == unit]
            sns.lineplot(data=sub, x="year", y="score", marker="o", color=colour, ax=ax, errorbar=None)
            if sub["score"].isna().all():
                ax.text(
                    0.5, 0.5, "not scored", transform=ax.transAxes, ha="center", fontsize=10, style="italic"
                )
            title = textwrap.wrap(sub["label"].iloc[0], 18, break_on_hyphens=False, break_long_words=False)
            ax.set_title(plain_text("\n".join(title)), fontsize=10)
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.set_ylim(-3, 103)
            ax.set_xticks(years)
            ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
            ax.tick_params(labelsize=10)
            ax.tick_params(axis="x", rotation=45 if len(years) > 3 else 0)
        for ax in axes[len(units) :]:
            ax.set_visible(False)
        fig.supxlabel("Assessment year", fontsize=11)
        fig.supylabel("MIPEX-L score (0-100 points)", fontsize=11)
        fig.tight_layout()
    return fig


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", facecolor="white")
    return base64.b64encode(buf.getvalue()).decode("ascii")


# ----------------------------------------------------------- report figures (SVG)
# The report draws its two figures as SVG from the same tidy tables as plot_benchmarks and
# plot_monitoring: no plotting library is loaded by the command, the figures stay sharp in
# print, and every text in them is escaped (nothing in a name is ever markup or mathematics).
PALETTE = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc")
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"'


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _x(score: float, left: float, width: float) -> float:
    return left + width * float(score) / 100.0


def benchmark_svg(a: Assessment) -> str:
    """The benchmark figure as SVG: per policy area and overall, one box per peer group
    (box = first to third quartile, line = median, whiskers = lowest and best peer), and
    the municipality's own latest score as a black diamond."""
    e = html.escape
    peers, own = benchmark_figure_data(a)
    groups = [a.group_label(g) for g in a.groups]
    colour = dict(zip(groups, PALETTE, strict=False))
    left, width, top, box_h, gap = 190.0, 500.0, 30.0 + 16.0 * len(groups), 11.0, 12.0
    row_h = box_h * len(groups) + gap
    height = top + row_h * len(own) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{height:.0f}" viewBox="0 0 720 {height:.0f}" '
        f'{_FONT} font-size="12"><rect width="100%" height="100%" fill="#ffffff"/>'
    ]
    for k, g in enumerate(groups):
        y = 8 + 16 * k
        out.append(
            f'<rect x="{left}" y="{y}" width="14" height="10" fill="{colour[g]}" fill-opacity="0.55" '
            f'stroke="{colour[g]}"/><text x="{left + 20}" y="{y + 9}">{e(g)}</text>'
        )
    y = 8 + 16 * len(groups)
    out.append(
        f'<path d="M{left + 7 - 5},{y + 5}l5,-5l5,5l-5,5z" fill="#000"/><text x="{left + 20}" y="{y + 9}">'
        f"{e(a.questionnaire.name)} ({a.latest_year})</text>"
    )
    for t in (0, 25, 50, 75, 100):
        x = _x(t, left, width)
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{top - 4}" y2="{top + row_h * len(own)}" stroke="#d9d9d9"/>'
            f'<text x="{x}" y="{top + row_h * len(own) + 14}" text-anchor="middle">{t}</text>'
        )
    out.append(
        f'<text x="{left + width / 2}" y="{height - 6}" text-anchor="middle">MIPEX-L score (0-100 points)'
        "</text>"
    )
    for r, row in own.iterrows():
        y0 = top + r * row_h
        weight = ' font-weight="700"' if row["unit"] == "overall" else ""
        out.append(
            f'<text x="{left - 8}" y="{y0 + row_h / 2}" text-anchor="end" dominant-baseline="middle"'
            f"{weight}>{e(row['label'])}</text>"
        )
        for k, g in enumerate(groups):
            vals = peers[(peers["group_label"] == g) & (peers["label"] == row["label"])]["score"].to_numpy(
                float
            )
            if not len(vals):
                continue
            q1, med, q3 = np.quantile(vals, [0.25, 0.5, 0.75])
            lo, hi = vals.min(), vals.max()
            yb = y0 + k * box_h + 1
            ym = yb + (box_h - 2) / 2
            c = colour[g]
            out.append(
                f'<line x1="{_x(lo, left, width):.1f}" x2="{_x(hi, left, width):.1f}" y1="{ym:.1f}" '
                f'y2="{ym:.1f}" stroke="{c}"/>'
                f'<rect x="{_x(q1, left, width):.1f}" y="{yb:.1f}" width="{max(1.0, width * (q3 - q1) / 100):.1f}" '
                f'height="{box_h - 2}" fill="{c}" fill-opacity="0.55" stroke="{c}"/>'
                f'<line x1="{_x(med, left, width):.1f}" x2="{_x(med, left, width):.1f}" y1="{yb:.1f}" '
                f'y2="{yb + box_h - 2:.1f}" stroke="#000" stroke-width="1.5"/>'
            )
        if row["scored"]:
            x = _x(row["score"], left, width)
            yc = y0 + box_h * len(groups) / 2
            out.append(f'<path d="M{x - 6:.1f},{yc:.1f}l6,-6l6,6l-6,6z" fill="#000" stroke="#fff"/>')
        else:
            out.append(
                f'<text x="{left + 4}" y="{y0 + row_h / 2}" font-style="italic" dominant-baseline="middle">'
                f"{e(NOT_SCORED)}</text>"
            )
    out.append("</svg>")
    return "".join(out)


def monitoring_svg(a: Assessment) -> str:
    """The monitoring figure as SVG: one small chart per policy area and overall, with the
    score in every assessment year (a missing point = not scored that year)."""
    e = html.escape
    mon = a.monitoring
    units = list(dict.fromkeys(mon["unit"]))
    years = sorted(mon["year"].unique())
    ncols, pw, ph = 5, 136.0, 120.0
    nrows = int(math.ceil(len(units) / ncols))
    height = nrows * (ph + 48) + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{height:.0f}" viewBox="0 0 720 {height:.0f}" '
        f'{_FONT} font-size="11"><rect width="100%" height="100%" fill="#ffffff"/>'
    ]
    for k, unit in enumerate(units):
        sub = mon[mon["unit"] == unit].sort_values("year")
        cx, cy = 30 + (k % ncols) * (pw + 2), 40 + (k // ncols) * (ph + 48)
        title = textwrap.wrap(str(sub["label"].iloc[0]), 22, break_long_words=False)[:2]
        for j, t in enumerate(title):
            out.append(
                f'<text x="{cx + pw / 2 - 10}" y="{cy - 16 + 12 * j - 6 * (len(title) - 1)}" '
                f'text-anchor="middle" font-weight="600">{e(t)}</text>'
            )
        x0, x1, y0, y1 = cx, cx + pw - 24, cy, cy + ph - 20
        out.append(
            f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" stroke="#bdbdbd"/>'
        )
        for t in (0, 50, 100):
            yy = y1 - (y1 - y0) * t / 100
            out.append(f'<line x1="{x0}" x2="{x1}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eeeeee"/>')
            if k % ncols == 0:
                out.append(f'<text x="{x0 - 4}" y="{yy + 4:.1f}" text-anchor="end">{t}</text>')

        def xpos(year):
            return (
                x0 + 10 + (x1 - x0 - 20) * ((years.index(year) / (len(years) - 1)) if len(years) > 1 else 0.5)
            )

        for year in years:
            out.append(f'<text x="{xpos(year):.1f}" y="{y1 + 13}" text-anchor="middle">{year}</text>')
        pts = [
            (xpos(int(r.year)), y1 - (y1 - y0) * r.score / 100)
            for r in sub.itertuples(index=False)
            if np.isfinite(r.score)
        ]
        if len(pts) > 1:
            out.append(
                '<polyline fill="none" stroke="#0173b2" stroke-width="2" points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                + '"/>'
            )
        for x, y in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#0173b2"/>')
        if not pts:
            out.append(
                f'<text x="{(x0 + x1) / 2}" y="{(y0 + y1) / 2}" text-anchor="middle" font-style="italic">'
                "not scored</text>"
            )
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------ report
def _md_html(text: str) -> str:
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def _num(value, fmt: str = "{:.1f}", missing: str = "–") -> str:
    return fmt.format(value) if value is not None and not pd.isna(value) else missing


def _signed(value) -> str:
    return _num(value, "{:+.1f}")


def _at_a_glance(a: Assessment) -> dict:
    """The plain-language first page: overall score against each peer group, strongest and
    weakest areas against the peers, three next steps, areas not yet scored."""
    q = a.questionnaire
    s = a.summary()
    overall = a.benchmarks[a.benchmarks["unit"] == "overall"]
    comparisons = []
    for r in overall.itertuples(index=False):
        if not r.n_scored or not np.isfinite(r.own):
            continue
        gap = float(r.gap)
        word = "above" if gap > 0.05 else "below" if gap < -0.05 else "level with"
        amount = f"{abs(gap):.1f} points {word}" if word != "level with" else "level with"
        comparisons.append(
            {
                "group": _group_value_label(r.group, r.value),
                "n": int(r.n_scored),
                "median": _num(r.median),
                "text": f"{amount} the typical score ({_num(r.median)}) of the {int(r.n_scored)} "
                f"{'peers' if r.n_scored != 1 else 'peer'} with the same "
                f"{FIELD_WORDS[r.group]} ({_group_value_label(r.group, r.value)})",
                "few": bool(r.few_peers),
            }
        )
    gaps = a.gaps.dropna(subset=["reference_gap"])
    strongest = gaps.sort_values(["reference_gap", "unit"], ascending=[False, True], kind="stable").head(2)
    weakest = gaps.sort_values(["reference_gap", "unit"], ascending=[True, True], kind="stable").head(2)

    def area_line(r):
        g = float(r["reference_gap"])
        side = "above" if g > 0.05 else "below" if g < -0.05 else "level with"
        return {
            "label": r["label"],
            "own": _num(r["own"]),
            "text": f"{abs(g):.1f} points {side} similar places on average"
            if side != "level with"
            else "level with similar places on average",
        }

    steps = []
    for r in a.priorities.head(3).itertuples(index=False):
        peers = r.peers_100.split(", ") if r.peers_100 else []
        steps.append(
            {
                "question": r.question,
                "area": r.area_label,
                "indicator": r.indicator_id,
                "now": r.answer_text,
                "next": r.next_text,
                "gain": f"{r.points_gained:.0f}",
                "area_gain": _num(r.area_points),
                "peers": (
                    f"{len(peers)} similar place{'s' if len(peers) != 1 else ''} already "
                    f"{'do' if len(peers) != 1 else 'does'} this fully"
                    if peers
                    else "no peer does this fully yet"
                ),
            }
        )
    latest = a.scores[(a.scores["year"] == a.latest_year) & (a.scores["unit"] != "overall")]
    unscored = [
        {
            "label": r.label,
            "answered": r.answered,
            "n": r.n_indicators,
            "needed": _needed(r.n_indicators, a.min_answered_share),
        }
        for r in latest.itertuples(index=False)
        if not r.scored
    ]
    change = None
    if len(q.years) > 1 and np.isfinite(s["overall_change"]):
        c = s["overall_change"]
        change = (
            f"{'up' if c > 0.05 else 'down' if c < -0.05 else 'unchanged'}"
            f"{f' {abs(c):.1f} points' if abs(c) > 0.05 else ''} since {s['first_year']}"
        )
    return {
        "overall": _num(s["overall_latest"], missing=NOT_SCORED),
        "scored": bool(np.isfinite(s["overall_latest"])),
        "comparisons": comparisons,
        "strongest": [area_line(r) for _, r in strongest.iterrows() if r["reference_gap"] > 0.05],
        "weakest": [area_line(r) for _, r in weakest.iterrows() if r["reference_gap"] < -0.05],
        "steps": steps,
        "unscored": unscored,
        "change": change,
    }


def report_context(a: Assessment, top: int = 10) -> dict:
    """Everything the report template shows, as plain text and numbers (no markup)."""
    q = a.questionnaire
    s = a.summary()
    latest = a.scores[a.scores["year"] == a.latest_year]
    score_rows = [
        {
            "label": r.label,
            "answered": f"{r.answered} of {r.n_indicators}",
            "score": _num(r.score) if r.scored else NOT_SCORED,
            "scored": r.scored,
            "overall": r.unit == "overall",
        }
        for r in latest.itertuples(index=False)
    ]
    groups = []
    for group in a.groups:
        b = a.benchmarks[a.benchmarks["group"] == group]
        first = b.iloc[0]
        groups.append(
            {
                "label": first["group_label"],
                "n_peers": int(first["n_peers"]),
                "few": int(first["n_peers"]) < MIN_PEERS,
                "members": _count_phrase(
                    [
                        a.peer_descriptions.get(i, i)
                        for i in a.peers.loc[a.peers["group"] == group, "locality_id"]
                    ]
                ),
                "rows": [
                    {
                        "label": r.label,
                        "own": _num(r.own, missing=NOT_SCORED),
                        "n": int(r.n_scored),
                        "median": _num(r.median),
                        "q1": _num(r.q1),
                        "q3": _num(r.q3),
                        "best": _num(r.best),
                        "gap": _signed(r.gap),
                        "few": bool(r.few_peers),
                        "overall": r.unit == "overall",
                    }
                    for r in b.itertuples(index=False)
                ],
            }
        )
    gap_rows = [
        {
            "label": r["label"],
            "own": _num(r["own"], missing=NOT_SCORED),
            "gaps": [_signed(r[f"gap_{g}"]) for g in a.groups],
            "reference": _signed(r["reference_gap"]),
            "few": bool(r["few_peers"]),
        }
        for _, r in a.gaps.iterrows()
    ]
    pri = a.priorities.head(top)
    pri_rows = [
        {
            "rank": int(r.rank),
            "indicator": r.indicator_id,
            "area": r.area_label,
            "question": r.question,
            "current": f"{r.answer_code} = {r.answer_text} ({r.score:.0f})",
            "next": f"{r.next_code} = {r.next_text}",
            "gained": f"{r.points_gained:.0f}",
            "area_points": _num(r.area_points),
            "gap": _signed(r.reference_gap),
            "priority": _num(r.priority),
            "peers": _count_phrase([a.peer_descriptions.get(i, i) for i in r.peers_100.split(", ")])
            if r.peers_100
            else [],
        }
        for r in pri.itertuples(index=False)
    ]
    figures = {}
    figures["benchmarks"] = _svg_uri(benchmark_svg(a))
    monitoring = None
    if len(q.years) > 1:
        figures["monitoring"] = _svg_uri(monitoring_svg(a))
        monitoring = {
            "years": [str(y) for y in q.years],
            "rows": [
                {
                    "label": r["label"],
                    "scores": [_num(r[str(y)], missing=NOT_SCORED) for y in q.years],
                    "change": _signed(r["change"]),
                    "overall": r["unit"] == "overall",
                }
                for _, r in a.changes.iterrows()
            ],
        }
    import wholecomm

    return {
        "glance": _at_a_glance(a),
        "title": f"MIPEX-L self-evaluation: {q.name}",
        "name": q.name,
        "country": f"{COUNTRY_NAMES.get(q.country, q.country)} ({q.country})",
        "size_class": f"{q.size_class} ({SIZE_LABELS.get(q.size_class, q.size_class)})",
        "locality_type": f"{q.locality_type} ({TYPE_LABELS.get(q.locality_type, q.locality_type)})",
        "years": s["years"],
        "latest_year": a.latest_year,
        "source": Path(q.source).name,
        "synthetic": a.synthetic,
        "notice_html": _md_html(a.notice),
        # File name only: the report may be shared, the local folder is nobody's business.
        "warnings": [
            _format(Path(q.source).name, line, msg, "warning: ") for line, msg in [*q.warnings, *a.warnings]
        ],
        "overall": _num(s["overall_latest"], missing=NOT_SCORED),
        "scores": score_rows,
        "groups": groups,
        "group_labels": [a.group_label(g) for g in a.groups],
        "gaps": gap_rows,
        "priorities": pri_rows,
        "n_priorities": len(a.priorities),
        "top": top,
        "monitoring": monitoring,
        "figures": figures,
        "share": f"{a.min_answered_share:.0%}",
        "share_exact": a.min_answered_share,
        "min_peers": MIN_PEERS,
        "n_assessed": a.n_assessed,
        "not_scored": NOT_SCORED,
        "version": getattr(wholecomm, "__version__", ""),
        "alt_benchmarks": (
            "Box plots of the peers' MIPEX-L scores for each policy area and overall, one box per "
            f"peer group, with the score of {q.name} in {a.latest_year} marked by a black diamond."
        ),
        "alt_monitoring": (
            f"Small line charts, one per policy area and overall, showing the score of {q.name} in "
            f"each assessment year ({s['years']})."
        ),
    }


def render_report(a: Assessment, top: int = 10) -> str:
    """The self-contained HTML report (figures as embedded PNG, inline CSS, no scripts, no
    external assets; every user-supplied text escaped). ``top`` = priorities shown."""
    import jinja2
    import markupsafe

    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}.")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wholecomm", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    ctx = report_context(a, top=top)
    # The notice is built from the package metadata and escaped by _md_html before the
    # bold/code markup is added; everything else is escaped by the template.
    ctx["notice_html"] = markupsafe.Markup(ctx["notice_html"])
    return env.get_template("report.html.j2").render(**ctx)
