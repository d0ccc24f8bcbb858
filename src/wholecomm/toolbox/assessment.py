"""Scoring a questionnaire against its peers: scores, benchmarks, gaps, priorities and
monitoring (the rules are in the docstring of the ``wholecomm.toolbox`` package)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import data, index
from .catalogue import (
    COUNTRY_NAMES,
    EPS,
    GROUP_LABELS,
    MIN_PEERS,
    NOT_SCORED,
    PEER_GROUPS,
    RESOURCES,
    SIZE_WORDS,
    TYPE_WORDS,
    Catalogue,
    Problem,
    QuestionnaireError,
    _format,
    _needed,
    area_label,
    catalogue,
    rule_text,
)
from .questionnaire import Questionnaire, _scorability_problems


# -------------------------------------------------------------------- assessment
@dataclass
class Assessment:
    """Scores, benchmarks, gaps, priorities and monitoring of one questionnaire.

    Tables (all tidy DataFrames):

    * ``scores``: year, unit (area id or "overall"), label, answered, n_indicators,
      score (NaN = not scored), scored;
    * ``benchmarks``: group, group_label, value, unit, label, n_peers (localities in the
      group), n_scored (with a score on the unit), median, q1, q3, best, own, gap (own -
      median), few_peers (n_scored < MIN_PEERS);
    * ``peer_scores``: group, group_label, locality_id, unit, label, score (scored peers);
    * ``peers``: group, locality_id (the members of each peer group);
    * ``gaps``: unit, label, own, gap_<group> per group, reference_gap, few_peers;
    * ``priorities``: rank, indicator_id, area, area_label, question, answer_code,
      answer_text, score, next_code, next_text, points_gained, area_points,
      reference_gap, priority, best_peer, n_peers_100, peers_100;
    * ``monitoring``: year, unit, label, score, scored (every year);
    * ``changes``: unit, label, one column per year, change (last - first).
    """

    questionnaire: Questionnaire
    min_answered_share: float
    groups: list[str]
    latest_year: int
    result: index.IndexResult
    scores: pd.DataFrame
    benchmarks: pd.DataFrame
    peer_scores: pd.DataFrame
    peers: pd.DataFrame
    gaps: pd.DataFrame
    priorities: pd.DataFrame
    monitoring: pd.DataFrame
    changes: pd.DataFrame
    warnings: list[Problem]
    notice: str
    synthetic: bool
    n_assessed: int
    #: locality_id -> what the peer is ("small town in Austria; thriving, new to diversity")
    peer_descriptions: dict = field(default_factory=dict)

    def warning_lines(self) -> list[str]:
        q = self.questionnaire
        return q.warning_lines() + [_format(q.source, line, msg, "warning: ") for line, msg in self.warnings]

    def group_label(self, group: str) -> str:
        rows = self.benchmarks[self.benchmarks["group"] == group]
        return str(rows["group_label"].iloc[0]) if len(rows) else GROUP_LABELS[group]

    def summary(self) -> dict:
        """Key facts for prose: own scores, peer medians and counts, largest gap, top priority."""
        cached = self.__dict__.get("_summary")
        if cached is None:
            cached = self._summary()
            self.__dict__["_summary"] = cached
        return dict(cached)

    def _summary(self) -> dict:
        q = self.questionnaire
        latest = self.scores[self.scores["year"] == self.latest_year].set_index("unit")
        first_year = q.years[0]
        first = self.scores[self.scores["year"] == first_year].set_index("unit")
        out: dict[str, Any] = {
            "name": q.name,
            "country": q.country,
            "size_class": q.size_class,
            "locality_type": q.locality_type,
            "n_years": len(q.years),
            "first_year": first_year,
            "latest_year": self.latest_year,
            "years": ", ".join(str(y) for y in q.years),
            "overall_latest": float(latest.loc["overall", "score"]),
            "overall_first": float(first.loc["overall", "score"]),
            "n_unanswered_latest": int(
                q.answers.loc[q.answers["year"] == self.latest_year, "answer_code"].isna().sum()
            ),
            "n_indicators": int(latest.loc["overall", "n_indicators"]),
            "n_areas_scored_latest": int(latest.drop(index="overall")["scored"].sum()),
            "n_areas": int(len(latest) - 1),
            "n_assessed": self.n_assessed,
            "min_answered_share": self.min_answered_share,
            "n_priorities": int(len(self.priorities)),
        }
        out["overall_change"] = out["overall_latest"] - out["overall_first"]
        overall = self.benchmarks[self.benchmarks["unit"] == "overall"].set_index("group")
        for group in self.groups:
            row = overall.loc[group]
            out[f"{group}_label"] = str(row["group_label"])
            out[f"{group}_n_peers"] = int(row["n_peers"])
            out[f"{group}_n_scored"] = int(row["n_scored"])
            out[f"{group}_median"] = float(row["median"])
            out[f"{group}_gap"] = float(row["gap"])
        out["answer_rule"] = rule_text(
            self.result.indicators["area"].value_counts().reindex(self.result.areas), self.min_answered_share
        )
        out.update(
            {
                "largest_gap_area": "–",
                "largest_gap": np.nan,
                "n_areas_improved": 0,
                "n_areas_declined": 0,
                "most_improved_area": "–",
                "most_improved_change": np.nan,
            }
        )
        sizes = [out[f"{g}_n_peers"] for g in self.groups]
        out["min_group_n"], out["max_group_n"] = int(min(sizes)), int(max(sizes))
        gaps = self.gaps.dropna(subset=["reference_gap"])
        if len(gaps):
            out["largest_gap_area"] = str(gaps.iloc[0]["label"])
            out["largest_gap"] = float(gaps.iloc[0]["reference_gap"])
        if len(self.priorities):
            top = self.priorities.iloc[0]
            for key in ("indicator_id", "area_label", "question", "answer_text", "next_text", "peers_100"):
                out[f"top_{key}"] = str(top[key])
            out["top_points_gained"] = float(top["points_gained"])
            out["top_n_peers_100"] = int(top["n_peers_100"])
            out["top_priority"] = float(top["priority"])
        if len(q.years) > 1:
            ch = self.changes[self.changes["unit"] != "overall"].dropna(subset=["change"])
            out["n_areas_improved"] = int((ch["change"] > EPS).sum())
            out["n_areas_declined"] = int((ch["change"] < -EPS).sum())
            if len(ch):
                best = ch.sort_values(["change", "unit"], ascending=[False, True], kind="stable").iloc[0]
                out["most_improved_area"] = str(best["label"])
                out["most_improved_change"] = float(best["change"])
        return out


def _answers_for_engine(q: Questionnaire) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "locality_id": q.answers["year"].astype(str),
            "indicator_id": q.answers["indicator_id"].astype(str),
            "answer_code": q.answers["answer_code"].fillna("").astype(str),
        }
    )


def _scores_table(res: index.IndexResult, sizes: pd.Series) -> pd.DataFrame:
    rows = []
    for loc in res.localities:
        for area in res.areas:
            score = float(res.area_scores.loc[loc, area])
            rows.append(
                {
                    "year": int(loc),
                    "unit": area,
                    "label": area_label(area),
                    "answered": int(res.area_answered.loc[loc, area]),
                    "n_indicators": int(sizes[area]),
                    "score": score,
                    "scored": not bool(res.area_flags.loc[loc, area]),
                }
            )
        rows.append(
            {
                "year": int(loc),
                "unit": "overall",
                "label": "Overall",
                "answered": int(res.area_answered.loc[loc].sum()),
                "n_indicators": int(sizes.sum()),
                "score": float(res.overall[loc]),
                "scored": not bool(res.overall_flag[loc]),
            }
        )
    return pd.DataFrame(rows)


def _unit_scores(res: index.IndexResult) -> pd.DataFrame:
    """locality x unit (areas then overall)."""
    out = res.area_scores.copy()
    out["overall"] = res.overall
    return out


SIZE_SINGULAR = {"rural_area": "rural area", "small_town": "small town", "medium_town": "medium-sized town"}


def describe_localities(localities: pd.DataFrame) -> dict:
    """locality_id -> a description by what the locality is, not by its code:
    'small town in Austria; thriving, new to diversity'."""
    out = {}
    for r in localities.itertuples(index=False):
        size = SIZE_SINGULAR.get(str(r.size_class), str(r.size_class).replace("_", " "))
        country = COUNTRY_NAMES.get(str(r.country), str(r.country))
        kind = TYPE_WORDS.get(str(r.locality_type), str(r.locality_type).replace("_", " "))
        out[str(r.locality_id)] = f"{size} in {country}; {kind}"
    return out


def _count_phrase(descriptions: list[str]) -> list[str]:
    """['small town in Austria; ...', same, other] -> ['2 x small town in Austria; ...', 'other']."""
    counts: dict[str, int] = {}
    for d in descriptions:
        counts[d] = counts.get(d, 0) + 1
    return [f"{n} × {d}" if n > 1 else d for d, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def group_value_label(group: str, value: str) -> str:
    """Reader-facing text of a locality's value in a peer group: 'small towns', 'Austria'."""
    if group == "size_class":
        return SIZE_WORDS.get(value, value)
    if group == "country":
        return COUNTRY_NAMES.get(value, value)
    return TYPE_WORDS.get(value, value)


