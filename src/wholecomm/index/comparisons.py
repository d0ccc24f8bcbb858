"""Town tables and comparisons of the scores between groups of towns (country, size, type)
and between levels (areas, stages)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, require_columns
from ..numerics import TIE_DECIMALS
from .common import AREA_LABELS, LAG_AREAS, LEAD_AREAS, STAGE_LABELS, stats
from .gaps import _countries_for
from .intervals import _t_ci, bounded_mean_ci
from .scoring import IndexResult, rank
from .uncertainty import MonteCarloResult, rank_intervals


def town_table(
    result: IndexResult,
    localities: pd.DataFrame | None = None,
    mc: MonteCarloResult | None = None,
    level: float = 0.90,
    firm: pd.DataFrame | None = None,
    area_labels: bool = False,
) -> pd.DataFrame:
    """One row per assessed locality: country, size class, locality type, overall score,
    rank (ties shared, NaN = not ranked), Monte Carlo rank interval (when ``mc`` is given),
    area scores (named by their labels with ``area_labels``) and, with ``firm`` (the first
    table of :func:`~wholecomm.index.uncertainty.firm_order`), the number of towns each town
    ranks firmly above and below; sorted by rank."""
    from .. import data

    loc = data.load("localities") if localities is None else localities
    require_columns(loc, ["locality_id", "country", "size_class", "locality_type"], "localities")
    info = loc.set_index(loc["locality_id"].astype(str))[["country", "size_class", "locality_type"]]
    unknown = [i for i in result.localities if i not in info.index]
    if unknown:
        raise InputError(f"Localities scored but not in the localities table: {unknown[:10]}.")
    ranked = rank(result.overall)
    out = info.loc[result.localities].copy()
    out.index.name = "locality_id"
    out["overall"] = result.overall
    out["rank"] = ranked["rank"]
    out["tied"] = ranked["tied"]
    if mc is not None:
        ri = rank_intervals(mc, level)
        out["rank_median"] = ri["rank_median"]
        out["rank_low"] = ri["rank_low"].astype("Int64")
        out["rank_high"] = ri["rank_high"].astype("Int64")
    out = out.join(result.area_scores.rename(columns=AREA_LABELS) if area_labels else result.area_scores)
    if firm is not None:
        out = out.join(firm[["firmly_above", "firmly_below"]])
    order = np.lexsort(
        (np.asarray(out.index, dtype=str), out["rank"].astype(float).fillna(np.inf).to_numpy())
    )
    return out.iloc[order].reset_index()


def area_matrix(result: IndexResult, labels: bool = True) -> pd.DataFrame:
    """Locality x area score matrix for a heatmap, rows ordered by overall score
    (best first; localities without an overall score last)."""
    order = rank(result.overall).index
    out = result.area_scores.loc[order]
    return out.rename(columns=AREA_LABELS) if labels else out


GROUPINGS = {"country": "Country", "size_class": "Size class", "locality_type": "Locality type"}


def compare_groups(
    result: IndexResult, localities: pd.DataFrame | None = None, by: Sequence[str] = tuple(GROUPINGS)
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Overall scores by country, size class and locality type, aware of countries.

    Returns ``(summary, points)``. ``summary`` has one row per grouping and group: n,
    n_countries, mean and 95% interval within 0-100 (:func:`~wholecomm.index.intervals.bounded_mean_ci`: for
    countries a t interval over the country's towns; for the other groupings
    cluster-robust over the countries of the group's towns, G - 1 degrees of freedom),
    the method, the one-way ANOVA p-value of the grouping (``anova_p``, towns as
    independent) and ``adjusted_p``: the F-test of the grouping in an OLS with country
    fixed effects (for the country grouping itself, the one-way ANOVA). ``points`` has
    one row per town and grouping. Towns without an overall score are left out."""
    import statsmodels.api as sm

    towns = town_table(result, localities).dropna(subset=["overall"])
    country = towns["country"].astype(str)
    rows, points = [], []
    for col in by:
        groups = towns[col]
        order = (
            [str(c) for c in groups.cat.categories]
            if isinstance(groups.dtype, pd.CategoricalDtype)
            else sorted(groups.astype(str).unique())
        )
        gtext = groups.astype(str)
        samples = [towns.loc[gtext == g, "overall"].to_numpy() for g in order]
        usable = [s for s in samples if s.size > 0]
        # Groups of a single town are allowed (they add no within-group variation); the test
        # needs at least two groups and more towns than groups.
        p = (
            float(stats.f_oneway(*usable).pvalue)
            if len(usable) > 1 and sum(s.size for s in usable) > len(usable)
            else float("nan")
        )
        adj = p
        if col != "country" and len(usable) > 1:
            y = towns["overall"].to_numpy(float)
            fe = pd.get_dummies(country, drop_first=True, dtype=float)
            grp = pd.get_dummies(gtext, drop_first=True, dtype=float)
            base = sm.add_constant(fe.to_numpy(), has_constant="add")
            full = np.column_stack([base, grp.to_numpy()])
            if np.linalg.matrix_rank(full) == full.shape[1] and len(y) > full.shape[1]:
                adj = float(sm.OLS(y, full).fit().compare_f_test(sm.OLS(y, base).fit())[1])
            else:
                adj = float("nan")
        for g, s in zip(order, samples, strict=False):
            if s.size == 0:
                continue
            sel = (gtext == g).to_numpy()
            clusters = None if col == "country" else country[sel].to_numpy()
            ci = bounded_mean_ci(s, clusters)
            rows.append(
                {
                    "grouping": col,
                    "group": g,
                    "n": int(s.size),
                    "n_countries": int(country[sel].nunique()),
                    "mean": ci["mean"],
                    "ci_low": ci["ci_low"],
                    "ci_high": ci["ci_high"],
                    "ci_method": ci["method"],
                    "anova_p": p,
                    "adjusted_p": adj,
                }
            )
        points.append(
            pd.DataFrame(
                {
                    "grouping": col,
                    "group": gtext.to_numpy(),
                    "locality_id": towns["locality_id"].to_numpy(),
                    "overall": towns["overall"].to_numpy(),
                }
            )
        )
    return pd.DataFrame(rows), pd.concat(points, ignore_index=True)


