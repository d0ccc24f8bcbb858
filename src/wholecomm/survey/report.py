"""The tables and figures of the survey chapter, each one call: a tidy frame with
reader-facing group names, or a matplotlib Figure drawn from one. The chapter's cells call
these functions and nothing else, so each table and figure is two hops from its code."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import data, overview
from ..book import DIVERGING, SEQUENTIAL, interval_long
from .coding import GROUPINGS
from .contact import (
    CLAIM_COUNTRIES,
    associational_contact_claim,
    claim_examinable,
    contact_by_setting,
    contact_matrix,
)
from .estimates import awareness, by_groups, perceived_impact
from .places import design_comparison, place_by_groups, place_estimates
from .scales import item_distribution, likert_segments, scale_check
from .weights import composition, weight_diagnostics

if TYPE_CHECKING:
    import matplotlib.figure

#: Reader-facing names of the groups of every grouping (countries, locality types, size classes).
GROUP_NAMES = {**overview.COUNTRY_NAMES, **overview.TYPE_LABELS, **overview.SIZE_LABELS}


def _named_groups(table: pd.DataFrame, column: str = "group") -> pd.DataFrame:
    return table.assign(**{column: table[column].astype(str).replace(GROUP_NAMES)})


def glue_interval(page, key: str, row, fmt: str, fit: bool = False, scale: float = 1.0) -> None:
    """Glue an estimate and its interval (a row with estimate, ci_low, ci_high, times
    ``scale``) under ``key``, ``key_lo`` and ``key_hi`` on ``page`` (a
    :class:`wholecomm.book.Page`); ``fit`` marks values from an iterative fit."""
    page.glue(key, float(row["estimate"]) * scale, fmt, fit=fit)
    page.glue(f"{key}_lo", float(row["ci_low"]) * scale, fmt, fit=fit)
    page.glue(f"{key}_hi", float(row["ci_high"]) * scale, fmt, fit=fit)


# ------------------------------------------------------------------------- tables
def weight_diagnostics_table(sv: pd.DataFrame, weights) -> pd.DataFrame:
    """:func:`wholecomm.survey.weights.weight_diagnostics` with reader-facing column names,
    one row per locality (disclosure control applied)."""
    diag = weight_diagnostics(sv, weights)
    return diag.reset_index().rename(
        columns={
            "locality_id": "Locality",
            "n": "Respondents",
            "n_eff": "Effective sample size",
            "deff": "Design effect (weighting)",
            "factor_min": "Smallest adjustment factor",
            "factor_max": "Largest adjustment factor",
            "suppressed": f"Suppressed (fewer than {data.MIN_CELL_DEFAULT} respondents)",
        }
    )


def loadings_table(sv: pd.DataFrame) -> pd.DataFrame:
    """The attitude items with their loadings of :func:`wholecomm.survey.scales.scale_check`."""
    return (
        scale_check(sv)
        .table.rename(
            columns={
                "item": "Item",
                "label": "Statement",
                "reversed": "Reversed in the index",
                "loading": "Loading",
            }
        )
        .loc[:, ["Item", "Statement", "Reversed in the index", "Loading"]]
    )


def attitude_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The attitude index overall and by country, size class and locality type
    (:func:`wholecomm.survey.estimates.by_groups`), groups by name."""
    return _named_groups(by_groups(frame, "attitude_index"))


def contact_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Contact by setting and country (:func:`wholecomm.survey.contact.contact_by_setting`)
    without codes and standard errors."""
    contact = contact_by_setting(frame)
    return contact.drop(columns=["setting", "se"]).rename(columns={"label": "setting"})


def associational_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The estimates of :func:`wholecomm.survey.contact.associational_contact_claim`, or an
    empty frame with the reason in ``attrs["not_examinable"]`` when the claim cannot be
    examined on these data."""
    reason = claim_examinable(frame, "associational_contact")
    if reason is not None:
        out = pd.DataFrame(columns=["label", "where", "estimate", "ci_low", "ci_high", "n"])
        out.attrs["not_examinable"] = reason
        return out
    claim = associational_contact_claim(frame)
    tab = claim.table.assign(where=claim.table["where"].astype(str))
    return tab.drop(columns=["quantity", "se"])


