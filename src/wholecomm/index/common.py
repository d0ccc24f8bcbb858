"""Constants of MIPEX-L (areas, stages, labels, defaults) and the input checks its modules share."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .. import labels


class _LazyStats:
    """``scipy.stats``, imported on first use: scoring alone (the toolbox's command) does
    not pay for importing it."""

    def __getattr__(self, name):
        from scipy import stats as _stats

        return getattr(_stats, name)


stats = _LazyStats()

#: Policy areas in catalogue order, policy-cycle stages in order, and their labels (defined in labels).
MIPEX_AREAS = labels.MIPEX_AREAS
STAGES = labels.STAGES
AREA_LABELS = labels.AREA_LABELS
STAGE_LABELS = labels.STAGE_LABELS
#: The final policy brief's claim: these areas lead ...
LEAD_AREAS = ("language_orientation", "labour_market")
#: ... and these lag.
LAG_AREAS = ("political_participation", "anti_discrimination", "intercultural_relations")

MIN_ANSWERED_SHARE = 2 / 3
#: Seed of every random procedure of this module unless another is given.
DEFAULT_SEED = 1004714
#: Aggregation rules (see :func:`~wholecomm.index.aggregation.aggregate`).
RULES = ("area", "indicator", "geometric")
_EPS = 1e-9


# ------------------------------------------------------------------ validation
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
