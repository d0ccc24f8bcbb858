"""A typology of localities by Ward hierarchical clustering of their coded policy
profiles, with the silhouette rule for the number of types and bootstrap stability."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..numerics import first_max, tie_round
from .coding import APPROACH_CODES, AREA_LABELS, PolicyInputError, _prepared
from .measures import approach_matrix, locality_summary

#: Coding of the clustering profile: one value per policy area.
PROFILE_CODING = {"none": 0.0, "reactive": 0.5, "proactive": 1.0}


def policy_profile(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Localities x areas profile for clustering: approach coded none 0, reactive 0.5,
    proactive 1 (:data:`PROFILE_CODING`), so every area weighs the same and a proactive
    measure counts twice as much as a reactive one."""
    return (
        approach_matrix(df).replace({v: PROFILE_CODING[k] for k, v in APPROACH_CODES.items()}).astype(float)
    )


def silhouette(dist: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette width (Rousseeuw 1987) from a square distance matrix; a case
    alone in its cluster has width 0."""
    labels = np.asarray(labels)
    uniq = np.unique(labels)
    if len(uniq) < 2 or len(uniq) >= len(labels):
        raise ValueError("silhouette needs between 2 and n - 1 clusters.")
    widths = np.zeros(len(labels))
    for i in range(len(labels)):
        own = labels == labels[i]
        if own.sum() == 1:
            continue
        a = dist[i, own].sum() / (own.sum() - 1)
        b = min(dist[i, labels == c].mean() for c in uniq if c != labels[i])
        widths[i] = 0.0 if max(a, b) == 0 else (b - a) / max(a, b)
    return float(widths.mean())


def silhouette_reading(width: float) -> str:
    """Conventional reading of a mean silhouette width (Kaufman and Rousseeuw 1990):
    above 0.70 strong, above 0.50 reasonable, above 0.25 weak structure, otherwise no
    substantial structure."""
    if not np.isfinite(width):
        raise ValueError("silhouette_reading: the width must be a finite number.")
    if width > 0.70:
        return "a strong structure"
    if width > 0.50:
        return "a reasonable structure"
    if width > 0.25:
        return "a weak structure that could be artificial"
    return "no substantial structure: the types overlap and summarise the variation rather than reveal natural groups"


@dataclass
class Typology:
    """Result of :func:`ward_typology`."""

    profile: pd.DataFrame
    linkage: np.ndarray
    k: int
    silhouettes: pd.DataFrame
    labels: pd.Series
    rule: str = field(default="")


def ward_typology(profile: pd.DataFrame | None = None, k_values: Iterable[int] = range(2, 7)) -> Typology:
    """Ward hierarchical clustering (Euclidean distance) of the locality policy profile.

    Number of types: the k in ``k_values`` with the largest mean silhouette width (ties:
    the smaller k). Types are numbered 1, 2, ... from the highest to the lowest mean
    profile score (type 1 has the most developed, most proactive policies).
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist, squareform

    prof = policy_profile() if profile is None else profile
    if prof.isna().any().any():
        raise PolicyInputError("ward_typology: the profile has missing values.")
    k_values = sorted(set(int(k) for k in k_values))
    if not k_values or k_values[0] < 2 or k_values[-1] >= len(prof):
        raise PolicyInputError(
            f"ward_typology: k must lie between 2 and n - 1 = {len(prof) - 1}; got {k_values}."
        )
    X = prof.to_numpy(float)
    d = pdist(X, metric="euclidean")
    Z = linkage(d, method="ward")
    D = squareform(d)
    sil = []
    for k in k_values:
        lab = fcluster(Z, t=k, criterion="maxclust")
        sil.append(
            {
                "k": k,
                "clusters_formed": len(np.unique(lab)),
                "silhouette": silhouette(D, lab) if 2 <= len(np.unique(lab)) < len(lab) else np.nan,
            }
        )
    sil = pd.DataFrame(sil)
    best = sil.loc[first_max(sil["silhouette"])]
    k = int(best["k"])
    raw = pd.Series(fcluster(Z, t=k, criterion="maxclust"), index=prof.index)
    means = tie_round(prof.mean(axis=1).groupby(raw).mean()).sort_values(ascending=False, kind="stable")
    relabel = {old: new for new, old in enumerate(means.index, start=1)}
    labels = raw.map(relabel).rename("type")
    rule = (
        f"Ward linkage on Euclidean distances between profiles; k chosen among {k_values} as the one with "
        "the largest mean silhouette width (ties: smaller k)."
    )
    return Typology(profile=prof, linkage=Z, k=k, silhouettes=sil, labels=labels, rule=rule)


def typology_summary(typ: Typology, df: pd.DataFrame | None = None, majority: float = 0.5) -> pd.DataFrame:
    """One row per type: its localities (codes), size, mean number of measures and share
    proactive, structural make-up (shares of medium towns, localities with staff,
    improving economy, progressive government) and what characterises its policies:
    areas where more than ``majority`` of its members are proactive, and areas where more
    than ``majority`` have no measure."""
    loc = locality_summary(df).set_index("locality_id")
    missing = sorted(set(typ.labels.index) - set(loc.index))
    if missing:
        raise PolicyInputError(
            f"typology_summary: localities {missing} of the typology are not in the policy data."
        )
    mat = approach_matrix(df)
    rows = []
    for t, members in typ.labels.groupby(typ.labels):
        ids = list(members.index)
        sub, m = loc.loc[ids], mat.loc[ids]
        proactive = [
            AREA_LABELS.get(a, a)
            for a in m.columns
            if (m[a] == APPROACH_CODES["proactive"]).mean() > majority
        ]
        absent = [
            AREA_LABELS.get(a, a) for a in m.columns if (m[a] == APPROACH_CODES["none"]).mean() > majority
        ]
        rows.append(
            {
                "type": int(t),
                "localities": len(ids),
                "members": ", ".join(ids),
                "mean_measures": sub["measures"].mean(),
                "share_proactive_pct": 100 * sub["proactive_measures"].sum() / max(sub["measures"].sum(), 1),
                "medium_towns": int((sub["size_class"].astype(str) == "medium_town").sum()),
                "rural_areas": int((sub["size_class"].astype(str) == "rural_area").sum()),
                "with_staff": int(sub["dedicated_staff_any"].sum()),
                "medium_town_pct": 100 * (sub["size_class"].astype(str) == "medium_town").mean(),
                "rural_area_pct": 100 * (sub["size_class"].astype(str) == "rural_area").mean(),
                "staff_pct": 100 * sub["dedicated_staff_any"].mean(),
                "improving_pct": 100 * (sub["economic_trend"].astype(str) == "improving").mean(),
                "progressive_pct": 100 * (sub["political_orientation"].astype(str) == "progressive").mean(),
                "mostly_proactive_in": "; ".join(proactive) if proactive else "no area",
                "mostly_without_measures_in": "; ".join(absent) if absent else "no area",
            }
        )
    return pd.DataFrame(rows)


def typology_stability(typ: Typology, n_boot: int = 200, seed: int = 20240517) -> pd.DataFrame:
    """Clusterwise stability of a typology (Hennig 2007): the localities are resampled
    with replacement ``n_boot`` times, Ward clustering with the same number of types is
    repeated on each sample, and each original type is compared with its most similar
    bootstrap cluster by the Jaccard similarity (over the localities drawn). Returns per
    type: localities, mean Jaccard, and the share of samples in which the type dissolves
    (Jaccard at most 0.5); Hennig reads a mean below 0.6 as unstable and 0.75 or more as
    stable."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if n_boot < 1:
        raise PolicyInputError(f"typology_stability: n_boot must be at least 1, got {n_boot}.")
    X = typ.profile.to_numpy(float)
    labels = typ.labels.reindex(typ.profile.index).to_numpy()
    n = len(X)
    rng = np.random.default_rng(seed)
    types = sorted(np.unique(labels))
    jac: dict[int, list[float]] = {t: [] for t in types}
    for _ in range(n_boot):
        idx = rng.integers(0, n, size=n)
        uniq = np.unique(idx)
        if len(uniq) <= typ.k:
            continue
        # cluster the distinct localities drawn, each with its multiplicity as repeated rows
        lab_b = fcluster(linkage(X[idx], method="ward"), t=typ.k, criterion="maxclust")
        first = {i: lab_b[np.flatnonzero(idx == i)[0]] for i in uniq}
        boot = np.array([first[i] for i in uniq])
        orig = labels[uniq]
        for t in types:
            a = orig == t
            if not a.any():
                continue
            best = max(((a & (boot == c)).sum() / (a | (boot == c)).sum()) for c in np.unique(boot))
            jac[t].append(best)
    rows = [
        {
            "type": int(t),
            "localities": int((labels == t).sum()),
            "mean_jaccard": float(np.mean(v)),
            "dissolved_pct": 100 * float(np.mean(np.array(v) <= 0.5)),
            "samples": len(v),
        }
        for t, v in jac.items()
    ]
    return pd.DataFrame(rows)


# ------------------------------------------------------------ tables of the page
def _page_typology(df: pd.DataFrame | None) -> Typology:
    return ward_typology(policy_profile(_prepared(df)))


def typology_table(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The types of the page's Ward typology described (:func:`ward_typology` of
    :func:`policy_profile`, then :func:`typology_summary`)."""
    df = _prepared(df)
    return typology_summary(_page_typology(df), df)


def silhouette_table(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mean silhouette width of the page's Ward typology by number of types."""
    return _page_typology(df).silhouettes[["k", "silhouette"]]


def typology_stability_table(df: pd.DataFrame | None = None, n_boot: int = 200) -> pd.DataFrame:
    """Bootstrap stability of each type of the page's Ward typology (:func:`typology_stability`)."""
    return typology_stability(_page_typology(df), n_boot)