def awareness_impact_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Awareness (share) and perceived impact (mean and share positive) overall and by
    every grouping (:func:`wholecomm.survey.estimates.awareness`,
    :func:`wholecomm.survey.estimates.perceived_impact`)."""
    aware_all = awareness(frame, GROUPINGS).assign(measure="aware_share")
    impact_all = perceived_impact(frame, GROUPINGS)
    return pd.concat([aware_all, impact_all], ignore_index=True).drop(columns="se")


def design_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Standard errors under the two designs (:func:`wholecomm.survey.places.design_comparison`)
    of the attitude index by country, size class and locality type and of awareness by
    country, groups by name."""
    parts = [
        design_comparison(frame, "attitude_index", by).assign(measure="attitude_index", grouping=by)
        for by in ("country", "size_class", "locality_type")
    ] + [
        design_comparison(frame, "aware_measures", "country", "proportion").assign(
            measure="aware_measures", grouping="country"
        )
    ]
    designs = pd.concat(parts, ignore_index=True)
    cols = ["measure", "grouping", "group", "estimate", "se_residents", "se_places", "ratio"]
    return _named_groups(designs[[*cols, "ci_low", "ci_high", "df"]])


def coefficient_table(model: pd.DataFrame) -> pd.DataFrame:
    """The coefficients of :func:`wholecomm.survey.models.attitude_model` as shown: label,
    estimate, se, df (degrees of freedom of the t quantile; "normal" for respondent-level
    terms, whose interval uses the normal quantile), interval and p-value."""
    df = [str(int(d)) if np.isfinite(d) else "normal" for d in model["df"]]
    return model.drop(columns="term").assign(df=df)


# ------------------------------------------------------------------------ figures
def _pointrange(table: pd.DataFrame, ax, y: str = "group", scale: float = 1.0, **kw) -> None:
    import seaborn as sns

    sns.pointplot(
        data=interval_long(table, scale=scale),
        x="value",
        y=y,
        estimator="median",
        errorbar=("pi", 100),
        linestyle="none",
        marker="o",
        ax=ax,
        **{"capsize": 0.2, **kw},
    )


def composition_figure(frame: pd.DataFrame, margins: pd.DataFrame) -> matplotlib.figure.Figure:
    """Dot plot of :func:`wholecomm.survey.weights.composition`: population, unweighted and
    raked sample shares of each age group, gender and education level."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots()
    sns.stripplot(
        data=composition(frame, margins),
        x="share",
        y="label",
        hue="source",
        size=7,
        jitter=False,
        dodge=True,
        marker="o",
        linewidth=0.6,
        edgecolor="white",
        ax=ax,
    )
    ax.set_xlabel("Share of adults or respondents (%)")
    ax.set_ylabel("")
    ax.legend(title="", bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False)
    return fig


def _item_bars(ax, table: pd.DataFrame, x: str, hue: str, palette, **kw) -> None:
    """Horizontal bars of the attitude items (one row per ``label``), of one width in both
    panels of :func:`likert_figure` so that their rows line up."""
    import seaborn as sns

    sns.barplot(data=table, x=x, y="label", hue=hue, palette=palette, ax=ax, width=0.7, **kw)


def likert_figure(sv: pd.DataFrame, weights) -> matplotlib.figure.Figure:
    """Diverging stacked bars of the substantive answers to each attitude item
    (:func:`wholecomm.survey.scales.likert_segments`) and, beside them, the shares of don't
    know and refused (:func:`wholecomm.survey.scales.item_distribution`)."""
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter

    dist = item_distribution(sv, weights)
    segments = likert_segments(dist)
    nonsub = dist[dist["base"] == "all"].assign(percent=lambda d: 100 * d["estimate"])
    colours = sns.color_palette(DIVERGING, 5)
    order = ["Strongly disagree", "Disagree", "Neither (left)", "Agree", "Strongly agree"]
    segment_colours = dict(zip(order, colours, strict=True))
    segment_colours["Neither"] = colours[2]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(9, 4.6), sharey=True, gridspec_kw={"width_ratios": [4, 1]}
    )
    _item_bars(
        left,
        segments,
        "end",
        "segment",
        segment_colours,
        dodge=False,
        legend=False,
        edgecolor="0.55",
        linewidth=0.5,
    )
    left.axvline(0, color="black", linewidth=0.8)
    left.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):.0f}"))
    left.set_xlabel("Share of substantive answers (%):\ndisagree to the left, agree to the right")
    left.set_ylabel("")
    handles = [
        mpatches.Patch(facecolor=segment_colours[k], edgecolor="0.55", label=k)
        for k in ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]
    ]
    left.legend(handles=handles, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.26), frameon=False)
    _item_bars(right, nonsub, "percent", "response", sns.color_palette("colorblind")[7:9])
    right.set_xlabel("Respondents (%)")
    right.legend(title="", loc="upper center", bbox_to_anchor=(0.5, -0.26), frameon=False)
    return fig


def attitude_places_figure(frame: pd.DataFrame) -> matplotlib.figure.Figure:
    """Point ranges of the attitude index by country and by locality type under the place
    design (:func:`wholecomm.survey.places.place_by_groups`), with the neutral middle."""
    import matplotlib.pyplot as plt

    att_places = place_by_groups(frame, "attitude_index")
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 6.5), sharex=True, gridspec_kw={"height_ratios": [8, 4]})
    for ax, grouping, title in zip(
        axes, ("country", "locality_type"), ("By country", "By locality type"), strict=True
    ):
        _pointrange(_named_groups(att_places[att_places["grouping"] == grouping]), ax)
        ax.axvline(3, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xlabel("Attitude index (1 = most negative, 5 = most positive)")
        ax.set_ylabel("")
        ax.set_title(title)
    return fig


def contact_heatmap(frame: pd.DataFrame) -> matplotlib.figure.Figure:
    """Heatmap of :func:`wholecomm.survey.contact.contact_by_setting` by country, each cell
    with its interval (:func:`wholecomm.survey.contact.contact_matrix`)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    values, annot = contact_matrix(contact_by_setting(frame))
    values = values.rename(columns=overview.COUNTRY_NAMES)
    annot = annot.rename(columns=overview.COUNTRY_NAMES)
    fig, ax = plt.subplots(figsize=(7.2, 6))
    sns.heatmap(
        values,
        annot=annot,
        fmt="",
        cmap=SEQUENTIAL,
        ax=ax,
        annot_kws={"fontsize": 10},
        cbar_kws={"label": "Residents with regular contact (%)"},
    )
    ax.set_xlabel("Country")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=30)
    return fig


