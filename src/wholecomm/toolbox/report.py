"""The self-contained HTML report of an assessment."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .. import data
from .assessment import Assessment, _count_phrase, group_value_label
from .blank import download_link
from .catalogue import (
    COUNTRY_NAMES,
    FIELD_WORDS,
    MIN_PEERS,
    NOT_SCORED,
    SIZE_WORDS,
    TYPE_WORDS,
    _format,
    _needed,
)
from .figures import _svg_uri, benchmark_svg, monitoring_svg


def report_download_link(a: Assessment, label: str = "Download this report (HTML)") -> str:
    """The HTML report of :func:`render_report` as a download link."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", a.questionnaire.name).strip("-").lower() or "municipality"
    return download_link(render_report(a), f"{name}-report.html", label, mime="text/html")


def _md_html(text: str) -> str:
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def _num(value, fmt: str = "{:.1f}", missing: str = "–") -> str:
    return fmt.format(value) if value is not None and not pd.isna(value) else missing


def _signed(value) -> str:
    return _num(value, "{:+.1f}")


def _at_a_glance(a: Assessment) -> dict:
    """The plain-language first page: overall score against each peer group, strongest and
    weakest areas against the peers, three next steps, areas not yet scored."""
    q = a.questionnaire
    s = a.summary()
    overall = a.benchmarks[a.benchmarks["unit"] == "overall"]
    comparisons = []
    for r in overall.itertuples(index=False):
        if not r.n_scored or not np.isfinite(r.own):
            continue
        gap = float(r.gap)
        word = "above" if gap > 0.05 else "below" if gap < -0.05 else "level with"
        amount = f"{abs(gap):.1f} points {word}" if word != "level with" else "level with"
        comparisons.append(
            {
                "group": group_value_label(r.group, r.value),
                "n": int(r.n_scored),
                "median": _num(r.median),
                "text": f"{amount} the typical score ({_num(r.median)}) of the {int(r.n_scored)} "
                f"{'peers' if r.n_scored != 1 else 'peer'} with the same "
                f"{FIELD_WORDS[r.group]} ({group_value_label(r.group, r.value)})",
                "few": bool(r.few_peers),
            }
        )
    gaps = a.gaps.dropna(subset=["reference_gap"])
    strongest = gaps.sort_values(["reference_gap", "unit"], ascending=[False, True], kind="stable").head(2)
    weakest = gaps.sort_values(["reference_gap", "unit"], ascending=[True, True], kind="stable").head(2)

    def area_line(r):
        g = float(r["reference_gap"])
        side = "above" if g > 0.05 else "below" if g < -0.05 else "level with"
        return {
            "label": r["label"],
            "own": _num(r["own"]),
            "text": f"{abs(g):.1f} points {side} similar places on average"
            if side != "level with"
            else "level with similar places on average",
        }

    steps = []
    for r in a.priorities.head(3).itertuples(index=False):
        peers = r.peers_100.split(", ") if r.peers_100 else []
        steps.append(
            {
                "question": r.question,
                "area": r.area_label,
                "indicator": r.indicator_id,
                "now": r.answer_text,
                "next": r.next_text,
                "gain": f"{r.points_gained:.0f}",
                "area_gain": _num(r.area_points),
                "peers": (
                    f"{len(peers)} similar place{'s' if len(peers) != 1 else ''} already "
                    f"{'do' if len(peers) != 1 else 'does'} this fully"
                    if peers
                    else "no peer does this fully yet"
                ),
            }
        )
    latest = a.scores[(a.scores["year"] == a.latest_year) & (a.scores["unit"] != "overall")]
    unscored = [
        {
            "label": r.label,
            "answered": r.answered,
            "n": r.n_indicators,
            "needed": _needed(r.n_indicators, a.min_answered_share),
        }
        for r in latest.itertuples(index=False)
        if not r.scored
    ]
    change = None
    if len(q.years) > 1 and np.isfinite(s["overall_change"]):
        c = s["overall_change"]
        change = (
            f"{'up' if c > 0.05 else 'down' if c < -0.05 else 'unchanged'}"
            f"{f' {abs(c):.1f} points' if abs(c) > 0.05 else ''} since {s['first_year']}"
        )
    return {
        "overall": _num(s["overall_latest"], missing=NOT_SCORED),
        "scored": bool(np.isfinite(s["overall_latest"])),
        "comparisons": comparisons,
        "strongest": [area_line(r) for _, r in strongest.iterrows() if r["reference_gap"] > 0.05],
        "weakest": [area_line(r) for _, r in weakest.iterrows() if r["reference_gap"] < -0.05],
        "steps": steps,
        "unscored": unscored,
        "change": change,
    }


