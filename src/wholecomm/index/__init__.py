"""MIPEX-L: the local integration policy index (scoring, ranking, robustness, associations).

The scoring rule and its missing-data rule are stated in :mod:`~wholecomm.index.scoring`.

The package's modules, by what they do: :mod:`~wholecomm.index.scoring` (the rule, summaries,
ranking), :mod:`~wholecomm.index.aggregation` (alternative rules),
:mod:`~wholecomm.index.perturbation` and :mod:`~wholecomm.index.uncertainty` (Monte Carlo rank
intervals), :mod:`~wholecomm.index.sobol` (Sobol indices),
:mod:`~wholecomm.index.reliability`, :mod:`~wholecomm.index.intervals`,
:mod:`~wholecomm.index.comparisons`, :mod:`~wholecomm.index.gaps`,
:mod:`~wholecomm.index.national` and :mod:`~wholecomm.index.associations`, with the
chapter's figures in :mod:`~wholecomm.index.figures`; constants and input checks in
:mod:`~wholecomm.index.common`. This package re-exports their public names
(``from wholecomm import index; index.score(...)``).
"""

from __future__ import annotations

from ..numerics import TIE_DECIMALS
from ..stats import WEBB, p_text, wild_cluster_bootstrap
from .aggregation import (
    aggregate,
    aggregation_agreement,
    alternative_aggregations,
)
from .associations import (
    INDEX_TERM,
    MULTILEVEL_CONTROLS,
    Association,
    cohesion_association,
    multilevel_attitudes,
)
from .common import (
    AREA_LABELS,
    DEFAULT_SEED,
    LAG_AREAS,
    LEAD_AREAS,
    MIN_ANSWERED_SHARE,
    MIPEX_AREAS,
    RULES,
    STAGE_LABELS,
    STAGES,
    stats,
)
from .comparisons import (
    GROUPINGS,
    area_matrix,
    compare_groups,
    level_summary,
    town_table,
)
from .figures import (
    area_heatmap,
    areas_figure,
    cohesion_figure,
    correlation_figure,
    groups_figure,
    local_national_figure,
    pairwise_figure,
    ranking_figure,
    sobol_figure,
    stages_figure,
)
from .gaps import (
    PairedGap,
    _paired_gap,
    lead_lag,
    lead_lag_outcome,
    lead_lag_verdict,
    stage_gap,
)
from .intervals import (
    bounded_mean_ci,
    country_icc,
)
from .national import (
    local_vs_national,
    local_vs_national_long,
    local_vs_national_summary,
    national_source,
)
from .perturbation import (
    AGGREGATIONS,
    FACTORS,
    GEOMETRIC_SHIFT,
    MIDDLE_RANGE,
    N_DONORS,
    N_REALISATIONS,
    SENSITIVITY_LABELS,
    THRESHOLDS,
    WEIGHT_SPREAD,
    factor_table,
    hot_deck_donors,
)
from .reliability import (
    alpha_by_area,
    area_correlations,
    area_index_correlations,
    correlation_summary,
    item_rest_correlations,
    principal_components,
)
from .scoring import (
    IndexResult,
    from_package,
    missing_summary,
    overall_scores,
    overall_summary,
    rank,
    ranked_only,
    score,
    town_countries,
)
from .sobol import (
    MEAN_SHIFT,
    SensitivityResult,
    _sobol_resamples,
    sensitivity,
    sensitivity_summary,
    sensitivity_verdict,
    sobol_indices,
    town_drivers,
)
from .uncertainty import (
    MonteCarloResult,
    firm_order,
    monte_carlo,
    monte_carlo_error,
    nominal_scores,
    pairwise_order,
    rank_interval_summary,
    rank_intervals,
)

#: Former name of :data:`~wholecomm.index.common.MIPEX_AREAS`, still used by the toolbox and the
#: benchmark (``policy.AREAS`` is another list: the eight areas of the policy survey).
AREAS = MIPEX_AREAS

__all__ = [
    "TIE_DECIMALS",
    "WEBB",
    "p_text",
    "wild_cluster_bootstrap",
    "MIPEX_AREAS",
    "AREAS",
    "STAGES",
    "AREA_LABELS",
    "STAGE_LABELS",
    "LEAD_AREAS",
    "LAG_AREAS",
    "MIN_ANSWERED_SHARE",
    "DEFAULT_SEED",
    "RULES",
    "stats",
    "IndexResult",
    "score",
    "from_package",
    "overall_scores",
    "missing_summary",
    "overall_summary",
    "town_countries",
    "rank",
    "ranked_only",
    "aggregate",
    "alternative_aggregations",
    "aggregation_agreement",
    "hot_deck_donors",
    "FACTORS",
    "SENSITIVITY_LABELS",
    "WEIGHT_SPREAD",
    "AGGREGATIONS",
    "GEOMETRIC_SHIFT",
    "THRESHOLDS",
    "MIDDLE_RANGE",
    "N_DONORS",
    "N_REALISATIONS",
    "MonteCarloResult",
    "monte_carlo",
    "factor_table",
    "nominal_scores",
    "rank_intervals",
    "rank_interval_summary",
    "monte_carlo_error",
    "pairwise_order",
    "firm_order",
    "SensitivityResult",
    "sobol_indices",
    "sensitivity",
    "sensitivity_summary",
    "town_drivers",
    "sensitivity_verdict",
    "MEAN_SHIFT",
    "_sobol_resamples",
    "alpha_by_area",
    "area_correlations",
    "correlation_summary",
    "principal_components",
    "area_index_correlations",
    "item_rest_correlations",
    "bounded_mean_ci",
    "country_icc",
    "town_table",
    "area_matrix",
    "compare_groups",
    "level_summary",
    "GROUPINGS",
    "PairedGap",
    "lead_lag",
    "lead_lag_outcome",
    "lead_lag_verdict",
    "stage_gap",
    "_paired_gap",
    "local_vs_national",
    "national_source",
    "local_vs_national_long",
    "local_vs_national_summary",
    "Association",
    "cohesion_association",
    "multilevel_attitudes",
    "MULTILEVEL_CONTROLS",
    "INDEX_TERM",
    "ranking_figure",
    "area_heatmap",
    "groups_figure",
    "areas_figure",
    "stages_figure",
    "local_national_figure",
    "pairwise_figure",
    "sobol_figure",
    "correlation_figure",
    "cohesion_figure",
]
