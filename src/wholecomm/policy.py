"""Comparative analysis of local integration policies (the local-policies page).

The unit of the policy data is the locality x policy area (resource ``local_policies``),
joined with the locality's characteristics (resource ``localities``). The module covers

* where measures exist: the approach (none, reactive, proactive) of every locality in
  every policy area, and the share of localities with measures per area;
* capacity: dedicated integration staff, main funding sources, and how capacity goes
  with proactive policy (difference in shares and a logistic regression with
  cluster-robust standard errors by locality, since areas are nested in localities);
* multi-level relations and lead actors;
* a typology of localities by two transparent methods: a crisp-set QCA truth table
  (with Quine-McCluskey minimisation of the consistent configurations) and Ward
  hierarchical clustering of a coded policy profile.

It also holds the interval estimators shared with :mod:`wholecomm.access.hypotheses`: Wilson
intervals (with an effective sample size for clustered data), Newcombe's interval for a
difference of independent proportions, cluster-robust means and differences, the
Cochran-Armitage trend test and the verdict rule for hypotheses.

Conventions. Proportions returned by the estimators are fractions (0-1); the tidy tables
built for pages report shares in percent (columns ending in ``_pct``) and differences
in percentage points (``_pp``). Every interval is a 95% interval unless ``level`` says
otherwise. Cluster-robust intervals use statsmodels' CR1 sandwich with a t reference
distribution on G - 1 degrees of freedom (G = number of localities).

Missing values. ``lead_actor`` and ``main_funding`` are empty exactly when a locality has
no measure in the area (a rule of the data package, checked again here); they are only
used for rows with a measure. Any other missing value is an error.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from . import data
from .errors import InputError
from .numerics import first_max, sort_by, tie_round, ties

# ----------------------------------------------------------------------- constants
AREAS = [
    "labour_market",
    "education",
    "health",
    "housing",
    "language_orientation",
    "political_participation",
    "anti_discrimination",
    "intercultural_relations",
]
APPROACHES = ["none", "reactive", "proactive"]
LEAD_ACTORS = ["municipality", "ngo", "region", "state", "volunteers"]
RELATIONS = ["cooperative", "conflictual", "decoupled", "hierarchical"]
FUNDING = ["eu", "national", "regional", "local"]
SIZE_CLASSES = ["rural_area", "small_town", "medium_town"]
TRENDS = ["declining", "stable", "improving"]
ORIENTATIONS = ["progressive", "centrist", "conservative"]

#: Codes of the approach in the locality x area matrix and the clustering profile.
APPROACH_CODES = {"none": 0, "reactive": 1, "proactive": 2}

AREA_LABELS = {
    "labour_market": "Labour market",
    "education": "Education",
    "health": "Health",
    "housing": "Housing",
    "language_orientation": "Language and orientation",
    "political_participation": "Political participation",
    "anti_discrimination": "Anti-discrimination",
    "intercultural_relations": "Intercultural relations",
}
FUNDING_LABELS = {"eu": "EU", "national": "National", "regional": "Regional", "local": "Local (municipal)"}
RELATION_LABELS = {
    "cooperative": "Cooperative",
    "conflictual": "Conflictual",
    "decoupled": "Decoupled",
    "hierarchical": "Hierarchical",
}
LEAD_LABELS = {
    "municipality": "Municipality",
    "ngo": "NGO",
    "region": "Region",
    "state": "State",
    "volunteers": "Volunteers",
}
TREND_LABELS = {"declining": "Declining", "stable": "Stable", "improving": "Improving"}
ORIENTATION_LABELS = {"progressive": "Progressive", "centrist": "Centrist", "conservative": "Conservative"}
FACTOR_LABELS = {
    "size_class": "Size class",
    "economic_trend": "Economic trend",
    "political_orientation": "Political orientation",
    "country": "Country",
}

#: Reference levels of the logistic regression of proactive policy.
MODEL_REFERENCE = {
    "size_class": "rural_area",
    "economic_trend": "declining",
    "political_orientation": "centrist",
}

POLICY_COLUMNS = {
    "locality_id": None,
    "policy_area": AREAS,
    "measure_present": "bool",
    "approach": APPROACHES,
    "lead_actor": LEAD_ACTORS,
    "relation_higher_level": RELATIONS,
    "dedicated_staff": "bool",
    "main_funding": FUNDING,
}
LOCALITY_COLUMNS = {
    "locality_id": None,
    "country": None,
    "size_class": SIZE_CLASSES,
    "economic_trend": TRENDS,
    "political_orientation": ORIENTATIONS,
}
#: Columns that may be empty (only where the locality has no measure in the area).
OPTIONAL_WITHOUT_MEASURE = ("lead_actor", "main_funding")


class PolicyInputError(InputError):
    """Bad input to an analysis function: names the table, the column and the broken rule."""


# ------------------------------------------------------------- input validation
def check_columns(
    frame: pd.DataFrame,
    spec: dict,
    table: str,
    optional: Iterable[str] = (),
    error: type[ValueError] = PolicyInputError,
) -> pd.DataFrame:
    """Check that ``frame`` has the columns of ``spec`` with valid values; return a copy in
    which enumerated columns are categoricals in the order of ``spec``.

    ``spec`` maps a column to ``None`` (any non-empty value), ``"bool"`` (True/False, no
    missing value) or a list of allowed values. Columns listed in ``optional`` may hold
    missing values; all others may not. Nothing is coerced: a value outside the allowed
    set raises an error naming the column and the values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise error(f"{table}: expected a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in spec if c not in frame.columns]
    if missing:
        raise error(f"{table}: missing column(s) {missing}; the table has {list(frame.columns)}.")
    if frame.empty:
        raise error(f"{table}: the table has no rows.")
    out = frame.copy()
    optional = set(optional)
    for col, rule in spec.items():
        values = out[col]
        na = values.isna()
        if na.any() and col not in optional:
            rows = list(np.flatnonzero(na.to_numpy())[:10])
            raise error(
                f"{table}: column {col!r} must not be empty; empty in {int(na.sum())} row(s) "
                f"(positions {rows})."
            )
        if rule == "bool":
            if not (
                pd.api.types.is_bool_dtype(values) or values.dropna().map(type).isin([bool, np.bool_]).all()
            ):
                raise error(
                    f"{table}: column {col!r} must hold True/False values, got dtype {values.dtype} "
                    f"(e.g. {values.dropna().iloc[0]!r})."
                )
            out[col] = values.astype(bool)
        elif isinstance(rule, list):
            present = pd.Series(values.dropna().astype(str).unique())
            bad = sorted(set(present) - set(rule))
            if bad:
                raise error(f"{table}: column {col!r} has value(s) {bad} outside the allowed set {rule}.")
            out[col] = pd.Categorical(values.astype("object").where(~na, None), categories=rule)
        else:
            out[col] = values.astype("object").where(~na, None)
            if (out[col].astype(str).str.strip() == "").any():
                raise error(f"{table}: column {col!r} must not hold blank strings.")
    return out


def prepare(
    policies: pd.DataFrame | None = None, localities: pd.DataFrame | None = None, uncoded: str = "raise"
) -> pd.DataFrame:
    """Validated join of ``local_policies`` with the locality characteristics.

    Defaults to the data package. Adds ``proactive`` (approach is proactive) and keeps
    every row (one per locality x area). Raises :class:`PolicyInputError` for missing
    columns, values outside the schema, duplicated locality x area rows, an incomplete
    grid (a locality lacking an area that others have), policy rows for unknown
    localities, localities without policy rows, and rows whose measure_present,
    approach, lead_actor and main_funding disagree.

    ``uncoded``: what to do with localities that have no policy rows at all: ``"raise"``
    (the default), or ``"exclude"`` them from the policy analysis, listing them in
    ``attrs["uncoded_localities"]`` of the result (see :func:`uncoded_note`) so that the
    page can say which were left out.
    """
    if uncoded not in ("raise", "exclude"):
        raise ValueError(f"uncoded must be 'raise' or 'exclude', got {uncoded!r}.")
    lp = data.load("local_policies") if policies is None else policies
    loc = data.load("localities") if localities is None else localities
    lp = check_columns(lp, POLICY_COLUMNS, "local_policies", optional=OPTIONAL_WITHOUT_MEASURE)
    keep = [
        c
        for c in (
            "locality_id",
            "country",
            "size_class",
            "economic_trend",
            "political_orientation",
            "locality_type",
            "population",
        )
        if c in loc.columns
    ]
    loc = check_columns(loc, LOCALITY_COLUMNS, "localities")[keep]
    if loc["locality_id"].duplicated().any():
        dup = sorted(loc.loc[loc["locality_id"].duplicated(), "locality_id"].unique())
        raise PolicyInputError(f"localities: locality_id must be unique; duplicated: {dup}.")
    key = lp[["locality_id", "policy_area"]].astype(str)
    if key.duplicated().any():
        dup = key[key.duplicated()].drop_duplicates().to_records(index=False).tolist()[:5]
        raise PolicyInputError(f"local_policies: one row per locality and policy_area; duplicated: {dup}.")
    unknown = sorted(set(lp["locality_id"]) - set(loc["locality_id"]))
    if unknown:
        raise PolicyInputError(f"local_policies: locality_id value(s) {unknown} are not in localities.")
    missing_rows = sorted(set(loc["locality_id"]) - set(lp["locality_id"]))
    if missing_rows and uncoded == "exclude":
        loc = loc[~loc["locality_id"].isin(missing_rows)]
    elif missing_rows:
        raise PolicyInputError(
            f"localities {missing_rows} have no rows in local_policies; every locality analysed "
            "must have its policies coded (remove it from localities explicitly if it was "
            "not studied, or prepare(uncoded='exclude') to leave it out and say so)."
        )
    areas = set(lp["policy_area"].astype(str))
    per_loc = lp.groupby("locality_id", observed=True)["policy_area"].nunique()
    short = sorted(per_loc[per_loc < len(areas)].index)
    if short:
        raise PolicyInputError(
            f"local_policies: every locality needs a row for each of the {len(areas)} policy "
            f"areas in the data; incomplete: {short}."
        )
    present = lp["measure_present"]
    none = lp["approach"].astype(str) == "none"
    bad = present == none
    if bad.any():
        raise PolicyInputError(
            "local_policies: approach must be 'none' exactly when measure_present is False; "
            f"broken in {int(bad.sum())} row(s) (positions {list(np.flatnonzero(bad))[:10]})."
        )
    for col in OPTIONAL_WITHOUT_MEASURE:
        bad = present == lp[col].isna()
        if bad.any():
            raise PolicyInputError(
                f"local_policies: {col} must be given exactly when measure_present is True; "
                f"broken in {int(bad.sum())} row(s) (positions {list(np.flatnonzero(bad))[:10]})."
            )
    out = lp.merge(loc, on="locality_id", how="left", validate="many_to_one")
    out["proactive"] = out["approach"].astype(str) == "proactive"
    out = out.sort_values(["locality_id", "policy_area"]).reset_index(drop=True)
    out.attrs["uncoded_localities"] = [str(x) for x in missing_rows]
    return out


def uncoded_note(df: pd.DataFrame) -> str:
    """A sentence for the page: which localities have no coded policies and were left out
    of the policy analysis by ``prepare(uncoded="exclude")`` (or that none were)."""
    left = list(df.attrs.get("uncoded_localities", []))
    if not left:
        return "Every locality has its policies coded."
    return (
        f"{'Locality' if len(left) == 1 else 'Localities'} {', '.join(left)} "
        f"{'has' if len(left) == 1 else 'have'} no coded policies and "
        f"{'is' if len(left) == 1 else 'are'} left out of the policy analysis."
    )


def _prepared(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None:
        # From the data package: localities without coded policies are left out (and
        # named in attrs, see uncoded_note), as on the policy pages.
        return prepare(uncoded="exclude")
    needed = set(POLICY_COLUMNS) | set(LOCALITY_COLUMNS) | {"proactive"}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise PolicyInputError(f"expected the output of policy.prepare(); missing column(s) {missing}.")
    return df


def _measures(df: pd.DataFrame) -> pd.DataFrame:
    m = df[df["measure_present"]]
    if m.empty:
        raise PolicyInputError(
            "local_policies: no locality has any measure; shares among measures are undefined."
        )
    return m


# ------------------------------------------------------------------ estimators
def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}.")
    return float(stats.norm.ppf(0.5 + level / 2))


def wilson_interval(successes, n, level: float = 0.95):
    """Wilson score interval for a proportion ``successes / n`` (arrays allowed).

    ``n`` may be an effective (non-integer) sample size. Raises ValueError when
    ``n <= 0``, ``successes < 0`` or ``successes > n``.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(n <= 0):
        raise ValueError("wilson_interval: n must be positive (no observations: the share is undefined).")
    if np.any(x < 0) or np.any(x > n + 1e-9):
        raise ValueError("wilson_interval: successes must lie between 0 and n.")
    z = _z(level)
    p = x / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def _as_bool_array(values, name: str) -> np.ndarray:
    arr = pd.Series(values)
    if arr.isna().any():
        raise ValueError(f"{name}: missing values are not allowed here (found {int(arr.isna().sum())}).")
    if not (pd.api.types.is_bool_dtype(arr) or set(pd.unique(arr)) <= {0, 1}):
        raise ValueError(
            f"{name}: values must be True/False (or 0/1), got {sorted(map(str, pd.unique(arr)))[:5]}."
        )
    return arr.astype(bool).to_numpy()


def _as_clusters(clusters, n: int) -> np.ndarray:
    g = pd.Series(clusters)
    if len(g) != n:
        raise ValueError(f"clusters must have one label per observation ({n}), got {len(g)}.")
    if g.isna().any():
        raise ValueError("clusters: every observation needs a cluster label (locality_id); some are missing.")
    return pd.factorize(g.astype(str))[0]


def cluster_robust_variance_of_mean(y, clusters) -> float:
    """CR1 variance of a mean: G/(G-1) * sum_g (sum_{i in g} (y_i - ybar))^2 / N^2."""
    y = np.asarray(y, dtype=float)
    g = _as_clusters(clusters, len(y))
    n_g = g.max() + 1
    if n_g < 2:
        raise ValueError("A cluster-robust variance needs at least 2 clusters (localities); got 1.")
    resid_sums = np.bincount(g, weights=y - y.mean(), minlength=n_g)
    return float(n_g / (n_g - 1) * np.sum(resid_sums**2) / len(y) ** 2)


def clustered_proportion(y, clusters, level: float = 0.95) -> dict:
    """Share of True in ``y`` with a Wilson interval that allows for clustering.

    The Wilson interval is computed with the effective sample size ``n / deff``, where
    the design effect ``deff`` is the cluster-robust variance of the share divided by the
    independent-sample variance ``p(1-p)/n``, floored at 1 (the interval is never
    narrower than for independent observations). When the share is 0 or 1, or all
    observations come from one cluster, the design effect cannot be estimated and is set
    to 1 (the result's ``clusters`` count shows when this happened).
    """
    y = _as_bool_array(y, "clustered_proportion")
    n = len(y)
    if n == 0:
        raise ValueError("clustered_proportion: no observations.")
    g = _as_clusters(clusters, n)
    p = y.mean()
    if 0 < p < 1 and g.max() >= 1:
        deff = max(1.0, cluster_robust_variance_of_mean(y, g) / (p * (1 - p) / n))
    else:
        deff = 1.0
    n_eff = n / deff
    lo, hi = wilson_interval(p * n_eff, n_eff, level)
    return {
        "share": float(p),
        "ci_low": lo,
        "ci_high": hi,
        "n": int(n),
        "successes": int(y.sum()),
        "clusters": int(g.max() + 1),
        "deff": float(deff),
    }


def newcombe_difference(x1, n1, x2, n2, level: float = 0.95) -> dict:
    """Difference ``x1/n1 - x2/n2`` of two independent proportions with Newcombe's hybrid
    score interval (method 10 of Newcombe 1998), built from the groups' Wilson intervals."""
    for name, (x, n) in {"group 1": (x1, n1), "group 2": (x2, n2)}.items():
        if n <= 0:
            raise ValueError(f"newcombe_difference: {name} has no observations.")
        if not 0 <= x <= n:
            raise ValueError(f"newcombe_difference: {name} successes ({x}) must lie between 0 and n ({n}).")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, level)
    l2, u2 = wilson_interval(x2, n2, level)
    d = p1 - p2
    return {
        "share_1": p1,
        "share_2": p2,
        "difference": d,
        "ci_low": d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        "ci_high": d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
        "n_1": int(n1),
        "n_2": int(n2),
    }


def clustered_difference(y, group, clusters, level: float = 0.95) -> dict:
    """Difference in the mean of ``y`` (e.g. a 0/1 outcome) between ``group`` True and
    False, with a cluster-robust (CR1) interval: the slope of an OLS regression of ``y``
    on a constant and the group indicator, t reference on G - 1 degrees of freedom."""
    import statsmodels.api as sm

    y = pd.Series(y)
    if y.isna().any() or not (pd.api.types.is_bool_dtype(y) or pd.api.types.is_numeric_dtype(y)):
        raise ValueError(
            "clustered_difference: the outcome must be True/False or numeric, without missing values."
        )
    y = y.astype(float).to_numpy()
    grp = _as_bool_array(group, "clustered_difference group").astype(float)
    if grp.min() == grp.max():
        raise ValueError("clustered_difference: both groups need observations; only one group is present.")
    g = _as_clusters(clusters, len(y))
    if g.max() < 1:
        raise ValueError("clustered_difference: at least 2 clusters (localities) are needed.")
    fit = sm.OLS(y, sm.add_constant(grp)).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    lo, hi = fit.conf_int(alpha=1 - level)[1]
    return {
        "share_1": float(y[grp == 1].mean()),
        "share_0": float(y[grp == 0].mean()),
        "difference": float(fit.params[1]),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "p_value": float(fit.pvalues[1]),
        "n_1": int(grp.sum()),
        "n_0": int((1 - grp).sum()),
        "clusters": int(g.max() + 1),
    }


def clustered_mean(y, clusters, level: float = 0.95) -> dict:
    """Mean of ``y`` with a CR1 cluster-robust interval (t on G - 1 degrees of freedom)."""
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        raise ValueError("clustered_mean: no observations.")
    if np.isnan(y).any():
        raise ValueError("clustered_mean: missing values are not allowed.")
    g = _as_clusters(clusters, len(y))
    n_g = int(g.max() + 1)
    se = np.sqrt(cluster_robust_variance_of_mean(y, g))
    t = stats.t.ppf(0.5 + level / 2, n_g - 1)
    m = float(y.mean())
    p = float(2 * stats.t.sf(abs(m / se), n_g - 1)) if se > 0 else float("nan")
    return {
        "mean": m,
        "se": float(se),
        "ci_low": m - t * se,
        "ci_high": m + t * se,
        "p_value": p,
        "n": len(y),
        "clusters": n_g,
    }


def cochran_armitage(
    successes: Sequence[float], totals: Sequence[float], scores: Sequence[float] | None = None
) -> dict:
    """Cochran-Armitage test for a linear trend in proportions across ordered groups.

    ``z = sum s_i (x_i - n_i pbar) / sqrt(pbar (1 - pbar) [sum n_i s_i^2 - (sum n_i s_i)^2 / N])``,
    with scores 0, 1, 2, ... by default; two-sided p-value from the normal distribution.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    s = np.arange(len(x), dtype=float) if scores is None else np.asarray(scores, dtype=float)
    if not (len(x) == len(n) == len(s)) or len(x) < 2:
        raise ValueError(
            "cochran_armitage: successes, totals and scores need the same length (at least 2 groups)."
        )
    if np.any(n <= 0) or np.any(x < 0) or np.any(x > n):
        raise ValueError("cochran_armitage: every group needs n > 0 and 0 <= successes <= n.")
    N = n.sum()
    pbar = x.sum() / N
    if pbar in (0.0, 1.0):
        raise ValueError("cochran_armitage: all outcomes are equal; there is no variation to test.")
    t = np.sum(s * (x - n * pbar))
    var = pbar * (1 - pbar) * (np.sum(n * s**2) - np.sum(n * s) ** 2 / N)
    z = t / np.sqrt(var)
    return {"z": float(z), "p_value": float(2 * stats.norm.sf(abs(z)))}


def p_format(p_value: float) -> str:
    """Format string for a p-value in prose: ``"p < 0.001"`` below 0.001, otherwise
    ``"p = {:.2g}"`` (two significant digits)."""
    if not 0 <= p_value <= 1:
        raise ValueError(f"p_format: a p-value lies between 0 and 1, got {p_value}.")
    return "p < 0.001" if p_value < 0.001 else "p = {:.2g}"


def verdict(ci_low: float, ci_high: float, null: float, direction: str) -> str:
    """The verdict rule for a hypothesis stated as 'greater than' or 'less than' ``null``.

    * ``"supported"``: the whole 95% interval lies on the hypothesised side of the null;
    * ``"not supported"``: the whole interval lies on the other side (the data point the
      other way);
    * ``"inconclusive"``: the interval includes the null value.
    """
    if direction not in ("greater", "less"):
        raise ValueError(f"direction must be 'greater' or 'less', got {direction!r}.")
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)) or ci_low > ci_high:
        raise ValueError(
            f"verdict needs a finite interval with ci_low <= ci_high, got ({ci_low}, {ci_high})."
        )
    above, below = ci_low > null, ci_high < null
    if (direction == "greater" and above) or (direction == "less" and below):
        return "supported"
    if above or below:
        return "not supported"
    return "inconclusive"


def approach_colours() -> dict[str, tuple]:
    """Colours of the three approaches: a quiet pale grey for no measure (absence should not
    catch the eye), and for reactive and proactive the light and dark ends of the book's
    sequential colour map (cividis: colour-blind safe, distinct in grey scale too)."""
    import matplotlib as mpl

    from .book import SEQUENTIAL

    cmap = mpl.colormaps[SEQUENTIAL]
    return {"none": (0.93, 0.93, 0.93, 1.0), "reactive": cmap(0.85), "proactive": cmap(0.1)}


def approach_matrix(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Locality x area matrix of approach codes (0 none, 1 reactive, 2 proactive), rows
    ordered by locality code, columns in schema order of the areas present."""
    df = _prepared(df)
    codes = df["approach"].astype(str).map(APPROACH_CODES)
    mat = df.assign(code=codes).pivot(index="locality_id", columns="policy_area", values="code")
    areas = [a for a in AREAS if a in mat.columns]
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


def _join_words(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def most_and_least(by_area: pd.DataFrame) -> dict:
    """The areas with the highest and the lowest share in :func:`measures_by_area` (ties
    are all named; names in Markdown italics, e.g. "*labour market* and *housing*"), with
    their share and interval."""
    if by_area.empty:
        raise PolicyInputError("most_and_least: empty table.")
    out = {}
    for key, value in (("most", by_area["share_pct"].max()), ("least", by_area["share_pct"].min())):
        rows = by_area[ties(by_area["share_pct"], value).to_numpy()]
        out[key] = {
            "areas": _join_words([f"*{a.lower()}*" for a in rows["area"]]),
            "n_areas": len(rows),
            "share_pct": float(value),
            "ci_low_pct": float(rows["ci_low_pct"].min()),
            "ci_high_pct": float(rows["ci_high_pct"].max()),
        }
    return out


def area_list_md(areas: str) -> str:
    """Prose form of a "; "-separated list of area labels (as in :func:`typology_summary`):
    lower case, in Markdown italics, joined with commas and "and"."""
    if areas == "no area":
        return "no area"
    return _join_words([f"*{a.strip().lower()}*" for a in areas.split(";")])


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
        "share_pct": 100 * r["share"],
        "ci_low_pct": 100 * r["ci_low"],
        "ci_high_pct": 100 * r["ci_high"],
    }


def proactive_by(
    df: pd.DataFrame | None = None,
    factors: Sequence[str] = ("size_class", "economic_trend", "political_orientation", "country"),
    level: float = 0.95,
) -> pd.DataFrame:
    """Share of measures that are proactive (rather than reactive) by each factor's levels.

    Unit: the measure (locality x area with a measure). Measures of one locality are not
    independent, so the Wilson intervals use the clustered effective sample size
    (:func:`clustered_proportion`, clusters = localities).
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
                    "share_pct": 100 * r["share"],
                    "ci_low_pct": 100 * r["ci_low"],
                    "ci_high_pct": 100 * r["ci_high"],
                }
            )
    return pd.DataFrame(rows)


# -------------------------------------------------------------------- capacity
def locality_summary(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per locality: characteristics, number of measures, number and share of
    proactive measures (empty share when it has no measure) and ``dedicated_staff_any``
    (dedicated staff or body in at least one area)."""
    df = _prepared(df)
    chars = [
        c
        for c in (
            "country",
            "size_class",
            "economic_trend",
            "political_orientation",
            "locality_type",
            "population",
        )
        if c in df.columns
    ]
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
                "share_pct": 100 * r["share"],
                "ci_low_pct": 100 * r["ci_low"],
                "ci_high_pct": 100 * r["ci_high"],
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
        "difference_pp": 100 * r["difference"],
        "ci_low_pp": 100 * r["ci_low"],
        "ci_high_pp": 100 * r["ci_high"],
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
        rows.append(
            {
                "term": term,
                "label": label,
                "odds_ratio": float(np.exp(fit.params[term])),
                "ci_low": float(np.exp(ci.loc[term, 0])),
                "ci_high": float(np.exp(ci.loc[term, 1])),
                "p_value": float(fit.pvalues[term]),
            }
        )
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


# -------------------------------------------------------------------------- QCA
#: Conditions of the crisp-set QCA and how each is calibrated (1 = member of the set).
QCA_CONDITIONS = {
    "MEDIUM": "medium-sized town: size_class is medium_town (50,000 to 250,000 inhabitants)",
    "CAPACITY": "capacity: dedicated integration staff or body in at least one policy area",
    "THRIVING": "thriving economy: economic_trend is improving",
    "PROGRESSIVE": "progressive local government: political_orientation is progressive",
}
QCA_OUTCOME = "PROACTIVE"
QCA_OUTCOME_RULE = (
    "proactive policy: at least half of the locality's measures are proactive "
    "(a locality with no measure has no proactive policy and is coded 0)"
)
QCA_PROACTIVE_THRESHOLD = 0.5
QCA_CONSISTENCY_THRESHOLD = 0.8
QCA_FREQUENCY_THRESHOLD = 1


def qca_data(df: pd.DataFrame | None = None, threshold: float = QCA_PROACTIVE_THRESHOLD) -> pd.DataFrame:
    """Crisp-set calibration of every locality (index: locality_id), following
    :data:`QCA_CONDITIONS` and ``QCA_OUTCOME_RULE``. Also returns the share of
    proactive measures and the number of measures the outcome rests on."""
    loc = locality_summary(df).set_index("locality_id")
    out = pd.DataFrame(
        {
            "MEDIUM": (loc["size_class"].astype(str) == "medium_town").astype(int),
            "CAPACITY": loc["dedicated_staff_any"].astype(int),
            "THRIVING": (loc["economic_trend"].astype(str) == "improving").astype(int),
            "PROGRESSIVE": (loc["political_orientation"].astype(str) == "progressive").astype(int),
        },
        index=loc.index,
    )
    share = loc["share_proactive"]
    out[QCA_OUTCOME] = ((loc["measures"] > 0) & (tie_round(share.fillna(0)) >= tie_round(threshold))).astype(
        int
    )
    out["measures"] = loc["measures"]
    out["share_proactive"] = share
    return out


def qca_calibration_table() -> pd.DataFrame:
    """The calibration rules of the QCA conditions and outcome, as a table."""
    return pd.DataFrame(
        {
            "set": [*QCA_CONDITIONS, QCA_OUTCOME],
            "role": ["condition"] * len(QCA_CONDITIONS) + ["outcome"],
            "membership = 1 when": [*QCA_CONDITIONS.values(), QCA_OUTCOME_RULE],
        }
    )


def config_label(values: Sequence, conditions: Sequence[str]) -> str:
    """QCA notation of a configuration or term: ``A*~B`` (``~`` = absent; ``-`` entries skipped)."""
    parts = [c if v == 1 else f"~{c}" for c, v in zip(conditions, values, strict=False) if v in (0, 1)]
    return "*".join(parts) if parts else "(tautology)"


def _check_crisp(crisp: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(crisp, pd.DataFrame):
        raise PolicyInputError("QCA: expected a DataFrame of crisp (0/1) set memberships.")
    missing = [c for c in columns if c not in crisp.columns]
    if missing:
        raise PolicyInputError(f"QCA: missing column(s) {missing}.")
    if crisp.empty:
        raise PolicyInputError("QCA: no cases.")
    sub = crisp[list(columns)]
    if sub.isna().any().any():
        col = sub.columns[sub.isna().any()].tolist()
        raise PolicyInputError(f"QCA: missing set membership in column(s) {col}; calibrate every case.")
    bad = [
        c
        for c in columns
        if not set(pd.unique(sub[c].astype(int) if pd.api.types.is_bool_dtype(sub[c]) else sub[c])) <= {0, 1}
    ]
    if bad:
        raise PolicyInputError(
            f"QCA: crisp-set memberships must be 0 or 1; column(s) {bad} hold other values."
        )
    return sub.astype(int)


def truth_table(
    crisp: pd.DataFrame,
    conditions: Sequence[str] = tuple(QCA_CONDITIONS),
    outcome: str = QCA_OUTCOME,
    consistency_threshold: float = QCA_CONSISTENCY_THRESHOLD,
    frequency_threshold: int = QCA_FREQUENCY_THRESHOLD,
) -> pd.DataFrame:
    """Crisp-set QCA truth table: one row per logically possible configuration (2^k).

    For each configuration: ``n`` cases, ``n_outcome`` cases with the outcome,
    ``consistency`` = n_outcome / n (the share of the configuration's cases that show the
    outcome), ``coverage`` = n_outcome / (all cases with the outcome), and ``status``:
    ``consistent`` (n >= frequency_threshold and consistency >= consistency_threshold; the
    configuration enters the minimisation with outcome 1), ``inconsistent`` (n >=
    frequency_threshold and consistency below the threshold; outcome 0), or ``remainder``
    (fewer cases than ``frequency_threshold``, including none: treated as unobserved, a
    logical remainder, whatever its few cases show; ``n`` and ``cases`` still list them).
    ``cases`` lists the case labels (index of ``crisp``).
    """
    conditions = list(conditions)
    if len(conditions) == 0 or len(set(conditions)) != len(conditions):
        raise PolicyInputError("QCA: give at least one condition, each once.")
    if outcome in conditions:
        raise PolicyInputError(f"QCA: the outcome {outcome!r} cannot also be a condition.")
    if not 0 < consistency_threshold <= 1:
        raise PolicyInputError(f"QCA: consistency_threshold must lie in (0, 1], got {consistency_threshold}.")
    if frequency_threshold < 1:
        raise PolicyInputError(f"QCA: frequency_threshold must be at least 1, got {frequency_threshold}.")
    sub = _check_crisp(crisp, [*conditions, outcome])
    total_outcome = int(sub[outcome].sum())
    rows = []
    for values in itertools.product([1, 0], repeat=len(conditions)):
        mask = (sub[conditions] == np.array(values)).all(axis=1)
        n, k = int(mask.sum()), int(sub.loc[mask, outcome].sum())
        consistency = k / n if n else np.nan
        if n < frequency_threshold:
            status = "remainder"
        elif tie_round(consistency) >= tie_round(consistency_threshold):
            status = "consistent"
        else:
            status = "inconsistent"
        rows.append(
            {
                **dict(zip(conditions, values, strict=False)),
                "configuration": config_label(values, conditions),
                "n": n,
                "n_outcome": k,
                "consistency": consistency,
                "coverage": k / total_outcome if total_outcome else np.nan,
                "status": status,
                "outcome": {"consistent": 1, "inconsistent": 0}.get(status, pd.NA),
                "cases": ", ".join(str(c) for c in sub.index[mask]),
            }
        )
    tt = pd.DataFrame(rows)
    tt["outcome"] = tt["outcome"].astype("Int64")
    order = {"consistent": 0, "inconsistent": 1, "remainder": 2}
    tt = tt.sort_values(
        by=["status", "consistency", "n"],
        key=lambda s: s.map(order) if s.name == "status" else s,
        ascending=[True, False, False],
        kind="stable",
    ).reset_index(drop=True)
    tt.attrs.update(
        {
            "conditions": conditions,
            "outcome": outcome,
            "consistency_threshold": consistency_threshold,
            "frequency_threshold": frequency_threshold,
            "cases_with_outcome": total_outcome,
            "cases": int(len(sub)),
        }
    )
    return tt


def _combine(a: tuple, b: tuple):
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    if len(diff) == 1 and a[diff[0]] is not None and b[diff[0]] is not None:
        return tuple(None if i == diff[0] else x for i, x in enumerate(a))
    return None


def _covers(term: tuple, minterm: tuple) -> bool:
    return all(t is None or t == m for t, m in zip(term, minterm, strict=False))


def prime_implicants(minterms: Iterable[tuple]) -> list[tuple]:
    """Quine-McCluskey: all prime implicants of a set of 0/1 configurations (``None`` = dash)."""
    current = {tuple(m) for m in minterms}
    primes: set[tuple] = set()
    while current:
        used, nxt = set(), set()
        items = sorted(current, key=lambda t: tuple(-1 if v is None else v for v in t))
        for a, b in itertools.combinations(items, 2):
            c = _combine(a, b)
            if c is not None:
                nxt.add(c)
                used.update([a, b])
        primes |= current - used
        current = nxt
    # A total order (1 before 0 before "free"), so the result never depends on set iteration
    # order, which varies between Python processes.
    return sorted(
        primes, key=lambda t: (sum(v is not None for v in t), tuple(2 if v is None else 1 - v for v in t))
    )


def minimise(tt: pd.DataFrame, conditions: Sequence[str] | None = None) -> list[list[str]]:
    """Conservative (complex) solution of a truth table: the consistent configurations are
    minimised by Quine-McCluskey without logical remainders; returns every minimal set of
    prime implicants that covers them (each as a list of terms in QCA notation), in a
    fixed order. An empty list means no configuration is consistent with the outcome."""
    conditions = list(conditions or tt.attrs.get("conditions") or [])
    if not conditions:
        raise PolicyInputError("minimise: conditions unknown; pass them or use the output of truth_table().")
    pos = [tuple(int(v) for v in row) for row in tt.loc[tt["status"] == "consistent", conditions].to_numpy()]
    if not pos:
        return []
    primes = prime_implicants(pos)
    for size in range(1, len(primes) + 1):
        sols = [
            combo
            for combo in itertools.combinations(primes, size)
            if all(any(_covers(p, m) for p in combo) for m in pos)
        ]
        if sols:
            return [[config_label(p, conditions) for p in combo] for combo in sols]
    raise AssertionError("unreachable: the prime implicants always cover the minterms")


def _term_membership(crisp: pd.DataFrame, term: str) -> pd.Series:
    member = pd.Series(True, index=crisp.index)
    for lit in term.split("*"):
        neg = lit.startswith("~")
        name = lit[1:] if neg else lit
        if name not in crisp.columns:
            raise PolicyInputError(f"QCA: term {term!r} uses unknown condition {name!r}.")
        member &= crisp[name].astype(int) == (0 if neg else 1)
    return member


def solution_fit(crisp: pd.DataFrame, terms: Sequence[str], outcome: str = QCA_OUTCOME) -> pd.DataFrame:
    """Consistency and coverage of each term of a solution and of the whole solution.

    Term rows: ``consistency`` = ``|term and outcome| / |term|``, ``raw_coverage`` =
    ``|term and outcome| / |outcome|``, ``unique_coverage`` = cases with the outcome covered by
    this term only, over ``|outcome|``; the last row (``term`` = ``solution``) is the union."""
    if not terms:
        raise PolicyInputError("solution_fit: the solution has no terms.")
    y = _check_crisp(crisp, [outcome])[outcome] == 1
    if not y.any():
        raise PolicyInputError("solution_fit: no case shows the outcome; coverage is undefined.")
    members = {t: _term_membership(crisp, t) for t in terms}
    rows = []
    for t, mem in members.items():
        others = pd.Series(False, index=crisp.index)
        for u, m2 in members.items():
            if u != t:
                others |= m2
        rows.append(
            {
                "term": t,
                "cases": int(mem.sum()),
                "cases_with_outcome": int((mem & y).sum()),
                "consistency": (mem & y).sum() / mem.sum() if mem.any() else np.nan,
                "raw_coverage": (mem & y).sum() / y.sum(),
                "unique_coverage": (mem & y & ~others).sum() / y.sum(),
                "localities": ", ".join(str(i) for i in crisp.index[mem & y]),
            }
        )
    sol = pd.Series(False, index=crisp.index)
    for mem in members.values():
        sol |= mem
    rows.append(
        {
            "term": "solution",
            "cases": int(sol.sum()),
            "cases_with_outcome": int((sol & y).sum()),
            "consistency": (sol & y).sum() / sol.sum() if sol.any() else np.nan,
            "raw_coverage": (sol & y).sum() / y.sum(),
            "unique_coverage": np.nan,
            "localities": ", ".join(str(i) for i in crisp.index[sol & y]),
        }
    )
    return pd.DataFrame(rows)


# ------------------------------------------------- QCA: the reporting standard
#: Directional expectations of the intermediate solution: each condition is expected to
#: contribute to a proactive policy when present (1), following the hypotheses of the
#: housing-employment page (size and capacity, a thriving economy, progressive politics).
QCA_EXPECTATIONS = {"MEDIUM": 1, "CAPACITY": 1, "THRIVING": 1, "PROGRESSIVE": 1}
#: Consistency of necessity at or above which a condition is called necessary.
QCA_NECESSITY_THRESHOLD = 0.9


def _parse_term(term: str, conditions: Sequence[str]) -> tuple:
    values = {}
    for lit in term.split("*"):
        neg = lit.startswith("~")
        name = lit[1:] if neg else lit
        if name not in conditions:
            raise PolicyInputError(f"QCA: term {term!r} uses unknown condition {name!r}.")
        values[name] = 0 if neg else 1
    return tuple(values.get(c) for c in conditions)


def necessity(
    crisp: pd.DataFrame,
    conditions: Sequence[str] = tuple(QCA_CONDITIONS),
    outcome: str = QCA_OUTCOME,
    threshold: float = QCA_NECESSITY_THRESHOLD,
) -> pd.DataFrame:
    """Analysis of necessity (Schneider and Wagemann 2012, ch. 9) for each condition and
    its negation: ``consistency`` = ``|X and Y| / |Y|`` (how far Y is a subset of X),
    ``coverage`` = ``|X and Y| / |X|``, and ``relevance`` (relevance of necessity, crisp
    form) = ``|not X| / |not (X and Y)|``: near 0 when X is nearly always present (trivially
    necessary). ``necessary`` when consistency >= ``threshold``."""
    conditions = list(conditions)
    sub = _check_crisp(crisp, [*conditions, outcome])
    y = sub[outcome] == 1
    if not y.any():
        raise PolicyInputError("necessity: no case shows the outcome; necessity is undefined.")
    rows = []
    for c in conditions:
        for label, x in ((c, sub[c] == 1), (f"~{c}", sub[c] == 0)):
            both = int((x & y).sum())
            not_both = int((~(x & y)).sum())
            rows.append(
                {
                    "condition": label,
                    "consistency": both / int(y.sum()),
                    "coverage": both / int(x.sum()) if x.any() else np.nan,
                    "relevance": int((~x).sum()) / not_both if not_both else np.nan,
                }
            )
    out = pd.DataFrame(rows)
    out["necessary"] = tie_round(out["consistency"]) >= tie_round(threshold)
    return out


def parsimonious(tt: pd.DataFrame, conditions: Sequence[str] | None = None) -> list[list[str]]:
    """Parsimonious solution: the consistent configurations minimised with every logical
    remainder as a "don't care" (any simplifying assumption allowed). Inconsistent
    configurations are never covered (a prime implicant of the consistent and remainder
    rows cannot contain an inconsistent row). Returns every minimal cover, like
    :func:`minimise`."""
    conditions = list(conditions or tt.attrs.get("conditions") or [])
    if not conditions:
        raise PolicyInputError(
            "parsimonious: conditions unknown; pass them or use the output of truth_table()."
        )
    pos = [tuple(int(v) for v in row) for row in tt.loc[tt["status"] == "consistent", conditions].to_numpy()]
    if not pos:
        return []
    rem = [tuple(int(v) for v in row) for row in tt.loc[tt["status"] == "remainder", conditions].to_numpy()]
    primes = [p for p in prime_implicants(pos + rem) if any(_covers(p, m) for m in pos)]
    for size in range(1, len(primes) + 1):
        sols = [
            combo
            for combo in itertools.combinations(primes, size)
            if all(any(_covers(p, m) for p in combo) for m in pos)
        ]
        if sols:
            return [[config_label(p, conditions) for p in combo] for combo in sols]
    raise AssertionError("unreachable: the prime implicants always cover the minterms")


def intermediate(
    complex_terms: Sequence[str],
    parsimonious_terms: Sequence[str],
    conditions: Sequence[str],
    expectations: dict | None = None,
) -> list[str]:
    """Intermediate solution (Ragin and Sonnett 2005): each complex term keeps the
    literals of a parsimonious term it contains and the literals in line with the
    directional ``expectations`` (condition -> 1 expected present, 0 expected absent);
    literals against the expectations are dropped (easy counterfactuals). Terms implied
    by another term are removed."""
    conditions = list(conditions)
    expectations = QCA_EXPECTATIONS if expectations is None else expectations
    unknown = sorted(set(expectations) - set(conditions))
    if unknown:
        raise PolicyInputError(f"intermediate: expectations name unknown conditions {unknown}.")
    pars = [_parse_term(t, conditions) for t in parsimonious_terms]
    out = []
    for term in complex_terms:
        c = _parse_term(term, conditions)
        inside = [p for p in pars if all(pv is None or pv == cv for pv, cv in zip(p, c, strict=False))]
        if not inside:
            out.append(c)
            continue
        p = inside[0]
        out.append(
            tuple(
                cv if cv is not None and (pv is not None or expectations.get(name) == cv) else None
                for cv, pv, name in zip(c, p, conditions, strict=False)
            )
        )
    unique = list(dict.fromkeys(out))
    # a term is redundant when another, more general term (a subset of its literals) is kept
    kept = [
        t
        for t in unique
        if not any(
            u != t and all(uv is None or uv == tv for uv, tv in zip(u, t, strict=False)) for u in unique
        )
    ]
    return [config_label(t, conditions) for t in kept]


def qca_solutions(
    crisp: pd.DataFrame,
    conditions: Sequence[str] = tuple(QCA_CONDITIONS),
    outcome: str = QCA_OUTCOME,
    consistency_threshold: float = QCA_CONSISTENCY_THRESHOLD,
    frequency_threshold: int = QCA_FREQUENCY_THRESHOLD,
    expectations: dict | None = None,
    negate: bool = False,
) -> dict:
    """The three solutions of a truth table: complex (conservative, no remainders),
    parsimonious (all remainders) and intermediate (easy counterfactuals only), each the
    first minimal cover, for the outcome or, with ``negate``, its absence (expectations
    reversed). Also the number of observed configurations and of contradictions
    (observed configurations whose cases disagree on the outcome, 0 < consistency < 1)."""
    conditions = list(conditions)
    data_ = _check_crisp(crisp, [*conditions, outcome]).copy()
    exp = dict(QCA_EXPECTATIONS if expectations is None else expectations)
    if negate:
        data_[outcome] = 1 - data_[outcome]
        exp = {k: 1 - v for k, v in exp.items()}
    tt = truth_table(data_, conditions, outcome, consistency_threshold, frequency_threshold)
    comp = minimise(tt, conditions)
    pars = parsimonious(tt, conditions)
    comp1, pars1 = (comp[0] if comp else []), (pars[0] if pars else [])
    inter = intermediate(comp1, pars1, conditions, exp) if comp1 else []
    observed = tt[tt["n"] > 0]
    return {
        "outcome": f"~{outcome}" if negate else outcome,
        "truth_table": tt,
        "complex": comp1,
        "parsimonious": pars1,
        "intermediate": inter,
        "n_complex_solutions": len(comp),
        "n_observed": int(len(observed)),
        "n_contradictions": int(((observed["consistency"] > 0) & (observed["consistency"] < 1)).sum()),
    }


def qca_robustness(
    df: pd.DataFrame | None = None,
    consistency_thresholds: Sequence[float] = (0.75, 0.8, 0.9, 1.0),
    frequency_thresholds: Sequence[int] = (1, 2),
    outcome_thresholds: Sequence[float] = (0.4, 0.5, 0.6),
) -> pd.DataFrame:
    """The complex and parsimonious solutions over a grid of consistency thresholds,
    frequency cut-offs and outcome calibrations (share of proactive measures needed for
    the outcome), one row per combination, with whether each term of the book's
    solution (default settings) appears."""
    pdf = _prepared(df)
    base = qca_solutions(qca_data(pdf))
    rows = []
    for ot in outcome_thresholds:
        crisp = qca_data(pdf, ot)
        for ct in consistency_thresholds:
            for ft in frequency_thresholds:
                sol = qca_solutions(crisp, consistency_threshold=ct, frequency_threshold=ft)
                rows.append(
                    {
                        "outcome_threshold": ot,
                        "consistency_threshold": ct,
                        "frequency_threshold": ft,
                        "cases_with_outcome": int(crisp[QCA_OUTCOME].sum()),
                        "complex": " + ".join(sol["complex"]) or "(none)",
                        "parsimonious": " + ".join(sol["parsimonious"]) or "(none)",
                        "baseline_terms_kept": sum(t in sol["complex"] for t in base["complex"]),
                        "same_as_baseline": sol["complex"] == base["complex"],
                    }
                )
    out = pd.DataFrame(rows)
    out.attrs["baseline_terms"] = len(base["complex"])
    return out


# ------------------------------------------------------------ Ward clustering
#: Coding of the clustering profile: one value per policy area.
PROFILE_CODING = {"none": 0.0, "reactive": 0.5, "proactive": 1.0}


def policy_profile(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Localities x areas profile for clustering: approach coded none 0, reactive 0.5,
    proactive 1 (:data:`PROFILE_CODING`), so every area weighs the same and a proactive
    measure counts twice as much as a reactive one."""
    return (
        approach_matrix(df).replace({v: PROFILE_CODING[k] for k, v in APPROACH_CODES.items()}).astype(float)
    )


def silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette width (Rousseeuw 1987) from a square distance matrix; a case
    alone in its cluster has width 0."""
    labels = np.asarray(labels)
    uniq = np.unique(labels)
    if len(uniq) < 2 or len(uniq) >= len(labels):
        raise ValueError("silhouette needs between 2 and n - 1 clusters.")
    widths = np.zeros(len(labels))
    for i in range(len(labels)):
        own = labels == labels[i]
        if own.sum() == 1:
            continue
        a = dist[i, own].sum() / (own.sum() - 1)
        b = min(dist[i, labels == c].mean() for c in uniq if c != labels[i])
        widths[i] = 0.0 if max(a, b) == 0 else (b - a) / max(a, b)
    return float(widths.mean())


def silhouette_reading(width: float) -> str:
    """Conventional reading of a mean silhouette width (Kaufman and Rousseeuw 1990):
    above 0.70 strong, above 0.50 reasonable, above 0.25 weak structure, otherwise no
    substantial structure."""
    if not np.isfinite(width):
        raise ValueError("silhouette_reading: the width must be a finite number.")
    if width > 0.70:
        return "a strong structure"
    if width > 0.50:
        return "a reasonable structure"
    if width > 0.25:
        return "a weak structure that could be artificial"
    return "no substantial structure: the types overlap and summarise the variation rather than reveal natural groups"


@dataclass
class Typology:
    """Result of :func:`ward_typology`."""

    profile: pd.DataFrame
    linkage: np.ndarray
    k: int
    silhouettes: pd.DataFrame
    labels: pd.Series
    rule: str = field(default="")


def ward_typology(profile: pd.DataFrame | None = None, k_values: Iterable[int] = range(2, 7)) -> Typology:
    """Ward hierarchical clustering (Euclidean distance) of the locality policy profile.

    Number of types: the k in ``k_values`` with the largest mean silhouette width (ties:
    the smaller k). Types are numbered 1, 2, ... from the highest to the lowest mean
    profile score (type 1 has the most developed, most proactive policies).
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist, squareform

    prof = policy_profile() if profile is None else profile
    if prof.isna().any().any():
        raise PolicyInputError("ward_typology: the profile has missing values.")
    k_values = sorted(set(int(k) for k in k_values))
    if not k_values or k_values[0] < 2 or k_values[-1] >= len(prof):
        raise PolicyInputError(
            f"ward_typology: k must lie between 2 and n - 1 = {len(prof) - 1}; got {k_values}."
        )
    X = prof.to_numpy(float)
    d = pdist(X, metric="euclidean")
    Z = linkage(d, method="ward")
    D = squareform(d)
    sil = []
    for k in k_values:
        lab = fcluster(Z, t=k, criterion="maxclust")
        sil.append(
            {
                "k": k,
                "clusters_formed": len(np.unique(lab)),
                "silhouette": silhouette(D, lab) if 2 <= len(np.unique(lab)) < len(lab) else np.nan,
            }
        )
    sil = pd.DataFrame(sil)
    best = sil.loc[first_max(sil["silhouette"])]
    k = int(best["k"])
    raw = pd.Series(fcluster(Z, t=k, criterion="maxclust"), index=prof.index)
    means = tie_round(prof.mean(axis=1).groupby(raw).mean()).sort_values(ascending=False, kind="stable")
    relabel = {old: new for new, old in enumerate(means.index, start=1)}
    labels = raw.map(relabel).rename("type")
    rule = (
        f"Ward linkage on Euclidean distances between profiles; k chosen among {k_values} as the one with "
        "the largest mean silhouette width (ties: smaller k)."
    )
    return Typology(profile=prof, linkage=Z, k=k, silhouettes=sil, labels=labels, rule=rule)


def typology_summary(typ: Typology, df: pd.DataFrame | None = None, majority: float = 0.5) -> pd.DataFrame:
    """One row per type: its localities (codes), size, mean number of measures and share
    proactive, structural make-up (shares of medium towns, localities with staff,
    improving economy, progressive government) and what characterises its policies:
    areas where more than ``majority`` of its members are proactive, and areas where more
    than ``majority`` have no measure."""
    loc = locality_summary(df).set_index("locality_id")
    missing = sorted(set(typ.labels.index) - set(loc.index))
    if missing:
        raise PolicyInputError(
            f"typology_summary: localities {missing} of the typology are not in the policy data."
        )
    mat = approach_matrix(df)
    rows = []
    for t, members in typ.labels.groupby(typ.labels):
        ids = list(members.index)
        sub, m = loc.loc[ids], mat.loc[ids]
        proactive = [
            AREA_LABELS.get(a, a)
            for a in m.columns
            if (m[a] == APPROACH_CODES["proactive"]).mean() > majority
        ]
        absent = [
            AREA_LABELS.get(a, a) for a in m.columns if (m[a] == APPROACH_CODES["none"]).mean() > majority
        ]
        rows.append(
            {
                "type": int(t),
                "localities": len(ids),
                "members": ", ".join(ids),
                "mean_measures": sub["measures"].mean(),
                "share_proactive_pct": 100 * sub["proactive_measures"].sum() / max(sub["measures"].sum(), 1),
                "medium_towns": int((sub["size_class"].astype(str) == "medium_town").sum()),
                "rural_areas": int((sub["size_class"].astype(str) == "rural_area").sum()),
                "with_staff": int(sub["dedicated_staff_any"].sum()),
                "medium_town_pct": 100 * (sub["size_class"].astype(str) == "medium_town").mean(),
                "rural_area_pct": 100 * (sub["size_class"].astype(str) == "rural_area").mean(),
                "staff_pct": 100 * sub["dedicated_staff_any"].mean(),
                "improving_pct": 100 * (sub["economic_trend"].astype(str) == "improving").mean(),
                "progressive_pct": 100 * (sub["political_orientation"].astype(str) == "progressive").mean(),
                "mostly_proactive_in": "; ".join(proactive) if proactive else "no area",
                "mostly_without_measures_in": "; ".join(absent) if absent else "no area",
            }
        )
    return pd.DataFrame(rows)


def typology_stability(typ: Typology, n_boot: int = 200, seed: int = 20240517) -> pd.DataFrame:
    """Clusterwise stability of a typology (Hennig 2007): the localities are resampled
    with replacement ``n_boot`` times, Ward clustering with the same number of types is
    repeated on each sample, and each original type is compared with its most similar
    bootstrap cluster by the Jaccard similarity (over the localities drawn). Returns per
    type: localities, mean Jaccard, and the share of samples in which the type dissolves
    (Jaccard at most 0.5); Hennig reads a mean below 0.6 as unstable and 0.75 or more as
    stable."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if n_boot < 1:
        raise PolicyInputError(f"typology_stability: n_boot must be at least 1, got {n_boot}.")
    X = typ.profile.to_numpy(float)
    labels = typ.labels.reindex(typ.profile.index).to_numpy()
    n = len(X)
    rng = np.random.default_rng(seed)
    types = sorted(np.unique(labels))
    jac = {t: [] for t in types}
    for _ in range(n_boot):
        idx = rng.integers(0, n, size=n)
        uniq = np.unique(idx)
        if len(uniq) <= typ.k:
            continue
        # cluster the distinct localities drawn, each with its multiplicity as repeated rows
        lab_b = fcluster(linkage(X[idx], method="ward"), t=typ.k, criterion="maxclust")
        first = {i: lab_b[np.flatnonzero(idx == i)[0]] for i in uniq}
        boot = np.array([first[i] for i in uniq])
        orig = labels[uniq]
        for t in types:
            a = orig == t
            if not a.any():
                continue
            best = max(((a & (boot == c)).sum() / (a | (boot == c)).sum()) for c in np.unique(boot))
            jac[t].append(best)
    rows = [
        {
            "type": int(t),
            "localities": int((labels == t).sum()),
            "mean_jaccard": float(np.mean(v)),
            "dissolved_pct": 100 * float(np.mean(np.array(v) <= 0.5)),
            "samples": len(v),
        }
        for t, v in jac.items()
    ]
    return pd.DataFrame(rows)
