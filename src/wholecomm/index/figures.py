"""The figures of the MIPEX-L chapter, each drawn from the tidy tables of the index's modules.

Every function returns a matplotlib Figure (seaborn on tidy frames, the book's colour-blind-safe
palette, axis labels with units); the chapter shows it with ``plt.show()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .associations import Association
from .comparisons import GROUPINGS
from .scoring import IndexResult

if TYPE_CHECKING:
    import matplotlib.figure


def _pyplot():
    import matplotlib.pyplot as plt
    import seaborn as sns

    return plt, sns


def _strip_with_means(
    ax,
    points: pd.DataFrame,
    summary: pd.DataFrame,
    xy: tuple[str, str],
    look: tuple[float, float, float],
    claim: bool = False,
    lw: float = 2,
) -> None:
    """Points of ``points`` (columns ``xy``) in the rows of ``summary`` (its column ``xy[1]``,
    in its order), each row's mean (black dot) and interval ci_low to ci_high (black line).
    ``look``: jitter, point size, opacity. Points are coloured by row, or with ``claim`` by the
    policy brief's claim (lead, other, lag) with a legend."""
    _, sns = _pyplot()
    x, y = xy
    order = list(summary[y])
    hue, hue_order = ("claim", ["lead", "other", "lag"]) if claim else (y, order)
    jitter, size, alpha = look
    sns.stripplot(
        data=points, x=x, y=y, order=order, hue=hue, hue_order=hue_order, legend="auto" if claim else False,
        jitter=jitter, size=size, alpha=alpha, ax=ax,
    )  # fmt: skip
    ax.hlines(y=summary[y], xmin=summary["ci_low"], xmax=summary["ci_high"], color="black", lw=lw)
    ax.scatter(summary["mean"], summary[y], color="black", s=30, zorder=3)


def ranking_figure(towns: pd.DataFrame) -> matplotlib.figure.Figure:
    """Overall score of each ranked town by country (left) and its rank with the Monte Carlo
    rank interval (right). ``towns``: :func:`~wholecomm.index.comparisons.town_table` with
    ``mc`` given."""
    plt, sns = _pyplot()
    ranked = towns.dropna(subset=["overall"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7.2, 8.5), sharey=True)
    sns.scatterplot(data=ranked, x="overall", y="locality_id", hue="country", s=45, ax=ax1)
    ax1.set_xlabel("Overall score (points, 0-100)")
    ax1.set_ylabel("Town (locality code)")
    ax1.set_xlim(0, 100)
    ax1.legend(title="Country", loc="lower right", frameon=True)
    ax2.hlines(y=ranked["locality_id"], xmin=ranked["rank_low"], xmax=ranked["rank_high"], color="0.55", lw=2)
    sns.scatterplot(data=ranked, x="rank", y="locality_id", color="black", s=30, ax=ax2, zorder=3)
    ax2.set_xlabel("Rank (1 = highest) with 90% interval")
    fig.tight_layout()
    return fig


def _annotated_heatmap(
    values: pd.DataFrame, label: str, ylabel: str, figsize: tuple[float, float], **heat
) -> matplotlib.figure.Figure:
    """A heatmap of ``values`` with each value written in its cell, policy areas across."""
    plt, sns = _pyplot()
    fig, ax = plt.subplots(figsize=figsize)
    sns.heatmap(values, annot=True, annot_kws={"size": 10}, cbar_kws={"label": label}, ax=ax, **heat)
    ax.set_xlabel("Policy area")
    ax.set_ylabel(ylabel)
    plt.setp(ax.get_xticklabels(), rotation=40, ha="right")
    return fig


def area_heatmap(result: IndexResult) -> matplotlib.figure.Figure:
    """Area scores of each town (:func:`~wholecomm.index.comparisons.area_matrix`), towns
    ordered by overall score; blank cells are areas without a score."""
    from .comparisons import area_matrix

    return _annotated_heatmap(
        area_matrix(result),
        "Area score (points, 0-100)",
        "Town (locality code)",
        (7.5, 8),
        cmap="cividis",
        vmin=0,
        vmax=100,
        fmt=".0f",
    )


def groups_figure(groups: pd.DataFrame, points: pd.DataFrame) -> matplotlib.figure.Figure:
    """Town overall scores by country, size class and locality type, with each group's mean
    and interval: the two tables of :func:`~wholecomm.index.comparisons.compare_groups`."""
    from .. import overview

    plt, _ = _pyplot()
    names = {
        "country": overview.COUNTRY_NAMES,
        "size_class": overview.SIZE_LABELS,
        "locality_type": overview.TYPE_LABELS,
    }
    fig, axes = plt.subplots(3, 1, figsize=(7.5, 8.5), height_ratios=[8, 3, 4], sharex=True)
    for ax, (grouping, title) in zip(axes, GROUPINGS.items(), strict=True):
        pts = points[points["grouping"] == grouping]
        summ = groups[groups["grouping"] == grouping]
        order = list(summ["group"])
        _strip_with_means(ax, pts, summ, ("overall", "group"), (0.15, 6, 0.8), lw=1.5)
        ax.set_yticks(range(len(order)), [names[grouping].get(g, g) for g in order])
        ax.set_ylabel(title)
        ax.set_xlim(0, 100)
    axes[-1].set_xlabel("Overall score (points, 0-100)")
    fig.tight_layout()
    return fig


