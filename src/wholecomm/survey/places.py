"""Comparisons of places: localities as clusters within country strata, few-cluster
degrees of freedom, pairwise contrasts with Holm adjustment, and the rule for calling a
group highest or lowest."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, require_columns
from .coding import OVERALL_LABEL, POOLING, _first_ids
from .estimates import _values, weighted_mean, weighted_proportion
from .weights import _weights

# ------------------------------------------------------- comparisons of places
#: The design of every comparison between places (countries, size classes, locality
#: types, one country against the rest): localities are clusters (primary sampling units)
#: within country strata. See the book's Methods page.
PLACE_STRATA = "country"
PLACE_CLUSTERS = "locality_id"


def _place_parts(
    df: pd.DataFrame, value: str, weights, pooling: str, proportion: bool, strata: str, clusters: str
):
    """Values, weights (pooled as in ``_estimate``), cluster and stratum codes."""
    if pooling not in ("weights", "equal"):
        raise InputError(f"pooling must be 'weights' or 'equal', got {pooling!r}.")
    require_columns(df, [strata, clusters], "The frame")
    for col in (strata, clusters):
        if df[col].isna().any():
            raise InputError(
                f"Design column {col!r} is empty for {int(df[col].isna().sum())} rows "
                f"({_first_ids(df, df[col].isna().to_numpy())})."
            )
    y = _values(df, value, proportion)
    w = _weights(df, weights)
    c = pd.factorize(df[clusters].astype(str), sort=True)[0].astype(np.int64)
    h_of_row = pd.factorize(df[strata].astype(str), sort=True)[0].astype(np.int64)
    n_c = int(c.max()) + 1 if len(c) else 0
    h = np.full(n_c, -1, dtype=np.int64)
    h[c] = h_of_row
    clash = pd.DataFrame({"c": c, "h": h_of_row}).groupby("c")["h"].nunique()
    if (clash > 1).any():
        bad = df[clusters].astype(str).to_numpy()[np.isin(c, clash.index[clash > 1])]
        raise InputError(
            f"Each {clusters!r} must lie in one {strata!r}; {sorted(set(bad))[:5]} lie in several."
        )
    if pooling == "equal":
        w = w / np.bincount(c, weights=w, minlength=n_c)[c]
    return y, w, c, h


def _linearised(y: np.ndarray, w: np.ndarray, member: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted mean of ``y`` over the rows in ``member`` (valid values only) and its
    linearised values ``z_i = w_i (y_i - R) / W`` (0 outside the domain)."""
    valid = member & np.isfinite(y)
    W = float(w[valid].sum())
    if W <= 0:
        return float("nan"), np.zeros_like(y), valid
    R = float(np.sum(w[valid] * y[valid]) / W)
    z = np.where(valid, w * (np.where(valid, y, 0.0) - R) / W, 0.0)
    return R, z, valid


def _cluster_variance(z: np.ndarray, c: np.ndarray, h: np.ndarray) -> float:
    """Variance of sum(z) with clusters ``c`` (with replacement) within strata ``h``
    (``h[k]`` = stratum of cluster k): sum_h n_h / (n_h - 1) sum_k (t_k - mean_h t)^2
    over all clusters of each stratum. NaN when a stratum has a single cluster."""
    t = np.bincount(c, weights=z, minlength=len(h))
    H = int(h.max()) + 1
    n_h = np.bincount(h, minlength=H).astype(float)
    mean_h = np.bincount(h, weights=t, minlength=H) / n_h
    ss = np.bincount(h, weights=(t - mean_h[h]) ** 2, minlength=H)
    if (n_h < 2).any():
        return float("nan")
    return float(np.sum(n_h / (n_h - 1) * ss))


#: The fewest degrees of freedom an interval of places is given. A group whose localities all
#: come from different countries has none left by the rule "localities minus their
#: countries"; its variance is still estimated (from every locality of those countries), and
#: t(1), the widest t that exists, gives it an interval that says how little it shows.
MIN_PLACE_DF = 1


def _domain_df(valid: np.ndarray, c: np.ndarray, h: np.ndarray) -> int:
    """Degrees of freedom of a domain: clusters with respondents in it minus their strata,
    at least :data:`MIN_PLACE_DF` (0 when the domain has no respondents)."""
    used = np.unique(c[valid])
    if not len(used):
        return 0
    return max(int(len(used) - len(np.unique(h[used]))), MIN_PLACE_DF)


