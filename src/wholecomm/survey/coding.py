"""Coding of the survey answers: the items, their codes and labels, the checks of a
survey frame, the recoded attitude items and the attitude index."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import data
from ..errors import InputError, require_columns

# ------------------------------------------------------------------- constants
ATTITUDE_ITEMS = ["att_economy", "att_culture", "att_welcome", "att_services", "att_neighbour", "att_belong"]
REVERSED_ITEMS = ("att_services",)
DONT_KNOW, REFUSED = 8, 9
NON_SUBSTANTIVE = (DONT_KNOW, REFUSED)
LIKERT_POINTS = (1, 2, 3, 4, 5)
MIN_ITEMS = 4
#: Default bounds of the raking adjustment factor (see :func:`~wholecomm.survey.weights.rake`).
TRIM = (0.2, 5.0)
CONTACT_SETTINGS = [*data.CONTACT_SETTINGS, "none"]
ASSOCIATIONAL_SETTINGS = ("hobby", "sports", "leisure")
#: The variables the weights are raked on within each locality (see :func:`~wholecomm.survey.weights.rake`).
RAKING_VARIABLES = ("age_group", "gender", "education")
MODEL_COVARIATES = ("age_group", "gender", "education")
POOLING = "equal"
GROUPINGS = ("overall", "country", "size_class", "locality_type")

ITEM_LABELS = {
    "att_economy": "Good for the local economy",
    "att_culture": "Enrich cultural life",
    "att_welcome": "Town should welcome more",
    "att_services": "Too much pressure on services (negative wording)",
    "att_neighbour": "Happy to have as neighbours",
    "att_belong": "Can become full members",
}
RESPONSE_LABELS = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither",
    4: "Agree",
    5: "Strongly agree",
    DONT_KNOW: "Don't know",
    REFUSED: "Refused",
}
SETTING_LABELS = {
    "work": "Work",
    "neighbourhood": "Neighbourhood",
    "hobby": "Hobby association",
    "sports": "Sports club",
    "leisure": "Organised leisure",
    "school": "School or childcare",
    "religious": "Religious community",
    "none": "No regular contact",
}
OVERALL_LABEL = "All localities"
VARIABLE_LABELS = {"age_group": "Age", "gender": "Gender", "education": "Education"}


# ----------------------------------------------------------------- validation
def _first_ids(frame: pd.DataFrame, mask, k: int = 5) -> str:
    mask = np.asarray(mask, dtype=bool)
    if "respondent_id" in frame.columns:
        ids = frame.loc[mask, "respondent_id"].head(k).tolist()
        return f"respondent_id {ids}"
    return f"rows {list(frame.index[mask][:k])}"


def _enum(resource: str, column: str) -> list:
    for fld in data.resource_descriptor(resource)["schema"]["fields"]:
        if fld["name"] == column:
            return list(fld.get("constraints", {}).get("enum", []))
    raise KeyError(f"No column {column!r} in resource {resource!r}.")


def _as_categorical(values: pd.Series, categories: Sequence, column: str, what: str) -> pd.Categorical:
    """Values as a categorical with ``categories`` (in that order); unknown or empty values raise.

    A column that already is a categorical with these categories (as :func:`wholecomm.data.loading.load`
    returns enumerated fields) is taken as it is: only its codes are checked."""
    cats = [str(c) for c in categories]
    if isinstance(values.dtype, pd.CategoricalDtype) and [str(c) for c in values.cat.categories] == cats:
        codes = values.cat.codes.to_numpy()
        if (codes < 0).any():
            raise InputError(
                f"{what}: column {column!r} has {int((codes < 0).sum())} empty value(s); "
                "it must be given for every row."
            )
        return pd.Categorical.from_codes(codes, categories=cats)
    raw = values.astype("object") if isinstance(values.dtype, pd.CategoricalDtype) else values
    if raw.isna().any():
        raise InputError(
            f"{what}: column {column!r} has {int(raw.isna().sum())} empty value(s); "
            "it must be given for every row."
        )
    unknown = sorted(set(pd.unique(raw.astype(str))) - {str(c) for c in categories})
    if unknown:
        raise InputError(
            f"{what}: column {column!r} has unknown categor{'y' if len(unknown) == 1 else 'ies'} "
            f"{unknown}; allowed: {list(categories)}."
        )
    return pd.Categorical(raw.astype(str), categories=[str(c) for c in categories])


def _coded(
    frame: pd.DataFrame, column: str, allowed: Sequence[int], what: str, allow_empty: bool = False
) -> np.ndarray:
    """An integer-coded answer column as float; codes outside ``allowed`` raise."""
    col = frame[column]
    empty = col.isna().to_numpy()
    if empty.any() and not allow_empty:
        raise InputError(
            f"{what}: column {column!r} is empty for {int(empty.sum())} respondent(s) "
            f"({_first_ids(frame, empty)}); every respondent must have a code."
        )
    values = pd.to_numeric(col, errors="raise").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~empty & ~np.isin(values, np.asarray(allowed, dtype=float))
    if bad.any():
        found = sorted(pd.unique(values[bad]).tolist())[:10]
        raise InputError(
            f"{what}: column {column!r} has code(s) {found} outside the allowed codes "
            f"{list(allowed)} ({_first_ids(frame, bad)})."
        )
    return values


def _substantive(values: np.ndarray) -> np.ndarray:
    """Non-substantive codes (8, 9) and empty cells become NaN."""
    out = values.copy()
    out[np.isin(out, NON_SUBSTANTIVE)] = np.nan
    return out


# ------------------------------------------------------------------ recoding
def recode_items(sv: pd.DataFrame) -> pd.DataFrame:
    """The six attitude items, recoded: 8/9 -> NaN, ``att_services`` reversed (6 - x).

    Higher is more positive towards newcomers for every item. Codes other than 1-5, 8, 9
    raise.
    """
    require_columns(sv, ATTITUDE_ITEMS, "The survey frame")
    out = {}
    for item in ATTITUDE_ITEMS:
        values = _substantive(_coded(sv, item, [*LIKERT_POINTS, *NON_SUBSTANTIVE], "Attitude items"))
        out[item] = 6 - values if item in REVERSED_ITEMS else values
    return pd.DataFrame(out, index=sv.index)


def attitude_index(sv: pd.DataFrame, min_items: int = MIN_ITEMS) -> pd.Series:
    """Attitude towards newcomers (1 = most negative ... 5 = most positive).

    Mean of the six recoded items (see :func:`recode_items`) over the substantive answers;
    NaN when fewer than ``min_items`` of the six are substantive.
    """
    if not 1 <= min_items <= len(ATTITUDE_ITEMS):
        raise InputError(f"min_items must be between 1 and {len(ATTITUDE_ITEMS)}, got {min_items}.")
    items = recode_items(sv).to_numpy()
    answered = np.isfinite(items).sum(axis=1)
    with np.errstate(invalid="ignore"):
        total = np.nansum(items, axis=1)
        index = np.where(answered >= min_items, total / np.maximum(answered, 1), np.nan)
    return pd.Series(index, index=sv.index, name="attitude_index")
