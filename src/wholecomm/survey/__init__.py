"""The survey of long-term residents: recoding, weights, design-based estimates, scales,
contact, awareness and a multilevel model of attitudes.

The package's modules, by what they do: ``coding`` (codes, labels, recoding, the attitude
index), ``weights`` (raking and its fallback, diagnostics, composition), ``estimates``
(design-based estimates for the residents of the studied localities), ``places``
(comparisons of places), ``scales`` and ``ordinal`` (reliability and the ordinal
one-factor model), ``contact`` (contact and the claims about it), ``frame`` (the analysis
frame), ``models`` (the multilevel model) and ``report`` (the chapter's tables and
figures). Every public name is importable from ``wholecomm.survey``.

Coding rules
------------
* **Non-substantive answers.** Codes 8 (don't know) and 9 (refused) are missing values,
  never scale points: they never enter a mean, a share or a model. An empty attitude,
  contact or trust answer is not allowed (the schema requires them) and raises an error;
  ``impact_measures`` is empty by routing for respondents not aware of any measure.
* **Reversed item.** ``att_services`` ("newcomers put too much pressure on local
  services") is negatively worded; in the attitude index it is reversed (``6 - x``) so
  that, for every item, higher means more positive towards newcomers.
* **Attitude index.** Mean of the six recoded items over the substantive answers, when at
  least 4 of the 6 are substantive; otherwise missing.
* **Item missingness in estimates.** A respondent whose value is missing (non-substantive
  or below the index's answer threshold) is left out of that estimate only; ``n`` in every
  result table counts the respondents the estimate rests on. Nothing is imputed.

Weights
-------
:func:`~wholecomm.survey.weights.rake` adjusts each respondent's ``design_weight`` within each locality so that the
weighted sample reproduces that locality's adult population by age group, by gender and
by education (one-way margins summed from ``population_margins``), by iterative
proportional fitting. The design weights are first scaled to the locality's population
total; the adjustment factor of a respondent is ``g = final weight / scaled design
weight``. With trimming, factors outside ``trim`` are set to the bound after every
raking cycle and the other weights are raked again (bounded raking), until the margins
hold to ``tol`` (relative) and every factor lies within the bounds. If that does not
happen within ``max_iter`` cycles, or the margins cannot be met (a margin category with
population but no respondents), it raises; :func:`~wholecomm.survey.weights.rake_with_fallback` (used by
:func:`~wholecomm.survey.frame.analysis_frame`) then collapses categories or keeps design weights for that
locality only, and reports which localities and why. Everything is vectorised over respondents
and localities (``numpy.bincount``), so a million respondents rake in seconds.

Estimates and their uncertainty
-------------------------------
Localities were chosen purposively (five per country) and residents were sampled within
each of them, so localities are **strata**, not sampled clusters: inference is about the
residents of the studied localities, and between-locality variation is not sampling
error. Respondents are the sampling units within strata. Standard errors use **Taylor
linearisation** of the ratio (weighted mean) estimator with domain estimation for
subgroups. The chapter's estimates (``RESIDENT_DESIGN``) treat the raked weights as
*calibrated* (the linearised values are replaced by their residuals from a weighted
regression, within each locality, on the categories of the raking variables; raking is
asymptotically such a calibration) and apply each locality's *finite population
correction* 1 - n/N (N: the locality's adult population, the sum of its raked weights);
the bare :func:`~wholecomm.survey.estimates.weighted_mean` treats weights as fixed and
sampling as with replacement unless told otherwise (``calibration``, ``fpc``). Confidence
intervals use Student's t with (respondents - strata) degrees of freedom; intervals for
proportions are computed on the logit scale so that they stay within 0 and 1 (an
estimate of exactly 0 or 1 gets a zero-width interval). A domain with answers in a
stratum of a single respondent has no estimable variance: its se and CI are NaN.
Differences between estimates from disjoint sets of localities (:func:`~wholecomm.survey.estimates.difference`) add
the variances; a difference within the same respondents is estimated as the weighted
mean of the per-respondent difference, which keeps their covariance.

How localities are pooled is a choice, made explicit by ``pooling``:

* ``"weights"`` uses the weights as given: with raked weights each locality counts in
  proportion to its adult population, so pooled estimates would be dominated by the few
  medium-sized towns;
* ``"equal"`` (used by this chapter's summaries, ``POOLING``) rescales each
  locality's weights to sum to one, so every studied locality counts equally: a pooled
  estimate describes the average studied locality, in keeping with the comparative
  design. Within a single locality both give the same estimate.

Disclosure control
------------------
Every locality-level table (:func:`~wholecomm.survey.frame.locality_outcomes`, :func:`~wholecomm.survey.weights.weight_diagnostics`) passes
through :func:`wholecomm.data.disclosure.suppress_small_cells` (at least
:data:`wholecomm.data.disclosure.MIN_CELL_DEFAULT` respondents).
"""

