"""Figures of an assessment: matplotlib figures for the book, SVG figures for the report."""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
import warnings

import numpy as np
import pandas as pd

from .assessment import Assessment
from .catalogue import NOT_SCORED


def benchmark_figure_data(a: Assessment) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy data of the benchmark figure: peer scores (group_label, label, score) and the
    municipality's own latest scores (label, score, scored)."""
    own = a.scores[a.scores["year"] == a.latest_year][["unit", "label", "score", "scored"]].reset_index(
        drop=True
    )
    return a.peer_scores.copy(), own


def plain_text(text: str) -> str:
    """Text for a matplotlib label, shown as written: every ``$`` is escaped, so none
    starts mathematics (matplotlib turns ``\\$`` back into ``$`` in plain text)."""
    return str(text).replace("$", r"\$")


def plot_benchmarks(a: Assessment, ax=None):
    """Box plot of the peers' scores per area and overall, one box per peer group (box =
    quartiles, line = median, whiskers = lowest and best peer), with the municipality's
    own latest score as a black diamond. Returns the axes."""
    import seaborn as sns
    from matplotlib.lines import Line2D

    peers, own = benchmark_figure_data(a)
    order = own["label"].tolist()
    with sns.axes_style("whitegrid"):
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(7.2, 7.0))
        hue_order = [a.group_label(g) for g in a.groups]
        palette = dict(zip(hue_order, sns.color_palette("colorblind", len(hue_order)), strict=False))
        with warnings.catch_warnings():  # seaborn 0.13 passes a deprecated argument to matplotlib
            warnings.filterwarnings("ignore", message=".*vert: bool.*")
            sns.boxplot(
                data=peers,
                x="score",
                y="label",
                hue="group_label",
                order=order,
                hue_order=hue_order,
                whis=(0, 100),
                palette=palette,
                width=0.8,
                fliersize=0,
                linewidth=0.9,
                ax=ax,
            )
        scored = own[own["scored"]]
        sns.stripplot(
            data=scored,
            x="score",
            y="label",
            order=order,
            color="black",
            marker="D",
            size=8,
            jitter=False,
            ax=ax,
            zorder=5,
        )
        for k, r in own.iterrows():
            if not r["scored"]:
                ax.text(1, k, NOT_SCORED, va="center", ha="left", fontsize=10, style="italic")
        handles, labels = ax.get_legend_handles_labels()
        handles = handles[: len(hue_order)] + [
            Line2D([], [], color="black", marker="D", linestyle="", markersize=7)
        ]
        labels = labels[: len(hue_order)] + [f"{a.questionnaire.name} ({a.latest_year})"]
        ax.legend(
            handles,
            [plain_text("\n".join(textwrap.wrap(x, 44, break_on_hyphens=False))) for x in labels],
            title="Peer group",
            loc="upper center",
            bbox_to_anchor=(0.5, -0.1),
            ncol=2,
            frameon=False,
            fontsize=10,
            title_fontsize=11,
        )
        ax.set_xlim(-2, 102)
        ax.set_xlabel("MIPEX-L score (0-100 points)")
        ax.set_ylabel("Policy area")
    return ax


def plot_monitoring(a: Assessment, fig=None):
    """Small multiples: the score of each area and overall in every assessment year
    (points; a missing point = not scored that year). Returns the figure."""
    import seaborn as sns

    mon = a.monitoring
    units = list(dict.fromkeys(mon["unit"]))
    ncols = 5
    nrows = int(math.ceil(len(units) / ncols))
    years = sorted(mon["year"].unique())
    colour = sns.color_palette("colorblind")[0]
    with sns.axes_style("whitegrid"):
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(9.0, 2.3 * nrows + 0.6))
        axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
        for ax, unit in zip(axes, units, strict=False):
            sub = mon[mon["unit"] == unit]
            sns.lineplot(data=sub, x="year", y="score", marker="o", color=colour, ax=ax, errorbar=None)
            if sub["score"].isna().all():
                ax.text(
                    0.5, 0.5, "not scored", transform=ax.transAxes, ha="center", fontsize=10, style="italic"
                )
            title = textwrap.wrap(sub["label"].iloc[0], 18, break_on_hyphens=False, break_long_words=False)
            ax.set_title(plain_text("\n".join(title)), fontsize=10)
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.set_ylim(-3, 103)
            ax.set_xticks(years)
            ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
            ax.tick_params(labelsize=10)
            ax.tick_params(axis="x", rotation=45 if len(years) > 3 else 0)
        for ax in axes[len(units) :]:
            ax.set_visible(False)
        fig.supxlabel("Assessment year", fontsize=11)
        fig.supylabel("MIPEX-L score (0-100 points)", fontsize=11)
        fig.tight_layout()
    return fig


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", facecolor="white")
    return base64.b64encode(buf.getvalue()).decode("ascii")


