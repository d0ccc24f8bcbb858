"""Migrants' access to housing and employment (the housing-employment page).

The project's public reports make six claims about access to housing and employment in
small and medium-sized towns and rural areas. This module restates each as a hypothesis
with one estimate, a 95% interval, a test where one fits, and a verdict computed by the
rule in :func:`wholecomm.stats.verdict`:

* H1 housing is hard to access while employment is relatively easy;
* H2 a good local economy makes housing harder and jobs easier;
* H3 bigger localities have more capacity to act;
* H4 progressive local governments are more active on housing;
* H5 discrimination is more common in housing than in employment;
* H6 registration barriers push people towards larger cities.

Data: resource ``interviews`` (coded interviews) joined with ``localities``; H3 and H4 use
``local_policies`` through :mod:`wholecomm.policy.measures`.

Clustering. Interviews are clustered in localities (10-20 per locality), and several
claims concern locality characteristics, so every interview-level interval is
cluster-robust by locality: CR1 sandwich variances with a t reference on G - 1 degrees
of freedom (G = number of localities) for means, differences and regression
coefficients, and Wilson intervals with a design-effect-adjusted sample size for shares
(:func:`wholecomm.stats.clustered_proportion`). Paired comparisons within interviews
are tested with the clustered McNemar test of Durkalski et al. (2003).

Missing values. ``housing_access`` and ``employment_access`` are empty when the
interview did not discuss the topic. Such interviews are excluded from the estimate
that needs the assessment (and only from that one) and counted by
:func:`discussion_counts`; a paired comparison uses the interviews that discussed both.
The theme columns are required (True/False) and may not be empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import data, policy
from . import stats as st
from .errors import InputError
from .policy import (
    check_columns,
    clustered_difference,
    clustered_mean,
    clustered_proportion,
    cochran_armitage,
    newcombe_difference,
    verdict,
    wilson_interval,
)

#: Significance level of the verdicts, applied to Holm-adjusted p-values over the page's
#: family of hypotheses (:func:`evaluate`).
ALPHA = 0.05
#: Bootstrap draws of the wild cluster bootstrap of H6 (country).
WILD_BOOT = 9999

LEVELS = ["easy", "mixed", "hard"]
ROLES = ["official", "ngo", "employer", "migrant", "resident"]
THEMES = [
    "theme_housing_shortage",
    "theme_housing_discrimination",
    "theme_registration_barriers",
    "theme_labour_shortage",
    "theme_employment_discrimination",
    "theme_language_barriers",
    "theme_transport",
    "theme_onward_migration",
]
THEME_LABELS = {
    "theme_housing_shortage": "Housing shortage",
    "theme_housing_discrimination": "Discrimination in housing",
    "theme_registration_barriers": "Registration barriers",
    "theme_labour_shortage": "Labour shortage",
    "theme_employment_discrimination": "Discrimination in employment",
    "theme_language_barriers": "Language barriers",
    "theme_transport": "Lack of public transport",
    "theme_onward_migration": "Onward migration to larger cities",
}
ROLE_LABELS = {
    "official": "Official",
    "ngo": "NGO",
    "employer": "Employer",
    "migrant": "Migrant",
    "resident": "Resident",
}
DOMAINS = {"housing": "housing_access", "employment": "employment_access"}
DOMAIN_LABELS = {"housing": "Housing", "employment": "Employment"}

INTERVIEW_COLUMNS = {
    "interview_id": None,
    "locality_id": None,
    "role": ROLES,
    "housing_access": LEVELS,
    "employment_access": LEVELS,
    **{t: "bool" for t in THEMES},
}
LOCALITY_COLUMNS = {
    "locality_id": None,
    "country": None,
    "size_class": policy.SIZE_CLASSES,
    "economic_trend": policy.TRENDS,
    "political_orientation": policy.ORIENTATIONS,
    "locality_type": ["thriving_experienced", "thriving_new", "struggling_experienced", "struggling_new"],
}


class AccessInputError(InputError):
    """Bad input to an access analysis: names the table, the column and the broken rule."""


# ------------------------------------------------------------------------ input
def prepare(interviews: pd.DataFrame | None = None, localities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Validated join of the coded interviews with their locality's characteristics.

    Raises :class:`AccessInputError` for missing columns, values outside the schema,
    empty theme values, duplicated interview codes and interviews from unknown
    localities. ``housing_access`` and ``employment_access`` may be empty (not discussed).
    """
    iv = data.load("interviews") if interviews is None else interviews
    loc = data.load("localities") if localities is None else localities
    iv = check_columns(
        iv, INTERVIEW_COLUMNS, "interviews", optional=tuple(DOMAINS.values()), error=AccessInputError
    )
    loc = check_columns(loc, LOCALITY_COLUMNS, "localities", error=AccessInputError)[list(LOCALITY_COLUMNS)]
    for col in DOMAINS.values():
        iv[col] = iv[col].cat.as_ordered()
    if iv["interview_id"].duplicated().any():
        dup = sorted(iv.loc[iv["interview_id"].duplicated(), "interview_id"].unique())[:10]
        raise AccessInputError(f"interviews: interview_id must be unique; duplicated: {dup}.")
    if loc["locality_id"].duplicated().any():
        raise AccessInputError("localities: locality_id must be unique.")
    unknown = sorted(set(iv["locality_id"]) - set(loc["locality_id"]))
    if unknown:
        raise AccessInputError(f"interviews: locality_id value(s) {unknown} are not in localities.")
    return iv.merge(loc, on="locality_id", how="left", validate="many_to_one")


