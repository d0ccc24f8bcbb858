"""The attitude scale: reliability, the ordinal one-factor check and the distribution of
the answers to each item."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import require_columns
from ..stats import cronbach_alpha
from .coding import (
    ATTITUDE_ITEMS,
    ITEM_LABELS,
    LIKERT_POINTS,
    NON_SUBSTANTIVE,
    POOLING,
    RESPONSE_LABELS,
    REVERSED_ITEMS,
    _coded,
    recode_items,
)
from .estimates import weighted_proportion
from .ordinal import SRMR_GOOD, one_factor, polychoric_matrix
from .weights import _weights


# -------------------------------------------------------------------- scales
@dataclass
class ScaleCheck:
    """Reliability and one-factor check of the attitude items (see :func:`scale_check`)."""

    alpha: float
    n_complete: int
    polychoric: pd.DataFrame
    loadings: pd.Series
    omega: float
    srmr: float
    max_residual: float
    same_sign: bool
    min_abs_loading: float
    one_factor: bool
    loading_threshold: float = 0.4
    srmr_threshold: float = SRMR_GOOD
    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def sentence(self) -> str:
        """What the check says about the six items, for the page."""
        if self.one_factor:
            return "The six items form one scale:"
        return "The check does not support treating the six items as one scale:"


def scale_check(
    sv: pd.DataFrame, loading_threshold: float = 0.4, srmr_threshold: float = SRMR_GOOD
) -> ScaleCheck:
    """Cronbach's alpha of the six recoded items (complete cases) and an ordinal
    one-factor check: polychoric correlations of the items (complete cases) and a
    one-factor model fitted to them (:func:`wholecomm.survey.ordinal.one_factor`) with
    omega and SRMR. ``one_factor`` is true when every loading has the same sign and an
    absolute value above ``loading_threshold`` and the SRMR is at most ``srmr_threshold``."""
    items = recode_items(sv).dropna()
    alpha = cronbach_alpha(items)
    corr = polychoric_matrix(items)
    fit = one_factor(corr)
    lam = fit.loadings.to_numpy()
    same_sign = bool(np.all(lam > 0) or np.all(lam < 0))
    min_abs = float(np.abs(lam).min())
    table = pd.DataFrame(
        {
            "item": ATTITUDE_ITEMS,
            "label": [ITEM_LABELS[i] for i in ATTITUDE_ITEMS],
            "reversed": [i in REVERSED_ITEMS for i in ATTITUDE_ITEMS],
            "loading": lam,
        }
    )
    return ScaleCheck(
        alpha=alpha,
        n_complete=len(items),
        polychoric=corr,
        loadings=fit.loadings,
        omega=fit.omega,
        srmr=fit.srmr,
        max_residual=fit.max_residual,
        same_sign=same_sign,
        min_abs_loading=min_abs,
        one_factor=same_sign and min_abs > loading_threshold and fit.srmr <= srmr_threshold,
        loading_threshold=loading_threshold,
        srmr_threshold=srmr_threshold,
        table=table,
    )


def item_distribution(sv: pd.DataFrame, weights, pooling: str = POOLING, level: float = 0.95) -> pd.DataFrame:
    """Weighted distribution of the answers to each attitude item **as worded** (not
    reversed), tidy: item, label, code, response, base ("substantive" for 1-5 as a share
    of substantive answers, "all" for don't know and refused as a share of all
    respondents), estimate, ci_low, ci_high, n."""
    require_columns(sv, ["locality_id"], "The survey frame")
    w = _weights(sv, weights)
    parts = []
    for item in ATTITUDE_ITEMS:
        codes = _coded(sv, item, [*LIKERT_POINTS, *NON_SUBSTANTIVE], "Attitude items")
        substantive = np.isin(codes, LIKERT_POINTS)
        tmp = pd.DataFrame({"locality_id": sv["locality_id"].to_numpy(), "w": w})
        for code in [*LIKERT_POINTS, *NON_SUBSTANTIVE]:
            is_code = (codes == code).astype(float)
            if code in LIKERT_POINTS:
                tmp["y"] = np.where(substantive, is_code, np.nan)
                base = "substantive"
            else:
                tmp["y"] = is_code
                base = "all"
            est = weighted_proportion(tmp, "y", "w", level=level, pooling=pooling)
            parts.append(
                est.assign(
                    item=item, label=ITEM_LABELS[item], code=code, response=RESPONSE_LABELS[code], base=base
                )
            )
    out = pd.concat(parts, ignore_index=True)
    return out[["item", "label", "code", "response", "base", "estimate", "ci_low", "ci_high", "n"]]


def likert_segments(dist: pd.DataFrame) -> pd.DataFrame:
    """Bar ends for a diverging stacked bar chart of the substantive answers (percent),
    centred on the middle of "Neither": one row per item and segment with ``end`` (signed
    percent). Drawn from 0 in the order of ``segment`` (outer segments first), the
    overlapping bars form the diverging stack. Segment "Neither (left)" and "Neither"
    are the two halves of the middle category."""
    sub = dist[dist["base"] == "substantive"].pivot(index="label", columns="code", values="estimate") * 100
    sub = sub.reindex([ITEM_LABELS[i] for i in ATTITUDE_ITEMS])
    half = sub[3] / 2
    ends = {
        "Strongly disagree": -(half + sub[2] + sub[1]),
        "Strongly agree": half + sub[4] + sub[5],
        "Disagree": -(half + sub[2]),
        "Agree": half + sub[4],
        "Neither (left)": -half,
        "Neither": half,
    }
    rows = [
        pd.DataFrame({"label": sub.index, "segment": seg, "end": val.to_numpy()}) for seg, val in ends.items()
    ]
    out = pd.concat(rows, ignore_index=True)
    out["segment"] = pd.Categorical(out["segment"], categories=list(ends))
    out["label"] = pd.Categorical(out["label"], categories=list(sub.index))
    return out
