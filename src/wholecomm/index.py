"""MIPEX-L: the local integration policy index (scoring, ranking, robustness, associations).

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
(:func:`monte_carlo`) imputes missing answers explicitly, as one of its perturbations.

Localities whose overall score is missing are not ranked (:func:`rank`), and the
Monte Carlo rank intervals are computed among the ranked localities only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

from . import paths
from .numerics import TIE_DECIMALS, first_max, first_min, spearman, tie_round
from .stats import WEBB, p_text, wild_cluster_bootstrap  # noqa: F401  (re-exported)
from .stats import cluster_codes as _cluster_codes
from .stats import ols_cluster as _ols_cluster


class _LazyStats:
    """``scipy.stats``, imported on first use: scoring alone (the toolbox's command) does
    not pay for importing it."""

    def __getattr__(self, name):
        from scipy import stats as _stats

        return getattr(_stats, name)


stats = _LazyStats()

#: Policy areas in catalogue order.
AREAS = [
    "governance_capacity",
    "labour_market",
    "education",
    "health",
    "housing",
    "language_orientation",
    "political_participation",
    "anti_discrimination",
    "intercultural_relations",
]
#: Policy-cycle stages in order.
STAGES = ["formulation", "output", "implementation", "evaluation"]
AREA_LABELS = {
    "governance_capacity": "Governance and capacity",
    "labour_market": "Labour market",
    "education": "Education",
    "health": "Health",
    "housing": "Housing",
    "language_orientation": "Language and orientation",
    "political_participation": "Political participation",
    "anti_discrimination": "Anti-discrimination",
    "intercultural_relations": "Intercultural relations",
}
STAGE_LABELS = {
    "formulation": "Policy formulation",
    "output": "Policy output",
    "implementation": "Implementation",
    "evaluation": "Evaluation",
}
#: The final policy brief's claim: these areas lead ...
LEAD_AREAS = ("language_orientation", "labour_market")
#: ... and these lag.
LAG_AREAS = ("political_participation", "anti_discrimination", "intercultural_relations")

MIN_ANSWERED_SHARE = 2 / 3
#: Seed of every random procedure of this module unless another is given.
DEFAULT_SEED = 1004714
#: Aggregation rules (see :func:`aggregate`).
RULES = ("area", "indicator", "geometric")
_EPS = 1e-9


# ------------------------------------------------------------------ validation
def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the required column(s) {missing}; it has {list(frame.columns)}.")


def _rows_text(frame: pd.DataFrame, mask: np.ndarray, columns: Sequence[str], limit: int = 10) -> str:
    bad = frame.loc[np.asarray(mask, dtype=bool), list(columns)]
    shown = "; ".join(
        f"row {idx!r}: " + ", ".join(f"{c}={row[c]!r}" for c in columns)
        for idx, row in bad.head(limit).iterrows()
    )
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return f"{shown}{more} ({len(bad)} row{'s' if len(bad) != 1 else ''} in all)"


def _blank(series: pd.Series) -> np.ndarray:
    """True where a text cell is missing (NA) or empty."""
    values = series.astype(object)
    return (
        (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()
        if len(values)
        else np.zeros(0, bool)
    )


def _ordered(values: Iterable[str], known: Sequence[str], categories=None) -> list[str]:
    """A deterministic order: the categorical order, else the known order, else sorted."""
    present = list(dict.fromkeys(str(v) for v in values))
    if categories is not None:
        return [str(c) for c in categories if str(c) in present]
    if set(present) <= set(known):
        return [k for k in known if k in present]
    return sorted(present)


def _factor(series: pd.Series, sort: bool = False) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 = missing) and the distinct values as text, fast for large columns.

    Categorical columns use their codes (unused categories are dropped); other columns
    are hashed as Python objects. With ``sort`` the values are in sorted order."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy().astype(np.intp)
        cats = [str(c) for c in series.cat.categories]
        used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(cats)) > 0)
        remap = np.full(len(cats) + 1, -1, dtype=np.intp)
        remap[used] = np.arange(used.size)
        codes = remap[codes]  # -1 stays -1 (last entry)
        uniques = [cats[i] for i in used]
    else:
        codes, raw = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
        codes = codes.astype(np.intp)
        uniques = [str(u) for u in raw]
    if len(set(uniques)) != len(uniques):  # distinct objects with the same text, e.g. 1 and "1"
        merged = {u: k for k, u in enumerate(sorted(set(uniques)))}
        remap = np.array([merged[u] for u in uniques] + [-1], dtype=np.intp)
        codes, uniques = remap[codes], sorted(set(uniques))
    if sort and uniques:
        order = np.argsort(np.asarray(uniques, dtype=object), kind="stable")
        rank_of = np.empty(len(order) + 1, dtype=np.intp)
        rank_of[order] = np.arange(len(order))
        rank_of[-1] = -1
        codes, uniques = rank_of[codes], [uniques[i] for i in order]
    return codes, uniques


def _categories(series: pd.Series):
    return series.cat.categories if isinstance(series.dtype, pd.CategoricalDtype) else None


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
    ValueError
        Naming the rows: an answer code that is not among its indicator's options, an
        unknown indicator, a duplicate (locality, indicator) row, a locality lacking rows
        for some indicators (an unanswered item must be a row with an empty answer_code),
        and malformed catalogues (duplicate indicators or options, scores outside 0-100).

    The result does not depend on the order of rows or columns of the inputs: localities
    are sorted, indicators sorted by id, areas and stages in catalogue order.
    """
    if not (0 < float(min_answered_share) <= 1):
        raise ValueError(f"min_answered_share must be in (0, 1], got {min_answered_share!r}.")
    _require_columns(answers, ["locality_id", "indicator_id", "answer_code"], "answers")
    _require_columns(indicators, ["indicator_id", "area", "stage"], "indicators")
    _require_columns(options, ["indicator_id", "answer_code", "score"], "options")

    # -- the catalogue
    for col in ("indicator_id", "area", "stage"):
        blank = _blank(indicators[col])
        if blank.any():
            raise ValueError(
                f"indicators: column {col!r} must not be empty: {_rows_text(indicators, blank, [col])}."
            )
    ind_ids_in = indicators["indicator_id"].astype(str)
    dup = ind_ids_in.duplicated(keep=False).to_numpy()
    if dup.any():
        raise ValueError(
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
    areas = _ordered(meta["area"], AREAS, _categories(indicators["area"]))
    stages = _ordered(meta["stage"], STAGES, _categories(indicators["stage"]))
    n_ind = len(ind_ids)
    ind_pos = pd.Index(ind_ids)

    for col in ("indicator_id", "answer_code"):
        blank = _blank(options[col])
        if blank.any():
            raise ValueError(
                f"options: column {col!r} must not be empty: {_rows_text(options, blank, [col])}."
            )
    opt_scores = pd.to_numeric(options["score"], errors="coerce").astype(float).to_numpy()
    bad = ~np.isfinite(opt_scores) | (opt_scores < 0) | (opt_scores > 100)
    if bad.any():
        raise ValueError(
            "options: score must be a number from 0 to 100: "
            f"{_rows_text(options, bad, ['indicator_id', 'answer_code', 'score'])}."
        )
    opt_ind = ind_pos.get_indexer(options["indicator_id"].astype(str))
    if (opt_ind < 0).any():
        raise ValueError(
            "options: indicator_id must be in the indicator catalogue: "
            f"{_rows_text(options, opt_ind < 0, ['indicator_id', 'answer_code'])}."
        )
    opt_code = options["answer_code"].astype(str).to_numpy()
    dup = pd.DataFrame({"i": opt_ind, "c": opt_code}).duplicated(keep=False).to_numpy()
    if dup.any():
        raise ValueError(
            "options: each (indicator_id, answer_code) must appear once: "
            f"{_rows_text(options, dup, ['indicator_id', 'answer_code'])}."
        )

    # -- the answers
    loc_codes, localities = _factor(answers["locality_id"], sort=True)
    ans_ind_codes, ind_uniques = _factor(answers["indicator_id"])
    for col, codes in (("locality_id", loc_codes), ("indicator_id", ans_ind_codes)):
        if (codes < 0).any():
            raise ValueError(
                f"answers: column {col!r} must not be empty: {_rows_text(answers, codes < 0, [col])}."
            )
    uniq_pos = ind_pos.get_indexer(ind_uniques) if ind_uniques else np.zeros(0, dtype=np.intp)
    row_ind = uniq_pos[ans_ind_codes] if len(answers) else np.zeros(0, dtype=np.intp)
    if (row_ind < 0).any():
        raise ValueError(
            "answers: unknown indicator (not in the indicator catalogue): "
            f"{_rows_text(answers, row_ind < 0, ['locality_id', 'indicator_id'])}."
        )
    n_loc = len(localities)
    key = loc_codes.astype(np.int64) * n_ind + row_ind
    cell_counts = np.bincount(key, minlength=n_loc * n_ind)
    dup = cell_counts[key] > 1
    if dup.any():
        raise ValueError(
            "answers: each (locality_id, indicator_id) must appear once; duplicates: "
            f"{_rows_text(answers, dup, ['locality_id', 'indicator_id', 'answer_code'])}."
        )
    counts = np.bincount(loc_codes, minlength=n_loc)
    short = np.flatnonzero(counts < n_ind)
    if short.size:
        shown = ", ".join(f"{localities[i]!r} ({n_ind - counts[i]} missing)" for i in short[:10])
        raise ValueError(
            f"answers: every locality must have one row for each of the {n_ind} indicators "
            f"(an unanswered item is a row with an empty answer_code); incomplete: {shown}"
            f"{' and more' if short.size > 10 else ''} ({short.size} localities in all)."
        )

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
        raise ValueError(
            "answers: answer_code must be one of the indicator's options (or empty = not answered): "
            f"{_rows_text(answers, invalid, ['locality_id', 'indicator_id', 'answer_code'])}. "
            f"Valid codes for {first}: {valid.get(first, 'none')}."
        )

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
    from . import data

    return score(
        data.load("mipex_l_answers"),
        data.load("mipex_l_indicators"),
        data.load("mipex_l_options"),
        min_answered_share=min_answered_share,
    )


def overall_scores() -> pd.Series:
    """Overall MIPEX-L score of every locality of the package (index locality_id, all
    localities; NaN for localities not assessed or whose overall score is missing by the rule)."""
    from . import data

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
    that stays within 0-100 (:func:`bounded_mean_ci`). With ``countries`` (locality_id ->
    country) the interval is cluster-robust over countries with G - 1 degrees of freedom."""
    s = result.overall.dropna()
    if s.empty:
        raise ValueError("No locality has an overall score.")
    clusters = None
    if countries is not None:
        clusters = countries.reindex(s.index)
        if clusters.isna().any():
            raise ValueError(f"countries: no country for {list(s.index[clusters.isna().to_numpy()][:10])}.")
    ci = bounded_mean_ci(s.to_numpy(), None if clusters is None else clusters.to_numpy())
    return {
        "n": len(s),
        "min": float(s.min()),
        "max": float(s.max()),
        "min_id": str(first_min(s)),
        "max_id": str(first_max(s)),
        "mean": ci["mean"],
        "ci_lo": ci["ci_lo"],
        "ci_hi": ci["ci_hi"],
        "ci_method": ci["method"],
        "sd": float(s.std(ddof=1)),
        "n_clusters": int(clusters.nunique()) if clusters is not None else None,
    }


def town_countries(result: IndexResult, localities: pd.DataFrame | None = None) -> pd.Series:
    """Country of each assessed locality (index locality_id)."""
    from . import data

    loc = data.load("localities") if localities is None else localities
    _require_columns(loc, ["locality_id", "country"], "localities")
    c = loc.set_index(loc["locality_id"].astype(str))["country"].astype(str)
    missing = [i for i in result.localities if i not in c.index]
    if missing:
        raise ValueError(f"localities: no row for the assessed localities {missing[:10]}.")
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
        raise ValueError(f"scores: the index must be unique; duplicated: {dups}.")
    values = pd.to_numeric(scores, errors="raise").astype(float)
    if np.isinf(values).any():
        raise ValueError(
            f"scores must be finite or NaN; infinite values at {list(values.index[np.isinf(values)][:10])}."
        )
    rounded = tie_round(values)
    ranks = rounded.rank(method="min", ascending=False, na_option="keep")
    tied = rounded.notna() & rounded.duplicated(keep=False)
    out = pd.DataFrame({"score": values, "rank": ranks.astype("Int64"), "tied": tied.astype(bool)})
    out.index.name = scores.index.name or "locality_id"
    order = np.lexsort((np.asarray(out.index, dtype=str), ranks.fillna(np.inf).to_numpy()))
    return out.iloc[order]


# ---------------------------------------------------------------- aggregations
def _geometric(area: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted geometric mean of area scores, shifted by one point: exp(sum w log(s + 1)) - 1.

    The shift keeps a 0 area score finite (log 1 = 0): an area at 0 pulls the overall
    score down strongly but not to 0, which a plain geometric mean would do."""
    return np.exp(np.sum(weights * np.log1p(area), axis=-1)) - 1.0


def aggregate(result: IndexResult, rule: str = "area", weights: Sequence[float] | None = None) -> pd.Series:
    """Overall score under an aggregation rule.

    * ``"area"`` (the default of the index): weighted mean of area scores (equal weights
      unless ``weights`` are given, one per area, in ``result.areas`` order);
    * ``"indicator"``: mean of all answered indicators (each indicator weighs the same);
    * ``"geometric"``: weighted geometric mean of the area scores, each shifted by one
      point (see ``_geometric``; zero area scores stay finite).

    Every rule is computed for the same localities: those whose areas all meet the
    missing-data rule; the others are NaN.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}.")
    n_area = len(result.areas)
    w = np.full(n_area, 1.0 / n_area) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n_area,) or not np.all(np.isfinite(w)) or (w < 0).any() or not np.isclose(w.sum(), 1.0):
        raise ValueError(
            f"weights must be {n_area} non-negative numbers summing to 1 (one per area in "
            f"{result.areas}); got {weights!r}."
        )
    area = result.area_scores.to_numpy()
    if rule == "area":
        values = area @ w
    elif rule == "geometric":
        values = _geometric(area, w)
    else:
        ind = result.indicator_scores.to_numpy()
        answered = ~np.isnan(ind)
        counts = answered.sum(axis=1)
        values = np.where(
            counts > 0, np.where(answered, ind, 0.0).sum(axis=1) / np.maximum(counts, 1), np.nan
        )
    values = np.where(result.overall_flag.to_numpy(), np.nan, values)
    return pd.Series(values, index=result.overall.index, name=rule)


def alternative_aggregations(result: IndexResult) -> pd.DataFrame:
    """Overall scores under each rule of :data:`RULES` (columns), one row per locality."""
    return pd.concat([aggregate(result, rule) for rule in RULES], axis=1)


def aggregation_agreement(result: IndexResult) -> pd.DataFrame:
    """How far each alternative rule moves the ranking: Spearman rank correlation with the
    default ("area") scores and the largest change of rank, over the ranked localities."""
    alt = alternative_aggregations(result).dropna()
    base = rank(alt["area"])["rank"].reindex(alt.index).astype(float)
    rows = []
    for rule in RULES:
        r = rank(alt[rule])["rank"].reindex(alt.index).astype(float)
        rho = spearman(alt["area"], alt[rule])
        rows.append(
            {
                "rule": rule,
                "spearman_rho": float(rho),
                "max_rank_shift": int(np.abs(r - base).max()),
                "mean_rank_shift": float(np.abs(r - base).mean()),
                "n": len(alt),
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------- uncertainty analysis
#: The uncertain assumptions of the index (OECD/JRC handbook, COINr practice), in the
#: order of the columns of the unit-cube design (weights take one column per area).
FACTORS = ("weights", "aggregation", "imputation", "threshold", "middle")
FACTOR_LABELS = {
    "weights": "Area weights",
    "aggregation": "Aggregation rule",
    "imputation": "Imputation",
    "threshold": "Answered-share threshold",
    "middle": "Score of the middle answer",
}
#: Each area weight varies uniformly within +-25% of its nominal value (then all are rescaled to sum to 1).
WEIGHT_SPREAD = 0.25
#: Aggregation alternatives, equally likely.
AGGREGATIONS = ("arithmetic", "geometric", "leave_one_area_out")
#: The geometric mean adds a shift to every area score (a 0 would zero the product); the
#: shift is itself uncertain and drawn log-uniformly in this range (points).
GEOMETRIC_SHIFT = (0.1, 10.0)
#: Answered-share thresholds, equally likely (the nominal is MIN_ANSWERED_SHARE).
THRESHOLDS = (1 / 2, 2 / 3, 5 / 6)
#: The middle answer (nominally 50) scores uniformly within this range (points).
MIDDLE_RANGE = (25.0, 75.0)
#: Donors of the hot-deck imputation: the nearest towns that answered the indicator.
N_DONORS = 5
#: Hot-deck realisations drawn once per analysis; each draw uses one of them.
N_REALISATIONS = 100


@dataclass
class MonteCarloResult:
    """Rank distribution of each locality over the uncertainty factors of the index.

    ``ranks`` and ``scores``: draws x localities (ranks on scores rounded to
    ``TIE_DECIMALS``); ``factors``: the value of each factor in each draw (aggregation,
    geometric shift, left-out area, imputation, realisation, threshold, middle);
    ``weights``: the area weights of each draw; ``rules``: the aggregation of each draw;
    ``point``: the published scores; ``design``: the unit-cube inputs of the draws."""

    ranks: pd.DataFrame
    scores: pd.DataFrame
    rules: pd.Series
    weights: pd.DataFrame
    point: pd.Series
    seed: int
    n_imputed: int = 0
    settings: dict = field(default_factory=dict)
    factors: pd.DataFrame | None = None
    design: np.ndarray | None = None


def _as_result(result_or_inputs) -> IndexResult:
    if isinstance(result_or_inputs, IndexResult):
        return result_or_inputs
    if isinstance(result_or_inputs, dict):
        return score(result_or_inputs["answers"], result_or_inputs["indicators"], result_or_inputs["options"])
    if isinstance(result_or_inputs, (tuple, list)) and len(result_or_inputs) == 3:
        return score(*result_or_inputs)
    raise TypeError(
        "Pass an IndexResult, or (answers, indicators, options) as a tuple or a dict with those keys."
    )


def _check_factors(factors: Sequence[str]) -> list[str]:
    factors = list(factors)
    unknown = [f for f in factors if f not in FACTORS]
    if unknown or len(set(factors)) != len(factors):
        raise ValueError(f"factors must be distinct names from {FACTORS}; got {factors}.")
    return [f for f in FACTORS if f in factors]


def hot_deck_donors(result: IndexResult, n_donors: int = N_DONORS) -> dict[tuple[int, int], np.ndarray]:
    """Donor towns of each unanswered item: the ``n_donors`` towns nearest to the town
    that answered that indicator.

    Distance between two towns = mean absolute difference of their scores over the
    indicators both answered (towns with no indicator in common are farthest); ties in
    distance are broken by locality order. Keys are (town row, indicator column) of
    ``result.indicator_scores``; values the donor rows, nearest first."""
    x = result.indicator_scores.to_numpy()
    ans = ~np.isnan(x)
    filled = np.where(ans, x, 0.0)
    okf = ans.astype(float)
    both = okf @ okf.T
    # sum over common items of |a - b| = a + b - 2 min(a, b), and min(a, b) = sum over the
    # distinct score levels v_l of (v_l - v_(l-1)) [a >= v_l][b >= v_l]: matrix products
    # (exact for whole-number scores).
    levels = np.unique(x[ans])
    levels = levels[levels > 0]
    steps = np.diff(np.concatenate([[0.0], levels]))
    dist_sum = filled @ okf.T + okf @ filled.T
    for v, step in zip(levels, steps, strict=False):
        above = (ans & (x >= v)).astype(float)
        dist_sum -= 2 * step * (above @ above.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = np.where(both > 0, dist_sum / np.maximum(both, 1), np.inf)
    np.fill_diagonal(dist, np.inf)
    dist = np.round(dist, TIE_DECIMALS)
    donors = {}
    for i, j in np.argwhere(~ans):
        pool = np.flatnonzero(ans[:, j])
        pool = pool[pool != i]
        if pool.size == 0:
            raise ValueError(
                f"Cannot impute indicator {result.indicator_scores.columns[j]!r}: no other "
                "locality answered it."
            )
        order = np.lexsort((pool, dist[i, pool]))
        donors[(int(i), int(j))] = pool[order[:n_donors]]
    return donors


@dataclass
class _Prepared:
    ids: pd.Index
    areas: list[str]
    lo: np.ndarray  # towns x areas: sum of min(score, 50) over answered items
    hi: np.ndarray  # towns x areas: sum of max(score - 50, 0) over answered items
    n_obs: np.ndarray  # towns x areas: answered items
    share: np.ndarray  # towns x areas: answered share
    hole_lo: np.ndarray  # realisations x towns x areas
    hole_hi: np.ndarray
    hole_n: np.ndarray  # towns x areas: unanswered items
    nominal: np.ndarray  # unit-cube input of the nominal assumptions
    point: pd.Series
    n_holes: int


def _prepare(
    result: IndexResult, rng: np.random.Generator, n_realisations: int = N_REALISATIONS
) -> _Prepared:
    keep = result.overall.notna().to_numpy()
    if keep.sum() < 2:
        raise ValueError("The uncertainty analysis needs at least two localities with an overall score.")
    full = result.indicator_scores.to_numpy()
    areas = result.areas
    member = _membership(result.indicators["area"].to_numpy(dtype=object), areas)
    ans = ~np.isnan(full)
    lo = np.where(ans, np.minimum(full, 50.0), 0.0) @ member
    hi = np.where(ans, np.maximum(full - 50.0, 0.0), 0.0) @ member
    n_obs = ans.astype(float) @ member
    share = n_obs / member.sum(axis=0)[None, :]
    holes = np.argwhere(~ans)
    holes = holes[keep[holes[:, 0]]]
    donors = hot_deck_donors(result, n_donors=N_DONORS) if len(holes) else {}
    area_of = member.argmax(axis=1)
    n_all = full.shape[0]
    hole_lo = np.zeros((n_realisations, n_all, len(areas)))
    hole_hi = np.zeros_like(hole_lo)
    hole_n = np.zeros((n_all, len(areas)))
    for i, j in holes:
        pool = donors[(int(i), int(j))]
        values = full[pool[rng.integers(0, pool.size, size=n_realisations)], j]
        a = area_of[j]
        hole_lo[:, i, a] += np.minimum(values, 50.0)
        hole_hi[:, i, a] += np.maximum(values - 50.0, 0.0)
        hole_n[i, a] += 1
    k = len(areas)
    match = np.flatnonzero(np.isclose(np.asarray(THRESHOLDS), result.min_answered_share))
    if match.size != 1:
        raise ValueError(
            f"The uncertainty analysis varies the answered-share threshold around the published one, "
            f"which must be one of {[str(Fraction(t).limit_denominator(12)) for t in THRESHOLDS]}; "
            f"these scores use {result.min_answered_share!r}."
        )
    nominal = np.concatenate([np.full(k, 0.5), [0.0, 0.0, (match[0] + 0.5) / len(THRESHOLDS), 0.5]])
    return _Prepared(
        ids=pd.Index(np.asarray(result.overall.index)[keep], name="locality_id"),
        areas=areas,
        lo=lo[keep],
        hi=hi[keep],
        n_obs=n_obs[keep],
        share=share[keep],
        hole_lo=hole_lo[:, keep],
        hole_hi=hole_hi[:, keep],
        hole_n=hole_n[keep],
        nominal=nominal,
        point=result.overall[keep],
        n_holes=int(len(holes)),
    )


def _decode(u: np.ndarray, n_areas: int, n_realisations: int) -> dict[str, np.ndarray]:
    """Factor values from unit-cube inputs (one row per draw)."""
    w = (1.0 + WEIGHT_SPREAD * (2.0 * u[:, :n_areas] - 1.0)) / n_areas
    w = w / w.sum(axis=1, keepdims=True)
    ua, ui, ut, um = (np.clip(u[:, n_areas + c], 0.0, 1.0 - 1e-12) for c in range(4))
    agg = np.floor(ua * len(AGGREGATIONS)).astype(int)
    within = ua * len(AGGREGATIONS) - agg
    lo_s, hi_s = np.log10(GEOMETRIC_SHIFT[0]), np.log10(GEOMETRIC_SHIFT[1])
    shift = 10.0 ** (lo_s + within * (hi_s - lo_s))
    left_out = np.floor(within * n_areas).astype(int)
    hot = ui >= 0.5
    realisation = np.floor((ui * 2 - hot) * n_realisations).astype(int)
    threshold = np.asarray(THRESHOLDS)[np.floor(ut * len(THRESHOLDS)).astype(int)]
    middle = MIDDLE_RANGE[0] + um * (MIDDLE_RANGE[1] - MIDDLE_RANGE[0])
    return {
        "weights": w,
        "aggregation": agg,
        "shift": shift,
        "left_out": left_out,
        "hot_deck": hot,
        "realisation": realisation,
        "threshold": threshold,
        "middle": middle,
    }


def _evaluate(prep: _Prepared, u: np.ndarray) -> tuple[np.ndarray, dict]:
    """Overall scores (draws x towns) for unit-cube inputs ``u``.

    An area score is linear in the middle answer's score m: with c = m / 50 - 1 it is
    P + c Q, where P is the mean of the (possibly completed) answers and Q the mean of
    min(s, 50) - max(s - 50, 0). P and Q depend only on which cells are completed and by
    which hot-deck realisation, so draws are grouped by that and each group is
    aggregated with matrix products (arithmetic and leave-one-out) or elementwise
    (geometric)."""
    k = len(prep.areas)
    n_real = prep.hole_lo.shape[0]
    f = _decode(u, k, n_real)
    n_draws, n_loc = len(u), len(prep.ids)
    out = np.empty((n_draws, n_loc))
    with np.errstate(invalid="ignore", divide="ignore"):
        p0 = (prep.lo + prep.hi) / prep.n_obs
        q0 = (prep.lo - prep.hi) / prep.n_obs
        cnt1 = prep.n_obs + prep.hole_n
    c = f["middle"] / 50.0 - 1.0
    t_idx = np.abs(f["threshold"][:, None] - np.asarray(THRESHOLDS)[None, :]).argmin(axis=1)
    below = [prep.share < t - _EPS for t in THRESHOLDS]
    has_holes = [bool((b_ & (prep.hole_n > 0)).any()) for b_ in below]
    r = f["realisation"]
    # group key: hot-deck realisation, or (threshold, realisation) under the point rule
    key = np.where(f["hot_deck"], r, n_real * (1 + t_idx) + np.where(np.asarray(has_holes)[t_idx], r, 0))
    w_all = f["weights"]
    w_loo_all = w_all.copy()
    w_loo_all[np.arange(n_draws), f["left_out"]] = 0.0
    w_loo_all /= w_loo_all.sum(axis=1, keepdims=True)
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    for idx in np.split(order, bounds):
        g = int(key[idx[0]])
        rr = g % n_real
        p1 = (prep.lo + prep.hi + prep.hole_lo[rr] + prep.hole_hi[rr]) / cnt1
        q1 = (prep.lo - prep.hi + prep.hole_lo[rr] - prep.hole_hi[rr]) / cnt1
        if g < n_real:
            p, q = p1, q1
        else:
            mask = below[g // n_real - 1]
            p, q = np.where(mask, p1, p0), np.where(mask, q1, q0)
        agg = f["aggregation"][idx]
        for kind, weights in ((0, w_all), (2, w_loo_all)):
            sel = idx[agg == kind]
            if sel.size:
                w = weights[sel].T
                out[sel] = (p @ w + (q @ w) * c[sel][None, :]).T
        sel = idx[agg == 1]
        if sel.size:
            shift = f["shift"][sel][:, None, None]
            area = p[None] + c[sel][:, None, None] * q[None]
            out[sel] = np.exp(np.einsum("dla,da->dl", np.log(area + shift), w_all[sel])) - shift[:, :, 0]
    return out, f


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks within each draw (1 = best, ties share the best rank) on tie-rounded scores."""
    return stats.rankdata(-np.round(scores, TIE_DECIMALS), method="min", axis=1).astype(np.int32)


def _design(prep: _Prepared, u: np.ndarray, factors: list[str]) -> np.ndarray:
    """Hold the factors not in ``factors`` at their nominal value."""
    k = len(prep.areas)
    cols = {
        "weights": list(range(k)),
        "aggregation": [k],
        "imputation": [k + 1],
        "threshold": [k + 2],
        "middle": [k + 3],
    }
    fixed = [c for f in FACTORS if f not in factors for c in cols[f]]
    u = np.array(u, dtype=float)
    u[:, fixed] = prep.nominal[fixed]
    return u


def _mc_result(
    prep: _Prepared,
    u: np.ndarray,
    seed: int,
    settings: dict,
    scores: np.ndarray | None = None,
    ranks: np.ndarray | None = None,
) -> MonteCarloResult:
    f = _decode(u, len(prep.areas), prep.hole_lo.shape[0])
    if scores is None:
        scores = _evaluate(prep, u)[0]
    if ranks is None:
        ranks = _ranks(scores)
    draws = pd.RangeIndex(len(u), name="draw")
    agg = np.asarray(AGGREGATIONS, dtype=object)[f["aggregation"]]
    factors = pd.DataFrame(
        {
            "aggregation": agg,
            "geometric_shift": np.where(f["aggregation"] == 1, f["shift"], np.nan),
            "left_out_area": np.where(
                f["aggregation"] == 2, np.asarray(prep.areas, dtype=object)[f["left_out"]], None
            ),
            "imputation": np.where(f["hot_deck"], "hot_deck", "point_rule"),
            "realisation": f["realisation"],
            "threshold": f["threshold"],
            "middle": f["middle"],
        },
        index=draws,
    )
    return MonteCarloResult(
        ranks=pd.DataFrame(ranks, index=draws, columns=prep.ids),
        scores=pd.DataFrame(scores, index=draws, columns=prep.ids),
        rules=pd.Series(agg, index=draws, name="aggregation"),
        weights=pd.DataFrame(f["weights"], index=draws, columns=pd.Index(prep.areas, name="area")),
        point=prep.point,
        seed=int(seed),
        n_imputed=prep.n_holes,
        settings=settings,
        factors=factors,
        design=u,
    )


def monte_carlo(
    result_or_inputs, n_draws: int = 10_000, seed: int = DEFAULT_SEED, factors: Sequence[str] = FACTORS
) -> MonteCarloResult:
    """Uncertainty analysis of the ranking (OECD/JRC handbook; COINr's practice).

    Each draw sets every factor in ``factors`` independently (the others stay nominal):

    * **weights**: each area weight uniform within +-25% (:data:`WEIGHT_SPREAD`) of the
      nominal equal weight, then rescaled to sum to 1;
    * **aggregation** (equally likely): the arithmetic mean of the areas (nominal); a
      geometric mean of the shifted area scores, exp(sum w log(s + c)) - c, with the
      shift c log-uniform in 0.1-10 points (:data:`GEOMETRIC_SHIFT`); or the arithmetic
      mean leaving one area out (each area equally likely);
    * **imputation** (equally likely): the point rule (an area's unanswered items are
      left out, i.e. the area is the mean of the town's own answers in it: nominal), or a
      hot-deck: each unanswered item takes the answer of one of the
      :data:`N_DONORS` towns most similar to the town (:func:`hot_deck_donors`) that
      answered it, one of :data:`N_REALISATIONS` realisations drawn once;
    * **threshold**: answered-share threshold 1/2, 2/3 (nominal) or 5/6; an area
      answered below the threshold is completed by the hot-deck whatever the
      imputation factor (under the point rule it would have no score);
    * **middle**: the middle answer scores uniformly 25-75 points (nominal 50); other
      scores move piecewise linearly (0 and 100 stay).

    At the nominal values every town gets its published score. The ranked towns are
    those with a published overall score, in every draw; ranks (1 = best, ties share
    the best rank) are taken on scores rounded to ``TIE_DECIMALS``. Deterministic for a
    given ``seed``.
    """
    result = _as_result(result_or_inputs)
    if int(n_draws) < 1:
        raise ValueError(f"n_draws must be at least 1, got {n_draws!r}.")
    factors = _check_factors(factors)
    rng = np.random.default_rng(seed)
    prep = _prepare(result, rng)
    u = _design(prep, rng.random((int(n_draws), len(prep.areas) + 4)), factors)
    return _mc_result(prep, u, seed, {"n_draws": int(n_draws), "factors": factors, "design": "Monte Carlo"})


def factor_table() -> pd.DataFrame:
    """The uncertainty factors of :func:`monte_carlo`: nominal choice, alternatives and
    why they are plausible, built from the module's constants."""
    frac = ", ".join(str(Fraction(t).limit_denominator(12)) for t in THRESHOLDS)
    lo_w, hi_w = 1 - WEIGHT_SPREAD, 1 + WEIGHT_SPREAD
    return pd.DataFrame(
        [
            {
                "factor": "weights",
                "label": FACTOR_LABELS["weights"],
                "nominal": "equal weights",
                "alternatives": f"each weight uniform from {lo_w:.2f} to {hi_w:.2f} times nominal, rescaled to sum to 1",
                "why": "no area is known to matter more; the perturbation around the nominal weights of the OECD/JRC "
                "handbook and COINr",
            },
            {
                "factor": "aggregation",
                "label": FACTOR_LABELS["aggregation"],
                "nominal": "arithmetic mean of areas",
                "alternatives": f"geometric mean of area scores shifted by {GEOMETRIC_SHIFT[0]:g}-{GEOMETRIC_SHIFT[1]:g} "
                "points (log-uniform); arithmetic mean leaving one area out; each equally likely",
                "why": "the geometric mean lets a weak area pull the score down (less compensation); leaving an area "
                "out asks whether one area makes the ranking",
            },
            {
                "factor": "imputation",
                "label": FACTOR_LABELS["imputation"],
                "nominal": "point rule: an area is the mean of the town's own answers",
                "alternatives": f"hot-deck: each unanswered item takes the answer given to it by one of the {N_DONORS} "
                f"most similar towns that answered it ({N_REALISATIONS} realisations); equally likely",
                "why": "the point rule equals imputing the town's own area mean; the hot-deck respects how the town "
                "answered elsewhere",
            },
            {
                "factor": "threshold",
                "label": FACTOR_LABELS["threshold"],
                "nominal": str(Fraction(MIN_ANSWERED_SHARE).limit_denominator(12)),
                "alternatives": f"{frac}, equally likely; areas answered below the threshold are completed by the hot-deck",
                "why": "how many answers an area needs is a convention",
            },
            {
                "factor": "middle",
                "label": FACTOR_LABELS["middle"],
                "nominal": "50 points",
                "alternatives": f"uniform from {MIDDLE_RANGE[0]:g} to {MIDDLE_RANGE[1]:g} points (0 and 100 fixed)",
                "why": "the answers are ordered categories; their spacing is a convention",
            },
        ]
    )


def nominal_scores(result: IndexResult) -> pd.Series:
    """Scores of the ranked towns with every uncertainty factor at its nominal value
    (equal to the published overall scores; a check of the uncertainty model)."""
    prep = _prepare(result, np.random.default_rng(0), n_realisations=1)
    return pd.Series(_evaluate(prep, prep.nominal[None, :])[0][0], index=prep.ids, name="nominal")


def rank_intervals(mc: MonteCarloResult, level: float = 0.90) -> pd.DataFrame:
    """Per locality: point rank (published scores), median Monte Carlo rank and the central
    ``level`` interval of the Monte Carlo ranks (default 5th to 95th percentile; the
    lower bound rounds down and the upper bound up to whole ranks). ``point_inside``
    says whether the point rank lies in the interval. Sorted by point rank."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}.")
    ranks = np.sort(mc.ranks.to_numpy(), axis=0)  # one sort; quantiles are order statistics
    n = len(ranks)
    tail = (1 - level) / 2
    point = rank(mc.point)

    def quantile(q: float, method: str) -> np.ndarray:  # numpy's "lower"/"higher" quantiles
        h = (n - 1) * q
        return ranks[int(np.floor(h + 1e-9)) if method == "lower" else int(np.ceil(h - 1e-9))]

    h = (n - 1) * 0.5
    median = (ranks[int(np.floor(h))] + ranks[int(np.ceil(h))]) / 2.0
    out = pd.DataFrame(
        {
            "score": mc.point,
            "rank": point["rank"].reindex(mc.point.index),
            "tied": point["tied"].reindex(mc.point.index),
            "rank_median": median,
            "rank_lo": quantile(tail, "lower").astype(int),
            "rank_hi": quantile(1 - tail, "higher").astype(int),
        },
        index=mc.point.index,
    )
    out["point_inside"] = (out["rank"] >= out["rank_lo"]) & (out["rank"] <= out["rank_hi"])
    out["point_inside"] = out["point_inside"].astype(bool)
    order = np.lexsort((np.asarray(out.index, dtype=str), out["rank"].astype(float).to_numpy()))
    return out.iloc[order]


def rank_interval_summary(intervals: pd.DataFrame) -> dict:
    """Widths of the Monte Carlo rank intervals (``rank_hi - rank_lo + 1`` ranks)."""
    width = (intervals["rank_hi"] - intervals["rank_lo"] + 1).astype(int)
    return {
        "n": len(intervals),
        "median_width": float(width.median()),
        "max_width": int(width.max()),
        "min_width": int(width.min()),
        "all_point_inside": bool(intervals["point_inside"].all()),
        "n_point_outside": int((~intervals["point_inside"]).sum()),
        "widest_id": str(width.idxmax()),
    }


def monte_carlo_error(mc: MonteCarloResult, level: float = 0.90, confidence: float = 0.95) -> pd.DataFrame:
    """Monte Carlo error of the rank summaries, per locality.

    ``mean_rank_se``: standard error of the mean rank (sd / sqrt(draws)); ``lo_min``,
    ``lo_max`` (``hi_min``, ``hi_max``): the distribution-free ``confidence`` interval of
    the lower (upper) endpoint of the ``level`` rank interval, from the order statistics
    of the draws (binomial normal approximation); ``endpoint_settled`` is True when both
    endpoint intervals hold a single rank, i.e. more draws would not move the endpoints.
    ``attrs``: n_draws, max_mean_rank_se, n_unsettled."""
    ranks = np.sort(mc.ranks.to_numpy(), axis=0)
    n = ranks.shape[0]
    z = stats.norm.ppf(0.5 + confidence / 2)
    tail = (1 - level) / 2

    def order_stat(q: float, side: int) -> np.ndarray:
        k = n * q + side * z * np.sqrt(n * q * (1 - q))
        idx = int(np.clip(np.floor(k) if side < 0 else np.ceil(k), 0, n - 1))
        return ranks[idx]

    out = pd.DataFrame(
        {
            "mean_rank": ranks.mean(axis=0),
            "mean_rank_se": ranks.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.nan,
            "lo_min": order_stat(tail, -1),
            "lo_max": order_stat(tail, +1),
            "hi_min": order_stat(1 - tail, -1),
            "hi_max": order_stat(1 - tail, +1),
        },
        index=mc.ranks.columns,
    )
    out["endpoint_settled"] = (out["lo_min"] == out["lo_max"]) & (out["hi_min"] == out["hi_max"])
    out.attrs.update(
        {
            "n_draws": n,
            "max_mean_rank_se": float(out["mean_rank_se"].max()),
            "n_unsettled": int((~out["endpoint_settled"]).sum()),
        }
    )
    return out


# ----------------------------------------------------------- pairwise order
def pairwise_order(mc: MonteCarloResult) -> pd.DataFrame:
    """P(row town ranks above column town): the share of the joint draws in which the
    row town has a strictly better (smaller) rank. ``P[i, j] + P[j, i]`` is below 1 by
    the share of draws in which the two are tied. Rows and columns in point-rank order."""
    ranks = mc.ranks.to_numpy()
    order = rank(mc.point).index
    pos = mc.ranks.columns.get_indexer(order)
    r = ranks[:, pos]
    n = r.shape[1]
    p = np.empty((n, n))
    for i in range(n):
        p[i] = (r[:, [i]] < r).mean(axis=0)
    return pd.DataFrame(p, index=pd.Index(order, name="locality_id"), columns=pd.Index(order, name="below"))


def firm_order(
    mc: MonteCarloResult, pairwise: pd.DataFrame | None = None, firm: float = 0.95, level: float = 0.90
) -> tuple[pd.DataFrame, dict]:
    """Per town: the number of towns it ranks above (below) in at least ``firm`` of the
    draws; and a summary of the pairs whose ``level`` rank intervals overlap: how many
    of them still keep one order in at least ``firm`` of the draws."""
    p = pairwise_order(mc) if pairwise is None else pairwise
    values = p.to_numpy()
    per = pd.DataFrame(
        {"firmly_above": (values >= firm).sum(axis=1), "firmly_below": (values.T >= firm).sum(axis=1)},
        index=p.index,
    )
    ri = rank_intervals(mc, level).reindex(p.index)
    lo, hi = ri["rank_lo"].to_numpy(), ri["rank_hi"].to_numpy()
    iu = np.triu_indices(len(p), k=1)
    overlap = (lo[iu[0]] <= hi[iu[1]]) & (lo[iu[1]] <= hi[iu[0]])
    firm_pair = (values[iu] >= firm) | (values.T[iu] >= firm)
    summary = {
        "n_pairs": int(len(iu[0])),
        "n_firm": int(firm_pair.sum()),
        "n_overlap": int(overlap.sum()),
        "n_overlap_firm": int((overlap & firm_pair).sum()),
        "firm": firm,
        "level": level,
        "max_pair_se": float(np.sqrt(values * (1 - values) / len(mc.ranks)).max()),
    }
    return per, summary


# ---------------------------------------------------------- Sobol sensitivity
@dataclass
class SensitivityResult:
    """First-order and total Sobol indices of each factor on each output.

    ``indices``: output, factor, label, S1, S1_lo, S1_hi, ST, ST_lo, ST_hi (bootstrap
    percentile intervals); ``mc``: the draws of the design (its rows follow Saltelli's
    scheme, so they are not independent draws); ``n_base``: the base sample size N."""

    indices: pd.DataFrame
    mc: MonteCarloResult
    n_base: int
    factors: list
    outputs: list


MEAN_SHIFT = "mean_abs_rank_shift"


def _sobol_resamples(a: np.ndarray, ab: np.ndarray, b: np.ndarray, counts: np.ndarray):
    """SALib's first-order and total estimators on bootstrap resamples of the base rows,
    given as multiplicities (``counts``: resamples x base rows). Equal to
    ``first_order(A[r], AB[r], B[r])`` and ``total_order(...)`` for the resample ``r``
    with those multiplicities, computed as matrix products of the counts with per-row
    terms instead of gathering every resample (same values, far faster)."""
    n = counts.shape[1]
    mean_y = counts @ (a + b) / (2 * n)
    var = counts @ (a * a + b * b) / (2 * n) - mean_y**2
    eps = np.finfo(float).eps
    ok = var > eps
    safe = np.where(ok, var, 1.0)
    s1 = np.where(ok, (counts @ (b * (ab - a)) / n) / safe, 0.0)
    st = np.where(ok, (0.5 * counts @ ((a - ab) ** 2) / n) / safe, 0.0)
    return s1, st


def sobol_indices(
    model,
    problem: dict,
    n_base: int = 2048,
    seed: int = DEFAULT_SEED,
    num_resamples: int = 200,
    level: float = 0.95,
):
    """First-order and total Sobol indices of a vector function ``model(X) -> Y`` (rows of
    X = draws, columns = the inputs of ``problem`` in SALib's form, optionally with
    ``groups``; Y = draws, or draws x outputs).

    Design: Saltelli's scheme on a scrambled Sobol sequence (SALib ``sample.sobol``,
    ``n_base * (factors + 2)`` rows). Estimators: SALib's (Saltelli et al. 2010 first
    order, Jansen total), applied to every output at once on the standardised output.
    Intervals: percentile bootstrap over the ``n_base`` base rows (``num_resamples``
    resamples, ``level``), the resampling SALib uses (``_sobol_resamples``).

    Returns (indices, X, Y): ``indices`` a tidy frame with output (column number of Y),
    factor, S1, S1_lo, S1_hi, ST, ST_lo, ST_hi."""
    import warnings

    from SALib.analyze.sobol import first_order, total_order
    from SALib.sample import sobol as sobol_sample

    if n_base < 2 or n_base & (n_base - 1):
        raise ValueError(f"n_base must be a power of 2 (Sobol sequence), got {n_base!r}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}.")
    x = sobol_sample.sample(problem, n_base, calc_second_order=False, scramble=True, seed=seed)
    y = np.asarray(model(x), dtype=float)
    y2 = y.reshape(len(x), -1)
    names = list(dict.fromkeys(problem.get("groups") or problem["names"]))
    d = len(names)
    sd = y2.std(axis=0)
    z = np.where(sd > 0, (y2 - y2.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)
    z = z.reshape(n_base, d + 2, -1)
    a_, b_ = z[:, 0], z[:, d + 1]
    rng = np.random.default_rng(seed)
    r = rng.integers(0, n_base, size=(num_resamples, n_base))
    tail = 100 * (1 - level) / 2
    est = {key: np.zeros((d, z.shape[2])) for key in ("S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi")}
    counts = (
        np.bincount(
            (r + n_base * np.arange(num_resamples)[:, None]).ravel(), minlength=num_resamples * n_base
        )
        .reshape(num_resamples, n_base)
        .astype(float)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # constant outputs: SALib returns 0 and warns
        for j in range(d):
            est["S1"][j] = first_order(a_, z[:, 1 + j], b_)
            est["ST"][j] = total_order(a_, z[:, 1 + j], b_)
            s1, st = _sobol_resamples(a_, z[:, 1 + j], b_, counts)
            est["S1_lo"][j], est["S1_hi"][j] = np.percentile(s1, [tail, 100 - tail], axis=0)
            est["ST_lo"][j], est["ST_hi"][j] = np.percentile(st, [tail, 100 - tail], axis=0)
    rows = [
        {"output": c, "factor": name, **{key: float(v[k, c]) for key, v in est.items()}}
        for c in range(z.shape[2])
        for k, name in enumerate(names)
    ]
    return pd.DataFrame(rows), x, y


def sensitivity(
    result_or_inputs,
    n_base: int = 2048,
    seed: int = DEFAULT_SEED,
    factors: Sequence[str] = FACTORS,
    num_resamples: int = 200,
    level: float = 0.95,
) -> SensitivityResult:
    """Variance-based (Sobol) sensitivity of the ranking to the factors of :func:`monte_carlo`.

    The factors are grouped (the area weights form one group), sampled with Saltelli's
    design of ``n_base * (factors + 2)`` draws, and each output is analysed with SALib:
    every ranked town's rank, and the mean absolute rank shift (mean over towns of
    ``|draw rank - published rank|``). First-order index S1: the share of the output's
    variance due to the factor alone; total index ST: including its interactions.
    Intervals: bootstrap percentiles over the base samples (``level``)."""
    result = _as_result(result_or_inputs)
    factors = _check_factors(factors)
    if not factors:
        raise ValueError("The sensitivity analysis needs at least one factor.")
    rng = np.random.default_rng(seed)
    prep = _prepare(result, rng)
    k = len(prep.areas)
    names = [f"w_{a}" for a in prep.areas] + ["aggregation", "imputation", "threshold", "middle"]
    groups = ["weights"] * k + ["aggregation", "imputation", "threshold", "middle"]
    use = [c for c, g in enumerate(groups) if g in factors]
    problem = {
        "num_vars": len(use),
        "names": [names[c] for c in use],
        "bounds": [[0.0, 1.0]] * len(use),
        "groups": [groups[c] for c in use],
    }
    point_rank = rank(prep.point)["rank"].reindex(prep.ids).to_numpy(dtype=float)
    store = {}

    def model(x: np.ndarray) -> np.ndarray:
        u = np.tile(prep.nominal, (len(x), 1))
        u[:, use] = x
        store["u"] = u
        scores, _ = _evaluate(prep, u)
        ranks = _ranks(scores)
        store["scores"], store["ranks"] = scores, ranks
        return np.column_stack([ranks, np.abs(ranks - point_rank[None, :]).mean(axis=1)])

    idx, _, y = sobol_indices(
        model, problem, n_base=n_base, seed=seed, num_resamples=num_resamples, level=level
    )
    outputs = list(prep.ids) + [MEAN_SHIFT]
    idx["output"] = np.asarray(outputs, dtype=object)[idx["output"].to_numpy()]
    idx.insert(2, "label", idx["factor"].map(FACTOR_LABELS))
    mc = _mc_result(
        prep,
        store["u"],
        seed,
        {"n_draws": len(store["u"]), "factors": factors, "design": "Saltelli", "n_base": n_base},
        scores=store["scores"],
        ranks=store["ranks"],
    )
    return SensitivityResult(indices=idx, mc=mc, n_base=n_base, factors=factors, outputs=outputs)


def sensitivity_summary(sa: SensitivityResult) -> pd.DataFrame:
    """Per factor: its Sobol indices on the mean absolute rank shift (with intervals), and
    the median over towns of its first-order and total indices on the town's rank;
    sorted by the total index on the mean shift (tie-rounded), largest first."""
    idx = sa.indices
    shift = idx[idx["output"] == MEAN_SHIFT].set_index("factor")
    towns = idx[idx["output"] != MEAN_SHIFT].groupby("factor")[["S1", "ST"]].median()
    out = shift[["label", "S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"]].join(
        towns.rename(columns={"S1": "town_S1_median", "ST": "town_ST_median"})
    )
    out["_key"] = out["ST"].round(6)
    out = out.sort_values(["_key", "label"], ascending=[False, True], kind="stable").drop(columns="_key")
    return out.reset_index()


def town_drivers(sa: SensitivityResult) -> pd.DataFrame:
    """Per ranked town whose rank varies: the assumption with the largest total Sobol
    index on its rank (indices rounded to 6 decimals; ties go to the factor order of
    :data:`FACTORS`), with that index. Towns whose rank never changes are left out."""
    idx = sa.indices[sa.indices["output"] != MEAN_SHIFT].copy()
    varies = idx.groupby("output")["ST"].transform(lambda v: (v.abs() > 0).any())
    idx = idx[varies.astype(bool)]
    idx["_key"] = -idx["ST"].round(6)
    idx["_order"] = idx["factor"].map({f: k for k, f in enumerate(FACTORS)})
    top = idx.sort_values(["output", "_key", "_order"], kind="stable").groupby("output", sort=False).head(1)
    return (
        top[["output", "factor", "label", "ST"]]
        .rename(columns={"output": "locality_id"})
        .reset_index(drop=True)
    )


def sensitivity_verdict(summary: pd.DataFrame) -> str:
    """One sentence naming the assumption that drives the rank uncertainty, from the
    total Sobol indices on the mean absolute rank shift and their intervals."""
    top = summary.iloc[0]
    lead = str(top["label"]).lower()
    verb = "matter" if top["factor"] == "weights" else "matters"
    if len(summary) == 1:
        return f"The {lead} {verb} for the rank uncertainty: it is the only assumption varied."
    nxt = summary.iloc[1]
    if top["ST_lo"] > nxt["ST_hi"]:
        return (
            f"Of the assumptions varied, the {lead} {verb} most for the rank uncertainty: its total "
            f"Sobol index is the largest, and its interval lies above that of the next assumption "
            f"({str(nxt['label']).lower()})."
        )
    return (
        f"The {lead} and the {str(nxt['label']).lower()} matter most for the rank uncertainty: their total "
        "Sobol indices are the largest, and their intervals overlap, so these draws do not say which of "
        "the two matters more."
    )


# ------------------------------------------------------------------ reliability
def cronbach_alpha(items: pd.DataFrame, missing: str = "complete") -> float:
    """Cronbach's alpha of ``items`` (rows = localities, columns = indicators of one area).

    alpha = k / (k - 1) * (1 - sum of item variances / variance of the total), with
    sample variances (ddof = 1). Rule for missing values: ``"complete"`` uses complete
    cases only (rows with any missing item are left out); ``"pairwise"`` uses every row,
    each variance and covariance on the rows where both items are answered (the total's
    variance is the sum of the item covariance matrix). Returns NaN when the total score
    does not vary. Raises ValueError for fewer than 2 items or 2 complete rows
    (``"complete"``) or an item pair answered together fewer than 2 times (``"pairwise"``),
    or non-numeric items.
    """
    if not isinstance(items, pd.DataFrame):
        raise TypeError(
            f"items must be a DataFrame (rows = localities, columns = items), got {type(items).__name__}."
        )
    if missing not in ("complete", "pairwise"):
        raise ValueError(f"missing must be 'complete' or 'pairwise', got {missing!r}.")
    if items.shape[1] < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 items (columns); got {items.shape[1]}.")
    nonnum = [c for c in items.columns if not pd.api.types.is_numeric_dtype(items[c])]
    if nonnum:
        raise ValueError(f"items must be numeric; non-numeric columns: {nonnum}.")
    if missing == "pairwise":
        cov = _pairwise_cov(items.astype(float).to_numpy()[None])[0]
        if np.isnan(cov).any():
            raise ValueError(
                "Cronbach's alpha (pairwise) needs every pair of items answered together at least twice."
            )
        return _alpha_from_cov(cov[None])[0]
    x = items.astype(float).dropna().to_numpy()
    if x.shape[0] < 2:
        raise ValueError(f"Cronbach's alpha needs at least 2 complete rows; got {x.shape[0]}.")
    k = x.shape[1]
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var))


def _pairwise_cov(x: np.ndarray) -> np.ndarray:
    """Pairwise-complete sample covariance matrices of a stack of data sets (b x n x k)."""
    ok = ~np.isnan(x)
    v = np.where(ok, x, 0.0)
    m = ok.astype(float)
    n_ij = np.einsum("bni,bnj->bij", m, m)
    s_i = np.einsum("bni,bnj->bij", v, m)  # sum of x_i over rows where j is answered too
    s_ij = np.einsum("bni,bnj->bij", v, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (s_ij - s_i * np.swapaxes(s_i, 1, 2) / n_ij) / (n_ij - 1)
    return np.where(n_ij >= 2, cov, np.nan)


def _alpha_from_cov(cov: np.ndarray) -> np.ndarray:
    k = cov.shape[-1]
    total = cov.sum(axis=(1, 2))
    trace = np.trace(cov, axis1=1, axis2=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, k / (k - 1) * (1 - trace / total), np.nan)


def alpha_by_area(
    result: IndexResult, n_boot: int = 2000, seed: int = DEFAULT_SEED, level: float = 0.95
) -> pd.DataFrame:
    """Cronbach's alpha of each area's indicators across all assessed localities.

    Every town enters (pairwise-complete covariances, :func:`cronbach_alpha` with
    ``missing="pairwise"``); the interval is a percentile bootstrap over towns
    (``n_boot`` resamples). ``alpha_complete`` is the complete-case alpha for comparison
    and ``complete_localities`` its number of towns. Alpha assumes reflective indicators
    (items that measure one underlying trait); policy indicators are formative (each is
    a distinct measure that defines the area), so a low alpha does not make an area score
    wrong: it says the area's measures are not interchangeable."""
    rng = np.random.default_rng(seed)
    tail = 100 * (1 - level) / 2
    rows = []
    n = len(result.localities)
    boot = rng.integers(0, n, size=(n_boot, n))
    for area in result.areas:
        cols = result.indicators.index[result.indicators["area"] == area]
        items = result.indicator_scores[cols]
        x = items.to_numpy()
        complete = int(items.notna().all(axis=1).sum())
        alpha_c = cronbach_alpha(items) if complete >= 2 and len(cols) >= 2 else float("nan")
        alpha = float(_alpha_from_cov(_pairwise_cov(x[None]))[0]) if len(cols) >= 2 else float("nan")
        draws = _alpha_from_cov(_pairwise_cov(x[boot])) if len(cols) >= 2 else np.full(n_boot, np.nan)
        lo, hi = np.nanpercentile(draws, [tail, 100 - tail]) if np.isfinite(draws).any() else (np.nan, np.nan)
        rows.append(
            {
                "area": area,
                "label": AREA_LABELS.get(area, area),
                "indicators": len(cols),
                "localities": int(items.notna().any(axis=1).sum()),
                "alpha": alpha,
                "ci_lo": float(lo),
                "ci_hi": float(hi),
                "complete_localities": complete,
                "alpha_complete": alpha_c,
            }
        )
    return pd.DataFrame(rows)


