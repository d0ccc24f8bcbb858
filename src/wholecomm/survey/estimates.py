"""Design-based estimates for the residents of the studied localities: weighted means
and shares with Taylor-linearised standard errors (localities as strata), by groups,
and the awareness and impact estimates built on them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit, logit

from ..errors import InputError, require_columns
from .coding import (
    DONT_KNOW,
    GROUPINGS,
    OVERALL_LABEL,
    POOLING,
    RAKING_VARIABLES,
    REFUSED,
    _first_ids,
)
from .weights import _weights

# ----------------------------------------------------------------- estimation


def _values(df: pd.DataFrame, value: str, proportion: bool) -> np.ndarray:
    require_columns(df, [value], "The frame")
    col = df[value]
    if col.dtype == bool or str(col.dtype) == "boolean":
        y = col.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    else:
        try:
            y = pd.to_numeric(col, errors="raise").astype("float64").to_numpy()
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"Column {value!r} must be numeric or boolean to be estimated ({exc})."
            ) from None
    if np.isinf(y).any():
        raise InputError(f"Column {value!r} has infinite values.")
    if proportion:
        bad = np.isfinite(y) & ~np.isin(y, (0.0, 1.0))
        if bad.any():
            raise InputError(
                f"A proportion needs 0/1 or true/false values; column {value!r} has "
                f"{sorted(pd.unique(y[bad]).tolist())[:5]} ({_first_ids(df, bad)})."
            )
    return y


def _codes(df: pd.DataFrame, column: str | None, what: str) -> np.ndarray:
    """Integer codes (sorted) of a design column; one code for all rows when ``column`` is None."""
    if column is None:
        return np.zeros(len(df), dtype=np.int64)
    require_columns(df, [column], "The frame")
    if df[column].isna().any():
        raise InputError(f"{what} column {column!r} is empty for {int(df[column].isna().sum())} rows.")
    return pd.factorize(df[column], sort=True)[0].astype(np.int64)


def _domains(df: pd.DataFrame, by) -> tuple[np.ndarray, pd.DataFrame]:
    """Domain code of each row and the table of domains (the ``by`` columns)."""
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    require_columns(df, by_cols, "The frame")
    if not by_cols:
        return np.zeros(len(df), dtype=np.int64), pd.DataFrame(index=[0])
    for c in by_cols:
        if df[c].isna().any():
            raise InputError(
                f"Grouping column {c!r} is empty for {int(df[c].isna().sum())} rows; assign them a category first."
            )
    grouped = df.groupby(by_cols, observed=True, sort=True)
    keys = grouped.size().index
    groups = (
        keys.to_frame(index=False) if isinstance(keys, pd.MultiIndex) else pd.DataFrame({by_cols[0]: keys})
    )
    return grouped.ngroup().to_numpy().astype(np.int64), groups


def _calibration_cells(
    df: pd.DataFrame, h: np.ndarray, calibration: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Cell of each row (stratum x categories of every calibration variable) and, per cell,
    its stratum and its dummy vector over the variables' categories (columns: the
    categories of each variable in turn)."""
    require_columns(df, list(calibration), "The frame")
    codes = [pd.factorize(df[v].astype(str), sort=True)[0].astype(np.int64) for v in calibration]
    sizes = [int(c.max()) + 1 for c in codes]
    key = h.copy()
    for c, k in zip(codes, sizes, strict=True):
        key = key * k + c
    q, inverse = np.unique(key, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    first = order[np.searchsorted(inverse[order], np.arange(len(q)))]  # one row of each cell
    dummies = np.zeros((len(q), sum(sizes)))
    offset = 0
    for c, k in zip(codes, sizes, strict=True):
        dummies[np.arange(len(q)), offset + c[first]] = 1.0
        offset += k
    return inverse.astype(np.int64), np.column_stack([h[first], dummies])


def _stratum_sums(
    z: np.ndarray, w: np.ndarray, g: np.ndarray, h: np.ndarray, G: int, H: int, cells: tuple | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per domain and stratum, the sum and the sum of squares of the linearised values
    ``z`` (``z_i = w_i u_i``). With calibration ``cells`` (see ``_calibration_cells``),
    ``u`` is first replaced by its residual from the weighted regression, within each
    stratum, on the dummies of the calibration variables (Deville and Sarndal 1992): the
    residual of every row, also of rows outside the domain, enters the domain's variance."""
    if cells is None:
        cell = g * H + h
        s1 = np.bincount(cell, weights=z, minlength=G * H).reshape(G, H)
        return s1, np.bincount(cell, weights=z * z, minlength=G * H).reshape(G, H)
    q, info = cells
    Q = info.shape[0]
    stratum, x = info[:, 0].astype(np.int64), info[:, 1:]
    qg = q * G + g
    a1 = np.bincount(qg, weights=z, minlength=Q * G).reshape(Q, G)  # sum of w u
    a2 = np.bincount(qg, weights=z * z, minlength=Q * G).reshape(Q, G)  # sum of (w u)^2
    c = np.bincount(qg, weights=w * z, minlength=Q * G).reshape(Q, G)  # sum of w^2 u
    sw = np.bincount(q, weights=w, minlength=Q)
    sw2 = np.bincount(q, weights=w * w, minlength=Q)
    xwx = np.zeros((H, x.shape[1], x.shape[1]))
    np.add.at(xwx, stratum, sw[:, None, None] * x[:, :, None] * x[:, None, :])
    xwu = np.zeros((H, x.shape[1], G))
    np.add.at(xwu, stratum, x[:, :, None] * a1[:, None, :])
    beta = np.linalg.pinv(xwx) @ xwu  # H x K x G
    fitted = np.einsum("qk,qkg->qg", x, beta[stratum])
    e1 = a1 - fitted * sw[:, None]
    e2 = a2 - 2 * fitted * c + fitted**2 * sw2[:, None]
    t1 = np.zeros((H, G))
    t2 = np.zeros((H, G))
    np.add.at(t1, stratum, e1)
    np.add.at(t2, stratum, e2)
    return t1.T, t2.T


def _interval(R: np.ndarray, se: np.ndarray, q: float, proportion: bool) -> tuple[np.ndarray, np.ndarray]:
    """t interval of a mean; for a proportion, on the logit scale (0 and 1 get a zero-width interval)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if not proportion:
            return R - q * se, R + q * se
        inside = (R > 0) & (R < 1)
        half = np.where(inside, q * se / (R * (1 - R)), 0.0)
        lg = logit(np.clip(R, 1e-12, 1 - 1e-12))
        return np.where(inside, expit(lg - half), R), np.where(inside, expit(lg + half), R)


def _estimate(
    df: pd.DataFrame,
    value: str,
    weights,
    by,
    level: float,
    strata: str | None,
    pooling: str,
    proportion: bool,
    calibration: Sequence[str] | None = None,
    fpc: bool = False,
) -> pd.DataFrame:
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1, got {level}.")
    if pooling not in ("weights", "equal"):
        raise InputError(f"pooling must be 'weights' or 'equal', got {pooling!r}.")
    if (calibration or fpc) and strata is None:
        raise InputError("Calibration-aware variance and the finite population correction need strata.")
    y = _values(df, value, proportion)
    w = _weights(df, weights)
    n_rows = len(df)
    h = _codes(df, strata, "Stratum")
    H = int(h.max()) + 1 if n_rows else 0
    n_h = np.bincount(h, minlength=H).astype(float)
    # Sampling fraction of each stratum: respondents over the stratum's population, the sum
    # of its weights (raked weights sum to the locality's adult population).
    f_h = n_h / np.bincount(h, weights=w, minlength=H) if fpc else np.zeros(H)
    if np.any(f_h > 1):
        # Weights that sum to fewer than the respondents are not population counts (e.g.
        # design weights left unraked): no correction there, which is conservative, and said.
        names = pd.Series(df[strata].astype(str).to_numpy()).groupby(h).first()
        skipped = [str(names[k]) for k in np.flatnonzero(f_h > 1)]
        warnings.warn(
            f"Finite population correction not applied in {len(skipped)} stratum/strata "
            f"({', '.join(skipped[:10])}{', ...' if len(skipped) > 10 else ''}): their weights sum to "
            "fewer than their respondents, so they are not population counts; the standard errors "
            "there are computed without the correction (conservative).",
            UserWarning,
            stacklevel=3,
        )
        f_h = np.where(f_h > 1, 0.0, f_h)
    if pooling == "equal":
        w = w / np.bincount(h, weights=w, minlength=H)[h]
    g, groups = _domains(df, by)
    G = len(groups)

    valid = np.isfinite(y)
    yv = np.where(valid, y, 0.0)
    wv = np.where(valid, w, 0.0)
    W = np.bincount(g, weights=wv, minlength=G)
    n = np.bincount(g, weights=valid.astype(float), minlength=G)
    with np.errstate(invalid="ignore", divide="ignore"):
        R = np.bincount(g, weights=wv * yv, minlength=G) / W
        z = np.where(valid, wv * (yv - R[g]) / W[g], 0.0)
    cells = _calibration_cells(df, h, calibration) if calibration else None
    s1, s2 = _stratum_sums(z, w, g, h, G, H, cells)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n_h > 1, (1 - f_h) * n_h / (n_h - 1), np.nan)
        contrib = factor[None, :] * (s2 - s1 * s1 / n_h[None, :])
    # A domain with valid answers in a stratum of a single respondent has no estimable
    # variance: its se (and CI) is NaN rather than an understatement.
    used = np.bincount(g * H + h, weights=(valid & (wv > 0)).astype(float), minlength=G * H).reshape(G, H) > 0
    var = np.where(used, contrib, 0.0).sum(axis=1)
    var[(used & (n_h <= 1)[None, :]).any(axis=1)] = np.nan
    se = np.sqrt(np.clip(var, 0.0, None))
    dof = n_rows - H
    q = stats.t.ppf(0.5 + level / 2, dof) if dof >= 1 else stats.norm.ppf(0.5 + level / 2)
    lo, hi = _interval(R, se, q, proportion)
    out = groups.copy()
    out["estimate"] = R
    out["se"] = se
    out["ci_low"] = lo
    out["ci_high"] = hi
    out["n"] = n.astype(np.int64)
    out.loc[n == 0, ["estimate", "se", "ci_low", "ci_high"]] = np.nan
    return out.reset_index(drop=True)


#: The design of estimates about the residents of the studied localities (the chapter's
#: summaries): localities as strata, raked weights treated as calibrated on the raking
#: variables, and the finite population correction of each locality.
RESIDENT_DESIGN: dict = {"calibration": RAKING_VARIABLES, "fpc": True}


def weighted_mean(
    df: pd.DataFrame,
    value: str,
    weights,
    by=None,
    level: float = 0.95,
    strata: str | None = "locality_id",
    pooling: str = "weights",
    calibration: Sequence[str] | None = None,
    fpc: bool = False,
) -> pd.DataFrame:
    """Weighted mean of ``value`` (overall or by the ``by`` column(s)) with a design-based CI.

    ``weights``: a column name or one value per row (positive). Taylor linearisation with
    ``strata`` as strata (``None``: one stratum); see the module docstring for the design
    and for ``pooling``. Missing values are left out (``n`` counts the rest). Returns a tidy
    frame: the ``by`` columns, estimate, se, ci_low, ci_high, n.

    ``calibration``: the variables the weights were raked on within each stratum (e.g.
    :data:`~wholecomm.survey.coding.RAKING_VARIABLES`); the variance then treats the
    weights as calibrated rather than fixed (residuals from the weighted regression on the
    variables' categories within each stratum; raking is asymptotically such a
    calibration). ``fpc``: multiply each stratum's variance by ``1 - n_h / N_h``, with
    ``N_h`` the sum of the stratum's weights (raked weights sum to the locality's adult
    population). :data:`RESIDENT_DESIGN` sets both, as the chapter's estimates do.
    """
    return _estimate(df, value, weights, by, level, strata, pooling, False, calibration, fpc)


def weighted_proportion(
    df: pd.DataFrame,
    value: str,
    weights,
    by=None,
    level: float = 0.95,
    strata: str | None = "locality_id",
    pooling: str = "weights",
    calibration: Sequence[str] | None = None,
    fpc: bool = False,
) -> pd.DataFrame:
    """Weighted share of respondents with ``value`` true (or 1), like :func:`weighted_mean`,
    with the interval computed on the logit scale. Values must be 0/1 or boolean (missing
    allowed and left out)."""
    return _estimate(df, value, weights, by, level, strata, pooling, True, calibration, fpc)


def difference(a: pd.Series, b: pd.Series, level: float = 0.95) -> dict:
    """Difference ``a - b`` of two estimates from **disjoint sets of strata** (independent),
    each a row with estimate and se; normal-approximation CI."""
    est = float(a["estimate"] - b["estimate"])
    se = float(np.hypot(a["se"], b["se"]))
    q = stats.norm.ppf(0.5 + level / 2)
    return {"estimate": est, "se": se, "ci_low": est - q * se, "ci_high": est + q * se}


def by_groups(
    frame: pd.DataFrame,
    value: str,
    kind: str = "mean",
    groupings: Sequence[str] = GROUPINGS,
    weights: str = "weight",
    pooling: str = POOLING,
    level: float = 0.95,
    design: dict | None = None,
) -> pd.DataFrame:
    """Estimates of ``value`` overall and by each grouping column, stacked in one tidy frame
    with columns grouping, group, estimate, se, ci_low, ci_high, n. ``kind``: "mean" or "proportion".
    ``design``: keyword arguments of the variance (default :data:`RESIDENT_DESIGN`)."""
    design = RESIDENT_DESIGN if design is None else design
    if kind not in ("mean", "proportion"):
        raise InputError(f"kind must be 'mean' or 'proportion', got {kind!r}.")
    fn = weighted_mean if kind == "mean" else weighted_proportion
    parts = []
    for grouping in groupings:
        if grouping == "overall":
            est = fn(frame, value, weights, None, level, pooling=pooling, **design).assign(
                group=OVERALL_LABEL
            )
        else:
            est = fn(frame, value, weights, grouping, level, pooling=pooling, **design)
            est = est.rename(columns={grouping: "group"})
            est["group"] = est["group"].astype(str)
        parts.append(est.assign(grouping=grouping))
    out = pd.concat(parts, ignore_index=True)
    return out[["grouping", "group", "estimate", "se", "ci_low", "ci_high", "n"]]


# ------------------------------------------------------------------ awareness
def awareness(
    frame: pd.DataFrame,
    groupings: Sequence[str] = ("overall", "country"),
    pooling: str = POOLING,
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted share aware of any local integration measure (8/9 missing), tidy by grouping."""
    return by_groups(frame, "aware_measures", "proportion", groupings, pooling=pooling, level=level)


def perceived_impact(
    frame: pd.DataFrame,
    groupings: Sequence[str] = ("overall", "country"),
    pooling: str = POOLING,
    level: float = 0.95,
) -> pd.DataFrame:
    """Perceived impact of local measures among respondents aware of them (the question's
    routing), 8/9 missing: the mean on 1 (very negative) ... 5 (very positive) and the share
    answering positive (4 or 5). Tidy: measure, grouping, group, estimate, se, ci_low, ci_high, n."""
    require_columns(frame, ["impact_measures"], "The analysis frame")
    tmp = frame.copy()
    tmp["impact_positive"] = np.where(tmp["impact_measures"].notna(), tmp["impact_measures"] >= 4, np.nan)
    mean = by_groups(tmp, "impact_measures", "mean", groupings, pooling=pooling, level=level).assign(
        measure="mean_1_5"
    )
    pos = by_groups(tmp, "impact_positive", "proportion", groupings, pooling=pooling, level=level).assign(
        measure="share_positive"
    )
    out = pd.concat([mean, pos], ignore_index=True)
    return out[["measure", "grouping", "group", "estimate", "se", "ci_low", "ci_high", "n"]]


def awareness_dont_know(
    sv: pd.DataFrame, frame: pd.DataFrame, pooling: str = POOLING, level: float = 0.95
) -> pd.DataFrame:
    """Sensitivity of the awareness share to the treatment of "don't know" (code 8):
    as missing (the chapter's rule), as not aware, and as aware (the two bounds);
    refusals (9) stay missing throughout. ``sv``: the survey resource (raw codes);
    ``frame``: its :func:`~wholecomm.survey.frame.analysis_frame` (weights). Tidy: treatment, estimate, se, ci_low,
    ci_high, n, and ``dont_know_share`` (unweighted share of don't-know answers)."""
    require_columns(sv, ["respondent_id", "aware_measures"], "The survey")
    require_columns(frame, ["respondent_id", "weight", "locality_id"], "The analysis frame")
    codes = sv.set_index(sv["respondent_id"].astype(str))["aware_measures"]
    ids = frame["respondent_id"].astype(str)
    missing = sorted(set(ids) - set(codes.index))
    if missing:
        raise InputError(
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
                **{v: frame[v].to_numpy() for v in RAKING_VARIABLES},
                "aware": y,
            },
            index=frame.index,
        )
        est = weighted_proportion(
            tmp, "aware", "weight", level=level, pooling=pooling, **RESIDENT_DESIGN
        ).iloc[0]
        rows.append(
            {"treatment": treatment, **{k: est[k] for k in ("estimate", "se", "ci_low", "ci_high", "n")}}
        )
    out = pd.DataFrame(rows)
    out["dont_know_share"] = float(np.mean(raw == DONT_KNOW))
    return out
