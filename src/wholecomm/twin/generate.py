"""Generator of the synthetic twin (see ``parameters.yml`` for every planted value)."""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..labels import CONTACT_SETTINGS


def expit(x):
    """The logistic function: :func:`scipy.special.expit`, imported on first use (the
    labels below are read by programs that never generate data)."""
    from scipy.special import expit as _expit

    return _expit(x)


GENERATOR = "wholecomm.twin"
HERE = Path(__file__).parent
# the data-package resources a twin generates, in the order its generator builds them
GENERATED_RESOURCES = (
    "localities",
    "mipex_l_indicators",
    "mipex_l_options",
    "mipex_l_answers",
    "survey",
    "population_margins",
    "local_policies",
    "interviews",
)
SURVEY_LIKERT = ["att_economy", "att_culture", "att_welcome", "att_services", "att_neighbour", "att_belong"]
#: Columns of the survey file, in order.
SURVEY_COLUMNS = [
    "respondent_id",
    "locality_id",
    "age_group",
    "gender",
    "education",
    "years_in_locality",
    "born_abroad",
    *SURVEY_LIKERT,
    *[f"contact_{s}" for s in CONTACT_SETTINGS],
    "contact_none",
    "contact_meaningful",
    "trust_newcomers",
    "trust_local_gov",
    "aware_measures",
    "impact_measures",
    "design_weight",
]
REVERSED_ITEMS = {"att_services"}
DONT_KNOW, REFUSED = 8, 9