def area_correlations(result: IndexResult, method: str = "pearson", labels: bool = False) -> pd.DataFrame:
    """Correlations between area scores across localities (pairwise complete)."""
    corr = result.area_scores.corr(method=method)
    return corr.rename(index=AREA_LABELS, columns=AREA_LABELS) if labels else corr


def correlation_summary(corr: pd.DataFrame) -> dict:
    """Smallest, median and largest correlation between two different areas."""
    values = corr.to_numpy()[np.triu_indices(len(corr), k=1)]
    return {
        "min": float(np.nanmin(values)),
        "median": float(np.nanmedian(values)),
        "max": float(np.nanmax(values)),
    }


def principal_components(result: IndexResult) -> pd.DataFrame:
    """Principal components of the area scores of the ranked towns (correlation matrix):
    component, eigenvalue, share of variance, cumulative share, and the loadings of each
    area (columns named by area; the sign makes the loadings sum to a positive number).
    ``attrs["n_above_one"]``: components with an eigenvalue above 1 (Kaiser rule)."""
    x = result.area_scores[result.overall.notna()].to_numpy()
    if len(x) < 3:
        raise ValueError("Principal components need at least three ranked towns.")
    corr = np.corrcoef(x, rowvar=False)
    values, vectors = np.linalg.eigh(corr)
    order = np.argsort(-np.round(values, TIE_DECIMALS), kind="stable")
    values, vectors = values[order], vectors[:, order]
    vectors = vectors * np.where(vectors.sum(axis=0) < 0, -1.0, 1.0)
    out = pd.DataFrame(vectors.T, columns=result.areas)
    out.insert(0, "component", np.arange(1, len(values) + 1))
    out.insert(1, "eigenvalue", values)
    out.insert(2, "share", values / values.sum())
    out.insert(3, "cumulative_share", np.cumsum(values) / values.sum())
    out.attrs["n_above_one"] = int((np.round(values, TIE_DECIMALS) > 1).sum())
    out.attrs["n"] = len(x)
    return out