def report_context(a: Assessment, top: int = 10) -> dict:
    """Everything the report template shows, as plain text and numbers (no markup)."""
    q = a.questionnaire
    s = a.summary()
    latest = a.scores[a.scores["year"] == a.latest_year]
    score_rows = [
        {
            "label": r.label,
            "answered": f"{r.answered} of {r.n_indicators}",
            "score": _num(r.score) if r.scored else NOT_SCORED,
            "scored": r.scored,
            "overall": r.unit == "overall",
        }
        for r in latest.itertuples(index=False)
    ]
    groups = []
    for group in a.groups:
        b = a.benchmarks[a.benchmarks["group"] == group]
        first = b.iloc[0]
        groups.append(
            {
                "label": first["group_label"],
                "n_peers": int(first["n_peers"]),
                "few": int(first["n_peers"]) < MIN_PEERS,
                "members": _count_phrase(
                    [
                        a.peer_descriptions.get(i, i)
                        for i in a.peers.loc[a.peers["group"] == group, "locality_id"]
                    ]
                ),
                "rows": [
                    {
                        "label": r.label,
                        "own": _num(r.own, missing=NOT_SCORED),
                        "n": int(r.n_scored),
                        "median": _num(r.median),
                        "q1": _num(r.q1),
                        "q3": _num(r.q3),
                        "best": _num(r.best),
                        "gap": _signed(r.gap),
                        "few": bool(r.few_peers),
                        "overall": r.unit == "overall",
                    }
                    for r in b.itertuples(index=False)
                ],
            }
        )
    gap_rows = [
        {
            "label": r["label"],
            "own": _num(r["own"], missing=NOT_SCORED),
            "gaps": [_signed(r[f"gap_{g}"]) for g in a.groups],
            "reference": _signed(r["reference_gap"]),
            "few": bool(r["few_peers"]),
        }
        for _, r in a.gaps.iterrows()
    ]
    pri = a.priorities.head(top)
    pri_rows = [
        {
            "rank": int(r.rank),
            "indicator": r.indicator_id,
            "area": r.area_label,
            "question": r.question,
            "current": f"{r.answer_code} = {r.answer_text} ({r.score:.0f})",
            "next": f"{r.next_code} = {r.next_text}",
            "gained": f"{r.points_gained:.0f}",
            "area_points": _num(r.area_points),
            "gap": _signed(r.reference_gap),
            "priority": _num(r.priority),
            "peers": _count_phrase([a.peer_descriptions.get(i, i) for i in r.peers_100.split(", ")])
            if r.peers_100
            else [],
        }
        for r in pri.itertuples(index=False)
    ]
    figures = {}
    figures["benchmarks"] = _svg_uri(benchmark_svg(a))
    monitoring = None
    if len(q.years) > 1:
        figures["monitoring"] = _svg_uri(monitoring_svg(a))
        monitoring = {
            "years": [str(y) for y in q.years],
            "rows": [
                {
                    "label": r["label"],
                    "scores": [_num(r[str(y)], missing=NOT_SCORED) for y in q.years],
                    "change": _signed(r["change"]),
                    "overall": r["unit"] == "overall",
                }
                for _, r in a.changes.iterrows()
            ],
        }
    import wholecomm

    return {
        "glance": _at_a_glance(a),
        "title": f"MIPEX-L self-evaluation: {q.name}",
        "name": q.name,
        "country": f"{COUNTRY_NAMES.get(q.country, q.country)} ({q.country})",
        "size_class": f"{q.size_class} ({SIZE_WORDS.get(q.size_class, q.size_class)})",
        "locality_type": f"{q.locality_type} ({TYPE_WORDS.get(q.locality_type, q.locality_type)})",
        "years": s["years"],
        "latest_year": a.latest_year,
        "source": Path(q.source).name,
        "synthetic": a.synthetic,
        "notice_html": _md_html(a.notice),
        # File name only: the report may be shared, the local folder is nobody's business.
        "warnings": [
            _format(Path(q.source).name, line, msg, "warning: ") for line, msg in [*q.warnings, *a.warnings]
        ],
        "overall": _num(s["overall_latest"], missing=NOT_SCORED),
        "scores": score_rows,
        "groups": groups,
        "group_labels": [a.group_label(g) for g in a.groups],
        "gaps": gap_rows,
        "priorities": pri_rows,
        "n_priorities": len(a.priorities),
        "top": top,
        "monitoring": monitoring,
        "figures": figures,
        "share": f"{a.min_answered_share:.0%}",
        "share_exact": a.min_answered_share,
        "min_peers": MIN_PEERS,
        "n_assessed": a.n_assessed,
        "not_scored": NOT_SCORED,
        "version": getattr(wholecomm, "__version__", ""),
        "alt_benchmarks": (
            "Box plots of the peers' MIPEX-L scores for each policy area and overall, one box per "
            f"peer group, with the score of {q.name} in {a.latest_year} marked by a black diamond."
        ),
        "alt_monitoring": (
            f"Small line charts, one per policy area and overall, showing the score of {q.name} in "
            f"each assessment year ({s['years']})."
        ),
    }


