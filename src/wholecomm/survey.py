"""The survey of long-term residents: recoding, weights, design-based estimates, scales,
contact, awareness and a multilevel model of attitudes.

Coding rules
------------
* **Non-substantive answers.** Codes 8 (don't know) and 9 (refused) are missing values,
  never scale points: they never enter a mean, a share or a model. An empty attitude,
  contact or trust answer is not allowed (the schema requires them) and raises an error;
  ``impact_measures`` is empty by routing for respondents not aware of any measure.
* **Reversed item.** ``att_services`` ("newcomers put too much pressure on local
  services") is negatively worded; in the attitude index it is reversed (``6 - x``) so
  that, for every item, higher means more positive towards newcomers.
* **Attitude index.** Mean of the six recoded items over the substantive answers, when at
  least 4 of the 6 are substantive; otherwise missing.
* **Item missingness in estimates.** A respondent whose value is missing (non-substantive
  or below the index's answer threshold) is left out of that estimate only; ``n`` in every
  result table counts the respondents the estimate rests on. Nothing is imputed.

Weights
-------
:func:`rake` adjusts each respondent's ``design_weight`` within each locality so that the
weighted sample reproduces that locality's adult population by age group, by gender and
by education (one-way margins summed from ``population_margins``), by iterative
proportional fitting. The design weights are first scaled to the locality's population
total; the adjustment factor of a respondent is ``g = final weight / scaled design
weight``. With trimming, factors outside ``trim`` are set to the bound after every
raking cycle and the other weights are raked again (bounded raking), until the margins
hold to ``tol`` (relative) and every factor lies within the bounds. If that does not
happen within ``max_iter`` cycles, or the margins cannot be met (a margin category with
population but no respondents), it raises; :func:`rake_with_fallback` (used by
:func:`analysis_frame`) then collapses categories or keeps design weights for that
locality only, and reports which localities and why. Everything is vectorised over respondents
and localities (``numpy.bincount``), so a million respondents rake in seconds.

Estimates and their uncertainty
-------------------------------
Localities were chosen purposively (five per country) and residents were sampled within
each of them, so localities are **strata**, not sampled clusters: inference is about the
residents of the studied localities, and between-locality variation is not sampling
error. Respondents are the sampling units within strata (with-replacement approximation,
no finite population correction). Standard errors use **Taylor linearisation** of the
ratio (weighted mean) estimator with domain estimation for subgroups; confidence
intervals use Student's t with (respondents - strata) degrees of freedom; intervals for
proportions are computed on the logit scale so that they stay within 0 and 1 (an
estimate of exactly 0 or 1 gets a zero-width interval). A domain with answers in a
stratum of a single respondent has no estimable variance: its se and CI are NaN.
Differences between estimates from disjoint sets of localities (:func:`difference`) add
the variances; a difference within the same respondents is estimated as the weighted
mean of the per-respondent difference, which keeps their covariance.

How localities are pooled is a choice, made explicit by ``pooling``:

* ``"weights"`` uses the weights as given: with raked weights each locality counts in
  proportion to its adult population, so pooled estimates would be dominated by the few
  medium-sized towns;
* ``"equal"`` (used by this chapter's summaries, ``POOLING``) rescales each
  locality's weights to sum to one, so every studied locality counts equally: a pooled
  estimate describes the average studied locality, in keeping with the comparative
  design. Within a single locality both give the same estimate.

Disclosure control
------------------
Every locality-level table (:func:`locality_outcomes`, :func:`weight_diagnostics`) passes
through :func:`wholecomm.data.suppress_small_cells` (at least
:data:`wholecomm.data.MIN_CELL_DEFAULT` respondents).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit, logit

from . import data, numerics

# ------------------------------------------------------------------- constants
ATTITUDE_ITEMS = ["att_economy", "att_culture", "att_welcome", "att_services", "att_neighbour", "att_belong"]
REVERSED_ITEMS = ("att_services",)
DONT_KNOW, REFUSED = 8, 9
NON_SUBSTANTIVE = (DONT_KNOW, REFUSED)
LIKERT_POINTS = (1, 2, 3, 4, 5)
MIN_ITEMS = 4
#: Default bounds of the raking adjustment factor (see :func:`rake`).
TRIM = (0.2, 5.0)
CONTACT_SETTINGS = [*data.CONTACT_SETTINGS, "none"]
ASSOCIATIONAL_SETTINGS = ("hobby", "sports", "leisure")
RAKING_VARIABLES = ("age_group", "gender", "education")
MODEL_COVARIATES = ("age_group", "gender", "education")
POOLING = "equal"
GROUPINGS = ("overall", "country", "size_class", "locality_type")

ITEM_LABELS = {
    "att_economy": "Good for the local economy",
    "att_culture": "Enrich cultural life",
    "att_welcome": "Town should welcome more",
    "att_services": "Too much pressure on services (negative wording)",
    "att_neighbour": "Happy to have as neighbours",
    "att_belong": "Can become full members",
}
RESPONSE_LABELS = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither",
    4: "Agree",
    5: "Strongly agree",
    DONT_KNOW: "Don't know",
    REFUSED: "Refused",
}
SETTING_LABELS = {
    "work": "Work",
    "neighbourhood": "Neighbourhood",
    "hobby": "Hobby association",
    "sports": "Sports club",
    "leisure": "Organised leisure",
    "school": "School or childcare",
    "religious": "Religious community",
    "none": "No regular contact",
}
OVERALL_LABEL = "All localities"
VARIABLE_LABELS = {"age_group": "Age", "gender": "Gender", "education": "Education"}


# ----------------------------------------------------------------- validation
def _require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{what} lacks column(s) {missing}; it has {list(frame.columns)}.")


def _first_ids(frame: pd.DataFrame, mask, k: int = 5) -> str:
    mask = np.asarray(mask, dtype=bool)
    if "respondent_id" in frame.columns:
        ids = frame.loc[mask, "respondent_id"].head(k).tolist()
        return f"respondent_id {ids}"
    return f"rows {list(frame.index[mask][:k])}"


def _enum(resource: str, column: str) -> list:
    for fld in data.resource_descriptor(resource)["schema"]["fields"]:
        if fld["name"] == column:
            return list(fld.get("constraints", {}).get("enum", []))
    raise KeyError(f"No column {column!r} in resource {resource!r}.")


def _as_categorical(values: pd.Series, categories: Sequence, column: str, what: str) -> pd.Categorical:
    """Values as a categorical with ``categories`` (in that order); unknown or empty values raise.

    A column that already is a categorical with these categories (as :func:`wholecomm.data.load`
    returns enumerated fields) is taken as it is: only its codes are checked."""
    cats = [str(c) for c in categories]
    if isinstance(values.dtype, pd.CategoricalDtype) and [str(c) for c in values.cat.categories] == cats:
        codes = values.cat.codes.to_numpy()
        if (codes < 0).any():
            raise ValueError(
                f"{what}: column {column!r} has {int((codes < 0).sum())} empty value(s); "
                "it must be given for every row."
            )
        return pd.Categorical.from_codes(codes, categories=cats)
    raw = values.astype("object") if isinstance(values.dtype, pd.CategoricalDtype) else values
    if raw.isna().any():
        raise ValueError(
            f"{what}: column {column!r} has {int(raw.isna().sum())} empty value(s); "
            "it must be given for every row."
        )
    unknown = sorted(set(pd.unique(raw.astype(str))) - {str(c) for c in categories})
    if unknown:
        raise ValueError(
            f"{what}: column {column!r} has unknown categor{'y' if len(unknown) == 1 else 'ies'} "
            f"{unknown}; allowed: {list(categories)}."
        )
    return pd.Categorical(raw.astype(str), categories=[str(c) for c in categories])


def _coded(
    frame: pd.DataFrame, column: str, allowed: Sequence[int], what: str, allow_empty: bool = False
) -> np.ndarray:
    """An integer-coded answer column as float; codes outside ``allowed`` raise."""
    col = frame[column]
    empty = col.isna().to_numpy()
    if empty.any() and not allow_empty:
        raise ValueError(
            f"{what}: column {column!r} is empty for {int(empty.sum())} respondent(s) "
            f"({_first_ids(frame, empty)}); every respondent must have a code."
        )
    values = pd.to_numeric(col, errors="raise").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~empty & ~np.isin(values, np.asarray(allowed, dtype=float))
    if bad.any():
        found = sorted(pd.unique(values[bad]).tolist())[:10]
        raise ValueError(
            f"{what}: column {column!r} has code(s) {found} outside the allowed codes "
            f"{list(allowed)} ({_first_ids(frame, bad)})."
        )
    return values


def _substantive(values: np.ndarray) -> np.ndarray:
    """Non-substantive codes (8, 9) and empty cells become NaN."""
    out = values.copy()
    out[np.isin(out, NON_SUBSTANTIVE)] = np.nan
    return out


# ------------------------------------------------------------------ recoding
def recode_items(sv: pd.DataFrame) -> pd.DataFrame:
    """The six attitude items, recoded: 8/9 -> NaN, ``att_services`` reversed (6 - x).

    Higher is more positive towards newcomers for every item. Codes other than 1-5, 8, 9
    raise.
    """
    _require_columns(sv, ATTITUDE_ITEMS, "The survey frame")
    out = {}
    for item in ATTITUDE_ITEMS:
        values = _substantive(_coded(sv, item, [*LIKERT_POINTS, *NON_SUBSTANTIVE], "Attitude items"))
        out[item] = 6 - values if item in REVERSED_ITEMS else values
    return pd.DataFrame(out, index=sv.index)


def attitude_index(sv: pd.DataFrame, min_items: int = MIN_ITEMS) -> pd.Series:
    """Attitude towards newcomers (1 = most negative ... 5 = most positive).

    Mean of the six recoded items (see :func:`recode_items`) over the substantive answers;
    NaN when fewer than ``min_items`` of the six are substantive.
    """
    if not 1 <= min_items <= len(ATTITUDE_ITEMS):
        raise ValueError(f"min_items must be between 1 and {len(ATTITUDE_ITEMS)}, got {min_items}.")
    items = recode_items(sv).to_numpy()
    answered = np.isfinite(items).sum(axis=1)
    with np.errstate(invalid="ignore"):
        total = np.nansum(items, axis=1)
        index = np.where(answered >= min_items, total / np.maximum(answered, 1), np.nan)
    return pd.Series(index, index=sv.index, name="attitude_index")


# -------------------------------------------------------------------- weights
def _check_weights(w: np.ndarray, frame: pd.DataFrame, name: str) -> None:
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise ValueError(
            f"Weights ({name}) must be positive and finite: {int(bad.sum())} are not "
            f"({_first_ids(frame, bad)})."
        )


def _margin_categories(margins: pd.DataFrame, var: str) -> list[str]:
    col = margins[var]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [str(c) for c in col.cat.categories]
    return [str(c) for c in _enum("population_margins", var)]


def rake(
    sv: pd.DataFrame,
    margins: pd.DataFrame,
    max_iter: int = 100,
    tol: float = 1e-6,
    trim: tuple[float, float] | None = TRIM,
) -> pd.Series:
    """Raked weights: ``design_weight`` adjusted within each locality to the locality's
    population by age group, gender and education (see the module docstring).

    ``margins`` has one row per locality and age x gender x education cell (columns
    locality_id, age_group, gender, education, population), like the resource
    ``population_margins``. ``trim = (low, high)`` bounds the adjustment factor
    ``g = weight / (design weight scaled to the locality total)``; ``None`` disables it.
    Returns a Series named ``weight`` aligned with ``sv``; each locality's weights sum to
    its adult population.
    """
    _require_columns(sv, ["locality_id", "design_weight", *RAKING_VARIABLES], "The survey frame")
    _require_columns(margins, ["locality_id", *RAKING_VARIABLES, "population"], "The population margins")
    if len(sv) == 0:
        raise ValueError("The survey frame has no respondents to weight.")
    if max_iter < 1 or not tol > 0:
        raise ValueError(f"max_iter must be >= 1 and tol > 0 (got {max_iter}, {tol}).")
    if trim is not None:
        lo_b, hi_b = (float(t) for t in trim)
        if not (0 < lo_b <= 1 <= hi_b):
            raise ValueError(f"trim bounds must satisfy 0 < low <= 1 <= high, got {trim}.")
    d = sv["design_weight"].astype("float64").to_numpy()
    _check_weights(d, sv, "design_weight")
    pop = margins["population"].astype("float64").to_numpy()
    if not np.all(np.isfinite(pop) & (pop >= 0)):
        raise ValueError(
            "Population margins: column 'population' must be non-negative and given for every cell."
        )

    # Localities in order of first appearance; factorize hashes the values once (no text copies).
    r_loc, uniques = pd.factorize(sv["locality_id"], use_na_sentinel=False)
    loc_ids = pd.Index(np.asarray(uniques, dtype=object).astype(str))
    m_loc = margins["locality_id"].astype(str)
    missing = sorted(set(loc_ids) - set(m_loc))
    if missing:
        raise ValueError(
            f"Population margins are missing for localit{'y' if len(missing) == 1 else 'ies'} "
            f"{missing}: every locality with respondents needs its margins."
        )
    keep = m_loc.isin(loc_ids).to_numpy()
    L = len(loc_ids)
    m_idx = loc_ids.get_indexer(m_loc[keep])
    m_pop = pop[keep]
    total = np.bincount(m_idx, weights=m_pop, minlength=L)
    if np.any(total <= 0):
        raise ValueError(f"Population margins sum to zero for {list(loc_ids[total <= 0])}.")

    index_of, targets, sizes = [], [], []
    for var in RAKING_VARIABLES:
        cats = _margin_categories(margins, var)
        r_cat = _as_categorical(sv[var], cats, var, "The survey frame").codes.astype(np.int64)
        m_cat = _as_categorical(margins.loc[keep, var], cats, var, "The population margins").codes.astype(
            np.int64
        )
        K = len(cats)
        target = np.bincount(m_idx * K + m_cat, weights=m_pop, minlength=L * K)
        count = np.bincount(r_loc * K + r_cat, minlength=L * K)
        empty = (target > 0) & (count == 0)
        if empty.any():
            bad = [f"{loc_ids[i // K]} {var}={cats[i % K]}" for i in np.flatnonzero(empty)[:10]]
            raise ValueError(
                f"Cannot rake: no respondents in margin cell(s) with population {bad}. "
                "Collapse categories or supply other margins."
            )
        zero = (target == 0) & (count > 0)
        if zero.any():
            bad = [f"{loc_ids[i // K]} {var}={cats[i % K]}" for i in np.flatnonzero(zero)[:10]]
            raise ValueError(f"Cannot rake: respondents in margin cell(s) with zero population {bad}.")
        index_of.append(r_loc * K + r_cat)
        targets.append(target)
        sizes.append(K)

    base = d * (total / np.bincount(r_loc, weights=d, minlength=L))[r_loc]
    w = base.copy()

    def worst_error(weights: np.ndarray) -> float:
        err = 0.0
        for idx, target in zip(index_of, targets, strict=False):
            cur = np.bincount(idx, weights=weights, minlength=target.size)
            pos = target > 0
            err = max(err, float(np.max(np.abs(cur[pos] - target[pos]) / target[pos])))
        return err

    for _ in range(max_iter):
        for idx, target in zip(index_of, targets, strict=False):
            cur = np.bincount(idx, weights=w, minlength=target.size)
            factor = np.divide(target, cur, out=np.ones_like(target), where=cur > 0)
            w *= factor[idx]
        if trim is not None:
            w = base * np.clip(w / base, lo_b, hi_b)
        if worst_error(w) < tol:
            break
    else:
        raise RuntimeError(
            f"Raking did not converge in {max_iter} cycles (largest relative margin error "
            f"{worst_error(w):.2e}, tolerance {tol:.0e})"
            + (f"; the trimming bounds {trim} may be too tight for these data." if trim is not None else ".")
        )
    return pd.Series(w, index=sv.index, name="weight")


def weight_diagnostics(sv: pd.DataFrame, weights, min_n: int = data.MIN_CELL_DEFAULT) -> pd.DataFrame:
    """Per locality: respondents ``n``, Kish effective sample size ``n_eff = (sum w)^2 /
    sum w^2``, design effect due to weighting ``deff = n / n_eff``, and the smallest and
    largest adjustment factor (weight / design weight scaled to the locality total).

    Indexed by locality_id; passed through disclosure control (count column ``n``).
    """
    _require_columns(sv, ["locality_id", "design_weight"], "The survey frame")
    w = _weights(sv, weights)
    d = sv["design_weight"].astype("float64").to_numpy()
    _check_weights(d, sv, "design_weight")
    frame = pd.DataFrame(
        {"locality_id": sv["locality_id"].astype(str).to_numpy(), "w": w, "w2": w * w, "d": d}
    )
    g = frame.groupby("locality_id", sort=True)
    out = pd.DataFrame({"n": g.size(), "sum_w": g["w"].sum(), "sum_w2": g["w2"].sum(), "sum_d": g["d"].sum()})
    out["n_eff"] = out["sum_w"] ** 2 / out["sum_w2"]
    out["deff"] = out["n"] / out["n_eff"]
    frame["g"] = frame["w"] / (frame["d"] * frame["locality_id"].map(out["sum_w"] / out["sum_d"]).to_numpy())
    out["factor_min"] = frame.groupby("locality_id", sort=True)["g"].min()
    out["factor_max"] = frame.groupby("locality_id", sort=True)["g"].max()
    out = out[["n", "n_eff", "deff", "factor_min", "factor_max"]]
    out = data.suppress_small_cells(out, "n", min_n)
    out["n"] = out["n"].astype("Int64")
    return out


# ----------------------------------------------------------------- estimation
def _weights(df: pd.DataFrame, weights) -> np.ndarray:
    if isinstance(weights, str):
        _require_columns(df, [weights], "The frame")
        w = df[weights].astype("float64").to_numpy()
        name = weights
    else:
        w = np.asarray(weights, dtype="float64")
        name = "weights"
        if w.shape != (len(df),):
            raise ValueError(f"weights must have one value per row ({len(df)}), got shape {w.shape}.")
    _check_weights(w, df, name)
    return w


def _values(df: pd.DataFrame, value: str, proportion: bool) -> np.ndarray:
    _require_columns(df, [value], "The frame")
    col = df[value]
    if col.dtype == bool or str(col.dtype) == "boolean":
        y = col.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    else:
        try:
            y = pd.to_numeric(col, errors="raise").astype("float64").to_numpy()
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Column {value!r} must be numeric or boolean to be estimated ({exc})."
            ) from None
    if np.isinf(y).any():
        raise ValueError(f"Column {value!r} has infinite values.")
    if proportion:
        bad = np.isfinite(y) & ~np.isin(y, (0.0, 1.0))
        if bad.any():
            raise ValueError(
                f"A proportion needs 0/1 or true/false values; column {value!r} has "
                f"{sorted(pd.unique(y[bad]).tolist())[:5]} ({_first_ids(df, bad)})."
            )
    return y


def _estimate(
    df: pd.DataFrame, value: str, weights, by, ci: float, strata: str | None, pooling: str, proportion: bool
) -> pd.DataFrame:
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci}.")
    if pooling not in ("weights", "equal"):
        raise ValueError(f"pooling must be 'weights' or 'equal', got {pooling!r}.")
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    _require_columns(df, by_cols, "The frame")
    y = _values(df, value, proportion)
    w = _weights(df, weights)
    n_rows = len(df)
    if strata is None:
        h = np.zeros(n_rows, dtype=np.int64)
    else:
        _require_columns(df, [strata], "The frame")
        if df[strata].isna().any():
            raise ValueError(f"Stratum column {strata!r} is empty for some rows.")
        h = pd.factorize(df[strata], sort=True)[0].astype(np.int64)
    H = int(h.max()) + 1 if n_rows else 0
    n_h = np.bincount(h, minlength=H).astype(float)
    if pooling == "equal":
        w = w / np.bincount(h, weights=w, minlength=H)[h]

    if by_cols:
        for c in by_cols:
            if df[c].isna().any():
                raise ValueError(
                    f"Grouping column {c!r} is empty for {int(df[c].isna().sum())} rows; "
                    "assign them a category first."
                )
        grouped = df.groupby(by_cols, observed=True, sort=True)
        g = grouped.ngroup().to_numpy().astype(np.int64)
        keys = grouped.size().index
        groups = (
            keys.to_frame(index=False)
            if isinstance(keys, pd.MultiIndex)
            else pd.DataFrame({by_cols[0]: keys})
        )
    else:
        g = np.zeros(n_rows, dtype=np.int64)
        groups = pd.DataFrame(index=[0])
    G = len(groups)

    valid = np.isfinite(y)
    yv = np.where(valid, y, 0.0)
    wv = np.where(valid, w, 0.0)
    W = np.bincount(g, weights=wv, minlength=G)
    n = np.bincount(g, weights=valid.astype(float), minlength=G)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = np.bincount(g, weights=wv * yv, minlength=G) / W
        z = np.where(valid, wv * (yv - R[g]) / W[g], 0.0)
    cell = g * H + h
    s1 = np.bincount(cell, weights=z, minlength=G * H).reshape(G, H)
    s2 = np.bincount(cell, weights=z * z, minlength=G * H).reshape(G, H)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n_h > 1, n_h / (n_h - 1), np.nan)
        contrib = factor[None, :] * (s2 - s1 * s1 / n_h[None, :])
    # A domain with valid answers in a stratum of a single respondent has no estimable
    # variance: its se (and CI) is NaN rather than an understatement.
    used = np.bincount(cell, weights=(valid & (wv > 0)).astype(float), minlength=G * H).reshape(G, H) > 0
    var = np.where(used, contrib, 0.0).sum(axis=1)
    var[(used & (n_h <= 1)[None, :]).any(axis=1)] = np.nan
    se = np.sqrt(np.clip(var, 0.0, None))
    dof = n_rows - H
    q = stats.t.ppf(0.5 + ci / 2, dof) if dof >= 1 else stats.norm.ppf(0.5 + ci / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        if proportion:
            inside = (R > 0) & (R < 1)
            half = np.where(inside, q * se / (R * (1 - R)), 0.0)
            lg = logit(np.clip(R, 1e-12, 1 - 1e-12))
            lo = np.where(inside, expit(lg - half), R)
            hi = np.where(inside, expit(lg + half), R)
        else:
            lo, hi = R - q * se, R + q * se
    out = groups.copy()
    out["estimate"] = R
    out["se"] = se
    out["lo"] = lo
    out["hi"] = hi
    out["n"] = n.astype(np.int64)
    empty = n == 0
    out.loc[empty, ["estimate", "se", "lo", "hi"]] = np.nan
    return out.reset_index(drop=True)


def weighted_mean(
    df: pd.DataFrame,
    value: str,
    weights,
    by=None,
    ci: float = 0.95,
    strata: str | None = "locality_id",
    pooling: str = "weights",
) -> pd.DataFrame:
    """Weighted mean of ``value`` (overall or by the ``by`` column(s)) with a design-based CI.

    ``weights``: a column name or one value per row (positive). Taylor linearisation with
    ``strata`` as strata (``None``: one stratum); see the module docstring for the design
    and for ``pooling``. Missing values are left out (``n`` counts the rest). Returns a tidy
    frame: the ``by`` columns, estimate, se, lo, hi, n.
    """
    return _estimate(df, value, weights, by, ci, strata, pooling, proportion=False)


def weighted_proportion(
    df: pd.DataFrame,
    value: str,
    weights,
    by=None,
    ci: float = 0.95,
    strata: str | None = "locality_id",
    pooling: str = "weights",
) -> pd.DataFrame:
    """Weighted share of respondents with ``value`` true (or 1), like :func:`weighted_mean`,
    with the interval computed on the logit scale. Values must be 0/1 or boolean (missing
    allowed and left out)."""
    return _estimate(df, value, weights, by, ci, strata, pooling, proportion=True)


def difference(a: pd.Series, b: pd.Series, ci: float = 0.95) -> dict:
    """Difference ``a - b`` of two estimates from **disjoint sets of strata** (independent),
    each a row with estimate and se; normal-approximation CI."""
    est = float(a["estimate"] - b["estimate"])
    se = float(np.hypot(a["se"], b["se"]))
    q = stats.norm.ppf(0.5 + ci / 2)
    return {"estimate": est, "se": se, "lo": est - q * se, "hi": est + q * se}


def by_groups(
    frame: pd.DataFrame,
    value: str,
    kind: str = "mean",
    groupings: Sequence[str] = GROUPINGS,
    weights: str = "weight",
    pooling: str = POOLING,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Estimates of ``value`` overall and by each grouping column, stacked in one tidy frame
    with columns grouping, group, estimate, se, lo, hi, n. ``kind``: "mean" or "proportion"."""
    if kind not in ("mean", "proportion"):
        raise ValueError(f"kind must be 'mean' or 'proportion', got {kind!r}.")
    fn = weighted_mean if kind == "mean" else weighted_proportion
    parts = []
    for grouping in groupings:
        if grouping == "overall":
            est = fn(frame, value, weights, None, ci, pooling=pooling).assign(group=OVERALL_LABEL)
        else:
            est = fn(frame, value, weights, grouping, ci, pooling=pooling).rename(columns={grouping: "group"})
            est["group"] = est["group"].astype(str)
        parts.append(est.assign(grouping=grouping))
    out = pd.concat(parts, ignore_index=True)
    return out[["grouping", "group", "estimate", "se", "lo", "hi", "n"]]


