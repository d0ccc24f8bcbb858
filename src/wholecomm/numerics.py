"""Numerics that give the same answer on every CPU.

Floating-point results can differ in their last bits between machines: BLAS libraries
pick a kernel for the CPU they run on (OpenBLAS reads ``OPENBLAS_CORETYPE``), and a dot
product summed in another order, or with fused multiply-adds, rounds differently. For an
estimate that is harmless (a difference of 1e-15 is far below anything shown). It is
not harmless where a *discrete* decision is taken on floats that are equal in exact
arithmetic: two towns whose scores are both 30.8333... on paper may compare as equal on
one CPU and as 30.833333333333336 > 30.833333333333332 on another, and a rank, a tie, a
sort order, a threshold or a rank correlation then changes.

The rule, used everywhere the book ranks, ties, sorts or thresholds computed scores:

    values are compared after rounding to ``TIE_DECIMALS`` decimals (:func:`tie_round`).

Scores, shares and means in this book are ratios of small integers or averages of a
few such ratios; two of them that differ in exact arithmetic differ by far more than
1e-9, while CPU noise is below 1e-12 on the 0-100 scale. The rule fails only for an
exact value lying within CPU noise of a rounding boundary (its tenth decimal a 5
followed by zeros), which needs a denominator with a factor of 2 x 10^9: not a case
these data can produce.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import cast

import numpy as np
import pandas as pd

#: Values equal to this many decimals are ties (see the module docstring).
TIE_DECIMALS = 9


def tie_round(values):
    """``values`` rounded to :data:`TIE_DECIMALS` decimals (same type back: float, array, Series, DataFrame)."""
    if isinstance(values, (pd.Series, pd.DataFrame)):
        return values.astype(float).round(TIE_DECIMALS)
    if np.isscalar(values):
        return float(np.round(float(cast(float, values)), TIE_DECIMALS))
    return np.round(np.asarray(values, dtype=float), TIE_DECIMALS)


def spearman(x, y) -> float:
    """Spearman rank correlation of ``x`` and ``y`` with ties by the rule of this module
    (average ranks for tied values). NaN when fewer than three pairs are given."""
    a, b = tie_round(np.asarray(x, dtype=float)), tie_round(np.asarray(y, dtype=float))
    if a.shape != b.shape:
        raise ValueError(f"spearman: x and y must have the same length, got {a.shape} and {b.shape}.")
    if a.size < 3:
        return float("nan")
    from scipy import stats  # on first use: the toolbox's command never ranks

    return float(stats.spearmanr(a, b).statistic)


def first_max(values: pd.Series) -> Hashable:
    """Label of the largest value; among tied values (by the rule), the first in index order."""
    return _first_extreme(values, largest=True)


def first_min(values: pd.Series) -> Hashable:
    """Label of the smallest value; among tied values (by the rule), the first in index order."""
    return _first_extreme(values, largest=False)


def _first_extreme(values: pd.Series, largest: bool) -> Hashable:
    if not isinstance(values, pd.Series):
        raise TypeError(f"values must be a pandas Series, got {type(values).__name__}.")
    rounded = tie_round(values).dropna()
    if rounded.empty:
        raise ValueError("values has no non-missing entry.")
    target = rounded.max() if largest else rounded.min()
    return rounded.index[rounded.to_numpy() == target][0]


def ties(values: pd.Series, target: float) -> pd.Series:
    """Boolean mask of the entries equal to ``target`` by the rule of this module."""
    return tie_round(values) == tie_round(target)


def sort_by(
    frame: pd.DataFrame,
    column: str,
    ascending: bool = True,
    then: list[str] | None = None,
    then_ascending: bool | list[bool] = True,
) -> pd.DataFrame:
    """``frame`` sorted by ``column`` compared by the rule of this module (ties keep the
    order of the ``then`` columns, else the frame's order): the same order on every CPU."""
    key = "__tie_rounded__"
    if key in frame.columns:
        raise ValueError(f"sort_by: the frame must not have a column named {key!r}.")
    then = list(then or [])
    flags = [then_ascending] * len(then) if isinstance(then_ascending, bool) else list(then_ascending)
    ordered = frame.assign(**{key: tie_round(frame[column])}).sort_values(
        [key, *then], ascending=[ascending, *flags], kind="stable"
    )
    return ordered.drop(columns=key)


# ------------------------------------------------------------------ fit checks
#: The page being computed (set by :class:`wholecomm.book.Page`), named in fit errors.
CONTEXT: dict[str, str] = {}


class FitError(RuntimeError):
    """A model fit that cannot be reported: not converged, or intervals not finite and ordered."""


def check_fit(
    model: str,
    table: pd.DataFrame,
    lo: str = "lo",
    hi: str = "hi",
    estimate: str = "estimate",
    converged: bool = True,
    cause: str = "",
) -> pd.DataFrame:
    """Return ``table`` when the fit behind it can be reported: it converged, and every row
    has a finite estimate inside a finite interval ``lo <= estimate <= hi``. Otherwise
    raise :class:`FitError` naming the model, the page being computed and the likely cause."""
    where = f" on page {CONTEXT['page']!r}" if CONTEXT.get("page") else ""
    problems = []
    if not converged:
        problems.append("the fit did not converge")
    est, low, high = (table[c].astype(float).to_numpy() for c in (estimate, lo, hi))
    bad = (
        ~(np.isfinite(est) & np.isfinite(low) & np.isfinite(high)) | (low > high) | (est < low) | (est > high)
    )
    if bad.any():
        label = table["label"] if "label" in table else table.index
        names = [str(x) for x in np.asarray(label)[bad][:5]]
        problems.append(f"the estimate or 95% interval of {names} is not finite or not ordered")
    if problems:
        raise FitError(
            f"Model {model!r}{where} cannot be reported: {'; '.join(problems)}. Likely cause: "
            f"{cause or 'too few observations or groups for the terms of the model'}."
        )
    return table


# ------------------------------------------------------------------ words for directions
def signed_amount(
    value: float, fmt: str = "{:.2f}", unit: str = "points", more: str = "more", less: str = "less"
) -> str:
    """A signed change in words: ``"0.13 points more"``, ``"0.25 points less"``, or
    ``"no change (0.00 points)"`` when it rounds to zero, so prose never says "-0.25 more"."""
    text = fmt.format(abs(value))
    if float(text.replace(",", "")) == 0:
        return f"no change ({text} {unit})"
    return f"{text} {unit} {more if value > 0 else less}"


def interval_direction(
    lo: float,
    hi: float,
    null: float = 0.0,
    above: str = "clearly positive",
    below: str = "clearly negative",
    neither: str = "not clearly different from zero",
) -> str:
    """Which side of ``null`` a confidence interval lies on, for every case."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise ValueError(f"interval_direction needs a finite interval with lo <= hi, got ({lo}, {hi}).")
    if lo > null:
        return above
    if hi < null:
        return below
    return neither