# ----------------------------------------------------------- report figures (SVG)
# The report draws its two figures as SVG from the same tidy tables as plot_benchmarks and
# plot_monitoring: no plotting library is loaded by the command, the figures stay sharp in
# print, and every text in them is escaped (nothing in a name is ever markup or mathematics).
PALETTE = ("#0173b2", "#de8f05", "#029e73", "#d55e00", "#cc78bc")
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"'


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _x(score: float, left: float, width: float) -> float:
    return left + width * float(score) / 100.0


def benchmark_svg(a: Assessment) -> str:
    """The benchmark figure as SVG: per policy area and overall, one box per peer group
    (box = first to third quartile, line = median, whiskers = lowest and best peer), and
    the municipality's own latest score as a black diamond."""
    e = html.escape
    peers, own = benchmark_figure_data(a)
    groups = [a.group_label(g) for g in a.groups]
    colour = dict(zip(groups, PALETTE, strict=False))
    left, width, top, box_h, gap = 190.0, 500.0, 30.0 + 16.0 * len(groups), 11.0, 12.0
    row_h = box_h * len(groups) + gap
    height = top + row_h * len(own) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{height:.0f}" viewBox="0 0 720 {height:.0f}" '
        f'{_FONT} font-size="12"><rect width="100%" height="100%" fill="#ffffff"/>'
    ]
    for k, g in enumerate(groups):
        y = 8 + 16 * k
        out.append(
            f'<rect x="{left}" y="{y}" width="14" height="10" fill="{colour[g]}" fill-opacity="0.55" '
            f'stroke="{colour[g]}"/><text x="{left + 20}" y="{y + 9}">{e(g)}</text>'
        )
    y = 8 + 16 * len(groups)
    out.append(
        f'<path d="M{left + 7 - 5},{y + 5}l5,-5l5,5l-5,5z" fill="#000"/><text x="{left + 20}" y="{y + 9}">'
        f"{e(a.questionnaire.name)} ({a.latest_year})</text>"
    )
    for t in (0, 25, 50, 75, 100):
        x = _x(t, left, width)
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{top - 4}" y2="{top + row_h * len(own)}" stroke="#d9d9d9"/>'
            f'<text x="{x}" y="{top + row_h * len(own) + 14}" text-anchor="middle">{t}</text>'
        )
    out.append(
        f'<text x="{left + width / 2}" y="{height - 6}" text-anchor="middle">MIPEX-L score (0-100 points)'
        "</text>"
    )
    # The peers' scores of each (group, row), in one pass over the peers.
    by_row = {
        key: sub["score"].to_numpy(float) for key, sub in peers.groupby(["group_label", "label"], sort=False)
    }
    no_scores = np.array([], dtype=float)
    for r, row in own.iterrows():
        y0 = top + r * row_h
        weight = ' font-weight="700"' if row["unit"] == "overall" else ""
        out.append(
            f'<text x="{left - 8}" y="{y0 + row_h / 2}" text-anchor="end" dominant-baseline="middle"'
            f"{weight}>{e(row['label'])}</text>"
        )
        for k, g in enumerate(groups):
            vals = by_row.get((g, row["label"]), no_scores)
            if not len(vals):
                continue
            q1, med, q3 = np.quantile(vals, [0.25, 0.5, 0.75])
            lo, hi = vals.min(), vals.max()
            yb = y0 + k * box_h + 1
            ym = yb + (box_h - 2) / 2
            c = colour[g]
            out.append(
                f'<line x1="{_x(lo, left, width):.1f}" x2="{_x(hi, left, width):.1f}" y1="{ym:.1f}" '
                f'y2="{ym:.1f}" stroke="{c}"/>'
                f'<rect x="{_x(q1, left, width):.1f}" y="{yb:.1f}" width="{max(1.0, width * (q3 - q1) / 100):.1f}" '
                f'height="{box_h - 2}" fill="{c}" fill-opacity="0.55" stroke="{c}"/>'
                f'<line x1="{_x(med, left, width):.1f}" x2="{_x(med, left, width):.1f}" y1="{yb:.1f}" '
                f'y2="{yb + box_h - 2:.1f}" stroke="#000" stroke-width="1.5"/>'
            )
        if row["scored"]:
            x = _x(row["score"], left, width)
            yc = y0 + box_h * len(groups) / 2
            out.append(f'<path d="M{x - 6:.1f},{yc:.1f}l6,-6l6,6l-6,6z" fill="#000" stroke="#fff"/>')
        else:
            out.append(
                f'<text x="{left + 4}" y="{y0 + row_h / 2}" font-style="italic" dominant-baseline="middle">'
                f"{e(NOT_SCORED)}</text>"
            )
    out.append("</svg>")
    return "".join(out)


