"""The self-assessment page in a real browser (Debian's Chromium through Playwright):
Playwright fills the form with several answer sets, and the page's scores, flags,
benchmarks and priorities must equal `wholecomm.toolbox.assess` on the same answers,
on the built book and on a different catalogue; answers never leave the browser, are
stored only on request, and round-trip through the YAML that `wholecomm assess` reads."""

from __future__ import annotations

import functools
import http.server
import json
import math
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wholecomm import index, selfassess, toolbox

ROOT = Path(__file__).resolve().parents[1]
PAGE = "notebooks/self-assessment.html"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(directory: Path):
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory))
    )
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


@pytest.fixture(scope="module")
def book_url(built_html):
    srv, url = _serve(built_html)
    yield url
    srv.shutdown()


pytestmark = pytest.mark.usefixtures("book_data")


class Visit:
    """An open page with a record of every request it made and every error it logged."""

    def __init__(self, browser, url: str, width: int = 1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url, wait_until="networkidle")
        self.page.wait_for_function("window.wholecommSelfAssessment !== undefined")

    def close(self):
        self.context.close()

    def fill(self, locality: dict, answers: dict[str, str | None]):
        p = self.page
        for group in toolbox.PEER_GROUPS:
            p.select_option(f"#wc-sa-{group}", locality[group])
        p.fill("#wc-sa-name", locality.get("name", ""))
        p.fill("#wc-sa-year", str(locality.get("year", 2024)))
        for ind, code in answers.items():
            p.check(f"#q-{ind}-{code if code else 'dk'}")
        return p.evaluate("wholecommSelfAssessment.result()")


def yaml_of(locality: dict, answers: dict[str, str | None], year: int = 2024) -> str:
    lines = ["locality:", f"  name: {json.dumps(locality.get('name', 'Formtown (fictional)'))}"]
    lines += [f"  {g}: {locality[g]}" for g in toolbox.PEER_GROUPS]
    lines += ["assessments:", f"  - year: {year}", "    answers:"]
    lines += [f"      {ind}: {code or ''}".rstrip() for ind, code in answers.items()]
    return "\n".join(lines) + "\n"


def close(x, y) -> bool:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return y is None or (isinstance(y, float) and math.isnan(y))
    return y is not None and not (isinstance(y, float) and math.isnan(y)) and abs(x - y) <= 1e-9


def assert_parity(js: dict, a: toolbox.Assessment):
    """The page's result equals the Python engine's, field by field."""
    sc = a.scores[a.scores["year"] == a.latest_year].set_index("unit")
    for area in js["areas"]:
        row = sc.loc[area["id"]]
        assert area["scored"] == bool(row["scored"]), area["id"]
        assert area["answered"] == int(row["answered"]), area["id"]
        assert close(area["score"], float(row["score"])), (area["id"], area["score"], row["score"])
    assert close(js["overall"], float(sc.loc["overall", "score"]))
    b = a.benchmarks.set_index(["group", "unit"])
    assert len(js["benchmarks"]) == len(b)
    for r in js["benchmarks"]:
        py = b.loc[(r["group"], r["unit"])]
        assert r["n_peers"] == int(py["n_peers"]) and r["n_scored"] == int(py["n_scored"]), r
        assert r["few_peers"] == bool(py["few_peers"]), r
        for key in ("median", "q1", "q3", "best", "own", "gap"):
            assert close(r[key], float(py[key])), (r["group"], r["unit"], key, r[key], py[key])
    g = a.gaps.set_index("unit")
    for r in js["gaps"]:
        assert close(r["reference_gap"], float(g.loc[r["unit"], "reference_gap"])), r
        assert r["few_peers"] == bool(g.loc[r["unit"], "few_peers"])
    assert [p["indicator_id"] for p in js["priorities"]] == a.priorities["indicator_id"].tolist()
    for p, (_, py) in zip(js["priorities"], a.priorities.iterrows(), strict=False):
        assert p["rank"] == int(py["rank"]) and p["next_code"] == py["next_code"]
        assert p["n_peers_100"] == int(py["n_peers_100"])
        for key in ("priority", "points_gained", "area_points", "best_peer"):
            assert close(p[key], float(py[key])), (p["indicator_id"], key)