# ----------------------------------------------------------------- the frame
def _collapse_groups(cats: list[str], respondents: np.ndarray, population: np.ndarray) -> list[list[str]]:
    """The documented collapsing rule: walk a raking variable's categories in their order
    and join each category to the next until the group has both respondents and
    population; a last group lacking either joins the group before it."""
    groups: list[list[str]] = []
    current: list[str] = []
    n = p = 0.0
    for cat, r, q in zip(cats, respondents, population, strict=False):
        current.append(cat)
        n, p = n + r, p + q
        if n > 0 and p > 0:
            groups.append(current)
            current, n, p = [], 0.0, 0.0
    if current:
        if groups:
            groups[-1] += current
        else:
            groups.append(current)
    return groups


def rake_with_fallback(
    sv: pd.DataFrame,
    margins: pd.DataFrame,
    max_iter: int = 100,
    tol: float = 1e-6,
    trim: tuple[float, float] | None = TRIM,
) -> tuple[pd.Series, pd.DataFrame]:
    """Raked weights that one locality's data can never stop: :func:`rake` for every
    locality whose sample reaches its margins, and for the others, locality by locality:

    1. **collapse**: a margin category with population but no respondents (or
       respondents but no population) is joined to the next category of its variable,
       in the variable's order (the last to the one before), until every group has both
       (``_collapse_groups``); a variable left with one group no longer constrains
       the weights;
    2. **design weights**: when raking on the (collapsed) margins still does not converge
       within the trimming bounds, the locality keeps its design weights scaled to its
       adult population.

    Returns the weights (as :func:`rake`) and a report with one row per locality that was
    not raked on all margins: locality_id, n (respondents), method
    (``collapsed categories`` or ``design weights``) and reason.
    """
    try:
        return rake(sv, margins, max_iter=max_iter, tol=tol, trim=trim), _REPORT_EMPTY.copy()
    except (ValueError, RuntimeError) as exc:
        if not str(exc).startswith(("Cannot rake", "Raking did not converge")):
            raise
    sv_loc = sv["locality_id"].astype(str)
    m_loc = margins["locality_id"].astype(str)
    weights = pd.Series(np.nan, index=sv.index, name="weight")
    rows = []
    for lid in pd.unique(sv_loc):
        rows_s, rows_m = (sv_loc == lid).to_numpy(), (m_loc == lid).to_numpy()
        s, m = sv.loc[rows_s], margins.loc[rows_m]
        try:
            weights[rows_s] = rake(s, m, max_iter=max_iter, tol=tol, trim=trim).to_numpy()
            continue
        except (ValueError, RuntimeError) as exc:
            if not str(exc).startswith(("Cannot rake", "Raking did not converge")):
                raise
        s, m, merged = s.copy(), m.copy(), []
        for var in RAKING_VARIABLES:
            cats = _margin_categories(margins, var)
            r_cat = _as_categorical(s[var], cats, var, "The survey frame")
            m_cat = _as_categorical(m[var], cats, var, "The population margins")
            resp = np.bincount(r_cat.codes, minlength=len(cats))
            pop = np.bincount(
                m_cat.codes, weights=m["population"].astype(float).to_numpy(), minlength=len(cats)
            )
            groups = _collapse_groups(cats, resp, pop)
            label = {c: " + ".join(g) for g in groups for c in g}
            merged += [f"{var} {' + '.join(g)}" for g in groups if len(g) > 1]
            labels = [" + ".join(g) for g in groups]
            s[var] = pd.Categorical([label[c] for c in np.asarray(r_cat.astype(str))], categories=labels)
            m[var] = pd.Categorical([label[c] for c in np.asarray(m_cat.astype(str))], categories=labels)
        reason_empty = "sample does not reach every margin category"
        try:
            weights[rows_s] = rake(s, m, max_iter=max_iter, tol=tol, trim=trim).to_numpy()
            rows.append(
                {
                    "locality_id": lid,
                    "n": int(rows_s.sum()),
                    "method": "collapsed categories",
                    "reason": f"{reason_empty}; merged {', '.join(merged)}"
                    if merged
                    else "raking did not converge within the trimming bounds; merged nothing",
                }
            )
            continue
        except (ValueError, RuntimeError):
            pass
        d = s["design_weight"].astype(float).to_numpy()
        weights[rows_s] = d * float(m["population"].sum()) / d.sum()
        rows.append(
            {
                "locality_id": lid,
                "n": int(rows_s.sum()),
                "method": "design weights",
                "reason": (
                    f"{reason_empty}; merged {', '.join(merged)}, but raking on the merged categories "
                    "did not converge within the trimming bounds"
                    if merged
                    else "raking did not converge within the trimming bounds"
                ),
            }
        )
    return weights, pd.DataFrame(rows, columns=_REPORT_EMPTY.columns)


