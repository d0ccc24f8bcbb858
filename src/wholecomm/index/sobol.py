"""Variance-based (Sobol) sensitivity of the ranking to each uncertain assumption."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from .common import DEFAULT_SEED
from .perturbation import FACTORS, SENSITIVITY_LABELS, _as_result, _check_factors, _evaluate, _prepare, _ranks
from .scoring import rank
from .uncertainty import MonteCarloResult, _mc_result


# ---------------------------------------------------------- Sobol sensitivity
@dataclass
class SensitivityResult:
    """First-order and total Sobol indices of each factor on each output.

    ``indices``: output, factor, label, S1, S1_ci_low, S1_ci_high, ST, ST_ci_low, ST_ci_high (bootstrap
    percentile intervals); ``mc``: the draws of the design (its rows follow Saltelli's
    scheme, so they are not independent draws); ``n_base``: the base sample size N."""

    indices: pd.DataFrame
    mc: MonteCarloResult
    n_base: int
    factors: list
    outputs: list


MEAN_SHIFT = "mean_abs_rank_shift"


def _sobol_resamples(a: np.ndarray, ab: np.ndarray, b: np.ndarray, counts: np.ndarray):
    """SALib's first-order and total estimators on bootstrap resamples of the base rows,
    given as multiplicities (``counts``: resamples x base rows). Equal to
    ``first_order(A[r], AB[r], B[r])`` and ``total_order(...)`` for the resample ``r``
    with those multiplicities, computed as matrix products of the counts with per-row
    terms instead of gathering every resample (same values, far faster)."""
    n = counts.shape[1]
    mean_y = counts @ (a + b) / (2 * n)
    var = counts @ (a * a + b * b) / (2 * n) - mean_y**2
    eps = np.finfo(float).eps
    ok = var > eps
    safe = np.where(ok, var, 1.0)
    s1 = np.where(ok, (counts @ (b * (ab - a)) / n) / safe, 0.0)
    st = np.where(ok, (0.5 * counts @ ((a - ab) ** 2) / n) / safe, 0.0)
    return s1, st


def sobol_indices(
    model,
    problem: dict,
    n_base: int = 2048,
    seed: int = DEFAULT_SEED,
    num_resamples: int = 200,
    level: float = 0.95,
):
    """First-order and total Sobol indices of a vector function ``model(X) -> Y`` (rows of
    X = draws, columns = the inputs of ``problem`` in SALib's form, optionally with
    ``groups``; Y = draws, or draws x outputs).

    Design: Saltelli's scheme on a scrambled Sobol sequence (SALib ``sample.sobol``,
    ``n_base * (factors + 2)`` rows). Estimators: SALib's (Saltelli et al. 2010 first
    order, Jansen total), applied to every output at once on the standardised output.
    Intervals: percentile bootstrap over the ``n_base`` base rows (``num_resamples``
    resamples, ``level``), the resampling SALib uses (``_sobol_resamples``).

    Returns (indices, X, Y): ``indices`` a tidy frame with output (column number of Y),
    factor, S1, S1_ci_low, S1_ci_high, ST, ST_ci_low, ST_ci_high."""
    import warnings

    from SALib.analyze.sobol import first_order, total_order
    from SALib.sample import sobol as sobol_sample

    if n_base < 2 or n_base & (n_base - 1):
        raise InputError(f"n_base must be a power of 2 (Sobol sequence), got {n_base!r}.")
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1, got {level!r}.")
    x = sobol_sample.sample(problem, n_base, calc_second_order=False, scramble=True, seed=seed)
    y = np.asarray(model(x), dtype=float)
    y2 = y.reshape(len(x), -1)
    names = list(dict.fromkeys(problem.get("groups") or problem["names"]))
    d = len(names)
    sd = y2.std(axis=0)
    z = np.where(sd > 0, (y2 - y2.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)
    z = z.reshape(n_base, d + 2, -1)
    a_, b_ = z[:, 0], z[:, d + 1]
    rng = np.random.default_rng(seed)
    r = rng.integers(0, n_base, size=(num_resamples, n_base))
    tail = 100 * (1 - level) / 2
    est = {
        key: np.zeros((d, z.shape[2]))
        for key in ("S1", "S1_ci_low", "S1_ci_high", "ST", "ST_ci_low", "ST_ci_high")
    }
    counts = (
        np.bincount(
            (r + n_base * np.arange(num_resamples)[:, None]).ravel(), minlength=num_resamples * n_base
        )
        .reshape(num_resamples, n_base)
        .astype(float)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # constant outputs: SALib returns 0 and warns
        for j in range(d):
            est["S1"][j] = first_order(a_, z[:, 1 + j], b_)
            est["ST"][j] = total_order(a_, z[:, 1 + j], b_)
            s1, st = _sobol_resamples(a_, z[:, 1 + j], b_, counts)
            est["S1_ci_low"][j], est["S1_ci_high"][j] = np.percentile(s1, [tail, 100 - tail], axis=0)
            est["ST_ci_low"][j], est["ST_ci_high"][j] = np.percentile(st, [tail, 100 - tail], axis=0)
    rows = [
        {"output": c, "factor": name, **{key: float(v[k, c]) for key, v in est.items()}}
        for c in range(z.shape[2])
        for k, name in enumerate(names)
    ]
    return pd.DataFrame(rows), x, y


def sensitivity(
    result_or_inputs,
    n_base: int = 2048,
    seed: int = DEFAULT_SEED,
    factors: Sequence[str] = FACTORS,
    num_resamples: int = 200,
    level: float = 0.95,
) -> SensitivityResult:
    """Variance-based (Sobol) sensitivity of the ranking to the factors of :func:`~wholecomm.index.uncertainty.monte_carlo`.

    The factors are grouped (the area weights form one group), sampled with Saltelli's
    design of ``n_base * (factors + 2)`` draws, and each output is analysed with SALib:
    every ranked town's rank, and the mean absolute rank shift (mean over towns of
    ``|draw rank - published rank|``). First-order index S1: the share of the output's
    variance due to the factor alone; total index ST: including its interactions.
    Intervals: bootstrap percentiles over the base samples (``level``)."""
    result = _as_result(result_or_inputs)
    factors = _check_factors(factors)
    if not factors:
        raise InputError("The sensitivity analysis needs at least one factor.")
    rng = np.random.default_rng(seed)
    prep = _prepare(result, rng)
    k = len(prep.areas)
    names = [f"w_{a}" for a in prep.areas] + ["aggregation", "imputation", "threshold", "middle"]
    groups = ["weights"] * k + ["aggregation", "imputation", "threshold", "middle"]
    use = [c for c, g in enumerate(groups) if g in factors]
    problem = {
        "num_vars": len(use),
        "names": [names[c] for c in use],
        "bounds": [[0.0, 1.0]] * len(use),
        "groups": [groups[c] for c in use],
    }
    point_rank = rank(prep.point)["rank"].reindex(prep.ids).to_numpy(dtype=float)
    store = {}

    def model(x: np.ndarray) -> np.ndarray:
        u = np.tile(prep.nominal, (len(x), 1))
        u[:, use] = x
        store["u"] = u
        scores, _ = _evaluate(prep, u)
        ranks = _ranks(scores)
        store["scores"], store["ranks"] = scores, ranks
        return np.column_stack([ranks, np.abs(ranks - point_rank[None, :]).mean(axis=1)])

    idx, _, y = sobol_indices(
        model, problem, n_base=n_base, seed=seed, num_resamples=num_resamples, level=level
    )
    outputs = list(prep.ids) + [MEAN_SHIFT]
    idx["output"] = np.asarray(outputs, dtype=object)[idx["output"].to_numpy()]
    idx.insert(2, "label", idx["factor"].map(SENSITIVITY_LABELS))
    mc = _mc_result(
        prep,
        store["u"],
        seed,
        {"n_draws": len(store["u"]), "factors": factors, "design": "Saltelli", "n_base": n_base},
        scores=store["scores"],
        ranks=store["ranks"],
    )
    return SensitivityResult(indices=idx, mc=mc, n_base=n_base, factors=factors, outputs=outputs)


def sensitivity_summary(sa: SensitivityResult) -> pd.DataFrame:
    """Per factor: its Sobol indices on the mean absolute rank shift (with intervals), and
    the median over towns of its first-order and total indices on the town's rank;
    sorted by the total index on the mean shift (tie-rounded), largest first."""
    idx = sa.indices
    shift = idx[idx["output"] == MEAN_SHIFT].set_index("factor")
    towns = idx[idx["output"] != MEAN_SHIFT].groupby("factor")[["S1", "ST"]].median()
    out = shift[["label", "S1", "S1_ci_low", "S1_ci_high", "ST", "ST_ci_low", "ST_ci_high"]].join(
        towns.rename(columns={"S1": "town_S1_median", "ST": "town_ST_median"})
    )
    out["_key"] = out["ST"].round(6)
    out = out.sort_values(["_key", "label"], ascending=[False, True], kind="stable").drop(columns="_key")
    return out.reset_index()


def town_drivers(sa: SensitivityResult) -> pd.DataFrame:
    """Per ranked town whose rank varies: the assumption with the largest total Sobol
    index on its rank (indices rounded to 6 decimals; ties go to the factor order of
    :data:`~wholecomm.index.perturbation.FACTORS`), with that index. Towns whose rank never changes are left out."""
    idx = sa.indices[sa.indices["output"] != MEAN_SHIFT].copy()
    varies = idx.groupby("output")["ST"].transform(lambda v: (v.abs() > 0).any())
    idx = idx[varies.astype(bool)]
    idx["_key"] = -idx["ST"].round(6)
    idx["_order"] = idx["factor"].map({f: k for k, f in enumerate(FACTORS)})
    top = idx.sort_values(["output", "_key", "_order"], kind="stable").groupby("output", sort=False).head(1)
    return (
        top[["output", "factor", "label", "ST"]]
        .rename(columns={"output": "locality_id"})
        .reset_index(drop=True)
    )


def sensitivity_verdict(summary: pd.DataFrame) -> str:
    """One sentence naming the assumption that drives the rank uncertainty, from the
    total Sobol indices on the mean absolute rank shift and their intervals."""
    top = summary.iloc[0]
    lead = str(top["label"]).lower()
    verb = "matter" if top["factor"] == "weights" else "matters"
    if len(summary) == 1:
        return f"The {lead} {verb} for the rank uncertainty: it is the only assumption varied."
    nxt = summary.iloc[1]
    if top["ST_ci_low"] > nxt["ST_ci_high"]:
        return (
            f"Of the assumptions varied, the {lead} {verb} most for the rank uncertainty: its total "
            f"Sobol index is the largest, and its interval lies above that of the next assumption "
            f"({str(nxt['label']).lower()})."
        )
    return (
        f"The {lead} and the {str(nxt['label']).lower()} matter most for the rank uncertainty: their total "
        "Sobol indices are the largest, and their intervals overlap, so these draws do not say which of "
        "the two matters more."
    )
