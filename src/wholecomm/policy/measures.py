"""Where measures exist, how proactive they are, capacity (staff, funding), the model
of proactive policy, multi-level relations and lead actors: tidy tables for the page.

Proportions returned by the estimators of :mod:`wholecomm.stats` are fractions (0-1);
the tidy tables built here report shares in percent (columns ending in ``_pct``) and
differences in percentage points (``_pp``). Every interval is a 95% interval unless
``level`` says otherwise. Cluster-robust intervals use statsmodels' CR1 sandwich with a
t reference distribution on G - 1 degrees of freedom (G = number of localities).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..labels import FACTOR_LABELS
from ..numerics import sort_by
from ..stats import (
    clustered_difference,
    clustered_proportion,
    odds_ratio_row,
    percent_interval,
    wilson_interval,
)
from .coding import (
    APPROACH_CODES,
    AREA_LABELS,
    FUNDING,
    FUNDING_LABELS,
    LEAD_LABELS,
    LOCALITY_CHARACTERISTICS,
    MODEL_REFERENCE,
    POLICY_AREAS,
    RELATION_LABELS,
    PolicyInputError,
    _measures,
    _prepared,
)


def approach_colours() -> dict[str, tuple]:
    """Colours of the three approaches: a quiet pale grey for no measure (absence should not
    catch the eye), and for reactive and proactive the light and dark ends of the book's
    sequential colour map (cividis: colour-blind safe, distinct in grey scale too)."""
    import matplotlib as mpl

    from ..book import SEQUENTIAL

    cmap = mpl.colormaps[SEQUENTIAL]
    return {"none": (0.93, 0.93, 0.93, 1.0), "reactive": cmap(0.85), "proactive": cmap(0.1)}


def approach_matrix(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Locality x area matrix of approach codes (0 none, 1 reactive, 2 proactive), rows
    ordered by locality code, columns in schema order of the areas present."""
    df = _prepared(df)
    codes = df["approach"].astype(str).map(APPROACH_CODES)
    mat = df.assign(code=codes).pivot(index="locality_id", columns="policy_area", values="code")
    areas = [a for a in POLICY_AREAS if a in mat.columns]
    return mat[areas].sort_index().rename_axis(index="locality_id", columns="policy_area").astype(int)


