"""The policy data: categories, reader-facing labels, the input contract and
:func:`prepare`, which joins the coded policies (one row per locality x policy area)
with the localities' characteristics and checks them.

Missing values. ``lead_actor`` and ``main_funding`` are empty exactly when a locality has
no measure in the area (a rule of the data package, checked again here); they are only
used for rows with a measure. Any other missing value is an error.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import data, labels
from ..errors import InputError

POLICY_AREAS = labels.POLICY_AREAS
APPROACHES = ["none", "reactive", "proactive"]
LEAD_ACTORS = ["municipality", "ngo", "region", "state", "volunteers"]
RELATIONS = ["cooperative", "conflictual", "decoupled", "hierarchical"]
FUNDING = ["eu", "national", "regional", "local"]
SIZE_CLASSES = ["rural_area", "small_town", "medium_town"]
TRENDS = labels.TRENDS
ORIENTATIONS = ["progressive", "centrist", "conservative"]

#: Codes of the approach in the locality x area matrix and the clustering profile.
APPROACH_CODES = {"none": 0, "reactive": 1, "proactive": 2}

AREA_LABELS = labels.AREA_LABELS
FUNDING_LABELS = {"eu": "EU", "national": "National", "regional": "Regional", "local": "Local (municipal)"}
RELATION_LABELS = {r: r.capitalize() for r in RELATIONS}
LEAD_LABELS = {a: a.capitalize() for a in LEAD_ACTORS} | {"ngo": "NGO"}
TREND_LABELS = {t: t.capitalize() for t in TRENDS}
ORIENTATION_LABELS = {o: o.capitalize() for o in ORIENTATIONS}

#: Reference levels of the logistic regression of proactive policy.
MODEL_REFERENCE = {
    "size_class": "rural_area",
    "economic_trend": "declining",
    "political_orientation": "centrist",
}

POLICY_COLUMNS = {
    "locality_id": None,
    "policy_area": POLICY_AREAS,
    "measure_present": "bool",
    "approach": APPROACHES,
    "lead_actor": LEAD_ACTORS,
    "relation_higher_level": RELATIONS,
    "dedicated_staff": "bool",
    "main_funding": FUNDING,
}
LOCALITY_COLUMNS = {
    "locality_id": None,
    "country": None,
    "size_class": SIZE_CLASSES,
    "economic_trend": TRENDS,
    "political_orientation": ORIENTATIONS,
}
#: Characteristics of a locality carried into the policy rows (when the table has them).
LOCALITY_CHARACTERISTICS = (
    "locality_id",
    "country",
    "size_class",
    "economic_trend",
    "political_orientation",
    "locality_type",
    "population",
)

#: Columns that may be empty (only where the locality has no measure in the area).
OPTIONAL_WITHOUT_MEASURE = ("lead_actor", "main_funding")


class PolicyInputError(InputError):
    """Bad input to an analysis function: names the table, the column and the broken rule."""


# ------------------------------------------------------------- input validation
def check_columns(
    frame: pd.DataFrame,
    spec: dict,
    table: str,
    optional: Iterable[str] = (),
    error: type[ValueError] = PolicyInputError,
) -> pd.DataFrame:
    """Check that ``frame`` has the columns of ``spec`` with valid values; return a copy in
    which enumerated columns are categoricals in the order of ``spec``.

    ``spec`` maps a column to ``None`` (any non-empty value), ``"bool"`` (True/False, no
    missing value) or a list of allowed values. Columns listed in ``optional`` may hold
    missing values; all others may not. Nothing is coerced: a value outside the allowed
    set raises an error naming the column and the values.
    """
    if not isinstance(frame, pd.DataFrame):
        raise error(f"{table}: expected a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in spec if c not in frame.columns]
    if missing:
        raise error(f"{table}: missing column(s) {missing}; the table has {list(frame.columns)}.")
    if frame.empty:
        raise error(f"{table}: the table has no rows.")
    out = frame.copy()
    optional = set(optional)
    for col, rule in spec.items():
        values = out[col]
        na = values.isna()
        if na.any() and col not in optional:
            rows = list(np.flatnonzero(na.to_numpy())[:10])
            raise error(
                f"{table}: column {col!r} must not be empty; empty in {int(na.sum())} row(s) "
                f"(positions {rows})."
            )
        if rule == "bool":
            if not (
                pd.api.types.is_bool_dtype(values) or values.dropna().map(type).isin([bool, np.bool_]).all()
            ):
                raise error(
                    f"{table}: column {col!r} must hold True/False values, got dtype {values.dtype} "
                    f"(e.g. {values.dropna().iloc[0]!r})."
                )
            out[col] = values.astype(bool)
        elif isinstance(rule, list):
            present = pd.Series(values.dropna().astype(str).unique())
            bad = sorted(set(present) - set(rule))
            if bad:
                raise error(f"{table}: column {col!r} has value(s) {bad} outside the allowed set {rule}.")
            out[col] = pd.Categorical(values.astype("object").where(~na, None), categories=rule)
        else:
            out[col] = values.astype("object").where(~na, None)
            if (out[col].astype(str).str.strip() == "").any():
                raise error(f"{table}: column {col!r} must not hold blank strings.")
    return out


def prepare(
    policies: pd.DataFrame | None = None, localities: pd.DataFrame | None = None, uncoded: str = "raise"
) -> pd.DataFrame:
    """Validated join of ``local_policies`` with the locality characteristics.

    Defaults to the data package. Adds ``proactive`` (approach is proactive) and keeps
    every row (one per locality x area). Raises :class:`PolicyInputError` for missing
    columns, values outside the schema, duplicated locality x area rows, an incomplete
    grid (a locality lacking an area that others have), policy rows for unknown
    localities, localities without policy rows, and rows whose measure_present,
    approach, lead_actor and main_funding disagree.

    ``uncoded``: what to do with localities that have no policy rows at all: ``"raise"``
    (the default), or ``"exclude"`` them from the policy analysis, listing them in
    ``attrs["uncoded_localities"]`` of the result (see :func:`uncoded_note`) so that the
    page can say which were left out.
    """
    if uncoded not in ("raise", "exclude"):
        raise ValueError(f"uncoded must be 'raise' or 'exclude', got {uncoded!r}.")
    lp = data.load("local_policies") if policies is None else policies
    loc = data.load("localities") if localities is None else localities
    lp = check_columns(lp, POLICY_COLUMNS, "local_policies", optional=OPTIONAL_WITHOUT_MEASURE)
    keep = [c for c in LOCALITY_CHARACTERISTICS if c in loc.columns]
    loc = check_columns(loc, LOCALITY_COLUMNS, "localities")[keep]
    if loc["locality_id"].duplicated().any():
        dup = sorted(loc.loc[loc["locality_id"].duplicated(), "locality_id"].unique())
        raise PolicyInputError(f"localities: locality_id must be unique; duplicated: {dup}.")
    key = lp[["locality_id", "policy_area"]].astype(str)
    if key.duplicated().any():
        dup = key[key.duplicated()].drop_duplicates().to_records(index=False).tolist()[:5]
        raise PolicyInputError(f"local_policies: one row per locality and policy_area; duplicated: {dup}.")
    unknown = sorted(set(lp["locality_id"]) - set(loc["locality_id"]))
    if unknown:
        raise PolicyInputError(f"local_policies: locality_id value(s) {unknown} are not in localities.")
    missing_rows = sorted(set(loc["locality_id"]) - set(lp["locality_id"]))
    if missing_rows and uncoded == "exclude":
        loc = loc[~loc["locality_id"].isin(missing_rows)]
    elif missing_rows:
        raise PolicyInputError(
            f"localities {missing_rows} have no rows in local_policies; every locality analysed "
            "must have its policies coded (remove it from localities explicitly if it was "
            "not studied, or prepare(uncoded='exclude') to leave it out and say so)."
        )
    areas = set(lp["policy_area"].astype(str))
    per_loc = lp.groupby("locality_id", observed=True)["policy_area"].nunique()
    short = sorted(per_loc[per_loc < len(areas)].index)
    if short:
        raise PolicyInputError(
            f"local_policies: every locality needs a row for each of the {len(areas)} policy "
            f"areas in the data; incomplete: {short}."
        )
    present = lp["measure_present"]
    none = lp["approach"].astype(str) == "none"
    bad = present == none
    if bad.any():
        raise PolicyInputError(
            "local_policies: approach must be 'none' exactly when measure_present is False; "
            f"broken in {int(bad.sum())} row(s) (positions {list(np.flatnonzero(bad))[:10]})."
        )
    for col in OPTIONAL_WITHOUT_MEASURE:
        bad = present == lp[col].isna()
        if bad.any():
            raise PolicyInputError(
                f"local_policies: {col} must be given exactly when measure_present is True; "
                f"broken in {int(bad.sum())} row(s) (positions {list(np.flatnonzero(bad))[:10]})."
            )
    out = lp.merge(loc, on="locality_id", how="left", validate="many_to_one")
    out["proactive"] = out["approach"].astype(str) == "proactive"
    out = out.sort_values(["locality_id", "policy_area"]).reset_index(drop=True)
    out.attrs["uncoded_localities"] = [str(x) for x in missing_rows]
    return out


def uncoded_note(df: pd.DataFrame) -> str:
    """A sentence for the page: which localities have no coded policies and were left out
    of the policy analysis by ``prepare(uncoded="exclude")`` (or that none were)."""
    left = list(df.attrs.get("uncoded_localities", []))
    if not left:
        return "Every locality has its policies coded."
    return (
        f"{'Locality' if len(left) == 1 else 'Localities'} {', '.join(left)} "
        f"{'has' if len(left) == 1 else 'have'} no coded policies and "
        f"{'is' if len(left) == 1 else 'are'} left out of the policy analysis."
    )


def _prepared(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None:
        # From the data package: localities without coded policies are left out (and
        # named in attrs, see uncoded_note), as on the policy pages.
        return prepare(uncoded="exclude")
    needed = set(POLICY_COLUMNS) | set(LOCALITY_COLUMNS) | {"proactive"}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise PolicyInputError(f"expected the output of policy.prepare(); missing column(s) {missing}.")
    return df


def _measures(df: pd.DataFrame) -> pd.DataFrame:
    m = df[df["measure_present"]]
    if m.empty:
        raise PolicyInputError(
            "local_policies: no locality has any measure; shares among measures are undefined."
        )
    return m