def python_assess(locality, answers) -> toolbox.Assessment:
    return toolbox.assess(toolbox.parse_questionnaire(yaml_of(locality, answers)))


def answer_sets(cat: toolbox.Catalogue) -> list[tuple[str, dict, dict]]:
    """Named answer sets: the example's latest year, exactly at the missing-answer threshold
    (every area with the smallest number of answers that is scored), one area just below it,
    random answers with unanswered questions, and everything at the top level."""
    sizes = cat.area_sizes()
    by_area = cat.indicators.groupby("area", sort=False)["indicator_id"].apply(list)
    codes = {i: cat.codes(i) for i in cat.ids}
    sets = []
    try:  # the fictional example follows the catalogue in use
        ex = toolbox.read_questionnaire(toolbox.example_questionnaire())
        latest = ex.answers[ex.answers["year"] == max(ex.years)]
        sets.append(
            (
                "example",
                {**ex.locality, "year": max(ex.years)},
                {
                    r.indicator_id: (r.answer_code if isinstance(r.answer_code, str) else None)
                    for r in latest.itertuples(index=False)
                },
            )
        )
    except toolbox.QuestionnaireError:
        pass
    rng = np.random.default_rng(2020)
    at = {}
    for area, ids in by_area.items():
        need = math.ceil(index.MIN_ANSWERED_SHARE * sizes[area] - 1e-9)
        for k, ind in enumerate(ids):
            at[ind] = codes[ind][int(rng.integers(len(codes[ind])))] if k < need else None
    sets.append(
        ("at-threshold", {"size_class": "rural_area", "country": "PL", "locality_type": "struggling_new"}, at)
    )
    below = dict(at)
    first_area = cat.areas[0]
    below[by_area[first_area][0]] = None
    sets.append(
        (
            "one-area-below-threshold",
            {"size_class": "medium_town", "country": "SE", "locality_type": "thriving_experienced"},
            below,
        )
    )
    for seed in (1, 2):
        r = np.random.default_rng(seed)
        answers = {
            i: (None if r.random() < 0.15 else codes[i][int(r.integers(len(codes[i])))]) for i in cat.ids
        }
        loc = {g: cat.allowed[g][int(r.integers(len(cat.allowed[g])))] for g in toolbox.PEER_GROUPS}
        sets.append((f"random-{seed}", loc, answers))
    return sets


@pytest.mark.browser
def test_page_equals_wholecomm_assess_on_several_answer_sets(browser, book_url):
    cat = toolbox.catalogue()
    v = Visit(browser, f"{book_url}/{PAGE}")
    try:
        for name, locality, answers in answer_sets(cat):
            js = v.fill(locality, answers)
            a = python_assess(locality, answers)
            assert_parity(js, a)
            # what the reader sees: the overall score and the three next steps
            overall = v.page.text_content("#wc-sa-overall")
            s = a.summary()["overall_latest"]
            assert (
                (f"{s:.1f} out of 100" in overall) if np.isfinite(s) else (toolbox.NOT_SCORED in overall)
            ), name
            shown = v.page.eval_on_selector_all(
                "#wc-sa-steps li[data-indicator]", "els => els.map(e => e.dataset.indicator)"
            )
            assert shown == a.priorities["indicator_id"].head(3).tolist(), name
            flags = v.page.eval_on_selector_all("#wc-sa-areas tr", "els => els.map(e => e.dataset.unit)")
            assert flags[-1] == "overall"
        names = [n for n, _, _ in answer_sets(cat)]
        assert "at-threshold" in names and "one-area-below-threshold" in names
        assert v.errors == []
        origin = book_url
        assert all(u.startswith(origin) or u.startswith("data:") for u in v.requests), v.requests
    finally:
        v.close()