def area_index_correlations(result: IndexResult) -> pd.DataFrame:
    """How much each area actually drives the overall score (COINr's check of
    "effective weights"): Pearson r of the area with the overall score, r with the
    mean of the other areas (area-rest), and the area's share of the squared
    correlations (r^2 / sum r^2), beside its nominal weight. Ranked towns only."""
    a = result.area_scores[result.overall.notna()]
    overall = result.overall.dropna()
    rows = []
    for area in a.columns:
        rest = a.drop(columns=area).mean(axis=1)
        rows.append(
            {
                "area": area,
                "label": AREA_LABELS.get(area, area),
                "r_index": float(np.corrcoef(a[area], overall)[0, 1]),
                "r_rest": float(np.corrcoef(a[area], rest)[0, 1]),
            }
        )
    out = pd.DataFrame(rows)
    r2 = out["r_index"] ** 2
    out["effective_share"] = r2 / r2.sum()
    out["nominal_weight"] = 1.0 / len(out)
    return out


def item_rest_correlations(result: IndexResult) -> pd.DataFrame:
    """Item-rest correlation of each indicator: Pearson r between the indicator and the
    mean of the other answered indicators of its area, over the towns that answered the
    indicator and at least one other of its area. NaN when either side does not vary."""
    rows = []
    x = result.indicator_scores
    for area in result.areas:
        cols = list(result.indicators.index[result.indicators["area"] == area])
        for col in cols:
            rest = x[[c for c in cols if c != col]].mean(axis=1)
            ok = x[col].notna() & rest.notna()
            a, b = x.loc[ok, col].to_numpy(), rest[ok].to_numpy()
            r = (
                float(np.corrcoef(a, b)[0, 1])
                if ok.sum() > 2 and a.std() > 0 and b.std() > 0
                else float("nan")
            )
            rows.append(
                {
                    "indicator_id": col,
                    "area": area,
                    "label": AREA_LABELS.get(area, area),
                    "n": int(ok.sum()),
                    "r_rest": r,
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------ country-aware inference
def bounded_mean_ci(
    values, clusters=None, level: float = 0.95, lower: float = 0.0, upper: float = 100.0
) -> dict:
    """Mean of scores bounded by ``lower``-``upper`` with an interval that stays inside
    the scale by construction: a t interval on the logit of the rescaled mean (delta
    method), transformed back.

    Without ``clusters`` the standard error is the usual one with n - 1 degrees of
    freedom. With ``clusters`` (e.g. the country of each town) it is cluster-robust
    (CR1: sum over clusters of the squared sums of deviations, times G / (G - 1)) with
    G - 1 degrees of freedom, so towns of one country count as correlated. A mean at a
    bound, or without spread, gets the degenerate interval [mean, mean]."""
    y = np.asarray(values, dtype=float)
    if y.size == 0 or np.isnan(y).any():
        raise ValueError("bounded_mean_ci needs at least one value and no missing values.")
    if (y < lower).any() or (y > upper).any():
        raise ValueError(f"bounded_mean_ci: values must lie in [{lower}, {upper}].")
    n, mean = y.size, float(y.mean())
    if clusters is None:
        df = n - 1
        se = float(y.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        method = f"t ({df} df), logit scale"
    else:
        g = _cluster_codes(clusters)
        if len(g) != n:
            raise ValueError("bounded_mean_ci: clusters must have one entry per value.")
        n_g = int(g.max()) + 1
        df = n_g - 1
        sums = np.bincount(g, weights=y - mean, minlength=n_g)
        se = float(np.sqrt(n_g / (n_g - 1) * np.sum(sums**2)) / n) if n_g > 1 else np.nan
        method = f"cluster-robust t ({df} df, {n_g} clusters), logit scale"
    out = {"mean": mean, "n": n, "df": df, "se": se, "method": method}
    p = (mean - lower) / (upper - lower)
    if df < 1 or not np.isfinite(se):
        return out | {"ci_lo": np.nan, "ci_hi": np.nan}
    if se == 0 or p <= 0 or p >= 1:
        return out | {"ci_lo": mean, "ci_hi": mean}
    q = stats.t.ppf(0.5 + level / 2, df)
    half = q * se / (upper - lower) / (p * (1 - p))
    centre = np.log(p / (1 - p))
    lo, hi = (lower + (upper - lower) / (1 + np.exp(-(centre + s * half))) for s in (-1, 1))
    return out | {"ci_lo": float(lo), "ci_hi": float(hi)}


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


def country_icc(values: pd.Series, countries: pd.Series) -> float:
    """Intraclass correlation of ``values`` within countries (one-way ANOVA estimator,
    truncated at 0), over the entries present in both."""
    d = pd.DataFrame({"y": values, "g": countries}).dropna()
    groups = [grp["y"].to_numpy() for _, grp in d.groupby("g", observed=True)]
    k, n = len(groups), len(d)
    if k < 2 or n <= k:
        return float("nan")
    sizes = np.array([len(s) for s in groups])
    grand = d["y"].mean()
    msb = sum(len(s) * (s.mean() - grand) ** 2 for s in groups) / (k - 1)
    msw = sum(((s - s.mean()) ** 2).sum() for s in groups) / (n - k)
    n0 = (n - (sizes**2).sum() / n) / (k - 1)
    return float(max(0.0, (msb - msw) / (msb + (n0 - 1) * msw))) if msb + (n0 - 1) * msw > 0 else float("nan")


# ------------------------------------------------------------- town summaries
def _t_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    values = np.asarray(values, dtype=float)
    n = values.size
    mean = float(values.mean()) if n else float("nan")
    if n < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean, float(mean - half), float(mean + half)


def town_table(
    result: IndexResult,
    localities: pd.DataFrame | None = None,
    mc: MonteCarloResult | None = None,
    level: float = 0.90,
) -> pd.DataFrame:
    """One row per assessed locality: country, size class, locality type, overall score,
    rank (ties shared, NaN = not ranked), Monte Carlo rank interval (when ``mc`` is given)
    and area scores; sorted by rank."""
    from . import data

    loc = data.load("localities") if localities is None else localities
    _require_columns(loc, ["locality_id", "country", "size_class", "locality_type"], "localities")
    info = loc.set_index(loc["locality_id"].astype(str))[["country", "size_class", "locality_type"]]
    unknown = [i for i in result.localities if i not in info.index]
    if unknown:
        raise ValueError(f"Localities scored but not in the localities table: {unknown[:10]}.")
    ranked = rank(result.overall)
    out = info.loc[result.localities].copy()
    out.index.name = "locality_id"
    out["overall"] = result.overall
    out["rank"] = ranked["rank"]
    out["tied"] = ranked["tied"]
    if mc is not None:
        ri = rank_intervals(mc, level)
        out["rank_median"] = ri["rank_median"]
        out["rank_lo"] = ri["rank_lo"].astype("Int64")
        out["rank_hi"] = ri["rank_hi"].astype("Int64")
    out = out.join(result.area_scores)
    order = np.lexsort(
        (np.asarray(out.index, dtype=str), out["rank"].astype(float).fillna(np.inf).to_numpy())
    )
    return out.iloc[order].reset_index()


def area_matrix(result: IndexResult, labels: bool = True) -> pd.DataFrame:
    """Locality x area score matrix for a heatmap, rows ordered by overall score
    (best first; localities without an overall score last)."""
    order = rank(result.overall).index
    out = result.area_scores.loc[order]
    return out.rename(columns=AREA_LABELS) if labels else out


GROUPINGS = {"country": "Country", "size_class": "Size class", "locality_type": "Locality type"}


def compare_groups(
    result: IndexResult, localities: pd.DataFrame | None = None, by: Sequence[str] = tuple(GROUPINGS)
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Overall scores by country, size class and locality type, aware of countries.

    Returns ``(summary, points)``. ``summary`` has one row per grouping and group: n,
    n_countries, mean and 95% interval within 0-100 (:func:`bounded_mean_ci`: for
    countries a t interval over the country's towns; for the other groupings
    cluster-robust over the countries of the group's towns, G - 1 degrees of freedom),
    the method, the one-way ANOVA p-value of the grouping (``anova_p``, towns as
    independent) and ``adjusted_p``: the F-test of the grouping in an OLS with country
    fixed effects (for the country grouping itself, the one-way ANOVA). ``points`` has
    one row per town and grouping. Towns without an overall score are left out."""
    import statsmodels.api as sm

    towns = town_table(result, localities).dropna(subset=["overall"])
    country = towns["country"].astype(str)
    rows, points = [], []
    for col in by:
        groups = towns[col]
        order = (
            [str(c) for c in groups.cat.categories]
            if isinstance(groups.dtype, pd.CategoricalDtype)
            else sorted(groups.astype(str).unique())
        )
        gtext = groups.astype(str)
        samples = [towns.loc[gtext == g, "overall"].to_numpy() for g in order]
        usable = [s for s in samples if s.size > 0]
        # Groups of a single town are allowed (they add no within-group variation); the test
        # needs at least two groups and more towns than groups.
        p = (
            float(stats.f_oneway(*usable).pvalue)
            if len(usable) > 1 and sum(s.size for s in usable) > len(usable)
            else float("nan")
        )
        adj = p
        if col != "country" and len(usable) > 1:
            y = towns["overall"].to_numpy(float)
            fe = pd.get_dummies(country, drop_first=True, dtype=float)
            grp = pd.get_dummies(gtext, drop_first=True, dtype=float)
            base = sm.add_constant(fe.to_numpy(), has_constant="add")
            full = np.column_stack([base, grp.to_numpy()])
            if np.linalg.matrix_rank(full) == full.shape[1] and len(y) > full.shape[1]:
                adj = float(sm.OLS(y, full).fit().compare_f_test(sm.OLS(y, base).fit())[1])
            else:
                adj = float("nan")
        for g, s in zip(order, samples, strict=False):
            if s.size == 0:
                continue
            sel = (gtext == g).to_numpy()
            clusters = None if col == "country" else country[sel].to_numpy()
            ci = bounded_mean_ci(s, clusters)
            rows.append(
                {
                    "grouping": col,
                    "group": g,
                    "n": int(s.size),
                    "n_countries": int(country[sel].nunique()),
                    "mean": ci["mean"],
                    "ci_lo": ci["ci_lo"],
                    "ci_hi": ci["ci_hi"],
                    "ci_method": ci["method"],
                    "anova_p": p,
                    "adjusted_p": adj,
                }
            )
        points.append(
            pd.DataFrame(
                {
                    "grouping": col,
                    "group": gtext.to_numpy(),
                    "locality_id": towns["locality_id"].to_numpy(),
                    "overall": towns["overall"].to_numpy(),
                }
            )
        )
    return pd.DataFrame(rows), pd.concat(points, ignore_index=True)


def level_summary(
    result: IndexResult, level: str = "area", countries: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean area (or stage) score across localities with a 95% interval within 0-100
    (:func:`bounded_mean_ci`; cluster-robust over countries, G - 1 df, when
    ``countries`` maps locality_id to country), ranked from highest to lowest mean, and
    the long per-town scores for strip plots. Each mean uses the localities of
    ``result`` that have that score (count in ``n``); pass :func:`ranked_only` to leave
    the unranked towns out."""
    if level not in ("area", "stage"):
        raise ValueError(f"level must be 'area' or 'stage', got {level!r}.")
    frame = result.area_scores if level == "area" else result.stage_scores
    labels = AREA_LABELS if level == "area" else STAGE_LABELS
    rows = []
    for col in frame.columns:
        present = frame[col].dropna()
        s = present.to_numpy()
        if countries is None:
            mean, lo, hi = _t_ci(s)
        else:
            ci = bounded_mean_ci(s, _countries_for(countries, present.index))
            mean, lo, hi = ci["mean"], ci["ci_lo"], ci["ci_hi"]
        claim = (
            ("lead" if col in LEAD_AREAS else "lag" if col in LAG_AREAS else "other")
            if level == "area"
            else ""
        )
        rows.append(
            {
                level: col,
                "label": labels.get(col, col),
                "n": int(s.size),
                "mean": mean,
                "ci_lo": lo,
                "ci_hi": hi,
                "claim": claim,
            }
        )
    summary = pd.DataFrame(rows)
    if level == "area":
        key = summary["mean"].round(TIE_DECIMALS)
        summary = summary.iloc[np.lexsort((np.arange(len(summary)), -key.to_numpy()))].reset_index(drop=True)
        summary.insert(1, "position", np.arange(1, len(summary) + 1))
    long = frame.rename_axis(columns=level).stack().rename("score").reset_index()
    long["label"] = long[level].map(lambda v: labels.get(v, v))
    if level == "area":
        long["claim"] = long["area"].map(summary.set_index("area")["claim"])
    return summary, long


# ---------------------------------------------------------------- paired gaps
@dataclass
class PairedGap:
    """Mean of group A minus mean of group B within each locality, tested across localities."""

    a: tuple[str, ...]
    b: tuple[str, ...]
    n: int
    mean_a: float
    mean_b: float
    diff: float
    ci_lo: float
    ci_hi: float
    t: float
    p: float
    wilcoxon_p: float
    share_positive: float
    per_locality: pd.DataFrame
    order_holds: bool = False
    excluded: list = field(default_factory=list)


def _countries_for(countries: pd.Series, ids) -> np.ndarray:
    c = countries.copy()
    c.index = c.index.astype(str)
    out = c.reindex(pd.Index(ids).astype(str))
    if out.isna().any():
        raise ValueError(f"countries: no country for {list(out.index[out.isna().to_numpy()][:10])}.")
    return out.astype(str).to_numpy()


def _paired_gap(
    frame: pd.DataFrame, a: Sequence[str], b: Sequence[str], countries: pd.Series | None = None
) -> PairedGap:
    missing = [c for c in [*a, *b] if c not in frame.columns]
    if missing:
        raise ValueError(f"Unknown column(s) {missing}; available: {list(frame.columns)}.")
    sub = frame[[*a, *b]]
    complete = sub.notna().all(axis=1)
    sub = sub[complete]
    if len(sub) < 2:
        raise ValueError("A paired comparison needs at least two localities with all the scores compared.")
    ma, mb = sub[list(a)].mean(axis=1), sub[list(b)].mean(axis=1)
    d = (ma - mb).to_numpy()
    mean, lo, hi = _t_ci(d)
    test = stats.ttest_1samp(d, 0.0)
    t_stat, p_val = float(test.statistic), float(test.pvalue)
    if countries is not None:  # towns of one country as correlated: CR1, t with G - 1 df
        crv = _ols_cluster(d, np.ones((len(d), 1)), _countries_for(countries, sub.index), 0)
        lo, hi, t_stat, p_val = crv["ci_lo"], crv["ci_hi"], crv["t"], crv["p"]
    w = stats.wilcoxon(d).pvalue if np.any(d != 0) else 1.0
    per = pd.DataFrame({"mean_a": ma, "mean_b": mb, "difference": ma - mb})
    return PairedGap(
        a=tuple(a),
        b=tuple(b),
        n=len(d),
        mean_a=float(ma.mean()),
        mean_b=float(mb.mean()),
        diff=mean,
        ci_lo=lo,
        ci_hi=hi,
        t=t_stat,
        p=p_val,
        wilcoxon_p=float(w),
        share_positive=float((d > 0).mean()),
        per_locality=per,
        excluded=list(frame.index[~complete.to_numpy()]),
    )


def lead_lag(
    result: IndexResult,
    lead: Sequence[str] = LEAD_AREAS,
    lag: Sequence[str] = LAG_AREAS,
    countries: pd.Series | None = None,
) -> PairedGap:
    """Test the claim that the ``lead`` areas score higher than the ``lag`` areas.

    Per locality: mean of its lead-area scores minus mean of its lag-area scores (towns
    with all these areas scored); paired t-test (one-sample t on the differences) with
    a 95% CI, and the Wilcoxon signed-rank test as a check. ``order_holds`` is True when
    the lead areas have the highest mean scores across towns and the lag areas the lowest.
    With ``countries`` the interval and p-value are cluster-robust over countries (CR1,
    t with G - 1 df); the Wilcoxon test still treats towns as independent."""
    gap = _paired_gap(result.area_scores, lead, lag, countries)
    means = result.area_scores.mean().round(TIE_DECIMALS).sort_values(ascending=False, kind="stable")
    top, bottom = set(means.index[: len(lead)]), set(means.index[len(means) - len(lag) :])
    gap.order_holds = top == set(lead) and bottom == set(lag)
    return gap


def lead_lag_verdict(gap: PairedGap, synthetic: bool | None = None) -> str:
    """One sentence saying what the lead/lag test found, worded for the data in use.

    On the synthetic twin (``synthetic`` True; default: the book's own data are in use) the
    area effects were planted (``mipex_l.area_effect`` in the twin's ``parameters.yml``), so
    the sentence says whether the method recovers the gap the twin was built to contain,
    never that the data support the real claim. On data supplied by the user it says
    whether those data support the claim. Every case is covered: interval above zero (with or
    without the claimed order of the areas), wholly below zero, or including zero."""
    if synthetic is None:
        synthetic = not paths.uses_user_data()
    significant = gap.ci_lo > 0
    if synthetic:
        planted = (
            "the gap the synthetic twin was built to contain (its planted area effects, "
            "mipex_l.area_effect in the twin's parameters)"
        )
        if significant and gap.order_holds:
            return (
                f"On the synthetic twin the method recovers {planted}: the lead areas score higher than the "
                "lagging areas, the interval excludes zero, and the lead areas are also the highest-scoring "
                "areas and the lagging areas the lowest-scoring ones. This shows that the method finds a "
                "planted gap, not that the claim holds for real towns."
            )
        if significant:
            return (
                f"On the synthetic twin the method recovers {planted} only in part: the lead areas score "
                "higher on average (the interval excludes zero), but the ordering of individual areas does "
                "not match the planted one exactly."
            )
        if gap.ci_hi < 0:
            return (
                f"On the synthetic twin the method finds the opposite of {planted}: the areas named as "
                "lagging score higher than the areas named as leading, and the interval lies wholly below zero."
            )
        return (
            f"On the synthetic twin the method does not recover {planted}: the difference between lead and "
            "lagging areas is not clearly different from zero (the interval includes zero)."
        )
    if significant and gap.order_holds:
        return (
            "The data supplied by the user support the claim: the lead areas score higher than the lagging "
            "areas, the interval excludes zero, and the lead areas are also the highest-scoring areas and "
            "the lagging areas the lowest-scoring ones."
        )
    if significant:
        return (
            "The data supplied by the user support the claim in part: the lead areas score higher than the "
            "lagging areas on average (the interval excludes zero), but the ordering of individual areas "
            "does not match the claim exactly."
        )
    if gap.ci_hi < 0:
        return (
            "The data supplied by the user contradict the claim: the areas named as lagging score higher "
            "than the areas named as leading, and the interval lies wholly below zero."
        )
    return (
        "The data supplied by the user do not support the claim: the difference between lead and lagging "
        "areas is not clearly different from zero (the interval includes zero)."
    )


def stage_gap(
    result: IndexResult,
    high: str = "formulation",
    low: str = "evaluation",
    countries: pd.Series | None = None,
) -> PairedGap:
    """Paired difference between two stage scores (default: formulation minus evaluation);
    with ``countries``, cluster-robust over countries as in :func:`lead_lag`."""
    return _paired_gap(result.stage_scores, [high], [low], countries)


# ----------------------------------------------------------- local vs national
def local_vs_national(
    overall: pd.Series | None = None,
    localities: pd.DataFrame | None = None,
    national: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Each assessed locality's overall MIPEX-L score beside its country's national
    MIPEX 2020 overall score (with the source URL of that score).

    Rows: localities with ``mipex_l_assessed`` true (all localities in ``overall`` if the
    column is absent). ``difference`` = local minus national, in points; the two indices
    have different indicators, so a level difference is indicative only."""
    from . import data

    loc = data.load("localities") if localities is None else localities
    nat = data.load("national_mipex") if national is None else national
    ovr = overall_scores() if overall is None else overall
    _require_columns(loc, ["locality_id", "country"], "localities")
    _require_columns(nat, ["iso2", "mipex2020_overall", "source_url"], "national")
    if nat["iso2"].astype(str).duplicated().any():
        raise ValueError("national: iso2 must be unique.")
    sel = loc[loc["mipex_l_assessed"].astype(bool)] if "mipex_l_assessed" in loc.columns else loc
    sel = sel[sel["locality_id"].astype(str).isin(ovr.index.astype(str))]
    natx = nat.assign(iso2=nat["iso2"].astype(str)).set_index("iso2")
    countries = sel["country"].astype(str)
    absent = sorted(set(countries) - set(natx.index))
    if absent:
        raise ValueError(f"national: no MIPEX 2020 score for countries {absent}.")
    out = pd.DataFrame(
        {
            "locality_id": sel["locality_id"].astype(str).to_numpy(),
            "country": countries.to_numpy(),
            "local_overall": ovr.reindex(sel["locality_id"].astype(str)).to_numpy(dtype=float),
            "national_overall": countries.map(natx["mipex2020_overall"]).to_numpy(dtype=float),
            "source_url": countries.map(natx["source_url"].astype(str)).to_numpy(),
        }
    )
    if "mipex2020_approach" in natx.columns:
        out.insert(
            4, "national_approach", countries.map(natx["mipex2020_approach"].astype(object)).to_numpy()
        )
    out.insert(4, "difference", out["local_overall"] - out["national_overall"])
    return out.sort_values(["country", "locality_id"]).reset_index(drop=True)


def national_source() -> str:
    """Web address of the published national MIPEX scores, whichever folder supplies them:
    the source recorded in the data package in use; failing that, the site all of the
    file's ``source_url`` values point to; failing that, the source the book's own package
    records for this resource (a published resource keeps its link)."""
    import json
    from urllib.parse import urlsplit

    from . import data, paths

    source = str(data.provenance("national_mipex").get("source", "") or "")
    if source:
        return source
    urls = data.load("national_mipex")["source_url"].astype(str)
    sites = {
        f"{u.scheme}://{u.netloc}/" for u in map(urlsplit, urls) if u.scheme in ("http", "https") and u.netloc
    }
    if len(sites) == 1:
        return sites.pop()
    book = json.loads((paths.book_data_dir() / paths.PACKAGE_FILE).read_text(encoding="utf-8"))
    res = next(r for r in book["resources"] if r["name"] == "national_mipex")
    return str(res.get("provenance", {}).get("source", ""))


def local_vs_national_long(table: pd.DataFrame) -> pd.DataFrame:
    """Long version of :func:`local_vs_national` for a dot plot (one row per town and measure)."""
    long = table.melt(
        id_vars=["locality_id", "country"],
        value_vars=["local_overall", "national_overall"],
        var_name="measure",
        value_name="score",
    )
    long["measure"] = long["measure"].map(
        {"local_overall": "MIPEX-L (town)", "national_overall": "MIPEX 2020 (country)"}
    )
    return long


def local_vs_national_summary(table: pd.DataFrame) -> dict:
    """Towns above their national score, and the country-level correlation between the
    mean town score and the national score (Pearson r, 95% CI via Fisher z; n = countries,
    because all towns of a country share one national score)."""
    t = table.dropna(subset=["local_overall"])
    by_country = t.groupby("country", observed=True)[["local_overall", "national_overall"]].mean()
    r, lo, hi, p = _pearson_ci(
        by_country["local_overall"].to_numpy(), by_country["national_overall"].to_numpy()
    )
    return {
        "n_towns": len(t),
        "n_above": int((t["difference"] > 0).sum()),
        "mean_difference": float(t["difference"].mean()),
        "n_countries": len(by_country),
        "country_r": r,
        "country_r_lo": lo,
        "country_r_hi": hi,
        "country_r_p": p,
    }


# ---------------------------------------------------------- social cohesion
def _pearson_ci(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    n = len(x)
    if n < 4:
        raise ValueError(f"A correlation with a Fisher-z interval needs at least 4 pairs; got {n}.")
    res = stats.pearsonr(x, y)
    r = float(res.statistic)
    z, se = np.arctanh(np.clip(r, -0.999999, 0.999999)), 1 / np.sqrt(n - 3)
    q = stats.norm.ppf(0.5 + level / 2)
    return r, float(np.tanh(z - q * se)), float(np.tanh(z + q * se)), float(res.pvalue)


@dataclass
class Association:
    """Town-level association between the index and one cohesion outcome."""

    outcome: str
    n: int
    slope: float  # outcome units per 10 index points
    slope_lo: float
    slope_hi: float
    slope_p: float
    intercept: float  # predicted outcome at an index of 50
    r: float
    r_lo: float
    r_hi: float
    r_p: float
    points: pd.DataFrame  # locality_id, index, outcome (+ its interval if given)
    line: pd.DataFrame  # index, fit, ci_lo, ci_hi (95% confidence band of the mean)
    excluded: pd.DataFrame
    # country-aware inference (when clusters are given; NaN otherwise)
    n_clusters: int = 0
    cluster_slope_lo: float = float("nan")  # CR1 cluster-robust, t with G - 1 df
    cluster_slope_hi: float = float("nan")
    cluster_p: float = float("nan")
    wild_p: float = float("nan")  # wild cluster restricted bootstrap, Webb weights
    wild_n_boot: int = 0
    fe_slope: float = float("nan")  # with country fixed effects, CR1, t with G - 1 df
    fe_slope_lo: float = float("nan")
    fe_slope_hi: float = float("nan")
    fe_p: float = float("nan")
    country_icc: float = float("nan")  # ICC of the outcome within countries


def cohesion_association(
    index_scores: pd.Series,
    outcomes: pd.DataFrame,
    outcome: str = "attitude_index",
    centre: float = 50.0,
    per: float = 10.0,
    clusters: pd.Series | None = None,
    n_boot: int = 9999,
    seed: int = DEFAULT_SEED,
) -> Association:
    """OLS of a town-level cohesion outcome on the town's index score, and Pearson r.

    ``index_scores``: Series indexed by locality_id (e.g. :func:`overall_scores`);
    ``outcomes``: frame indexed by locality_id with the ``outcome`` column (e.g.
    ``survey.locality_outcomes()``). Rule: a town enters when it has both an index score
    and a (not suppressed) outcome; the others are listed in ``excluded`` with the
    reason. The slope is per ``per`` index points (centred at ``centre``) with a 95% t
    interval; r has a 95% interval via Fisher's z. Towns weigh equally (unweighted OLS).

    With ``clusters`` (locality_id -> country) the towns of a country count as
    correlated: the slope also gets a CR1 cluster-robust interval and p-value with
    G - 1 degrees of freedom, a wild cluster restricted bootstrap p-value
    (:func:`wholecomm.stats.wild_cluster_bootstrap`, ``n_boot`` samples) and an estimate within
    countries (country fixed effects, CR1, G - 1 df).
    """
    import statsmodels.api as sm

    if not isinstance(index_scores, pd.Series):
        raise TypeError("index_scores must be a Series indexed by locality_id.")
    if not isinstance(outcomes, pd.DataFrame):
        raise TypeError("outcomes must be a DataFrame indexed by locality_id.")
    if outcome not in outcomes.columns:
        raise ValueError(f"outcomes lacks the column {outcome!r}; it has {list(outcomes.columns)}.")
    for name, idx in (("index_scores", index_scores.index), ("outcomes", outcomes.index)):
        if idx.has_duplicates:
            raise ValueError(
                f"{name}: locality_id must be unique; duplicated: {list(idx[idx.duplicated()][:10])}."
            )
    x_all = pd.to_numeric(index_scores, errors="raise").astype(float)
    x_all.index = x_all.index.astype(str)
    y_all = pd.to_numeric(outcomes[outcome], errors="raise").astype("Float64").astype(float)
    y_all.index = outcomes.index.astype(str)
    ids = sorted(set(x_all.index) | set(y_all.index))
    x, y = x_all.reindex(ids), y_all.reindex(ids)
    reason = np.where(
        x.isna() & y.isna(),
        "no index score and no outcome",
        np.where(x.isna(), "no index score", np.where(y.isna(), "no outcome (or suppressed)", "")),
    )
    excluded = pd.DataFrame({"locality_id": ids, "reason": reason})
    excluded = excluded[excluded["reason"] != ""].reset_index(drop=True)
    use = reason == ""
    xs, ys = x[use], y[use]
    n = int(use.sum())
    if n < 4:
        raise ValueError(f"Need at least 4 towns with both an index score and an outcome; got {n}.")
    xc = (xs.to_numpy() - centre) / per
    fit = sm.OLS(ys.to_numpy(), sm.add_constant(xc, has_constant="add")).fit()
    ci = fit.conf_int(0.05)
    r, r_lo, r_hi, r_p = _pearson_ci(xs.to_numpy(), ys.to_numpy())
    points = pd.DataFrame({"locality_id": xs.index, "index": xs.to_numpy(), outcome: ys.to_numpy()})
    for suffix in ("_ci_low", "_ci_high"):
        if outcome + suffix in outcomes.columns:
            extra = pd.to_numeric(outcomes[outcome + suffix], errors="raise").astype("Float64").astype(float)
            extra.index = outcomes.index.astype(str)
            points[outcome + suffix] = extra.reindex(xs.index).to_numpy()
    grid = np.linspace(xs.min(), xs.max(), 60)
    pred = fit.get_prediction(sm.add_constant((grid - centre) / per, has_constant="add")).summary_frame(
        alpha=0.05
    )
    line = pd.DataFrame(
        {
            "index": grid,
            "fit": pred["mean"].to_numpy(),
            "ci_lo": pred["mean_ci_lower"].to_numpy(),
            "ci_hi": pred["mean_ci_upper"].to_numpy(),
        }
    )
    out = Association(
        outcome=outcome,
        n=n,
        slope=float(fit.params[1]),
        slope_lo=float(ci[1, 0]),
        slope_hi=float(ci[1, 1]),
        slope_p=float(fit.pvalues[1]),
        intercept=float(fit.params[0]),
        r=r,
        r_lo=r_lo,
        r_hi=r_hi,
        r_p=r_p,
        points=points,
        line=line,
        excluded=excluded,
    )
    if clusters is not None:
        cl = clusters.copy()
        cl.index = cl.index.astype(str)
        g = cl.reindex(xs.index)
        if g.isna().any():
            raise ValueError(
                f"clusters: no cluster (country) for {list(xs.index[g.isna().to_numpy()][:10])}."
            )
        g = g.astype(str).to_numpy()
        x = sm.add_constant(xc, has_constant="add")
        crv = _ols_cluster(ys.to_numpy(), x, g, 1)
        wild = wild_cluster_bootstrap(ys.to_numpy(), x, g, 1, n_boot=n_boot, seed=seed)
        fe = pd.get_dummies(pd.Series(g), drop_first=True, dtype=float).to_numpy()
        fe_fit = _ols_cluster(ys.to_numpy(), np.column_stack([x, fe]), g, 1)
        out.n_clusters = wild["n_clusters"]
        out.cluster_slope_lo, out.cluster_slope_hi, out.cluster_p = crv["ci_lo"], crv["ci_hi"], crv["p"]
        out.wild_p, out.wild_n_boot = wild["p"], wild["n_boot"]
        out.fe_slope, out.fe_slope_lo, out.fe_slope_hi, out.fe_p = (
            fe_fit["estimate"],
            fe_fit["ci_lo"],
            fe_fit["ci_hi"],
            fe_fit["p"],
        )
        out.country_icc = country_icc(pd.Series(ys.to_numpy()), pd.Series(g))
    return out


MULTILEVEL_CONTROLS = ("contact_any", "age_group", "gender", "education", "born_abroad")
TERM_LABELS = {
    "index_per_10": "MIPEX-L overall (per 10 points above 50)",
    "contact_any": "Any contact with newcomers",
    "born_abroad": "Born abroad",
    "Intercept": "Intercept",
}


def _levels(series: pd.Series) -> list[str]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.astype(str))
        return [str(c) for c in series.cat.categories if str(c) in present]
    return sorted(series.astype(str).unique())


def multilevel_attitudes(
    individual_frame: pd.DataFrame, index_scores: pd.Series, centre: float = 50.0, per: float = 10.0
) -> pd.DataFrame:
    """Mixed model of the individual attitude index on the locality's MIPEX-L score.

    attitude_index ~ index (per ``per`` points, centred at ``centre``) + contact_any +
    age_group + gender + education + born_abroad, with a random intercept per
    locality (statsmodels MixedLM, REML). Categorical controls use their first level
    as reference. Rules: respondents whose attitude index is missing, and respondents
    of localities without an index score, are left out (counts in ``attrs``); a
    missing control is an error. Design weights are not used (the model conditions on
    the variables the weights correct for: age group, gender, education).

    Returns a tidy table: term, label, estimate, ci_lo, ci_hi (95%), p_value, with
    ``attrs`` n_respondents, n_localities, excluded_missing_attitude, excluded_no_index,
    locality_sd, residual_sd, icc, converged.
    """
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM

    need = ["locality_id", "attitude_index", *MULTILEVEL_CONTROLS]
    _require_columns(individual_frame, need, "individual_frame")
    if not isinstance(index_scores, pd.Series):
        raise TypeError("index_scores must be a Series indexed by locality_id.")
    if index_scores.index.has_duplicates:
        raise ValueError("index_scores: locality_id must be unique.")
    df = individual_frame[need].copy()
    df["locality_id"] = df["locality_id"].astype(str)
    for col in MULTILEVEL_CONTROLS:
        bad = df[col].isna().to_numpy()
        if bad.any():
            raise ValueError(
                f"individual_frame: control {col!r} must not be missing: "
                f"{_rows_text(df, bad, ['locality_id', col])}."
            )
    idx = pd.to_numeric(index_scores, errors="raise").astype(float)
    idx.index = idx.index.astype(str)
    df["index"] = df["locality_id"].map(idx)
    att = pd.to_numeric(df["attitude_index"], errors="raise").astype("Float64").astype(float)
    miss_att = att.isna()
    no_index = ~miss_att & df["index"].isna()
    keep = ~miss_att & ~no_index
    d = df[keep]
    y = att[keep].to_numpy()
    cols = {"Intercept": np.ones(len(d)), "index_per_10": ((d["index"] - centre) / per).to_numpy(float)}
    for col in ("contact_any", "born_abroad"):
        values = d[col]
        if not (pd.api.types.is_bool_dtype(values) or set(pd.unique(values.astype(object))) <= {0, 1}):
            raise ValueError(f"individual_frame: {col!r} must be boolean (true/false).")
        cols[col] = values.astype(bool).to_numpy(float)
    labels = dict(TERM_LABELS)
    for col in ("age_group", "gender", "education"):
        levels = _levels(d[col])
        for lev in levels[1:]:
            term = f"{col}[{lev}]"
            cols[term] = (d[col].astype(str) == lev).to_numpy(float)
            labels[term] = f"{col.replace('_', ' ').capitalize()}: {lev} (vs {levels[0]})"
    exog = pd.DataFrame(cols)
    groups = d["locality_id"].to_numpy()
    if len(np.unique(groups)) < 3:
        raise ValueError(
            "The multilevel model needs respondents in at least 3 localities with an index score."
        )
    model = MixedLM(y, exog, groups=groups)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = model.fit(reml=True, method=["bfgs", "powell"])
    if not np.isfinite(fit.llf) or not fit.converged:
        raise RuntimeError(
            "The multilevel model did not converge to a finite likelihood; "
            f"messages: {[str(w.message) for w in caught]}."
        )
    ci = fit.conf_int(0.05)
    fe = list(exog.columns)
    table = pd.DataFrame(
        {
            "term": fe,
            "label": [labels.get(t, t) for t in fe],
            "estimate": fit.fe_params.reindex(fe).to_numpy(),
            "ci_lo": ci.loc[fe, 0].to_numpy(),
            "ci_hi": ci.loc[fe, 1].to_numpy(),
            "p_value": fit.pvalues.reindex(fe).to_numpy(),
        }
    )
    loc_var = float(np.asarray(fit.cov_re)[0, 0])
    table.attrs.update(
        {
            "n_respondents": int(len(d)),
            "n_localities": int(len(np.unique(groups))),
            "excluded_missing_attitude": int(miss_att.sum()),
            "excluded_no_index": int(no_index.sum()),
            "locality_sd": float(np.sqrt(loc_var)),
            "residual_sd": float(np.sqrt(fit.scale)),
            "icc": float(loc_var / (loc_var + fit.scale)),
            "converged": bool(fit.converged),
            "warnings": [str(w.message) for w in caught],
        }
    )
    return table
