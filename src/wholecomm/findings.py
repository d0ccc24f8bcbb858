"""The summary page of computed results (``book/findings.md``): its small figures, drawn by
the same library functions as the chapters they summarise, and its table of the tests of the
project's statements on housing and employment, worded for the data in use."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pandas as pd

from . import access, index, numerics, policy, survey
from .book import interval_long
from .index.scoring import IndexResult
from .twin import planted

if TYPE_CHECKING:
    import matplotlib.figure

#: Columns of the hypotheses table on the summary page (``planted_in`` is added on the twin).
HYPOTHESIS_COLUMNS = ["hypothesis", "claim", "estimate", "ci_low", "ci_high", "unit", "verdict"]
#: What a verdict means on the synthetic twin, whose relationships were planted.
TWIN_VERDICTS = {
    "supported": "planted relationship recovered",
    "inconclusive": "not recovered (interval includes the null)",
    "not supported": "not recovered (opposite direction)",
}


def _pointrange(long: pd.DataFrame, y: str, order, xlabel: str, height: float, **style):
    """One dot with its interval per row of ``long`` (from :func:`~wholecomm.book.interval_long`)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(6.5, height))
    sns.pointplot(
        data=long, x="value", y=y, estimator="median", errorbar=("pi", 100), linestyle="none", ax=ax,
        order=order, **style,
    )  # fmt: skip
    ax.set_xlabel(xlabel)
    ax.set_ylabel("")
    return fig, ax


def area_means_figure(result: IndexResult | None = None) -> matplotlib.figure.Figure:
    """Mean MIPEX-L score of each policy area across the ranked towns with its 95% interval
    (cluster-robust over countries), coloured by the area group of the policy brief's claim.
    ``result``: :func:`~wholecomm.index.scoring.from_package` (default: the data in use)."""
    mipex = index.from_package() if result is None else result
    areas, _ = index.level_summary(index.ranked_only(mipex), "area", index.town_countries(mipex))
    long = interval_long(areas, "mean", "ci_low", "ci_high")
    fig, ax = _pointrange(long, "label", areas["label"], "Mean area score (points, 0-100)", 3.4, hue="claim")
    ax.legend(title="Area group in the claim tested", frameon=False, loc="lower right")
    return fig


def contact_figure(frame: pd.DataFrame | None = None) -> matplotlib.figure.Figure:
    """Weighted share of long-term residents with regular contact with newcomers in each
    setting, and with none, across all localities (percent, 95% interval), largest first.
    ``frame``: :func:`~wholecomm.survey.frame.analysis_frame` (default: the data in use). The
    survey chapter reports the warnings of the estimates; this summary does not repeat them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        contact = survey.contact_by_setting(survey.analysis_frame() if frame is None else frame, by=None)
    contact = contact.assign(**{c: 100 * contact[c] for c in ("estimate", "ci_low", "ci_high")})
    contact = numerics.sort_by(contact, "estimate", ascending=False)
    long = interval_long(contact, "estimate", "ci_low", "ci_high")
    return _pointrange(
        long, "label", contact["label"], "Residents with regular contact (percent)", 3.2, color=_colour(0)
    )[0]


def measures_figure(df: pd.DataFrame | None = None) -> matplotlib.figure.Figure:
    """Share of localities with at least one local measure in each policy area (percent, 95%
    Wilson interval), most covered first. ``df``: the policy data (default: the data in use)."""
    measures = numerics.sort_by(policy.measures_by_area(df), "share_pct", ascending=False)
    long = interval_long(measures, "share_pct", "ci_low_pct", "ci_high_pct")
    return _pointrange(
        long, "area", measures["area"], "Localities with a measure (percent)", 3.2, color=_colour(2)
    )[0]


def _colour(k: int):
    import seaborn as sns

    return sns.color_palette()[k]


def hypotheses_overview(on_twin: bool, summary: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str, str]:
    """The tests of the project's statements on housing and employment for the summary page:
    the table, its caption and the sentence that sums it up, worded for the data in use. On the
    synthetic twin a verdict says whether the method recovers the planted relationship, and a
    column names the twin's parameters that plant it. ``summary``:
    :func:`~wholecomm.access.hypotheses.summary_table` (default: of the data in use)."""
    summary = access.summary_table(access.evaluate()) if summary is None else summary
    counts = summary["verdict"].value_counts()
    n_tests, n_supported = len(summary), int(counts.get("supported", 0))
    if on_twin:
        sentence = (
            f"in {n_supported} of the {n_tests} tests of the project's public statements on housing "
            "and employment, the method recovers the relationship the synthetic twin was built to "
            f"contain; in {n_tests - n_supported} it does not (planted parameters in the table at the "
            "end of this page)."
        )
        table = summary.assign(
            verdict=summary["verdict"].map(TWIN_VERDICTS),
            planted_in=summary["hypothesis"].map(lambda h: planted.planted_for(h) or "not planted"),
        )[[*HYPOTHESIS_COLUMNS, "planted_in"]]
        caption = (
            "The project's public statements on housing and employment, tested on the synthetic twin's coded "
            "interviews and localities: estimate, 95% interval, whether the method recovers the planted "
            "relationship (rule in the chapter), and the twin's parameters that plant it."
        )
        return table, caption, sentence
    sentence = (
        f"of the {n_tests} tests of the project's public statements on housing and employment, "
        f"{n_supported} are supported by the data supplied by the user, "
        f"{int(counts.get('inconclusive', 0))} are inconclusive and "
        f"{int(counts.get('not supported', 0))} point the other way."
    )
    caption = (
        "The project's public statements on housing and employment, tested on the coded interviews and "
        "locality data supplied by the user: estimate, 95% interval and verdict (rule in the chapter)."
    )
    return summary[HYPOTHESIS_COLUMNS], caption, sentence