def peer_groups(
    q: Questionnaire, localities: pd.DataFrame, assessed: Iterable[str], groups: Sequence[str] = PEER_GROUPS
) -> pd.DataFrame:
    """Members of each peer group: assessed localities sharing the group's attribute with ``q``.

    Returns group, locality_id (sorted by group order, then locality_id)."""
    assessed = set(str(a) for a in assessed)
    loc = localities.assign(locality_id=localities["locality_id"].astype(str))
    loc = loc[loc["locality_id"].isin(assessed)]
    rows = []
    for group in groups:
        own = getattr(q, group)
        ids = sorted(loc.loc[loc[group].astype(str) == own, "locality_id"])
        rows += [{"group": group, "locality_id": i} for i in ids]
    return pd.DataFrame(rows, columns=["group", "locality_id"])


def _check_groups(groups) -> list[str]:
    groups = list(groups)
    unknown = [g for g in groups if g not in PEER_GROUPS]
    if unknown or not groups:
        raise ValueError(
            f"peer groups must be a non-empty selection of {', '.join(PEER_GROUPS)}; got {groups}."
        )
    if len(set(groups)) != len(groups):
        raise ValueError(f"peer groups must not repeat; got {groups}.")
    return [g for g in PEER_GROUPS if g in groups]


@dataclass
class PeerData:
    """The benchmark data: every assessed locality scored with the engine's rule, the
    localities table, and the provenance of the data (:func:`peer_data`)."""

    result: index.IndexResult
    localities: pd.DataFrame
    min_answered_share: float
    notice: str
    synthetic: bool
    #: The catalogue the peers were scored with (an assessment with these peers uses it too).
    catalogue: Catalogue | None = None


