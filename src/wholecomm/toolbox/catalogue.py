"""The indicator catalogue in use, the toolbox's constants and how problems of an input are
located and worded."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .. import data, index, labels
from ..errors import InputError

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

SIZE_HELP = {
    "rural_area": "under 5,000 inhabitants",
    "small_town": "5,000-49,999",
    "medium_town": "50,000-250,000",
}
#: Size classes and locality types as a sentence names them ("rural areas", "thriving, new to
#: diversity"), and countries by ISO code (from :mod:`wholecomm.labels`).
SIZE_WORDS = dict(labels.SIZE_PLURALS)
TYPE_WORDS = {key: label[0].lower() + label[1:] for key, label in labels.TYPE_LABELS.items()}
COUNTRY_NAMES = dict(labels.COUNTRY_NAMES)
#: The fields that describe the locality in a questionnaire, in order.
LOCALITY_FIELDS = ("name", "country", "size_class", "locality_type")
FIELD_WORDS = {"country": "country", "size_class": "size class", "locality_type": "locality type"}

_NULL_TAG = "tag:yaml.org,2002:null"
#: Tolerance of the answered-share comparison (shared with the browser page's script).
EPS = 1e-9

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


def choice_label(field_name: str, value: str) -> str:
    """The text shown in a workbook drop-down for a locality value: 'AT (Austria)'."""
    label = {"country": COUNTRY_NAMES, "size_class": SIZE_WORDS, "locality_type": TYPE_WORDS}[field_name].get(
        value
    )
    if field_name == "size_class" and value in SIZE_HELP:
        label = f"{label}, {SIZE_HELP[value]}"
    return f"{value} ({label})" if label else value


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
            grouped: dict[str, list[str]] = {}
            for ind, code in zip(self.options["indicator_id"], self.options["answer_code"], strict=True):
                grouped.setdefault(str(ind), []).append(str(code))
            cache = {ind: sorted(codes) for ind, codes in grouped.items()}
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


def rule_text(sizes: pd.Series, share: float) -> str:
    """'at least 4 of its 6 indicators' (or a share when areas differ in size)."""
    if sizes.nunique() == 1:
        n = int(sizes.iloc[0])
        return f"at least {_needed(n, share)} of its {n} indicators"
    return f"at least {share:.0%} of its indicators"


def _needed(n: int, share: float) -> int:
    """Smallest number of answered items out of ``n`` that satisfies the rule."""
    return int(math.ceil(share * n - EPS))