def areas_figure(areas: pd.DataFrame, points: pd.DataFrame) -> matplotlib.figure.Figure:
    """Area scores of the towns, areas ordered by mean, with the mean and its interval, coloured
    by the policy brief's claim: the two tables of
    :func:`~wholecomm.index.comparisons.level_summary` with ``level="area"``."""
    plt, sns = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    _strip_with_means(ax, points, areas, ("score", "label"), (0.2, 4, 0.6), claim=True)
    ax.set_xlabel("Area score (points, 0-100)")
    ax.set_ylabel("Policy area")
    ax.legend(title="Policy brief", bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False)
    return fig


def stages_figure(stages: pd.DataFrame, points: pd.DataFrame) -> matplotlib.figure.Figure:
    """Stage scores of the towns with the mean and its interval: the two tables of
    :func:`~wholecomm.index.comparisons.level_summary` with ``level="stage"``."""
    plt, sns = _pyplot()
    fig, ax = plt.subplots()
    _strip_with_means(ax, points, stages, ("score", "label"), (0.2, 5, 0.6))
    ax.set_xlabel("Stage score (points, 0-100)")
    ax.set_ylabel("Policy-cycle stage")
    return fig


def local_national_figure(table: pd.DataFrame) -> matplotlib.figure.Figure:
    """Each town's MIPEX-L overall score beside its country's national MIPEX 2020 score.
    ``table``: :func:`~wholecomm.index.national.local_vs_national`."""
    from .national import local_vs_national_long

    plt, sns = _pyplot()
    long = local_vs_national_long(table)
    fig, ax = plt.subplots(figsize=(6.4, 8))
    # The country's diamond is hollow and drawn first, so that the town's dot is never hidden under it.
    town_colour, country_colour = sns.color_palette(n_colors=2)
    marks = {
        "MIPEX 2020 (country)": {"marker": "D", "s": 75, "facecolor": "none", "edgecolor": country_colour,
                                 "linewidth": 1.6},
        "MIPEX-L (town)": {"marker": "o", "s": 40, "color": town_colour, "zorder": 3},
    }  # fmt: skip
    for measure, mark in marks.items():
        rows = long[long["measure"].eq(measure)]
        sns.scatterplot(data=rows, x="score", y="locality_id", label=measure, ax=ax, **mark)
    ax.set_xlabel("Overall score (points, 0-100)")
    ax.set_ylabel("Town (locality code)")
    ax.set_xlim(0, 100)
    ax.legend(title="", bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False)
    return fig


def pairwise_figure(pairwise: pd.DataFrame) -> matplotlib.figure.Figure:
    """Probability that the row town ranks above the column town over the joint draws:
    :func:`~wholecomm.index.uncertainty.pairwise_order`."""
    plt, sns = _pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 7.2))
    sns.heatmap(
        pairwise,
        cmap="cividis",
        vmin=0,
        vmax=1,
        square=True,
        xticklabels=True,
        yticklabels=True,
        cbar_kws={"label": "P(row town ranks above column town)"},
        ax=ax,
    )
    ax.set_xlabel("Town ranked below (locality code)")
    ax.set_ylabel("Town ranked above (locality code)")
    ax.tick_params(labelsize=10)
    return fig


def sobol_figure(summary: pd.DataFrame) -> matplotlib.figure.Figure:
    """First-order and total Sobol indices of each assumption with their bootstrap intervals:
    :func:`~wholecomm.index.sobol.sensitivity_summary`."""
    plt, sns = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ypos = {lab: k for k, lab in enumerate(summary["label"])}
    kinds = (("First order", "S1", -0.15), ("Total", "ST", 0.15))
    for (kind, col, offset), colour in zip(kinds, sns.color_palette(n_colors=2), strict=True):
        y = summary["label"].map(ypos) + offset
        ax.hlines(y, summary[f"{col}_ci_low"], summary[f"{col}_ci_high"], color=colour, lw=2)
        ax.scatter(summary[col], y, color=colour, s=35, label=kind, zorder=3)
    ax.set_yticks(range(len(summary)), summary["label"])
    ax.invert_yaxis()
    ax.set_xlabel("Sobol index on the mean absolute rank shift (share of variance)")
    ax.set_ylabel("Assumption")
    ax.legend(frameon=False, loc="lower right")
    return fig


def correlation_figure(corr: pd.DataFrame) -> matplotlib.figure.Figure:
    """Correlations between area scores: :func:`~wholecomm.index.reliability.area_correlations`."""
    from ..book import DIVERGING

    return _annotated_heatmap(
        corr,
        "Correlation (Pearson r)",
        "Policy area",
        (7.5, 6),
        cmap=DIVERGING,
        vmin=-1,
        vmax=1,
        center=0,
        fmt=".2f",
        square=True,
    )


def cohesion_figure(assoc: Association) -> matplotlib.figure.Figure:
    """Town index score against the town's mean outcome (with its interval where the outcome
    table gives one), with the least-squares line and its confidence band:
    :func:`~wholecomm.index.associations.cohesion_association`."""
    plt, sns = _pyplot()
    pts, line, outcome = assoc.points, assoc.line, assoc.outcome
    fig, ax = plt.subplots()
    ax.fill_between(line["index"], line["ci_low"], line["ci_high"], color="0.85", label="95% band")
    sns.lineplot(data=line, x="index", y="fit", color="black", label="Fitted line", ax=ax)
    if f"{outcome}_ci_low" in pts.columns:
        ax.vlines(pts["index"], pts[f"{outcome}_ci_low"], pts[f"{outcome}_ci_high"], color="0.6", lw=1)
    sns.scatterplot(data=pts, x="index", y=outcome, s=40, label="Town", ax=ax, zorder=3)
    ax.set_xlabel("MIPEX-L overall score (points, 0-100)")
    ax.set_ylabel("Attitude towards newcomers (mean, 1-5)")
    ax.legend(frameon=False, loc="upper left")
    return fig
