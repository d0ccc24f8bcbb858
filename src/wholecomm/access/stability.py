"""How stable the page's verdicts are over many synthetic twins (the stored record of
``tools/verdict_stability.py``), and the minimum detectable effect of each test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .result import ALPHA, HypothesisResult

#: Stored result of ``tools/verdict_stability.py`` (how often each verdict comes out
#: over many synthetic twins), with its provenance.
VERDICT_STABILITY_FILE = Path(__file__).parents[1] / "results" / "verdict_stability.json"
#: Separates the verdicts of one joint outcome in the stored record ("supported|inconclusive|...").
JOINT_SEPARATOR = "|"
VERDICTS = ("supported", "inconclusive", "not supported")


def _stability_record(path: Path | None) -> dict:
    import json

    path = VERDICT_STABILITY_FILE if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; create it with `python tools/verdict_stability.py`.")
    return json.loads(path.read_text(encoding="utf-8"))


def verdict_stability(path: Path | None = None) -> pd.DataFrame:
    """The stored verdict-stability record (``tools/verdict_stability.py``) as a table:
    hypothesis, and the percent of synthetic twins with each verdict. ``attrs`` holds the
    provenance (realisations, seeds, bootstrap draws, parameters' sha256, date, command).
    Raises FileNotFoundError naming the command when the record is missing."""
    rec = _stability_record(path)
    n = rec["realisations"]
    rows = [
        {"hypothesis": hid, **{f"{v.replace(' ', '_')}_pct": 100 * c.get(v, 0) / n for v in VERDICTS}}
        for hid, c in rec["counts"].items()
    ]
    out = pd.DataFrame(rows)
    out.attrs.update({k: v for k, v in rec.items() if k not in ("counts", "joint")})
    return out


def joint_verdicts(path: Path | None = None, top: int = 5) -> pd.DataFrame:
    """The joint outcome of the stored verdict-stability record: how often the hypotheses'
    verdicts come out together. One row per combination of verdicts, most frequent first
    (the ``top`` most frequent, then one row "other combinations" for the rest): the
    hypotheses supported, those inconclusive, those not supported ("none" when empty),
    the number of twins and their percent. ``attrs["all_supported_pct"]`` is the percent
    of twins in which every hypothesis is supported (0 when that never happens)."""
    rec = _stability_record(path)
    if "joint" not in rec:
        raise ValueError("joint_verdicts: the record has no joint outcome; rerun tools/verdict_stability.py.")
    n, hyps = rec["realisations"], rec["hypotheses"]
    rows = []
    for key, count in rec["joint"].items():
        verdicts = key.split(JOINT_SEPARATOR)
        if len(verdicts) != len(hyps) or not set(verdicts) <= set(VERDICTS):
            raise ValueError(
                f"joint_verdicts: joint outcome {key!r} does not give one verdict per hypothesis."
            )
        row = {
            v: ", ".join(h for h, hv in zip(hyps, verdicts, strict=True) if hv == v) or "none"
            for v in VERDICTS
        }
        rows.append(row | {"twins": count, "share_pct": 100 * count / n})
    out = pd.DataFrame(rows).sort_values("twins", ascending=False, kind="stable").reset_index(drop=True)
    if len(out) > top:
        rest = out.iloc[top:]
        other = {v: "(various)" for v in VERDICTS} | {
            "twins": int(rest["twins"].sum()),
            "share_pct": float(rest["share_pct"].sum()),
        }
        out = pd.concat([out.iloc[:top], pd.DataFrame([other])], ignore_index=True)
    all_key = JOINT_SEPARATOR.join(["supported"] * len(hyps))
    out.attrs.update(
        realisations=n,
        combinations=len(rec["joint"]),
        all_supported_pct=100 * rec["joint"].get(all_key, 0) / n,
    )
    return out


def minimum_detectable_effects(
    results: dict[str, HypothesisResult], power: float = 0.8, alpha: float = ALPHA
) -> pd.DataFrame:
    """Approximate minimum detectable effect of each test: the true effect that a
    two-sided test at ``alpha`` would detect with probability ``power``, (z_{1-alpha/2} +
    z_power) times the standard error read from the 95% interval's width (on the log
    scale for odds ratios), in the hypothesis' unit and predicted direction. Given at
    ``alpha`` and at ``alpha / m`` (the first step of Holm over the m hypotheses: the
    bar a single real effect must clear when every other hypothesis is null)."""
    if not 0 < power < 1:
        raise ValueError(f"power must lie between 0 and 1, got {power}.")
    m = len(results)
    z95 = stats.norm.ppf(0.975)
    rows = []
    for r in results.values():
        ratio = r.unit == "odds ratio"
        lo, hi = (np.log(r.ci_low), np.log(r.ci_high)) if ratio else (r.ci_low, r.ci_high)
        se = (hi - lo) / (2 * z95)
        sign = 1.0 if r.direction == "greater" else -1.0
        row: dict[str, str | float] = {"hypothesis": r.id, "unit": r.unit}
        for key, a in (("mde", alpha), ("mde_holm_first_step", alpha / m)):
            d = (stats.norm.ppf(1 - a / 2) + stats.norm.ppf(power)) * se
            row[key] = float(np.exp(sign * d)) if ratio else float(sign * d)
        row["estimate"] = r.estimate
        rows.append(row)
    return pd.DataFrame(rows)
