"""The analysis frame (one row per respondent, recoded and weighted) and the
locality-level outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import data
from ..errors import InputError, require_columns
from .coding import (
    ATTITUDE_ITEMS,
    CONTACT_SETTINGS,
    LIKERT_POINTS,
    NON_SUBSTANTIVE,
    RAKING_VARIABLES,
    _as_categorical,
    _coded,
    _enum,
    _first_ids,
    _substantive,
    attitude_index,
)
from .estimates import RESIDENT_DESIGN, weighted_mean
from .weights import rake_with_fallback


def analysis_frame(
    sv: pd.DataFrame | None = None,
    margins: pd.DataFrame | None = None,
    localities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per respondent with the recoded variables the chapter uses and the raked weight.

    Columns: respondent_id, locality_id, country, size_class, locality_type,
    attitude_index, contact_any (bool), meaningful_contact (1/0, NaN for 8/9),
    trust_newcomers (1-5, NaN for 8/9), age_group, gender, education, born_abroad,
    weight (raked, :func:`~wholecomm.survey.weights.rake`), and the contact settings contact_<setting> (bool),
    aware_measures (1/0, NaN for 8/9), impact_measures (1-5; NaN when not asked or 8/9).
    Arguments left as None are loaded with :func:`wholecomm.data.loading.load`.
    """
    sv = data.load("survey") if sv is None else sv
    margins = data.load("population_margins") if margins is None else margins
    localities = data.load("localities") if localities is None else localities
    contact_cols = [f"contact_{s}" for s in CONTACT_SETTINGS]
    require_columns(
        sv,
        [
            "respondent_id",
            "locality_id",
            *RAKING_VARIABLES,
            "born_abroad",
            *ATTITUDE_ITEMS,
            *contact_cols,
            "contact_meaningful",
            "trust_newcomers",
            "aware_measures",
            "impact_measures",
            "design_weight",
        ],
        "The survey frame",
    )
    require_columns(
        localities, ["locality_id", "country", "size_class", "locality_type"], "The localities frame"
    )
    what = "The survey frame"
    loc = localities.assign(locality_id=localities["locality_id"].astype(str)).set_index("locality_id")
    sv_loc = sv["locality_id"].astype(str)
    unknown = sorted(set(sv_loc) - set(loc.index))
    if unknown:
        raise InputError(f"{what}: locality_id value(s) {unknown[:10]} are not in the localities frame.")

    out = pd.DataFrame(
        {"respondent_id": sv["respondent_id"].to_numpy(), "locality_id": sv_loc.to_numpy()}, index=sv.index
    )
    for col in ("country", "size_class", "locality_type"):
        out[col] = pd.Categorical(
            _as_categorical(loc[col], _enum("localities", col), col, "The localities frame")[
                loc.index.get_indexer(sv_loc)
            ]
        )
    out["attitude_index"] = attitude_index(sv)
    for col in contact_cols:
        if sv[col].isna().any():
            raise InputError(f"{what}: column {col!r} is empty for some respondents.")
        out[col] = sv[col].astype(bool).to_numpy()
    settings = out[[f"contact_{s}" for s in data.CONTACT_SETTINGS]].any(axis=1)
    clash = settings.to_numpy() == out["contact_none"].to_numpy()
    if clash.any():
        raise InputError(
            f"{what}: contact_none must be true exactly when no contact setting is true "
            f"({_first_ids(sv, clash)})."
        )
    out["contact_any"] = settings.to_numpy()
    out["meaningful_contact"] = _substantive(_coded(sv, "contact_meaningful", [0, 1, *NON_SUBSTANTIVE], what))
    out["trust_newcomers"] = _substantive(
        _coded(sv, "trust_newcomers", [*LIKERT_POINTS, *NON_SUBSTANTIVE], what)
    )
    for col in RAKING_VARIABLES:
        out[col] = _as_categorical(sv[col], _enum("survey", col), col, what)
    if sv["born_abroad"].isna().any():
        raise InputError(f"{what}: column 'born_abroad' is empty for some respondents.")
    out["born_abroad"] = sv["born_abroad"].astype(bool).to_numpy()
    aware = _coded(sv, "aware_measures", [0, 1, *NON_SUBSTANTIVE], what)
    impact = _coded(sv, "impact_measures", [*LIKERT_POINTS, *NON_SUBSTANTIVE], what, allow_empty=True)
    routed = (aware == 1) != np.isfinite(impact)
    if routed.any():
        raise InputError(
            f"{what}: impact_measures must be answered exactly when aware_measures = 1 "
            f"({_first_ids(sv, routed)})."
        )
    out["aware_measures"] = _substantive(aware)
    out["impact_measures"] = _substantive(impact)
    out["weight"], report = rake_with_fallback(sv, margins)
    # Plain records (not a frame), so that pandas can compare the attrs of frames it combines.
    out.attrs["weighting"] = report.to_dict("records")
    return out


# ------------------------------------------------------------ locality level
def locality_outcomes(frame: pd.DataFrame | None = None, min_n: int = data.MIN_CELL_DEFAULT) -> pd.DataFrame:
    """Weighted locality means, indexed by locality_id, after disclosure control.

    Columns: country, size_class, locality_type, n (respondents), attitude_index with
    attitude_index_ci_low / attitude_index_ci_high (95% CI), contact_any, meaningful_contact and
    trust_newcomers (weighted means; the last on 1-5), suppressed. Localities with fewer
    than ``min_n`` respondents have every value (and n) blanked.
    """
    frame = analysis_frame() if frame is None else frame
    values = ["attitude_index", "contact_any", "meaningful_contact", "trust_newcomers"]
    require_columns(frame, ["locality_id", "weight", *values], "The analysis frame")
    lid = "locality_id"
    att = weighted_mean(frame, "attitude_index", "weight", by=lid, strata=lid, **RESIDENT_DESIGN).set_index(
        lid
    )
    out = pd.DataFrame({"n": frame.groupby(lid, sort=True).size()})
    out.index = out.index.astype(str)
    att.index = att.index.astype(str)
    for col in ("country", "size_class", "locality_type"):
        if col in frame.columns:
            out[col] = frame.groupby(lid, sort=True)[col].first().astype(str).to_numpy()
    out["attitude_index"] = att["estimate"]
    out["attitude_index_ci_low"] = att["ci_low"]
    out["attitude_index_ci_high"] = att["ci_high"]
    for col in values[1:]:
        est = weighted_mean(frame, col, "weight", by=lid, strata=lid, level=0.95).set_index(lid)
        est.index = est.index.astype(str)
        out[col] = est["estimate"]
    out.index.name = lid
    out = data.suppress_small_cells(out, "n", min_n)
    out["n"] = out["n"].astype("Int64")
    return out