_REPORT_EMPTY = pd.DataFrame(
    {
        "locality_id": pd.Series(dtype=object),
        "n": pd.Series(dtype="int64"),
        "method": pd.Series(dtype=object),
        "reason": pd.Series(dtype=object),
    }
)


def weighting_report(frame: pd.DataFrame) -> pd.DataFrame:
    """The localities of an :func:`analysis_frame` not raked on all margins, and why
    (see :func:`rake_with_fallback`); empty when every locality was raked."""
    return pd.DataFrame(frame.attrs.get("weighting", []), columns=_REPORT_EMPTY.columns)


def analysis_frame(
    sv: pd.DataFrame | None = None,
    margins: pd.DataFrame | None = None,
    localities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per respondent with the recoded variables the chapter uses and the raked weight.

    Columns: respondent_id, locality_id, country, size_class, locality_type,
    attitude_index, contact_any (bool), meaningful_contact (1/0, NaN for 8/9),
    trust_newcomers (1-5, NaN for 8/9), age_group, gender, education, born_abroad,
    weight (raked, :func:`rake`), and the contact settings contact_<setting> (bool),
    aware_measures (1/0, NaN for 8/9), impact_measures (1-5; NaN when not asked or 8/9).
    Arguments left as None are loaded with :func:`wholecomm.data.load`.
    """
    sv = data.load("survey") if sv is None else sv
    margins = data.load("population_margins") if margins is None else margins
    localities = data.load("localities") if localities is None else localities
    contact_cols = [f"contact_{s}" for s in CONTACT_SETTINGS]
    _require_columns(
        sv,
        [
            "respondent_id",
            "locality_id",
            *RAKING_VARIABLES,
            "born_abroad",
            *ATTITUDE_ITEMS,
            *contact_cols,
            "contact_meaningful",
            "trust_newcomers",
            "aware_measures",
            "impact_measures",
            "design_weight",
        ],
        "The survey frame",
    )
    _require_columns(
        localities, ["locality_id", "country", "size_class", "locality_type"], "The localities frame"
    )
    what = "The survey frame"
    loc = localities.assign(locality_id=localities["locality_id"].astype(str)).set_index("locality_id")
    sv_loc = sv["locality_id"].astype(str)
    unknown = sorted(set(sv_loc) - set(loc.index))
    if unknown:
        raise ValueError(f"{what}: locality_id value(s) {unknown[:10]} are not in the localities frame.")

    out = pd.DataFrame(
        {"respondent_id": sv["respondent_id"].to_numpy(), "locality_id": sv_loc.to_numpy()}, index=sv.index
    )
    for col in ("country", "size_class", "locality_type"):
        out[col] = pd.Categorical(
            _as_categorical(loc[col], _enum("localities", col), col, "The localities frame")[
                loc.index.get_indexer(sv_loc)
            ]
        )
    out["attitude_index"] = attitude_index(sv)
    for col in contact_cols:
        if sv[col].isna().any():
            raise ValueError(f"{what}: column {col!r} is empty for some respondents.")
        out[col] = sv[col].astype(bool).to_numpy()
    settings = out[[f"contact_{s}" for s in data.CONTACT_SETTINGS]].any(axis=1)
    clash = settings.to_numpy() == out["contact_none"].to_numpy()
    if clash.any():
        raise ValueError(
            f"{what}: contact_none must be true exactly when no contact setting is true "
            f"({_first_ids(sv, clash)})."
        )
    out["contact_any"] = settings.to_numpy()
    out["meaningful_contact"] = _substantive(_coded(sv, "contact_meaningful", [0, 1, *NON_SUBSTANTIVE], what))
    out["trust_newcomers"] = _substantive(
        _coded(sv, "trust_newcomers", [*LIKERT_POINTS, *NON_SUBSTANTIVE], what)
    )
    for col in RAKING_VARIABLES:
        out[col] = _as_categorical(sv[col], _enum("survey", col), col, what)
    if sv["born_abroad"].isna().any():
        raise ValueError(f"{what}: column 'born_abroad' is empty for some respondents.")
    out["born_abroad"] = sv["born_abroad"].astype(bool).to_numpy()
    aware = _coded(sv, "aware_measures", [0, 1, *NON_SUBSTANTIVE], what)
    impact = _coded(sv, "impact_measures", [*LIKERT_POINTS, *NON_SUBSTANTIVE], what, allow_empty=True)
    routed = (aware == 1) != np.isfinite(impact)
    if routed.any():
        raise ValueError(
            f"{what}: impact_measures must be answered exactly when aware_measures = 1 "
            f"({_first_ids(sv, routed)})."
        )
    out["aware_measures"] = _substantive(aware)
    out["impact_measures"] = _substantive(impact)
    out["weight"], report = rake_with_fallback(sv, margins)
    # Plain records (not a frame), so that pandas can compare the attrs of frames it combines.
    out.attrs["weighting"] = report.to_dict("records")
    return out


# ------------------------------------------------------------ locality level
def locality_outcomes(frame: pd.DataFrame | None = None, min_n: int = data.MIN_CELL_DEFAULT) -> pd.DataFrame:
    """Weighted locality means, indexed by locality_id, after disclosure control.

    Columns: country, size_class, locality_type, n (respondents), attitude_index with
    attitude_index_lo / attitude_index_hi (95% CI), contact_any, meaningful_contact and
    trust_newcomers (weighted means; the last on 1-5), suppressed. Localities with fewer
    than ``min_n`` respondents have every value (and n) blanked.
    """
    frame = analysis_frame() if frame is None else frame
    values = ["attitude_index", "contact_any", "meaningful_contact", "trust_newcomers"]
    _require_columns(frame, ["locality_id", "weight", *values], "The analysis frame")
    lid = "locality_id"
    att = weighted_mean(frame, "attitude_index", "weight", by=lid, strata=lid).set_index(lid)
    out = pd.DataFrame({"n": frame.groupby(lid, sort=True).size()})
    out.index = out.index.astype(str)
    att.index = att.index.astype(str)
    for col in ("country", "size_class", "locality_type"):
        if col in frame.columns:
            out[col] = frame.groupby(lid, sort=True)[col].first().astype(str).to_numpy()
    out["attitude_index"] = att["estimate"]
    out["attitude_index_lo"] = att["lo"]
    out["attitude_index_hi"] = att["hi"]
    for col in values[1:]:
        est = weighted_mean(frame, col, "weight", by=lid, strata=lid, ci=0.95).set_index(lid)
        est.index = est.index.astype(str)
        out[col] = est["estimate"]
    out.index.name = lid
    out = data.suppress_small_cells(out, "n", min_n)
    out["n"] = out["n"].astype("Int64")
    return out


# -------------------------------------------------------------------- scales
def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha of the columns of ``items`` (complete rows only; sample variances)."""
    complete = items.dropna()
    k = complete.shape[1]
    if k < 2 or len(complete) < 2:
        raise ValueError("Cronbach's alpha needs at least two items and two complete rows.")
    item_var = complete.var(axis=0, ddof=1).sum()
    total_var = complete.sum(axis=1).var(ddof=1)
    if total_var == 0:
        raise ValueError("The item sum has no variance; alpha is undefined.")
    return float(k / (k - 1) * (1 - item_var / total_var))


@dataclass
class ScaleCheck:
    """Reliability and one-factor check of the attitude items."""

    alpha: float
    n_complete: int
    eigenvalues: np.ndarray
    first_share: float
    loadings: pd.Series
    same_sign: bool
    min_abs_loading: float
    one_factor: bool
    loading_threshold: float = 0.4
    table: pd.DataFrame = field(default_factory=pd.DataFrame)


def scale_check(sv: pd.DataFrame, loading_threshold: float = 0.4) -> ScaleCheck:
    """Cronbach's alpha of the six recoded items (complete cases) and a one-factor check:
    share of the first eigenvalue of the item correlation matrix, and the loadings of the
    first principal component (eigenvector x sqrt(eigenvalue), sign fixed so that their
    sum is positive). ``one_factor`` is true when every loading has the same sign and an
    absolute value above ``loading_threshold`` and the first eigenvalue is the only one
    above 1 (Kaiser's rule)."""
    items = recode_items(sv).dropna()
    alpha = cronbach_alpha(items)
    corr = np.corrcoef(items.to_numpy(), rowvar=False)
    vals, vecs = np.linalg.eigh(corr)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    first = vecs[:, 0] * np.sqrt(vals[0])
    if first.sum() < 0:
        first = -first
    loadings = pd.Series(first, index=ATTITUDE_ITEMS, name="loading")
    same_sign = bool(np.all(first > 0) or np.all(first < 0))
    min_abs = float(np.abs(first).min())
    one = same_sign and min_abs > loading_threshold and bool(vals[0] > 1) and bool(np.all(vals[1:] <= 1))
    table = pd.DataFrame(
        {
            "item": ATTITUDE_ITEMS,
            "label": [ITEM_LABELS[i] for i in ATTITUDE_ITEMS],
            "reversed": [i in REVERSED_ITEMS for i in ATTITUDE_ITEMS],
            "loading": first,
        }
    )
    return ScaleCheck(
        alpha=alpha,
        n_complete=len(items),
        eigenvalues=vals,
        first_share=float(vals[0] / vals.sum()),
        loadings=loadings,
        same_sign=same_sign,
        min_abs_loading=min_abs,
        one_factor=one,
        loading_threshold=loading_threshold,
        table=table,
    )


def item_distribution(sv: pd.DataFrame, weights, pooling: str = POOLING, ci: float = 0.95) -> pd.DataFrame:
    """Weighted distribution of the answers to each attitude item **as worded** (not
    reversed), tidy: item, label, code, response, base ("substantive" for 1-5 as a share
    of substantive answers, "all" for don't know and refused as a share of all
    respondents), estimate, lo, hi, n."""
    _require_columns(sv, ["locality_id"], "The survey frame")
    w = _weights(sv, weights)
    parts = []
    for item in ATTITUDE_ITEMS:
        codes = _coded(sv, item, [*LIKERT_POINTS, *NON_SUBSTANTIVE], "Attitude items")
        substantive = np.isin(codes, LIKERT_POINTS)
        tmp = pd.DataFrame({"locality_id": sv["locality_id"].to_numpy(), "w": w})
        for code in [*LIKERT_POINTS, *NON_SUBSTANTIVE]:
            is_code = (codes == code).astype(float)
            if code in LIKERT_POINTS:
                tmp["y"] = np.where(substantive, is_code, np.nan)
                base = "substantive"
            else:
                tmp["y"] = is_code
                base = "all"
            est = weighted_proportion(tmp, "y", "w", ci=ci, pooling=pooling)
            parts.append(
                est.assign(
                    item=item, label=ITEM_LABELS[item], code=code, response=RESPONSE_LABELS[code], base=base
                )
            )
    out = pd.concat(parts, ignore_index=True)
    return out[["item", "label", "code", "response", "base", "estimate", "lo", "hi", "n"]]


def likert_segments(dist: pd.DataFrame) -> pd.DataFrame:
    """Bar ends for a diverging stacked bar chart of the substantive answers (percent),
    centred on the middle of "Neither": one row per item and segment with ``end`` (signed
    percent). Drawn from 0 in the order of ``segment`` (outer segments first), the
    overlapping bars form the diverging stack. Segment "Neither (left)" and "Neither"
    are the two halves of the middle category."""
    sub = dist[dist["base"] == "substantive"].pivot(index="label", columns="code", values="estimate") * 100
    sub = sub.reindex([ITEM_LABELS[i] for i in ATTITUDE_ITEMS])
    half = sub[3] / 2
    ends = {
        "Strongly disagree": -(half + sub[2] + sub[1]),
        "Strongly agree": half + sub[4] + sub[5],
        "Disagree": -(half + sub[2]),
        "Agree": half + sub[4],
        "Neither (left)": -half,
        "Neither": half,
    }
    rows = [
        pd.DataFrame({"label": sub.index, "segment": seg, "end": val.to_numpy()}) for seg, val in ends.items()
    ]
    out = pd.concat(rows, ignore_index=True)
    out["segment"] = pd.Categorical(out["segment"], categories=list(ends))
    out["label"] = pd.Categorical(out["label"], categories=list(sub.index))
    return out


# ------------------------------------------------------------------- contact
def contact_by_setting(
    frame: pd.DataFrame, by: str | None = "country", pooling: str = POOLING, ci: float = 0.95
) -> pd.DataFrame:
    """Weighted share with regular contact in each setting (and with none), by ``by``
    (None: overall), tidy: setting, label, the ``by`` column, estimate, se, lo, hi, n."""
    parts = []
    for s in CONTACT_SETTINGS:
        est = weighted_proportion(frame, f"contact_{s}", "weight", by=by, ci=ci, pooling=pooling)
        parts.append(est.assign(setting=s, label=SETTING_LABELS[s]))
    out = pd.concat(parts, ignore_index=True)
    out["setting"] = pd.Categorical(out["setting"], categories=CONTACT_SETTINGS)
    lead = ["setting", "label"] + ([by] if by else [])
    return out[[*lead, "estimate", "se", "lo", "hi", "n"]]


def contact_matrix(
    contact: pd.DataFrame, by: str = "country", scale: float = 100.0, fmt: str = "{:.0f}\n({:.0f}-{:.0f})"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide matrices (setting label x ``by``) of :func:`contact_by_setting` estimates times
    ``scale`` and of annotation text "estimate (lo-hi)", for a heatmap with the CI in each
    cell."""
    _require_columns(contact, ["label", by, "estimate", "lo", "hi"], "The contact table")
    order = [SETTING_LABELS[s] for s in CONTACT_SETTINGS]
    values = (
        contact.pivot_table(index="label", columns=by, values="estimate", observed=True).reindex(order)
        * scale
    )
    text = contact.assign(
        text=[
            fmt.format(e * scale, lo * scale, hi * scale)
            for e, lo, hi in zip(contact["estimate"], contact["lo"], contact["hi"], strict=False)
        ]
    )
    annot = text.pivot_table(
        index="label", columns=by, values="text", aggfunc="first", observed=True
    ).reindex(order)
    return values, annot.reindex(columns=values.columns)


@dataclass
class ClaimTest:
    """A published claim tested on the survey: the estimates it rests on and the verdict."""

    claim: str
    rule: str
    table: pd.DataFrame
    supported: bool
    values: dict = field(default_factory=dict)
    #: The data point the other way (an interval wholly on the side opposite to the claim).
    contradicted: bool = False

    @property
    def verdict(self) -> str:
        """The verb for "the data ... the claim": support, contradict, or do not support
        (neither: an interval includes the null value)."""
        if self.supported:
            return "support"
        return "contradict" if self.contradicted else "do not support"


def _row(table: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(table), dtype=bool)
    for k, v in keys.items():
        mask &= (table[k].astype(str) == str(v)).to_numpy()
    if mask.sum() != 1:
        raise KeyError(f"Expected one row for {keys}, found {int(mask.sum())}.")
    return table.loc[mask].iloc[0]


#: The country-specific claims tested on the survey, as the project stated them: the
#: subject of a claim is taken from here, never typed into code or prose.
CLAIM_COUNTRIES = {"associational_contact": {"country": "SE", "name": "Sweden"}}


def claim_examinable(frame: pd.DataFrame, claim: str = "associational_contact") -> str | None:
    """None when the survey has respondents in the claim's country and in another
    country; otherwise the reason the claim cannot be examined on these data."""
    country = CLAIM_COUNTRIES[claim]["country"]
    countries = set(frame["country"].astype(str))
    if country not in countries:
        return f"the survey has no respondents in {CLAIM_COUNTRIES[claim]['name']}"
    if countries == {country}:
        return f"every respondent lives in {CLAIM_COUNTRIES[claim]['name']}: there is no other country to compare with"
    return None


def associational_contact_claim(
    frame: pd.DataFrame,
    country: str | None = None,
    settings: Sequence[str] = ASSOCIATIONAL_SETTINGS,
    pooling: str = POOLING,
    ci: float = 0.95,
) -> ClaimTest:
    """Test "in ``country`` interaction happens mostly in hobby associations, sports clubs and
    organised leisure".

    Estimates (each with a CI): the share of residents with regular contact in at least one
    of ``settings`` ("associational") and in at least one other setting, in ``country`` and
    in the other countries pooled; the within-country difference associational - other
    (a paired difference: the weighted mean of the per-respondent difference); the
    difference in the associational share between ``country`` and the others
    (see below); and the share of residents with any contact whose contact includes an
    associational setting. The claim is supported when, in ``country``, the associational
    share exceeds the other-settings share (CI of the difference above 0) and exceeds that
    of the other countries (CI above 0). The comparison with the other countries is a
    comparison of places: :func:`place_contrast` (localities as clusters within country
    strata, t on the country's localities minus one degrees of freedom).
    """
    country = CLAIM_COUNTRIES["associational_contact"]["country"] if country is None else country
    unknown = sorted(set(settings) - set(data.CONTACT_SETTINGS))
    if unknown or not settings:
        raise ValueError(
            f"settings must be a non-empty subset of {data.CONTACT_SETTINGS}; unknown {unknown}."
        )
    _require_columns(frame, ["country", "weight", "locality_id"], "The analysis frame")
    if country not in set(frame["country"].astype(str)):
        raise ValueError(f"No respondents in country {country!r}.")
    others_settings = [s for s in data.CONTACT_SETTINGS if s not in settings]
    tmp = pd.DataFrame(
        {
            "locality_id": frame["locality_id"].to_numpy(),
            "weight": frame["weight"].to_numpy(),
            "where": np.where(frame["country"].astype(str) == country, country, "other countries"),
            "assoc": frame[[f"contact_{s}" for s in settings]].any(axis=1).to_numpy(),
            "other": frame[[f"contact_{s}" for s in others_settings]].any(axis=1).to_numpy(),
        },
        index=frame.index,
    )
    tmp["diff"] = tmp["assoc"].astype(float) - tmp["other"].astype(float)
    tmp["assoc_among_contact"] = np.where(tmp["assoc"] | tmp["other"], tmp["assoc"].astype(float), np.nan)
    kw = dict(by="where", ci=ci, pooling=pooling)
    rows = []
    labels = {
        "assoc": "Contact in " + ", ".join(SETTING_LABELS[s].lower() for s in settings),
        "other": "Contact in any other setting",
        "assoc_among_contact": "Of those with any contact: contact includes an associational setting",
        "diff": "Difference: associational minus other settings",
    }
    for col in ("assoc", "other", "assoc_among_contact"):
        est = weighted_proportion(tmp, col, "weight", **kw)
        rows.append(est.assign(quantity=col, label=labels[col]))
    rows.append(weighted_mean(tmp, "diff", "weight", **kw).assign(quantity="diff", label=labels["diff"]))
    table = pd.concat(rows, ignore_index=True)
    table["where"] = pd.Categorical(table["where"], categories=[country, "other countries"])
    assoc = table[table["quantity"] == "assoc"]
    # A comparison of places: localities as clusters within country strata (PLACE_STRATA).
    in_country = (tmp["where"] == country).to_numpy()
    between = place_contrast(
        tmp.assign(country=frame["country"].astype(str).to_numpy()),
        "assoc",
        in_country,
        ~in_country,
        "proportion",
        pooling=pooling,
        ci=ci,
    )
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                [
                    {
                        "where": f"{country} minus other countries",
                        "quantity": "assoc_country_diff",
                        "label": "Difference in associational contact: country minus other countries",
                        **between,
                        "n": int(assoc["n"].sum()),
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    table = table[["quantity", "label", "where", "estimate", "se", "lo", "hi", "n"]]
    within = _row(table, quantity="diff", where=country)
    supported = bool(within["lo"] > 0 and between["lo"] > 0)
    contradicted = bool(within["hi"] < 0 or between["hi"] < 0)
    return ClaimTest(
        contradicted=contradicted,
        claim=f"In {country}, interaction happens mostly in "
        + ", ".join(SETTING_LABELS[s].lower() for s in settings),
        rule="supported when, in the country, the associational share exceeds the other-settings share and the "
        "other countries' associational share (both 95% CIs of the differences above 0)",
        table=table,
        supported=supported,
        values={"within_diff": within.to_dict(), "between_diff": between},
    )


def meaningful_contact_claim(
    frame: pd.DataFrame, threshold: float = 0.5, pooling: str = POOLING, ci: float = 0.95
) -> ClaimTest:
    """Test "limited meaningful interaction between long-term residents and newcomers".

    Estimates (each with a CI): the share of residents who had a meaningful conversation
    with a newcomer in the last month, the same share among residents with regular contact,
    and the share with no regular contact in any setting. "Limited" is read as "a minority
    of residents": the claim is supported when the upper CI bound of the meaningful-contact
    share, overall and among those with contact, is below ``threshold``.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}.")
    _require_columns(
        frame,
        ["meaningful_contact", "contact_any", "contact_none", "weight", "locality_id"],
        "The analysis frame",
    )
    tmp = pd.DataFrame(
        {
            "locality_id": frame["locality_id"].to_numpy(),
            "weight": frame["weight"].to_numpy(),
            "meaningful": frame["meaningful_contact"].to_numpy(dtype=float),
            "none": frame["contact_none"].to_numpy(dtype=bool),
        },
        index=frame.index,
    )
    tmp["meaningful_given_contact"] = np.where(
        frame["contact_any"].to_numpy(dtype=bool), tmp["meaningful"], np.nan
    )
    labels = {
        "meaningful": "Meaningful conversation with a newcomer in the last month",
        "meaningful_given_contact": "Meaningful conversation, among residents with regular contact",
        "none": "No regular contact in any setting",
    }
    rows = [
        weighted_proportion(tmp, col, "weight", ci=ci, pooling=pooling).assign(quantity=col, label=lab)
        for col, lab in labels.items()
    ]
    table = pd.concat(rows, ignore_index=True)[["quantity", "label", "estimate", "se", "lo", "hi", "n"]]
    supported = bool(
        _row(table, quantity="meaningful")["hi"] < threshold
        and _row(table, quantity="meaningful_given_contact")["hi"] < threshold
    )
    return ClaimTest(
        claim="Limited meaningful interaction between long-term residents and newcomers",
        rule=f"supported when the upper 95% CI bound of the meaningful-contact share, overall and among "
        f"residents with contact, is below {threshold:.0%}",
        table=table,
        supported=supported,
        values={"threshold": threshold},
        contradicted=bool(
            _row(table, quantity="meaningful")["lo"] > threshold
            or _row(table, quantity="meaningful_given_contact")["lo"] > threshold
        ),
    )


# ------------------------------------------------------------------ awareness
def awareness(
    frame: pd.DataFrame,
    groupings: Sequence[str] = ("overall", "country"),
    pooling: str = POOLING,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Weighted share aware of any local integration measure (8/9 missing), tidy by grouping."""
    return by_groups(frame, "aware_measures", "proportion", groupings, pooling=pooling, ci=ci)


def perceived_impact(
    frame: pd.DataFrame,
    groupings: Sequence[str] = ("overall", "country"),
    pooling: str = POOLING,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Perceived impact of local measures among respondents aware of them (the question's
    routing), 8/9 missing: the mean on 1 (very negative) ... 5 (very positive) and the share
    answering positive (4 or 5). Tidy: measure, grouping, group, estimate, se, lo, hi, n."""
    _require_columns(frame, ["impact_measures"], "The analysis frame")
    tmp = frame.copy()
    tmp["impact_positive"] = np.where(tmp["impact_measures"].notna(), tmp["impact_measures"] >= 4, np.nan)
    mean = by_groups(tmp, "impact_measures", "mean", groupings, pooling=pooling, ci=ci).assign(
        measure="mean_1_5"
    )
    pos = by_groups(tmp, "impact_positive", "proportion", groupings, pooling=pooling, ci=ci).assign(
        measure="share_positive"
    )
    out = pd.concat([mean, pos], ignore_index=True)
    return out[["measure", "grouping", "group", "estimate", "se", "lo", "hi", "n"]]


# ---------------------------------------------------------------------- model
TERM_LABELS = {
    "Intercept": "Intercept (reference groups, MIPEX-L score 50)",
    "contact_any": "Regular contact with newcomers (any setting)",
    "age_group[35-54]": "Age 35-54 (vs 18-34)",
    "age_group[55+]": "Age 55+ (vs 18-34)",
    "gender[male]": "Male (vs female)",
    "education[medium]": "Education medium (vs low)",
    "education[high]": "Education high (vs low)",
    "born_abroad": "Born abroad",
    "mipex_l_per_10": "MIPEX-L overall score (per 10 points)",
}


def attitude_model(frame: pd.DataFrame, index_scores: pd.Series, ci: float = 0.95) -> pd.DataFrame:
    """Multilevel (random-intercept) regression of the attitude index.

    ``attitude_index ~ contact_any + age_group + gender + education + born_abroad +
    (MIPEX-L overall score - 50) / 10`` with a random intercept per locality (statsmodels
    MixedLM, REML), unweighted: the raking variables are covariates of the model.
    ``index_scores``: overall MIPEX-L score (0-100) per locality_id, e.g.
    :func:`wholecomm.index.scoring.overall_scores`; NaN marks a locality without an overall score
    (not assessed, or missing under the index's missing-data rule), whose respondents are
    excluded. Respondents without an attitude index are excluded too. Reference groups: the
    first category of each covariate.

    Returns a tidy table: term, label, estimate, se, lo, hi, p_value. ``attrs`` records
    n_obs, n_localities, excluded_localities, n_excluded_no_score (respondents of the
    excluded localities), n_excluded_no_index, locality_sd, residual_sd and converged.
    """
    import statsmodels.api as sm

    _require_columns(
        frame,
        ["locality_id", "attitude_index", "contact_any", "born_abroad", *MODEL_COVARIATES],
        "The analysis frame",
    )
    if not isinstance(index_scores, pd.Series):
        raise TypeError("index_scores must be a pandas Series indexed by locality_id.")
    scores = index_scores.copy()
    scores.index = scores.index.astype(str)
    if scores.index.duplicated().any():
        raise ValueError(
            f"index_scores has duplicated localities {list(scores.index[scores.index.duplicated()])}."
        )
    lid = frame["locality_id"].astype(str)
    absent = sorted(set(lid) - set(scores.index))
    if absent:
        raise ValueError(
            f"index_scores has no entry for localit{'y' if len(absent) == 1 else 'ies'} {absent[:10]} "
            "(use NaN for a locality that was not assessed)."
        )
    s = scores.astype("float64")
    out_of_range = s.notna() & ~s.between(0, 100)
    if out_of_range.any():
        raise ValueError(f"index_scores must lie between 0 and 100; {list(s.index[out_of_range])} do not.")
    score = lid.map(s).to_numpy(dtype=float)
    no_score = np.isnan(score)
    no_index = frame["attitude_index"].isna().to_numpy()
    keep = ~no_score & ~no_index
    d = frame.loc[keep]
    X = {"Intercept": np.ones(keep.sum()), "contact_any": d["contact_any"].astype(float).to_numpy()}
    for col in MODEL_COVARIATES:
        cats = (
            d[col].cat.categories
            if isinstance(d[col].dtype, pd.CategoricalDtype)
            else pd.Index(_enum("survey", col))
        )
        for cat in cats[1:]:
            X[f"{col}[{cat}]"] = (d[col].astype(str) == str(cat)).astype(float).to_numpy()
    X["born_abroad"] = d["born_abroad"].astype(float).to_numpy()
    X["mipex_l_per_10"] = (score[keep] - 50) / 10
    X = pd.DataFrame(X, index=d.index)
    constant = [c for c in X.columns if c != "Intercept" and X[c].std() == 0]
    if constant:
        raise ValueError(
            f"Model term(s) {constant} do not vary among the respondents in the model; "
            "the coefficients cannot be estimated."
        )
    groups = lid[keep].to_numpy()
    model = sm.MixedLM(d["attitude_index"].to_numpy(dtype=float), X, groups=groups)
    # Powell's derivative-free search first (Nelder-Mead if it fails): the REML surface is flat
    # along the locality variance, where gradient methods stop at points that depend on the
    # BLAS kernel of the machine (converging on one, failing on another); Powell's answer
    # agrees across kernels to 1e-12.
    fit = model.fit(reml=True, method=["powell", "nm"])
    fe = fit.fe_params
    se = fit.bse_fe
    q = stats.norm.ppf(0.5 + ci / 2)
    table = pd.DataFrame(
        {
            "term": fe.index,
            "label": [TERM_LABELS.get(t, t) for t in fe.index],
            "estimate": fe.to_numpy(),
            "se": se.to_numpy(),
        }
    )
    table["lo"] = table["estimate"] - q * table["se"]
    table["hi"] = table["estimate"] + q * table["se"]
    table["p_value"] = 2 * stats.norm.sf(np.abs(table["estimate"] / table["se"]))
    excluded = sorted(set(lid[no_score]))
    table.attrs.update(
        {
            "n_obs": int(keep.sum()),
            "n_localities": int(pd.unique(groups).size),
            "excluded_localities": excluded,
            "n_excluded_no_score": int(no_score.sum()),
            "n_excluded_no_index": int((no_index & ~no_score).sum()),
            "locality_sd": float(np.sqrt(fit.cov_re.iloc[0, 0])),
            "residual_sd": float(np.sqrt(fit.scale)),
            "converged": bool(fit.converged),
        }
    )
    return numerics.check_fit(
        "attitude index ~ contact + age + gender + education + born abroad + MIPEX-L (random intercept per "
        "locality; survey.attitude_model)",
        table,
        converged=bool(fit.converged),
        cause="too few localities with an overall MIPEX-L score, or a covariate category with (almost) no "
        "respondents, for the random-intercept model",
    )


# ------------------------------------------------------------------ composition
def composition(frame: pd.DataFrame, margins: pd.DataFrame, pooling: str = POOLING) -> pd.DataFrame:
    """Sample composition against the population margins, in percent, pooled over
    localities (``pooling="equal"``: the average of the localities' shares). Tidy:
    variable, category, label, source ("Population", "Sample, unweighted", "Sample, raked"),
    share."""
    _require_columns(frame, ["locality_id", "weight", *RAKING_VARIABLES], "The analysis frame")
    _require_columns(margins, ["locality_id", *RAKING_VARIABLES, "population"], "The population margins")
    if pooling not in ("weights", "equal"):
        raise ValueError(f"pooling must be 'weights' or 'equal', got {pooling!r}.")
    lid = frame["locality_id"].astype(str)
    m = margins.assign(locality_id=margins["locality_id"].astype(str))
    m = m[m["locality_id"].isin(set(lid))]
    rows = []
    for var in RAKING_VARIABLES:
        cats = _enum("survey", var)
        pop = (
            m.groupby(["locality_id", var], observed=False)["population"]
            .sum()
            .unstack(var)
            .reindex(columns=cats)
        )
        pop_share = pop.div(pop.sum(axis=1), axis=0)
        for source, w in (
            ("Sample, unweighted", np.ones(len(frame))),
            ("Sample, raked", frame["weight"].to_numpy()),
        ):
            t = pd.DataFrame({"locality_id": lid.to_numpy(), var: frame[var].astype(str).to_numpy(), "w": w})
            tab = t.groupby(["locality_id", var])["w"].sum().unstack(var).reindex(columns=cats).fillna(0.0)
            share = tab.div(tab.sum(axis=1), axis=0)
            loc_w = (
                pd.Series(1.0, index=share.index)
                if pooling == "equal"
                else pop.sum(axis=1).reindex(share.index)
            )
            pooled = share.mul(loc_w, axis=0).sum() / loc_w.sum()
            rows += [
                {
                    "variable": var,
                    "category": c,
                    "label": f"{VARIABLE_LABELS[var]}: {c}",
                    "source": source,
                    "share": 100 * pooled[c],
                }
                for c in cats
            ]
        loc_w = pd.Series(1.0, index=pop_share.index) if pooling == "equal" else pop.sum(axis=1)
        pooled = pop_share.mul(loc_w, axis=0).sum() / loc_w.sum()
        rows += [
            {
                "variable": var,
                "category": c,
                "label": f"{VARIABLE_LABELS[var]}: {c}",
                "source": "Population",
                "share": 100 * pooled[c],
            }
            for c in cats
        ]
    out = pd.DataFrame(rows)
    out["source"] = pd.Categorical(
        out["source"], categories=["Population", "Sample, unweighted", "Sample, raked"]
    )
    return out


# ------------------------------------------------------- comparisons of places
#: The design of every comparison between places (countries, size classes, locality
#: types, one country against the rest): localities are clusters (primary sampling units)
#: within country strata. See the book's Methods page.
PLACE_STRATA = "country"
PLACE_CLUSTERS = "locality_id"


def _place_parts(
    df: pd.DataFrame, value: str, weights, pooling: str, proportion: bool, strata: str, clusters: str
):
    """Values, weights (pooled as in :func:`_estimate`), cluster and stratum codes."""
    if pooling not in ("weights", "equal"):
        raise ValueError(f"pooling must be 'weights' or 'equal', got {pooling!r}.")
    _require_columns(df, [strata, clusters], "The frame")
    for col in (strata, clusters):
        if df[col].isna().any():
            raise ValueError(
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
        raise ValueError(
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
    ci: float = 0.95,
    strata: str = PLACE_STRATA,
    clusters: str = PLACE_CLUSTERS,
) -> pd.DataFrame:
    """Estimates of ``value`` by ``by`` (None: overall) for comparisons of places.

    Point estimates are those of :func:`weighted_mean` / :func:`weighted_proportion`;
    the variance treats localities (``clusters``) as sampling units within country
    ``strata`` (Taylor linearisation, domain estimation), so the spread between
    localities counts as uncertainty. Degrees of freedom of a group: its localities minus
    their countries (t(G - 1) for one country of G localities), at least
    :data:`MIN_PLACE_DF`; means get a t interval,
    proportions the Korn-Graubard interval (:func:`wholecomm.stats.korn_graubard_interval`).
    Returns the ``by`` column (or ``group``), estimate, se, lo, hi, df, n, localities."""
    from . import stats as st

    if kind not in ("mean", "proportion"):
        raise ValueError(f"kind must be 'mean' or 'proportion', got {kind!r}.")
    if not 0 < ci < 1:
        raise ValueError(f"ci must be between 0 and 1, got {ci}.")
    y, w, c, h = _place_parts(frame, value, weights, pooling, kind == "proportion", strata, clusters)
    if by is None:
        labels = pd.Series([OVERALL_LABEL] * len(frame), index=frame.index)
    else:
        _require_columns(frame, [by], "The frame")
        if frame[by].isna().any():
            raise ValueError(f"Grouping column {by!r} is empty for {int(frame[by].isna().sum())} rows.")
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
            lo, hi = st.korn_graubard_interval(R, se, n, df, ci) if df >= 1 else (np.nan, np.nan)
        else:
            q = stats.t.ppf(0.5 + ci / 2, df) if df >= 1 else np.nan
            lo, hi = R - q * se, R + q * se
        rows.append(
            {
                by or "group": group,
                "estimate": R,
                "se": se,
                "lo": lo,
                "hi": hi,
                "df": df,
                "n": n,
                "localities": int(len(np.unique(c[valid]))),
            }
        )
    return pd.DataFrame(rows)


def _place_contrast(y, w, c, h, in_a: np.ndarray, in_b: np.ndarray, ci: float) -> dict:
    """Difference of the domain means A - B with its place-design variance (the
    covariance of domains sharing strata is kept: one linearised variable A - B), t on
    min(df_A, df_B) degrees of freedom (the side with fewer localities governs)."""
    ra, za, va = _linearised(y, w, in_a)
    rb, zb, vb = _linearised(y, w, in_b)
    est = ra - rb
    se = float(np.sqrt(_cluster_variance(za - zb, c, h)))
    df = min(_domain_df(va, c, h), _domain_df(vb, c, h))
    if df < 1 or not np.isfinite(se) or se == 0:
        return {"estimate": est, "se": se, "lo": np.nan, "hi": np.nan, "df": df, "p_value": np.nan}
    q = stats.t.ppf(0.5 + ci / 2, df)
    return {
        "estimate": est,
        "se": se,
        "lo": est - q * se,
        "hi": est + q * se,
        "df": df,
        "p_value": float(2 * stats.t.sf(abs(est / se), df)),
    }


def place_contrast(
    frame: pd.DataFrame,
    value: str,
    in_a,
    in_b,
    kind: str = "mean",
    weights="weight",
    pooling: str = POOLING,
    ci: float = 0.95,
    strata: str = PLACE_STRATA,
    clusters: str = PLACE_CLUSTERS,
) -> dict:
    """Difference A - B of the estimates of ``value`` over two sets of respondents
    (boolean masks ``in_a``, ``in_b``, e.g. one country and the others) under the place
    design (localities as clusters within country strata), with a t interval and test
    on min(df_A, df_B) degrees of freedom. Returns estimate, se, lo, hi, df, p_value."""
    if kind not in ("mean", "proportion"):
        raise ValueError(f"kind must be 'mean' or 'proportion', got {kind!r}.")
    y, w, c, h = _place_parts(frame, value, weights, pooling, kind == "proportion", strata, clusters)
    a, b = np.asarray(in_a, dtype=bool), np.asarray(in_b, dtype=bool)
    if a.shape != (len(frame),) or b.shape != (len(frame),):
        raise ValueError("place_contrast: in_a and in_b need one True/False per row of the frame.")
    if (a & b).any():
        raise ValueError("place_contrast: the two sets of respondents overlap.")
    return _place_contrast(y, w, c, h, a, b, ci)


def place_contrasts(
    frame: pd.DataFrame,
    value: str,
    by: str = "country",
    kind: str = "mean",
    weights="weight",
    pooling: str = POOLING,
    ci: float = 0.95,
    strata: str = PLACE_STRATA,
    clusters: str = PLACE_CLUSTERS,
) -> pd.DataFrame:
    """Every pairwise difference between the groups of ``by`` (group_a - group_b, for
    group_a < group_b alphabetically) under the place design, with t intervals and
    p-values, and Holm-adjusted p-values over the family of all pairs (``p_holm``)."""
    from . import stats as st

    if kind not in ("mean", "proportion"):
        raise ValueError(f"kind must be 'mean' or 'proportion', got {kind!r}.")
    y, w, c, h = _place_parts(frame, value, weights, pooling, kind == "proportion", strata, clusters)
    _require_columns(frame, [by], "The frame")
    labels = frame[by].astype(str).to_numpy()
    groups = sorted(pd.unique(labels))
    if len(groups) < 2:
        raise ValueError(f"place_contrasts: {by!r} has fewer than two groups.")
    rows = [
        {"group_a": a, "group_b": b, **_place_contrast(y, w, c, h, labels == a, labels == b, ci)}
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
    from . import stats as st

    est = estimates.set_index(by)["estimate"].dropna()
    if len(est) < 2:
        raise ValueError("extremes: needs estimates for at least two groups.")
    top, bottom = str(est.idxmax()), str(est.idxmin())
    out = {"top": top, "bottom": bottom}
    for name, group, sign in (("highest", top, 1.0), ("lowest", bottom, -1.0)):
        rows = []
        for _, r in contrasts.iterrows():
            if group in (r["group_a"], r["group_b"]):
                s = 1.0 if r["group_a"] == group else -1.0
                rows.append(
                    {
                        "other": r["group_b"] if s > 0 else r["group_a"],
                        "estimate": s * r["estimate"],
                        "lo": min(s * r["lo"], s * r["hi"]),
                        "hi": max(s * r["lo"], s * r["hi"]),
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
    ci: float = 0.95,
) -> pd.DataFrame:
    """Standard errors of the group estimates of ``value`` under the two designs: the
    residents of the studied localities (localities as strata, :func:`weighted_mean`) and
    places as units (localities as clusters in country strata, :func:`place_estimates`),
    with the ratio of the two. Tidy: group, estimate, se_residents, se_places, ratio, lo,
    hi (place design), df."""
    fn = weighted_mean if kind == "mean" else weighted_proportion
    resid = fn(frame, value, "weight", by, ci, pooling=pooling).rename(columns={by: "group"})
    place = place_estimates(frame, value, by, kind, pooling=pooling, ci=ci).rename(columns={by: "group"})
    resid["group"] = resid["group"].astype(str)
    out = (
        resid[["group", "estimate", "se"]]
        .rename(columns={"se": "se_residents"})
        .merge(place[["group", "se", "lo", "hi", "df"]].rename(columns={"se": "se_places"}), on="group")
    )
    out["ratio"] = out["se_places"] / out["se_residents"]
    return out[["group", "estimate", "se_residents", "se_places", "ratio", "lo", "hi", "df"]]


def place_by_groups(
    frame: pd.DataFrame,
    value: str,
    kind: str = "mean",
    groupings: Sequence[str] = ("country", "size_class", "locality_type"),
    pooling: str = POOLING,
    ci: float = 0.95,
) -> pd.DataFrame:
    """:func:`place_estimates` for each grouping, stacked like :func:`by_groups`:
    grouping, group, estimate, se, lo, hi, df, n, localities."""
    parts = []
    for grouping in groupings:
        by = None if grouping == "overall" else grouping
        est = place_estimates(frame, value, by, kind, pooling=pooling, ci=ci)
        parts.append(est.rename(columns={by or "group": "group"}).assign(grouping=grouping))
    out = pd.concat(parts, ignore_index=True)
    return out[["grouping", "group", "estimate", "se", "lo", "hi", "df", "n", "localities"]]


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
        g = {k: (v * scale if k in ("estimate", "lo", "hi") else v) for k, v in ext[f"{key}_gap"].items()}
        return (
            (
                f"{fmt.format(g['estimate'])}{unit} above {name(g['other'])}"
                if key == "highest"
                else f"{fmt.format(-g['estimate'])}{unit} below {name(g['other'])}"
            )
            + f", 95% CI {fmt.format(g['lo'] if key == 'highest' else -g['hi'])} to "
            f"{fmt.format(g['hi'] if key == 'highest' else -g['lo'])}{unit}"
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


def awareness_dont_know(
    sv: pd.DataFrame, frame: pd.DataFrame, pooling: str = POOLING, ci: float = 0.95
) -> pd.DataFrame:
    """Sensitivity of the awareness share to the treatment of "don't know" (code 8):
    as missing (the chapter's rule), as not aware, and as aware (the two bounds);
    refusals (9) stay missing throughout. ``sv``: the survey resource (raw codes);
    ``frame``: its :func:`analysis_frame` (weights). Tidy: treatment, estimate, se, lo,
    hi, n, and ``dont_know_share`` (unweighted share of don't-know answers)."""
    _require_columns(sv, ["respondent_id", "aware_measures"], "The survey")
    _require_columns(frame, ["respondent_id", "weight", "locality_id"], "The analysis frame")
    codes = sv.set_index(sv["respondent_id"].astype(str))["aware_measures"]
    ids = frame["respondent_id"].astype(str)
    missing = sorted(set(ids) - set(codes.index))
    if missing:
        raise ValueError(
            f"awareness_dont_know: respondents {missing[:5]} of the frame are not in the survey."
        )
    raw = pd.to_numeric(codes.reindex(ids), errors="raise").to_numpy(dtype=float)
    rows = []
    for treatment, dk_value in (
        ("don't know as missing", np.nan),
        ("don't know as not aware", 0.0),
        ("don't know as aware", 1.0),
    ):
        y = np.where(raw == DONT_KNOW, dk_value, np.where(raw == REFUSED, np.nan, raw))
        tmp = pd.DataFrame(
            {
                "locality_id": frame["locality_id"].to_numpy(),
                "weight": frame["weight"].to_numpy(),
                "aware": y,
            },
            index=frame.index,
        )
        est = weighted_proportion(tmp, "aware", "weight", ci=ci, pooling=pooling).iloc[0]
        rows.append({"treatment": treatment, **{k: est[k] for k in ("estimate", "se", "lo", "hi", "n")}})
    out = pd.DataFrame(rows)
    out["dont_know_share"] = float(np.mean(raw == DONT_KNOW))
    return out