def place_estimates(
    frame: pd.DataFrame,
    value: str,
    by: str | None = "country",
    kind: str = "mean",
    weights="weight",
    pooling: str = POOLING,
    level: float = 0.95,
    strata: str = PLACE_STRATA,
    clusters: str = PLACE_CLUSTERS,
) -> pd.DataFrame:
    """Estimates of ``value`` by ``by`` (None: overall) for comparisons of places.

    Point estimates are those of :func:`~wholecomm.survey.estimates.weighted_mean` / :func:`~wholecomm.survey.estimates.weighted_proportion`;
    the variance treats localities (``clusters``) as sampling units within country
    ``strata`` (Taylor linearisation, domain estimation), so the spread between
    localities counts as uncertainty. Degrees of freedom of a group: its localities minus
    their countries (t(G - 1) for one country of G localities), at least
    :data:`MIN_PLACE_DF`; means get a t interval,
    proportions the Korn-Graubard interval (:func:`wholecomm.stats.korn_graubard_interval`).
    Returns the ``by`` column (or ``group``), estimate, se, ci_low, ci_high, df, n, localities."""
    from .. import stats as st

    if kind not in ("mean", "proportion"):
        raise InputError(f"kind must be 'mean' or 'proportion', got {kind!r}.")
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1, got {level}.")
    y, w, c, h = _place_parts(frame, value, weights, pooling, kind == "proportion", strata, clusters)
    if by is None:
        labels = pd.Series([OVERALL_LABEL] * len(frame), index=frame.index)
    else:
        require_columns(frame, [by], "The frame")
        if frame[by].isna().any():
            raise InputError(f"Grouping column {by!r} is empty for {int(frame[by].isna().sum())} rows.")
        labels = frame[by].astype(str)
    rows = []
    for group in sorted(pd.unique(labels)):
        R, z, valid = _linearised(y, w, (labels == group).to_numpy())
        se = float(np.sqrt(_cluster_variance(z, c, h)))
        df = _domain_df(valid, c, h)
        n = int(valid.sum())
        if not np.isfinite(R):
            lo = hi = float("nan")
        elif kind == "proportion":
            lo, hi = st.korn_graubard_interval(R, se, n, df, level) if df >= 1 else (np.nan, np.nan)
        else:
            q = stats.t.ppf(0.5 + level / 2, df) if df >= 1 else np.nan
            lo, hi = R - q * se, R + q * se
        rows.append(
            {
                by or "group": group,
                "estimate": R,
                "se": se,
                "ci_low": lo,
                "ci_high": hi,
                "df": df,
                "n": n,
                "localities": int(len(np.unique(c[valid]))),
            }
        )
    return pd.DataFrame(rows)


def _place_contrast(y, w, c, h, in_a: np.ndarray, in_b: np.ndarray, level: float) -> dict:
    """Difference of the domain means A - B with its place-design variance (the
    covariance of domains sharing strata is kept: one linearised variable A - B), t on
    min(df_A, df_B) degrees of freedom (the side with fewer localities governs)."""
    from .. import stats as st

    ra, za, va = _linearised(y, w, in_a)
    rb, zb, vb = _linearised(y, w, in_b)
    est = ra - rb
    se = float(np.sqrt(_cluster_variance(za - zb, c, h)))
    df = min(_domain_df(va, c, h), _domain_df(vb, c, h))
    if df < 1 or not np.isfinite(se) or se == 0:
        return {"estimate": est, "se": se, "ci_low": np.nan, "ci_high": np.nan, "df": df, "p_value": np.nan}
    return {**st.t_interval(est, se, df, level), "df": df, "p_value": st.t_p_value(est / se, df)}


