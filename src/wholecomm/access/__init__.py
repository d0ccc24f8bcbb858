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
:func:`~wholecomm.access.interviews.discussion_counts`; a paired comparison uses the interviews that discussed both.
The theme columns are required (True/False) and may not be empty.
"""

from ..labels import DOMAIN_LABELS, ROLE_LABELS, THEME_LABELS
from .capacity import h3_capacity, h4_progressive_housing
from .descriptives import (
    access_distribution,
    hard_by_trend,
    housing_by_orientation,
    theme_prevalence,
    theme_table,
)
from .economy import h2_economy, ordinal_trend_model, trend_models
from .estimators import clustered_mcnemar, odds_ratio_2x2, paired_difference
from .figures import hard_by_trend_figure, themes_figure
from .glue import glue_hypothesis, glue_registration
from .hypotheses import evaluate, summary_table
from .interviews import (
    DOMAINS,
    INTERVIEW_COLUMNS,
    LEVELS,
    LOCALITY_COLUMNS,
    ROLES,
    THEMES,
    AccessInputError,
    discussion_counts,
    prepare,
)
from .paired import h1_housing_vs_employment, h5_discrimination
from .registration import CLAIM_COUNTRIES, WILD_BOOT, claim_country, h6_registration, not_examinable
from .result import ALPHA, HypothesisResult
from .stability import (
    JOINT_SEPARATOR,
    VERDICT_STABILITY_FILE,
    VERDICTS,
    joint_verdicts,
    minimum_detectable_effects,
    verdict_stability,
)

__all__ = [
    "ALPHA",
    "CLAIM_COUNTRIES",
    "DOMAINS",
    "DOMAIN_LABELS",
    "INTERVIEW_COLUMNS",
    "JOINT_SEPARATOR",
    "LEVELS",
    "LOCALITY_COLUMNS",
    "ROLES",
    "ROLE_LABELS",
    "THEMES",
    "THEME_LABELS",
    "VERDICTS",
    "VERDICT_STABILITY_FILE",
    "WILD_BOOT",
    "AccessInputError",
    "HypothesisResult",
    "access_distribution",
    "claim_country",
    "clustered_mcnemar",
    "discussion_counts",
    "evaluate",
    "glue_hypothesis",
    "glue_registration",
    "h1_housing_vs_employment",
    "h2_economy",
    "h3_capacity",
    "h4_progressive_housing",
    "h5_discrimination",
    "h6_registration",
    "hard_by_trend",
    "hard_by_trend_figure",
    "housing_by_orientation",
    "joint_verdicts",
    "minimum_detectable_effects",
    "not_examinable",
    "odds_ratio_2x2",
    "ordinal_trend_model",
    "paired_difference",
    "prepare",
    "summary_table",
    "theme_prevalence",
    "theme_table",
    "themes_figure",
    "trend_models",
    "verdict_stability",
]