@pytest.mark.browser
def test_threshold_sets_are_scored_and_not_scored_as_the_rule_says(browser, book_url):
    """A guard on the answer sets themselves: exactly at the threshold every area is scored;
    one answer fewer in one area leaves that area and the overall score unscored."""
    cat = toolbox.catalogue()
    sets = {n: (loc, ans) for n, loc, ans in answer_sets(cat)}
    a = python_assess(*sets["at-threshold"])
    assert a.scores["scored"].all()
    b = python_assess(*sets["one-area-below-threshold"])
    sc = b.scores.set_index("unit")
    assert not sc.loc[cat.areas[0], "scored"] and not sc.loc["overall", "scored"]
    assert sc.drop(index=[cat.areas[0], "overall"])["scored"].all()


def other_catalogue(folder: Path) -> Path:
    """A data folder with a different catalogue: three indicators fewer (areas of 5 and 4
    questions, so other thresholds), and the questions of one area with two answer
    options only (0 or 100 points; the peers' middle answers become the lower one)."""
    folder.mkdir()
    for csv in (ROOT / "data").glob("*.csv"):
        if csv.name != "mipex2020_national.csv":
            shutil.copy(csv, folder / csv.name)
    drop = {"GOV06", "LAB05", "LAB06"}
    for name in ("mipex_l_indicators", "mipex_l_options", "mipex_l_answers"):
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        frame = frame[~frame["indicator_id"].isin(drop)]
        hou = frame["indicator_id"].str.startswith("HOU")
        if name == "mipex_l_options":
            frame = frame[~(hou & (frame["answer_code"] == "b"))]
        if name == "mipex_l_answers":
            frame.loc[hou & (frame["answer_code"] == "b"), "answer_code"] = "c"
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.mark.browser
def test_page_equals_wholecomm_assess_on_a_different_catalogue(browser, tmp_path, monkeypatch):
    folder = other_catalogue(tmp_path / "other")
    monkeypatch.setenv("WHOLECOMM_DATA", str(folder))
    cat = toolbox.catalogue()
    assert "GOV06" not in cat.ids and cat.codes("HOU01") == ["a", "c"]
    assert sorted(cat.area_sizes().unique().tolist()) == [4, 5, 6]
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(selfassess.standalone_html(), encoding="utf-8")
    srv, url = _serve(site)
    v = Visit(browser, f"{url}/index.html")
    try:
        assert v.page.locator("#q-GOV06-a").count() == 0
        sets = answer_sets(cat)
        # The fictional example is answered over the catalogue in use (toolbox.example_questionnaire).
        assert [n for n, _, _ in sets][:3] == ["example", "at-threshold", "one-area-below-threshold"]
        for _name, locality, answers in sets:
            js = v.fill(locality, answers)
            assert_parity(js, python_assess(locality, answers))
        assert v.errors == []
    finally:
        v.close()
        srv.shutdown()


@pytest.mark.browser
def test_answers_stay_in_the_browser_and_are_saved_only_on_request(browser, book_url):
    v = Visit(browser, f"{book_url}/{PAGE}")
    try:
        cat = toolbox.catalogue()
        before = len(v.requests)
        key = selfassess.STORAGE_KEY
        v.fill(
            {
                "size_class": "small_town",
                "country": "DE",
                "locality_type": "thriving_new",
                "name": "Private town",
            },
            {i: "b" for i in cat.ids[:10]},
        )
        assert len(v.requests) == before, v.requests[before:]  # answering sends nothing
        assert v.page.evaluate(f"localStorage.getItem('{key}')") is None
        v.page.click("#wc-sa-save")
        stored = json.loads(v.page.evaluate(f"localStorage.getItem('{key}')"))
        assert stored["name"] == "Private town" and stored["answers"][cat.ids[0]] == "b"
        v.page.click("#wc-sa-clear")
        assert v.page.evaluate("wholecommSelfAssessment.result().answered") == 0
        v.page.click("#wc-sa-load")
        assert v.page.evaluate("wholecommSelfAssessment.result().answered") == 10
        v.page.click("#wc-sa-forget")
        assert v.page.evaluate(f"localStorage.getItem('{key}')") is None
        assert len(v.requests) == before, v.requests[before:]
    finally:
        v.close()


