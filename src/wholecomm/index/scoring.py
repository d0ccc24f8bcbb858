"""Scoring MIPEX-L answers, summaries of the scores, and ranking.

Scoring rule (MIPEX convention, with MIPEX-R's policy-cycle stages)
-------------------------------------------------------------------
1. **Indicator score** = the score of the answer option chosen (0, 50 or 100 in the
   catalogue; any value in 0-100 is accepted). An empty ``answer_code`` means the item was
   not answered: the indicator score is missing (NaN), never 0.
2. **Area score** = mean of the area's *answered* indicators, but only when at least
   ``min_answered_share`` (default two thirds) of the area's indicators are answered.
   Otherwise the area score is missing (NaN) and the area is *flagged*.
3. **Overall score** = unweighted mean of the area scores, only when *every* area has a
   score. If any area is flagged, the overall score is missing and flagged as well.
4. **Stage scores** (formulation, output, implementation, evaluation) use the same rule
   on the indicators of each stage, across areas.

Missing data are therefore never scored as 0 and never silently imputed: an area built
on too few answers is reported as missing. The robustness analysis
(:func:`~wholecomm.index.uncertainty.monte_carlo`) imputes missing answers explicitly, as one
of its perturbations.

Localities whose overall score is missing are not ranked (:func:`rank`), and the
Monte Carlo rank intervals are computed among the ranked localities only.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from ..errors import InputError, require_columns
from ..numerics import first_max, first_min, tie_round
from .common import (
    _EPS,
    MIN_ANSWERED_SHARE,
    MIPEX_AREAS,
    STAGES,
    _blank,
    _categories,
    _factor,
    _ordered,
    _rows_text,
)
from .intervals import bounded_mean_ci


# ---------------------------------------------------------------------- result
@dataclass
class IndexResult:
    """Scores of one MIPEX-L assessment (rows = locality_id, sorted).

    ``indicator_scores`` is the locality x indicator matrix (NaN = unanswered);
    ``area_scores`` and ``stage_scores`` follow the missing-data rule of the module
    docstring, with ``area_flags``/``stage_flags`` True where a score is missing by that
    rule; ``overall`` (named "overall") is missing, and ``overall_flag`` True, when any
    area is flagged.
    """

    indicator_scores: pd.DataFrame
    area_scores: pd.DataFrame
    area_flags: pd.DataFrame
    stage_scores: pd.DataFrame
    stage_flags: pd.DataFrame
    overall: pd.Series
    overall_flag: pd.Series
    indicators: pd.DataFrame  # index indicator_id; columns area, stage
    area_answered: pd.DataFrame  # number of answered indicators per locality and area
    min_answered_share: float = MIN_ANSWERED_SHARE

    @property
    def areas(self) -> list[str]:
        return list(self.area_scores.columns)

    @property
    def stages(self) -> list[str]:
        return list(self.stage_scores.columns)

    @property
    def localities(self) -> list[str]:
        return list(self.overall.index)

    def tidy(self) -> pd.DataFrame:
        """Long format: locality_id, level (indicator/area/stage/overall), unit, score,
        flagged (True = missing: unanswered indicator, or area/stage/overall missing by the rule)."""
        parts = []
        for level, scores, flags in (
            ("indicator", self.indicator_scores, self.indicator_scores.isna()),
            ("area", self.area_scores, self.area_flags),
            ("stage", self.stage_scores, self.stage_flags),
        ):
            long = scores.rename_axis(index="locality_id", columns="unit").stack(future_stack=True)
            flag = flags.rename_axis(index="locality_id", columns="unit").stack(future_stack=True)
            parts.append(
                pd.DataFrame({"level": level, "score": long, "flagged": flag.astype(bool)}).reset_index()
            )
        parts.append(
            pd.DataFrame(
                {
                    "locality_id": self.overall.index,
                    "level": "overall",
                    "unit": "overall",
                    "score": self.overall.to_numpy(),
                    "flagged": self.overall_flag.to_numpy(),
                }
            )
        )
        out = pd.concat(parts, ignore_index=True)
        return out[["locality_id", "level", "unit", "score", "flagged"]]


# --------------------------------------------------------------------- scoring
def _membership(groups: np.ndarray, order: list[str]) -> np.ndarray:
    return (groups[:, None] == np.asarray(order, dtype=object)[None, :]).astype(float)


def _aggregate_rule(
    matrix: np.ndarray, member: np.ndarray, share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean of answered items per group if at least ``share`` of the group's items are answered."""
    answered = ~np.isnan(matrix)
    sums = np.where(answered, matrix, 0.0) @ member
    counts = answered.astype(float) @ member
    totals = member.sum(axis=0)
    ok = (counts > 0) & (counts >= share * totals[None, :] - _EPS)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(ok, sums / np.where(counts > 0, counts, 1.0), np.nan)
    return scores, ~ok, counts


