"""Which public statement each planted relationship of the synthetic twin stands for.

The twin's generator plants relationships (``parameters.yml``, marked "planted") so that
the book's methods have something true to find. When a chapter's test of a public
statement comes out "supported" on the twin, the method has recovered a relationship the
twin was built to contain: that shows the method works, not that the statement holds
for real towns. :func:`planted_table` lists, for each statement the book examines, the
parameters that plant it and their values, read from the parameters in use.
"""

from __future__ import annotations

import pandas as pd

from .generate import load_parameters

#: (statement as the sources give it, its source, the chapter that examines it,
#:  hypothesis ids of wholecomm.access it corresponds to, parameter paths in parameters.yml).
PLANTED: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "Language and employment measures lead; political participation, intercultural dialogue and "
        "anti-discrimination lag",
        "Final policy brief",
        "mipex-l",
        (),
        ("mipex_l.area_effect",),
    ),
    (
        "Improved integration policies go with better social cohesion",
        "Conference (Basak Yavcan)",
        "mipex-l",
        (),
        ("survey.attitude.index_per_10_points",),
    ),
    (
        "Limited meaningful interaction between long-term residents and newcomers",
        "Conference; policy brief",
        "survey",
        (),
        ("survey.meaningful_given_contact", "survey.meaningful_without_contact"),
    ),
    (
        "In Sweden, interaction happens mostly in hobby associations, sports clubs and organised leisure",
        "Conference",
        "survey",
        (),
        ("survey.contact_country_override.SE",),
    ),
    (
        "Most localities lack dedicated staff; bigger localities have more capacity",
        "Final policy brief; CIDOB paper",
        "local-policies",
        ("H3",),
        ("policies.staff_logit", "commitment.size_class"),
    ),
    (
        "Housing is hard to access, employment relatively easy; a good economy makes housing harder and jobs "
        "easier",
        "CIDOB paper",
        "housing-employment",
        ("H1", "H2"),
        ("interviews.housing_difficulty", "interviews.employment_difficulty"),
    ),
    (
        "Progressive local governments are more active on housing",
        "CIDOB paper",
        "housing-employment",
        ("H4",),
        ("policies.proactive_logit.progressive_housing",),
    ),
    (
        "Discrimination is more common in housing than in employment",
        "CIDOB paper",
        "housing-employment",
        ("H5",),
        ("interviews.themes.housing_discrimination", "interviews.themes.employment_discrimination"),
    ),
    (
        "Registration barriers (Spain) push vulnerable people to larger cities",
        "Conference (Blanca Garcés Mascareñas)",
        "housing-employment",
        ("H6",),
        ("interviews.registration_barriers_country", "interviews.onward_given_registration"),
    ),
    (
        "Capacity and a thriving economy together make local policy proactive (a configurational effect "
        "planted for the QCA to find; not a claim of the sources)",
        "Twin design",
        "local-policies",
        (),
        ("policies.proactive_logit.thriving_with_staff", "policies.staff_area_share"),
    ),
]

#: The planted configurational (interaction) effect on the QCA outcome of the local-policies
#: page: dedicated staff in a policy area and an improving local economy *together* raise the
#: log-odds that the area's measure is proactive by ``policies.proactive_logit.thriving_with_staff``;
#: neither condition alone comes near. In the QCA's sets (:data:`wholecomm.policy.qca.QCA_CONDITIONS`)
#: this is the conjunction CAPACITY*THRIVING, sufficient for the outcome PROACTIVE, which
#: ``tests/test_twin.py`` checks the QCA recovers on a larger twin.
PLANTED_CONFIGURATION: dict[str, object] = {
    "outcome": "PROACTIVE",
    "conjunction": ("CAPACITY", "THRIVING"),
    "parameter": "policies.proactive_logit.thriving_with_staff",
}


#: Hypotheses whose planted parameters differ from the statement's row above.
BY_HYPOTHESIS: dict[str, tuple[str, ...]] = {
    "H3 (proactive)": (
        "policies.proactive_logit.medium_town",
        "policies.proactive_logit.dedicated_staff",
        "commitment.size_class",
    ),
}


def _lookup(params: dict, path: str):
    value = params
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(
                f"parameters.yml has no {path!r} (missing {part!r}); update wholecomm.twin.planted."
            )
        value = value[part]
    return value


def _show(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_show(v)}" for k, v in value.items())
    return str(value)


def planted_table(params: dict | None = None) -> pd.DataFrame:
    """One row per examined statement: the statement, its source, the chapter, and the
    planted parameters with their values (from ``params``, default the twin's own)."""
    params = params if params is not None else load_parameters()
    rows = []
    for statement, source, chapter, _ids, keys in PLANTED:
        rows.append(
            {
                "statement": statement,
                "source": source,
                "chapter": chapter,
                "planted": "; ".join(f"{key} = {_show(_lookup(params, key))}" for key in keys),
            }
        )
    return pd.DataFrame(rows)


def planted_for(hypothesis_id: str) -> str | None:
    """The parameter paths that plant the relationship behind a hypothesis of
    :mod:`wholecomm.access.hypotheses` (``"H4"``, ``"H2 (housing)"``, ...), or None."""
    if hypothesis_id in BY_HYPOTHESIS:
        return ", ".join(BY_HYPOTHESIS[hypothesis_id])
    stem = hypothesis_id.split(" ")[0]
    for _statement, _source, _chapter, ids, keys in PLANTED:
        if stem in ids:
            return ", ".join(keys)
    return None