@pytest.mark.browser
def test_export_is_read_by_wholecomm_assess_and_imports_back(browser, book_url, tmp_path):
    cat = toolbox.catalogue()
    name, locality, answers = answer_sets(cat)[3]  # random-1
    v = Visit(browser, f"{book_url}/{PAGE}")
    try:
        v.fill({**locality, "name": 'Quote "and" colon: town', "year": 2023}, answers)
        with v.page.expect_download() as dl:
            v.page.click("#wc-sa-export")
        path = tmp_path / "exported.yml"
        dl.value.save_as(path)
        q = toolbox.read_questionnaire(path)
        assert q.name == 'Quote "and" colon: town' and q.years == [2023]
        assert q.locality == {"name": q.name, **{g: locality[g] for g in toolbox.PEER_GROUPS}}
        got = {
            r.indicator_id: (r.answer_code if isinstance(r.answer_code, str) else None)
            for r in q.answers.itertuples(index=False)
        }
        assert got == answers
        # import: the example questionnaire (two years) -> its latest year
        v.page.click("#wc-sa-clear")
        v.page.set_input_files("#wc-sa-import", str(toolbox.example_questionnaire()))
        v.page.wait_for_function("wholecommSelfAssessment.result().answered > 0")
        ex = toolbox.read_questionnaire(toolbox.example_questionnaire())
        state = v.page.evaluate("wholecommSelfAssessment.state()")
        latest = ex.answers[ex.answers["year"] == max(ex.years)]
        assert state["answers"] == {
            r.indicator_id: (r.answer_code if isinstance(r.answer_code, str) else None)
            for r in latest.itertuples(index=False)
        }
        assert state["name"] == ex.name and state["year"] == str(max(ex.years))
        assert {g: state["locality"][g] for g in toolbox.PEER_GROUPS} == {
            g: getattr(ex, g) for g in toolbox.PEER_GROUPS
        }
        assert_parity(
            v.page.evaluate("wholecommSelfAssessment.result()"),
            toolbox.assess(toolbox.parse_questionnaire(yaml_of(ex.locality, state["answers"]))),
        )
    finally:
        v.close()


@pytest.mark.browser
def test_page_has_no_sideways_scroll_on_a_phone_and_prints_one_page(browser, book_url):
    cat = toolbox.catalogue()
    v = Visit(browser, f"{book_url}/{PAGE}", width=390)
    try:
        name, locality, answers = answer_sets(cat)[0]
        v.fill(locality, answers)
        widths = v.page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], widths
        # the printable summary: the data notice, and one A4 page
        assert "Synthetic twin" in v.page.text_content(
            "#wc-sa-summary"
        ) or "supplied by the user" in v.page.text_content("#wc-sa-summary")
        v.page.evaluate("wholecommSelfAssessment.preparePrint()")
        pdf = v.page.pdf(format="A4", prefer_css_page_size=True)
        v.page.evaluate("wholecommSelfAssessment.endPrint()")
        import re

        counts = [int(c) for c in re.findall(rb"/Type /Pages\n/Count (\d+)", pdf)]
        assert counts and max(counts) == 1, counts
    finally:
        v.close()


# ------------------------------------------------------------------ spreadsheet route
def _answers_of(q: toolbox.Questionnaire, year: int) -> dict[str, str | None]:
    rows = q.answers[q.answers["year"] == year]
    return {
        r.indicator_id: (r.answer_code if isinstance(r.answer_code, str) else None)
        for r in rows.itertuples(index=False)
    }


