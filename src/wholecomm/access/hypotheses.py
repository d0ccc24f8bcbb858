"""The page's family of hypotheses: every test, Holm-adjusted together, and the summary."""

from __future__ import annotations

import pandas as pd

from .. import policy
from .. import stats as st
from .capacity import h3_capacity, h4_progressive_housing
from .economy import h2_economy
from .interviews import _prepared
from .paired import h1_housing_vs_employment, h5_discrimination
from .registration import WILD_BOOT, h6_registration
from .result import HypothesisResult


def evaluate(
    df: pd.DataFrame | None = None,
    policy_df: pd.DataFrame | None = None,
    level: float = 0.95,
    n_boot: int = WILD_BOOT,
) -> dict[str, HypothesisResult]:
    """Test every hypothesis; returns results keyed by hypothesis id, in order.

    The hypotheses form one family: their p-values are Holm-adjusted together
    (:func:`wholecomm.stats.holm`) and each verdict uses the adjusted p-value
    (:attr:`~wholecomm.access.result.HypothesisResult.verdict`). ``n_boot``: draws of the wild cluster bootstrap of H6
    (country)."""
    df = _prepared(df)
    pdf = policy._prepared(policy_df)
    results = [
        h1_housing_vs_employment(df, level),
        *h2_economy(df, level),
        *h3_capacity(pdf, level),
        h4_progressive_housing(pdf, level),
        h5_discrimination(df, level),
        *h6_registration(df, level, n_boot=n_boot),
    ]
    for r, p in zip(results, st.holm([r.p_value for r in results]), strict=False):
        r.p_adjusted = float(p)
    return {r.id: r for r in results}


def summary_table(
    results: dict[str, HypothesisResult] | list[HypothesisResult], include_null: bool = True
) -> pd.DataFrame:
    """One row per hypothesis: claim, estimand, estimate, 95% interval, unit, the value of
    no difference (``null``; left out with ``include_null=False``), test, p-values
    (unadjusted and Holm-adjusted), sample and the verdict (:attr:`~wholecomm.access.result.HypothesisResult.verdict`)."""
    items = list(results.values()) if isinstance(results, dict) else list(results)
    if not items:
        raise ValueError("summary_table: no results.")
    out = pd.DataFrame([r.row() for r in items])
    return out if include_null else out.drop(columns=["null"])
