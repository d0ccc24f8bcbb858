"""An ordinal one-factor model: polychoric correlations of Likert items and a one-factor
model fitted to them, with its fit and McDonald's omega.

Polychoric correlations (Olsson 1979, two-step): each item is the coarsening of a
standard normal variable at thresholds estimated from its marginal proportions; the
correlation of two latent variables is then the value that maximises the likelihood of
the items' cross-table, with bivariate normal cell probabilities computed exactly from
Owen's T function. The one-factor model is fitted to the polychoric matrix by unweighted
least squares (minimum residual): loadings ``lambda`` minimise the sum of squared
differences between the off-diagonal correlations and ``lambda_i lambda_j``. Its fit is
the standardised root mean square residual (SRMR over the p (p + 1) / 2 distinct
elements, 0.08 or less read as a good fit; Hu and Bentler 1999) and the largest absolute
residual correlation; the scale's reliability is omega,
``(sum lambda)^2 / ((sum lambda)^2 + sum (1 - lambda^2))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import ndtr, ndtri, owens_t

from ..errors import InputError

#: Latent thresholds beyond this are treated as infinite (the normal tail is then < 1e-15).
_INF = 8.0
#: The largest absolute polychoric correlation searched.
_RHO_MAX = 0.9999
#: SRMR at or below which a one-factor model fits well (Hu and Bentler 1999).
SRMR_GOOD = 0.08


def _thresholds(codes: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Latent thresholds of an ordinal item (K + 1 values from -inf to inf, as +-_INF)."""
    counts = np.array([(codes == c).sum() for c in categories], dtype=float)
    cum = np.cumsum(counts)[:-1] / counts.sum()
    return np.concatenate([[-_INF], ndtri(cum), [_INF]])


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """P(X <= h, Y <= k) for standard bivariate normal X, Y with correlation ``rho``
    (``abs(rho) < 1``), exactly through Owen's T function; +-8 stands for +-infinity."""
    h = np.asarray(h, dtype=float)
    k = np.asarray(k, dtype=float)
    # Owen's T formula divides by h and k: an exact 0 is moved by a negligible amount.
    h = np.where(h == 0, 1e-12, h)
    k = np.where(k == 0, 1e-12, k)
    s = np.sqrt(1.0 - rho * rho)
    beta = np.where(h * k > 0, 0.0, 0.5)
    out = (
        0.5 * ndtr(h)
        + 0.5 * ndtr(k)
        - owens_t(h, (k - rho * h) / (h * s))
        - owens_t(k, (h - rho * k) / (k * s))
    )
    out = out - beta
    out = np.where((h <= -_INF) | (k <= -_INF), 0.0, out)
    out = np.where(h >= _INF, ndtr(k), out)
    out = np.where(k >= _INF, ndtr(h), out)
    return np.where((h >= _INF) & (k >= _INF), 1.0, out)


def _cell_probabilities(a: np.ndarray, b: np.ndarray, rho: float) -> np.ndarray:
    grid = bivariate_normal_cdf(a[:, None], b[None, :], rho)
    return grid[1:, 1:] - grid[:-1, 1:] - grid[1:, :-1] + grid[:-1, :-1]


def polychoric(x, y) -> float:
    """Polychoric correlation of two ordinal variables (integer or ordered codes, rows with
    a missing value in either left out), two-step maximum likelihood. Raises InputError
    when fewer than 2 complete rows remain or a variable has a single category."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise InputError(f"polychoric: the two variables differ in length ({x.shape} vs {y.shape}).")
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2:
        raise InputError("polychoric: needs at least 2 rows answered on both variables.")
    cx, cy = np.unique(x), np.unique(y)
    if len(cx) < 2 or len(cy) < 2:
        raise InputError("polychoric: each variable needs at least two categories to be correlated.")
    a, b = _thresholds(x, cx), _thresholds(y, cy)
    table = np.array([[np.sum((x == i) & (y == j)) for j in cy] for i in cx], dtype=float)

    def negloglik(rho: float) -> float:
        p = np.clip(_cell_probabilities(a, b, rho), 1e-300, None)
        return -float(np.sum(table * np.log(p)))

    res = optimize.minimize_scalar(
        negloglik, bounds=(-_RHO_MAX, _RHO_MAX), method="bounded", options={"xatol": 1e-8}
    )
    return float(res.x)


def polychoric_matrix(items: pd.DataFrame) -> pd.DataFrame:
    """Polychoric correlation matrix of the columns of ``items`` (pairwise complete rows)."""
    cols = list(items.columns)
    out = np.eye(len(cols))
    for i in range(len(cols)):
        for j in range(i + 1, len(cols)):
            out[i, j] = out[j, i] = polychoric(items[cols[i]], items[cols[j]])
    return pd.DataFrame(out, index=cols, columns=cols)


@dataclass
class OneFactorFit:
    """A one-factor model fitted to a correlation matrix (see the module docstring)."""

    loadings: pd.Series
    omega: float
    srmr: float
    max_residual: float
    residuals: pd.DataFrame


def one_factor(corr: pd.DataFrame) -> OneFactorFit:
    """Unweighted least squares one-factor model of the correlation matrix ``corr``
    (loadings' sign fixed so that their sum is positive), with omega, SRMR and the largest
    absolute residual correlation. Raises InputError for fewer than 3 items (a one-factor
    model of two items is not identified) or a matrix that is not a correlation matrix."""
    r = corr.to_numpy(dtype=float)
    p = r.shape[0]
    if r.shape != (p, p) or p < 3:
        raise InputError(f"one_factor: needs a square correlation matrix of at least 3 items, got {r.shape}.")
    if not (np.allclose(r, r.T) and np.allclose(np.diag(r), 1.0) and np.all(np.abs(r) <= 1 + 1e-12)):
        raise InputError("one_factor: the matrix is not a correlation matrix (symmetric, unit diagonal).")
    upper = np.triu_indices(p, 1)
    vals, vecs = np.linalg.eigh(r)
    start = np.clip(vecs[:, -1] * np.sqrt(vals[-1]), -0.95, 0.95)

    def residual(lam: np.ndarray) -> np.ndarray:
        return (r - np.outer(lam, lam))[upper]

    fit = optimize.least_squares(residual, start, bounds=(-0.999, 0.999), xtol=1e-12, ftol=1e-12)
    lam = fit.x if fit.x.sum() >= 0 else -fit.x
    res = r - np.outer(lam, lam)
    np.fill_diagonal(res, 0.0)
    srmr = float(np.sqrt(np.sum(res[np.triu_indices(p)] ** 2) / (p * (p + 1) / 2)))
    total = lam.sum() ** 2
    return OneFactorFit(
        loadings=pd.Series(lam, index=corr.index, name="loading"),
        omega=float(total / (total + np.sum(1 - lam**2))),
        srmr=srmr,
        max_residual=float(np.abs(res[upper]).max()),
        residuals=pd.DataFrame(res, index=corr.index, columns=corr.columns),
    )