def measures_by_area(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """Share of localities with at least one measure in each policy area, with Wilson
    intervals. Localities are the unit (one row per locality and area, independent
    across localities). Sorted from the most to the least common area."""
    df = _prepared(df)
    rows = []
    for area, grp in df.groupby("policy_area", observed=True):
        k, n = int(grp["measure_present"].sum()), len(grp)
        lo, hi = wilson_interval(k, n, level)
        rows.append(
            {
                "policy_area": str(area),
                "area": AREA_LABELS.get(str(area), str(area)),
                "localities": n,
                "with_measure": k,
                "share_pct": 100 * k / n,
                "ci_low_pct": 100 * lo,
                "ci_high_pct": 100 * hi,
            }
        )
    return sort_by(pd.DataFrame(rows), "share_pct", ascending=False, then=["policy_area"]).reset_index(
        drop=True
    )


def approach_by_area(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts of localities by area and approach (tidy), for the downloadable table."""
    df = _prepared(df)
    t = df.groupby(["policy_area", "approach"], observed=False).size().rename("localities").reset_index()
    return (
        t.pivot(index="policy_area", columns="approach", values="localities")
        .rename_axis(columns=None)
        .reset_index()
    )


def proactive_share(df: pd.DataFrame | None = None, level: float = 0.95) -> dict:
    """Share of all measures that are proactive, with a clustered Wilson interval (percent)."""
    m = _measures(_prepared(df))
    r = clustered_proportion(m["proactive"], m["locality_id"], level)
    return {
        "measures": r["n"],
        "localities": r["clusters"],
        "proactive": r["successes"],
        **percent_interval(r),
    }


def proactive_by(
    df: pd.DataFrame | None = None,
    factors: Sequence[str] = ("size_class", "economic_trend", "political_orientation", "country"),
    level: float = 0.95,
) -> pd.DataFrame:
    """Share of measures that are proactive (rather than reactive) by each factor's levels.

    Unit: the measure (locality x area with a measure). Measures of one locality are not
    independent, so the Wilson intervals use the clustered effective sample size
    (:func:`wholecomm.stats.clustered_proportion`, clusters = localities).
    """
    m = _measures(_prepared(df))
    rows = []
    for factor in factors:
        if factor not in m.columns:
            raise PolicyInputError(f"proactive_by: unknown factor {factor!r}.")
        for lvl, grp in m.groupby(factor, observed=True, sort=True):
            r = clustered_proportion(grp["proactive"], grp["locality_id"], level)
            rows.append(
                {
                    "factor": factor,
                    "factor_label": FACTOR_LABELS.get(factor, factor),
                    "level": str(lvl),
                    "measures": r["n"],
                    "localities": r["clusters"],
                    "proactive": r["successes"],
                    **percent_interval(r),
                }
            )
    return pd.DataFrame(rows)


# -------------------------------------------------------------------- capacity
def locality_summary(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per locality: characteristics, number of measures, number and share of
    proactive measures (empty share when it has no measure) and ``dedicated_staff_any``
    (dedicated staff or body in at least one area)."""
    df = _prepared(df)
    chars = [c for c in LOCALITY_CHARACTERISTICS[1:] if c in df.columns]
    g = df.groupby("locality_id", observed=True, sort=True)
    out = g[chars].first()
    out["areas"] = g.size()
    out["measures"] = g["measure_present"].sum().astype(int)
    out["proactive_measures"] = g["proactive"].sum().astype(int)
    out["share_proactive"] = (out["proactive_measures"] / out["measures"]).where(out["measures"] > 0)
    out["dedicated_staff_any"] = g["dedicated_staff"].any()
    for col in ("size_class", "economic_trend", "political_orientation"):
        out[col] = pd.Categorical(out[col].astype(str), categories=df[col].cat.categories)
    return out.reset_index()


def staff_share(df: pd.DataFrame | None = None, level: float = 0.95) -> dict:
    """Share of localities with dedicated integration staff in at least one area (Wilson)."""
    loc = locality_summary(df)
    k, n = int(loc["dedicated_staff_any"].sum()), len(loc)
    lo, hi = wilson_interval(k, n, level)
    return {
        "localities": n,
        "with_staff": k,
        "share_pct": 100 * k / n,
        "ci_low_pct": 100 * lo,
        "ci_high_pct": 100 * hi,
    }


def staff_by(df: pd.DataFrame | None = None, factor: str = "size_class", level: float = 0.95) -> pd.DataFrame:
    """Share of localities with dedicated staff by the levels of ``factor`` (Wilson; localities are the unit)."""
    loc = locality_summary(df)
    if factor not in loc.columns:
        raise PolicyInputError(f"staff_by: unknown factor {factor!r}.")
    rows = []
    for lvl, grp in loc.groupby(factor, observed=True, sort=True):
        k, n = int(grp["dedicated_staff_any"].sum()), len(grp)
        lo, hi = wilson_interval(k, n, level)
        rows.append(
            {
                factor: str(lvl),
                "localities": n,
                "with_staff": k,
                "share_pct": 100 * k / n,
                "ci_low_pct": 100 * lo,
                "ci_high_pct": 100 * hi,
            }
        )
    return pd.DataFrame(rows)


def funding_shares(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """Share of measures by main funding source, with clustered Wilson intervals (measures
    are the unit, clustered in localities). Shares of the four sources add up to 100."""
    m = _measures(_prepared(df))
    rows = []
    for src in FUNDING:
        r = clustered_proportion(m["main_funding"].astype(str) == src, m["locality_id"], level)
        rows.append(
            {
                "main_funding": src,
                "source": FUNDING_LABELS[src],
                "measures": r["successes"],
                "of_measures": r["n"],
                **percent_interval(r),
            }
        )
    return pd.DataFrame(rows)


def funding_by(df: pd.DataFrame | None = None, factor: str = "size_class") -> pd.DataFrame:
    """Measures by ``factor`` and main funding source: counts and row shares (percent)."""
    m = _measures(_prepared(df))
    t = pd.crosstab(m[factor], m["main_funding"]).reindex(columns=FUNDING, fill_value=0)
    shares = 100 * t.div(t.sum(axis=1), axis=0)
    out = shares.rename(columns=lambda c: f"{c}_pct")
    out.insert(0, "measures", t.sum(axis=1))
    out = out.rename_axis(index=factor, columns=None).reset_index()
    out[factor] = out[factor].astype(str)
    return out


def proactive_by_staff(df: pd.DataFrame | None = None, level: float = 0.95) -> dict:
    """Share of measures that are proactive where the area has dedicated staff and where it
    has not, and the difference (percentage points) with a cluster-robust interval."""
    m = _measures(_prepared(df))
    r = clustered_difference(m["proactive"], m["dedicated_staff"], m["locality_id"], level)
    return {
        "staff_pct": 100 * r["share_1"],
        "no_staff_pct": 100 * r["share_0"],
        **percent_interval(r, ("difference_pp", "ci_low_pp", "ci_high_pp")),
        "p_value": r["p_value"],
        "measures_staff": r["n_1"],
        "measures_no_staff": r["n_0"],
        "localities": r["clusters"],
    }


def _dummies(frame: pd.DataFrame, column: str, reference: str) -> pd.DataFrame:
    levels = (
        [str(c) for c in frame[column].cat.categories]
        if hasattr(frame[column], "cat")
        else sorted(frame[column].astype(str).unique())
    )
    values = frame[column].astype(str)
    if reference not in set(values):
        raise PolicyInputError(f"model: reference level {reference!r} of {column!r} has no observations.")
    out = {}
    for lvl in levels:
        if lvl == reference:
            continue
        col = values == lvl
        if not col.any():
            raise PolicyInputError(
                f"model: level {lvl!r} of {column!r} has no observations among the measures; "
                "its odds ratio cannot be estimated (merge or drop the level explicitly)."
            )
        out[f"{column}={lvl}"] = col.astype(float)
    return pd.DataFrame(out, index=frame.index)


def proactive_model(
    df: pd.DataFrame | None = None, level: float = 0.95, reference: dict | None = None
) -> pd.DataFrame:
    """Logistic regression of proactive (given a measure) on dedicated staff, size class,
    economic trend and political orientation; odds ratios with cluster-robust (CR1,
    clusters = localities) 95% intervals, t on G - 1 degrees of freedom.

    Returns one row per term (without the intercept) with the odds ratio, interval,
    p-value; ``attrs`` holds the numbers of measures and localities.
    """
    import statsmodels.api as sm

    m = _measures(_prepared(df))
    ref = {**MODEL_REFERENCE, **(reference or {})}
    X = pd.concat(
        [m["dedicated_staff"].astype(float).rename("dedicated_staff")]
        + [_dummies(m, col, ref[col]) for col in ("size_class", "economic_trend", "political_orientation")],
        axis=1,
    )
    X = sm.add_constant(X)
    y = m["proactive"].astype(float)
    groups = pd.factorize(m["locality_id"])[0]
    fit = sm.GLM(y, X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    ci = fit.conf_int(alpha=1 - level)
    rows = []
    for term in X.columns[1:]:
        var, _, lvl = term.partition("=")
        label = (
            "Dedicated staff (yes vs no)"
            if term == "dedicated_staff"
            else (f"{FACTOR_LABELS[var]}: {lvl.replace('_', ' ')} vs {ref[var].replace('_', ' ')}")
        )
        rows.append({"term": term, "label": label, **odds_ratio_row(fit, ci, term)})
    out = pd.DataFrame(rows)
    out.attrs.update({"measures": int(len(m)), "localities": int(groups.max() + 1), "reference": ref})
    return out


# ------------------------------------------------------- multi-level relations
def relation_shares(df: pd.DataFrame | None = None, by: str = "country") -> pd.DataFrame:
    """Relation with the regional and national levels (coded for every locality x area):
    counts and shares (percent of the group's rows) by ``by``; tidy."""
    df = _prepared(df)
    t = df.groupby([by, "relation_higher_level"], observed=False).size().rename("n").reset_index()
    t["share_pct"] = 100 * t["n"] / t.groupby(by, observed=True)["n"].transform("sum")
    t["relation"] = t["relation_higher_level"].astype(str).map(RELATION_LABELS)
    return t


def lead_actor_shares(df: pd.DataFrame | None = None, by: str = "size_class") -> pd.DataFrame:
    """Who leads the measures (rows with a measure): counts and shares by ``by``; tidy."""
    m = _measures(_prepared(df))
    t = m.groupby([by, "lead_actor"], observed=False).size().rename("n").reset_index()
    t["share_pct"] = 100 * t["n"] / t.groupby(by, observed=True)["n"].transform("sum")
    t["lead"] = t["lead_actor"].astype(str).map(LEAD_LABELS)
    return t


def wide_shares(tidy: pd.DataFrame, by: str, category: str, value: str = "share_pct") -> pd.DataFrame:
    """Pivot a tidy shares table to one row per ``by`` level and one column per category."""
    return tidy.pivot(index=by, columns=category, values=value).rename_axis(columns=None).reset_index()


# ------------------------------------------------------------ tables of the page
def measures_by_area_table(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """Localities with at least one measure by policy area (count, percent, Wilson
    interval; :func:`measures_by_area`) joined with the counts of localities by approach
    (:func:`approach_by_area`)."""
    df = _prepared(df)
    by_area = measures_by_area(df, level)[
        ["policy_area", "area", "localities", "with_measure", "share_pct", "ci_low_pct", "ci_high_pct"]
    ]
    counts = approach_by_area(df).assign(policy_area=lambda d: d["policy_area"].astype(str))
    return by_area.merge(counts, on="policy_area").drop(columns="policy_area")


def proactive_by_table(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """:func:`proactive_by` with the reader-facing factor name in column ``factor``."""
    pro = proactive_by(df, level=level)
    return pro.drop(columns=["factor"]).rename(columns={"factor_label": "factor"})


def funding_table(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """:func:`funding_shares` with the reader-facing source names only."""
    return funding_shares(df, level).drop(columns="main_funding")


def proactive_model_table(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """:func:`proactive_model` with the reader-facing term labels in column ``term``."""
    model = proactive_model(df, level)
    return model.drop(columns="term").rename(columns={"label": "term"})


def relations_table(df: pd.DataFrame | None = None, by: str = "country") -> pd.DataFrame:
    """Relation with the regional and national levels by ``by``, one column per relation
    (percent of the group's locality-by-area rows; :func:`relation_shares`)."""
    return wide_shares(relation_shares(df, by), by, "relation")


def lead_table(df: pd.DataFrame | None = None, by: str = "size_class") -> pd.DataFrame:
    """Lead actor of the measures by ``by``, one column per actor (percent of measures;
    :func:`lead_actor_shares`)."""
    return wide_shares(lead_actor_shares(df, by), by, "lead")
