"""Descriptive tables of the interviews and the housing policies: assessments of access
by economic trend, hard access by trend, themes by group, housing policy by political
orientation; tidy frames with clustered (or, for localities, plain) Wilson intervals."""

from __future__ import annotations

import pandas as pd

from .. import policy
from ..labels import DOMAIN_LABELS, ROLE_LABELS, THEME_LABELS
from ..policy import clustered_proportion, wilson_interval
from ..stats import percent_interval
from .interviews import DOMAINS, THEMES, AccessInputError, _prepared


def access_distribution(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Assessments of access by domain and economic trend: counts and shares (percent of
    the interviews that discussed the domain); tidy."""
    df = _prepared(df)
    parts = []
    for dom, col in DOMAINS.items():
        sub = df[df[col].notna()]
        t = sub.groupby(["economic_trend", col], observed=False).size().rename("interviews").reset_index()
        t = t.rename(columns={col: "assessment"})
        t["share_pct"] = (
            100 * t["interviews"] / t.groupby("economic_trend", observed=True)["interviews"].transform("sum")
        )
        t.insert(0, "domain", dom)
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out["economic_trend"] = out["economic_trend"].astype(str)
    out["assessment"] = out["assessment"].astype(str)
    return out


def hard_by_trend(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """Share of interviews assessing access as hard, by domain and economic trend, with
    clustered Wilson intervals (interviews that discussed the domain)."""
    df = _prepared(df)
    rows = []
    for dom, col in DOMAINS.items():
        sub = df[df[col].notna()]
        for trend in policy.TRENDS:
            grp = sub[sub["economic_trend"].astype(str) == trend]
            if grp.empty:
                continue
            r = clustered_proportion(grp[col].astype(str) == "hard", grp["locality_id"], level)
            rows.append(
                {
                    "domain": dom,
                    "domain_label": DOMAIN_LABELS[dom],
                    "economic_trend": trend,
                    "trend_label": policy.TREND_LABELS[trend],
                    "interviews": r["n"],
                    "localities": r["clusters"],
                    "hard": r["successes"],
                    **percent_interval(r),
                }
            )
    return pd.DataFrame(rows)


def theme_prevalence(
    df: pd.DataFrame | None = None, by: str | None = "role", level: float = 0.95
) -> pd.DataFrame:
    """Share of interviews raising each theme, overall (``by=None``) or by ``by`` (e.g.
    role, locality_type), with clustered Wilson intervals; tidy."""
    df = _prepared(df)
    if by is not None and by not in df.columns:
        raise AccessInputError(f"theme_prevalence: unknown grouping column {by!r}.")
    groups = [("all", df)] if by is None else list(df.groupby(by, observed=True, sort=True))
    rows = []
    for lvl, grp in groups:
        for th in THEMES:
            r = clustered_proportion(grp[th], grp["locality_id"], level)
            rows.append(
                {
                    "group": str(lvl),
                    "theme": th,
                    "theme_label": THEME_LABELS[th],
                    "interviews": r["n"],
                    "localities": r["clusters"],
                    "with_theme": r["successes"],
                    **percent_interval(r),
                }
            )
    return pd.DataFrame(rows)


def housing_by_orientation(policy_df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """Housing approach by political orientation: localities with a housing measure and
    with a proactive one (Wilson intervals; localities are the unit)."""
    pdf = policy._prepared(policy_df)
    h = pdf[pdf["policy_area"].astype(str) == "housing"]
    rows = []
    for lvl, grp in h.groupby("political_orientation", observed=True, sort=True):
        n, k = len(grp), int(grp["proactive"].sum())
        lo, hi = wilson_interval(k, n, level)
        rows.append(
            {
                "political_orientation": str(lvl),
                "localities": n,
                "with_measure": int(grp["measure_present"].sum()),
                "proactive": k,
                "proactive_pct": 100 * k / n,
                "ci_low_pct": 100 * lo,
                "ci_high_pct": 100 * hi,
            }
        )
    return pd.DataFrame(rows)


#: Column naming the group of each row in :func:`theme_table`, by grouping.
THEME_TABLE_GROUP = {"role": "role", "locality_type": "type"}


def theme_table(df: pd.DataFrame | None = None, by: str = "role", level: float = 0.95) -> pd.DataFrame:
    """:func:`theme_prevalence` by ``by`` ("role" or "locality_type") as the page shows it:
    the theme's label, counts, percent and interval, and the group's reader-facing label
    (column ``role`` or ``type``)."""
    if by not in THEME_TABLE_GROUP:
        raise AccessInputError(f"theme_table: by must be one of {list(THEME_TABLE_GROUP)}, got {by!r}.")
    if by == "role":
        labels = ROLE_LABELS
    else:
        from ..overview import TYPE_LABELS as labels
    tidy = theme_prevalence(df, by, level)
    return tidy.assign(**{THEME_TABLE_GROUP[by]: tidy["group"].map(labels)}).drop(columns=["group", "theme"])