def load_parameters(path: Path | None = None) -> dict:
    with (path or HERE / "parameters.yml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_catalogue(path: Path | None = None) -> dict:
    with (path or HERE / "catalogue.yml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@dataclass
class Twin:
    """Generated resources (as CSV-ready DataFrames) and the planted truth behind them."""

    frames: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame | pd.Series | dict] = field(default_factory=dict)
    params: dict = field(default_factory=dict)


def _rng(seed: int, part: str) -> np.random.Generator:
    """An independent random stream per part, so changing one part leaves the others as they were."""
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def _choice(rng: np.random.Generator, probs: dict, size=None):
    keys = list(probs)
    p = np.array([probs[k] for k in keys], dtype=float)
    return rng.choice(keys, size=size, p=p / p.sum())


def _ordered(rng: np.random.Generator, eta: np.ndarray, cut_low: float, cut_high: float) -> np.ndarray:
    """Ordered logit draw: 0 (low), 1 (middle), 2 (high)."""
    p_ge_mid = expit(eta - cut_low)
    p_high = expit(eta - cut_high)
    u = rng.random(np.shape(eta))
    return np.where(u < p_high, 2, np.where(u < p_ge_mid, 1, 0))


# ------------------------------------------------------------------ localities
def _localities(p: dict, national: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    lp, rng = p["localities"], _rng(seed, "localities")
    rows = []
    for country in lp["countries"]:
        for k in range(1, lp["per_country"] + 1):
            size = _choice(rng, lp["size_class"])
            lo, hi = lp["population_range"][size]
            population = int(round(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
            trend = _choice(rng, lp["economic_trend"])
            unemp = (
                lp["unemployment_mean"][trend]
                + lp["unemployment_country_shift"][country]
                + rng.normal(0, lp["unemployment_sd"])
            )
            fb2014 = lp["foreign_born_2014_median"][country] * np.exp(
                rng.normal(0, lp["foreign_born_2014_log_sd"])
            )
            fb2014 = min(fb2014, 40.0)
            rows.append(
                {
                    "locality_id": f"{country}-{k:02d}",
                    "country": country,
                    "region_type": _choice(rng, lp["region_type"][size]),
                    "size_class": size,
                    "population": population,
                    "foreign_born_share_2014": round(fb2014, 1),
                    "foreign_born_share_now": round(fb2014 + rng.uniform(*lp["foreign_born_increase"]), 1),
                    "economic_trend": trend,
                    "unemployment_rate": round(max(unemp, 1.5), 1),
                    "political_orientation": _choice(rng, lp["political_orientation"]),
                }
            )
    loc = pd.DataFrame(rows)
    from ..data import locality_type  # the documented typology rule lives with the data layer

    loc["locality_type"] = locality_type(loc)
    not_assessed = rng.integers(len(loc))
    loc["mipex_l_assessed"] = np.arange(len(loc)) != not_assessed

    cp = p["commitment"]
    nat = national.set_index("iso2")["mipex2020_overall"]
    country_shift = (loc["country"].map(nat) - cp["country_from_national_mipex"]["centre"]) / cp[
        "country_from_national_mipex"
    ]["scale"]
    crng = _rng(seed, "commitment")
    commitment = (
        loc["size_class"].map(cp["size_class"])
        + loc["political_orientation"].map(cp["political_orientation"])
        + country_shift
        + crng.normal(0, cp["residual_sd"], len(loc))
    )
    commitment = pd.Series(
        (commitment - commitment.mean()).to_numpy(), index=loc["locality_id"], name="commitment"
    )
    return loc, commitment


# --------------------------------------------------------------------- MIPEX-L
def _catalogue_frames(cat: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    ind = pd.DataFrame([{k: i[k] for k in ("id", "area", "stage", "question")} for i in cat["indicators"]])
    ind = ind.rename(columns={"id": "indicator_id"})
    scores = {"a": 100, "b": 50, "c": 0}
    opts = pd.DataFrame(
        [
            {"indicator_id": i["id"], "answer_code": code, "answer_text": text, "score": scores[code]}
            for i in cat["indicators"]
            for code, text in i["options"].items()
        ]
    )
    return ind, opts


def _mipex_answers(p: dict, loc: pd.DataFrame, commitment: pd.Series, ind: pd.DataFrame, seed: int):
    mp, rng = p["mipex_l"], _rng(seed, "mipex_l")
    assessed = loc.loc[loc["mipex_l_assessed"], "locality_id"].to_numpy()
    eta = (
        mp["loading"] * commitment.loc[assessed].to_numpy()[:, None]
        + ind["area"].map(mp["area_effect"]).to_numpy()[None, :]
        + ind["stage"].map(mp["stage_effect"]).to_numpy()[None, :]
    )
    c1, c2 = mp["cut_points"]["c_to_b"], mp["cut_points"]["b_to_a"]
    expected = 50 * expit(eta - c1) + 50 * expit(eta - c2)  # E[score] = 50 P(>=b) + 50 P(a)
    level = _ordered(rng, eta, c1, c2)
    codes = np.array(["c", "b", "a"])[level]
    miss_p = mp["missing_rate"] + np.where(
        ind["stage"].to_numpy() == "evaluation", mp["missing_extra_evaluation"], 0
    )
    missing = rng.random(eta.shape) < miss_p[None, :]
    codes = np.where(missing, "", codes)
    answers = pd.DataFrame(
        {
            "locality_id": np.repeat(assessed, len(ind)),
            "indicator_id": np.tile(ind["indicator_id"].to_numpy(), len(assessed)),
            "answer_code": codes.ravel(),
        }
    )
    exp = pd.DataFrame(expected, index=pd.Index(assessed, name="locality_id"), columns=ind["indicator_id"])
    area_truth = exp.T.groupby(ind.set_index("indicator_id")["area"]).mean().T
    return answers, area_truth


# ---------------------------------------------------------------------- survey
def _margins(p: dict, loc: pd.DataFrame, seed: int) -> pd.DataFrame:
    sp, rng = p["survey"], _rng(seed, "margins")
    shares = sp["population_shares"]
    cells = pd.MultiIndex.from_product(
        [list(shares["age_group"]), list(shares["gender"]), list(shares["education"])],
        names=["age_group", "gender", "education"],
    ).to_frame(index=False)
    base = (
        cells["age_group"].map(shares["age_group"])
        * cells["gender"].map(shares["gender"])
        * cells["education"].map(shares["education"])
    ).to_numpy()
    out = []
    for _, row in loc.iterrows():
        w = base * np.exp(rng.normal(0, sp["margin_noise_sd"], len(base)))
        adults = 0.8 * row["population"]
        counts = np.maximum(np.round(adults * w / w.sum()).astype(int), 1)
        out.append(cells.assign(locality_id=row["locality_id"], population=counts))
    return pd.concat(out, ignore_index=True)[
        ["locality_id", "age_group", "gender", "education", "population"]
    ]


def _likert(rng, latent, noise_sd, reverse=False):
    raw = latent + rng.normal(0, noise_sd, latent.shape)
    if reverse:
        raw = 6 - raw
    return np.clip(np.round(raw), 1, 5).astype(int)


def _non_substantive(rng, values, rates):
    u = rng.random(values.shape)
    out = values.copy()
    out[u < rates["dont_know"]] = DONT_KNOW
    out[(u >= rates["dont_know"]) & (u < rates["dont_know"] + rates["refused"])] = REFUSED
    return out


def _survey(
    p: dict,
    loc: pd.DataFrame,
    margins: pd.DataFrame,
    commitment: pd.Series,
    index_truth: pd.Series,
    seed: int,
) -> pd.DataFrame:
    sp, rng = p["survey"], _rng(seed, "survey")
    prop = sp["response_propensity"]
    blocks = []
    for _, row in loc.iterrows():
        lid = row["locality_id"]
        n = int(rng.integers(sp["respondents_per_locality"][0], sp["respondents_per_locality"][1] + 1))
        cells = margins[margins["locality_id"] == lid].reset_index(drop=True)
        w = (
            cells["population"]
            * cells["age_group"].map(prop["age_group"])
            * cells["gender"].map(prop["gender"])
            * cells["education"].map(prop["education"])
        ).to_numpy(float)
        pick = rng.choice(len(cells), size=n, p=w / w.sum())
        resp = cells.loc[pick, ["age_group", "gender", "education"]].reset_index(drop=True)
        resp.insert(0, "locality_id", lid)
        hh_adults = rng.choice([1, 2, 3, 4], size=n, p=[0.3, 0.45, 0.15, 0.1])
        adults = cells["population"].sum()
        resp["design_weight"] = np.round(adults / n * hh_adults / hh_adults.mean(), 3)
        resp["_country"] = row["country"]
        resp["_commitment"] = commitment[lid]
        resp["_index"] = index_truth.get(lid, np.nan)
        blocks.append(resp)
    sv = pd.concat(blocks, ignore_index=True)
    n = len(sv)
    age_years = {"18-34": (0, 30), "35-54": (0, 50), "55+": (0, 80)}
    sv["years_in_locality"] = [
        int(rng.integers(age_years[a][0], age_years[a][1] + 1)) for a in sv["age_group"]
    ]
    sv["born_abroad"] = rng.random(n) < sp["born_abroad_share"]

    for s in CONTACT_SETTINGS:
        base = np.full(n, sp["contact_base"][s])
        for country, override in sp["contact_country_override"].items():
            base = np.where(sv["_country"] == country, override[s], base)
        if s == "school":
            base = np.where(sv["age_group"] == "35-54", base * 1.8, base * 0.6)
        sv[f"contact_{s}"] = rng.random(n) < base
    any_contact = sv[[f"contact_{s}" for s in CONTACT_SETTINGS]].any(axis=1).to_numpy()
    sv["contact_none"] = ~any_contact
    meaningful = rng.random(n) < np.where(
        any_contact, sp["meaningful_given_contact"], sp["meaningful_without_contact"]
    )

    ap = sp["attitude"]
    loc_effect = pd.Series(rng.normal(0, ap["locality_sd"], len(loc)), index=loc["locality_id"])
    # The planted index effect uses the locality's expected MIPEX-L overall score; the
    # non-assessed locality takes the mean, so its residents carry no index effect.
    index = sv["_index"].fillna(index_truth.mean())
    latent = (
        ap["intercept"]
        + ap["contact_any"] * any_contact
        + ap["index_per_10_points"] * (index - 50) / 10
        + sv["education"].map(ap["education"])
        + sv["age_group"].map(ap["age_group"])
        + ap["born_abroad"] * sv["born_abroad"]
        + sv["locality_id"].map(loc_effect)
        + rng.normal(0, ap["residual_sd"], n)
    ).to_numpy(float)
    ns = sp["non_substantive"]
    for item in SURVEY_LIKERT:
        sv[item] = _non_substantive(
            rng, _likert(rng, latent, ap["item_noise_sd"], item in REVERSED_ITEMS), ns
        )
    sv["contact_meaningful"] = _non_substantive(rng, meaningful.astype(int), ns)
    tp = sp["trust"]
    trust = 3 + tp["newcomers_from_attitude"] * (latent - 3)
    sv["trust_newcomers"] = _non_substantive(rng, _likert(rng, trust, tp["newcomers_sd"]), ns)
    sv["trust_local_gov"] = _non_substantive(
        rng, _likert(rng, np.full(n, tp["local_gov_mean"]), tp["local_gov_sd"]), ns
    )
    aw = sp["awareness"]
    aware = rng.random(n) < expit(
        aw["intercept_logit"] + aw["commitment_logit"] * sv["_commitment"].to_numpy()
    )
    aware_coded = _non_substantive(rng, aware.astype(int), ns)
    sv["aware_measures"] = aware_coded
    ip = sp["impact"]
    impact = _non_substantive(
        rng, _likert(rng, ip["mean"] + ip["commitment_points"] * sv["_commitment"].to_numpy(), ip["sd"]), ns
    )
    sv["impact_measures"] = pd.array(np.where(aware_coded == 1, impact, 0), dtype="Int64")
    sv.loc[aware_coded != 1, "impact_measures"] = pd.NA
    sv.insert(0, "respondent_id", np.arange(1, n + 1))
    return sv[SURVEY_COLUMNS]


# -------------------------------------------------------------------- policies
def _policies(p: dict, loc: pd.DataFrame, commitment: pd.Series, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    pp, rng = p["policies"], _rng(seed, "policies")
    office = _staff_offices(pp, loc, commitment, seed)
    staff = {}
    rows = []
    pl = pp["proactive_logit"]
    for _, row in loc.iterrows():
        lid, c = row["locality_id"], commitment[row["locality_id"]]
        thriving = row["economic_trend"] == "improving"
        for area, base in pp["present_logit_area"].items():
            staffed = bool(office[lid] and rng.random() < pp["staff_area_share"][area])
            staff[(lid, area)] = staffed
            present = bool(rng.random() < expit(base + pp["present_logit_commitment"] * c))
            relation = _choice(rng, pp["relation_by_country"][row["country"]])
            if present:
                eta = (
                    pl["intercept"]
                    + pl["commitment"] * c
                    + pl["dedicated_staff"] * staffed
                    + pl["medium_town"] * (row["size_class"] == "medium_town")
                    + pl["progressive_housing"]
                    * (area == "housing" and row["political_orientation"] == "progressive")
                    + pl["thriving_with_staff"] * (office[lid] and thriving)
                )
                approach = "proactive" if rng.random() < expit(eta) else "reactive"
                lead = _choice(rng, pp["lead_actor"][row["size_class"]])
                funding = _choice(rng, pp["main_funding"])
            else:
                approach, lead, funding = "none", "", ""
            rows.append(
                {
                    "locality_id": lid,
                    "policy_area": area,
                    "measure_present": present,
                    "approach": approach,
                    "lead_actor": lead,
                    "relation_higher_level": relation,
                    "dedicated_staff": staffed,
                    "main_funding": funding,
                }
            )
    index = pd.MultiIndex.from_tuples(list(staff), names=["locality_id", "policy_area"])
    by_area = pd.Series(list(staff.values()), index=index, name="dedicated_staff")
    return pd.DataFrame(rows), by_area


def _staff_offices(pp: dict, loc: pd.DataFrame, commitment: pd.Series, seed: int) -> dict[str, bool]:
    """Whether each locality has an integration office (planted: bigger -> more capacity);
    an office staffs each policy area with that area's probability (``staff_area_share``)."""
    sl, rng = pp["staff_logit"], _rng(seed, "staff_offices")
    office = {}
    for _, row in loc.iterrows():
        eta = sl["intercept"] + sl[row["size_class"]] + sl["commitment"] * commitment[row["locality_id"]]
        office[row["locality_id"]] = bool(rng.random() < expit(eta))
    return office


# ------------------------------------------------------------------ interviews
def _interviews(p: dict, loc: pd.DataFrame, seed: int) -> pd.DataFrame:
    ip, rng = p["interviews"], _rng(seed, "interviews")
    levels = np.array(["easy", "mixed", "hard"])
    cut = ip["difficulty_cut_points"]
    shift = _interview_locality_effects(ip, loc, seed)
    rows = []
    for _, row in loc.iterrows():
        lid = row["locality_id"]
        n = int(rng.integers(ip["per_locality"][0], ip["per_locality"][1] + 1))
        trend = row["economic_trend"]
        for _ in range(n):
            rec = {"locality_id": lid, "role": _choice(rng, ip["role"])}
            for kind in ("housing", "employment"):
                dp = ip[f"{kind}_difficulty"]
                eta = dp["intercept"] + dp[trend] + shift[lid][f"{kind}_difficulty"]
                level = _ordered(rng, np.array(eta), cut["easy_to_mixed"], cut["mixed_to_hard"])
                rec[f"{kind}_access"] = levels[int(level)] if rng.random() < ip["access_discussed"] else ""
            th = dict(ip["themes"])
            th["registration_barriers"] = ip["registration_barriers_country"].get(
                row["country"], th["registration_barriers"]
            )
            if trend == "improving":
                th["housing_shortage"] += ip["housing_shortage_improving_extra"]
                th["labour_shortage"] += ip["labour_shortage_improving_extra"]
            th = {k: float(expit(logit(v) + shift[lid][k])) for k, v in th.items()}
            present = {k: bool(rng.random() < v) for k, v in th.items()}
            if present["registration_barriers"] and not present["onward_migration"]:
                present["onward_migration"] = bool(rng.random() < ip["onward_given_registration"])
            rec.update({f"theme_{k}": v for k, v in present.items()})
            rows.append(rec)
    iv = pd.DataFrame(rows)
    iv.insert(0, "interview_id", [f"I{i:04d}" for i in range(1, len(iv) + 1)])
    return iv


def logit(p: float) -> float:
    """The log-odds of a probability strictly between 0 and 1."""
    return float(np.log(p / (1 - p)))


def _interview_locality_effects(ip: dict, loc: pd.DataFrame, seed: int) -> dict[str, dict[str, float]]:
    """Each locality's random shifts: of the housing and employment difficulty etas (sd
    ``locality_sd.difficulty``) and of every theme's logit (sd ``locality_sd.themes``)."""
    sd, rng = ip["locality_sd"], _rng(seed, "interview_localities")
    names = ["housing_difficulty", "employment_difficulty", *ip["themes"]]
    scale = np.array([sd["difficulty"]] * 2 + [sd["themes"]] * len(ip["themes"]))
    draws = rng.normal(0.0, 1.0, (len(loc), len(names))) * scale
    return {
        lid: dict(zip(names, map(float, draws[i]), strict=True)) for i, lid in enumerate(loc["locality_id"])
    }


# --------------------------------------------------------------------- driver
def generate(
    params: dict | None = None, catalogue: dict | None = None, national: pd.DataFrame | None = None
) -> Twin:
    """Generate every synthetic resource from the parameters and their seed."""
    p = params or load_parameters()
    cat = catalogue or load_catalogue()
    if national is None:
        from ..paths import book_data_dir

        national = pd.read_csv(book_data_dir() / "mipex2020_national.csv", keep_default_na=False)
    seed = int(p["seed"])
    loc, commitment = _localities(p, national, seed)
    ind, opts = _catalogue_frames(cat)
    answers, area_truth = _mipex_answers(p, loc, commitment, ind, seed)
    overall_truth = area_truth.mean(axis=1).rename("overall")
    margins = _margins(p, loc, seed)
    survey = _survey(p, loc, margins, commitment, overall_truth, seed)
    policies, staff_by_area = _policies(p, loc, commitment, seed)
    interviews = _interviews(p, loc, seed)
    frames = dict(
        zip(
            GENERATED_RESOURCES, (loc, ind, opts, answers, survey, margins, policies, interviews), strict=True
        )
    )
    truth = {
        "commitment": commitment,
        "area_scores": area_truth,
        "overall_scores": overall_truth,
        # staff in at least one area, per locality, and staff per locality and area
        "dedicated_staff": staff_by_area.groupby(level="locality_id", sort=False).any(),
        "dedicated_staff_by_area": staff_by_area,
    }
    return Twin(frames=frames, truth=truth, params=p)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Deterministic CSV: UTF-8, comma, LF line ends, booleans as true/false, empty for missing."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == bool or str(out[col].dtype) == "boolean":
            out[col] = out[col].map({True: "true", False: "false"})
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def write(twin: Twin, data_dir: Path) -> dict[str, str]:
    """Write the twin's CSV files into ``data_dir`` and refresh ``datapackage.json``
    (sha256, bytes and provenance of every resource). Returns name -> sha256."""
    pkg_path = data_dir / "datapackage.json"
    pkg = json.loads(pkg_path.read_text(encoding="utf-8"))
    hashes = {}
    for res in pkg["resources"]:
        path = data_dir / res["path"]
        if res["name"] in twin.frames:
            path.write_bytes(to_csv_bytes(twin.frames[res["name"]]))
            prov = res.setdefault("provenance", {})
            prov["generator"] = GENERATOR
            prov["generator_version"] = twin.params["generator_version"]
            if prov.get("kind") == "synthetic":
                prov["seed"] = int(twin.params["seed"])
        raw = path.read_bytes()
        res["hash"] = "sha256:" + hashlib.sha256(raw).hexdigest()
        res["bytes"] = len(raw)
        hashes[res["name"]] = res["hash"]
    pkg_path.write_text(json.dumps(pkg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return hashes
