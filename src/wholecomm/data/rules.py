"""Cross-field rules that a column schema cannot express (:data:`~wholecomm.data.rules.ROW_RULES`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..labels import CONTACT_SETTINGS
from .problems import Problem

RowRule = Callable[[dict[str, pd.DataFrame]], Iterable[tuple[tuple[str, ...], pd.Series, str]]]
#: Cross-field rules by resource, registered with :func:`row_rule`: each yields (columns, mask of
#: broken rows, rule) for the frames of the package.
ROW_RULES: dict[str, list[RowRule]] = {}


def row_rule(resource: str) -> Callable[[RowRule], RowRule]:
    """Register a cross-field rule of ``resource`` in :data:`ROW_RULES` (a decorator)."""

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
