"""Which data a page shows, from the package's metadata."""

from __future__ import annotations

from collections.abc import Iterable

from .. import paths
from .descriptor import resource_descriptor, resource_names


def provenance(name: str) -> dict:
    """Provenance of one resource as recorded in the package (plus where it was read from)."""
    res = resource_descriptor(name)
    prov = dict(res.get("provenance", {}))
    prov["file"] = res["_file"]
    prov["origin"] = res["_origin"]
    return prov


def provenance_notice(names: Iterable[str] | None = None) -> str:
    """One-paragraph notice saying what kind of data the page shows, built from the metadata."""
    names = list(names) if names is not None else resource_names()
    kinds: dict[str, list[str]] = {}
    for name in names:
        kinds.setdefault(provenance(name)["kind"], []).append(name)
    parts = []
    if "synthetic" in kinds:
        prov = provenance(kinds["synthetic"][0])
        parts.append(
            f"**Synthetic twin (seed {prov.get('seed')}, generator {prov.get('generator')} "
            f"{prov.get('generator_version')}).** The data on this page "
            f"({', '.join(kinds['synthetic'])}) have the structure of the Whole-COMM study but are "
            "generated, not observed: no number computed from them is a finding about real towns "
            "or people."
        )
    if "design" in kinds:
        parts.append(
            f"The MIPEX-L catalogue ({', '.join(kinds['design'])}) is this book's pilot design, "
            "modelled on MIPEX and MIPEX-R."
        )
    if "user" in kinds:
        directory = provenance(kinds["user"][0]).get("directory", str(paths.data_dir()))
        parts.append(f"**Data supplied by the user** ({', '.join(kinds['user'])}), read from `{directory}`.")
    if "published" in kinds:
        for name in kinds["published"]:
            prov = provenance(name)
            parts.append(f"Published data ({name}): {prov.get('source')}, retrieved {prov.get('retrieved')}.")
    return " ".join(parts)


def is_synthetic(names: Iterable[str] | None = None) -> bool:
    """True when every observed resource among ``names`` (all by default) is the book's
    synthetic twin: the condition for calling the data "the synthetic twin" in prose.
    Published and design resources (national MIPEX, the catalogue) do not count."""
    names = list(names) if names is not None else resource_names()
    kinds = [provenance(n)["kind"] for n in names]
    observed = [k for k in kinds if k not in ("published", "design")]
    return bool(observed) and all(k == "synthetic" for k in observed)


def data_words(names: Iterable[str] | None = None) -> dict[str, str]:
    """Words for prose that say which data a result was computed on, from the metadata
    (:func:`~wholecomm.data.provenance.is_synthetic`): ``data`` ("the synthetic data" / "these data"), ``on_data``
    ("on the synthetic twin" / "on the data supplied by the user") and ``kind``
    ("synthetic twin" / "data supplied by the user")."""
    if is_synthetic(names):
        return {"data": "the synthetic data", "on_data": "on the synthetic twin", "kind": "synthetic twin"}
    return {
        "data": "these data",
        "on_data": "on the data supplied by the user",
        "kind": "data supplied by the user",
    }
