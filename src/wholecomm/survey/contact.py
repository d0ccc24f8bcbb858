"""Contact between residents and newcomers, and the published claims about it tested
on the survey."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import data
from ..errors import InputError, require_columns
from .coding import (
    ASSOCIATIONAL_SETTINGS,
    CONTACT_SETTINGS,
    POOLING,
    RAKING_VARIABLES,
    SETTING_LABELS,
)
from .estimates import RESIDENT_DESIGN, weighted_mean, weighted_proportion
from .places import place_contrast


# ------------------------------------------------------------------- contact
def contact_by_setting(
    frame: pd.DataFrame, by: str | None = "country", pooling: str = POOLING, level: float = 0.95
) -> pd.DataFrame:
    """Weighted share with regular contact in each setting (and with none), by ``by``
    (None: overall), tidy: setting, label, the ``by`` column, estimate, se, ci_low, ci_high, n."""
    parts = []
    for s in CONTACT_SETTINGS:
        est = weighted_proportion(
            frame, f"contact_{s}", "weight", by=by, level=level, pooling=pooling, **RESIDENT_DESIGN
        )
        parts.append(est.assign(setting=s, label=SETTING_LABELS[s]))
    out = pd.concat(parts, ignore_index=True)
    out["setting"] = pd.Categorical(out["setting"], categories=CONTACT_SETTINGS)
    lead = ["setting", "label"] + ([by] if by else [])
    return out[[*lead, "estimate", "se", "ci_low", "ci_high", "n"]]


def contact_matrix(
    contact: pd.DataFrame, by: str = "country", scale: float = 100.0, fmt: str = "{:.0f}\n({:.0f}-{:.0f})"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide matrices (setting label x ``by``) of :func:`contact_by_setting` estimates times
    ``scale`` and of annotation text "estimate (ci_low-ci_high)", for a heatmap with the CI in each
    cell."""
    require_columns(contact, ["label", by, "estimate", "ci_low", "ci_high"], "The contact table")
    order = [SETTING_LABELS[s] for s in CONTACT_SETTINGS]
    values = (
        contact.pivot_table(index="label", columns=by, values="estimate", observed=True).reindex(order)
        * scale
    )
    text = contact.assign(
        text=[
            fmt.format(e * scale, lo * scale, hi * scale)
            for e, lo, hi in zip(contact["estimate"], contact["ci_low"], contact["ci_high"], strict=False)
        ]
    )
    annot = text.pivot_table(
        index="label", columns=by, values="text", aggfunc="first", observed=True
    ).reindex(order)
    return values, annot.reindex(columns=values.columns)


@dataclass
class ClaimTest:
    """A published claim tested on the survey: the estimates it rests on and the verdict."""

    claim: str
    rule: str
    table: pd.DataFrame
    supported: bool
    values: dict = field(default_factory=dict)
    #: The data point the other way (an interval wholly on the side opposite to the claim).
    contradicted: bool = False

    @property
    def verdict(self) -> str:
        """The verb for "the data ... the claim": support, contradict, or do not support
        (neither: an interval includes the null value)."""
        if self.supported:
            return "support"
        return "contradict" if self.contradicted else "do not support"


def _row(table: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(table), dtype=bool)
    for k, v in keys.items():
        mask &= (table[k].astype(str) == str(v)).to_numpy()
    if mask.sum() != 1:
        raise KeyError(f"Expected one row for {keys}, found {int(mask.sum())}.")
    return table.loc[mask].iloc[0]


#: The country-specific claims tested on the survey, as the project stated them: the
#: subject of a claim is taken from here, never typed into code or prose.
CLAIM_COUNTRIES = {"associational_contact": {"country": "SE", "name": "Sweden"}}


