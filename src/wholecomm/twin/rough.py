"""The rough twin: data shaped like real files rather than like the book's tidy twin.

``python -m wholecomm.twin.rough OUT_DIR --variant N`` writes a complete data package
(``datapackage.json`` with the book's schema, plus the CSV files) into ``OUT_DIR`` and
``truth.json`` beside it: the relationships planted in the data (positive, negative or
zero) that the book's verdicts must agree with, or call inconclusive.

It is generated independently of the default twin (its own code and seeds below; the
book's ``data/`` is only read, for the schema and the national MIPEX reference) and
departs from it the way real data do:

* uneven localities per country (3 to 8), ids other than 01-05;
* survey samples from 8 to several hundred respondents per locality, one locality not
  surveyed, margin cells with people but no respondents;
* a country absent from one resource (variant 1: the survey; variant 2: the interviews);
* a different MIPEX-L catalogue (other ids, unequal numbers of indicators per area), a
  few localities not assessed and several assessed ones without an overall score;
* a locality with no coded policies;
* effects of the opposite sign to the hypotheses and zero effects.

Variant 1 also supplies the national MIPEX file in its own folder (a published resource
keeps its source whichever folder supplies it); variant 2 leaves it to the book's package.

The package is marked as data supplied by the user (provenance kind ``user``): the book
must treat it exactly as it would treat real files.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from .. import labels
from .generate import (
    CONTACT_SETTINGS,
    DONT_KNOW,
    GENERATED_RESOURCES,
    SURVEY_COLUMNS,
    SURVEY_LIKERT,
    expit,
    to_csv_bytes,
)

GENERATOR = "wholecomm.twin.rough"
VERSION = "1.0.0"
COUNTRIES = ["AT", "BE", "DE", "ES", "IT", "NL", "PL", "SE"]
AREAS = labels.MIPEX_AREAS
POLICY_AREAS = labels.POLICY_AREAS
STAGES = labels.STAGES
SIZE_RANGES = {"rural_area": (600, 4_900), "small_town": (5_000, 49_000), "medium_town": (50_000, 200_000)}
SIZE_CLASSES = list(SIZE_RANGES)
TRENDS = labels.TRENDS
ORIENTATIONS = ["progressive", "centrist", "conservative"]
LEVELS = np.array(["easy", "mixed", "hard"])

#: What each variant plants. Signs are those of the hypothesis' estimand relative to its
#: null value (odds ratio 1, difference 0); "0" means no effect at all in the generator.
VARIANTS: dict[int, dict] = {
    1: {
        "seed": 7101,
        "per_country": {"AT": 8, "BE": 3, "DE": 6, "ES": 4, "IT": 7, "NL": 5, "PL": 3, "SE": 7},
        "absent": {"survey": "SE"},
        "supplies_national": True,
        # Ordered-logit index of access difficulty (higher = harder), by economic trend.
        "housing_eta": {"declining": 0.8, "stable": 0.2, "improving": -0.8},
        "employment_eta": {"declining": 0.4, "stable": 0.9, "improving": 1.6},
        "staff_logit": {"rural_area": 0.0, "small_town": 0.0, "medium_town": 0.0},
        "proactive_logit": {"rural_area": 1.0, "small_town": 0.0, "medium_town": -1.0},
        "proactive_housing_progressive": 0.0,
        "discrimination": {"housing": 0.20, "employment": 0.45},
        "onward": {"with": 0.30, "without": 0.30},
        "registration": {"subject": "ES", "subject_p": 0.10, "other_p": 0.40},
        "index_points_per_10": -0.25,
        "contact_points": 0.35,
    },
    2: {
        "seed": 7202,
        "per_country": {"AT": 4, "BE": 7, "DE": 3, "ES": 6, "IT": 5, "NL": 8, "PL": 6, "SE": 4},
        "absent": {"interviews": "ES"},
        "supplies_national": False,
        "housing_eta": {"declining": 0.5, "stable": 0.5, "improving": 0.5},
        "employment_eta": {"declining": 0.5, "stable": 0.5, "improving": 0.5},
        "staff_logit": {"rural_area": -1.5, "small_town": 0.0, "medium_town": 1.5},
        "proactive_logit": {"rural_area": 0.0, "small_town": 0.0, "medium_town": 0.0},
        "proactive_housing_progressive": 2.0,
        "discrimination": {"housing": 0.30, "employment": 0.30},
        "onward": {"with": 0.10, "without": 0.40},
        "registration": {"subject": "ES", "subject_p": 0.30, "other_p": 0.30},
        "index_points_per_10": 0.0,
        "contact_points": 0.0,
    },
}


def _rng(seed: int, part: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(b"rough:" + part.encode())])


def _sign(x: float, tol: float = 1e-12) -> str:
    return "0" if abs(x) <= tol else ("+" if x > 0 else "-")


def _hard_share(eta: float) -> float:
    """P(hard) under the ordered logit with cut points 0 and 1 used below."""
    return float(expit(eta - 1.0))


def _ordered(rng, eta: float) -> str:
    u = rng.random()
    p_hard, p_mid = expit(eta - 1.0), expit(eta - 0.0)
    return str(LEVELS[2] if u < p_hard else LEVELS[1] if u < p_mid else LEVELS[0])


# ------------------------------------------------------------------ localities
def _localities(v: dict, seed: int) -> pd.DataFrame:
    from ..data import locality_type

    rng = _rng(seed, "localities")
    rows = []
    for country in COUNTRIES:
        ids = sorted(rng.choice(np.arange(10, 100), size=v["per_country"][country], replace=False))
        for k in ids:
            size = SIZE_CLASSES[rng.choice(3, p=[0.4, 0.4, 0.2])]
            lo, hi = SIZE_RANGES[size]
            trend = TRENDS[rng.integers(3)]
            fb = float(np.clip(rng.lognormal(np.log(7), 0.7), 0.5, 40))
            rows.append(
                {
                    "locality_id": f"{country}-{k:02d}",
                    "country": country,
                    "region_type": ["predominantly_rural", "intermediate", "predominantly_urban"][
                        rng.integers(3)
                    ],
                    "size_class": size,
                    "population": int(np.exp(rng.uniform(np.log(lo), np.log(hi)))),
                    "foreign_born_share_2014": round(fb, 1),
                    "foreign_born_share_now": round(fb + rng.uniform(0, 4), 1),
                    "economic_trend": trend,
                    "unemployment_rate": round(
                        float(
                            np.clip(
                                rng.normal({"declining": 12, "stable": 8, "improving": 5}[trend], 2.5),
                                1.5,
                                30,
                            )
                        ),
                        1,
                    ),
                    "political_orientation": ORIENTATIONS[rng.integers(3)],
                }
            )
    loc = pd.DataFrame(rows)
    loc["locality_type"] = locality_type(loc)
    not_assessed = rng.choice(len(loc), size=3, replace=False)
    loc["mipex_l_assessed"] = ~np.isin(np.arange(len(loc)), not_assessed)
    return loc


# --------------------------------------------------------------------- MIPEX-L
def _catalogue(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A catalogue other than the book's: unequal numbers of indicators per area, other ids."""
    rng = _rng(seed, "catalogue")
    rows, n_per_area = [], rng.integers(3, 8, size=len(AREAS))
    for a, (area, n) in enumerate(zip(AREAS, n_per_area, strict=False)):
        prefix = "".join(chr(ord("P") + (a + j) % 10) for j in range(2)) + chr(ord("A") + a)
        for i in range(int(n)):
            rows.append(
                {
                    "indicator_id": f"{prefix}{i + 11:02d}",
                    "area": area,
                    "stage": STAGES[i % 4],
                    "question": f"Does the municipality have measure {i + 1} in the area {area.replace('_', ' ')}?",
                }
            )
    ind = pd.DataFrame(rows)
    opts = pd.DataFrame(
        [
            {"indicator_id": r, "answer_code": c, "answer_text": t, "score": s}
            for r in ind["indicator_id"]
            for c, t, s in (("a", "Yes, fully", 100), ("b", "Partly", 50), ("c", "No", 0))
        ]
    )
    return ind, opts


