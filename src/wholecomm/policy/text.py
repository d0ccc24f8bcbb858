"""Prose helpers of the local-policies page: lists of areas in words and the format of
a p-value in a sentence."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..numerics import ties
from .coding import PolicyInputError


def p_format(p_value: float) -> str:
    """Format string for a p-value in prose: ``"p < 0.001"`` below 0.001, otherwise
    ``"p = {:.2g}"`` (two significant digits)."""
    if not 0 <= p_value <= 1:
        raise ValueError(f"p_format: a p-value lies between 0 and 1, got {p_value}.")
    return "p < 0.001" if p_value < 0.001 else "p = {:.2g}"


def _join_words(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def most_and_least(by_area: pd.DataFrame) -> dict:
    """The areas with the highest and the lowest share in :func:`~wholecomm.policy.measures.measures_by_area` (ties
    are all named; names in Markdown italics, e.g. "*labour market* and *housing*"), with
    their share and interval."""
    if by_area.empty:
        raise PolicyInputError("most_and_least: empty table.")
    out = {}
    for key, value in (("most", by_area["share_pct"].max()), ("least", by_area["share_pct"].min())):
        rows = by_area[ties(by_area["share_pct"], value).to_numpy()]
        out[key] = {
            "areas": _join_words([f"*{a.lower()}*" for a in rows["area"]]),
            "n_areas": len(rows),
            "share_pct": float(value),
            "ci_low_pct": float(rows["ci_low_pct"].min()),
            "ci_high_pct": float(rows["ci_high_pct"].max()),
        }
    return out


def area_list_md(areas: str) -> str:
    """Prose form of a "; "-separated list of area labels (as in :func:`~wholecomm.policy.typology.typology_summary`):
    lower case, in Markdown italics, joined with commas and "and"."""
    if areas == "no area":
        return "no area"
    return _join_words([f"*{a.strip().lower()}*" for a in areas.split(";")])
