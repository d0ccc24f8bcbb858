"""Shared estimators of the book's inference policy (see the *Methods* page).

One vocabulary for every chapter: p-values in tables and prose (:func:`format_p`), cluster-robust
t inference on G - 1 degrees of freedom (:func:`ols_cluster`; any estimate's t interval and
p-value: :func:`t_interval`, :func:`t_p_value`), the wild cluster
restricted bootstrap for few (treated) clusters (:func:`wild_cluster_bootstrap`) and its
inverted interval (:func:`wild_cluster_interval`), Holm's step-down adjustment for a
page's family of hypotheses (:func:`holm`), the Korn-Graubard interval for survey
proportions with few-cluster degrees of freedom (:func:`korn_graubard_interval`), the
p-value that belongs to an interval method (:func:`p_from_interval`), and Firth's
penalised-likelihood logistic regression, which stays finite under separation
(:func:`firth_logit`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .errors import InputError


class _Lazy:
    """A scipy submodule imported on first use: importing this module (as the toolbox's
    scoring does through :mod:`wholecomm.index`) does not pay for scipy."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        import importlib

        return getattr(importlib.import_module(f"scipy.{self._name}"), attr)


stats = _Lazy("stats")
optimize = _Lazy("optimize")

#: Seed of every random procedure of this module unless another is given.
DEFAULT_SEED = 1004714


# ------------------------------------------------------------------ p-values
def format_p(p: float | np.floating | None, prose: bool = False) -> str:
    """A p-value as a reader should see it, in a table (default) or in prose (``prose=True``).

    In a table: "< 0.001" below 0.001, else three decimals ("0.049"); a missing value (NaN)
    reads "–". In prose, with the relation sign and honest precision: "< 0.001", three
    decimals below 0.1 ("= 0.003", "= 0.020"), otherwise two ("= 0.41"); NaN or None (a test
    the data cannot support) reads "not computable on these data". A value outside [0, 1]
    raises ``ValueError``."""
    if p is None or np.isnan(float(p)):
        return "not computable on these data" if prose else "–"
    value = float(p)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"A p-value must lie between 0 and 1, got {p!r}.")
    if value < 0.001:
        return "< 0.001"
    if not prose:
        return f"{value:.3f}"
    return f"= {value:.3f}" if value < 0.0995 else f"= {value:.2f}"


def p_text(p: float | np.floating | None) -> str:
    """:func:`format_p` in prose (``prose=True``): "< 0.001", "= 0.003", "= 0.41"."""
    return format_p(p, prose=True)


def cluster_codes(clusters) -> np.ndarray:
    codes, _ = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)).astype(str))
    return codes


def ols_cluster(y: np.ndarray, x: np.ndarray, clusters: np.ndarray, column: int, level: float = 0.95) -> dict:
    """OLS coefficient ``column`` with CR1 cluster-robust SE and t(G - 1) inference."""
    import statsmodels.api as sm

    g = cluster_codes(clusters)
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": g, "df_correction": True}, use_t=True)
    n_g = int(g.max()) + 1
    est, se = float(fit.params[column]), float(fit.bse[column])
    t = est / se
    return {**t_interval(est, se, n_g - 1, level), "t": t, "p": t_p_value(t, n_g - 1), "df": n_g - 1}


def t_interval(estimate: float, se: float, df: float, level: float = 0.95) -> dict:
    """An estimate with its standard error and its t interval on ``df`` degrees of freedom:
    estimate, se, ci_low, ci_high."""
    q = stats.t.ppf(0.5 + level / 2, df)
    return {"estimate": estimate, "se": se, "ci_low": estimate - q * se, "ci_high": estimate + q * se}


def t_p_value(t: float, df: float) -> float:
    """Two-sided p-value of the t statistic ``t`` on ``df`` degrees of freedom."""
    return float(2 * stats.t.sf(abs(t), df))


WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def _wild_draws(y, x, clusters, column: int, n_boot: int, seed: int) -> dict:
    """The wild cluster restricted bootstrap draws, for every null value at once.

    With the null ``coefficient = b`` imposed, the bootstrap sample is affine in ``b``
    (``y*(b) = Y0 + b Y1`` for fixed weights), so the bootstrap coefficient minus ``b``
    is ``N0 + b N1`` and the cluster scores are ``S0 + b S1``: storing N0, N1 and the
    three sums of squares and products of S0 and S1 gives every draw's t statistic for
    any ``b`` exactly, without redrawing."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    g = cluster_codes(clusters)
    n, k = x.shape
    n_g = int(g.max()) + 1
    if n_g < 2:
        raise ValueError("A wild cluster bootstrap needs at least two clusters.")
    # Rows sorted by cluster: cluster sums are then contiguous-block sums (reduceat).
    order = np.argsort(g, kind="stable")
    y, x, g = y[order], x[order], g[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    xtx_inv = np.linalg.inv(x.T @ x)
    a = xtx_inv[column]
    xa = x @ a
    c = n_g / (n_g - 1) * (n - 1) / (n - k)

    def parts(ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # ys: n x B
        beta = xtx_inv @ (x.T @ ys)
        s = np.add.reduceat(xa[:, None] * (ys - x @ beta), starts, axis=0)  # G x B: a' X_g' u_g
        return beta[column], s

    beta_obs, s_obs = parts(y[:, None])
    xr = np.delete(x, column, axis=1)
    xj = x[:, column]
    beta_r = np.linalg.lstsq(xr, y, rcond=None)[0]
    f0, u0 = xr @ beta_r, y - xr @ beta_r  # restricted fit under b = 0
    m = xj - xr @ np.linalg.lstsq(xr, xj, rcond=None)[0]  # under b: fitted f0 + b m, residual u0 - b m
    rng = np.random.default_rng(seed)
    out = {k: np.empty(n_boot) for k in ("n0", "n1", "q00", "q01", "q11")}
    for start in range(0, n_boot, 2000):
        b = min(n_boot, start + 2000) - start
        w = WEBB[rng.integers(0, 6, size=(n_g, b))][g]
        n0, s0 = parts(f0[:, None] + u0[:, None] * w)
        n1, s1 = parts(m[:, None] * (1 - w))
        sl = slice(start, start + b)
        out["n0"][sl], out["n1"][sl] = n0, n1 - 1.0
        out["q00"][sl], out["q01"][sl], out["q11"][sl] = (
            np.sum(s0 * s0, axis=0),
            np.sum(s0 * s1, axis=0),
            np.sum(s1 * s1, axis=0),
        )
    return out | {
        "beta": float(beta_obs[0]),
        "se": float(np.sqrt(c * np.sum(s_obs**2))),
        "c": c,
        "n_boot": int(n_boot),
        "n_clusters": n_g,
    }


def _wild_p(draws: dict, null: float) -> tuple[float, float]:
    """(t, p) of H0: coefficient = ``null`` from :func:`_wild_draws`."""
    t_obs = (draws["beta"] - null) / draws["se"]
    num = draws["n0"] + null * draws["n1"]
    den = np.sqrt(
        draws["c"] * np.clip(draws["q00"] + 2 * null * draws["q01"] + null**2 * draws["q11"], 0, None)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        t_star = num / den
    p = float((np.sum(np.abs(t_star) >= abs(t_obs) - 1e-12) + 1) / (draws["n_boot"] + 1))
    return float(t_obs), p


def wild_cluster_bootstrap(
    y, x, clusters, column: int, n_boot: int = 9999, seed: int = DEFAULT_SEED, null: float = 0.0
) -> dict:
    """Wild cluster restricted bootstrap (WCR; Cameron, Gelbach and Miller 2008; Webb's
    six-point weights for few clusters, MacKinnon and Webb) of H0: coefficient
    ``column`` = ``null`` (default 0) in the OLS of ``y`` on ``x``.

    The model is refitted with the null imposed, its residuals are multiplied by one
    Webb weight per cluster, and the CR1 cluster-robust t statistic is recomputed in
    each of ``n_boot`` samples. p = share of bootstrap ``|t|`` at least the observed ``|t|``
    (symmetric). Returns t, p, n_boot, n_clusters."""
    draws = _wild_draws(y, x, clusters, column, n_boot, seed)
    t_obs, p = _wild_p(draws, null)
    return {"t": t_obs, "p": p, "n_boot": draws["n_boot"], "n_clusters": draws["n_clusters"]}


def wild_cluster_interval(
    y, x, clusters, column: int, level: float = 0.95, n_boot: int = 9999, seed: int = DEFAULT_SEED
) -> dict:
    """Interval for coefficient ``column`` by inverting the wild cluster restricted
    bootstrap test (:func:`wild_cluster_bootstrap`): the values ``b`` whose test of
    H0: coefficient = ``b`` has p > 1 - ``level``. The same seed (hence the same Webb
    weights) is used for every ``b``, so interval and test come from one method. Bounds
    are found by bisection to 1e-6 of the CR1 standard error, starting from the CR1 t
    interval widened until the test rejects. Returns estimate, ci_low, ci_high, p (of
    H0: coefficient = 0), n_boot, n_clusters."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}.")
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    crv = ols_cluster(y, x, clusters, column, level)
    est, se = crv["estimate"], crv["se"]
    alpha = 1 - level
    draws = _wild_draws(y, x, clusters, column, n_boot, seed)
    p0 = {"p": _wild_p(draws, 0.0)[1], "n_boot": draws["n_boot"], "n_clusters": draws["n_clusters"]}
    if not (np.isfinite(se) and se > 0):
        return {
            "estimate": est,
            "ci_low": est,
            "ci_high": est,
            "p": p0["p"],
            "n_boot": p0["n_boot"],
            "n_clusters": p0["n_clusters"],
        }

    def accepts(b: float) -> bool:
        return _wild_p(draws, b)[1] > alpha

    bounds = []
    for sign in (-1.0, 1.0):
        inner, step = est, max(abs(crv["ci_high" if sign > 0 else "ci_low"] - est), se)
        outer = est + sign * step
        for _ in range(60):
            if not accepts(outer):
                break
            inner, outer = outer, est + sign * (abs(outer - est) * 2)
        else:
            raise RuntimeError("wild_cluster_interval: the test never rejects; the interval is unbounded.")
        while abs(outer - inner) > 1e-6 * se:
            mid = (inner + outer) / 2
            inner, outer = (mid, outer) if accepts(mid) else (inner, mid)
        bounds.append(inner)
    return {
        "estimate": est,
        "ci_low": float(bounds[0]),
        "ci_high": float(bounds[1]),
        "p": p0["p"],
        "n_boot": p0["n_boot"],
        "n_clusters": p0["n_clusters"],
    }


