"""Crisp-set qualitative comparative analysis (QCA) of the localities: calibration,
truth table, Quine-McCluskey minimisation, necessity, the complex, parsimonious and
intermediate solutions, and their robustness (Ragin 2008; Schneider and Wagemann 2012)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..numerics import tie_round
from .coding import PolicyInputError, _prepared
from .measures import locality_summary

#: Conditions of the crisp-set QCA and how each is calibrated (1 = member of the set).
QCA_CONDITIONS = {
    "MEDIUM": "medium-sized town: size_class is medium_town (50,000 to 250,000 inhabitants)",
    "CAPACITY": "capacity: dedicated integration staff or body in at least one policy area",
    "THRIVING": "thriving economy: economic_trend is improving",
    "PROGRESSIVE": "progressive local government: political_orientation is progressive",
}
QCA_OUTCOME = "PROACTIVE"
#: Anchors of the outcome calibration (Ragin 2008, the direct method): the share of a
#: locality's measures that are proactive at which it is fully out of the set of
#: localities with proactive policy, at the crossover (membership 0.5) and fully in. The
#: crossover lies strictly between 3/7 and 1/2: with at most eight policy areas no
#: locality can have a share of 0.45, so no case sits on the point of maximal ambiguity,
#: and a locality with exactly half of its measures proactive is more in than out.
QCA_OUTCOME_ANCHORS = {"full_exclusion": 0.2, "crossover": 0.45, "full_inclusion": 0.8}
QCA_OUTCOME_CROSSOVER = QCA_OUTCOME_ANCHORS["crossover"]
QCA_OUTCOME_RULE = (
    "proactive policy: membership above 0.5 in the set calibrated from the share of the locality's "
    "measures that are proactive (direct method; anchors: fully out at {full_exclusion:.0%}, crossover at "
    "{crossover:.0%}, fully in at {full_inclusion:.0%}); a locality with no measure is fully out"
).format(**QCA_OUTCOME_ANCHORS)
QCA_CONSISTENCY_THRESHOLD = 0.8
QCA_FREQUENCY_THRESHOLD = 1


def outcome_membership(share: pd.Series, anchors: dict | None = None) -> pd.Series:
    """Fuzzy membership in the outcome set by Ragin's (2008) direct method: the log-odds of
    membership are 3 at the full-inclusion anchor, 0 at the crossover and -3 at the
    full-exclusion anchor, linear in ``share`` on each side of the crossover. A missing
    share (no measure) is fully out (0). Raises :class:`~wholecomm.policy.coding.PolicyInputError` naming the cases
    when a share sits exactly on the crossover, where membership is maximally ambiguous."""
    a = {**QCA_OUTCOME_ANCHORS, **(anchors or {})}
    lo, c, hi = a["full_exclusion"], a["crossover"], a["full_inclusion"]
    if not 0 <= lo < c < hi <= 1:
        raise PolicyInputError(
            f"QCA outcome anchors must satisfy 0 <= full_exclusion < crossover < full_inclusion <= 1, got {a}."
        )
    x = pd.Series(share, dtype=float)
    on_crossover = x.index[tie_round(x.fillna(-1)) == tie_round(c)].tolist()
    if on_crossover:
        raise PolicyInputError(
            f"QCA outcome calibration: case(s) {on_crossover} have a share of proactive measures exactly at "
            f"the crossover {c}; choose a crossover that no case takes."
        )
    log_odds = np.where(x >= c, 3 * (x - c) / (hi - c), -3 * (c - x) / (c - lo))
    member = pd.Series(1 / (1 + np.exp(-log_odds)), index=x.index)
    return member.where(x.notna(), 0.0)


def qca_data(df: pd.DataFrame | None = None, crossover: float = QCA_OUTCOME_CROSSOVER) -> pd.DataFrame:
    """Crisp-set calibration of every locality (index: locality_id), following
    :data:`QCA_CONDITIONS` and :data:`QCA_OUTCOME_ANCHORS` (with ``crossover`` in place of
    the anchors' crossover). Also returns the share of proactive measures, the fuzzy
    outcome membership (:func:`outcome_membership`) and the number of measures the outcome
    rests on."""
    loc = locality_summary(df).set_index("locality_id")
    out = pd.DataFrame(
        {
            "MEDIUM": (loc["size_class"].astype(str) == "medium_town").astype(int),
            "CAPACITY": loc["dedicated_staff_any"].astype(int),
            "THRIVING": (loc["economic_trend"].astype(str) == "improving").astype(int),
            "PROGRESSIVE": (loc["political_orientation"].astype(str) == "progressive").astype(int),
        },
        index=loc.index,
    )
    share = loc["share_proactive"].where(loc["measures"] > 0)
    membership = outcome_membership(share, {"crossover": crossover})
    out[QCA_OUTCOME] = (membership > 0.5).astype(int)
    out["measures"] = loc["measures"]
    out["share_proactive"] = share
    out["outcome_membership"] = membership
    return out


def qca_calibration_table() -> pd.DataFrame:
    """The calibration rules of the QCA conditions and outcome, as a table."""
    return pd.DataFrame(
        {
            "set": [*QCA_CONDITIONS, QCA_OUTCOME],
            "role": ["condition"] * len(QCA_CONDITIONS) + ["outcome"],
            "membership = 1 when": [*QCA_CONDITIONS.values(), QCA_OUTCOME_RULE],
        }
    )


def config_label(values: Sequence, conditions: Sequence[str]) -> str:
    """QCA notation of a configuration or term: ``A*~B`` (``~`` = absent; ``-`` entries skipped)."""
    parts = [c if v == 1 else f"~{c}" for c, v in zip(conditions, values, strict=False) if v in (0, 1)]
    return "*".join(parts) if parts else "(tautology)"


def _check_crisp(crisp: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(crisp, pd.DataFrame):
        raise PolicyInputError("QCA: expected a DataFrame of crisp (0/1) set memberships.")
    missing = [c for c in columns if c not in crisp.columns]
    if missing:
        raise PolicyInputError(f"QCA: missing column(s) {missing}.")
    if crisp.empty:
        raise PolicyInputError("QCA: no cases.")
    sub = crisp[list(columns)]
    if sub.isna().any().any():
        col = sub.columns[sub.isna().any()].tolist()
        raise PolicyInputError(f"QCA: missing set membership in column(s) {col}; calibrate every case.")
    bad = [
        c
        for c in columns
        if not set(pd.unique(sub[c].astype(int) if pd.api.types.is_bool_dtype(sub[c]) else sub[c])) <= {0, 1}
    ]
    if bad:
        raise PolicyInputError(
            f"QCA: crisp-set memberships must be 0 or 1; column(s) {bad} hold other values."
        )
    return sub.astype(int)


def truth_table(
    crisp: pd.DataFrame,
    conditions: Sequence[str] = tuple(QCA_CONDITIONS),
    outcome: str = QCA_OUTCOME,
    consistency_threshold: float = QCA_CONSISTENCY_THRESHOLD,
    frequency_threshold: int = QCA_FREQUENCY_THRESHOLD,
) -> pd.DataFrame:
    """Crisp-set QCA truth table: one row per logically possible configuration (2^k).

    For each configuration: ``n`` cases, ``n_outcome`` cases with the outcome,
    ``consistency`` = n_outcome / n (the share of the configuration's cases that show the
    outcome), ``coverage`` = n_outcome / (all cases with the outcome), and ``status``:
    ``consistent`` (n >= frequency_threshold and consistency >= consistency_threshold; the
    configuration enters the minimisation with outcome 1), ``inconsistent`` (n >=
    frequency_threshold and consistency below the threshold; outcome 0), or ``remainder``
    (fewer cases than ``frequency_threshold``, including none: treated as unobserved, a
    logical remainder, whatever its few cases show; ``n`` and ``cases`` still list them).
    ``cases`` lists the case labels (index of ``crisp``).
    """
    conditions = list(conditions)
    if len(conditions) == 0 or len(set(conditions)) != len(conditions):
        raise PolicyInputError("QCA: give at least one condition, each once.")
    if outcome in conditions:
        raise PolicyInputError(f"QCA: the outcome {outcome!r} cannot also be a condition.")
    if not 0 < consistency_threshold <= 1:
        raise PolicyInputError(f"QCA: consistency_threshold must lie in (0, 1], got {consistency_threshold}.")
    if frequency_threshold < 1:
        raise PolicyInputError(f"QCA: frequency_threshold must be at least 1, got {frequency_threshold}.")
    sub = _check_crisp(crisp, [*conditions, outcome])
    total_outcome = int(sub[outcome].sum())
    rows = []
    for values in itertools.product([1, 0], repeat=len(conditions)):
        mask = (sub[conditions] == np.array(values)).all(axis=1)
        n, k = int(mask.sum()), int(sub.loc[mask, outcome].sum())
        consistency = k / n if n else np.nan
        if n < frequency_threshold:
            status = "remainder"
        elif tie_round(consistency) >= tie_round(consistency_threshold):
            status = "consistent"
        else:
            status = "inconsistent"
        rows.append(
            {
                **dict(zip(conditions, values, strict=False)),
                "configuration": config_label(values, conditions),
                "n": n,
                "n_outcome": k,
                "consistency": consistency,
                "coverage": k / total_outcome if total_outcome else np.nan,
                "status": status,
                "outcome": {"consistent": 1, "inconsistent": 0}.get(status, pd.NA),
                "cases": ", ".join(str(c) for c in sub.index[mask]),
            }
        )
    tt = pd.DataFrame(rows)
    tt["outcome"] = tt["outcome"].astype("Int64")
    order = {"consistent": 0, "inconsistent": 1, "remainder": 2}
    tt = tt.sort_values(
        by=["status", "consistency", "n"],
        key=lambda s: s.map(order) if s.name == "status" else s,
        ascending=[True, False, False],
        kind="stable",
    ).reset_index(drop=True)
    tt.attrs.update(
        {
            "conditions": conditions,
            "outcome": outcome,
            "consistency_threshold": consistency_threshold,
            "frequency_threshold": frequency_threshold,
            "cases_with_outcome": total_outcome,
            "cases": int(len(sub)),
        }
    )
    return tt


def _combine(a: tuple, b: tuple):
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y]
    if len(diff) == 1 and a[diff[0]] is not None and b[diff[0]] is not None:
        return tuple(None if i == diff[0] else x for i, x in enumerate(a))
    return None


def _covers(term: tuple, minterm: tuple) -> bool:
    return all(t is None or t == m for t, m in zip(term, minterm, strict=False))


def prime_implicants(minterms: Iterable[tuple]) -> list[tuple]:
    """Quine-McCluskey: all prime implicants of a set of 0/1 configurations (``None`` = dash)."""
    current = {tuple(m) for m in minterms}
    primes: set[tuple] = set()
    while current:
        used, nxt = set(), set()
        items = sorted(current, key=lambda t: tuple(-1 if v is None else v for v in t))
        for a, b in itertools.combinations(items, 2):
            c = _combine(a, b)
            if c is not None:
                nxt.add(c)
                used.update([a, b])
        primes |= current - used
        current = nxt
    # A total order (1 before 0 before "free"), so the result never depends on set iteration
    # order, which varies between Python processes.
    return sorted(
        primes, key=lambda t: (sum(v is not None for v in t), tuple(2 if v is None else 1 - v for v in t))
    )


def _table_conditions(tt: pd.DataFrame, conditions: Sequence[str] | None, caller: str) -> list[str]:
    conditions = list(conditions or tt.attrs.get("conditions") or [])
    if not conditions:
        raise PolicyInputError(f"{caller}: conditions unknown; pass them or use the output of truth_table().")
    return conditions


def _configurations(tt: pd.DataFrame, status: str, conditions: Sequence[str]) -> list[tuple]:
    return [tuple(int(v) for v in row) for row in tt.loc[tt["status"] == status, list(conditions)].to_numpy()]


def _minimal_covers(
    primes: Sequence[tuple], pos: Sequence[tuple], conditions: Sequence[str]
) -> list[list[str]]:
    """Every smallest set of ``primes`` that covers all of ``pos``, as lists of terms."""
    for size in range(1, len(primes) + 1):
        sols = [
            combo
            for combo in itertools.combinations(primes, size)
            if all(any(_covers(p, m) for p in combo) for m in pos)
        ]
        if sols:
            return [[config_label(p, conditions) for p in combo] for combo in sols]
    raise AssertionError("unreachable: the prime implicants always cover the minterms")


def minimise(tt: pd.DataFrame, conditions: Sequence[str] | None = None) -> list[list[str]]:
    """Conservative (complex) solution of a truth table: the consistent configurations are
    minimised by Quine-McCluskey without logical remainders; returns every minimal set of
    prime implicants that covers them (each as a list of terms in QCA notation), in a
    fixed order. An empty list means no configuration is consistent with the outcome."""
    conditions = _table_conditions(tt, conditions, "minimise")
    pos = _configurations(tt, "consistent", conditions)
    if not pos:
        return []
    return _minimal_covers(prime_implicants(pos), pos, conditions)


def _term_membership(crisp: pd.DataFrame, term: str) -> pd.Series:
    member = pd.Series(True, index=crisp.index)
    for lit in term.split("*"):
        neg = lit.startswith("~")
        name = lit[1:] if neg else lit
        if name not in crisp.columns:
            raise PolicyInputError(f"QCA: term {term!r} uses unknown condition {name!r}.")
        member &= crisp[name].astype(int) == (0 if neg else 1)
    return member


def solution_fit(crisp: pd.DataFrame, terms: Sequence[str], outcome: str = QCA_OUTCOME) -> pd.DataFrame:
    """Consistency and coverage of each term of a solution and of the whole solution.

    Term rows: ``consistency`` = ``|term and outcome| / |term|``, ``raw_coverage`` =
    ``|term and outcome| / |outcome|``, ``unique_coverage`` = cases with the outcome covered by
    this term only, over ``|outcome|``; the last row (``term`` = ``solution``) is the union."""
    if not terms:
        raise PolicyInputError("solution_fit: the solution has no terms.")
    y = _check_crisp(crisp, [outcome])[outcome] == 1
    if not y.any():
        raise PolicyInputError("solution_fit: no case shows the outcome; coverage is undefined.")
    members = {t: _term_membership(crisp, t) for t in terms}
    rows = []
    for t, mem in members.items():
        others = pd.Series(False, index=crisp.index)
        for u, m2 in members.items():
            if u != t:
                others |= m2
        rows.append(
            {
                "term": t,
                "cases": int(mem.sum()),
                "cases_with_outcome": int((mem & y).sum()),
                "consistency": (mem & y).sum() / mem.sum() if mem.any() else np.nan,
                "raw_coverage": (mem & y).sum() / y.sum(),
                "unique_coverage": (mem & y & ~others).sum() / y.sum(),
                "localities": ", ".join(str(i) for i in crisp.index[mem & y]),
            }
        )
    sol = pd.Series(False, index=crisp.index)
    for mem in members.values():
        sol |= mem
    rows.append(
        {
            "term": "solution",
            "cases": int(sol.sum()),
            "cases_with_outcome": int((sol & y).sum()),
            "consistency": (sol & y).sum() / sol.sum() if sol.any() else np.nan,
            "raw_coverage": (sol & y).sum() / y.sum(),
            "unique_coverage": np.nan,
            "localities": ", ".join(str(i) for i in crisp.index[sol & y]),
        }
    )
    return pd.DataFrame(rows)


# ------------------------------------------------- QCA: the reporting standard
#: Directional expectations of the intermediate solution: each condition is expected to
#: contribute to a proactive policy when present (1), following the hypotheses of the
#: housing-employment page (size and capacity, a thriving economy, progressive politics).
QCA_EXPECTATIONS = {"MEDIUM": 1, "CAPACITY": 1, "THRIVING": 1, "PROGRESSIVE": 1}
#: Consistency of necessity at or above which a condition is called necessary.
QCA_NECESSITY_THRESHOLD = 0.9


def _parse_term(term: str, conditions: Sequence[str]) -> tuple:
    values = {}
    for lit in term.split("*"):
        neg = lit.startswith("~")
        name = lit[1:] if neg else lit
        if name not in conditions:
            raise PolicyInputError(f"QCA: term {term!r} uses unknown condition {name!r}.")
        values[name] = 0 if neg else 1
    return tuple(values.get(c) for c in conditions)


def necessity(
    crisp: pd.DataFrame,
    conditions: Sequence[str] = tuple(QCA_CONDITIONS),
    outcome: str = QCA_OUTCOME,
    threshold: float = QCA_NECESSITY_THRESHOLD,
) -> pd.DataFrame:
    """Analysis of necessity (Schneider and Wagemann 2012, ch. 9) for each condition and
    its negation: ``consistency`` = ``|X and Y| / |Y|`` (how far Y is a subset of X),
    ``coverage`` = ``|X and Y| / |X|``, and ``relevance`` (relevance of necessity, crisp
    form) = ``|not X| / |not (X and Y)|``: near 0 when X is nearly always present (trivially
    necessary). ``necessary`` when consistency >= ``threshold``."""
    conditions = list(conditions)
    sub = _check_crisp(crisp, [*conditions, outcome])
    y = sub[outcome] == 1
    if not y.any():
        raise PolicyInputError("necessity: no case shows the outcome; necessity is undefined.")
    rows = []
    for c in conditions:
        for label, x in ((c, sub[c] == 1), (f"~{c}", sub[c] == 0)):
            both = int((x & y).sum())
            not_both = int((~(x & y)).sum())
            rows.append(
                {
                    "condition": label,
                    "consistency": both / int(y.sum()),
                    "coverage": both / int(x.sum()) if x.any() else np.nan,
                    "relevance": int((~x).sum()) / not_both if not_both else np.nan,
                }
            )
    out = pd.DataFrame(rows)
    out["necessary"] = tie_round(out["consistency"]) >= tie_round(threshold)
    return out


def parsimonious(tt: pd.DataFrame, conditions: Sequence[str] | None = None) -> list[list[str]]:
    """Parsimonious solution: the consistent configurations minimised with every logical
    remainder as a "don't care" (any simplifying assumption allowed). Inconsistent
    configurations are never covered (a prime implicant of the consistent and remainder
    rows cannot contain an inconsistent row). Returns every minimal cover, like
    :func:`minimise`."""
    conditions = _table_conditions(tt, conditions, "parsimonious")
    pos = _configurations(tt, "consistent", conditions)
    if not pos:
        return []
    rem = _configurations(tt, "remainder", conditions)
    primes = [p for p in prime_implicants(pos + rem) if any(_covers(p, m) for m in pos)]
    return _minimal_covers(primes, pos, conditions)


def intermediate(
    complex_terms: Sequence[str],
    parsimonious_terms: Sequence[str],
    conditions: Sequence[str],
    expectations: dict | None = None,
) -> list[str]:
    """Intermediate solution (Ragin and Sonnett 2005): each complex term keeps the
    literals of a parsimonious term it contains and the literals in line with the
    directional ``expectations`` (condition -> 1 expected present, 0 expected absent);
    literals against the expectations are dropped (easy counterfactuals). Terms implied
    by another term are removed."""
    conditions = list(conditions)
    expectations = QCA_EXPECTATIONS if expectations is None else expectations
    unknown = sorted(set(expectations) - set(conditions))
    if unknown:
        raise PolicyInputError(f"intermediate: expectations name unknown conditions {unknown}.")
    pars = [_parse_term(t, conditions) for t in parsimonious_terms]
    out = []
    for term in complex_terms:
        c = _parse_term(term, conditions)
        inside = [p for p in pars if all(pv is None or pv == cv for pv, cv in zip(p, c, strict=False))]
        if not inside:
            out.append(c)
            continue
        p = inside[0]
        out.append(
            tuple(
                cv if cv is not None and (pv is not None or expectations.get(name) == cv) else None
                for cv, pv, name in zip(c, p, conditions, strict=False)
            )
        )
    unique = list(dict.fromkeys(out))
    # a term is redundant when another, more general term (a subset of its literals) is kept
    kept = [
        t
        for t in unique
        if not any(
            u != t and all(uv is None or uv == tv for uv, tv in zip(u, t, strict=False)) for u in unique
        )
    ]
    return [config_label(t, conditions) for t in kept]


def qca_solutions(
    crisp: pd.DataFrame,
    conditions: Sequence[str] = tuple(QCA_CONDITIONS),
    outcome: str = QCA_OUTCOME,
    *,
    expectations: dict | None = None,
    negate: bool = False,
    **thresholds: Any,
) -> dict:
    """The three solutions of a truth table: complex (conservative, no remainders),
    parsimonious (all remainders) and intermediate (easy counterfactuals only), each the
    first minimal cover, for the outcome or, with ``negate``, its absence (expectations
    reversed). Also the number of observed configurations and of contradictions
    (observed configurations whose cases disagree on the outcome, 0 < consistency < 1).
    ``thresholds`` (``consistency_threshold``, ``frequency_threshold``) go to
    :func:`truth_table`, whose defaults apply otherwise."""
    conditions = list(conditions)
    data_ = _check_crisp(crisp, [*conditions, outcome]).copy()
    exp = dict(QCA_EXPECTATIONS if expectations is None else expectations)
    if negate:
        data_[outcome] = 1 - data_[outcome]
        exp = {k: 1 - v for k, v in exp.items()}
    tt = truth_table(data_, conditions, outcome, **thresholds)
    comp = minimise(tt, conditions)
    pars = parsimonious(tt, conditions)
    comp1, pars1 = (comp[0] if comp else []), (pars[0] if pars else [])
    inter = intermediate(comp1, pars1, conditions, exp) if comp1 else []
    observed = tt[tt["n"] > 0]
    return {
        "outcome": f"~{outcome}" if negate else outcome,
        "truth_table": tt,
        "complex": comp1,
        "parsimonious": pars1,
        "intermediate": inter,
        "n_complex_solutions": len(comp),
        "n_observed": int(len(observed)),
        "n_contradictions": int(((observed["consistency"] > 0) & (observed["consistency"] < 1)).sum()),
    }


def qca_robustness(
    df: pd.DataFrame | None = None,
    consistency_thresholds: Sequence[float] = (0.75, 0.8, 0.9, 1.0),
    frequency_thresholds: Sequence[int] = (1, 2),
    crossovers: Sequence[float] = (0.35, QCA_OUTCOME_CROSSOVER, 0.55),
) -> pd.DataFrame:
    """The complex and parsimonious solutions over a grid of consistency thresholds,
    frequency cut-offs and outcome calibrations (the crossover of the share of proactive
    measures; the default grid places localities with exactly half of their measures
    proactive in the set at 0.35 and 0.45, out of it at 0.55), one row per combination,
    with whether each term of the book's solution (default settings) appears."""
    pdf = _prepared(df)
    base = qca_solutions(qca_data(pdf))
    rows = []
    for ot in crossovers:
        crisp = qca_data(pdf, ot)
        for ct in consistency_thresholds:
            for ft in frequency_thresholds:
                sol = qca_solutions(crisp, consistency_threshold=ct, frequency_threshold=ft)
                rows.append(
                    {
                        "outcome_crossover": ot,
                        "consistency_threshold": ct,
                        "frequency_threshold": ft,
                        "cases_with_outcome": int(crisp[QCA_OUTCOME].sum()),
                        "complex": " + ".join(sol["complex"]) or "(none)",
                        "parsimonious": " + ".join(sol["parsimonious"]) or "(none)",
                        "baseline_terms_kept": sum(t in sol["complex"] for t in base["complex"]),
                        "same_as_baseline": sol["complex"] == base["complex"],
                    }
                )
    out = pd.DataFrame(rows)
    out.attrs["baseline_terms"] = len(base["complex"])
    return out


# ------------------------------------------------------------ tables of the page
def qca_truth_table(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The truth table of the page's calibration (:func:`qca_data`, :func:`truth_table`),
    without the coded ``outcome`` column (``status`` says the same in words)."""
    return truth_table(qca_data(df)).drop(columns=["outcome"])


def qca_solution_table(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Fit of the first conservative solution (:func:`minimise`, :func:`solution_fit`);
    an empty table with the same columns when no configuration passes the thresholds."""
    crisp = qca_data(df)
    solutions = minimise(truth_table(crisp))
    if not solutions:
        columns = ["term", "cases", "cases_with_outcome", "consistency", "raw_coverage", "unique_coverage"]
        return pd.DataFrame(columns=[*columns, "localities"])
    return solution_fit(crisp, solutions[0])


def qca_necessity_table(df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Analysis of necessity (:func:`necessity`) on the page's calibration."""
    return necessity(qca_data(df))
