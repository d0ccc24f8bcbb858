"""The coded interviews: their schema, validation and join with the localities, and
how many discussed each topic (the missing-value rule)."""

from __future__ import annotations

import pandas as pd

from .. import data, policy
from ..errors import InputError
from ..policy import check_columns

LEVELS = ["easy", "mixed", "hard"]
ROLES = ["official", "ngo", "employer", "migrant", "resident"]
THEMES = [
    "theme_housing_shortage",
    "theme_housing_discrimination",
    "theme_registration_barriers",
    "theme_labour_shortage",
    "theme_employment_discrimination",
    "theme_language_barriers",
    "theme_transport",
    "theme_onward_migration",
]
DOMAINS = {"housing": "housing_access", "employment": "employment_access"}

INTERVIEW_COLUMNS = {
    "interview_id": None,
    "locality_id": None,
    "role": ROLES,
    "housing_access": LEVELS,
    "employment_access": LEVELS,
    **{t: "bool" for t in THEMES},
}
LOCALITY_COLUMNS = {
    "locality_id": None,
    "country": None,
    "size_class": policy.SIZE_CLASSES,
    "economic_trend": policy.TRENDS,
    "political_orientation": policy.ORIENTATIONS,
    "locality_type": ["thriving_experienced", "thriving_new", "struggling_experienced", "struggling_new"],
}


class AccessInputError(InputError):
    """Bad input to an access analysis: names the table, the column and the broken rule."""


# ------------------------------------------------------------------------ input
def prepare(interviews: pd.DataFrame | None = None, localities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Validated join of the coded interviews with their locality's characteristics.

    Raises :class:`AccessInputError` for missing columns, values outside the schema,
    empty theme values, duplicated interview codes and interviews from unknown
    localities. ``housing_access`` and ``employment_access`` may be empty (not discussed).
    """
    iv = data.load("interviews") if interviews is None else interviews
    loc = data.load("localities") if localities is None else localities
    iv = check_columns(
        iv, INTERVIEW_COLUMNS, "interviews", optional=tuple(DOMAINS.values()), error=AccessInputError
    )
    loc = check_columns(loc, LOCALITY_COLUMNS, "localities", error=AccessInputError)[list(LOCALITY_COLUMNS)]
    for col in DOMAINS.values():
        iv[col] = iv[col].cat.as_ordered()
    if iv["interview_id"].duplicated().any():
        dup = sorted(iv.loc[iv["interview_id"].duplicated(), "interview_id"].unique())[:10]
        raise AccessInputError(f"interviews: interview_id must be unique; duplicated: {dup}.")
    if loc["locality_id"].duplicated().any():
        raise AccessInputError("localities: locality_id must be unique.")
    unknown = sorted(set(iv["locality_id"]) - set(loc["locality_id"]))
    if unknown:
        raise AccessInputError(f"interviews: locality_id value(s) {unknown} are not in localities.")
    return iv.merge(loc, on="locality_id", how="left", validate="many_to_one")


def _prepared(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None:
        return prepare()
    missing = sorted((set(INTERVIEW_COLUMNS) | set(LOCALITY_COLUMNS)) - set(df.columns))
    if missing:
        raise AccessInputError(f"expected the output of access.prepare(); missing column(s) {missing}.")
    return df


def discussion_counts(df: pd.DataFrame | None = None) -> dict:
    """How many interviews discussed housing, employment, both or neither (the
    missing-value rule: an interview enters an estimate only if it discussed the topic)."""
    df = _prepared(df)
    h, e = df["housing_access"].notna(), df["employment_access"].notna()
    return {
        "interviews": len(df),
        "localities": int(df["locality_id"].nunique()),
        "housing_discussed": int(h.sum()),
        "housing_not_discussed": int((~h).sum()),
        "employment_discussed": int(e.sum()),
        "employment_not_discussed": int((~e).sum()),
        "both_discussed": int((h & e).sum()),
        "neither_discussed": int((~h & ~e).sum()),
    }
