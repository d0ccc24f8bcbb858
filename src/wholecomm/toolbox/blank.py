"""The blank questionnaire (YAML), the filled-in example and download links."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import textwrap
import zlib
from importlib import resources
from pathlib import Path

from .. import index, paths
from .catalogue import (
    EXAMPLE,
    QUESTIONNAIRE_FILENAME,
    SIZE_HELP,
    Catalogue,
    area_label,
    catalogue,
    rule_text,
)


# --------------------------------------------------------------- blank questionnaire
def _comment(text: str, indent: str, width: int = 92, hang: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=f"{indent}# ",
        subsequent_indent=f"{indent}# {hang}",
        break_on_hyphens=False,
    )


def blank_questionnaire(
    limit: int | None = None, min_answered_share: float = index.MIN_ANSWERED_SHARE
) -> str:
    """The blank MIPEX-L questionnaire as YAML text, generated from the indicator catalogue.

    A header explains how to fill it in; every indicator line is preceded by comments
    with its question and its options with their scores. ``limit`` keeps only the first
    ``limit`` indicators (for showing an excerpt; the result is then not a complete
    questionnaire).
    """
    cat = catalogue()
    rule = rule_text(cat.area_sizes(), min_answered_share) + " are answered"
    allowed = cat.allowed
    lines = [
        "# MIPEX-L-style self-evaluation questionnaire: the pilot questionnaire of the",
        "# Whole-COMM research companion, modelled on MIPEX and MIPEX-R. It is this book's own",
        "# questionnaire, not the Whole-COMM toolbox and not MIPEX-L (whose indicators are not public).",
        "#",
        "# How to fill it in",
        "# 1. Under `locality:` give the municipality's name and, for the benchmarks, its",
        "#    country, size class and locality type (allowed values are listed next to each).",
        "#    Put the name in quotes if it contains a colon or a #.",
        "# 2. Under `assessments:` set `year:` to the year the answers describe and answer each",
        "#    indicator with the letter of one option, for example `GOV01: a`. The options and",
        "#    their scores (0-100) are in the comments above each indicator.",
        "# 3. Leave an answer empty when you do not know it. It then counts as not answered,",
        f"#    never as 0: an area is scored only when {rule},",
        "#    and the overall score only when every area is scored.",
        "# 4. To monitor change over time, add further years: copy the block from `- year:`",
        "#    to its last answer, paste it at the end of the file and change the year.",
        "#    Each year may appear only once.",
        "# 5. Run:   wholecomm assess this-file.yml --out report.html",
        "#",
        "# Lines starting with # are comments and are ignored.",
        "",
        "locality:",
        "  name:            # free text (the report shows it as written)",
        f"  country:         # one of {' '.join(allowed['country'])}",
        "  size_class:      # "
        + " | ".join(f"{s} ({SIZE_HELP.get(s, '')})" if s in SIZE_HELP else s for s in allowed["size_class"]),
        f"  locality_type:   # one of {' | '.join(allowed['locality_type'])}",
        "  #   thriving = the local economy improved or was stable over the last five years and",
        "  #   unemployment is below 10 percent, otherwise struggling; experienced = the",
        "  #   foreign-born share of the population was at least 5 percent in 2014, otherwise new",
        "",
        "assessments:",
        "  - year:          # the year the answers describe, for example 2024",
        "    answers:",
    ]
    indent = "      "
    shown = cat.indicators if limit is None else cat.indicators.head(limit)
    current_area = None
    for row in shown.itertuples(index=False):
        if row.area != current_area:
            current_area = row.area
            lines += [
                "",
                f"{indent}# ===== {area_label(row.area)} " + "=" * max(3, 70 - len(area_label(row.area))),
            ]
        stage = index.STAGE_LABELS.get(row.stage, row.stage)
        lines += _comment(f"{row.indicator_id} ({stage}): {row.question}", indent)
        opts = cat.options[cat.options["indicator_id"] == row.indicator_id]
        for opt in opts.itertuples(index=False):
            lines += _comment(
                f"  {opt.answer_code} = {opt.answer_text} ({int(opt.score)})", indent, hang="      "
            )
        codes = ", ".join(sorted(opts["answer_code"]))
        lines.append(f"{indent}{row.indicator_id}:        # {codes}")
    if limit is not None and limit < len(cat.indicators):
        lines += ["", f"{indent}# ... and {len(cat.indicators) - limit} more indicators"]
    return "\n".join(lines) + "\n"


def download_link(text: str, filename: str, label: str, mime: str = "application/yaml") -> str:
    """An HTML link that downloads ``text`` as ``filename`` (a data: URI: works offline)."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a class="wholecomm-download" href="data:{mime};charset=utf-8;base64,{payload}" '
        f'download="{html.escape(filename)}">{html.escape(label)}</a>'
    )


