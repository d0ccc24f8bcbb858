"""The multilevel model of the attitude index."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .. import numerics
from ..errors import InputError, require_columns
from .coding import MODEL_COVARIATES, _enum

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


def attitude_model(frame: pd.DataFrame, index_scores: pd.Series, level: float = 0.95) -> pd.DataFrame:
    """Multilevel (random-intercept) regression of the attitude index.

    ``attitude_index ~ contact_any + age_group + gender + education + born_abroad +
    (MIPEX-L overall score - 50) / 10`` with a random intercept per locality (statsmodels
    MixedLM, REML), unweighted: the raking variables are covariates of the model.
    ``index_scores``: overall MIPEX-L score (0-100) per locality_id, e.g.
    :func:`wholecomm.index.scoring.overall_scores`; NaN marks a locality without an overall score
    (not assessed, or missing under the index's missing-data rule), whose respondents are
    excluded. Respondents without an attitude index are excluded too. Reference groups: the
    first category of each covariate.

    Intervals and p-values of locality-level terms (the MIPEX-L score and the intercept,
    constant within each locality) use Student's t on G - 1 degrees of freedom (G
    localities in the model): their information comes from G places, not from the
    respondents; respondent-level terms use the normal quantile (``df`` infinite).

    Returns a tidy table: term, label, estimate, se, df, ci_low, ci_high, p_value. ``attrs`` records
    n_obs, n_localities, excluded_localities, n_excluded_no_score (respondents of the
    excluded localities), n_excluded_no_index, locality_sd, residual_sd and converged.
    """
    import statsmodels.api as sm

    require_columns(
        frame,
        ["locality_id", "attitude_index", "contact_any", "born_abroad", *MODEL_COVARIATES],
        "The analysis frame",
    )
    if not isinstance(index_scores, pd.Series):
        raise TypeError("index_scores must be a pandas Series indexed by locality_id.")
    scores = index_scores.copy()
    scores.index = scores.index.astype(str)
    if scores.index.duplicated().any():
        raise InputError(
            f"index_scores has duplicated localities {list(scores.index[scores.index.duplicated()])}."
        )
    lid = frame["locality_id"].astype(str)
    absent = sorted(set(lid) - set(scores.index))
    if absent:
        raise InputError(
            f"index_scores has no entry for localit{'y' if len(absent) == 1 else 'ies'} {absent[:10]} "
            "(use NaN for a locality that was not assessed)."
        )
    s = scores.astype("float64")
    out_of_range = s.notna() & ~s.between(0, 100)
    if out_of_range.any():
        raise InputError(f"index_scores must lie between 0 and 100; {list(s.index[out_of_range])} do not.")
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
        raise InputError(
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
    n_groups = int(pd.unique(groups).size)
    df = _term_df(X, groups, n_groups)
    q = np.where(
        np.isfinite(df),
        stats.t.ppf(0.5 + level / 2, np.where(np.isfinite(df), df, 1)),
        stats.norm.ppf(0.5 + level / 2),
    )
    table = pd.DataFrame(
        {
            "term": fe.index,
            "label": [TERM_LABELS.get(t, t) for t in fe.index],
            "estimate": fe.to_numpy(),
            "se": se.to_numpy(),
            "df": df,
        }
    )
    table["ci_low"] = table["estimate"] - q * table["se"]
    table["ci_high"] = table["estimate"] + q * table["se"]
    t_stat = np.abs(table["estimate"] / table["se"]).to_numpy()
    table["p_value"] = np.where(
        np.isfinite(df), 2 * stats.t.sf(t_stat, np.where(np.isfinite(df), df, 1)), 2 * stats.norm.sf(t_stat)
    )
    excluded = sorted(set(lid[no_score]))
    table.attrs.update(
        {
            "n_obs": int(keep.sum()),
            "n_localities": n_groups,
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
        "ci_low",
        "ci_high",
        converged=bool(fit.converged),
        cause="too few localities with an overall MIPEX-L score, or a covariate category with (almost) no "
        "respondents, for the random-intercept model",
    )


def _term_df(X: pd.DataFrame, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Degrees of freedom of each fixed-effect term: t(G - 1) for a locality-level term (one
    value per locality, e.g. the MIPEX-L score, and the intercept), whose information comes
    from the G localities; infinity (the normal quantile) for respondent-level terms."""
    codes = pd.factorize(groups)[0]
    out = np.full(X.shape[1], np.inf)
    for j, col in enumerate(X.columns):
        spread = pd.Series(X[col].to_numpy()).groupby(codes).nunique()
        if (spread <= 1).all():
            out[j] = max(n_groups - 1, 1)
    return out
