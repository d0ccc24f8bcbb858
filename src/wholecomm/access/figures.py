"""The figures of the housing-employment page, each one call: a tidy frame from
:mod:`wholecomm.access.descriptives` drawn as a seaborn point-range chart with 95%
intervals (clustered by locality)."""

from __future__ import annotations

import pandas as pd

from ..book import interval_long
from ..labels import ROLE_LABELS
from .descriptives import hard_by_trend, theme_prevalence
from .interviews import AccessInputError

#: Groupings of :func:`themes_figure`: column -> (legend title, labels of its levels).
THEME_GROUPINGS = {"role": "Role", "locality_type": "Locality type"}


def _group_labels(by: str) -> dict[str, str]:
    if by == "role":
        return ROLE_LABELS
    from ..overview import TYPE_LABELS

    return TYPE_LABELS


def _point_range(tidy: pd.DataFrame, ax, **kws) -> None:
    """Draw each row's ``share_pct`` and its interval (``ci_low_pct`` to ``ci_high_pct``)
    on ``ax`` as a seaborn point range (through :func:`wholecomm.book.interval_long`);
    ``kws`` (x, y, hue, dodge, ...) go to ``sns.pointplot``."""
    import seaborn as sns

    sns.pointplot(
        data=interval_long(tidy, "share_pct", "ci_low_pct", "ci_high_pct"),
        estimator="median",
        errorbar=("pi", 100),
        ax=ax,
        **kws,
    )


def themes_figure(df: pd.DataFrame | None = None, by: str = "role", level: float = 0.95):
    """Point-range chart of the share of interviews raising each theme (percent, with
    ``level`` clustered Wilson intervals) by ``by`` ("role" or "locality_type"), from
    :func:`wholecomm.access.descriptives.theme_prevalence`. Returns the Figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    if by not in THEME_GROUPINGS:
        raise AccessInputError(f"themes_figure: by must be one of {list(THEME_GROUPINGS)}, got {by!r}.")
    tidy = theme_prevalence(df, by, level)
    tidy = tidy.assign(group_label=tidy["group"].map(_group_labels(by)))
    fig, ax = plt.subplots(figsize=(7.5, 6))
    _point_range(
        tidy,
        ax,
        x="value",
        y="theme_label",
        hue="group_label",
        dodge=0.6 if by == "role" else 0.5,
        linestyle="none",
        markersize=4,
        err_kws={"linewidth": 1.2},
    )
    ax.set_xlim(0, 100)
    ax.set_xlabel("Interviews raising the theme (%)")
    ax.set_ylabel("Theme")
    sns.move_legend(
        ax, "upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, title=THEME_GROUPINGS[by], frameon=False
    )
    return fig


def hard_by_trend_figure(df: pd.DataFrame | None = None, level: float = 0.95):
    """Point-range chart of the share of interviews assessing access as hard (percent,
    with ``level`` clustered Wilson intervals), by domain and the locality's economic
    trend, from :func:`wholecomm.access.descriptives.hard_by_trend`. Returns the Figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    hard = hard_by_trend(df, level)
    fig, ax = plt.subplots()
    _point_range(hard, ax, x="trend_label", y="value", hue="domain_label", dodge=0.3, capsize=0.1)
    ax.set_ylim(0, 100)
    ax.set_xlabel("Economic trend of the locality")
    ax.set_ylabel("Interviews assessing access as hard (%)")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), title="Domain", frameon=False)
    return fig
