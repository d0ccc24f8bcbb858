"""The figures of the local-policies page, one function each: every function takes the
output of :func:`~wholecomm.policy.coding.prepare` (the policy data of the page) and
returns a matplotlib Figure drawn with seaborn from a tidy table of this package."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..labels import FACTOR_LABELS
from ..overview import SIZE_LABELS
from .coding import (
    APPROACHES,
    AREA_LABELS,
    LEAD_LABELS,
    ORIENTATION_LABELS,
    RELATION_LABELS,
    TREND_LABELS,
    _prepared,
)
from .measures import (
    approach_colours,
    approach_matrix,
    lead_actor_shares,
    measures_by_area,
    proactive_by,
    relation_shares,
)
from .typology import policy_profile, ward_typology

if TYPE_CHECKING:
    import matplotlib.figure


def _approach_cmap():
    from matplotlib.colors import ListedColormap

    colours = approach_colours()
    return ListedColormap([colours[a] for a in APPROACHES])


def _approach_handles() -> list:
    from matplotlib.patches import Patch

    colours = approach_colours()
    return [Patch(facecolor=colours[a], edgecolor="0.6", label=a.capitalize()) for a in APPROACHES]


def _interval_points(frame: pd.DataFrame, y: str, ax) -> None:
    """Point and 95% interval (percent) of each row of ``frame`` on the y categories ``y``."""
    import seaborn as sns

    from ..book import interval_long

    sns.pointplot(
        data=interval_long(frame, "share_pct", "ci_low_pct", "ci_high_pct"),
        x="value",
        y=y,
        estimator="median",
        errorbar=("pi", 100),
        linestyle="none",
        capsize=0.2,
        ax=ax,
        color=sns.color_palette()[0],
    )
    ax.set_xlim(0, 100)


def approach_heatmap(df: pd.DataFrame | None = None) -> matplotlib.figure.Figure:
    """Grid of localities (rows) by policy area (columns) coloured by the local approach
    (:func:`~wholecomm.policy.measures.approach_matrix`)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    matrix = approach_matrix(df).rename(columns=AREA_LABELS)
    fig, ax = plt.subplots(figsize=(7, 8))
    sns.heatmap(
        matrix,
        ax=ax,
        cmap=_approach_cmap(),
        vmin=-0.5,
        vmax=2.5,
        cbar=False,
        linewidths=0.5,
        linecolor="white",
        yticklabels=True,
    )
    ax.set_xlabel("Policy area")
    ax.set_ylabel("Locality (code)")
    ax.tick_params(axis="y", labelsize=10)
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    ax.legend(
        handles=_approach_handles(),
        title="Approach",
        bbox_to_anchor=(1.02, 1),
        loc="upper left",
        frameon=False,
    )
    return fig


def measures_by_area_figure(df: pd.DataFrame | None = None, level: float = 0.95) -> matplotlib.figure.Figure:
    """Share of localities with a measure by policy area with Wilson intervals
    (:func:`~wholecomm.policy.measures.measures_by_area`)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    _interval_points(measures_by_area(df, level), "area", ax)
    ax.set_xlabel("Localities with a measure (%)")
    ax.set_ylabel("Policy area")
    return fig


def proactive_by_figure(df: pd.DataFrame | None = None, level: float = 0.95) -> matplotlib.figure.Figure:
    """Share of measures that are proactive by size class, economic trend, political
    orientation and country, with clustered intervals
    (:func:`~wholecomm.policy.measures.proactive_by`)."""
    import matplotlib.pyplot as plt

    labels: dict[str, dict[str, str]] = {
        "size_class": SIZE_LABELS,
        "economic_trend": TREND_LABELS,
        "political_orientation": ORIENTATION_LABELS,
        "country": {},
    }
    pro = proactive_by(df, tuple(labels), level)
    fig, axes = plt.subplots(2, 2, figsize=(7.2, 6.5), sharex=True)
    for ax, (factor, names) in zip(axes.ravel(), labels.items(), strict=True):
        part = pro[pro["factor"] == factor].assign(
            level=lambda d, n=names: d["level"].map(lambda v: n.get(v, v))
        )
        _interval_points(part, "level", ax)
        ax.set_title(FACTOR_LABELS[factor], fontsize=11)
        ax.set_ylabel("")
        ax.set_xlabel("Proactive measures (% of measures)")
    fig.tight_layout()
    return fig


def _stacked_shares(tidy: pd.DataFrame, y: str, hue: str, order: list[str], shrink: float):
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import PercentFormatter

    fig, ax = plt.subplots()
    sns.histplot(
        data=tidy,
        y=y,
        hue=hue,
        weights="n",
        multiple="fill",
        discrete=True,
        shrink=shrink,
        alpha=1,
        linewidth=0,
        hue_order=order,
        ax=ax,
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1))
    return fig, ax


def relations_figure(df: pd.DataFrame | None = None, by: str = "country") -> matplotlib.figure.Figure:
    """Stacked bars of the relation with higher levels of government by ``by``
    (:func:`~wholecomm.policy.measures.relation_shares`)."""
    import seaborn as sns

    fig, ax = _stacked_shares(relation_shares(df, by), by, "relation", list(RELATION_LABELS.values()), 0.8)
    ax.set_xlabel("Locality-by-area rows (%)")
    ax.set_ylabel("Country" if by == "country" else FACTOR_LABELS.get(by, by))
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), title="Relation", frameon=False)
    return fig


def lead_figure(df: pd.DataFrame | None = None) -> matplotlib.figure.Figure:
    """Stacked bars of who leads the measures by size class
    (:func:`~wholecomm.policy.measures.lead_actor_shares`)."""
    import seaborn as sns

    lead = lead_actor_shares(df, "size_class").assign(size=lambda d: d["size_class"].map(SIZE_LABELS))
    fig, ax = _stacked_shares(lead, "size", "lead", list(LEAD_LABELS.values()), 0.7)
    ax.set_xlabel("Measures (%)")
    ax.set_ylabel("Size class")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), title="Lead actor", frameon=False)
    return fig


def typology_figure(df: pd.DataFrame | None = None) -> matplotlib.figure.Figure:
    """Dendrogram of the Ward typology (:func:`~wholecomm.policy.typology.ward_typology`)
    joined to the localities' approaches by area, with a strip marking each type."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.patches import Patch

    profile = policy_profile(_prepared(df))
    typ = ward_typology(profile)
    type_colours = dict(zip(sorted(typ.labels.unique()), sns.color_palette("colorblind", typ.k), strict=True))
    grid = sns.clustermap(
        profile.rename(columns=AREA_LABELS),
        row_linkage=typ.linkage,
        col_cluster=False,
        row_colors=typ.labels.map(type_colours).rename("Type"),
        cmap=_approach_cmap(),
        vmin=-0.25,
        vmax=1.25,
        linewidths=0.4,
        linecolor="white",
        figsize=(6.4, 9),
        dendrogram_ratio=(0.2, 0.04),
        cbar_pos=None,
        yticklabels=True,
    )
    grid.ax_heatmap.set_xlabel("Policy area")
    grid.ax_heatmap.set_ylabel("Locality (code)")
    grid.ax_heatmap.tick_params(axis="y", labelsize=10)
    grid.ax_row_colors.set_xticks([])
    plt.setp(grid.ax_heatmap.get_xticklabels(), rotation=35, ha="right")
    handles = [Patch(facecolor=c, label=f"Type {t}") for t, c in type_colours.items()]
    grid.ax_heatmap.legend(
        handles=handles + _approach_handles(), bbox_to_anchor=(1.22, 1), loc="upper left", frameon=False
    )
    return grid.figure
