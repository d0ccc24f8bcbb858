"""H2: the local economy and the assessed difficulty of access (ordered logit models)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import policy
from ..stats import odds_ratio_row
from .descriptives import hard_by_trend
from .interviews import DOMAINS, LEVELS, AccessInputError, _prepared
from .result import HypothesisResult


def ordinal_trend_model(
    df: pd.DataFrame | None = None, domain: str = "housing", level: float = 0.95
) -> pd.DataFrame:
    """Proportional-odds (ordered logit) model of the assessment (easy < mixed < hard) of
    ``domain`` on the economic trend (reference: declining), fitted to the interviews that
    discussed the domain, with cluster-robust (CR1, by locality) intervals, t on G - 1
    degrees of freedom. Returns odds ratios of a harder assessment for stable and
    improving economies; ``attrs`` holds the numbers of interviews and localities."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    df = _prepared(df)
    if domain not in DOMAINS:
        raise AccessInputError(f"domain must be one of {list(DOMAINS)}, got {domain!r}.")
    sub = df[df[DOMAINS[domain]].notna()]
    trends = sub["economic_trend"].astype(str)
    for lvl in policy.TRENDS:
        if not (trends == lvl).any():
            raise AccessInputError(
                f"{domain}: no interview from a locality with economic_trend {lvl!r} discussed "
                "the domain; the model needs every trend."
            )
    X = pd.DataFrame(
        {f"economic_trend={t}": (trends == t).astype(float) for t in ("stable", "improving")}, index=sub.index
    )
    y = sub[DOMAINS[domain]].astype(pd.CategoricalDtype(LEVELS, ordered=True))
    g = policy._as_clusters(sub["locality_id"], len(sub))
    # Newton's method converges to the maximum of the likelihood in a few steps; stopped
    # when a step is below 1e-8, the estimates lie within about 1e-9 of it and agree to
    # about 1e-12 between CPUs. A quasi-Newton fit (BFGS) stops farther away (2e-5 here),
    # at a point whose last five or six digits depend on the CPU's arithmetic.
    fit = OrderedModel(y, X, distr="logit").fit(
        method="newton", disp=0, maxiter=100, tol=1e-8, cov_type="cluster", cov_kwds={"groups": g}, use_t=True
    )
    if not fit.mle_retvals.get("converged", False):
        raise RuntimeError(f"The ordered logit model for {domain} did not converge in 100 Newton steps.")
    ci = fit.conf_int(alpha=1 - level)
    out = pd.DataFrame([{"domain": domain, "term": t, **odds_ratio_row(fit, ci, t)} for t in X.columns])
    out.attrs.update({"interviews": int(len(sub)), "localities": int(g.max() + 1)})
    return out


def trend_models(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """:func:`ordinal_trend_model` for housing and for employment, in one table."""
    df = _prepared(df)
    return pd.concat([ordinal_trend_model(df, dom, level) for dom in DOMAINS], ignore_index=True)


def h2_economy(df: pd.DataFrame | None = None, level: float = 0.95) -> list[HypothesisResult]:
    """H2: odds ratio of a harder assessment in improving versus declining local
    economies, from the ordered logit model: above 1 expected for housing, below 1 for
    employment. Two results (housing, employment)."""
    df = _prepared(df)
    shares = hard_by_trend(df, level)
    out = []
    for dom, direction, claim in (
        ("housing", "greater", "A good local economy makes housing harder to access"),
        ("employment", "less", "A good local economy makes jobs easier to find"),
    ):
        model = ordinal_trend_model(df, dom, level)
        row = model.set_index("term").loc["economic_trend=improving"]
        sh = shares[shares["domain"] == dom].set_index("economic_trend")["share_pct"]
        out.append(
            HypothesisResult(
                id=f"H2 ({dom})",
                claim=claim,
                estimand=f"Odds ratio of a harder {dom} assessment, improving vs declining economy (ordered logit)",
                estimate=row["odds_ratio"],
                ci_low=row["ci_low"],
                ci_high=row["ci_high"],
                null=1.0,
                direction=direction,
                unit="odds ratio",
                test="Ordered logit, cluster-robust Wald t",
                p_value=row["p_value"],
                n=f"{model.attrs['interviews']} interviews in {model.attrs['localities']} localities",
                details={
                    "hard_pct_declining": sh.get("declining", np.nan),
                    "hard_pct_stable": sh.get("stable", np.nan),
                    "hard_pct_improving": sh.get("improving", np.nan),
                    "model": model,
                },
            )
        )
    return out
