"""The self-assessment page: the MIPEX-L questionnaire as a form that works offline in the
browser, with scores, peer benchmarks and priorities computed there.

:func:`form_html` is called when the book is built. It generates the form from the
indicator catalogue in use (questions grouped by policy area, every answer option shown
as its text, "Don't know" everywhere, the locality's size class, country and type
chosen from the data's categories) and embeds, as JSON, everything the page needs to
compute (:func:`page_data`): the catalogue with the options' scores, the answered-share
rule, and every assessed peer locality with its attributes and indicator scores.

The page's script (``static/selfassess.js``, shipped inline with the page: no CDN, no
request) scores the answers with the rule of :func:`wholecomm.index.scoring.score`, benchmarks
them against the peers and ranks the priorities with the rule of
:func:`wholecomm.toolbox.assessment.assess`, after every answer. The answers stay in the browser:
they are saved there (``localStorage``) only when the reader asks, and exported as the
YAML questionnaire or the questionnaire workbook (.xlsx, filled into the blank workbook of
:func:`wholecomm.toolbox.workbook.questionnaire_workbook`, which the page carries) that
``wholecomm assess`` reads, and imported back from either (``static/xlsx.js`` reads and
writes the workbook without a library). Parity with the
Python engine is tested in ``tests/test_selfassess.py``.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources as _resources

import numpy as np

from . import book, data, index, toolbox

#: The scripts of the page (plain JavaScript, no dependencies): the workbook reader and
#: writer, then the form's engine.
SCRIPTS = ("xlsx.js", "selfassess.js")
#: localStorage key under which the answers are saved when the reader asks.
STORAGE_KEY = "wholecomm-self-assessment"


def _score(value) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def page_data(min_answered_share: float = index.MIN_ANSWERED_SHARE) -> dict:
    """Everything the page computes from, as JSON-ready data (catalogue in catalogue
    order; each peer's indicator scores aligned with it, None = not answered)."""
    cat = toolbox.catalogue()
    peers = toolbox.peer_data(cat, min_answered_share)
    ids = cat.ids
    indicators = []
    for row in cat.indicators.itertuples(index=False):
        opts = cat.options[cat.options["indicator_id"] == row.indicator_id]
        indicators.append(
            {
                "id": row.indicator_id,
                "area": row.area,
                "stage": row.stage,
                "stage_label": index.STAGE_LABELS.get(row.stage, row.stage),
                "question": row.question,
                "options": [
                    {"code": o.answer_code, "text": o.answer_text, "score": float(o.score)}
                    for o in opts.itertuples(index=False)
                ],
            }
        )
    groups = []
    for group in toolbox.PEER_GROUPS:
        groups.append(
            {
                "id": group,
                "word": toolbox.FIELD_WORDS[group],
                "label": toolbox.GROUP_LABELS[group],
                "values": [
                    {
                        "value": v,
                        "label": toolbox.group_value_label(group, v),
                        "choice": toolbox.choice_label(group, v),
                    }
                    for v in cat.allowed[group]
                ],
            }
        )
    res = peers.result
    loc = peers.localities.assign(locality_id=peers.localities["locality_id"].astype(str)).set_index(
        "locality_id"
    )
    described = toolbox.describe_localities(peers.localities)
    peer_rows = []
    for loc_id in res.localities:
        scores = res.indicator_scores.loc[loc_id, ids]
        peer_rows.append(
            {
                "id": str(loc_id),
                **{g: str(loc.loc[loc_id, g]) for g in toolbox.PEER_GROUPS},
                "description": described.get(str(loc_id), str(loc_id)),
                "scores": [_score(v) for v in scores.to_numpy()],
            }
        )
    return {
        "version": 1,
        "share": float(min_answered_share),
        "rule_text": toolbox.rule_text(cat.area_sizes(), float(min_answered_share)),
        "eps": toolbox.EPS,
        "tie_decimals": index.TIE_DECIMALS,
        "min_peers": toolbox.MIN_PEERS,
        "not_scored": toolbox.NOT_SCORED,
        "dont_know": toolbox.DONT_KNOW,
        "year_range": list(toolbox.YEAR_RANGE),
        "areas": [{"id": a, "label": toolbox.area_label(a)} for a in cat.areas],
        "indicators": indicators,
        "groups": groups,
        "peers": peer_rows,
        "synthetic": peers.synthetic,
        "notice": book._md_to_html(data.provenance_notice(list(toolbox.RESOURCES))),
        "storage_key": STORAGE_KEY,
        "workbook": workbook_data(min_answered_share),
    }


def workbook_data(min_answered_share: float = index.MIN_ANSWERED_SHARE) -> dict:
    """The blank questionnaire workbook (base64) and where the page reads and writes in it:
    the sheet names, the row of each locality field, the first answer column and the first
    question row (the layout of :func:`wholecomm.toolbox.workbook.questionnaire_workbook`)."""
    blank = toolbox.questionnaire_workbook(min_answered_share=min_answered_share)
    return {
        "template": base64.b64encode(blank).decode("ascii"),
        "sheets": {"locality": toolbox.SHEETS[1], "answers": toolbox.SHEETS[2]},
        "locality_rows": [{"field": f, "row": k} for k, f in enumerate(toolbox.LOCALITY_FIELDS, start=2)],
        "first_answer_col": toolbox.FIRST_ANSWER_COL,
        "first_question_row": toolbox.FIRST_QUESTION_ROW,
    }


def script() -> str:
    """The page's JavaScript."""
    static = _resources.files("wholecomm").joinpath("static")
    return "\n".join(static.joinpath(name).read_text(encoding="utf-8") for name in SCRIPTS)


def _json_for_script(value) -> str:
    """JSON that is safe inside a <script> element (no '</' can close it)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def form_html(min_answered_share: float = index.MIN_ANSWERED_SHARE) -> str:
    """The whole self-assessment widget (form, results, summary, script) as one HTML fragment."""
    d = page_data(min_answered_share)
    e = html.escape
    n = len(d["indicators"])
    rule = d["rule_text"]
    out = [
        f'<div id="wc-sa" class="wc-sa" data-n="{n}">',
        f"<style>{CSS}</style>",
        f'<script type="application/json" id="wc-sa-data">{_json_for_script(d)}</script>',
        "<noscript><p><strong>This form needs JavaScript</strong> (it runs only in your browser). Without it, "
        "download the questionnaire and use <code>wholecomm assess</code>.</p></noscript>",
        '<form id="wc-sa-form" class="wc-sa-form" novalidate autocomplete="off">',
        '<fieldset class="wc-sa-locality"><legend>Your municipality</legend>',
        '<div class="wc-sa-field"><label for="wc-sa-name">Name (shown only on your summary)</label>'
        f'<input type="text" id="wc-sa-name" name="name" maxlength="{toolbox.MAX_TEXT_CHARS}"></div>',
        '<div class="wc-sa-field"><label for="wc-sa-year">Year the answers describe</label>'
        f'<input type="number" id="wc-sa-year" name="year" min="{d["year_range"][0]}" '
        f'max="{d["year_range"][1]}" step="1"></div>',
    ]
    for g in d["groups"]:
        out.append(
            f'<div class="wc-sa-field"><label for="wc-sa-{g["id"]}">{e(g["word"].capitalize())}</label>'
            f'<select id="wc-sa-{g["id"]}" name="{g["id"]}"><option value="">(choose)</option>'
        )
        out += [f'<option value="{e(v["value"])}">{e(v["choice"])}</option>' for v in g["values"]]
        out.append("</select></div>")
    out.append("</fieldset>")
    out.append(
        '<div class="wc-sa-progress-box"><label for="wc-sa-progress-bar">Answered</label> '
        f'<progress id="wc-sa-progress-bar" max="{n}" value="0"></progress> '
        f'<span id="wc-sa-progress" role="status" aria-live="polite">0 of {n} questions answered</span></div>'
    )
    for area in d["areas"]:
        qs = [q for q in d["indicators"] if q["area"] == area["id"]]
        out.append(
            f'<details class="wc-sa-area" data-area="{e(area["id"])}" open>'
            f'<summary><span class="wc-sa-area-title">{e(area["label"])}</span> '
            f'<span class="wc-sa-area-progress" data-area-progress="{e(area["id"])}">0 of {len(qs)} '
            "answered</span></summary>"
        )
        for q in qs:
            qid = e(q["id"])
            out.append(
                f'<fieldset class="wc-sa-q" data-indicator="{qid}"><legend><span class="wc-sa-qid">{qid}'
                f'</span> {e(q["question"])} <span class="wc-sa-stage">({e(q["stage_label"])})</span>'
                "</legend>"
            )
            for o in q["options"]:
                oid = f"q-{qid}-{e(o['code'])}"
                out.append(
                    f'<div class="wc-sa-opt"><input type="radio" id="{oid}" name="q-{qid}" '
                    f'value="{e(o["code"])}"><label for="{oid}">{e(o["text"])} '
                    f'<span class="wc-sa-points">({o["score"]:.0f} points)</span></label></div>'
                )
            out.append(
                f'<div class="wc-sa-opt"><input type="radio" id="q-{qid}-dk" name="q-{qid}" value="" '
                f'checked><label for="q-{qid}-dk">{e(d["dont_know"])}</label></div>'
            )
            out.append("</fieldset>")
        out.append("</details>")
    out.append("</form>")
    out.append(
        '<div class="wc-sa-actions" role="group" aria-label="Save, export and print">'
        '<button type="button" id="wc-sa-save">Save in this browser</button>'
        '<button type="button" id="wc-sa-load">Load saved answers</button>'
        '<button type="button" id="wc-sa-forget">Forget saved answers</button>'
        '<button type="button" id="wc-sa-export">Download answers (YAML for wholecomm assess)</button>'
        '<button type="button" id="wc-sa-export-xlsx">Download answers (spreadsheet)</button>'
        '<label class="wc-sa-import" for="wc-sa-import">Import answers (YAML or spreadsheet)</label>'
        '<input type="file" id="wc-sa-import" accept=".yml,.yaml,.xlsx,text/yaml,text/plain,'
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet">'
        '<button type="button" id="wc-sa-clear">Clear all answers</button>'
        '<button type="button" id="wc-sa-print">Print the one-page summary</button>'
        '<p id="wc-sa-message" role="status" aria-live="polite"></p></div>'
    )
    out.append(
        '<section id="wc-sa-summary" class="wc-sa-summary" aria-labelledby="wc-sa-summary-title">'
        '<h2 id="wc-sa-summary-title">Your results</h2>'
        '<p class="wc-sa-print-only" id="wc-sa-summary-who"></p>'
        '<p id="wc-sa-overall" class="wc-sa-overall"></p>'
        '<div class="wc-sa-table-wrap"><table class="wc-sa-table"><caption>Scores by policy area against similar '
        'places (points, 0-100)</caption><thead><tr><th scope="col">Policy area</th><th scope="col">Answered</th>'
        '<th scope="col">Score</th>'
        + "".join(f'<th scope="col">Typical: {e(g["word"])}</th>' for g in d["groups"])
        + '<th scope="col">Average gap</th></tr></thead><tbody id="wc-sa-areas"></tbody></table></div>'
        '<div id="wc-sa-compare"></div>'
        '<h3>Three next steps</h3><ol id="wc-sa-steps"></ol>'
        f'<p class="wc-sa-small">An area is scored when {e(rule)} are answered; "{e(d["dont_know"])}" counts as '
        'not answered, never as 0. "Typical" is the median score of the assessed localities with the same size '
        "class, country or locality type; the average gap is your score minus those medians, averaged over the "
        f"groups with at least {d['min_peers']} scored peers. Next steps are the answered questions where moving "
        "up one answer level helps most in the areas furthest behind similar places.</p>"
        f'<div class="wc-sa-notice wholecomm-provenance-copy" role="note"><p><strong>About the data:</strong> '
        f"{d['notice']}</p></div>"
        "</section>"
    )
    out.append(f"<script>{script()}</script>")
    out.append("</div>")
    return "\n".join(out)


def standalone_html(
    min_answered_share: float = index.MIN_ANSWERED_SHARE, title: str = "Self-assessment"
) -> str:
    """The widget in a minimal HTML document (for tests on other data and for offline use)."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><title>{html.escape(title)}</title></head><body><main>'
        f"<h1>{html.escape(title)}</h1>{form_html(min_answered_share)}</main></body></html>"
    )