def place_contrast(
    frame: pd.DataFrame,
    value: str,
    in_a,
    in_b,
    kind: str = "mean",
    weights="weight",
    pooling: str = POOLING,
    level: float = 0.95,
    strata: str = PLACE_STRATA,
    clusters: str = PLACE_CLUSTERS,
) -> dict:
    """Difference A - B of the estimates of ``value`` over two sets of respondents
    (boolean masks ``in_a``, ``in_b``, e.g. one country and the others) under the place
    design (localities as clusters within country strata), with a t interval and test
    on min(df_A, df_B) degrees of freedom. Returns estimate, se, ci_low, ci_high, df, p_value."""
    if kind not in ("mean", "proportion"):
        raise InputError(f"kind must be 'mean' or 'proportion', got {kind!r}.")
    y, w, c, h = _place_parts(frame, value, weights, pooling, kind == "proportion", strata, clusters)
    a, b = np.asarray(in_a, dtype=bool), np.asarray(in_b, dtype=bool)
    if a.shape != (len(frame),) or b.shape != (len(frame),):
        raise InputError("place_contrast: in_a and in_b need one True/False per row of the frame.")
    if (a & b).any():
        raise InputError("place_contrast: the two sets of respondents overlap.")
    return _place_contrast(y, w, c, h, a, b, level)


def place_contrasts(
    frame: pd.DataFrame,
    value: str,
    by: str = "country",
    kind: str = "mean",
    weights="weight",
    pooling: str = POOLING,
    level: float = 0.95,
    strata: str = PLACE_STRATA,
    clusters: str = PLACE_CLUSTERS,
) -> pd.DataFrame:
    """Every pairwise difference between the groups of ``by`` (group_a - group_b, for
    group_a < group_b alphabetically) under the place design, with t intervals and
    p-values, and Holm-adjusted p-values over the family of all pairs (``p_holm``)."""
    from .. import stats as st

    if kind not in ("mean", "proportion"):
        raise InputError(f"kind must be 'mean' or 'proportion', got {kind!r}.")
    y, w, c, h = _place_parts(frame, value, weights, pooling, kind == "proportion", strata, clusters)
    require_columns(frame, [by], "The frame")
    labels = frame[by].astype(str).to_numpy()
    groups = sorted(pd.unique(labels))
    if len(groups) < 2:
        raise InputError(f"place_contrasts: {by!r} has fewer than two groups.")
    rows = [
        {"group_a": a, "group_b": b, **_place_contrast(y, w, c, h, labels == a, labels == b, level)}
        for i, a in enumerate(groups)
        for b in groups[i + 1 :]
    ]
    out = pd.DataFrame(rows)
    ok = out["p_value"].notna()
    out["p_holm"] = np.nan
    if ok.any():
        out.loc[ok, "p_holm"] = st.holm(out.loc[ok, "p_value"].to_numpy())
    return out


def extremes(
    estimates: pd.DataFrame, contrasts: pd.DataFrame, by: str = "country", alpha: float = 0.05
) -> dict:
    """Which group may be called highest and which lowest. The group with the largest
    (smallest) estimate is *highest* (*lowest*) only when its difference from every other
    group is positive (negative) with a Holm-adjusted p-value below ``alpha`` over those
    comparisons (the k - 1 contrasts of that group, t intervals of the place design);
    otherwise None. Also returns the top and bottom groups by point estimate, and the
    smallest of the top group's differences with its interval (``top_gap``)."""
    from .. import stats as st

    est = estimates.set_index(by)["estimate"].dropna()
    if len(est) < 2:
        raise InputError("extremes: needs estimates for at least two groups.")
    top, bottom = str(est.idxmax()), str(est.idxmin())
    out: dict[str, object] = {"top": top, "bottom": bottom}
    for name, group, sign in (("highest", top, 1.0), ("lowest", bottom, -1.0)):
        rows = []
        for _, r in contrasts.iterrows():
            if group in (r["group_a"], r["group_b"]):
                s = 1.0 if r["group_a"] == group else -1.0
                rows.append(
                    {
                        "other": r["group_b"] if s > 0 else r["group_a"],
                        "estimate": s * r["estimate"],
                        "ci_low": min(s * r["ci_low"], s * r["ci_high"]),
                        "ci_high": max(s * r["ci_low"], s * r["ci_high"]),
                        "p_value": r["p_value"],
                    }
                )
        diffs = pd.DataFrame(rows)
        if diffs.empty or diffs["p_value"].isna().any():
            out[name] = None
            out[f"{name}_gap"] = None
            continue
        adjusted = st.holm(diffs["p_value"].to_numpy())
        clear = bool(((sign * diffs["estimate"] > 0) & (adjusted < alpha)).all())
        out[name] = group if clear else None
        closest = diffs.loc[(sign * diffs["estimate"]).idxmin()]
        out[f"{name}_gap"] = closest.to_dict()
    return out