def _answers(loc: pd.DataFrame, ind: pd.DataFrame, commitment: pd.Series, seed: int):
    rng = _rng(seed, "answers")
    assessed = loc.loc[loc["mipex_l_assessed"], "locality_id"].to_numpy()
    eta = 1.2 * commitment.loc[assessed].to_numpy()[:, None] + rng.normal(0, 0.3, (1, len(ind)))
    u = rng.random(eta.shape)
    codes = np.where(u < expit(eta - 0.8), "a", np.where(u < expit(eta + 0.8), "b", "c"))
    codes = np.where(rng.random(eta.shape) < 0.05, "", codes)
    # Nine assessed localities leave most of one area unanswered: no overall score.
    no_overall = rng.choice(len(assessed), size=9, replace=False)
    areas = ind["area"].to_numpy()
    for i in no_overall:
        codes[i, areas == AREAS[rng.integers(len(AREAS))]] = ""
    expected = 50 * expit(eta - 0.8) + 50 * expit(eta + 0.8)
    overall = pd.DataFrame(expected, index=assessed).T.groupby(areas).mean().mean()
    return pd.DataFrame(
        {
            "locality_id": np.repeat(assessed, len(ind)),
            "indicator_id": np.tile(ind["indicator_id"].to_numpy(), len(assessed)),
            "answer_code": codes.ravel(),
        }
    ), overall