# ------------------------------------------------------------ multiple testing
def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979) for one family of hypotheses:
    the k-th smallest p times (m - k + 1), made monotone and capped at 1. Controls the
    family-wise error rate under any dependence. Missing p-values are not allowed."""
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise ValueError("holm: give a non-empty list of p-values.")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError(f"holm: p-values must lie between 0 and 1 (got {p.tolist()}).")
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


def p_from_interval(interval: Callable[[float], tuple[float, float]], null: float = 0.0) -> float:
    """The two-sided p-value that belongs to an interval method: the smallest ``1 - level``
    at which ``interval(level)`` (a function returning (low, high)) excludes ``null``.
    Test and interval then come from the same method by construction (test inversion).
    Returns 1.0 when even a 1e-9 interval contains ``null`` and a value below 1e-12 when
    even the 1 - 1e-12 interval excludes it."""

    def excludes(level: float) -> bool:
        lo, hi = interval(level)
        return lo > null or hi < null

    if not excludes(1e-9):
        return 1.0
    if excludes(1 - 1e-12):
        return 1e-12
    level = optimize.brentq(lambda lv: 0.5 - float(excludes(lv)), 1e-9, 1 - 1e-12, xtol=1e-12)
    return float(1 - level)


# ----------------------------------------------------------- survey proportions
def korn_graubard_interval(
    p: float, se: float, n: int, df: float, level: float = 0.95
) -> tuple[float, float]:
    """Korn and Graubard's (1998) interval for a survey proportion with ``df`` design
    degrees of freedom: a Clopper-Pearson interval at the effective sample size
    ``n* = p(1 - p) / se^2``, scaled by ``(t_{n-1} / t_df)^2`` so that few clusters widen
    it (R survey's ``svyciprop(method = "beta")``). ``n`` is the number of respondents.
    An estimate of 0 or 1, or a zero standard error, gets the Clopper-Pearson interval at
    n (no design effect can be estimated there)."""
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}.")
    if not 0 <= p <= 1 or n < 1:
        raise ValueError(f"korn_graubard_interval: needs 0 <= p <= 1 and n >= 1, got p={p}, n={n}.")
    if not np.isfinite(se) or not np.isfinite(df) or df < 1:
        return float("nan"), float("nan")
    alpha = 1 - level
    if 0 < p < 1 and se > 0:
        n_eff = p * (1 - p) / se**2
        if n > 1:
            n_eff *= (stats.t.ppf(1 - alpha / 2, n - 1) / stats.t.ppf(1 - alpha / 2, df)) ** 2
    else:
        n_eff = float(n)
    x = p * n_eff
    lo = 0.0 if x <= 0 else float(stats.beta.ppf(alpha / 2, x, n_eff - x + 1))
    hi = 1.0 if x >= n_eff else float(stats.beta.ppf(1 - alpha / 2, x + 1, n_eff - x))
    return lo, hi


# ------------------------------------------------------------------ Firth logit
def _firth_fit(
    y: np.ndarray, X: np.ndarray, free: np.ndarray, beta0: np.ndarray, max_iter: int = 200, tol: float = 1e-10
) -> tuple[np.ndarray, float]:
    """Maximise the penalised log-likelihood over the coefficients flagged in ``free``
    (the others held at their value in ``beta0``). Returns (beta, penalised log-lik)."""
    beta = beta0.astype(float).copy()

    def penalised(b: np.ndarray) -> float:
        eta = X @ b
        pr = 1 / (1 + np.exp(-eta))
        info = X.T @ (X * (pr * (1 - pr))[:, None])
        sign, logdet = np.linalg.slogdet(info)
        loglik = np.sum(y * eta - np.logaddexp(0, eta))
        return float(loglik + 0.5 * logdet) if sign > 0 else -np.inf

    current = penalised(beta)
    for _ in range(max_iter):
        pr = 1 / (1 + np.exp(-(X @ beta)))
        w = pr * (1 - pr)
        info = X.T @ (X * w[:, None])
        info_inv = np.linalg.inv(info)
        xw = X * np.sqrt(w)[:, None]
        h = np.einsum("ij,jk,ik->i", xw, info_inv, xw)
        score = X.T @ (y - pr + h * (0.5 - pr))
        sub = info[np.ix_(free, free)]
        step = np.zeros_like(beta)
        step[free] = np.linalg.solve(sub, score[free])
        step_max = np.max(np.abs(step))
        if step_max > 5:
            step *= 5 / step_max
        t = 1.0
        while True:  # step halving keeps the penalised likelihood increasing
            candidate = penalised(beta + t * step)
            if candidate >= current - 1e-12 or t < 1e-8:
                break
            t /= 2
        beta = beta + t * step
        current = candidate
        if np.max(np.abs(t * step)) < tol:
            break
    return beta, current


def firth_logit(y, X: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Logistic regression with Firth's (1993) penalised likelihood (the Jeffreys-prior
    penalty ``0.5 log det I(beta)``), which gives finite estimates under complete or
    quasi-complete separation (Heinze and Schemper 2002).

    ``X``: the design matrix as a DataFrame (include the intercept column). Intervals
    are profile penalised-likelihood intervals and p-values penalised likelihood-ratio
    tests (chi-square, 1 df), as in R's ``logistf``: interval and test come from one
    method (the test rejects at ``1 - level`` exactly when the interval excludes 0).
    Returns term, estimate, ci_low, ci_high, p_value (log-odds scale)."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError("firth_logit: X must be a pandas DataFrame with named columns.")
    yv = np.asarray(y, dtype=float)
    Xv = X.to_numpy(dtype=float)
    if yv.shape != (len(X),):
        raise ValueError(f"firth_logit: y must have one value per row of X ({len(X)}), got shape {yv.shape}.")
    if np.isnan(yv).any() or np.isnan(Xv).any():
        raise ValueError("firth_logit: missing values in y or X.")
    if not np.isin(yv, (0.0, 1.0)).all():
        raise ValueError("firth_logit: y must be 0/1 (or True/False).")
    if np.linalg.matrix_rank(Xv) < Xv.shape[1]:
        raise ValueError(f"firth_logit: the columns of X {list(X.columns)} are linearly dependent.")
    k = Xv.shape[1]
    free_all = np.ones(k, dtype=bool)
    beta, lmax = _firth_fit(yv, Xv, free_all, np.zeros(k))
    crit = stats.chi2.ppf(level, 1)
    rows = []
    for j, term in enumerate(X.columns):
        free = free_all.copy()
        free[j] = False

        def profile(b: float, j=j, free=free) -> float:
            start = beta.copy()
            start[j] = b
            return 2 * (lmax - _firth_fit(yv, Xv, free, start)[1])

        lr0 = max(profile(0.0), 0.0)
        bounds = []
        for sign in (-1.0, 1.0):
            step = 1.0
            while profile(beta[j] + sign * step) < crit:
                step *= 2
                if step > 1e3:
                    raise RuntimeError(f"firth_logit: the profile interval of {term!r} does not close.")
            bounds.append(
                optimize.brentq(
                    lambda b: profile(b) - crit, *sorted((beta[j], beta[j] + sign * step)), xtol=1e-8
                )
            )
        rows.append(
            {
                "term": term,
                "estimate": float(beta[j]),
                "ci_low": float(bounds[0]),
                "ci_high": float(bounds[1]),
                "p_value": float(stats.chi2.sf(lr0, 1)),
            }
        )
    return pd.DataFrame(rows)


def odds_ratio_row(fit, ci: pd.DataFrame, term: str) -> dict[str, float]:
    """The odds ratio of ``term`` in a fitted statsmodels logistic model (binomial GLM,
    logit or ordered logit): ``odds_ratio``, ``ci_low``, ``ci_high`` (the exponentiated
    coefficient and bounds of ``ci``, the model's ``conf_int`` table) and ``p_value``."""
    return {
        "odds_ratio": float(np.exp(fit.params[term])),
        "ci_low": float(np.exp(ci.loc[term, 0])),
        "ci_high": float(np.exp(ci.loc[term, 1])),
        "p_value": float(fit.pvalues[term]),
    }


# ------------------------------------------------------------------ reliability
def cronbach_alpha(items: pd.DataFrame, missing: str = "complete") -> float:
    """Cronbach's alpha of the columns of ``items`` (rows = units, columns = items of one scale).

    alpha = k / (k - 1) * (1 - sum of item variances / variance of the total), with sample
    variances (ddof = 1). Missing values: ``"complete"`` uses complete rows only;
    ``"pairwise"`` uses every row, each variance and covariance on the rows where both items
    are answered (the total's variance is the sum of the item covariance matrix).

    **Zero variance.** When the total score does not vary, alpha is undefined and the
    result is NaN (not an error), so that a bootstrap of alpha can carry on and count such
    draws. Raises :class:`wholecomm.errors.InputError` for fewer than 2 items, fewer than 2
    complete rows (``"complete"``), an item pair answered together fewer than 2 times
    (``"pairwise"``) or non-numeric items; TypeError when ``items`` is not a DataFrame.
    """
    from .errors import InputError

    if not isinstance(items, pd.DataFrame):
        raise TypeError(
            f"items must be a DataFrame (rows = units, columns = items), got {type(items).__name__}."
        )
    if missing not in ("complete", "pairwise"):
        raise InputError(f"missing must be 'complete' or 'pairwise', got {missing!r}.")
    if items.shape[1] < 2:
        raise InputError(f"Cronbach's alpha needs at least 2 items (columns); got {items.shape[1]}.")
    nonnum = [c for c in items.columns if not pd.api.types.is_numeric_dtype(items[c])]
    if nonnum:
        raise InputError(f"Cronbach's alpha needs numeric items; non-numeric columns: {nonnum}.")
    if missing == "pairwise":
        cov = pairwise_cov(items.astype(float).to_numpy()[None])[0]
        if np.isnan(cov).any():
            raise InputError(
                "Cronbach's alpha (pairwise) needs every pair of items answered together at least twice."
            )
        return float(alpha_from_cov(cov[None])[0])
    x = items.astype(float).dropna().to_numpy()
    if x.shape[0] < 2:
        raise InputError(f"Cronbach's alpha needs at least 2 complete rows; got {x.shape[0]}.")
    return float(alpha_from_cov(np.cov(x, rowvar=False, ddof=1)[None])[0])


def pairwise_cov(x: np.ndarray) -> np.ndarray:
    """Pairwise-complete sample covariance matrices of a stack of data sets (b x n x k);
    NaN where a pair of columns is observed together fewer than twice."""
    ok = ~np.isnan(x)
    v = np.where(ok, x, 0.0)
    m = ok.astype(float)
    n_ij = np.einsum("bni,bnj->bij", m, m)
    s_i = np.einsum("bni,bnj->bij", v, m)  # sum of x_i over rows where j is answered too
    s_ij = np.einsum("bni,bnj->bij", v, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (s_ij - s_i * np.swapaxes(s_i, 1, 2) / n_ij) / (n_ij - 1)
    return np.where(n_ij >= 2, cov, np.nan)


def alpha_from_cov(cov: np.ndarray) -> np.ndarray:
    """Cronbach's alpha of each item covariance matrix of a stack (b x k x k); NaN where the
    total score has no variance (see :func:`cronbach_alpha`)."""
    k = cov.shape[-1]
    total = cov.sum(axis=(1, 2))
    trace = np.trace(cov, axis1=1, axis2=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 1e-12 * np.maximum(trace, 1e-300), k / (k - 1) * (1 - trace / total), np.nan)


# ------------------------------------------- proportions, differences, verdicts
# Wilson intervals (with an effective sample size for clustered data and t(G - 1) for few
# clusters), Newcombe's interval for a difference of independent proportions,
# cluster-robust (CR1) means and differences, the Cochran-Armitage trend test and the
# verdict rule for hypotheses. Results are dicts with ``estimate``, ``ci_low`` and
# ``ci_high``; proportions are fractions (0-1).
def _z(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(f"level must lie strictly between 0 and 1, got {level}.")
    return float(stats.norm.ppf(0.5 + level / 2))


def wilson_interval(successes, n, level: float = 0.95):
    """Wilson score interval for a proportion ``successes / n`` (arrays allowed).

    ``n`` may be an effective (non-integer) sample size. Raises ValueError when
    ``n <= 0``, ``successes < 0`` or ``successes > n``.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(n <= 0):
        raise InputError("wilson_interval: n must be positive (no observations: the share is undefined).")
    if np.any(x < 0) or np.any(x > n + 1e-9):
        raise InputError("wilson_interval: successes must lie between 0 and n.")
    z = _z(level)
    p = x / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def bool_values(values, name: str) -> np.ndarray:
    arr = pd.Series(values)
    if arr.isna().any():
        raise InputError(f"{name}: missing values are not allowed here (found {int(arr.isna().sum())}).")
    if not (pd.api.types.is_bool_dtype(arr) or set(pd.unique(arr)) <= {0, 1}):
        raise InputError(
            f"{name}: values must be True/False (or 0/1), got {sorted(map(str, pd.unique(arr)))[:5]}."
        )
    return arr.astype(bool).to_numpy()


def cluster_index(clusters, n: int) -> np.ndarray:
    g = pd.Series(clusters)
    if len(g) != n:
        raise InputError(f"clusters must have one label per observation ({n}), got {len(g)}.")
    if g.isna().any():
        raise InputError("clusters: every observation needs a cluster label (locality_id); some are missing.")
    return pd.factorize(g.astype(str))[0]


def cluster_robust_variance_of_mean(y, clusters) -> float:
    """CR1 variance of a mean: G/(G-1) * sum_g (sum_{i in g} (y_i - ybar))^2 / N^2."""
    y = np.asarray(y, dtype=float)
    g = cluster_index(clusters, len(y))
    n_g = g.max() + 1
    if n_g < 2:
        raise InputError("A cluster-robust variance needs at least 2 clusters (localities); got 1.")
    resid_sums = np.bincount(g, weights=y - y.mean(), minlength=n_g)
    return float(n_g / (n_g - 1) * np.sum(resid_sums**2) / len(y) ** 2)


def clustered_proportion(y, clusters, level: float = 0.95) -> dict:
    """Share of True in ``y`` with a Wilson interval that allows for clustering and for
    the few clusters it rests on.

    The Wilson interval is computed with the effective sample size ``n / deff``, where
    the design effect ``deff`` is the cluster-robust variance of the share divided by the
    independent-sample variance ``p(1-p)/n``, floored at 1 (the interval is never
    narrower than for independent observations). With G >= 2 clusters the design has
    G - 1 degrees of freedom, and, as in Korn and Graubard's (1998) interval (see
    :func:`korn_graubard_interval`), the effective sample size is further scaled by
    ``(z / t_{G-1})^2``: the Wilson interval then uses the t(G - 1) quantile in place of
    the normal one, which keeps its coverage near the nominal level with five clusters.
    When the share is 0 or 1 the design effect cannot be estimated and is set to 1 (the
    degrees-of-freedom scaling still applies); when all observations come from one
    cluster the independent-sample Wilson interval is returned (the result's
    ``clusters`` and ``df`` show when this happened; ``df`` is None then).
    """
    y = bool_values(y, "clustered_proportion")
    n = len(y)
    if n == 0:
        raise InputError("clustered_proportion: no observations.")
    g = cluster_index(clusters, n)
    n_clusters = int(g.max() + 1)
    p = y.mean()
    if 0 < p < 1 and n_clusters >= 2:
        deff = max(1.0, cluster_robust_variance_of_mean(y, g) / (p * (1 - p) / n))
    else:
        deff = 1.0
    n_eff = n / deff
    if n_clusters >= 2:
        n_eff *= (_z(level) / float(stats.t.ppf(0.5 + level / 2, n_clusters - 1))) ** 2
    lo, hi = wilson_interval(p * n_eff, n_eff, level)
    return {
        "estimate": float(p),
        "ci_low": lo,
        "ci_high": hi,
        "n": int(n),
        "successes": int(y.sum()),
        "clusters": n_clusters,
        "deff": float(deff),
        "df": n_clusters - 1 if n_clusters >= 2 else None,
    }


def newcombe_difference(x1, n1, x2, n2, level: float = 0.95) -> dict:
    """Difference ``x1/n1 - x2/n2`` of two independent proportions with Newcombe's hybrid
    score interval (method 10 of Newcombe 1998), built from the groups' Wilson intervals."""
    for name, (x, n) in {"group 1": (x1, n1), "group 2": (x2, n2)}.items():
        if n <= 0:
            raise InputError(f"newcombe_difference: {name} has no observations.")
        if not 0 <= x <= n:
            raise InputError(f"newcombe_difference: {name} successes ({x}) must lie between 0 and n ({n}).")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, level)
    l2, u2 = wilson_interval(x2, n2, level)
    d = p1 - p2
    return {
        "share_1": p1,
        "share_2": p2,
        "estimate": d,
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
        raise InputError(
            "clustered_difference: the outcome must be True/False or numeric, without missing values."
        )
    y = y.astype(float).to_numpy()
    grp = bool_values(group, "clustered_difference group").astype(float)
    if grp.min() == grp.max():
        raise InputError("clustered_difference: both groups need observations; only one group is present.")
    g = cluster_index(clusters, len(y))
    if g.max() < 1:
        raise InputError("clustered_difference: at least 2 clusters (localities) are needed.")
    fit = sm.OLS(y, sm.add_constant(grp)).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    lo, hi = fit.conf_int(alpha=1 - level)[1]
    return {
        "share_1": float(y[grp == 1].mean()),
        "share_0": float(y[grp == 0].mean()),
        "estimate": float(fit.params[1]),
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
        raise InputError("clustered_mean: no observations.")
    if np.isnan(y).any():
        raise InputError("clustered_mean: missing values are not allowed.")
    g = cluster_index(clusters, len(y))
    n_g = int(g.max() + 1)
    se = float(np.sqrt(cluster_robust_variance_of_mean(y, g)))
    m = float(y.mean())
    p = t_p_value(m / se, n_g - 1) if se > 0 else float("nan")
    return {**t_interval(m, se, n_g - 1, level), "p_value": p, "n": len(y), "clusters": n_g}


def percent_interval(
    r: dict, names: Sequence[str] = ("share_pct", "ci_low_pct", "ci_high_pct"), estimate: str = "estimate"
) -> dict[str, float]:
    """The estimate and interval of an estimator's result ``r`` (fractions: the key
    ``estimate``, ``ci_low`` and ``ci_high``) times 100, i.e. in percent, or in percentage
    points for a difference, under the keys ``names`` (estimate, low, high)."""
    est, low, high = names
    return {est: 100 * r[estimate], low: 100 * r["ci_low"], high: 100 * r["ci_high"]}


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
        raise InputError(
            "cochran_armitage: successes, totals and scores need the same length (at least 2 groups)."
        )
    if np.any(n <= 0) or np.any(x < 0) or np.any(x > n):
        raise InputError("cochran_armitage: every group needs n > 0 and 0 <= successes <= n.")
    N = n.sum()
    pbar = x.sum() / N
    if pbar in (0.0, 1.0):
        raise InputError("cochran_armitage: all outcomes are equal; there is no variation to test.")
    t = np.sum(s * (x - n * pbar))
    var = pbar * (1 - pbar) * (np.sum(n * s**2) - np.sum(n * s) ** 2 / N)
    z = t / np.sqrt(var)
    return {"z": float(z), "p_value": float(2 * stats.norm.sf(abs(z)))}


def verdict(ci_low: float, ci_high: float, null: float, direction: str) -> str:
    """The verdict rule for a hypothesis stated as 'greater than' or 'less than' ``null``.

    * ``"supported"``: the whole 95% interval lies on the hypothesised side of the null;
    * ``"not supported"``: the whole interval lies on the other side (the data point the
      other way);
    * ``"inconclusive"``: the interval includes the null value.
    """
    if direction not in ("greater", "less"):
        raise InputError(f"direction must be 'greater' or 'less', got {direction!r}.")
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)) or ci_low > ci_high:
        raise InputError(
            f"verdict needs a finite interval with ci_low <= ci_high, got ({ci_low}, {ci_high})."
        )
    above, below = ci_low > null, ci_high < null
    if (direction == "greater" and above) or (direction == "less" and below):
        return "supported"
    if above or below:
        return "not supported"
    return "inconclusive"
