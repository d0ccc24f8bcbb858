"""Survey weights: raking to the population margins (bounded iterative proportional
fitting), the fallback for localities whose sample cannot be raked, weight diagnostics
and the sample composition against the margins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import data
from ..errors import InputError, require_columns
from .coding import (
    POOLING,
    RAKING_VARIABLES,
    TRIM,
    VARIABLE_LABELS,
    _as_categorical,
    _enum,
    _first_ids,
)


# -------------------------------------------------------------------- weights
def _check_weights(w: np.ndarray, frame: pd.DataFrame, name: str) -> None:
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise InputError(
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
    _check_rake_input(sv, margins, max_iter, tol, trim)
    d = sv["design_weight"].astype("float64").to_numpy()
    r_loc, total, index_of, targets = _raking_targets(sv, margins)
    base = d * (total / np.bincount(r_loc, weights=d, minlength=total.size))[r_loc]
    w = _bounded_ipf(base, index_of, targets, max_iter, tol, trim)
    return pd.Series(w, index=sv.index, name="weight")


def _check_rake_input(
    sv: pd.DataFrame, margins: pd.DataFrame, max_iter: int, tol: float, trim: tuple[float, float] | None
) -> None:
    """The checks of :func:`rake`'s arguments: columns, respondents, settings, weights, populations."""
    require_columns(sv, ["locality_id", "design_weight", *RAKING_VARIABLES], "The survey frame")
    require_columns(margins, ["locality_id", *RAKING_VARIABLES, "population"], "The population margins")
    if len(sv) == 0:
        raise InputError("The survey frame has no respondents to weight.")
    if max_iter < 1 or not tol > 0:
        raise InputError(f"max_iter must be >= 1 and tol > 0 (got {max_iter}, {tol}).")
    if trim is not None:
        lo_b, hi_b = (float(t) for t in trim)
        if not (0 < lo_b <= 1 <= hi_b):
            raise InputError(f"trim bounds must satisfy 0 < low <= 1 <= high, got {trim}.")
    _check_weights(sv["design_weight"].astype("float64").to_numpy(), sv, "design_weight")
    pop = margins["population"].astype("float64").to_numpy()
    if not np.all(np.isfinite(pop) & (pop >= 0)):
        raise InputError(
            "Population margins: column 'population' must be non-negative and given for every cell."
        )