def level_summary(
    result: IndexResult, level: str = "area", countries: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean area (or stage) score across localities with a 95% interval within 0-100
    (:func:`~wholecomm.index.intervals.bounded_mean_ci`; cluster-robust over countries, G - 1 df, when
    ``countries`` maps locality_id to country), ranked from highest to lowest mean, and
    the long per-town scores for strip plots. Each mean uses the localities of
    ``result`` that have that score (count in ``n``); pass :func:`~wholecomm.index.scoring.ranked_only` to leave
    the unranked towns out."""
    if level not in ("area", "stage"):
        raise InputError(f"level must be 'area' or 'stage', got {level!r}.")
    frame = result.area_scores if level == "area" else result.stage_scores
    labels = AREA_LABELS if level == "area" else STAGE_LABELS
    rows = []
    for col in frame.columns:
        present = frame[col].dropna()
        s = present.to_numpy()
        if countries is None:
            mean, lo, hi = _t_ci(s)
        else:
            ci = bounded_mean_ci(s, _countries_for(countries, present.index))
            mean, lo, hi = ci["mean"], ci["ci_low"], ci["ci_high"]
        claim = (
            ("lead" if col in LEAD_AREAS else "lag" if col in LAG_AREAS else "other")
            if level == "area"
            else ""
        )
        rows.append(
            {
                level: col,
                "label": labels.get(col, col),
                "n": int(s.size),
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "claim": claim,
            }
        )
    summary = pd.DataFrame(rows)
    if level == "area":
        key = summary["mean"].round(TIE_DECIMALS)
        summary = summary.iloc[np.lexsort((np.arange(len(summary)), -key.to_numpy()))].reset_index(drop=True)
        summary.insert(1, "position", np.arange(1, len(summary) + 1))
    long = frame.rename_axis(columns=level).stack().rename("score").reset_index()
    long["label"] = long[level].map(lambda v: labels.get(v, v))
    if level == "area":
        long["claim"] = long["area"].map(summary.set_index("area")["claim"])
    return summary, long
