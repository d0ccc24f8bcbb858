"""Local MIPEX-L scores against the national MIPEX 2020 scores of each country."""

from __future__ import annotations

import pandas as pd

from .. import paths
from ..errors import InputError, require_columns
from .associations import _pearson_ci
from .scoring import overall_scores


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
    from .. import data

    loc = data.load("localities") if localities is None else localities
    nat = data.load("national_mipex") if national is None else national
    ovr = overall_scores() if overall is None else overall
    require_columns(loc, ["locality_id", "country"], "localities")
    require_columns(nat, ["iso2", "mipex2020_overall", "source_url"], "national")
    if nat["iso2"].astype(str).duplicated().any():
        raise InputError("national: iso2 must be unique.")
    sel = loc[loc["mipex_l_assessed"].astype(bool)] if "mipex_l_assessed" in loc.columns else loc
    sel = sel[sel["locality_id"].astype(str).isin(ovr.index.astype(str))]
    natx = nat.assign(iso2=nat["iso2"].astype(str)).set_index("iso2")
    countries = sel["country"].astype(str)
    absent = sorted(set(countries) - set(natx.index))
    if absent:
        raise InputError(f"national: no MIPEX 2020 score for countries {absent}.")
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

    from .. import data

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
        "country_r_ci_low": lo,
        "country_r_ci_high": hi,
        "country_r_p": p,
    }
