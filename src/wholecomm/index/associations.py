"""Associations of the index with residents' attitudes: social cohesion by town and the
mixed model of individual attitudes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, require_columns
from ..stats import ols_cluster as _ols_cluster
from ..stats import wild_cluster_bootstrap
from .common import DEFAULT_SEED, _rows_text, stats
from .intervals import country_icc


# ---------------------------------------------------------- social cohesion
def _pearson_ci(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    n = len(x)
    if n < 4:
        raise InputError(f"A correlation with a Fisher-z interval needs at least 4 pairs; got {n}.")
    res = stats.pearsonr(x, y)
    r = float(res.statistic)
    z, se = np.arctanh(np.clip(r, -0.999999, 0.999999)), 1 / np.sqrt(n - 3)
    q = stats.norm.ppf(0.5 + level / 2)
    return r, float(np.tanh(z - q * se)), float(np.tanh(z + q * se)), float(res.pvalue)


@dataclass
class Association:
    """Town-level association between the index and one cohesion outcome."""

    outcome: str
    n: int
    slope: float  # outcome units per 10 index points
    slope_ci_low: float
    slope_ci_high: float
    slope_p: float
    intercept: float  # predicted outcome at an index of 50
    r: float
    r_ci_low: float
    r_ci_high: float
    r_p: float
    points: pd.DataFrame  # locality_id, index, outcome (+ its interval if given)
    line: pd.DataFrame  # index, fit, ci_low, ci_high (95% confidence band of the mean)
    excluded: pd.DataFrame
    # country-aware inference (when clusters are given; NaN otherwise)
    n_clusters: int = 0
    cluster_slope_ci_low: float = float("nan")  # CR1 cluster-robust, t with G - 1 df
    cluster_slope_ci_high: float = float("nan")
    cluster_p: float = float("nan")
    wild_p: float = float("nan")  # wild cluster restricted bootstrap, Webb weights
    wild_n_boot: int = 0
    fe_slope: float = float("nan")  # with country fixed effects, CR1, t with G - 1 df
    fe_slope_ci_low: float = float("nan")
    fe_slope_ci_high: float = float("nan")
    fe_p: float = float("nan")
    country_icc: float = float("nan")  # ICC of the outcome within countries


def cohesion_association(
    index_scores: pd.Series,
    outcomes: pd.DataFrame,
    outcome: str = "attitude_index",
    centre: float = 50.0,
    per: float = 10.0,
    clusters: pd.Series | None = None,
    n_boot: int = 9999,
    seed: int = DEFAULT_SEED,
) -> Association:
    """OLS of a town-level cohesion outcome on the town's index score, and Pearson r.

    ``index_scores``: Series indexed by locality_id (e.g. :func:`~wholecomm.index.scoring.overall_scores`);
    ``outcomes``: frame indexed by locality_id with the ``outcome`` column (e.g.
    ``survey.locality_outcomes()``). Rule: a town enters when it has both an index score
    and a (not suppressed) outcome; the others are listed in ``excluded`` with the
    reason. The slope is per ``per`` index points (centred at ``centre``) with a 95% t
    interval; r has a 95% interval via Fisher's z. Towns weigh equally (unweighted OLS).

    With ``clusters`` (locality_id -> country) the towns of a country count as
    correlated: the slope also gets a CR1 cluster-robust interval and p-value with
    G - 1 degrees of freedom, a wild cluster restricted bootstrap p-value
    (:func:`wholecomm.stats.wild_cluster_bootstrap`, ``n_boot`` samples) and an estimate within
    countries (country fixed effects, CR1, G - 1 df).
    """
    import statsmodels.api as sm

    if not isinstance(index_scores, pd.Series):
        raise TypeError("index_scores must be a Series indexed by locality_id.")
    if not isinstance(outcomes, pd.DataFrame):
        raise TypeError("outcomes must be a DataFrame indexed by locality_id.")
    if outcome not in outcomes.columns:
        raise InputError(f"outcomes lacks the column {outcome!r}; it has {list(outcomes.columns)}.")
    for name, idx in (("index_scores", index_scores.index), ("outcomes", outcomes.index)):
        if idx.has_duplicates:
            raise InputError(
                f"{name}: locality_id must be unique; duplicated: {list(idx[idx.duplicated()][:10])}."
            )
    x_all = pd.to_numeric(index_scores, errors="raise").astype(float)
    x_all.index = x_all.index.astype(str)
    y_all = pd.to_numeric(outcomes[outcome], errors="raise").astype("Float64").astype(float)
    y_all.index = outcomes.index.astype(str)
    ids = sorted(set(x_all.index) | set(y_all.index))
    x, y = x_all.reindex(ids), y_all.reindex(ids)
    reason = np.where(
        x.isna() & y.isna(),
        "no index score and no outcome",
        np.where(x.isna(), "no index score", np.where(y.isna(), "no outcome (or suppressed)", "")),
    )
    excluded = pd.DataFrame({"locality_id": ids, "reason": reason})
    excluded = excluded[excluded["reason"] != ""].reset_index(drop=True)
    use = reason == ""
    xs, ys = x[use], y[use]
    n = int(use.sum())
    if n < 4:
        raise InputError(f"Need at least 4 towns with both an index score and an outcome; got {n}.")
    xc = (xs.to_numpy() - centre) / per
    fit = sm.OLS(ys.to_numpy(), sm.add_constant(xc, has_constant="add")).fit()
    ci = fit.conf_int(0.05)
    r, r_ci_low, r_ci_high, r_p = _pearson_ci(xs.to_numpy(), ys.to_numpy())
    points = pd.DataFrame({"locality_id": xs.index, "index": xs.to_numpy(), outcome: ys.to_numpy()})
    for suffix, old_suffix in (("_ci_low", "_lo"), ("_ci_high", "_hi")):
        # the outcome's own interval, under the shared names or the survey's earlier ones
        source = next((outcome + s for s in (suffix, old_suffix) if outcome + s in outcomes.columns), None)
        if source is not None:
            extra = pd.to_numeric(outcomes[source], errors="raise").astype("Float64").astype(float)
            extra.index = outcomes.index.astype(str)
            points[outcome + suffix] = extra.reindex(xs.index).to_numpy()
    grid = np.linspace(xs.min(), xs.max(), 60)
    pred = fit.get_prediction(sm.add_constant((grid - centre) / per, has_constant="add")).summary_frame(
        alpha=0.05
    )
    line = pd.DataFrame(
        {
            "index": grid,
            "fit": pred["mean"].to_numpy(),
            "ci_low": pred["mean_ci_lower"].to_numpy(),
            "ci_high": pred["mean_ci_upper"].to_numpy(),
        }
    )
    out = Association(
        outcome=outcome,
        n=n,
        slope=float(fit.params[1]),
        slope_ci_low=float(ci[1, 0]),
        slope_ci_high=float(ci[1, 1]),
        slope_p=float(fit.pvalues[1]),
        intercept=float(fit.params[0]),
        r=r,
        r_ci_low=r_ci_low,
        r_ci_high=r_ci_high,
        r_p=r_p,
        points=points,
        line=line,
        excluded=excluded,
    )
    if clusters is not None:
        cl = clusters.copy()
        cl.index = cl.index.astype(str)
        g = cl.reindex(xs.index)
        if g.isna().any():
            raise InputError(
                f"clusters: no cluster (country) for {list(xs.index[g.isna().to_numpy()][:10])}."
            )
        g = g.astype(str).to_numpy()
        x = sm.add_constant(xc, has_constant="add")
        crv = _ols_cluster(ys.to_numpy(), x, g, 1)
        wild = wild_cluster_bootstrap(ys.to_numpy(), x, g, 1, n_boot=n_boot, seed=seed)
        fe = pd.get_dummies(pd.Series(g), drop_first=True, dtype=float).to_numpy()
        fe_fit = _ols_cluster(ys.to_numpy(), np.column_stack([x, fe]), g, 1)
        out.n_clusters = wild["n_clusters"]
        out.cluster_slope_ci_low, out.cluster_slope_ci_high, out.cluster_p = (
            crv["ci_low"],
            crv["ci_high"],
            crv["p"],
        )
        out.wild_p, out.wild_n_boot = wild["p"], wild["n_boot"]
        out.fe_slope, out.fe_slope_ci_low, out.fe_slope_ci_high, out.fe_p = (
            fe_fit["estimate"],
            fe_fit["ci_low"],
            fe_fit["ci_high"],
            fe_fit["p"],
        )
        out.country_icc = country_icc(pd.Series(ys.to_numpy()), pd.Series(g))
    return out


#: The individual controls of the mixed model, besides the town's index score.
MULTILEVEL_CONTROLS = ("contact_any", "age_group", "gender", "education", "born_abroad")
#: The model's term for the town's MIPEX-L score (per 10 points above 50).
INDEX_TERM = "mipex_l_per_10"


def multilevel_attitudes(
    individual_frame: pd.DataFrame, index_scores: pd.Series, level: float = 0.95
) -> pd.DataFrame:
    """Mixed model of the individual attitude index on the town's MIPEX-L score.

    The library's one mixed model, :func:`wholecomm.survey.models.attitude_model` (attitude index on
    contact with newcomers, age group, gender, education, being born abroad and the town's
    overall score per 10 points above 50, :data:`INDEX_TERM`; random intercept per town),
    called on the towns' scores. ``index_scores``: overall score (0-100) per locality_id; a
    locality of ``individual_frame`` that it does not list counts as not assessed and its
    respondents are left out, like those of towns without an overall score (NaN).

    Returns the model's tidy table (term, label, estimate, se, ci_low, ci_high, p_value) at
    confidence ``level``; ``attrs`` are the model's, plus ``icc``, the share of the residual
    variance that lies between towns.

    Raises InputError where a control is missing for some respondents (naming the rows) or the
    scores repeat a locality.
    """
    from .. import survey

    need = ["locality_id", "attitude_index", *MULTILEVEL_CONTROLS]
    require_columns(individual_frame, need, "individual_frame")
    if not isinstance(index_scores, pd.Series):
        raise TypeError("index_scores must be a Series indexed by locality_id.")
    for col in MULTILEVEL_CONTROLS:
        bad = individual_frame[col].isna().to_numpy()
        if bad.any():
            raise InputError(
                f"individual_frame: control {col!r} must not be missing: "
                f"{_rows_text(individual_frame, bad, ['locality_id', col])}."
            )
    scores = pd.to_numeric(index_scores, errors="raise").astype(float)
    scores.index = scores.index.astype(str)
    if scores.index.has_duplicates:
        raise InputError(
            f"index_scores: locality_id must be unique; repeated: {sorted(set(scores.index[scores.index.duplicated()]))[:10]}."
        )
    towns = pd.Index(pd.unique(individual_frame["locality_id"].astype(str)))
    scores = scores.reindex(scores.index.append(towns.difference(scores.index)))
    table = survey.attitude_model(individual_frame, scores, level)
    # interval columns under the shared names, whichever names the model gives them
    table = table.rename(columns={"lo": "ci_low", "hi": "ci_high"})
    between, within = table.attrs["locality_sd"] ** 2, table.attrs["residual_sd"] ** 2
    table.attrs["icc"] = float(between / (between + within))
    return table