#: Options of the report's template environment (autoescape, trim_blocks, lstrip_blocks;
#: part of the compiled template's cache key).
_TEMPLATE_OPTIONS = (True, True, True)


@functools.cache
def _environment():
    """The report's jinja2 environment, made once per process. Compiled templates are kept
    in ``templates/`` of the data cache folder (``wholecomm.data.cache_dir()``), keyed by
    the template's text, these options and the jinja2 and Python versions, so that a new
    process does not compile the template again; without a usable cache folder templates
    are compiled every time, with the same result."""
    import jinja2

    class _Cache(jinja2.FileSystemBytecodeCache):
        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            key = f"{_TEMPLATE_OPTIONS!r}|{super().get_cache_key(name, filename)}"
            return hashlib.sha1(key.encode("utf-8")).hexdigest()

        def load_bytecode(self, bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except OSError:
                pass  # an unreadable cache folder: the template is compiled

        def dump_bytecode(self, bucket) -> None:
            try:
                Path(self.directory).mkdir(parents=True, exist_ok=True)
                super().dump_bytecode(bucket)
            except OSError:
                pass  # a read-only or vanished cache folder only costs the compilation next time

    folder = data.cache_dir()
    return jinja2.Environment(
        loader=jinja2.PackageLoader("wholecomm", "templates"),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_Cache(str(folder / "templates"), "report-%s.cache") if folder is not None else None,
        autoescape=_TEMPLATE_OPTIONS[0],
        trim_blocks=_TEMPLATE_OPTIONS[1],
        lstrip_blocks=_TEMPLATE_OPTIONS[2],
    )


def render_report(a: Assessment, top: int = 10) -> str:
    """The self-contained HTML report (figures as embedded PNG, inline CSS, no scripts, no
    external assets; every user-supplied text escaped). ``top`` = priorities shown."""
    import markupsafe

    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}.")
    ctx = report_context(a, top=top)
    # The notice is built from the package metadata and escaped by _md_html before the
    # bold/code markup is added; everything else is escaped by the template.
    ctx["notice_html"] = markupsafe.Markup(ctx["notice_html"])
    return _environment().get_template("report.html.j2").render(**ctx)