def claim_examinable(frame: pd.DataFrame, claim: str = "associational_contact") -> str | None:
    """None when the survey has respondents in the claim's country and in another
    country; otherwise the reason the claim cannot be examined on these data."""
    country = CLAIM_COUNTRIES[claim]["country"]
    countries = set(frame["country"].astype(str))
    if country not in countries:
        return f"the survey has no respondents in {CLAIM_COUNTRIES[claim]['name']}"
    if countries == {country}:
        return f"every respondent lives in {CLAIM_COUNTRIES[claim]['name']}: there is no other country to compare with"
    return None


def associational_contact_claim(
    frame: pd.DataFrame,
    country: str | None = None,
    settings: Sequence[str] = ASSOCIATIONAL_SETTINGS,
    pooling: str = POOLING,
    level: float = 0.95,
) -> ClaimTest:
    """Test "in ``country`` interaction happens mostly in hobby associations, sports clubs and
    organised leisure".

    Estimates (each with a CI): the share of residents with regular contact in at least one
    of ``settings`` ("associational") and in at least one other setting, in ``country`` and
    in the other countries pooled; the within-country difference associational - other
    (a paired difference: the weighted mean of the per-respondent difference); the
    difference in the associational share between ``country`` and the others
    (see below); and the share of residents with any contact whose contact includes an
    associational setting. The claim is supported when, in ``country``, the associational
    share exceeds the other-settings share (CI of the difference above 0) and exceeds that
    of the other countries (CI above 0). The comparison with the other countries is a
    comparison of places: :func:`~wholecomm.survey.places.place_contrast` (localities as clusters within country
    strata, t on the country's localities minus one degrees of freedom).
    """
    country = CLAIM_COUNTRIES["associational_contact"]["country"] if country is None else country
    unknown = sorted(set(settings) - set(data.CONTACT_SETTINGS))
    if unknown or not settings:
        raise InputError(
            f"settings must be a non-empty subset of {data.CONTACT_SETTINGS}; unknown {unknown}."
        )
    require_columns(frame, ["country", "weight", "locality_id"], "The analysis frame")
    if country not in set(frame["country"].astype(str)):
        raise InputError(f"No respondents in country {country!r}.")
    others_settings = [s for s in data.CONTACT_SETTINGS if s not in settings]
    tmp = pd.DataFrame(
        {
            "locality_id": frame["locality_id"].to_numpy(),
            "weight": frame["weight"].to_numpy(),
            **{v: frame[v].to_numpy() for v in RAKING_VARIABLES},
            "where": np.where(frame["country"].astype(str) == country, country, "other countries"),
            "assoc": frame[[f"contact_{s}" for s in settings]].any(axis=1).to_numpy(),
            "other": frame[[f"contact_{s}" for s in others_settings]].any(axis=1).to_numpy(),
        },
        index=frame.index,
    )
    tmp["diff"] = tmp["assoc"].astype(float) - tmp["other"].astype(float)
    tmp["assoc_among_contact"] = np.where(tmp["assoc"] | tmp["other"], tmp["assoc"].astype(float), np.nan)
    kw = dict(by="where", level=level, pooling=pooling, **RESIDENT_DESIGN)
    rows = []
    labels = {
        "assoc": "Contact in " + ", ".join(SETTING_LABELS[s].lower() for s in settings),
        "other": "Contact in any other setting",
        "assoc_among_contact": "Of those with any contact: contact includes an associational setting",
        "diff": "Difference: associational minus other settings",
    }
    for col in ("assoc", "other", "assoc_among_contact"):
        est = weighted_proportion(tmp, col, "weight", **kw)
        rows.append(est.assign(quantity=col, label=labels[col]))
    rows.append(weighted_mean(tmp, "diff", "weight", **kw).assign(quantity="diff", label=labels["diff"]))
    table = pd.concat(rows, ignore_index=True)
    table["where"] = pd.Categorical(table["where"], categories=[country, "other countries"])
    assoc = table[table["quantity"] == "assoc"]
    # A comparison of places: localities as clusters within country strata (PLACE_STRATA).
    in_country = (tmp["where"] == country).to_numpy()
    between = place_contrast(
        tmp.assign(country=frame["country"].astype(str).to_numpy()),
        "assoc",
        in_country,
        ~in_country,
        "proportion",
        pooling=pooling,
        level=level,
    )
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                [
                    {
                        "where": f"{country} minus other countries",
                        "quantity": "assoc_country_diff",
                        "label": "Difference in associational contact: country minus other countries",
                        **between,
                        "n": int(assoc["n"].sum()),
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    table = table[["quantity", "label", "where", "estimate", "se", "ci_low", "ci_high", "n"]]
    within = _row(table, quantity="diff", where=country)
    supported = bool(within["ci_low"] > 0 and between["ci_low"] > 0)
    contradicted = bool(within["ci_high"] < 0 or between["ci_high"] < 0)
    return ClaimTest(
        contradicted=contradicted,
        claim=f"In {country}, interaction happens mostly in "
        + ", ".join(SETTING_LABELS[s].lower() for s in settings),
        rule="supported when, in the country, the associational share exceeds the other-settings share and the "
        "other countries' associational share (both 95% CIs of the differences above 0)",
        table=table,
        supported=supported,
        values={"within_diff": within.to_dict(), "between_diff": between},
    )


def meaningful_contact_claim(
    frame: pd.DataFrame, threshold: float = 0.5, pooling: str = POOLING, level: float = 0.95
) -> ClaimTest:
    """Test "limited meaningful interaction between long-term residents and newcomers".

    Estimates (each with a CI): the share of residents who had a meaningful conversation
    with a newcomer in the last month, the same share among residents with regular contact,
    and the share with no regular contact in any setting. "Limited" is read as "a minority
    of residents": the claim is supported when the upper CI bound of the meaningful-contact
    share, overall and among those with contact, is below ``threshold``.
    """
    if not 0 < threshold < 1:
        raise InputError(f"threshold must be between 0 and 1, got {threshold}.")
    require_columns(
        frame,
        ["meaningful_contact", "contact_any", "contact_none", "weight", "locality_id"],
        "The analysis frame",
    )
    tmp = pd.DataFrame(
        {
            "locality_id": frame["locality_id"].to_numpy(),
            "weight": frame["weight"].to_numpy(),
            **{v: frame[v].to_numpy() for v in RAKING_VARIABLES},
            "meaningful": frame["meaningful_contact"].to_numpy(dtype=float),
            "none": frame["contact_none"].to_numpy(dtype=bool),
        },
        index=frame.index,
    )
    tmp["meaningful_given_contact"] = np.where(
        frame["contact_any"].to_numpy(dtype=bool), tmp["meaningful"], np.nan
    )
    labels = {
        "meaningful": "Meaningful conversation with a newcomer in the last month",
        "meaningful_given_contact": "Meaningful conversation, among residents with regular contact",
        "none": "No regular contact in any setting",
    }
    rows = [
        weighted_proportion(tmp, col, "weight", level=level, pooling=pooling, **RESIDENT_DESIGN).assign(
            quantity=col, label=lab
        )
        for col, lab in labels.items()
    ]
    table = pd.concat(rows, ignore_index=True)[
        ["quantity", "label", "estimate", "se", "ci_low", "ci_high", "n"]
    ]
    supported = bool(
        _row(table, quantity="meaningful")["ci_high"] < threshold
        and _row(table, quantity="meaningful_given_contact")["ci_high"] < threshold
    )
    return ClaimTest(
        claim="Limited meaningful interaction between long-term residents and newcomers",
        rule=f"supported when the upper 95% CI bound of the meaningful-contact share, overall and among "
        f"residents with contact, is below {threshold:.0%}",
        table=table,
        supported=supported,
        values={"threshold": threshold},
        contradicted=bool(
            _row(table, quantity="meaningful")["ci_low"] > threshold
            or _row(table, quantity="meaningful_given_contact")["ci_low"] > threshold
        ),
    )