def _catalogue(indicators: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The indicator catalogue checked: area and stage by indicator_id (sorted), the areas and
    the stages in catalogue order."""
    for col in ("indicator_id", "area", "stage"):
        blank = _blank(indicators[col])
        if blank.any():
            raise InputError(
                f"indicators: column {col!r} must not be empty: {_rows_text(indicators, blank, [col])}."
            )
    ind_ids_in = indicators["indicator_id"].astype(str)
    dup = ind_ids_in.duplicated(keep=False).to_numpy()
    if dup.any():
        raise InputError(
            f"indicators: indicator_id must be unique: {_rows_text(indicators, dup, ['indicator_id'])}."
        )
    ind_ids = sorted(ind_ids_in)
    meta = pd.DataFrame(
        {
            "area": indicators["area"].astype(str).to_numpy(),
            "stage": indicators["stage"].astype(str).to_numpy(),
        },
        index=pd.Index(ind_ids_in.to_numpy(), name="indicator_id"),
    ).loc[ind_ids]
    areas = _ordered(meta["area"], MIPEX_AREAS, _categories(indicators["area"]))
    stages = _ordered(meta["stage"], STAGES, _categories(indicators["stage"]))
    return meta, areas, stages


def _options(options: pd.DataFrame, ind_pos: pd.Index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The answer options checked: each option's indicator position, code and score."""
    for col in ("indicator_id", "answer_code"):
        blank = _blank(options[col])
        if blank.any():
            raise InputError(
                f"options: column {col!r} must not be empty: {_rows_text(options, blank, [col])}."
            )
    opt_scores = pd.to_numeric(options["score"], errors="coerce").astype(float).to_numpy()
    bad = ~np.isfinite(opt_scores) | (opt_scores < 0) | (opt_scores > 100)
    if bad.any():
        raise InputError(
            "options: score must be a number from 0 to 100: "
            f"{_rows_text(options, bad, ['indicator_id', 'answer_code', 'score'])}."
        )
    opt_ind = ind_pos.get_indexer(options["indicator_id"].astype(str))
    if (opt_ind < 0).any():
        raise InputError(
            "options: indicator_id must be in the indicator catalogue: "
            f"{_rows_text(options, opt_ind < 0, ['indicator_id', 'answer_code'])}."
        )
    opt_code = options["answer_code"].astype(str).to_numpy()
    dup = pd.DataFrame({"i": opt_ind, "c": opt_code}).duplicated(keep=False).to_numpy()
    if dup.any():
        raise InputError(
            "options: each (indicator_id, answer_code) must appear once: "
            f"{_rows_text(options, dup, ['indicator_id', 'answer_code'])}."
        )
    return opt_ind, opt_code, opt_scores


def _answer_cells(answers: pd.DataFrame, ind_pos: pd.Index) -> tuple[np.ndarray, list, np.ndarray]:
    """The answer rows checked (one per locality and indicator): each row's locality code, the
    sorted localities, and each row's indicator position."""
    n_ind = len(ind_pos)
    loc_codes, localities = _factor(answers["locality_id"], sort=True)
    ans_ind_codes, ind_uniques = _factor(answers["indicator_id"])
    for col, codes in (("locality_id", loc_codes), ("indicator_id", ans_ind_codes)):
        if (codes < 0).any():
            raise InputError(
                f"answers: column {col!r} must not be empty: {_rows_text(answers, codes < 0, [col])}."
            )
    uniq_pos = ind_pos.get_indexer(ind_uniques) if ind_uniques else np.zeros(0, dtype=np.intp)
    row_ind = uniq_pos[ans_ind_codes] if len(answers) else np.zeros(0, dtype=np.intp)
    if (row_ind < 0).any():
        raise InputError(
            "answers: unknown indicator (not in the indicator catalogue): "
            f"{_rows_text(answers, row_ind < 0, ['locality_id', 'indicator_id'])}."
        )
    n_loc = len(localities)
    key = loc_codes.astype(np.int64) * n_ind + row_ind
    cell_counts = np.bincount(key, minlength=n_loc * n_ind)
    dup = cell_counts[key] > 1
    if dup.any():
        raise InputError(
            "answers: each (locality_id, indicator_id) must appear once; duplicates: "
            f"{_rows_text(answers, dup, ['locality_id', 'indicator_id', 'answer_code'])}."
        )
    counts = np.bincount(loc_codes, minlength=n_loc)
    short = np.flatnonzero(counts < n_ind)
    if short.size:
        shown = ", ".join(f"{localities[i]!r} ({n_ind - counts[i]} missing)" for i in short[:10])
        raise InputError(
            f"answers: every locality must have one row for each of the {n_ind} indicators "
            f"(an unanswered item is a row with an empty answer_code); incomplete: {shown}"
            f"{' and more' if short.size > 10 else ''} ({short.size} localities in all)."
        )
    return loc_codes, localities, row_ind


def _answer_values(
    answers: pd.DataFrame,
    options: pd.DataFrame,
    row_ind: np.ndarray,
    n_ind: int,
    opt_ind: np.ndarray,
    opt_code: np.ndarray,
    opt_scores: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The score of each answer row (NaN where unanswered) and which rows are unanswered; an
    answer code that is not among its indicator's options is an error."""
    code_codes, code_text = _factor(answers["answer_code"])
    empty_code = np.array([t.strip() == "" for t in code_text] + [True])  # last entry: the NA sentinel
    missing = empty_code[code_codes] if len(answers) else np.zeros(0, bool)
    lookup = np.full((n_ind, len(code_text) + 1), np.nan)
    code_index = {t: k for k, t in enumerate(code_text)}
    for i, c, s in zip(opt_ind, opt_code, opt_scores, strict=False):
        k = code_index.get(c)
        if k is not None:
            lookup[i, k] = s
    values = lookup[row_ind, code_codes]
    invalid = ~missing & np.isnan(values)
    if invalid.any():
        valid = (
            options.assign(_c=opt_code)
            .groupby(options["indicator_id"].astype(str))["_c"]
            .agg(lambda s: "/".join(sorted(s)))
        )
        first = answers.loc[invalid, "indicator_id"].astype(str).iloc[0]
        raise InputError(
            "answers: answer_code must be one of the indicator's options (or empty = not answered): "
            f"{_rows_text(answers, invalid, ['locality_id', 'indicator_id', 'answer_code'])}. "
            f"Valid codes for {first}: {valid.get(first, 'none')}."
        )
    return values, missing


def score(
    answers: pd.DataFrame,
    indicators: pd.DataFrame,
    options: pd.DataFrame,
    min_answered_share: float = MIN_ANSWERED_SHARE,
) -> IndexResult:
    """Score MIPEX-L answers (see the module docstring for the rule).

    Parameters
    ----------
    answers
        Long format, one row per locality and indicator: ``locality_id``,
        ``indicator_id``, ``answer_code`` (empty or NA = not answered).
    indicators
        The catalogue: ``indicator_id``, ``area``, ``stage``.
    options
        ``indicator_id``, ``answer_code``, ``score`` (0-100).
    min_answered_share
        Smallest share of an area's (or stage's) indicators that must be answered for
        the area (stage) to get a score; otherwise the score is NaN and flagged. The
        overall score is the mean of the area scores and is NaN (flagged) unless every
        area has a score.

    Raises
    ------
    InputError
        Naming the rows: an answer code that is not among its indicator's options, an
        unknown indicator, a duplicate (locality, indicator) row, a locality lacking rows
        for some indicators (an unanswered item must be a row with an empty answer_code),
        and malformed catalogues (duplicate indicators or options, scores outside 0-100).

    The result does not depend on the order of rows or columns of the inputs: localities
    are sorted, indicators sorted by id, areas and stages in catalogue order.
    """
    if not (0 < float(min_answered_share) <= 1):
        raise InputError(f"min_answered_share must be in (0, 1], got {min_answered_share!r}.")
    require_columns(answers, ["locality_id", "indicator_id", "answer_code"], "answers")
    require_columns(indicators, ["indicator_id", "area", "stage"], "indicators")
    require_columns(options, ["indicator_id", "answer_code", "score"], "options")

    meta, areas, stages = _catalogue(indicators)
    ind_ids = list(meta.index)
    n_ind = len(ind_ids)
    ind_pos = pd.Index(ind_ids)
    opt_ind, opt_code, opt_scores = _options(options, ind_pos)
    loc_codes, localities, row_ind = _answer_cells(answers, ind_pos)
    values, missing = _answer_values(answers, options, row_ind, n_ind, opt_ind, opt_code, opt_scores)
    n_loc = len(localities)
    matrix = np.full((n_loc, n_ind), np.nan)
    ok = ~missing
    matrix[loc_codes[ok], row_ind[ok]] = values[ok]

    share = float(min_answered_share)
    a_member = _membership(meta["area"].to_numpy(dtype=object), areas)
    s_member = _membership(meta["stage"].to_numpy(dtype=object), stages)
    a_scores, a_flags, a_counts = _aggregate_rule(matrix, a_member, share)
    s_scores, s_flags, _ = _aggregate_rule(matrix, s_member, share)
    o_flag = a_flags.any(axis=1)
    overall = np.where(o_flag, np.nan, a_scores.mean(axis=1) if a_scores.shape[1] else np.nan)

    idx = pd.Index(localities, name="locality_id")
    area_cols = pd.Index(areas, name="area")
    stage_cols = pd.Index(stages, name="stage")
    return IndexResult(
        indicator_scores=pd.DataFrame(matrix, index=idx, columns=pd.Index(ind_ids, name="indicator_id")),
        area_scores=pd.DataFrame(a_scores, index=idx, columns=area_cols),
        area_flags=pd.DataFrame(a_flags, index=idx, columns=area_cols),
        stage_scores=pd.DataFrame(s_scores, index=idx, columns=stage_cols),
        stage_flags=pd.DataFrame(s_flags, index=idx, columns=stage_cols),
        overall=pd.Series(overall, index=idx, name="overall"),
        overall_flag=pd.Series(o_flag, index=idx, name="overall_flag"),
        indicators=meta,
        area_answered=pd.DataFrame(a_counts.astype(int), index=idx, columns=area_cols),
        min_answered_share=share,
    )


def from_package(min_answered_share: float = MIN_ANSWERED_SHARE) -> IndexResult:
    """Score the MIPEX-L answers of the data package in use."""
    from .. import data

    return score(
        data.load("mipex_l_answers"),
        data.load("mipex_l_indicators"),
        data.load("mipex_l_options"),
        min_answered_share=min_answered_share,
    )


def overall_scores() -> pd.Series:
    """Overall MIPEX-L score of every locality of the package (index locality_id, all
    localities; NaN for localities not assessed or whose overall score is missing by the rule)."""
    from .. import data

    loc = data.load("localities")
    overall = from_package().overall
    out = overall.reindex(pd.Index(loc["locality_id"].astype(str), name="locality_id"))
    return out.rename("overall")


def missing_summary(result: IndexResult) -> dict:
    """Counts describing missing answers and what the rule did with them."""
    ind = result.indicator_scores
    return {
        "n_assessed": len(result.localities),
        "n_indicators": ind.shape[1],
        "n_areas": len(result.areas),
        "n_stages": len(result.stages),
        "indicators_per_area_min": int(result.indicators["area"].value_counts().min()),
        "indicators_per_area_max": int(result.indicators["area"].value_counts().max()),
        "n_answers": int(ind.size),
        "n_unanswered": int(ind.isna().to_numpy().sum()),
        "pct_unanswered": 100 * float(ind.isna().to_numpy().mean()) if ind.size else float("nan"),
        "n_flagged_areas": int(result.area_flags.to_numpy().sum()),
        "n_flagged_stages": int(result.stage_flags.to_numpy().sum()),
        "n_without_overall": int(result.overall_flag.sum()),
        "without_overall": list(result.overall.index[result.overall_flag.to_numpy()]),
        "n_ranked": int(result.overall.notna().sum()),
        "min_answered_share": result.min_answered_share,
        "min_answered_share_text": str(Fraction(result.min_answered_share).limit_denominator(12)),
        "min_answered_per_area": int(
            np.ceil(result.min_answered_share * result.indicators["area"].value_counts().min() - _EPS)
        ),
    }


def overall_summary(result: IndexResult, countries: pd.Series | None = None) -> dict:
    """Range and mean of the overall scores of the ranked localities, with a 95% interval
    that stays within 0-100 (:func:`~wholecomm.index.intervals.bounded_mean_ci`). With ``countries`` (locality_id ->
    country) the interval is cluster-robust over countries with G - 1 degrees of freedom."""
    s = result.overall.dropna()
    if s.empty:
        raise InputError("No locality has an overall score.")
    clusters = None
    if countries is not None:
        clusters = countries.reindex(s.index)
        if clusters.isna().any():
            raise InputError(f"countries: no country for {list(s.index[clusters.isna().to_numpy()][:10])}.")
    ci = bounded_mean_ci(s.to_numpy(), None if clusters is None else clusters.to_numpy())
    return {
        "n": len(s),
        "min": float(s.min()),
        "max": float(s.max()),
        "min_id": str(first_min(s)),
        "max_id": str(first_max(s)),
        "mean": ci["mean"],
        "ci_low": ci["ci_low"],
        "ci_high": ci["ci_high"],
        "ci_method": ci["method"],
        "sd": float(s.std(ddof=1)),
        "n_clusters": int(clusters.nunique()) if clusters is not None else None,
    }


def town_countries(result: IndexResult, localities: pd.DataFrame | None = None) -> pd.Series:
    """Country of each assessed locality (index locality_id)."""
    from .. import data

    loc = data.load("localities") if localities is None else localities
    require_columns(loc, ["locality_id", "country"], "localities")
    c = loc.set_index(loc["locality_id"].astype(str))["country"].astype(str)
    missing = [i for i in result.localities if i not in c.index]
    if missing:
        raise InputError(f"localities: no row for the assessed localities {missing[:10]}.")
    return c.reindex(result.localities).rename("country")


# --------------------------------------------------------------------- ranking
def rank(scores: pd.Series) -> pd.DataFrame:
    """Rank localities: 1 = highest score; ties share the best rank ("min" method);
    missing (NaN) scores are not ranked (rank NA). Scores equal to ``TIE_DECIMALS``
    decimals are ties. Returns columns score, rank (Int64), tied (bool), sorted by rank."""
    if not isinstance(scores, pd.Series):
        raise TypeError(f"scores must be a pandas Series indexed by locality, got {type(scores).__name__}.")
    if scores.index.has_duplicates:
        dups = list(scores.index[scores.index.duplicated()].unique()[:10])
        raise InputError(f"scores: the index must be unique; duplicated: {dups}.")
    values = pd.to_numeric(scores, errors="raise").astype(float)
    if np.isinf(values).any():
        raise InputError(
            f"scores must be finite or NaN; infinite values at {list(values.index[np.isinf(values)][:10])}."
        )
    rounded = tie_round(values)
    ranks = rounded.rank(method="min", ascending=False, na_option="keep")
    tied = rounded.notna() & rounded.duplicated(keep=False)
    out = pd.DataFrame({"score": values, "rank": ranks.astype("Int64"), "tied": tied.astype(bool)})
    out.index.name = scores.index.name or "locality_id"
    order = np.lexsort((np.asarray(out.index, dtype=str), ranks.fillna(np.inf).to_numpy()))
    return out.iloc[order]


def ranked_only(result: IndexResult) -> IndexResult:
    """The same scores restricted to the ranked towns (those with an overall score), for
    comparisons that leave the unranked towns out."""
    keep = result.overall.notna().to_numpy()
    return IndexResult(
        indicator_scores=result.indicator_scores[keep],
        area_scores=result.area_scores[keep],
        area_flags=result.area_flags[keep],
        stage_scores=result.stage_scores[keep],
        stage_flags=result.stage_flags[keep],
        overall=result.overall[keep],
        overall_flag=result.overall_flag[keep],
        indicators=result.indicators,
        area_answered=result.area_answered[keep],
        min_answered_share=result.min_answered_share,
    )
