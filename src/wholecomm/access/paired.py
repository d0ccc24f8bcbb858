"""Hypotheses compared within the same interviews: H1 (housing harder than employment)
and H5 (discrimination more common in housing)."""

from __future__ import annotations

import pandas as pd

from ..stats import percent_interval
from .estimators import paired_difference
from .interviews import AccessInputError, _prepared
from .result import HypothesisResult, _paired_hypothesis


def h1_housing_vs_employment(df: pd.DataFrame | None = None, level: float = 0.95) -> HypothesisResult:
    """H1: among interviews that discussed both, the share assessing housing as hard minus
    the share assessing employment as hard (percentage points; expected above 0)."""
    df = _prepared(df)
    both = df[df["housing_access"].notna() & df["employment_access"].notna()]
    if both.empty:
        raise AccessInputError("H1: no interview discussed both housing and employment.")
    hh, eh = both["housing_access"].astype(str) == "hard", both["employment_access"].astype(str) == "hard"
    he, ee = both["housing_access"].astype(str) == "easy", both["employment_access"].astype(str) == "easy"
    r = paired_difference(hh, eh, both["locality_id"], level)
    easy = paired_difference(ee, he, both["locality_id"], level)
    return _paired_hypothesis(
        "H1",
        "Housing is hard to access while employment is relatively easy",
        "Share assessing access as hard: housing minus employment (same interviews)",
        r,
        {
            "housing_hard_pct": 100 * r["share_x"],
            "employment_hard_pct": 100 * r["share_y"],
            "employment_easy_pct": 100 * easy["share_x"],
            "housing_easy_pct": 100 * easy["share_y"],
            **percent_interval(
                easy, ("easy_difference_pp", "easy_ci_low_pp", "easy_ci_high_pp"), "difference"
            ),
            "statistic": r["statistic"],
            "interviews": r["n"],
            "localities": r["clusters"],
        },
    )


def h5_discrimination(df: pd.DataFrame | None = None, level: float = 0.95) -> HypothesisResult:
    """H5: share of interviews raising discrimination in housing minus the share raising
    discrimination in employment (same interviews; percentage points; all interviews,
    since the themes are coded for every interview)."""
    df = _prepared(df)
    r = paired_difference(
        df["theme_housing_discrimination"], df["theme_employment_discrimination"], df["locality_id"], level
    )
    return _paired_hypothesis(
        "H5",
        "Discrimination is more common in housing than in employment",
        "Share of interviews raising discrimination: housing minus employment",
        r,
        {
            "housing_pct": 100 * r["share_x"],
            "employment_pct": 100 * r["share_y"],
            "statistic": r["statistic"],
            "housing_only": r["discordant_x_only"],
            "employment_only": r["discordant_y_only"],
        },
    )