# ---------------------------------------------------------------------- survey
CELLS = pd.MultiIndex.from_product(
    [["18-34", "35-54", "55+"], ["female", "male"], ["low", "medium", "high"]],
    names=["age_group", "gender", "education"],
).to_frame(index=False)


def _margins(loc: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = _rng(seed, "margins")
    out = []
    for _, row in loc.iterrows():
        w = rng.dirichlet(np.full(len(CELLS), 3.0))
        out.append(
            CELLS.assign(
                locality_id=row["locality_id"],
                population=np.maximum(np.round(0.8 * row["population"] * w), 1).astype(int),
            )
        )
    return pd.concat(out, ignore_index=True)[
        ["locality_id", "age_group", "gender", "education", "population"]
    ]


def _survey(
    v: dict, loc: pd.DataFrame, margins: pd.DataFrame, overall: pd.Series, commitment: pd.Series, seed: int
) -> pd.DataFrame:
    rng = _rng(seed, "survey")
    absent = v["absent"].get("survey")
    eligible = loc[loc["country"] != absent].reset_index(drop=True)
    sizes = np.exp(rng.uniform(np.log(8), np.log(705), len(eligible))).astype(int)
    sizes[rng.integers(len(eligible))] = 0  # one locality not surveyed
    sizes[rng.choice(np.flatnonzero(sizes > 0), size=2, replace=False)] = [8, 705]
    young_rate = rng.uniform(0.2, 1.0, len(eligible))  # unequal response of the young
    blocks = []
    for (_, row), n, yr in zip(eligible.iterrows(), sizes, young_rate, strict=False):
        if n == 0:
            continue
        cells = margins[margins["locality_id"] == row["locality_id"]].reset_index(drop=True)
        w = cells["population"].to_numpy(float) * np.where(cells["age_group"] == "18-34", yr, 1.0)
        pick = rng.choice(len(cells), size=int(n), p=w / w.sum())
        resp = cells.loc[pick, ["age_group", "gender", "education"]].reset_index(drop=True)
        resp.insert(0, "locality_id", row["locality_id"])
        resp["design_weight"] = round(float(cells["population"].sum()) / n, 3)
        blocks.append(resp)
    sv = pd.concat(blocks, ignore_index=True)
    n = len(sv)
    sv["years_in_locality"] = rng.integers(0, 60, n)
    sv["born_abroad"] = rng.random(n) < 0.12
    for s in CONTACT_SETTINGS:
        sv[f"contact_{s}"] = rng.random(n) < 0.25
    any_contact = sv[[f"contact_{s}" for s in CONTACT_SETTINGS]].any(axis=1).to_numpy()
    sv["contact_none"] = ~any_contact
    index = sv["locality_id"].map(overall).fillna(overall.mean()).to_numpy(float)
    loc_effect = sv["locality_id"].map(pd.Series(rng.normal(0, 0.15, len(loc)), index=loc["locality_id"]))
    latent = (
        3.0
        + v["contact_points"] * any_contact
        + v["index_points_per_10"] * (index - 50) / 10
        + sv["education"].map({"low": -0.2, "medium": 0.0, "high": 0.25}).to_numpy(float)
        + loc_effect.to_numpy(float)
        + rng.normal(0, 0.6, n)
    )

    def likert(center, sd=0.6):
        x = np.clip(np.round(center + rng.normal(0, sd, n)), 1, 5).astype(int)
        x[rng.random(n) < 0.04] = DONT_KNOW
        return x

    for item in SURVEY_LIKERT:
        sv[item] = likert(6 - latent if item == "att_services" else latent)
    sv["contact_meaningful"] = np.where(rng.random(n) < 0.03, DONT_KNOW, (rng.random(n) < 0.5).astype(int))
    sv["trust_newcomers"] = likert(latent)
    sv["trust_local_gov"] = likert(np.full(n, 3.0), 1.0)
    c = sv["locality_id"].map(commitment).to_numpy(float)
    aware = np.where(rng.random(n) < 0.03, DONT_KNOW, (rng.random(n) < expit(-0.5 + 0.5 * c)).astype(int))
    sv["aware_measures"] = aware
    sv["impact_measures"] = pd.array(np.where(aware == 1, likert(3.2 + 0.3 * c), 0), dtype="Int64")
    sv.loc[aware != 1, "impact_measures"] = pd.NA
    sv.insert(0, "respondent_id", np.arange(1001, 1001 + n))
    return sv[SURVEY_COLUMNS]


# -------------------------------------------------------------------- policies
def _policies(v: dict, loc: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = _rng(seed, "policies")
    skip = loc["locality_id"].iloc[rng.integers(len(loc))]  # a locality with no coded policies
    rows = []
    for _, row in loc.iterrows():
        if row["locality_id"] == skip:
            continue
        staff = bool(rng.random() < expit(v["staff_logit"][row["size_class"]]))
        for area in POLICY_AREAS:
            present = bool(rng.random() < 0.6)
            eta = v["proactive_logit"][row["size_class"]] + v["proactive_housing_progressive"] * (
                area == "housing" and row["political_orientation"] == "progressive"
            )
            approach = ("proactive" if rng.random() < expit(eta) else "reactive") if present else "none"
            rows.append(
                {
                    "locality_id": row["locality_id"],
                    "policy_area": area,
                    "measure_present": present,
                    "approach": approach,
                    "lead_actor": ["municipality", "ngo", "region", "state", "volunteers"][rng.integers(5)]
                    if present
                    else "",
                    "relation_higher_level": ["cooperative", "conflictual", "decoupled", "hierarchical"][
                        rng.integers(4)
                    ],
                    "dedicated_staff": staff,
                    "main_funding": ["eu", "national", "regional", "local"][rng.integers(4)]
                    if present
                    else "",
                }
            )
    return pd.DataFrame(rows), skip


# ------------------------------------------------------------------ interviews
def _interviews(v: dict, loc: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = _rng(seed, "interviews")
    absent = v["absent"].get("interviews")
    reg, onw, disc = v["registration"], v["onward"], v["discrimination"]
    rows = []
    for _, row in loc[loc["country"] != absent].iterrows():
        for _ in range(int(rng.integers(6, 25))):
            rec = {
                "locality_id": row["locality_id"],
                "role": ["official", "ngo", "employer", "migrant", "resident"][rng.integers(5)],
            }
            for kind in ("housing", "employment"):
                level = _ordered(rng, v[f"{kind}_eta"][row["economic_trend"]])
                rec[f"{kind}_access"] = level if rng.random() < 0.85 else ""
            r = bool(
                rng.random() < (reg["subject_p"] if row["country"] == reg["subject"] else reg["other_p"])
            )
            rec.update(
                {
                    "theme_housing_shortage": bool(rng.random() < 0.4),
                    "theme_housing_discrimination": bool(rng.random() < disc["housing"]),
                    "theme_registration_barriers": r,
                    "theme_labour_shortage": bool(rng.random() < 0.35),
                    "theme_employment_discrimination": bool(rng.random() < disc["employment"]),
                    "theme_language_barriers": bool(rng.random() < 0.5),
                    "theme_transport": bool(rng.random() < 0.3),
                    "theme_onward_migration": bool(rng.random() < (onw["with"] if r else onw["without"])),
                }
            )
            rows.append(rec)
    iv = pd.DataFrame(rows)
    iv.insert(0, "interview_id", [f"I{i:04d}" for i in range(101, 101 + len(iv))])
    return iv


# ------------------------------------------------------------------- truth
def _truth(v: dict, variant: int, loc: pd.DataFrame, interviews: pd.DataFrame, no_policies: str) -> dict:
    """The sign of each hypothesis' estimand in the generating process, on these localities."""
    iv_loc = loc.set_index("locality_id").loc[interviews["locality_id"]]
    trend = iv_loc["economic_trend"].to_numpy()
    hard_h = np.array([_hard_share(v["housing_eta"][t]) for t in trend])
    hard_e = np.array([_hard_share(v["employment_eta"][t]) for t in trend])
    h1 = float(np.mean(hard_h - hard_e)) if not np.allclose(hard_h, hard_e) else 0.0
    hyp = {
        "H1": _sign(h1),
        "H2 (housing)": _sign(v["housing_eta"]["improving"] - v["housing_eta"]["declining"]),
        "H2 (employment)": _sign(v["employment_eta"]["improving"] - v["employment_eta"]["declining"]),
        "H3 (staff)": _sign(v["staff_logit"]["medium_town"] - v["staff_logit"]["rural_area"]),
        "H3 (proactive)": _sign(v["proactive_logit"]["medium_town"] - v["proactive_logit"]["rural_area"]),
        "H4": _sign(v["proactive_housing_progressive"]),
        "H5": _sign(v["discrimination"]["housing"] - v["discrimination"]["employment"]),
        "H6 (onward)": _sign(v["onward"]["with"] - v["onward"]["without"]),
    }
    subject = v["registration"]["subject"]
    if v["absent"].get("interviews") != subject:
        hyp[f"H6 ({subject})"] = _sign(v["registration"]["subject_p"] - v["registration"]["other_p"])
    return {
        "generator": GENERATOR,
        "version": VERSION,
        "variant": variant,
        "seed": v["seed"],
        "sign_convention": "sign of the estimand minus its null value (odds ratio 1, difference 0); "
        "'0' = no effect planted",
        "hypotheses": hyp,
        "not_examinable": [f"H6 ({subject})"] if v["absent"].get("interviews") == subject else [],
        "relations": {
            "mipex_l_overall_to_attitude": _sign(v["index_points_per_10"]),
            "any_contact_to_attitude": _sign(v["contact_points"]),
        },
        "structure": {
            "localities": int(len(loc)),
            "per_country": {k: int(n) for k, n in v["per_country"].items()},
            "absent": v["absent"],
            "locality_without_policies": no_policies,
            "not_assessed": int((~loc["mipex_l_assessed"]).sum()),
        },
    }


# ------------------------------------------------------------------- driver
def generate(variant: int) -> tuple[dict[str, pd.DataFrame], dict]:
    """Every resource of rough-twin ``variant`` (as CSV-ready frames) and its planted truth."""
    if variant not in VARIANTS:
        raise ValueError(f"Unknown rough-twin variant {variant!r}; known: {sorted(VARIANTS)}.")
    v = VARIANTS[variant]
    seed = v["seed"]
    loc = _localities(v, seed)
    crng = _rng(seed, "commitment")
    commitment = pd.Series(crng.normal(0, 1, len(loc)), index=loc["locality_id"])
    ind, opts = _catalogue(seed)
    answers, overall = _answers(loc, ind, commitment, seed)
    margins = _margins(loc, seed)
    survey = _survey(v, loc, margins, overall, commitment, seed)
    policies, no_policies = _policies(v, loc, seed)
    interviews = _interviews(v, loc, seed)
    frames = dict(
        zip(
            GENERATED_RESOURCES, (loc, ind, opts, answers, survey, margins, policies, interviews), strict=True
        )
    )
    return frames, _truth(v, variant, loc, interviews, no_policies)


def write(variant: int, out: Path, book_data: Path | None = None) -> dict:
    """Write rough-twin ``variant`` into ``out`` (a complete data package and truth.json)."""
    from ..paths import book_data_dir

    book_data = book_data or book_data_dir()
    frames, truth = generate(variant)
    out.mkdir(parents=True, exist_ok=True)
    book_pkg = json.loads((book_data / "datapackage.json").read_text(encoding="utf-8"))
    pkg = {k: v for k, v in book_pkg.items() if k != "resources"}
    pkg.update(
        {
            "name": f"rough-twin-{variant}",
            "title": f"Rough twin, variant {variant}",
            "description": "Test data standing in for data supplied by a user (see wholecomm.twin.rough).",
        }
    )
    pkg["resources"] = []
    for res in book_pkg["resources"]:
        res = copy.deepcopy(res)
        if res["name"] in frames:
            raw = to_csv_bytes(frames[res["name"]])
            res["provenance"] = {
                "kind": "user",
                "generator": GENERATOR,
                "generator_version": VERSION,
                "variant": variant,
            }
        elif res.get("provenance", {}).get("kind") == "published" and VARIANTS[variant]["supplies_national"]:
            raw = (book_data / res["path"]).read_bytes()
        else:
            continue
        (out / res["path"]).write_bytes(raw)
        res["hash"] = "sha256:" + hashlib.sha256(raw).hexdigest()
        res["bytes"] = len(raw)
        pkg["resources"].append(res)
    (out / "datapackage.json").write_text(
        json.dumps(pkg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the data package into")
    parser.add_argument("--variant", type=int, default=1, choices=sorted(VARIANTS))
    args = parser.parse_args(argv)
    truth = write(args.variant, args.out)
    print(
        f"Rough twin variant {args.variant} written to {args.out}: "
        f"{truth['structure']['localities']} localities; planted: {truth['hypotheses']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