def _prepared(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None:
        return prepare()
    missing = sorted((set(INTERVIEW_COLUMNS) | set(LOCALITY_COLUMNS)) - set(df.columns))
    if missing:
        raise AccessInputError(f"expected the output of access.prepare(); missing column(s) {missing}.")
    return df


def discussion_counts(df: pd.DataFrame | None = None) -> dict:
    """How many interviews discussed housing, employment, both or neither (the
    missing-value rule: an interview enters an estimate only if it discussed the topic)."""
    df = _prepared(df)
    h, e = df["housing_access"].notna(), df["employment_access"].notna()
    return {
        "interviews": len(df),
        "localities": int(df["locality_id"].nunique()),
        "housing_discussed": int(h.sum()),
        "housing_not_discussed": int((~h).sum()),
        "employment_discussed": int(e.sum()),
        "employment_not_discussed": int((~e).sum()),
        "both_discussed": int((h & e).sum()),
        "neither_discussed": int((~h & ~e).sum()),
    }


# ----------------------------------------------------------------- estimators
def clustered_mcnemar(x, y, clusters) -> dict:
    """McNemar test for paired binary outcomes with clustered pairs (Durkalski et al. 2003).

    With ``b_k`` pairs (x True, y False) and ``c_k`` pairs (x False, y True) in cluster k:
    ``X2 = (sum_k (b_k - c_k))^2 / sum_k (b_k - c_k)^2``, chi-square with 1 degree of
    freedom. Also returns the discordant counts and the ordinary (unclustered) McNemar
    statistic ``(b - c)^2 / (b + c)`` for comparison.
    """
    x = policy._as_bool_array(x, "clustered_mcnemar x")
    y = policy._as_bool_array(y, "clustered_mcnemar y")
    if len(x) != len(y):
        raise ValueError("clustered_mcnemar: x and y must have the same length (one pair per observation).")
    g = policy._as_clusters(clusters, len(x))
    b_k = np.bincount(g, weights=(x & ~y).astype(float))
    c_k = np.bincount(g, weights=(~x & y).astype(float))
    b, c = int(b_k.sum()), int(c_k.sum())
    if b + c == 0:
        raise ValueError("clustered_mcnemar: no discordant pairs; the test is undefined.")
    d = b_k - c_k
    denom = np.sum(d**2)
    stat = float(d.sum() ** 2 / denom) if denom > 0 else float("nan")
    return {
        "statistic": stat,
        "p_value": float(stats.chi2.sf(stat, 1)),
        "b": b,
        "c": c,
        "ordinary_statistic": float((b - c) ** 2 / (b + c)),
        "ordinary_p_value": float(stats.chi2.sf((b - c) ** 2 / (b + c), 1)),
    }


def paired_difference(x, y, clusters, level: float = 0.95) -> dict:
    """Difference between the shares of ``x`` and ``y`` measured on the same interviews
    (share x - share y), with a CR1 cluster-robust interval (the mean of the per-interview
    differences x_i - y_i, t on G - 1 degrees of freedom, with its p-value ``t_p_value``)
    and the clustered McNemar test (``p_value``)."""
    x = policy._as_bool_array(x, "paired_difference x")
    y = policy._as_bool_array(y, "paired_difference y")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError("paired_difference: x and y need the same, positive number of observations.")
    m = clustered_mean(x.astype(float) - y.astype(float), clusters, level)
    test = clustered_mcnemar(x, y, clusters)
    return {
        "share_x": float(x.mean()),
        "share_y": float(y.mean()),
        "difference": m["estimate"],
        "ci_low": m["ci_low"],
        "ci_high": m["ci_high"],
        "n": m["n"],
        "clusters": m["clusters"],
        "t_p_value": m["p_value"],
        "statistic": test["statistic"],
        "p_value": test["p_value"],
        "discordant_x_only": test["b"],
        "discordant_y_only": test["c"],
    }


def odds_ratio_2x2(a: int, b: int, c: int, d: int, level: float = 0.95) -> dict:
    """Odds ratio ``(a d) / (b c)`` of a 2x2 table (a = exposed with outcome, b = exposed
    without, c = unexposed with, d = unexposed without) with Woolf's log interval.
    Independent observations are assumed; a zero cell raises an error (no correction is
    applied silently)."""
    cells = np.array([a, b, c, d], dtype=float)
    if np.any(cells < 0):
        raise ValueError("odds_ratio_2x2: counts must not be negative.")
    if np.any(cells == 0):
        raise ValueError(
            f"odds_ratio_2x2: a zero cell ({dict(zip('abcd', cells.astype(int), strict=False))}) makes the odds "
            "ratio or its interval infinite; report the counts instead."
        )
    z = float(stats.norm.ppf(0.5 + level / 2))
    log_or = np.log(a * d / (b * c))
    se = np.sqrt(np.sum(1 / cells))
    return {
        "odds_ratio": float(np.exp(log_or)),
        "ci_low": float(np.exp(log_or - z * se)),
        "ci_high": float(np.exp(log_or + z * se)),
        "se_log": float(se),
    }


def _logit_cluster(y: pd.Series, X: pd.DataFrame, groups, level: float = 0.95):
    import statsmodels.api as sm

    g = policy._as_clusters(groups, len(y))
    fit = sm.GLM(
        y.astype(float), sm.add_constant(X.astype(float), has_constant="add"), family=sm.families.Binomial()
    ).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
    return fit, fit.conf_int(alpha=1 - level), int(g.max() + 1)


# ------------------------------------------------------------ descriptive tables
def access_distribution(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Assessments of access by domain and economic trend: counts and shares (percent of
    the interviews that discussed the domain); tidy."""
    df = _prepared(df)
    parts = []
    for dom, col in DOMAINS.items():
        sub = df[df[col].notna()]
        t = sub.groupby(["economic_trend", col], observed=False).size().rename("interviews").reset_index()
        t = t.rename(columns={col: "assessment"})
        t["share_pct"] = (
            100 * t["interviews"] / t.groupby("economic_trend", observed=True)["interviews"].transform("sum")
        )
        t.insert(0, "domain", dom)
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    out["economic_trend"] = out["economic_trend"].astype(str)
    out["assessment"] = out["assessment"].astype(str)
    return out


def hard_by_trend(df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """Share of interviews assessing access as hard, by domain and economic trend, with
    clustered Wilson intervals (interviews that discussed the domain)."""
    df = _prepared(df)
    rows = []
    for dom, col in DOMAINS.items():
        sub = df[df[col].notna()]
        for trend in policy.TRENDS:
            grp = sub[sub["economic_trend"].astype(str) == trend]
            if grp.empty:
                continue
            r = clustered_proportion(grp[col].astype(str) == "hard", grp["locality_id"], level)
            rows.append(
                {
                    "domain": dom,
                    "domain_label": DOMAIN_LABELS[dom],
                    "economic_trend": trend,
                    "trend_label": policy.TREND_LABELS[trend],
                    "interviews": r["n"],
                    "localities": r["clusters"],
                    "hard": r["successes"],
                    "share_pct": 100 * r["estimate"],
                    "ci_low_pct": 100 * r["ci_low"],
                    "ci_high_pct": 100 * r["ci_high"],
                }
            )
    return pd.DataFrame(rows)


def theme_prevalence(
    df: pd.DataFrame | None = None, by: str | None = "role", level: float = 0.95
) -> pd.DataFrame:
    """Share of interviews raising each theme, overall (``by=None``) or by ``by`` (e.g.
    role, locality_type), with clustered Wilson intervals; tidy."""
    df = _prepared(df)
    if by is not None and by not in df.columns:
        raise AccessInputError(f"theme_prevalence: unknown grouping column {by!r}.")
    groups = [("all", df)] if by is None else list(df.groupby(by, observed=True, sort=True))
    rows = []
    for lvl, grp in groups:
        for th in THEMES:
            r = clustered_proportion(grp[th], grp["locality_id"], level)
            rows.append(
                {
                    "group": str(lvl),
                    "theme": th,
                    "theme_label": THEME_LABELS[th],
                    "interviews": r["n"],
                    "localities": r["clusters"],
                    "with_theme": r["successes"],
                    "share_pct": 100 * r["estimate"],
                    "ci_low_pct": 100 * r["ci_low"],
                    "ci_high_pct": 100 * r["ci_high"],
                }
            )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- hypotheses
@dataclass
class HypothesisResult:
    """One tested hypothesis: estimate, interval, test and the computed verdict."""

    id: str
    claim: str
    estimand: str
    estimate: float
    ci_low: float
    ci_high: float
    null: float
    direction: str
    unit: str
    test: str
    p_value: float
    n: str
    details: dict = field(default_factory=dict)
    #: Holm-adjusted p-value within the page's family of hypotheses (set by :func:`evaluate`).
    p_adjusted: float = float("nan")

    @property
    def verdict(self) -> str:
        """Before adjustment, the interval rule of :func:`wholecomm.stats.verdict`. Once
        :func:`evaluate` has set ``p_adjusted`` (Holm over the family): "supported" when
        the adjusted p is below :data:`ALPHA` and the estimate lies on the predicted side,
        "not supported" when it is below on the other side, "inconclusive" otherwise. The
        test and the interval come from the same method, so without adjustment the two
        rules agree."""
        if not np.isfinite(self.p_adjusted):
            return verdict(self.ci_low, self.ci_high, self.null, self.direction)
        if not self.p_adjusted < ALPHA:
            return "inconclusive"
        above = self.estimate > self.null
        return "supported" if above == (self.direction == "greater") else "not supported"

    def row(self) -> dict:
        return {
            "hypothesis": self.id,
            "claim": self.claim,
            "estimand": self.estimand,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "unit": self.unit,
            "null": self.null,
            "expected": "above" if self.direction == "greater" else "below",
            "test": self.test,
            "p_value": self.p_value,
            "p_holm": self.p_adjusted,
            "based_on": self.n,
            "verdict": self.verdict,
        }


def _paired_hypothesis(hid: str, claim: str, estimand: str, r: dict, details: dict) -> HypothesisResult:
    """A hypothesis on a paired difference of shares within the same interviews
    (:func:`paired_difference`), in percentage points, expected above 0."""
    return HypothesisResult(
        id=hid,
        claim=claim,
        estimand=estimand,
        estimate=100 * r["difference"],
        ci_low=100 * r["ci_low"],
        ci_high=100 * r["ci_high"],
        null=0.0,
        direction="greater",
        unit="percentage points",
        test="Cluster-robust t of the paired difference (G - 1 df)",
        p_value=r["t_p_value"],
        n=f"{r['n']} interviews in {r['clusters']} localities",
        details=details | {"mcnemar_p": r["p_value"]},
    )


def _cluster_logit_hypothesis(
    hid: str, claim: str, estimand: str, fit, ci: pd.DataFrame, term: str, n: str, details: dict
) -> HypothesisResult:
    """A hypothesis on the odds ratio of ``term`` in a cluster-robust logistic regression
    (:func:`_logit_cluster`), expected above 1."""
    return HypothesisResult(
        id=hid,
        claim=claim,
        estimand=estimand,
        estimate=float(np.exp(fit.params[term])),
        ci_low=float(np.exp(ci.loc[term, 0])),
        ci_high=float(np.exp(ci.loc[term, 1])),
        null=1.0,
        direction="greater",
        unit="odds ratio",
        test="Logistic regression, cluster-robust Wald t",
        p_value=float(fit.pvalues[term]),
        n=n,
        details=details,
    )


def h1_housing_vs_employment(df: pd.DataFrame | None = None, level: float = 0.95) -> HypothesisResult:
    """H1: among interviews that discussed both, the share assessing housing as hard minus
    the share assessing employment as hard (percentage points; expected above 0)."""
    df = _prepared(df)
    both = df[df["housing_access"].notna() & df["employment_access"].notna()]
    if both.empty:
        raise AccessInputError("H1: no interview discussed both housing and employment.")
    hh, eh = both["housing_access"].astype(str) == "hard", both["employment_access"].astype(str) == "hard"
    he, ee = both["housing_access"].astype(str) == "easy", both["employment_access"].astype(str) == "easy"
    r = paired_difference(hh, eh, both["locality_id"], level)
    easy = paired_difference(ee, he, both["locality_id"], level)
    return _paired_hypothesis(
        "H1",
        "Housing is hard to access while employment is relatively easy",
        "Share assessing access as hard: housing minus employment (same interviews)",
        r,
        {
            "housing_hard_pct": 100 * r["share_x"],
            "employment_hard_pct": 100 * r["share_y"],
            "employment_easy_pct": 100 * easy["share_x"],
            "housing_easy_pct": 100 * easy["share_y"],
            "easy_difference_pp": 100 * easy["difference"],
            "easy_ci_low_pp": 100 * easy["ci_low"],
            "easy_ci_high_pp": 100 * easy["ci_high"],
            "statistic": r["statistic"],
            "interviews": r["n"],
            "localities": r["clusters"],
        },
    )


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
    rows = [
        {
            "domain": domain,
            "term": t,
            "odds_ratio": float(np.exp(fit.params[t])),
            "ci_low": float(np.exp(ci.loc[t, 0])),
            "ci_high": float(np.exp(ci.loc[t, 1])),
            "p_value": float(fit.pvalues[t]),
        }
        for t in X.columns
    ]
    out = pd.DataFrame(rows)
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


def h3_capacity(policy_df: pd.DataFrame | None = None, level: float = 0.95) -> list[HypothesisResult]:
    """H3: capacity by size class (rural area < small town < medium-sized town, scored 0, 1, 2).

    * H3 (staff): odds ratio per size step of having dedicated staff (logistic regression
      with Firth's penalised likelihood, localities are the unit: finite under
      separation, e.g. no rural area with staff; profile interval and penalised
      likelihood-ratio test from the same fit, :func:`wholecomm.stats.firth_logit`);
      details add the Cochran-Armitage trend test and the odds ratio with country fixed
      effects (countries differ in staffing);
    * H3 (proactive): odds ratio per size step of a measure being proactive (logistic
      regression, cluster-robust by locality, Wald t test).
    """
    import statsmodels.api as sm

    pdf = policy._prepared(policy_df)
    loc = policy.locality_summary(pdf)
    score = loc["size_class"].astype(str).map({s: i for i, s in enumerate(policy.SIZE_CLASSES)}).astype(float)
    staff = policy.staff_by(pdf, "size_class")
    present = staff["size_class"].tolist()
    scores = [policy.SIZE_CLASSES.index(s) for s in present]
    ca = cochran_armitage(staff["with_staff"], staff["localities"], scores)
    has_staff = loc["dedicated_staff_any"].astype(float)
    X = sm.add_constant(score.rename("size_step"))
    firth = st.firth_logit(has_staff, X, level).set_index("term").loc["size_step"]
    by_size = staff.set_index("size_class")["share_pct"]
    country_fe = pd.get_dummies(loc["country"].astype(str), prefix="country", drop_first=True, dtype=float)
    try:
        adj = st.firth_logit(has_staff, pd.concat([X, country_fe.set_axis(X.index)], axis=1), level)
        adj = adj.set_index("term").loc["size_step"]
        country_adjusted = {
            "country_adjusted_or": float(np.exp(adj["estimate"])),
            "country_adjusted_ci_low": float(np.exp(adj["ci_low"])),
            "country_adjusted_ci_high": float(np.exp(adj["ci_high"])),
            "country_adjusted_p": float(adj["p_value"]),
        }
    except (ValueError, RuntimeError) as exc:
        country_adjusted = {"country_adjusted_error": f"country-adjusted model not estimable: {exc}"}
    r_staff = HypothesisResult(
        id="H3 (staff)",
        claim="Bigger localities have more capacity: dedicated integration staff",
        estimand="Odds ratio of dedicated staff per size-class step (rural, small, medium)",
        estimate=float(np.exp(firth["estimate"])),
        ci_low=float(np.exp(firth["ci_low"])),
        ci_high=float(np.exp(firth["ci_high"])),
        null=1.0,
        direction="greater",
        unit="odds ratio",
        test="Firth logistic regression, penalised likelihood-ratio test",
        p_value=float(firth["p_value"]),
        n=f"{len(loc)} localities",
        details={f"staff_pct_{k}": v for k, v in by_size.items()}
        | {"z": ca["z"], "ca_p": ca["p_value"], "table": staff}
        | country_adjusted,
    )

    m = policy._measures(pdf)
    ms = (
        m["size_class"].astype(str).map({s: i for i, s in enumerate(policy.SIZE_CLASSES)}).rename("size_step")
    )
    fit2, ci2, n_g = _logit_cluster(m["proactive"], ms.to_frame(), m["locality_id"], level)
    pro = policy.proactive_by(pdf, ["size_class"], level)
    r_pro = _cluster_logit_hypothesis(
        "H3 (proactive)",
        "Bigger localities have more capacity: proactive measures",
        "Odds ratio of a measure being proactive per size-class step",
        fit2,
        ci2,
        "size_step",
        f"{len(m)} measures in {n_g} localities",
        {f"proactive_pct_{k}": v for k, v in pro.set_index("level")["share_pct"].items()} | {"table": pro},
    )
    return [r_staff, r_pro]


def h4_progressive_housing(policy_df: pd.DataFrame | None = None, level: float = 0.95) -> HypothesisResult:
    """H4: share of localities with a proactive housing measure, progressive minus other
    local governments (percentage points; Newcombe interval, Fisher's exact test;
    localities are the unit). The p-value is that of the Newcombe interval itself (test
    inversion, :func:`wholecomm.stats.p_from_interval`), so interval and test agree;
    Fisher's exact test is kept in the details. Details give the same comparison among
    localities with a housing measure."""
    pdf = policy._prepared(policy_df)
    h = pdf[pdf["policy_area"].astype(str) == "housing"]
    if h.empty:
        raise AccessInputError("H4: the policy data have no housing rows.")
    prog = h["political_orientation"].astype(str) == "progressive"
    pro = h["proactive"]
    x1, n1, x2, n2 = int(pro[prog].sum()), int(prog.sum()), int(pro[~prog].sum()), int((~prog).sum())
    if n1 == 0 or n2 == 0:
        raise AccessInputError("H4: needs localities with progressive and with other governments.")
    r = newcombe_difference(x1, n1, x2, n2, level)
    fisher = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]])
    p_newcombe = st.p_from_interval(
        lambda lv: (
            newcombe_difference(x1, n1, x2, n2, lv)["ci_low"],
            newcombe_difference(x1, n1, x2, n2, lv)["ci_high"],
        )
    )
    with_measure = h["measure_present"]
    details = {
        "progressive_pct": 100 * r["share_1"],
        "other_pct": 100 * r["share_2"],
        "progressive_n": n1,
        "other_n": n2,
        "progressive_proactive": x1,
        "other_proactive": x2,
        "fisher_p": float(fisher.pvalue),
        "by_orientation": housing_by_orientation(pdf, level),
    }
    k1, m1 = int(pro[prog & with_measure].sum()), int((prog & with_measure).sum())
    k2, m2 = int(pro[~prog & with_measure].sum()), int((~prog & with_measure).sum())
    if m1 and m2:
        c = newcombe_difference(k1, m1, k2, m2, level)
        details.update(
            {
                "given_measure_progressive_pct": 100 * c["share_1"],
                "given_measure_other_pct": 100 * c["share_2"],
                "given_measure_difference_pp": 100 * c["estimate"],
                "given_measure_ci_low_pp": 100 * c["ci_low"],
                "given_measure_ci_high_pp": 100 * c["ci_high"],
                "given_measure_n": m1 + m2,
            }
        )
    return HypothesisResult(
        id="H4",
        claim="Progressive local governments are more active on housing",
        estimand="Share of localities with a proactive housing measure: progressive minus other governments",
        estimate=100 * r["estimate"],
        ci_low=100 * r["ci_low"],
        ci_high=100 * r["ci_high"],
        null=0.0,
        direction="greater",
        unit="percentage points",
        test="Newcombe hybrid score (test by inversion)",
        p_value=p_newcombe,
        n=f"{n1 + n2} localities",
        details=details,
    )


def housing_by_orientation(policy_df: pd.DataFrame | None = None, level: float = 0.95) -> pd.DataFrame:
    """Housing approach by political orientation: localities with a housing measure and
    with a proactive one (Wilson intervals; localities are the unit)."""
    pdf = policy._prepared(policy_df)
    h = pdf[pdf["policy_area"].astype(str) == "housing"]
    rows = []
    for lvl, grp in h.groupby("political_orientation", observed=True, sort=True):
        n, k = len(grp), int(grp["proactive"].sum())
        lo, hi = wilson_interval(k, n, level)
        rows.append(
            {
                "political_orientation": str(lvl),
                "localities": n,
                "with_measure": int(grp["measure_present"].sum()),
                "proactive": k,
                "proactive_pct": 100 * k / n,
                "ci_low_pct": 100 * lo,
                "ci_high_pct": 100 * hi,
            }
        )
    return pd.DataFrame(rows)


def h5_discrimination(df: pd.DataFrame | None = None, level: float = 0.95) -> HypothesisResult:
    """H5: share of interviews raising discrimination in housing minus the share raising
    discrimination in employment (same interviews; percentage points; all interviews,
    since the themes are coded for every interview)."""
    df = _prepared(df)
    r = paired_difference(
        df["theme_housing_discrimination"], df["theme_employment_discrimination"], df["locality_id"], level
    )
    return _paired_hypothesis(
        "H5",
        "Discrimination is more common in housing than in employment",
        "Share of interviews raising discrimination: housing minus employment",
        r,
        {
            "housing_pct": 100 * r["share_x"],
            "employment_pct": 100 * r["share_y"],
            "statistic": r["statistic"],
            "housing_only": r["discordant_x_only"],
            "employment_only": r["discordant_y_only"],
        },
    )


#: The country-specific claims, as the project stated them: the subject of a claim is
#: taken from here, never typed into code or prose (a page that cannot find the country in
#: the data says the claim cannot be examined on them).
CLAIM_COUNTRIES = {
    "H6": {
        "country": "ES",
        "name": "Spain",
        "claim": "small towns turn vulnerable people away by not registering them",
    }
}


def claim_country(hypothesis: str = "H6") -> str:
    """The country a country-specific claim is about (``CLAIM_COUNTRIES``)."""
    return CLAIM_COUNTRIES[hypothesis]["country"]


def not_examinable(df: pd.DataFrame | None = None) -> dict[str, str]:
    """Country-specific hypotheses that cannot be examined on these interviews, with why:
    id -> reason (empty when every hypothesis can be examined)."""
    df = _prepared(df)
    out = {}
    country = claim_country("H6")
    countries = df["country"].astype(str)
    if not (countries == country).any():
        out[f"H6 ({country})"] = f"the interviews include none from {country}"
    elif (countries == country).all():
        out[f"H6 ({country})"] = (
            f"every interview is from {country}: there is no other country to compare with"
        )
    return out


def h6_registration(
    df: pd.DataFrame | None = None, level: float = 0.95, country: str | None = None
) -> list[HypothesisResult]:
    """H6: registration barriers and onward migration to larger cities.

    * H6 (onward): odds ratio of the onward-migration theme in interviews that raise
      registration barriers versus those that do not (logistic regression, cluster-robust
      by locality); details add the country-adjusted odds ratio (country fixed effects)
      and the plain 2x2 odds ratio with Woolf's interval;
    * H6 (country): share of interviews raising registration barriers in ``country``
      (default: the claim's own country, :data:`CLAIM_COUNTRIES`) minus the share
      elsewhere (percentage points); left out when the interviews do not include that
      country and another one (see :func:`not_examinable`). Few localities are "treated"
      (those of ``country``), where CR1 t inference over-rejects, so the p-value is a wild
      cluster restricted bootstrap (Webb weights) and the interval inverts the same test
      (:func:`wholecomm.stats.wild_cluster_interval`); the CR1 interval is in the details.
    """
    df = _prepared(df)
    country = claim_country("H6") if country is None else country
    reg, onward = df["theme_registration_barriers"], df["theme_onward_migration"]
    if reg.all() or not reg.any():
        raise AccessInputError("H6: the registration-barriers theme must vary across interviews.")
    fit, ci, n_g = _logit_cluster(
        onward, reg.astype(float).rename("registration").to_frame(), df["locality_id"], level
    )
    a, b = int((reg & onward).sum()), int((reg & ~onward).sum())
    c, d = int((~reg & onward).sum()), int((~reg & ~onward).sum())
    details = {
        "onward_pct_with_barriers": 100 * a / (a + b),
        "onward_pct_without_barriers": 100 * c / (c + d),
        "table": {"registration_and_onward": a, "registration_only": b, "onward_only": c, "neither": d},
    }
    if min(a, b, c, d) > 0:
        details["woolf"] = odds_ratio_2x2(a, b, c, d, level)
    countries = df["country"].astype(str)
    fe = pd.get_dummies(countries, prefix="country", drop_first=True, dtype=float)
    fe = fe.loc[:, fe.sum() > 0]
    try:
        fit_adj, ci_adj, _ = _logit_cluster(
            onward,
            pd.concat([reg.astype(float).rename("registration"), fe], axis=1),
            df["locality_id"],
            level,
        )
        details.update(
            {
                "adjusted_odds_ratio": float(np.exp(fit_adj.params["registration"])),
                "adjusted_ci_low": float(np.exp(ci_adj.loc["registration", 0])),
                "adjusted_ci_high": float(np.exp(ci_adj.loc["registration", 1])),
            }
        )
    except Exception as exc:  # separation within a country: report why the adjusted model is absent
        details["adjusted_error"] = f"country-adjusted model not estimable: {exc}"
    onward_res = _cluster_logit_hypothesis(
        "H6 (onward)",
        "Registration barriers push people towards larger cities",
        "Odds ratio of the onward-migration theme, interviews with vs without registration barriers",
        fit,
        ci,
        "registration",
        f"{len(df)} interviews in {n_g} localities",
        details,
    )

    in_c = countries == country
    if not in_c.any() or in_c.all():
        return [onward_res]
    diff = clustered_difference(reg, in_c, df["locality_id"], level)
    wild = st.wild_cluster_interval(
        reg.astype(float).to_numpy(),
        np.column_stack([np.ones(len(df)), in_c.astype(float).to_numpy()]),
        df["locality_id"].astype(str).to_numpy(),
        1,
        level,
        n_boot=WILD_BOOT,
    )
    p_c = clustered_proportion(reg[in_c], df.loc[in_c, "locality_id"], level)
    p_o = clustered_proportion(reg[~in_c], df.loc[~in_c, "locality_id"], level)
    spain = HypothesisResult(
        id=f"H6 ({country})",
        claim=f"Registration barriers are reported more often in {country} than elsewhere",
        estimand=f"Share of interviews raising registration barriers: {country} minus other countries",
        estimate=100 * wild["estimate"],
        ci_low=100 * wild["ci_low"],
        ci_high=100 * wild["ci_high"],
        null=0.0,
        direction="greater",
        unit="percentage points",
        test=f"Wild cluster restricted bootstrap ({wild['n_boot']} draws, Webb weights)",
        p_value=wild["p"],
        n=f"{len(df)} interviews in {diff['clusters']} localities",
        details={
            "country_pct": 100 * p_c["estimate"],
            "country_ci_low": 100 * p_c["ci_low"],
            "country_ci_high": 100 * p_c["ci_high"],
            "other_pct": 100 * p_o["estimate"],
            "other_ci_low": 100 * p_o["ci_low"],
            "other_ci_high": 100 * p_o["ci_high"],
            "country_interviews": p_c["n"],
            "country_localities": p_c["clusters"],
            "cr1_ci_low": 100 * diff["ci_low"],
            "cr1_ci_high": 100 * diff["ci_high"],
            "cr1_p": diff["p_value"],
        },
    )
    return [onward_res, spain]


def evaluate(
    df: pd.DataFrame | None = None, policy_df: pd.DataFrame | None = None, level: float = 0.95
) -> dict[str, HypothesisResult]:
    """Test every hypothesis; returns results keyed by hypothesis id, in order.

    The hypotheses form one family: their p-values are Holm-adjusted together
    (:func:`wholecomm.stats.holm`) and each verdict uses the adjusted p-value
    (:attr:`HypothesisResult.verdict`)."""
    df = _prepared(df)
    pdf = policy._prepared(policy_df)
    results = [
        h1_housing_vs_employment(df, level),
        *h2_economy(df, level),
        *h3_capacity(pdf, level),
        h4_progressive_housing(pdf, level),
        h5_discrimination(df, level),
        *h6_registration(df, level),
    ]
    for r, p in zip(results, st.holm([r.p_value for r in results]), strict=False):
        r.p_adjusted = float(p)
    return {r.id: r for r in results}


def summary_table(results: dict[str, HypothesisResult] | list[HypothesisResult]) -> pd.DataFrame:
    """One row per hypothesis: claim, estimand, estimate, 95% interval, unit, test,
    p-value, sample and the verdict computed by :func:`wholecomm.stats.verdict`."""
    items = list(results.values()) if isinstance(results, dict) else list(results)
    if not items:
        raise ValueError("summary_table: no results.")
    return pd.DataFrame([r.row() for r in items])


# ------------------------------------------------------- stability and power
#: Stored result of ``tools/verdict_stability.py`` (how often each verdict comes out
#: over many synthetic twins), with its provenance.
VERDICT_STABILITY_FILE = Path(__file__).parent / "results" / "verdict_stability.json"


def verdict_stability(path: Path | None = None) -> pd.DataFrame:
    """The stored verdict-stability record (``tools/verdict_stability.py``) as a table:
    hypothesis, and the percent of synthetic twins with each verdict. ``attrs`` holds the
    provenance (realisations, seeds, bootstrap draws, parameters' sha256, date, command).
    Raises FileNotFoundError naming the command when the record is missing."""
    import json

    path = VERDICT_STABILITY_FILE if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; create it with `python tools/verdict_stability.py`.")
    rec = json.loads(path.read_text(encoding="utf-8"))
    n = rec["realisations"]
    rows = [
        {
            "hypothesis": hid,
            **{
                f"{v.replace(' ', '_')}_pct": 100 * c.get(v, 0) / n
                for v in ("supported", "inconclusive", "not supported")
            },
        }
        for hid, c in rec["counts"].items()
    ]
    out = pd.DataFrame(rows)
    out.attrs.update({k: v for k, v in rec.items() if k != "counts"})
    return out


def minimum_detectable_effects(
    results: dict[str, HypothesisResult], power: float = 0.8, alpha: float = ALPHA
) -> pd.DataFrame:
    """Approximate minimum detectable effect of each test: the true effect that a
    two-sided test at ``alpha`` would detect with probability ``power``, (z_{1-alpha/2} +
    z_power) times the standard error read from the 95% interval's width (on the log
    scale for odds ratios), in the hypothesis' unit and predicted direction. Given at
    ``alpha`` and at ``alpha / m`` (the first step of Holm over the m hypotheses: the
    bar a single real effect must clear when every other hypothesis is null)."""
    if not 0 < power < 1:
        raise ValueError(f"power must lie between 0 and 1, got {power}.")
    m = len(results)
    z95 = stats.norm.ppf(0.975)
    rows = []
    for r in results.values():
        ratio = r.unit == "odds ratio"
        lo, hi = (np.log(r.ci_low), np.log(r.ci_high)) if ratio else (r.ci_low, r.ci_high)
        se = (hi - lo) / (2 * z95)
        sign = 1.0 if r.direction == "greater" else -1.0
        row = {"hypothesis": r.id, "unit": r.unit}
        for key, a in (("mde", alpha), ("mde_holm_first_step", alpha / m)):
            d = (stats.norm.ppf(1 - a / 2) + stats.norm.ppf(power)) * se
            row[key] = float(np.exp(sign * d)) if ratio else float(sign * d)
        row["estimate"] = r.estimate
        rows.append(row)
    return pd.DataFrame(rows)
