"""The toolbox for local governments: self-evaluation, tailored benchmarks, priorities
and monitoring, built on the MIPEX-L index engine (:mod:`wholecomm.index`).

A municipality fills in the MIPEX-L questionnaire (a YAML file, see
:func:`~wholecomm.toolbox.blank.blank_questionnaire`) for one or more years; :func:`~wholecomm.toolbox.questionnaire.read_questionnaire` checks it
and reports every problem with its line number; :func:`~wholecomm.toolbox.assessment.assess` scores it and compares it
with its peers; :func:`~wholecomm.toolbox.report.render_report` writes one self-contained HTML report. The command
line (``wholecomm questionnaire`` / ``wholecomm assess``, :mod:`wholecomm.cli`) is a thin
wrapper around these four functions.

Rules
-----
Scoring
    The index engine's rule, unchanged (:func:`wholecomm.index.scoring.score`): indicator score =
    score of the chosen option; an area is scored only when at least
    ``min_answered_share`` (default two thirds) of its indicators are answered, as the mean
    of the answered ones; the overall score is the mean of the area scores and exists only
    when every area is scored. An unanswered indicator is never counted as 0; an area
    without enough answers is reported as "not scored: too few answers". A year in which
    no area can be scored is an error.
Peers
    The localities of the data package that were assessed with MIPEX-L (rows in
    ``mipex_l_answers``), scored with the same engine and rule. A peer group is every
    assessed locality sharing one attribute with the municipality: its size class, its
    country or its locality type. Groups with fewer than :data:`~wholecomm.toolbox.catalogue.MIN_PEERS` localities with
    a score are flagged ("fewer than 3 peers").
Benchmarks
    For each peer group and each area (and overall): number of peers with a score,
    median, first and third quartiles (linear interpolation) and best score. These
    describe the peer group; they are not estimates with sampling error.
Gaps
    Own score minus the group median, per area and group. The *reference gap* of an area
    is the mean of its gaps over the groups with at least :data:`~wholecomm.toolbox.catalogue.MIN_PEERS` scored peers
    (over all groups with a scored peer when none has that many). Areas are listed from the
    most negative reference gap.
Priorities
    Candidates are the answered indicators, in areas that have a score, on which the
    municipality scores below the best peer (the best score on that indicator among all
    localities of the selected peer groups). Each gets

    ``priority = max(0, -reference gap of its area) x (points gained by moving up one
    answer level) / 100``

    i.e. the area's shortfall against its peers, weighted by the size of the next step
    (a step of 50 points counts half, a step of 100 points in full). Ties are broken by
    the points gained (larger first), then by the number of peers scoring 100 on the
    indicator (more first), then by indicator id. Indicators in areas that could not be
    scored are not ranked: answer their missing questions first.
Monitoring
    With several years, the scores of every year and the change from the first to the
    last year (missing when either year is not scored).
"""

from __future__ import annotations

from .assessment import (
    SIZE_SINGULAR,
    Assessment,
    PeerData,
    assess,
    describe_localities,
    group_value_label,
    peer_data,
    peer_groups,
)
from .blank import (
    blank_questionnaire,
    download_link,
    download_link_bytes,
    example_for_catalogue,
    example_questionnaire,
    questionnaire_download_link,
)
from .catalogue import (
    COUNTRY_NAMES,
    EPS,
    EXAMPLE,
    FIELD_WORDS,
    GROUP_LABELS,
    LOCALITY_FIELDS,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    MAX_YEARS,
    MIN_PEERS,
    NOT_SCORED,
    PEER_GROUPS,
    QUESTIONNAIRE_FILENAME,
    RESOURCES,
    SIZE_HELP,
    SIZE_WORDS,
    TYPE_WORDS,
    YEAR_RANGE,
    Catalogue,
    Cell,
    Problem,
    QuestionnaireError,
    area_label,
    catalogue,
    choice_label,
    rule_text,
)
from .figures import (
    PALETTE,
    benchmark_figure_data,
    benchmark_svg,
    monitoring_svg,
    plain_text,
    plot_benchmarks,
    plot_monitoring,
)
from .questionnaire import (
    Questionnaire,
    check_questionnaire_file,
    depth_line,
    parse_questionnaire,
    read_questionnaire,
)
from .report import (
    render_report,
    report_context,
    report_download_link,
)
from .tables import (
    benchmark_table,
    changes_table,
    gaps_table,
    priorities_table,
    score_fmt,
    scores_table,
)
from .workbook import (
    BLANK_YEAR_COLUMNS,
    DONT_KNOW,
    FIRST_ANSWER_COL,
    FIRST_QUESTION_ROW,
    SHEETS,
    questionnaire_workbook,
    read_workbook,
)

__all__ = [
    "PEER_GROUPS",
    "GROUP_LABELS",
    "MIN_PEERS",
    "RESOURCES",
    "NOT_SCORED",
    "YEAR_RANGE",
    "EXAMPLE",
    "QUESTIONNAIRE_FILENAME",
    "SIZE_WORDS",
    "SIZE_HELP",
    "TYPE_WORDS",
    "COUNTRY_NAMES",
    "LOCALITY_FIELDS",
    "FIELD_WORDS",
    "EPS",
    "MAX_FILE_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_YEARS",
    "MAX_DEPTH",
    "Cell",
    "Problem",
    "QuestionnaireError",
    "Catalogue",
    "catalogue",
    "area_label",
    "rule_text",
    "blank_questionnaire",
    "download_link",
    "download_link_bytes",
    "questionnaire_download_link",
    "example_questionnaire",
    "example_for_catalogue",
    "Questionnaire",
    "depth_line",
    "parse_questionnaire",
    "check_questionnaire_file",
    "read_questionnaire",
    "SHEETS",
    "DONT_KNOW",
    "BLANK_YEAR_COLUMNS",
    "FIRST_ANSWER_COL",
    "FIRST_QUESTION_ROW",
    "choice_label",
    "questionnaire_workbook",
    "read_workbook",
    "Assessment",
    "SIZE_SINGULAR",
    "describe_localities",
    "group_value_label",
    "peer_groups",
    "PeerData",
    "peer_data",
    "assess",
    "score_fmt",
    "scores_table",
    "benchmark_table",
    "gaps_table",
    "priorities_table",
    "changes_table",
    "benchmark_figure_data",
    "plain_text",
    "plot_benchmarks",
    "plot_monitoring",
    "PALETTE",
    "benchmark_svg",
    "monitoring_svg",
    "report_download_link",
    "report_context",
    "render_report",
]