_PANEL_COLS, _PANEL_W, _PANEL_H = 5, 136.0, 120.0


def _year_x(year: int, years: list, x0: float, x1: float) -> float:
    """Horizontal position of a year in a monitoring panel spanning x0..x1."""
    return x0 + 10 + (x1 - x0 - 20) * ((years.index(year) / (len(years) - 1)) if len(years) > 1 else 0.5)


def _monitoring_panel(k: int, sub: pd.DataFrame, years: list) -> list[str]:
    """SVG elements of the k-th panel (one unit's scores by year)."""
    e = html.escape
    pw, ph = _PANEL_W, _PANEL_H
    cx, cy = 30 + (k % _PANEL_COLS) * (pw + 2), 40 + (k // _PANEL_COLS) * (ph + 48)
    title = textwrap.wrap(str(sub["label"].iloc[0]), 22, break_long_words=False)[:2]
    out = [
        f'<text x="{cx + pw / 2 - 10}" y="{cy - 16 + 12 * j - 6 * (len(title) - 1)}" '
        f'text-anchor="middle" font-weight="600">{e(t)}</text>'
        for j, t in enumerate(title)
    ]
    x0, x1, y0, y1 = cx, cx + pw - 24, cy, cy + ph - 20
    out.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" stroke="#bdbdbd"/>')
    for t in (0, 50, 100):
        yy = y1 - (y1 - y0) * t / 100
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eeeeee"/>')
        if k % _PANEL_COLS == 0:
            out.append(f'<text x="{x0 - 4}" y="{yy + 4:.1f}" text-anchor="end">{t}</text>')
    for year in years:
        out.append(
            f'<text x="{_year_x(year, years, x0, x1):.1f}" y="{y1 + 13}" text-anchor="middle">{year}</text>'
        )
    pts = [
        (_year_x(int(year), years, x0, x1), y1 - (y1 - y0) * score / 100)
        for year, score in zip(sub["year"], sub["score"], strict=True)
        if np.isfinite(score)
    ]
    if len(pts) > 1:
        out.append(
            '<polyline fill="none" stroke="#0173b2" stroke-width="2" points="'
            + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            + '"/>'
        )
    for x, y in pts:
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#0173b2"/>')
    if not pts:
        out.append(
            f'<text x="{(x0 + x1) / 2}" y="{(y0 + y1) / 2}" text-anchor="middle" font-style="italic">'
            "not scored</text>"
        )
    return out


def monitoring_svg(a: Assessment) -> str:
    """The monitoring figure as SVG: one small chart per policy area and overall, with the
    score in every assessment year (a missing point = not scored that year)."""
    mon = a.monitoring
    units = list(dict.fromkeys(mon["unit"]))
    years = sorted(mon["year"].unique())
    nrows = int(math.ceil(len(units) / _PANEL_COLS))
    height = nrows * (_PANEL_H + 48) + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{height:.0f}" viewBox="0 0 720 {height:.0f}" '
        f'{_FONT} font-size="11"><rect width="100%" height="100%" fill="#ffffff"/>'
    ]
    by_unit = dict(list(mon.groupby("unit", sort=False)))
    for k, unit in enumerate(units):
        out += _monitoring_panel(k, by_unit[unit].sort_values("year"), years)
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------ report
