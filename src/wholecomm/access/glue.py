"""Glue of the hypotheses' results onto the housing-employment page (the keys its prose
uses), so that the page's cells only call the library."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..policy import p_format
from .registration import CLAIM_COUNTRIES, not_examinable
from .result import HypothesisResult


def glue_hypothesis(page: Any, key: str, r: HypothesisResult, fmt: str, fit: bool = False) -> None:
    """Glue the estimate (``{key}_est``), interval (``{key}_ci``, "low to high"), p-value
    (``{key}_p``), Holm-adjusted p-value (``{key}_p_holm``), verdict (``{key}_verdict``)
    and sample (``{key}_n``) of one hypothesis on ``page`` (a :class:`wholecomm.book.Page`).
    ``fmt`` is the number format of the estimate and bounds, e.g. ``"{:.1f}"``; ``fit``
    marks values from a model fit (recorded with a tolerance)."""
    if not (fmt.startswith("{:") and fmt.endswith("}")):
        raise ValueError(f"glue_hypothesis: fmt must look like '{{:.1f}}', got {fmt!r}.")
    spec = fmt[2:-1]
    page.glue(f"{key}_est", r.estimate, fmt, fit=fit)
    page.glue(f"{key}_ci", (r.ci_low, r.ci_high), f"{{0[0]:{spec}}} to {{0[1]:{spec}}}", fit=fit)
    page.glue(f"{key}_p", r.p_value, p_format(r.p_value), fit=fit)
    page.glue(f"{key}_p_holm", r.p_adjusted, p_format(r.p_adjusted), fit=fit)
    page.glue(f"{key}_verdict", r.verdict)
    page.glue(f"{key}_n", r.n)


def glue_registration(page: Any, results: dict[str, HypothesisResult], df: pd.DataFrame) -> None:
    """Glue the values of H6 on ``page``: the onward-migration odds ratio (keys ``h6_*``),
    its country-adjusted version, and the country claim (keys ``h6_es_*`` and the
    sentence ``h6_country_text``), or, when the claim's country cannot be examined on
    ``df``, a sentence saying why (every ``h6_es_*`` key then says so too)."""
    r = results["H6 (onward)"]
    glue_hypothesis(page, "h6", r, "{:.1f}", fit=True)
    page.glue("h6_onward_with", r.details["onward_pct_with_barriers"], "{:.0f}")
    page.glue("h6_onward_without", r.details["onward_pct_without_barriers"], "{:.0f}")
    if "adjusted_odds_ratio" in r.details:
        page.glue("h6_adj", r.details["adjusted_odds_ratio"], "{:.1f}", fit=True)
        page.glue(
            "h6_adj_ci",
            (r.details["adjusted_ci_low"], r.details["adjusted_ci_high"]),
            "{0[0]:.1f} to {0[1]:.1f}",
            fit=True,
        )
    else:
        page.glue("h6_adj", "not estimable")
        page.glue("h6_adj_ci", r.details["adjusted_error"])
    h6_claim = CLAIM_COUNTRIES["H6"]
    h6_id = f"H6 ({h6_claim['country']})"
    if h6_id in results:
        es = results[h6_id]
        glue_hypothesis(page, "h6_es", es, "{:.0f}")
        page.glue("h6_es_pct", es.details["country_pct"], "{:.0f}")
        page.glue(
            "h6_es_pct_ci",
            (es.details["country_ci_low"], es.details["country_ci_high"]),
            "{0[0]:.0f} to {0[1]:.0f}",
        )
        page.glue("h6_other_pct", es.details["other_pct"], "{:.0f}")
        page.glue(
            "h6_other_pct_ci",
            (es.details["other_ci_low"], es.details["other_ci_high"]),
            "{0[0]:.0f} to {0[1]:.0f}",
        )
        page.glue("h6_es_localities", es.details["country_localities"])
        page.glue("h6_es_interviews", es.details["country_interviews"])
        page.glue("h6_es_cr1_p", es.details["cr1_p"], p_format(es.details["cr1_p"]))
        v = page.values
        h6_country_text = (
            f"Registration barriers are raised in {v['h6_es_pct']['text']}% of the {v['h6_es_interviews']['text']} "
            f"interviews from {h6_claim['name']} (95% CI {v['h6_es_pct_ci']['text']}%) and in "
            f"{v['h6_other_pct']['text']}% elsewhere (95% CI {v['h6_other_pct_ci']['text']}%), a difference of "
            f"{v['h6_es_est']['text']} percentage points (95% CI {v['h6_es_ci']['text']}), which rests on only "
            f"{v['h6_es_localities']['text']} localities of {h6_claim['name']}. With so few treated localities a "
            f"cluster-robust t test over-rejects, so the p-value is a wild cluster bootstrap "
            f"({v['h6_es_p']['text']}, Holm-adjusted {v['h6_es_p_holm']['text']}) and the interval inverts that "
            f"test; the cluster-robust t gives {v['h6_es_cr1_p']['text']}. The concentration in "
            f"{h6_claim['name']} is **{v['h6_es_verdict']['text']}**."
        )
    else:
        h6_country_text = f"This claim cannot be examined on these data: {not_examinable(df)[h6_id]}."
        # Other pages quote these values: they say so rather than go missing.
        for key in (
            "h6_es_est",
            "h6_es_ci",
            "h6_es_p",
            "h6_es_p_holm",
            "h6_es_verdict",
            "h6_es_n",
            "h6_es_pct",
            "h6_es_pct_ci",
            "h6_other_pct",
            "h6_other_pct_ci",
            "h6_es_localities",
            "h6_es_interviews",
            "h6_es_cr1_p",
        ):
            page.glue(key, "not examinable on these data")
    page.glue("h6_country_name", h6_claim["name"])
    page.glue("h6_country_text", h6_country_text)