CSS = """
.wc-sa fieldset { border: 1px solid rgba(128,128,128,.5); border-radius: 6px; margin: .6rem 0; padding: .4rem .8rem;
  min-width: 0; }
.wc-sa legend { font-weight: 600; padding: 0 .3rem; }
.wc-sa .wc-sa-q legend { font-weight: 400; }
.wc-sa .wc-sa-qid { font-weight: 700; }
.wc-sa .wc-sa-stage, .wc-sa .wc-sa-points, .wc-sa .wc-sa-small { font-size: .9em; }
.wc-sa .wc-sa-field { display: inline-block; margin: .3rem 1rem .3rem 0; max-width: 100%; }
.wc-sa .wc-sa-field label { display: block; font-weight: 600; }
.wc-sa input[type=text], .wc-sa select { max-width: 100%; }
.wc-sa .wc-sa-opt { display: flex; gap: .4rem; align-items: baseline; margin: .15rem 0; }
.wc-sa details.wc-sa-area { margin: .6rem 0; }
.wc-sa details.wc-sa-area > summary { font-size: 1.1em; font-weight: 700; cursor: pointer; }
.wc-sa .wc-sa-area-progress { font-weight: 400; font-size: .9em; }
.wc-sa .wc-sa-progress-box { position: sticky; top: 0; z-index: 2; background: var(--pst-color-background, #fff);
  padding: .3rem 0; }
.wc-sa .wc-sa-actions { display: flex; flex-wrap: wrap; gap: .4rem; margin: 1rem 0; align-items: center; }
.wc-sa .wc-sa-actions button, .wc-sa .wc-sa-import { padding: .3rem .6rem; border: 1px solid currentColor;
  border-radius: 4px; background: transparent; color: inherit; cursor: pointer; font: inherit; }
.wc-sa #wc-sa-import { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.wc-sa #wc-sa-import:focus + * , .wc-sa #wc-sa-import:focus { outline: 2px solid; }
.wc-sa .wc-sa-summary { border-top: 3px solid #0173b2; margin-top: 1rem; padding-top: .3rem; }
.wc-sa .wc-sa-overall { font-size: 1.2em; }
.wc-sa .wc-sa-table-wrap { max-width: 100%; }
.wc-sa table.wc-sa-table { border-collapse: collapse; width: 100%; font-size: .9em; }
.wc-sa table.wc-sa-table th, .wc-sa table.wc-sa-table td { border-bottom: 1px solid rgba(128,128,128,.5);
  padding: .15rem .3rem; text-align: left; overflow-wrap: break-word; }
.wc-sa .wc-sa-print-only { display: none; }
@media (max-width: 640px) {
  .wc-sa table.wc-sa-table, .wc-sa table.wc-sa-table tbody, .wc-sa table.wc-sa-table tr,
  .wc-sa table.wc-sa-table td, .wc-sa table.wc-sa-table caption { display: block; width: auto; }
  .wc-sa table.wc-sa-table thead { position: absolute; left: -10000px; }
  .wc-sa table.wc-sa-table tr { border-bottom: 2px solid rgba(128,128,128,.5); }
  .wc-sa table.wc-sa-table td { border: none; }
  .wc-sa table.wc-sa-table td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; }
  .wc-sa table.wc-sa-table td:first-child { font-weight: 700; }
}
@media print {
  html.wc-sa-printing body > *:not(#wc-sa-print-copy) { display: none !important; }
  html.wc-sa-printing body { margin: 0; padding: 0; background: #fff; }
  #wc-sa-print-copy { font-size: 9.5pt; color: #000; background: #fff; margin: 0; border: none; }
  #wc-sa-print-copy .wc-sa-print-only { display: block; }
  #wc-sa-print-copy h2 { font-size: 14pt; margin: 0 0 .3rem 0; }
  #wc-sa-print-copy h3 { font-size: 11pt; margin: .4rem 0 .2rem 0; }
  #wc-sa-print-copy p, #wc-sa-print-copy li { margin: .15rem 0; }
  #wc-sa-print-copy table.wc-sa-table { font-size: 8.5pt; }
  #wc-sa-print-copy table.wc-sa-table th, #wc-sa-print-copy table.wc-sa-table td { padding: .05rem .25rem; }
  @page { size: A4; margin: 12mm; }
}
"""