def _local_paths_removed(text: str) -> str:
    """A notice without absolute local folders (a report may be shared): `/a/b/c` -> `c`."""
    return re.sub(r"`((?:[A-Za-z]:)?[/\\][^`]*)`", lambda m: f"`{Path(m.group(1)).name or m.group(1)}`", text)


def peer_data(cat: Catalogue | None = None, min_answered_share: float = index.MIN_ANSWERED_SHARE) -> PeerData:
    """Score the assessed localities of the data in use (the peers of every assessment)."""
    cat = catalogue() if cat is None else cat
    share = float(min_answered_share)
    frames = data.load_resources(RESOURCES)
    res = index.score(frames["mipex_l_answers"], cat.indicators, cat.options, min_answered_share=share)
    prov = data.provenance("mipex_l_answers")
    return PeerData(
        result=res,
        localities=frames["localities"],
        min_answered_share=share,
        notice=_local_paths_removed(data.provenance_notice(list(RESOURCES))),
        synthetic=prov.get("kind") == "synthetic",
        catalogue=cat,
    )


def _check_assess_input(q, min_answered_share: float) -> float:
    """The share as a float, after checking the arguments of :func:`assess`."""
    if not isinstance(q, Questionnaire):
        raise TypeError(f"assess() needs a Questionnaire (from read_questionnaire), got {type(q).__name__}.")
    if not (0 < float(min_answered_share) <= 1):
        raise ValueError(f"min_answered_share must be in (0, 1], got {min_answered_share!r}.")
    return float(min_answered_share)


