"""The uncertain assumptions of the index and how one draw of them rescores every town
(hot-deck donors, decoding the unit-cube design, evaluation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from .. import labels
from ..errors import InputError
from ..numerics import TIE_DECIMALS
from .common import _EPS, MIN_ANSWERED_SHARE, stats
from .scoring import IndexResult, _membership, score

# ------------------------------------------------------- uncertainty analysis
#: The uncertain assumptions of the index (OECD/JRC handbook, COINr practice), in the
#: order of the columns of the unit-cube design (weights take one column per area).
FACTORS = ("weights", "aggregation", "imputation", "threshold", "middle")
#: Their labels (defined in labels).
SENSITIVITY_LABELS = labels.SENSITIVITY_LABELS
#: Each area weight varies uniformly within +-25% of its nominal value (then all are rescaled to sum to 1).
WEIGHT_SPREAD = 0.25
#: Aggregation alternatives, equally likely.
AGGREGATIONS = ("arithmetic", "geometric", "leave_one_area_out")
#: The geometric mean adds a shift to every area score (a 0 would zero the product); the
#: shift is itself uncertain and drawn log-uniformly in this range (points).
GEOMETRIC_SHIFT = (0.1, 10.0)
#: Answered-share thresholds, equally likely (the nominal is MIN_ANSWERED_SHARE).
THRESHOLDS = (1 / 2, 2 / 3, 5 / 6)
#: The middle answer (nominally 50) scores uniformly within this range (points).
MIDDLE_RANGE = (25.0, 75.0)
#: Donors of the hot-deck imputation: the nearest towns that answered the indicator.
N_DONORS = 5
#: Hot-deck realisations drawn once per analysis; each draw uses one of them.
N_REALISATIONS = 100


def _as_result(result_or_inputs) -> IndexResult:
    if isinstance(result_or_inputs, IndexResult):
        return result_or_inputs
    if isinstance(result_or_inputs, dict):
        return score(result_or_inputs["answers"], result_or_inputs["indicators"], result_or_inputs["options"])
    if isinstance(result_or_inputs, (tuple, list)) and len(result_or_inputs) == 3:
        return score(*result_or_inputs)
    raise TypeError(
        "Pass an IndexResult, or (answers, indicators, options) as a tuple or a dict with those keys."
    )


def _check_factors(factors: Sequence[str]) -> list[str]:
    factors = list(factors)
    unknown = [f for f in factors if f not in FACTORS]
    if unknown or len(set(factors)) != len(factors):
        raise InputError(f"factors must be distinct names from {FACTORS}; got {factors}.")
    return [f for f in FACTORS if f in factors]


def hot_deck_donors(result: IndexResult, n_donors: int = N_DONORS) -> dict[tuple[int, int], np.ndarray]:
    """Donor towns of each unanswered item: the ``n_donors`` towns nearest to the town
    that answered that indicator.

    Distance between two towns = mean absolute difference of their scores over the
    indicators both answered (towns with no indicator in common are farthest); ties in
    distance are broken by locality order. Keys are (town row, indicator column) of
    ``result.indicator_scores``; values the donor rows, nearest first."""
    x = result.indicator_scores.to_numpy()
    ans = ~np.isnan(x)
    filled = np.where(ans, x, 0.0)
    okf = ans.astype(float)
    both = okf @ okf.T
    # sum over common items of |a - b| = a + b - 2 min(a, b), and min(a, b) = sum over the
    # distinct score levels v_l of (v_l - v_(l-1)) [a >= v_l][b >= v_l]: matrix products
    # (exact for whole-number scores).
    levels = np.unique(x[ans])
    levels = levels[levels > 0]
    steps = np.diff(np.concatenate([[0.0], levels]))
    dist_sum = filled @ okf.T + okf @ filled.T
    for v, step in zip(levels, steps, strict=False):
        above = (ans & (x >= v)).astype(float)
        dist_sum -= 2 * step * (above @ above.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.where(both > 0, dist_sum / np.maximum(both, 1), np.inf)
    np.fill_diagonal(dist, np.inf)
    dist = np.round(dist, TIE_DECIMALS)
    donors = {}
    for i, j in np.argwhere(~ans):
        pool = np.flatnonzero(ans[:, j])
        pool = pool[pool != i]
        if pool.size == 0:
            raise InputError(
                f"Cannot impute indicator {result.indicator_scores.columns[j]!r}: no other "
                "locality answered it."
            )
        order = np.lexsort((pool, dist[i, pool]))
        donors[(int(i), int(j))] = pool[order[:n_donors]]
    return donors


@dataclass
class _Prepared:
    ids: pd.Index
    areas: list[str]
    lo: np.ndarray  # towns x areas: sum of min(score, 50) over answered items
    hi: np.ndarray  # towns x areas: sum of max(score - 50, 0) over answered items
    n_obs: np.ndarray  # towns x areas: answered items
    share: np.ndarray  # towns x areas: answered share
    hole_lo: np.ndarray  # realisations x towns x areas
    hole_hi: np.ndarray
    hole_n: np.ndarray  # towns x areas: unanswered items
    nominal: np.ndarray  # unit-cube input of the nominal assumptions
    point: pd.Series
    n_holes: int


def _prepare(
    result: IndexResult, rng: np.random.Generator, n_realisations: int = N_REALISATIONS
) -> _Prepared:
    keep = result.overall.notna().to_numpy()
    if keep.sum() < 2:
        raise InputError("The uncertainty analysis needs at least two localities with an overall score.")
    full = result.indicator_scores.to_numpy()
    areas = result.areas
    member = _membership(result.indicators["area"].to_numpy(dtype=object), areas)
    ans = ~np.isnan(full)
    lo = np.where(ans, np.minimum(full, 50.0), 0.0) @ member
    hi = np.where(ans, np.maximum(full - 50.0, 0.0), 0.0) @ member
    n_obs = ans.astype(float) @ member
    share = n_obs / member.sum(axis=0)[None, :]
    holes = np.argwhere(~ans)
    holes = holes[keep[holes[:, 0]]]
    donors = hot_deck_donors(result, n_donors=N_DONORS) if len(holes) else {}
    area_of = member.argmax(axis=1)
    n_all = full.shape[0]
    hole_lo = np.zeros((n_realisations, n_all, len(areas)))
    hole_hi = np.zeros_like(hole_lo)
    hole_n = np.zeros((n_all, len(areas)))
    for i, j in holes:
        pool = donors[(int(i), int(j))]
        values = full[pool[rng.integers(0, pool.size, size=n_realisations)], j]
        a = area_of[j]
        hole_lo[:, i, a] += np.minimum(values, 50.0)
        hole_hi[:, i, a] += np.maximum(values - 50.0, 0.0)
        hole_n[i, a] += 1
    k = len(areas)
    match = np.flatnonzero(np.isclose(np.asarray(THRESHOLDS), result.min_answered_share))
    if match.size != 1:
        raise InputError(
            f"The uncertainty analysis varies the answered-share threshold around the published one, "
            f"which must be one of {[str(Fraction(t).limit_denominator(12)) for t in THRESHOLDS]}; "
            f"these scores use {result.min_answered_share!r}."
        )
    nominal = np.concatenate([np.full(k, 0.5), [0.0, 0.0, (match[0] + 0.5) / len(THRESHOLDS), 0.5]])
    return _Prepared(
        ids=pd.Index(np.asarray(result.overall.index)[keep], name="locality_id"),
        areas=areas,
        lo=lo[keep],
        hi=hi[keep],
        n_obs=n_obs[keep],
        share=share[keep],
        hole_lo=hole_lo[:, keep],
        hole_hi=hole_hi[:, keep],
        hole_n=hole_n[keep],
        nominal=nominal,
        point=result.overall[keep],
        n_holes=int(len(holes)),
    )


def _decode(u: np.ndarray, n_areas: int, n_realisations: int) -> dict[str, np.ndarray]:
    """Factor values from unit-cube inputs (one row per draw)."""
    w = (1.0 + WEIGHT_SPREAD * (2.0 * u[:, :n_areas] - 1.0)) / n_areas
    w = w / w.sum(axis=1, keepdims=True)
    ua, ui, ut, um = (np.clip(u[:, n_areas + c], 0.0, 1.0 - 1e-12) for c in range(4))
    agg = np.floor(ua * len(AGGREGATIONS)).astype(int)
    within = ua * len(AGGREGATIONS) - agg
    lo_s, hi_s = np.log10(GEOMETRIC_SHIFT[0]), np.log10(GEOMETRIC_SHIFT[1])
    shift = 10.0 ** (lo_s + within * (hi_s - lo_s))
    left_out = np.floor(within * n_areas).astype(int)
    hot = ui >= 0.5
    realisation = np.floor((ui * 2 - hot) * n_realisations).astype(int)
    threshold = np.asarray(THRESHOLDS)[np.floor(ut * len(THRESHOLDS)).astype(int)]
    middle = MIDDLE_RANGE[0] + um * (MIDDLE_RANGE[1] - MIDDLE_RANGE[0])
    return {
        "weights": w,
        "aggregation": agg,
        "shift": shift,
        "left_out": left_out,
        "hot_deck": hot,
        "realisation": realisation,
        "threshold": threshold,
        "middle": middle,
    }


def _evaluate(prep: _Prepared, u: np.ndarray) -> tuple[np.ndarray, dict]:
    """Overall scores (draws x towns) for unit-cube inputs ``u``.

    An area score is linear in the middle answer's score m: with c = m / 50 - 1 it is
    P + c Q, where P is the mean of the (possibly completed) answers and Q the mean of
    min(s, 50) - max(s - 50, 0). P and Q depend only on which cells are completed and by
    which hot-deck realisation, so draws are grouped by that and each group is
    aggregated with matrix products (arithmetic and leave-one-out) or elementwise
    (geometric)."""
    k = len(prep.areas)
    n_real = prep.hole_lo.shape[0]
    f = _decode(u, k, n_real)
    n_draws, n_loc = len(u), len(prep.ids)
    out = np.empty((n_draws, n_loc))
    with np.errstate(invalid="ignore", divide="ignore"):
        p0 = (prep.lo + prep.hi) / prep.n_obs
        q0 = (prep.lo - prep.hi) / prep.n_obs
        cnt1 = prep.n_obs + prep.hole_n
    c = f["middle"] / 50.0 - 1.0
    t_idx = np.abs(f["threshold"][:, None] - np.asarray(THRESHOLDS)[None, :]).argmin(axis=1)
    below = [prep.share < t - _EPS for t in THRESHOLDS]
    has_holes = [bool((b_ & (prep.hole_n > 0)).any()) for b_ in below]
    r = f["realisation"]
    # group key: hot-deck realisation, or (threshold, realisation) under the point rule
    key = np.where(f["hot_deck"], r, n_real * (1 + t_idx) + np.where(np.asarray(has_holes)[t_idx], r, 0))
    w_all = f["weights"]
    w_loo_all = w_all.copy()
    w_loo_all[np.arange(n_draws), f["left_out"]] = 0.0
    w_loo_all /= w_loo_all.sum(axis=1, keepdims=True)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for idx in np.split(order, bounds):
        g = int(key[idx[0]])
        rr = g % n_real
        p1 = (prep.lo + prep.hi + prep.hole_lo[rr] + prep.hole_hi[rr]) / cnt1
        q1 = (prep.lo - prep.hi + prep.hole_lo[rr] - prep.hole_hi[rr]) / cnt1
        if g < n_real:
            p, q = p1, q1
        else:
            mask = below[g // n_real - 1]
            p, q = np.where(mask, p1, p0), np.where(mask, q1, q0)
        agg = f["aggregation"][idx]
        for kind, weights in ((0, w_all), (2, w_loo_all)):
            sel = idx[agg == kind]
            if sel.size:
                w = weights[sel].T
                out[sel] = (p @ w + (q @ w) * c[sel][None, :]).T
        sel = idx[agg == 1]
        if sel.size:
            shift = f["shift"][sel][:, None, None]
            area = p[None] + c[sel][:, None, None] * q[None]
            out[sel] = np.exp(np.einsum("dla,da->dl", np.log(area + shift), w_all[sel])) - shift[:, :, 0]
    return out, f


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks within each draw (1 = best, ties share the best rank) on tie-rounded scores."""
    return stats.rankdata(-np.round(scores, TIE_DECIMALS), method="min", axis=1).astype(np.int32)