def _raking_targets(
    sv: pd.DataFrame, margins: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Locality code of each respondent, population total of each locality, and for each
    raking variable the (locality x category) cell of each respondent and the cells'
    population targets. Raises when a cell with population has no respondents or the
    reverse."""
    pop = margins["population"].astype("float64").to_numpy()
    # Localities in order of first appearance; factorize hashes the values once (no text copies).
    r_loc, uniques = pd.factorize(sv["locality_id"], use_na_sentinel=False)
    loc_ids = pd.Index(np.asarray(uniques, dtype=object).astype(str))
    m_loc = margins["locality_id"].astype(str)
    missing = sorted(set(loc_ids) - set(m_loc))
    if missing:
        raise InputError(
            f"Population margins are missing for localit{'y' if len(missing) == 1 else 'ies'} "
            f"{missing}: every locality with respondents needs its margins."
        )
    keep = m_loc.isin(loc_ids).to_numpy()
    L = len(loc_ids)
    m_idx = loc_ids.get_indexer(m_loc[keep])
    m_pop = pop[keep]
    total = np.bincount(m_idx, weights=m_pop, minlength=L)
    if np.any(total <= 0):
        raise InputError(f"Population margins sum to zero for {list(loc_ids[total <= 0])}.")
    index_of, targets = [], []
    for var in RAKING_VARIABLES:
        cats = _margin_categories(margins, var)
        r_cat = _as_categorical(sv[var], cats, var, "The survey frame").codes.astype(np.int64)
        m_cat = _as_categorical(margins.loc[keep, var], cats, var, "The population margins").codes.astype(
            np.int64
        )
        K = len(cats)
        target = np.bincount(m_idx * K + m_cat, weights=m_pop, minlength=L * K)
        count = np.bincount(r_loc * K + r_cat, minlength=L * K)
        for bad_cells, problem in (
            ((target > 0) & (count == 0), "no respondents in margin cell(s) with population"),
            ((target == 0) & (count > 0), "respondents in margin cell(s) with zero population"),
        ):
            if bad_cells.any():
                bad = [f"{loc_ids[i // K]} {var}={cats[i % K]}" for i in np.flatnonzero(bad_cells)[:10]]
                advice = (
                    " Collapse categories or supply other margins." if "no respondents" in problem else ""
                )
                raise InputError(f"Cannot rake: {problem} {bad}.{advice}")
        index_of.append(r_loc * K + r_cat)
        targets.append(target)
    return r_loc, total, index_of, targets


def _worst_error(weights: np.ndarray, index_of: list[np.ndarray], targets: list[np.ndarray]) -> float:
    """The largest relative error of the weighted totals against the raking targets."""
    err = 0.0
    for idx, target in zip(index_of, targets, strict=True):
        cur = np.bincount(idx, weights=weights, minlength=target.size)
        pos = target > 0
        err = max(err, float(np.max(np.abs(cur[pos] - target[pos]) / target[pos])))
    return err


def _bounded_ipf(
    base: np.ndarray,
    index_of: list[np.ndarray],
    targets: list[np.ndarray],
    max_iter: int,
    tol: float,
    trim: tuple[float, float] | None,
) -> np.ndarray:
    """Iterative proportional fitting from ``base``, the adjustment factors clipped to
    ``trim`` after every cycle, until the margins hold to ``tol``; raises otherwise."""
    w = base.copy()
    for _ in range(max_iter):
        for idx, target in zip(index_of, targets, strict=True):
            cur = np.bincount(idx, weights=w, minlength=target.size)
            factor = np.divide(target, cur, out=np.ones_like(target), where=cur > 0)
            w *= factor[idx]
        if trim is not None:
            w = base * np.clip(w / base, float(trim[0]), float(trim[1]))
        if _worst_error(w, index_of, targets) < tol:
            return w
    raise RuntimeError(
        f"Raking did not converge in {max_iter} cycles (largest relative margin error "
        f"{_worst_error(w, index_of, targets):.2e}, tolerance {tol:.0e})"
        + (f"; the trimming bounds {trim} may be too tight for these data." if trim is not None else ".")
    )


def weight_diagnostics(sv: pd.DataFrame, weights, min_n: int = data.MIN_CELL_DEFAULT) -> pd.DataFrame:
    """Per locality: respondents ``n``, Kish effective sample size ``n_eff = (sum w)^2 /
    sum w^2``, design effect due to weighting ``deff = n / n_eff``, and the smallest and
    largest adjustment factor (weight / design weight scaled to the locality total).

    Indexed by locality_id; passed through disclosure control (count column ``n``).
    """
    require_columns(sv, ["locality_id", "design_weight"], "The survey frame")
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


def _weights(df: pd.DataFrame, weights) -> np.ndarray:
    if isinstance(weights, str):
        require_columns(df, [weights], "The frame")
        w = df[weights].astype("float64").to_numpy()
        name = weights
    else:
        w = np.asarray(weights, dtype="float64")
        name = "weights"
        if w.shape != (len(df),):
            raise InputError(f"weights must have one value per row ({len(df)}), got shape {w.shape}.")
    _check_weights(w, df, name)
    return w


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
    """The localities of an :func:`~wholecomm.survey.frame.analysis_frame` not raked on all margins, and why
    (see :func:`rake_with_fallback`); empty when every locality was raked."""
    return pd.DataFrame(frame.attrs.get("weighting", []), columns=_REPORT_EMPTY.columns)


# ------------------------------------------------------------------ composition
def composition(frame: pd.DataFrame, margins: pd.DataFrame, pooling: str = POOLING) -> pd.DataFrame:
    """Sample composition against the population margins, in percent, pooled over
    localities (``pooling="equal"``: the average of the localities' shares). Tidy:
    variable, category, label, source ("Population", "Sample, unweighted", "Sample, raked"),
    share."""
    require_columns(frame, ["locality_id", "weight", *RAKING_VARIABLES], "The analysis frame")
    require_columns(margins, ["locality_id", *RAKING_VARIABLES, "population"], "The population margins")
    if pooling not in ("weights", "equal"):
        raise InputError(f"pooling must be 'weights' or 'equal', got {pooling!r}.")
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
