"""One tested hypothesis (:class:`HypothesisResult`) and the verdict rule of the page."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..policy import verdict
from ..stats import odds_ratio_row

#: Significance level of the verdicts, applied to Holm-adjusted p-values over the page's
#: family of hypotheses (:func:`~wholecomm.access.hypotheses.evaluate`).
ALPHA = 0.05


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
    #: Holm-adjusted p-value within the page's family of hypotheses (set by :func:`~wholecomm.access.hypotheses.evaluate`).
    p_adjusted: float = float("nan")

    @property
    def verdict(self) -> str:
        """Before adjustment, the interval rule of :func:`wholecomm.stats.verdict`. Once
        :func:`~wholecomm.access.hypotheses.evaluate` has set ``p_adjusted`` (Holm over the family): "supported" when
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


def _pp_hypothesis(
    hid: str,
    claim: str,
    estimand: str,
    r: dict,
    test: str,
    p_value: float,
    n: str,
    details: dict,
    estimate: str = "estimate",
) -> HypothesisResult:
    """A hypothesis on a difference of shares, expected above 0: the key ``estimate`` of
    ``r`` and its interval (``ci_low``, ``ci_high``; fractions) in percentage points."""
    return HypothesisResult(
        id=hid,
        claim=claim,
        estimand=estimand,
        estimate=100 * r[estimate],
        ci_low=100 * r["ci_low"],
        ci_high=100 * r["ci_high"],
        null=0.0,
        direction="greater",
        unit="percentage points",
        test=test,
        p_value=p_value,
        n=n,
        details=details,
    )


def _paired_hypothesis(hid: str, claim: str, estimand: str, r: dict, details: dict) -> HypothesisResult:
    """A hypothesis on a paired difference of shares within the same interviews
    (:func:`paired_difference`), in percentage points, expected above 0."""
    return _pp_hypothesis(
        hid,
        claim,
        estimand,
        r,
        test="Cluster-robust t of the paired difference (G - 1 df)",
        p_value=r["t_p_value"],
        n=f"{r['n']} interviews in {r['clusters']} localities",
        details=details | {"mcnemar_p": r["p_value"]},
        estimate="difference",
    )


def _cluster_logit_hypothesis(
    hid: str, claim: str, estimand: str, fit, ci: pd.DataFrame, term: str, n: str, details: dict
) -> HypothesisResult:
    """A hypothesis on the odds ratio of ``term`` in a cluster-robust logistic regression
    (:func:`_logit_cluster`), expected above 1."""
    odds = odds_ratio_row(fit, ci, term)
    return HypothesisResult(
        id=hid,
        claim=claim,
        estimand=estimand,
        estimate=odds["odds_ratio"],
        ci_low=odds["ci_low"],
        ci_high=odds["ci_high"],
        null=1.0,
        direction="greater",
        unit="odds ratio",
        test="Logistic regression, cluster-robust Wald t",
        p_value=odds["p_value"],
        n=n,
        details=details,
    )