def _standalone(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(selfassess.standalone_html(), encoding="utf-8")
    return _serve(site)


def _import(v: Visit, path: Path) -> str:
    v.page.evaluate("document.getElementById('wc-sa-message').textContent = ''")
    v.page.set_input_files("#wc-sa-import", str(path))
    v.page.wait_for_function(
        "wholecommSelfAssessment.importing === null && "
        "document.getElementById('wc-sa-message').textContent !== ''"
    )
    return v.page.text_content("#wc-sa-message")


def as_another_program_saves_it(content: bytes) -> bytes:
    """The workbook as spreadsheet programs save it: text in a shared-strings part (some of
    it split into rich-text runs, one with a phonetic run), parts stored and deflated."""
    import re
    import zipfile
    from io import BytesIO

    src = zipfile.ZipFile(BytesIO(content))
    strings: list[str] = []

    def shared(match: re.Match) -> str:
        attrs, text = match.group(1), match.group(2)
        strings.append(text)  # already XML-escaped, as openpyxl wrote it
        return f'<c{attrs} t="s"><v>{len(strings) - 1}</v></c>'

    out = BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for k, info in enumerate(src.infolist()):
            data = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                text = data.decode("utf-8")
                text = re.sub(r'<c([^>]*?) t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>', shared, text)
                data = text.encode("utf-8")
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats'
                    b'.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                    b"</Relationships>",
                )
            dst.writestr(
                info.filename, data, compress_type=zipfile.ZIP_STORED if k % 2 else zipfile.ZIP_DEFLATED
            )
        items = []
        for k, s in enumerate(strings):
            if len(s) > 6 and k % 3 == 0:  # the same text as two runs, and a phonetic run to skip
                items.append(
                    f"<si><r><rPr><b/></rPr><t>{s[:3]}</t></r><r><t>{s[3:]}</t></r>"
                    f'<rPh sb="0" eb="1"><t>PHONETIC</t></rPh></si>'
                )
            else:
                items.append(f'<si><t xml:space="preserve">{s}</t></si>')
        dst.writestr(
            "xl/sharedStrings.xml",
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{"".join(items)}</sst>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return out.getvalue()


@pytest.mark.browser
def test_spreadsheet_export_is_read_by_wholecomm_assess_and_imports_back(browser, tmp_path):
    cat = toolbox.catalogue()
    name, locality, answers = answer_sets(cat)[3]  # random-1: some questions unanswered
    assert None in answers.values()
    srv, url = _standalone(tmp_path)
    v = Visit(browser, f"{url}/index.html")
    try:
        js = v.fill({**locality, "name": "Ünïcode & <angle> town", "year": 2023}, answers)
        with v.page.expect_download() as dl:
            v.page.click("#wc-sa-export-xlsx")
        assert dl.value.suggested_filename.endswith(".xlsx")
        path = tmp_path / "exported.xlsx"
        dl.value.save_as(path)
        import zipfile

        assert zipfile.ZipFile(path).testzip() is None  # every part's CRC is right
        q = toolbox.read_questionnaire(path)  # what `wholecomm assess` reads
        assert q.name == "Ünïcode & <angle> town" and q.years == [2023]
        assert q.locality == {"name": q.name, **{g: locality[g] for g in toolbox.PEER_GROUPS}}
        assert _answers_of(q, 2023) == answers
        assert_parity(js, toolbox.assess(q))
        # the exported workbook keeps the template's drop-down lists and instructions
        from openpyxl import load_workbook

        wb = load_workbook(path)
        assert wb.sheetnames == list(toolbox.SHEETS)
        assert len(wb[toolbox.SHEETS[2]].data_validations.dataValidation) == len(cat.ids) + 1
        # and it imports back into the page unchanged
        v.page.click("#wc-sa-clear")
        assert v.page.evaluate("wholecommSelfAssessment.result().answered") == 0
        message = _import(v, path)
        assert message.startswith("Imported the answers of 2023"), message
        state = v.page.evaluate("wholecommSelfAssessment.state()")
        assert state["answers"] == answers and state["name"] == q.name and state["year"] == "2023"
        assert state["locality"] == {g: locality[g] for g in toolbox.PEER_GROUPS}
        assert v.errors == [] and all(r.startswith(url) or r.startswith("data:") for r in v.requests)
    finally:
        v.close()
        srv.shutdown()


@pytest.mark.browser
def test_spreadsheet_import_equals_the_cli_reading_of_the_same_workbook(browser, tmp_path):
    """The example workbook (two years) as openpyxl writes it and as a spreadsheet program
    saves it: the page takes the latest year, exactly as `wholecomm assess` reads it."""
    srv, url = _standalone(tmp_path)
    v = Visit(browser, f"{url}/index.html")
    try:
        example = toolbox.questionnaire_workbook(example=True)
        for label, content in (
            ("openpyxl", example),
            ("shared strings", as_another_program_saves_it(example)),
        ):
            path = tmp_path / f"{label.replace(' ', '-')}.xlsx"
            path.write_bytes(content)
            q = toolbox.read_questionnaire(path)
            latest = max(q.years)
            assert len(q.years) == 2
            v.page.click("#wc-sa-clear")
            message = _import(v, path)
            assert message.startswith(f"Imported the answers of {latest} (the latest of "), (label, message)
            state = v.page.evaluate("wholecommSelfAssessment.state()")
            assert state["answers"] == _answers_of(q, latest), label
            assert state["name"] == q.name and state["year"] == str(latest), label
            assert state["locality"] == {g: getattr(q, g) for g in toolbox.PEER_GROUPS}, label
            assert_parity(
                v.page.evaluate("wholecommSelfAssessment.result()"),
                python_assess(q.locality, _answers_of(q, latest)),
            )
        assert v.errors == []
    finally:
        v.close()
        srv.shutdown()


@pytest.mark.browser
def test_a_bad_spreadsheet_is_reported_and_changes_nothing(browser, tmp_path):
    from openpyxl import load_workbook

    srv, url = _standalone(tmp_path)
    v = Visit(browser, f"{url}/index.html")
    try:
        cat = toolbox.catalogue()
        name, locality, answers = answer_sets(cat)[3]
        v.fill({**locality, "name": "Keep me", "year": 2022}, answers)
        before = v.page.evaluate("wholecommSelfAssessment.state()")
        good = tmp_path / "good.xlsx"
        good.write_bytes(toolbox.questionnaire_workbook(example=True))
        wb = load_workbook(good)
        ws = wb[toolbox.SHEETS[2]]
        row = toolbox.FIRST_QUESTION_ROW + 1
        ws.cell(row=row, column=toolbox.FIRST_ANSWER_COL + 1, value="Sometimes, perhaps")
        typo = tmp_path / "typo.xlsx"
        wb.save(typo)
        message = _import(v, typo)
        assert message.startswith("Could not import this file"), message
        assert (
            f"{toolbox.SHEETS[2]} F{row}" in message
            and cat.ids[1] in message
            and "Sometimes, perhaps" in message
        )
        wb = load_workbook(good)
        del wb[toolbox.SHEETS[2]]
        renamed = tmp_path / "renamed.xlsx"
        wb.save(renamed)
        message = _import(v, renamed)
        assert "the sheet Answers is missing" in message, message
        truncated = tmp_path / "truncated.xlsx"
        truncated.write_bytes(good.read_bytes()[:5000])
        assert "damaged" in _import(v, truncated)
        assert v.page.evaluate("wholecommSelfAssessment.state()") == before
        assert v.errors == []
    finally:
        v.close()
        srv.shutdown()
