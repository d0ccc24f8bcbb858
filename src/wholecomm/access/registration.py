"""H6: registration barriers, the country they are claimed for, and onward migration."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stats as st
from ..policy import clustered_difference, clustered_proportion
from .estimators import _logit_cluster, odds_ratio_2x2
from .interviews import AccessInputError, _prepared
from .result import HypothesisResult, _cluster_logit_hypothesis, _pp_hypothesis

#: Bootstrap draws of the wild cluster bootstrap of H6 (country).
WILD_BOOT = 9999


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
    df: pd.DataFrame | None = None, level: float = 0.95, country: str | None = None, n_boot: int = WILD_BOOT
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
      (:func:`wholecomm.stats.wild_cluster_interval`, ``n_boot`` draws); the CR1 interval is
      in the details.
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
        adjusted = st.odds_ratio_row(fit_adj, ci_adj, "registration")
        details.update({f"adjusted_{k}": adjusted[k] for k in ("odds_ratio", "ci_low", "ci_high")})
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
        n_boot=n_boot,
    )
    p_c = clustered_proportion(reg[in_c], df.loc[in_c, "locality_id"], level)
    p_o = clustered_proportion(reg[~in_c], df.loc[~in_c, "locality_id"], level)
    spain = _pp_hypothesis(
        f"H6 ({country})",
        f"Registration barriers are reported more often in {country} than elsewhere",
        f"Share of interviews raising registration barriers: {country} minus other countries",
        wild,
        test=f"Wild cluster restricted bootstrap ({wild['n_boot']} draws, Webb weights)",
        p_value=wild["p"],
        n=f"{len(df)} interviews in {diff['clusters']} localities",
        details={
            **st.percent_interval(p_c, ("country_pct", "country_ci_low", "country_ci_high")),
            **st.percent_interval(p_o, ("other_pct", "other_ci_low", "other_ci_high")),
            "country_interviews": p_c["n"],
            "country_localities": p_c["clusters"],
            "cr1_ci_low": 100 * diff["ci_low"],
            "cr1_ci_high": 100 * diff["ci_high"],
            "cr1_p": diff["p_value"],
        },
    )
    return [onward_res, spain]