def associational_figure(frame: pd.DataFrame) -> matplotlib.figure.Figure:
    """Point ranges of contact in associational and in other settings, in the claim country
    and in the other countries (:func:`wholecomm.survey.contact.associational_contact_claim`);
    a panel saying why when the claim cannot be examined on these data."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots()
    reason = claim_examinable(frame, "associational_contact")
    if reason is not None:
        ax.text(
            0.5,
            0.5,
            f"Not examinable on these data:\n{reason}",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        claim = CLAIM_COUNTRIES["associational_contact"]
        tab = associational_contact_claim(frame).table
        tab = tab.assign(where=tab["where"].astype(str))
        shares = tab[tab["quantity"].isin(["assoc", "other"])].assign(
            setting=lambda d: d["quantity"].map(
                {"assoc": "Hobby, sports or leisure", "other": "Any other setting"}
            ),
            where=lambda d: d["where"].replace(
                {claim["country"]: claim["name"], "other countries": "Other countries"}
            ),
        )
        sns.pointplot(
            data=interval_long(shares, scale=100),
            x="value",
            y="setting",
            hue="where",
            estimator="median",
            errorbar=("pi", 100),
            linestyle="none",
            marker="o",
            dodge=0.4,
            capsize=0.15,
            ax=ax,
        )
        ax.legend(title="", bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False)
    ax.set_xlabel("Residents with regular contact (%)")
    ax.set_ylabel("")
    return fig


def awareness_places_figure(frame: pd.DataFrame) -> matplotlib.figure.Figure:
    """Point ranges by country, under the place design
    (:func:`wholecomm.survey.places.place_estimates`, Korn-Graubard intervals), of the share
    aware of a local measure and of the share of aware residents who see a positive impact."""
    import matplotlib.pyplot as plt

    impact = frame["impact_measures"]
    positive = frame.assign(impact_positive=np.where(impact.notna(), impact >= 4, np.nan))
    panels = (
        (place_estimates(frame, "aware_measures", "country", "proportion"), "Aware of a measure"),
        (place_estimates(positive, "impact_positive", "country", "proportion"), "Positive impact (if aware)"),
    )
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 4.2), sharey=True)
    order = sorted(overview.COUNTRY_NAMES[c] for c in frame["country"].astype(str).unique())
    for ax, (part, title) in zip(axes, panels, strict=True):
        _pointrange(_named_groups(part, "country"), ax, y="country", scale=100, order=order)
        ax.set_title(title)
        ax.set_xlabel("Residents (%)")
        ax.set_ylabel("")
    return fig


def coefficient_figure(model: pd.DataFrame) -> matplotlib.figure.Figure:
    """Point ranges of the coefficients of :func:`wholecomm.survey.models.attitude_model`
    except the intercept, with a line at zero."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    _pointrange(model[model["term"] != "Intercept"], ax, y="label")
    ax.axvline(0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("Difference in the attitude index (points on the 1-5 scale)")
    ax.set_ylabel("")
    return fig