def _benchmarks(
    q: Questionnaire, groups: list[str], members: pd.DataFrame, peer_units: pd.DataFrame, units, own_latest
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(benchmarks, peer scores): one row per peer group and unit, one per peer and unit."""
    bench_rows, peer_rows = [], []
    for group in groups:
        ids = members.loc[members["group"] == group, "locality_id"].tolist()
        value = getattr(q, group)
        glabel = f"{GROUP_LABELS[group]} ({group_value_label(group, value)})"
        sub = peer_units.loc[ids, units] if ids else pd.DataFrame(columns=units, dtype=float)
        for unit in units:
            vals = sub[unit].dropna() if len(sub) else pd.Series(dtype=float)
            peer_rows += [
                {
                    "group": group,
                    "group_label": glabel,
                    "locality_id": loc_id,
                    "unit": unit,
                    "label": area_label(unit),
                    "score": float(v),
                }
                for loc_id, v in vals.items()
            ]
            n = int(len(vals))
            arr = vals.to_numpy(float)
            own_score = float(own_latest.loc[unit, "score"])
            median = float(np.median(arr)) if n else np.nan
            bench_rows.append(
                {
                    "group": group,
                    "group_label": glabel,
                    "value": value,
                    "unit": unit,
                    "label": area_label(unit),
                    "n_peers": len(ids),
                    "n_scored": n,
                    "median": median,
                    # numpy's linear interpolation, as pandas' Series.quantile uses it
                    "q1": float(np.percentile(arr, 25)) if n else np.nan,
                    "q3": float(np.percentile(arr, 75)) if n else np.nan,
                    "best": float(arr.max()) if n else np.nan,
                    "own": own_score,
                    "gap": own_score - median,
                    "few_peers": n < MIN_PEERS,
                }
            )
    benchmarks = pd.DataFrame(bench_rows)
    peer_scores = pd.DataFrame(
        peer_rows, columns=["group", "group_label", "locality_id", "unit", "label", "score"]
    )
    return benchmarks, peer_scores


def _gaps(areas, groups: list[str], benchmarks: pd.DataFrame, own_latest) -> pd.DataFrame:
    """Gaps per area and group and the reference gap, most negative first."""
    gap_rows = []
    records = benchmarks.to_dict("records")  # one pass over the table instead of a filter per area
    own_score = own_latest["score"].to_dict()
    for unit in areas:
        by_group = {r["group"]: r for r in records if r["unit"] == unit}
        row = {"unit": unit, "label": area_label(unit), "own": float(own_score[unit])}
        for group in groups:
            row[f"median_{group}"] = float(by_group[group]["median"])
            row[f"gap_{group}"] = float(by_group[group]["gap"])
        enough = [r["gap"] for r in by_group.values() if r["n_scored"] >= MIN_PEERS]
        use = enough or [r["gap"] for r in by_group.values() if r["n_scored"] > 0]
        row["reference_gap"] = float(np.mean(use)) if use and np.isfinite(row["own"]) else np.nan
        row["few_peers"] = not enough
        gap_rows.append(row)
    gaps = pd.DataFrame(gap_rows)
    return (
        gaps.assign(_na=gaps["reference_gap"].isna(), _g=gaps["reference_gap"].round(index.TIE_DECIMALS))
        .sort_values(["_na", "_g", "unit"], kind="stable")
        .drop(columns=["_na", "_g"])
        .reset_index(drop=True)
    )


def _changes(q: Questionnaire, monitoring: pd.DataFrame, units, latest: int) -> pd.DataFrame:
    """Scores per year and the change from the first to the last year."""
    if len(q.years) <= 1:
        return pd.DataFrame(columns=["unit", "label", str(latest), "change"])
    wide = monitoring.pivot(index="unit", columns="year", values="score").reindex(units)
    changes = pd.DataFrame({"unit": units, "label": [area_label(u) for u in units]})
    for year in q.years:
        changes[str(year)] = wide[year].to_numpy()
    changes["change"] = (wide[q.years[-1]] - wide[q.years[0]]).to_numpy()
    return changes


def _assessment_warnings(
    q: Questionnaire, scores: pd.DataFrame, benchmarks: pd.DataFrame, groups: list[str], share: float
) -> list:
    """Areas and years not scored, and peer groups too small to read with confidence."""
    warnings = []
    flagged = scores[~scores["scored"] & (scores["unit"] != "overall")]
    for r in flagged.itertuples(index=False):
        warnings.append(
            (
                q.year_lines.get(r.year),
                f"{r.year}: {r.label} is {NOT_SCORED} ({r.answered} of "
                f"{r.n_indicators} answered, at least "
                f"{_needed(r.n_indicators, share)} needed)",
            )
        )
    for r in scores[~scores["scored"] & (scores["unit"] == "overall")].itertuples(index=False):
        warnings.append(
            (
                q.year_lines.get(r.year),
                f"{r.year}: the overall score is not given because not every area is scored",
            )
        )
    for group in groups:
        b = benchmarks[(benchmarks["group"] == group) & (benchmarks["unit"] == "overall")].iloc[0]
        if b["n_peers"] < MIN_PEERS:
            warnings.append(
                (
                    None,
                    f"{b['group_label']}: only {b['n_peers']} peer"
                    f"{'s' if b['n_peers'] != 1 else ''} (fewer than {MIN_PEERS}); "
                    "read this benchmark with care",
                )
            )
    return warnings


def assess(
    q: Questionnaire,
    min_answered_share: float = index.MIN_ANSWERED_SHARE,
    groups: Sequence[str] = PEER_GROUPS,
    peers: PeerData | None = None,
) -> Assessment:
    """Score a checked questionnaire and benchmark it against its peers (rules in the
    docstring of the ``wholecomm.toolbox`` package).

    Raises :class:`~wholecomm.toolbox.catalogue.QuestionnaireError` when a year has too few
    answers to score any area under ``min_answered_share``, and ``ValueError`` for an
    unknown peer group or a share outside (0, 1].
    """
    share = _check_assess_input(q, min_answered_share)
    groups = _check_groups(groups)
    cat = peers.catalogue if peers is not None and peers.catalogue is not None else catalogue()
    if set(q.answers["indicator_id"]) != set(cat.ids):
        raise ValueError(
            "The questionnaire's indicators differ from the catalogue in use; read it again with "
            "read_questionnaire() against the same data."
        )
    problems = _scorability_problems(q.answers, cat, q.year_lines, share)
    if problems:
        raise QuestionnaireError(problems, q.source)
    sizes = cat.area_sizes()

    # -- own scores (same engine, same rule)
    own = index.score(_answers_for_engine(q), cat.indicators, cat.options, min_answered_share=share)
    scores = _scores_table(own, sizes)
    latest = max(q.years)
    own_latest = scores[scores["year"] == latest].set_index("unit")

    # -- peers: the package's assessed localities, scored with the same engine and rule
    if peers is None or abs(peers.min_answered_share - share) > 0:
        peers = peer_data(cat, share)
    peer_res = peers.result
    localities = peers.localities
    members = peer_groups(q, localities, peer_res.localities, groups)
    units = [*own.areas, "overall"]
    benchmarks, peer_scores = _benchmarks(q, groups, members, _unit_scores(peer_res), units, own_latest)
    gaps = _gaps(own.areas, groups, benchmarks, own_latest)
    monitoring = scores[["year", "unit", "label", "score", "scored"]].copy()
    return Assessment(
        questionnaire=q,
        min_answered_share=share,
        groups=groups,
        latest_year=latest,
        result=own,
        scores=scores,
        benchmarks=benchmarks,
        peer_scores=peer_scores,
        peers=members,
        gaps=gaps,
        priorities=_priorities(q, cat, own, peer_res, members, gaps, latest),
        monitoring=monitoring,
        changes=_changes(q, monitoring, units, latest),
        warnings=_assessment_warnings(q, scores, benchmarks, groups, share),
        notice=peers.notice,
        synthetic=peers.synthetic,
        peer_descriptions=describe_localities(
            localities[localities["locality_id"].astype(str).isin(set(members["locality_id"]))]
        ),
        n_assessed=len(peer_res.localities),
    )


def _priorities(q, cat, own, peer_res, members, gaps, latest) -> pd.DataFrame:
    cols = [
        "rank",
        "indicator_id",
        "area",
        "area_label",
        "question",
        "answer_code",
        "answer_text",
        "score",
        "next_code",
        "next_text",
        "points_gained",
        "area_points",
        "reference_gap",
        "priority",
        "best_peer",
        "n_peers_100",
        "peers_100",
    ]
    pool = sorted(set(members["locality_id"]))
    if not pool:
        return pd.DataFrame(columns=cols)
    peer_ind = peer_res.indicator_scores.loc[pool]
    own_ind = own.indicator_scores.loc[str(latest)].to_dict()
    area_scored = (~own.area_flags.loc[str(latest)]).to_dict()
    answered = own.area_answered.loc[str(latest)].to_dict()
    ref_gap = gaps.set_index("unit")["reference_gap"].to_dict()
    codes = q.answers[q.answers["year"] == latest].set_index("indicator_id")["answer_code"].to_dict()
    meta = cat.indicators.set_index("indicator_id")
    area_of, question_of = meta["area"].to_dict(), meta["question"].to_dict()
    options: dict[str, list] = {}
    for o in cat.options.itertuples(
        index=False
    ):  # one pass: the options of each indicator, in catalogue order
        options.setdefault(o.indicator_id, []).append(o)
    best_of = peer_ind.max().to_dict()
    top = peer_ind.to_numpy() >= 100 - EPS
    peer_ids = peer_ind.index.to_numpy()
    column = {ind: k for k, ind in enumerate(peer_ind.columns)}
    rows = []
    for ind in cat.ids:
        score = own_ind[ind]
        area = area_of[ind]
        if np.isnan(score) or not area_scored[area]:
            continue
        best = best_of[ind]
        if not (np.isfinite(best) and best > score + EPS):
            continue
        opts = options[ind]
        nxt = min((o for o in opts if o.score > score + EPS), key=lambda o: o.score)
        current = next(o for o in opts if o.answer_code == codes[ind])
        nxt, current = (
            {"answer_code": nxt.answer_code, "answer_text": nxt.answer_text, "score": nxt.score},
            {"answer_text": current.answer_text},
        )
        gain = float(nxt["score"]) - float(score)
        gap = float(ref_gap[area])
        at100 = sorted(peer_ids[top[:, column[ind]]])
        rows.append(
            {
                "indicator_id": ind,
                "area": area,
                "area_label": area_label(area),
                "question": question_of[ind],
                "answer_code": codes[ind],
                "answer_text": current["answer_text"],
                "score": float(score),
                "next_code": nxt["answer_code"],
                "next_text": nxt["answer_text"],
                "points_gained": gain,
                "area_points": gain / int(answered[area]),
                "reference_gap": gap,
                "priority": max(0.0, -gap) * gain / 100 if np.isfinite(gap) else 0.0,
                "best_peer": float(best),
                "n_peers_100": len(at100),
                "peers_100": ", ".join(at100),
            }
        )
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    # Sorted on values rounded by the index's tie rule, so that priorities equal in exact
    # arithmetic tie on every machine (and in the self-assessment page's script).
    keys = out.assign(
        _p=out["priority"].round(index.TIE_DECIMALS), _g=out["points_gained"].round(index.TIE_DECIMALS)
    )
    out = out.loc[
        keys.sort_values(
            ["_p", "_g", "n_peers_100", "indicator_id"], ascending=[False, False, False, True], kind="stable"
        ).index
    ].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[cols]