def design_comparison(
    frame: pd.DataFrame,
    value: str,
    by: str = "country",
    kind: str = "mean",
    pooling: str = POOLING,
    level: float = 0.95,
) -> pd.DataFrame:
    """Standard errors of the group estimates of ``value`` under the two designs: the
    residents of the studied localities (localities as strata, :func:`~wholecomm.survey.estimates.weighted_mean`) and
    places as units (localities as clusters in country strata, :func:`place_estimates`),
    with the ratio of the two. Tidy: group, estimate, se_residents, se_places, ratio, ci_low,
    ci_high (place design), df."""
    fn = weighted_mean if kind == "mean" else weighted_proportion
    resid = fn(frame, value, "weight", by, level, pooling=pooling).rename(columns={by: "group"})
    place = place_estimates(frame, value, by, kind, pooling=pooling, level=level).rename(
        columns={by: "group"}
    )
    resid["group"] = resid["group"].astype(str)
    out = (
        resid[["group", "estimate", "se"]]
        .rename(columns={"se": "se_residents"})
        .merge(
            place[["group", "se", "ci_low", "ci_high", "df"]].rename(columns={"se": "se_places"}), on="group"
        )
    )
    out["ratio"] = out["se_places"] / out["se_residents"]
    return out[["group", "estimate", "se_residents", "se_places", "ratio", "ci_low", "ci_high", "df"]]


def place_by_groups(
    frame: pd.DataFrame,
    value: str,
    kind: str = "mean",
    groupings: Sequence[str] = ("country", "size_class", "locality_type"),
    pooling: str = POOLING,
    level: float = 0.95,
) -> pd.DataFrame:
    """:func:`place_estimates` for each grouping, stacked like :func:`~wholecomm.survey.estimates.by_groups`:
    grouping, group, estimate, se, ci_low, ci_high, df, n, localities."""
    parts = []
    for grouping in groupings:
        by = None if grouping == "overall" else grouping
        est = place_estimates(frame, value, by, kind, pooling=pooling, level=level)
        parts.append(est.rename(columns={by or "group": "group"}).assign(grouping=grouping))
    out = pd.concat(parts, ignore_index=True)
    return out[["grouping", "group", "estimate", "se", "ci_low", "ci_high", "df", "n", "localities"]]


def ranking_text(
    ext: dict,
    labels: dict,
    what: str,
    fmt: str = "{:.2f}",
    unit: str = "",
    group_word: str = "country",
    scale: float = 1.0,
) -> str:
    """The sentence a page may write about the highest and lowest groups, given
    :func:`extremes`: a group is named highest or lowest only when the rule of
    :func:`extremes` holds; otherwise the sentence says the groups cannot be told apart
    and gives the closest difference with its 95% interval (place design). ``labels``
    maps group codes to names; ``what`` names the quantity; numbers are multiplied by
    ``scale`` (100 for shares in percentage points) and followed by ``unit``."""

    def name(code) -> str:
        return labels.get(code, str(code))

    def gap(key: str) -> str:
        g = {
            k: (v * scale if k in ("estimate", "ci_low", "ci_high") else v)
            for k, v in ext[f"{key}_gap"].items()
        }
        return (
            (
                f"{fmt.format(g['estimate'])}{unit} above {name(g['other'])}"
                if key == "highest"
                else f"{fmt.format(-g['estimate'])}{unit} below {name(g['other'])}"
            )
            + f", 95% CI {fmt.format(g['ci_low'] if key == 'highest' else -g['ci_high'])} to "
            f"{fmt.format(g['ci_high'] if key == 'highest' else -g['ci_low'])}{unit}"
        )

    parts = []
    for key, word in (("highest", "highest"), ("lowest", "lowest")):
        group = ext["top"] if key == "highest" else ext["bottom"]
        if ext.get(key):
            parts.append(
                f"{what} is {word} in the localities of {name(group)}, clearly different from every other "
                f"{group_word}'s (closest: {gap(key)})"
            )
        elif ext.get(f"{key}_gap"):
            parts.append(
                f"the {word} point estimate, in the localities of {name(group)}, cannot be told apart from "
                f"the next ({gap(key)})"
            )
    if not parts:
        return f"The groups cannot be ranked on {what}."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
