"""Reader-facing tables of an :class:`~wholecomm.toolbox.assessment.Assessment`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .assessment import Assessment
from .catalogue import MIN_PEERS, NOT_SCORED


# ---------------------------------------------------------------------- figures
def score_fmt(value, fmt: str = "{:.1f}", missing: str = NOT_SCORED) -> str:
    """Format string for a score: ``fmt``, or the ``missing`` text when the value is missing."""
    try:
        ok = value is not None and bool(np.isfinite(value))
    except TypeError:
        ok = False
    return fmt if ok else missing


# ------------------------------------------------------------------ display tables
def scores_table(a: Assessment, year: int | None = None) -> pd.DataFrame:
    """Scores of one year (default the latest) for display: area, answered, score, status."""
    year = a.latest_year if year is None else year
    sc = a.scores[a.scores["year"] == year]
    return pd.DataFrame(
        {
            "policy_area": sc["label"].to_numpy(),
            "answered": [f"{r.answered} of {r.n_indicators}" for r in sc.itertuples(index=False)],
            "score": sc["score"].to_numpy(),
            "status": np.where(sc["scored"], "scored", NOT_SCORED),
        }
    )


def benchmark_table(a: Assessment, unit: str = "overall") -> pd.DataFrame:
    """One unit's benchmarks for display: peer group, peers, median, quartiles, best, own, gap."""
    b = a.benchmarks[a.benchmarks["unit"] == unit]
    return pd.DataFrame(
        {
            "peer_group": b["group_label"].to_numpy(),
            "peers": b["n_peers"].to_numpy(),
            "peers_scored": b["n_scored"].to_numpy(),
            "median": b["median"].to_numpy(),
            "q1": b["q1"].to_numpy(),
            "q3": b["q3"].to_numpy(),
            "best": b["best"].to_numpy(),
            "own": b["own"].to_numpy(),
            "own_minus_median": b["gap"].to_numpy(),
            "note": np.where(b["few_peers"], f"fewer than {MIN_PEERS} peers", ""),
        }
    )


def gaps_table(a: Assessment) -> pd.DataFrame:
    """Gaps to the peer medians for display (areas from the largest shortfall)."""
    g = a.gaps
    out = pd.DataFrame({"policy_area": g["label"].to_numpy(), "own": g["own"].to_numpy()})
    for group in a.groups:
        out[f"gap_{group}"] = g[f"gap_{group}"].to_numpy()
    out["reference_gap"] = g["reference_gap"].to_numpy()
    return out


def priorities_table(a: Assessment, top: int | None = 10) -> pd.DataFrame:
    """The ranked priorities for display (the first ``top``; all with None)."""
    p = a.priorities if top is None else a.priorities.head(top)
    return pd.DataFrame(
        {
            "rank": p["rank"].to_numpy(),
            "indicator": p["indicator_id"].to_numpy(),
            "policy_area": p["area_label"].to_numpy(),
            "current_answer": [f"{c} ({s:.0f})" for c, s in zip(p["answer_code"], p["score"], strict=False)],
            "what_scoring_higher_requires": [
                f"{c} = {t}" for c, t in zip(p["next_code"], p["next_text"], strict=False)
            ],
            "points_gained": p["points_gained"].to_numpy(),
            "area_gap": p["reference_gap"].to_numpy(),
            "priority": p["priority"].to_numpy(),
            "peers_scoring_100": p["peers_100"].to_numpy(),
        }
    )


def changes_table(a: Assessment) -> pd.DataFrame:
    """Scores per year and change from the first to the last year, for display."""
    return a.changes.drop(columns="unit").rename(columns={"label": "policy_area"})