def download_link_bytes(content: bytes, filename: str, label: str, mime: str) -> str:
    """An HTML link that downloads binary ``content`` as ``filename`` (a data: URI)."""
    payload = base64.b64encode(content).decode("ascii")
    return (
        f'<a class="wholecomm-download" href="data:{mime};base64,{payload}" '
        f'download="{html.escape(filename)}">{html.escape(label)}</a>'
    )


def questionnaire_download_link(label: str = "Download the blank questionnaire (YAML)") -> str:
    """The blank questionnaire as a download link (``whole-comm-questionnaire.yml``)."""
    return download_link(blank_questionnaire(), QUESTIONNAIRE_FILENAME, label)


def example_questionnaire(cat: Catalogue | None = None) -> Path:
    """Path of the fictional example (Exampleton, two assessment years) for the catalogue
    in use (``cat``, default :func:`~wholecomm.toolbox.catalogue.catalogue`).

    The bundled file when its indicators are those of the catalogue. With another
    catalogue, the same municipality and years answered over that catalogue by a fixed
    rule (:func:`example_for_catalogue`), written once to ``_build/examples/``."""
    path = Path(str(resources.files("wholecomm").joinpath("examples", EXAMPLE)))
    if not path.is_file():
        raise FileNotFoundError(f"The bundled example questionnaire is missing: {path}.")
    import yaml

    cat = catalogue() if cat is None else cat
    bundled = yaml.safe_load(path.read_text(encoding="utf-8"))
    ids = {str(k) for a in bundled["assessments"] for k in (a.get("answers") or {})}
    if ids == set(cat.ids):
        return path
    text = example_for_catalogue(cat, bundled)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    target = paths.build_dir() / "examples" / f"fictional-town-{digest}.yml"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    return target


def example_for_catalogue(cat: Catalogue, bundled: dict) -> str:
    """The fictional example over another catalogue: the bundled municipality and years;
    indicator ``i`` (catalogue order) of assessment ``k`` gets option
    ``(crc32(id) + 2k) mod (number of options)`` of its options, and every seventh
    indicator is left empty in the first year (so no area loses more than a third of its
    answers and every area stays scorable under the default rule)."""
    lines = [
        "# EXAMPLE: Exampleton is a fictional municipality in an imaginary region, invented to",
        "# show the toolbox; its answers follow a fixed rule over the indicator catalogue in use",
        "# and describe no real place.",
        "",
        "locality:",
    ]
    for key, value in bundled["locality"].items():
        lines.append(f"  {key}: {json.dumps(str(value))}")
    lines.append("assessments:")
    for k, assessment in enumerate(bundled["assessments"]):
        lines += [f"  - year: {int(assessment['year'])}", "    answers:"]
        for i, ind in enumerate(cat.ids):
            codes = cat.codes(ind)
            code = codes[(zlib.crc32(ind.encode()) + 2 * k) % len(codes)]
            lines.append(f"      {ind}: {'' if k == 0 and i % 7 == 6 else code}".rstrip())
    return "\n".join(lines) + "\n"
