"""Plain-language labels and display rules of the book's tables, in one place.

The library returns tables with short code names (``locality_id``, ``ci_low_pct``,
``anova_p``) so that code reads well and CSV downloads keep stable column names. A table
on a page (``book.Page.table``) shows the same table to a reader: its columns named by
:func:`column_label`, ordered by :func:`order_columns` (what identifies a row first, then
the columns a reader looks for: verdict, status, consistency and the case counts), p-values
as "< 0.001" (:func:`wholecomm.stats.format_p`) and true/false as yes/no.

The categories of the data (size classes, locality types, countries, the groupings results
are broken down by, the survey's contact settings and non-substantive answer codes) are
named here once, for tables, figures and sentences alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .stats import format_p  # noqa: F401  (re-exported: the one p-value format)

# --------------------------------------------------------------- codes in order
#: The MIPEX-L policy areas in catalogue order (the index scores all nine).
MIPEX_AREAS = [
    "governance_capacity",
    "labour_market",
    "education",
    "health",
    "housing",
    "language_orientation",
    "political_participation",
    "anti_discrimination",
    "intercultural_relations",
]
#: The areas local policy measures are coded in: the MIPEX-L areas without governance and
#: capacity, which is how a locality works rather than a field of measures.
POLICY_AREAS = MIPEX_AREAS[1:]
#: Policy-cycle stages in order.
STAGES = ["formulation", "output", "implementation", "evaluation"]
#: Trends of the local economy, in order.
TRENDS = ["declining", "stable", "improving"]
#: Policy areas as a table or a figure shows them (the MIPEX-L areas; local policy measures use
#: all but the first).
AREA_LABELS = {
    "governance_capacity": "Governance and capacity",
    "labour_market": "Labour market",
    "education": "Education",
    "health": "Health",
    "housing": "Housing",
    "language_orientation": "Language and orientation",
    "political_participation": "Political participation",
    "anti_discrimination": "Anti-discrimination",
    "intercultural_relations": "Intercultural relations",
}
#: Policy-cycle stages as a table shows them.
STAGE_LABELS = {
    "formulation": "Policy formulation",
    "output": "Policy output",
    "implementation": "Implementation",
    "evaluation": "Evaluation",
}

# ------------------------------------------------------------------------- categories
#: Size classes of localities (``localities.size_class``), as a table or a figure shows them.
SIZE_LABELS = {"rural_area": "Rural area", "small_town": "Small town", "medium_town": "Medium-sized town"}
#: The same size classes in a sentence ("in rural areas").
SIZE_PLURALS = {"rural_area": "rural areas", "small_town": "small towns", "medium_town": "medium-sized towns"}
#: Locality types (``localities.locality_type``, the rule of :func:`wholecomm.data.rules.locality_type`).
TYPE_LABELS = {
    "thriving_experienced": "Thriving, experienced with diversity",
    "thriving_new": "Thriving, new to diversity",
    "struggling_experienced": "Struggling, experienced with diversity",
    "struggling_new": "Struggling, new to diversity",
}
#: Countries of the study by ISO code.
COUNTRY_NAMES = {
    "AT": "Austria",
    "BE": "Belgium",
    "DE": "Germany",
    "ES": "Spain",
    "IT": "Italy",
    "NL": "Netherlands",
    "PL": "Poland",
    "SE": "Sweden",
}
#: The locality characteristics results are broken down by (besides "overall").
GROUPINGS = {"country": "Country", "size_class": "Size class", "locality_type": "Locality type"}
#: Settings of contact with immigrants asked in the survey (columns ``contact_<setting>``).
CONTACT_SETTINGS = ["work", "neighbourhood", "hobby", "sports", "leisure", "school", "religious"]
#: Codes of the non-substantive answers of the survey's coded items, and their labels.
DONT_KNOW_CODE, REFUSED_CODE = 8, 9
NON_SUBSTANTIVE_LABELS = {DONT_KNOW_CODE: "Don't know", REFUSED_CODE: "Refused"}

#: Themes coded for every interview (``interviews.theme_*`` columns).
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
#: Roles of the interviewees (``interviews.role``).
ROLE_LABELS = {
    "official": "Official",
    "ngo": "NGO",
    "employer": "Employer",
    "migrant": "Migrant",
    "resident": "Resident",
}
#: Domains of access assessed in the interviews (``housing_access``, ``employment_access``).
DOMAIN_LABELS = {"housing": "Housing", "employment": "Employment"}
#: Locality characteristics the local-policy results are broken down by.
FACTOR_LABELS = {
    "size_class": "Size class",
    "economic_trend": "Economic trend",
    "political_orientation": "Political orientation",
    "country": "Country",
}
#: Factors of the MIPEX-L sensitivity analysis (:mod:`wholecomm.index.perturbation`).
SENSITIVITY_LABELS = {
    "weights": "Area weights",
    "aggregation": "Aggregation rule",
    "imputation": "Imputation",
    "threshold": "Answered-share threshold",
    "middle": "Score of the middle answer",
}

# ---------------------------------------------------------------------------- columns
#: Columns that identify a row -> label (kept first in a table, in the order it has them).
ID_LABELS: dict[str, str] = {
    "locality_id": "Locality",
    "locality": "Locality",
    "country": "Country",
    "size_class": "Size class",
    "locality_type": "Locality type",
    "type": "Type",
    "area": "Area (code)",
    "label": "Label",
    "policy_area": "Policy area",
    "grouping": "Grouping",
    "group": "Group",
    "domain": "Domain",
    "theme_label": "Theme",
    "role": "Role",
    "setting": "Setting",
    "factor": "Factor",
    "level": "Level",
    "term": "Term",
    "hypothesis": "Hypothesis",
    "claim": "Claim",
    "configuration": "Configuration",
    "indicator": "Indicator",
    "indicator_id": "Indicator (code)",
    "output": "Output",
    "source": "Source",
    "resource": "Resource",
    "column": "Column",
    "peer_group": "Peer group",
    "political_orientation": "Political orientation",
    "economic_trend": "Economic trend",
    "where": "Where",
    "measure": "Measure",
    "set": "Set",
    "k": "Number of types (k)",
}

#: Code name -> label. A name not listed is shown by :func:`column_label`'s fallback rule.
COLUMN_LABELS: dict[str, str] = {
    **ID_LABELS,
    # counts
    "n": "Count (n)",
    "n_outcome": "Cases with the outcome",
    "n_countries": "Countries",
    "interviews": "Interviews",
    "localities": "Localities",
    "measures": "Measures",
    "with_measure": "With a measure",
    "with_theme": "Interviews with the theme",
    "cases": "Cases",
    "cases_with_outcome": "Cases with the outcome",
    "members": "Members",
    "answered": "Indicators answered",
    "peers": "Peers",
    "peers_scored": "Peers scored",
    "complete_localities": "Localities with every indicator",
    "indicators": "Indicators",
    "rows": "Rows",
    "columns": "Columns",
    "of_measures": "Of measures",
    "peers_scoring_100": "Peers scoring 100",
    # estimates and intervals
    "estimate": "Estimate",
    "se": "Standard error",
    "df": "Degrees of freedom",
    "lo": "95% CI low",
    "hi": "95% CI high",
    "ci_lo": "95% CI low",
    "ci_hi": "95% CI high",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "ci_low_pct": "95% CI low (%)",
    "ci_high_pct": "95% CI high (%)",
    "ci_method": "Interval method",
    "share_pct": "Share (%)",
    "proactive_pct": "Proactive (%)",
    "share_proactive_pct": "Proactive (%)",
    "mean": "Mean",
    "median": "Median",
    "q1": "Lower quartile",
    "q3": "Upper quartile",
    "best": "Best",
    "own": "Own score",
    "own_minus_median": "Own minus median",
    "odds_ratio": "Odds ratio",
    "p_value": "p-value",
    "anova_p": "p-value (ANOVA)",
    "adjusted_p": "p-value (Holm-adjusted)",
    "p_holm": "p-value (Holm-adjusted)",
    # verdicts as columns (counts of each verdict); "supported" and "inconclusive" read as they are
    "not supported": "Not supported",
    "consistency": "Consistency",
    "coverage": "Coverage",
    "raw_coverage": "Raw coverage",
    "unique_coverage": "Unique coverage",
    "silhouette": "Silhouette width",
    "alpha": "Cronbach's alpha",
    "alpha_complete": "Alpha (complete cases)",
    "r_index": "Correlation with the index",
    "r_rest": "Correlation with the rest",
    "effective_share": "Effective weight",
    "nominal_weight": "Nominal weight",
    "S1": "First-order index (S1)",
    "S1_ci_low": "S1 CI low",
    "S1_ci_high": "S1 CI high",
    "ST": "Total index (ST)",
    "ST_ci_low": "ST CI low",
    "ST_ci_high": "ST CI high",
    # scores and ranks
    "overall": "Overall score",
    "local_overall": "Local score",
    "national_overall": "National score",
    "difference": "Difference",
    "national_approach": "National approach",
    "source_url": "Source",
    "rank": "Rank",
    "rank_median": "Median rank",
    "rank_low": "Rank interval low",
    "rank_high": "Rank interval high",
    "tied": "Tied",
    "firmly_above": "Firmly above",
    "firmly_below": "Firmly below",
    "score": "Score",
    "change": "Change",
    "status": "Status",
    "verdict": "Verdict",
    # shares by category
    **SIZE_LABELS,
    **{f"{code}_pct": f"{label} (%)" for code, label in SIZE_LABELS.items()},
    "staff_pct": "With staff (%)",
    "improving_pct": "Improving economy (%)",
    "progressive_pct": "Progressive (%)",
    "eu_pct": "EU funds (%)",
    "national_pct": "National funds (%)",
    "regional_pct": "Regional funds (%)",
    "local_pct": "Local funds (%)",
    "empty_pct": "Empty (%)",
    "dont_know_pct": "Don't know (%)",
    "refused_pct": "Refused (%)",
    "mean_measures": "Mean measures",
    "mostly_proactive_in": "Mostly proactive in",
    "mostly_without_measures_in": "Mostly without measures in",
    "none": "No measure",
    "reactive": "Reactive",
    "proactive": "Proactive",
    # hypotheses and methods
    "estimand": "What is estimated",
    "unit": "Unit",
    "expected": "Expected",
    "test": "Test",
    "based_on": "Based on",
    "nominal": "Nominal choice",
    "alternatives": "Alternatives",
    "why": "Why",
    "assessment": "Assessment",
    "note": "Note",
    # toolbox
    "current_answer": "Current answer",
    "what_scoring_higher_requires": "What scoring higher requires",
    "points_gained": "Points gained",
    "area_gap": "Gap of the area",
    "priority": "Priority",
    "gap_size_class": "Gap to the size class",
    "gap_country": "Gap to the country",
    "gap_locality_type": "Gap to the locality type",
    "reference_gap": "Gap to the reference",
    # codebook
    "file": "File",
    "title": "Title",
    "description": "Description",
    "rules": "Rules",
    "provenance": "Provenance",
    "sha256": "SHA-256",
}

#: Columns holding p-values (shown as "< 0.001" below that, else with three decimals).
P_VALUE_COLUMNS = frozenset({"p_value", "anova_p", "adjusted_p", "p", "pvalue", "p_holm"})

#: Columns that say what a row found, in the order a reader looks for them; they follow the
#: columns that identify a row. The counts beside a consistency come with it.
KEY_COLUMNS: tuple[str, ...] = ("verdict", "status", "consistency", "n", "n_outcome", "cases_with_outcome")

#: Columns that identify a row (kept first, in the order the table has them).
ID_COLUMNS = frozenset(ID_LABELS)

#: Locality codes (country code, hyphen, number): shown without a line break at the hyphen.
LOCALITY_CODE = re.compile(r"\b[A-Z]{2}-\d{2,3}\b")


def column_label(name: str) -> str:
    """The plain-language label of a column: from :data:`COLUMN_LABELS`; a name that is
    already a label (has a space or a capital) as it is; else the code name made readable
    ("share_pct" -> "Share (%)")."""
    name = str(name)
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if " " in name or name[:1].isupper() or not re.fullmatch(r"[a-z0-9_]+", name):
        return name
    words = name.split("_")
    pct = words[-1] == "pct"
    if pct:
        words = words[:-1]
    text = " ".join(words).strip() or name
    text = text[:1].upper() + text[1:]
    return f"{text} (%)" if pct else text


def order_columns(columns: Sequence[str]) -> list[str]:
    """Columns in reading order: those identifying a row, then :data:`KEY_COLUMNS` present
    (counts only when the table has a consistency: elsewhere ``n`` stays where it was),
    then the others, each group in the table's own order."""
    cols = [str(c) for c in columns]
    ids = [c for c in cols if c in ID_COLUMNS]
    keys = [
        c
        for c in KEY_COLUMNS
        if c in cols and c not in ids and (c in ("verdict", "status", "consistency") or "consistency" in cols)
    ]
    rest = [c for c in cols if c not in ids and c not in keys]
    return [*ids, *keys, *rest]


def labelled(columns: Iterable[str]) -> list[str]:
    """:func:`column_label` of each column; two columns with the same label keep their code
    name in brackets, so a header never repeats."""
    cols = [str(c) for c in columns]
    names = [column_label(c) for c in cols]
    out = []
    for col, name in zip(cols, names, strict=False):
        out.append(f"{name} ({col})" if names.count(name) > 1 else name)
    return out