def _design(prep: _Prepared, u: np.ndarray, factors: list[str]) -> np.ndarray:
    """Hold the factors not in ``factors`` at their nominal value."""
    k = len(prep.areas)
    cols = {
        "weights": list(range(k)),
        "aggregation": [k],
        "imputation": [k + 1],
        "threshold": [k + 2],
        "middle": [k + 3],
    }
    fixed = [c for f in FACTORS if f not in factors for c in cols[f]]
    u = np.array(u, dtype=float)
    u[:, fixed] = prep.nominal[fixed]
    return u


def factor_table(keys: bool = True) -> pd.DataFrame:
    """The uncertainty factors of :func:`~wholecomm.index.uncertainty.monte_carlo`: nominal choice, alternatives and
    why they are plausible, built from the module's constants; ``keys=False`` leaves out the
    factors' code names (column ``factor``), for readers."""
    frac = ", ".join(str(Fraction(t).limit_denominator(12)) for t in THRESHOLDS)
    lo_w, hi_w = 1 - WEIGHT_SPREAD, 1 + WEIGHT_SPREAD
    table = pd.DataFrame(
        [
            {
                "factor": "weights",
                "label": SENSITIVITY_LABELS["weights"],
                "nominal": "equal weights",
                "alternatives": f"each weight uniform from {lo_w:.2f} to {hi_w:.2f} times nominal, rescaled to sum to 1",
                "why": "no area is known to matter more; the perturbation around the nominal weights of the OECD/JRC "
                "handbook and COINr",
            },
            {
                "factor": "aggregation",
                "label": SENSITIVITY_LABELS["aggregation"],
                "nominal": "arithmetic mean of areas",
                "alternatives": f"geometric mean of area scores shifted by {GEOMETRIC_SHIFT[0]:g}-{GEOMETRIC_SHIFT[1]:g} "
                "points (log-uniform); arithmetic mean leaving one area out; each equally likely",
                "why": "the geometric mean lets a weak area pull the score down (less compensation); leaving an area "
                "out asks whether one area makes the ranking",
            },
            {
                "factor": "imputation",
                "label": SENSITIVITY_LABELS["imputation"],
                "nominal": "point rule: an area is the mean of the town's own answers",
                "alternatives": f"hot-deck: each unanswered item takes the answer given to it by one of the {N_DONORS} "
                f"most similar towns that answered it ({N_REALISATIONS} realisations); equally likely",
                "why": "the point rule equals imputing the town's own area mean; the hot-deck respects how the town "
                "answered elsewhere",
            },
            {
                "factor": "threshold",
                "label": SENSITIVITY_LABELS["threshold"],
                "nominal": str(Fraction(MIN_ANSWERED_SHARE).limit_denominator(12)),
                "alternatives": f"{frac}, equally likely; areas answered below the threshold are completed by the hot-deck",
                "why": "how many answers an area needs is a convention",
            },
            {
                "factor": "middle",
                "label": SENSITIVITY_LABELS["middle"],
                "nominal": "50 points",
                "alternatives": f"uniform from {MIDDLE_RANGE[0]:g} to {MIDDLE_RANGE[1]:g} points (0 and 100 fixed)",
                "why": "the answers are ordered categories; their spacing is a convention",
            },
        ]
    )
    return table if keys else table.drop(columns="factor")
