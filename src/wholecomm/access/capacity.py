"""Hypotheses on the local policies: H3 (bigger localities have more capacity) and H4
(progressive governments are more active on housing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .. import policy
from .. import stats as st
from ..policy import cochran_armitage, newcombe_difference
from .descriptives import housing_by_orientation
from .estimators import _logit_cluster
from .interviews import AccessInputError
from .result import HypothesisResult, _cluster_logit_hypothesis, _pp_hypothesis


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
        country_adjusted: dict[str, float | str] = {
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
                **st.percent_interval(
                    c, ("given_measure_difference_pp", "given_measure_ci_low_pp", "given_measure_ci_high_pp")
                ),
                "given_measure_n": m1 + m2,
            }
        )
    return _pp_hypothesis(
        "H4",
        "Progressive local governments are more active on housing",
        "Share of localities with a proactive housing measure: progressive minus other governments",
        r,
        test="Newcombe hybrid score (test by inversion)",
        p_value=p_newcombe,
        n=f"{n1 + n2} localities",
        details=details,
    )
