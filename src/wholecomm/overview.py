"""Descriptive overview of the data package (the data-overview and codebook pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from . import data
from .labels import COUNTRY_NAMES, DONT_KNOW_CODE, REFUSED_CODE, SIZE_LABELS, TYPE_LABELS  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    import matplotlib.figure


def localities_by(column: str, localities: pd.DataFrame | None = None, wide: bool = False) -> pd.DataFrame:
    """Counts of localities by country and ``column`` (e.g. locality_type, size_class):
    tidy (one row per country and category) or, with ``wide=True``, one column per category."""
    loc = data.load("localities") if localities is None else localities
    counts = loc.groupby(["country", column], observed=False).size().rename("localities").reset_index()
    if not wide:
        return counts
    table = counts.pivot(index="country", columns=column, values="localities")
    return table.rename_axis(columns=None).reset_index()


def sample_sizes(survey: pd.DataFrame | None = None, localities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Respondents per locality with the locality's country, size class and type."""
    sv = data.load("survey") if survey is None else survey
    loc = data.load("localities") if localities is None else localities
    n = sv.groupby("locality_id", observed=True).size().rename("respondents")
    out = loc.set_index("locality_id")[["country", "size_class", "locality_type"]].join(n, how="left")
    out["respondents"] = out["respondents"].fillna(0).astype(int)
    return out.reset_index()


def missingness(name: str, frame: pd.DataFrame | None = None, missing_only: bool = False) -> pd.DataFrame:
    """Per column: share of empty cells and, for coded survey items, of don't know / refused.

    Shares are of all rows, in percent. Non-substantive codes are counted only in
    integer columns whose schema lists them (8 = don't know, 9 = refused). With
    ``missing_only=True`` only the columns with some missing or non-substantive answer.
    """
    df = data.load(name) if frame is None else frame
    fields = {f["name"]: f for f in data.resource_descriptor(name)["schema"]["fields"]}
    rows = []
    for col in df.columns:
        enum = fields[col].get("constraints", {}).get("enum", [])
        coded = fields[col]["type"] == "integer" and DONT_KNOW_CODE in enum
        rows.append(
            {
                "column": col,
                "empty_pct": 100 * df[col].isna().mean(),
                "dont_know_pct": 100 * (df[col] == DONT_KNOW_CODE).mean() if coded else float("nan"),
                "refused_pct": 100 * (df[col] == REFUSED_CODE).mean() if coded else float("nan"),
            }
        )
    out = pd.DataFrame(rows)
    if missing_only:
        out = out[out[["empty_pct", "dont_know_pct", "refused_pct"]].fillna(0).sum(axis=1) > 0]
    return out


def not_assessed(localities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Localities without a MIPEX-L assessment."""
    loc = data.load("localities") if localities is None else localities
    return loc.loc[~loc["mipex_l_assessed"], ["locality_id", "country", "size_class", "locality_type"]]


def not_assessed_reason() -> str:
    """Why localities lack a MIPEX-L assessment: from the twin's parameters, or a neutral
    statement when the data are supplied by the user."""
    if data.provenance("localities")["kind"] == "synthetic":
        from .twin import load_parameters

        return " ".join(load_parameters()["localities"]["not_assessed_reason"].split())
    return "The supplied data mark this locality as not assessed (mipex_l_assessed = false)."


def codebook(name: str) -> pd.DataFrame:
    """The codebook of one resource, generated from datapackage.json."""
    res = data.resource_descriptor(name)
    rows = []
    for f in res["schema"]["fields"]:
        c = f.get("constraints", {})
        rules = []
        if c.get("required"):
            rules.append("required")
        if c.get("unique"):
            rules.append("unique")
        if "enum" in c:
            rules.append("one of: " + ", ".join(str(v) for v in c["enum"]))
        if "minimum" in c or "maximum" in c:
            rules.append(f"range {c.get('minimum', '-inf')} to {c.get('maximum', 'inf')}")
        if "pattern" in c:
            rules.append(f"pattern {c['pattern']}")
        rows.append(
            {
                "column": f["name"],
                "type": f["type"],
                "unit": f.get("unit", ""),
                "description": f.get("description", ""),
                "rules": "; ".join(rules),
            }
        )
    return pd.DataFrame(rows)


def resource_summary() -> pd.DataFrame:
    """One row per resource: title, rows, keys, provenance and checksum."""
    frames = data.load_all()
    rows = []
    for res in data.descriptor()["resources"]:
        prov = res.get("provenance", {})
        schema = res["schema"]
        fks = [f"{fk['fields']} -> {fk['reference']['resource']}" for fk in schema.get("foreignKeys", [])]
        rows.append(
            {
                "resource": res["name"],
                "file": res["path"],
                "title": res.get("title", ""),
                "rows": len(frames[res["name"]]),
                "columns": len(schema["fields"]),
                "primary key": ", ".join(schema.get("primaryKey", [])),
                "foreign keys": "; ".join(fks),
                "provenance": prov.get("kind", ""),
                "sha256": res.get("hash", "").removeprefix("sha256:")[:12],
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------ figures
def localities_by_type_figure(localities: pd.DataFrame | None = None) -> matplotlib.figure.Figure:
    """Stacked bars: localities of each country by locality type (:func:`localities_by`)."""
    import matplotlib.pyplot as plt

    wide = localities_by("locality_type", localities, wide=True).set_index("country")
    wide = wide.rename(columns=TYPE_LABELS)
    fig, ax = plt.subplots()
    wide.plot(kind="barh", stacked=True, width=0.75, ax=ax)
    ax.set_xlabel("Localities (count)")
    ax.set_ylabel("Country")
    ax.invert_yaxis()
    ax.legend(title="Locality type", bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False)
    return fig


def sample_sizes_figure(
    sizes: pd.DataFrame | None = None, min_n: int = data.MIN_CELL_DEFAULT
) -> matplotlib.figure.Figure:
    """Strip plot of respondents per locality by country and size class (:func:`sample_sizes`);
    localities with 1 to ``min_n - 1`` respondents are left out (disclosure control)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    sizes = sample_sizes() if sizes is None else sizes
    small = sizes["respondents"].between(1, min_n - 1)
    fig, ax = plt.subplots()
    sns.stripplot(
        data=sizes[~small], x="respondents", y="country", hue="size_class", size=7, jitter=0.15, ax=ax
    )
    ax.set_xlabel("Respondents per locality (count)")
    ax.set_ylabel("Country")
    ax.legend(title="Size class", bbox_to_anchor=(1.02, 1), loc="upper left", frameon=False)
    return fig