from .coding import (
    ASSOCIATIONAL_SETTINGS,
    ATTITUDE_ITEMS,
    CONTACT_SETTINGS,
    DONT_KNOW,
    GROUPINGS,
    ITEM_LABELS,
    LIKERT_POINTS,
    MIN_ITEMS,
    MODEL_COVARIATES,
    NON_SUBSTANTIVE,
    OVERALL_LABEL,
    POOLING,
    RAKING_VARIABLES,
    REFUSED,
    RESPONSE_LABELS,
    REVERSED_ITEMS,
    SETTING_LABELS,
    TRIM,
    VARIABLE_LABELS,
    attitude_index,
    recode_items,
)
from .contact import (
    CLAIM_COUNTRIES,
    ClaimTest,
    associational_contact_claim,
    claim_examinable,
    contact_by_setting,
    contact_matrix,
    meaningful_contact_claim,
)
from .estimates import (
    RESIDENT_DESIGN,
    awareness,
    awareness_dont_know,
    by_groups,
    difference,
    perceived_impact,
    weighted_mean,
    weighted_proportion,
)
from .frame import (
    analysis_frame,
    locality_outcomes,
)
from .models import (
    TERM_LABELS,
    attitude_model,
)
from .ordinal import (
    SRMR_GOOD,
    OneFactorFit,
    bivariate_normal_cdf,
    one_factor,
    polychoric,
    polychoric_matrix,
)
from .places import (
    MIN_PLACE_DF,
    PLACE_CLUSTERS,
    PLACE_STRATA,
    design_comparison,
    extremes,
    place_by_groups,
    place_contrast,
    place_contrasts,
    place_estimates,
    ranking_text,
)
from .report import (
    GROUP_NAMES,
    associational_figure,
    associational_table,
    attitude_places_figure,
    attitude_table,
    awareness_impact_table,
    awareness_places_figure,
    coefficient_figure,
    coefficient_table,
    composition_figure,
    contact_heatmap,
    contact_table,
    design_table,
    glue_interval,
    likert_figure,
    loadings_table,
    weight_diagnostics_table,
)
from .scales import (
    ScaleCheck,
    cronbach_alpha,
    item_distribution,
    likert_segments,
    scale_check,
)
from .weights import (
    _collapse_groups,
    composition,
    rake,
    rake_with_fallback,
    weight_diagnostics,
    weighting_report,
)

__all__ = [
    "ASSOCIATIONAL_SETTINGS",
    "ATTITUDE_ITEMS",
    "CLAIM_COUNTRIES",
    "CONTACT_SETTINGS",
    "ClaimTest",
    "DONT_KNOW",
    "GROUPINGS",
    "GROUP_NAMES",
    "ITEM_LABELS",
    "LIKERT_POINTS",
    "MIN_ITEMS",
    "MIN_PLACE_DF",
    "MODEL_COVARIATES",
    "NON_SUBSTANTIVE",
    "OVERALL_LABEL",
    "OneFactorFit",
    "PLACE_CLUSTERS",
    "PLACE_STRATA",
    "POOLING",
    "RAKING_VARIABLES",
    "REFUSED",
    "RESIDENT_DESIGN",
    "RESPONSE_LABELS",
    "REVERSED_ITEMS",
    "SETTING_LABELS",
    "SRMR_GOOD",
    "ScaleCheck",
    "TERM_LABELS",
    "TRIM",
    "VARIABLE_LABELS",
    "_collapse_groups",
    "analysis_frame",
    "associational_contact_claim",
    "associational_figure",
    "associational_table",
    "attitude_index",
    "attitude_model",
    "attitude_places_figure",
    "attitude_table",
    "awareness",
    "awareness_dont_know",
    "awareness_impact_table",
    "awareness_places_figure",
    "bivariate_normal_cdf",
    "by_groups",
    "claim_examinable",
    "coefficient_figure",
    "coefficient_table",
    "composition",
    "composition_figure",
    "contact_by_setting",
    "contact_heatmap",
    "contact_matrix",
    "contact_table",
    "cronbach_alpha",
    "design_comparison",
    "design_table",
    "difference",
    "extremes",
    "glue_interval",
    "item_distribution",
    "likert_figure",
    "likert_segments",
    "loadings_table",
    "locality_outcomes",
    "meaningful_contact_claim",
    "one_factor",
    "perceived_impact",
    "place_by_groups",
    "place_contrast",
    "place_contrasts",
    "place_estimates",
    "polychoric",
    "polychoric_matrix",
    "rake",
    "rake_with_fallback",
    "ranking_text",
    "recode_items",
    "scale_check",
    "weight_diagnostics",
    "weight_diagnostics_table",
    "weighted_mean",
    "weighted_proportion",
    "weighting_report",
]
