"""The book on data it has never seen: rough-twin variants (wholecomm.twin.rough).

The generator is checked first (valid package, deterministic, the departures it promises,
the default twin untouched). Then the whole book is built on each variant, in a copy of
the book with its own build directory (the main ``_build`` is untouched; no browser
checks): the build succeeds, no page calls the data a synthetic twin, every recorded
hypothesis verdict agrees with the planted truth or is inconclusive, and no respondent
count below the minimum cell size is published.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from wholecomm import data, labels
from wholecomm.twin import rough

ROOT = Path(__file__).resolve().parents[1]
BUILD = [sys.executable, str(ROOT / "tools" / "build_book.py")]
sys.path.insert(0, str(ROOT / "tools"))
from bench import copy_book  # noqa: E402

VARIANTS = sorted(rough.VARIANTS)


@pytest.fixture(scope="module", params=VARIANTS, ids=[f"variant{v}" for v in VARIANTS])
def variant_dir(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"rough{request.param}")
    truth = rough.write(request.param, out)
    return request.param, out, truth


def _frames(folder: Path, monkeypatch) -> dict[str, pd.DataFrame]:
    monkeypatch.setenv("WHOLECOMM_DATA", str(folder))
    monkeypatch.setenv("WHOLECOMM_DATA_CACHE", "off")
    return data.load_all()


# ------------------------------------------------------------------ the generator
def test_rough_twin_is_a_valid_package_with_the_promised_departures(variant_dir, monkeypatch):
    variant, folder, truth = variant_dir
    frames = _frames(folder, monkeypatch)
    loc = frames["localities"]
    per_country = loc.groupby("country", observed=True).size()
    assert per_country.min() >= 3 and per_country.max() <= 8 and per_country.nunique() > 1
    assert not loc["locality_id"].str.fullmatch(r"[A-Z]{2}-0[1-5]").all()
    n = frames["survey"].groupby("locality_id").size().reindex(loc["locality_id"], fill_value=0)
    absent = truth["structure"]["absent"]
    if "survey" in absent:
        assert n[loc["country"].astype(str).eq(absent["survey"]).to_numpy()].eq(0).all()
    surveyed = n[n > 0]
    assert (n == 0).sum() >= 1 and surveyed.min() < data.MIN_CELL_DEFAULT and surveyed.max() >= 500
    if "interviews" in absent:
        iv_countries = frames["interviews"]["locality_id"].map(loc.set_index("locality_id")["country"])
        assert absent["interviews"] not in set(iv_countries.astype(str))
    per_area = frames["mipex_l_indicators"].groupby("area", observed=True).size()
    assert per_area.nunique() > 1
    assert not frames["mipex_l_indicators"]["indicator_id"].str.startswith("GOV").any()
    without = truth["structure"]["locality_without_policies"]
    assert without in set(loc["locality_id"]) and without not in set(frames["local_policies"]["locality_id"])
    assert (~loc["mipex_l_assessed"]).sum() == truth["structure"]["not_assessed"]
    signs = set(truth["hypotheses"].values())
    assert "0" in signs and ({"+", "-"} & signs)
    # Provenance: the package stands in for data supplied by a user.
    assert not data.is_synthetic()
    assert data.data_words()["kind"] == "data supplied by the user"


def test_rough_twin_is_deterministic_and_leaves_the_default_twin_alone(tmp_path):
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "data").iterdir()}
    a, b = tmp_path / "a", tmp_path / "b"
    rough.write(1, a)
    rough.write(1, b)
    for f in sorted(a.iterdir()):
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name
    assert before == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "data").iterdir()}
    with pytest.raises(ValueError, match="Unknown rough-twin variant"):
        rough.generate(99)


def test_rough_twin_command_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "wholecomm.twin.rough", str(tmp_path / "v2"), "--variant", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    truth = json.loads((tmp_path / "v2" / "truth.json").read_text())
    assert truth["variant"] == 2 and (tmp_path / "v2" / "datapackage.json").is_file()


# ------------------------------------------------------------------ the whole book
def _verdict_agrees(verdict: str, sign: str, expected: str) -> bool:
    """A verdict agrees with the planted sign of the estimand (relative to its null) or is inconclusive."""
    if verdict == "inconclusive":
        return True
    claimed = "+" if expected == "above" else "-"
    if verdict == "supported":
        return sign == claimed
    if verdict == "not supported":
        return sign not in ("0", claimed)
    raise AssertionError(f"unknown verdict {verdict!r}")


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS, ids=[f"variant{v}" for v in VARIANTS])
def test_the_whole_book_builds_on_a_rough_twin(variant, tmp_path):
    folder = tmp_path / "data"
    truth = rough.write(variant, folder)
    book = tmp_path / "book"
    book.mkdir()
    copy_book(book)
    env = {k: v for k, v in os.environ.items() if k not in ("WHOLECOMM_RESULTS_DIR", "WHOLECOMM_DATA_CACHE")}
    env["WHOLECOMM_DATA"] = str(folder)
    proc = subprocess.run(
        [*BUILD, "--root", str(book)], capture_output=True, text=True, timeout=3600, env=env, cwd=book
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    check_built_book(book, truth)


#: Glued values that count respondents (the others count localities, items, countries...).
RESPONDENT_COUNT = re.compile(r"respondent|per_locality|excluded_attitude|no_index|n_impact|n_complete")


def check_built_book(book: Path, truth: dict) -> None:
    """What a book built on a rough twin must satisfy (see the module docstring)."""
    html_dir = book / "_build" / "html"
    pages = sorted(html_dir.rglob("*.html"))
    assert pages

    # Every recorded verdict agrees with the planted truth or is inconclusive.
    results = json.loads((book / "_build" / "results" / "housing-employment.json").read_text())
    rows = results["tables"]["hypotheses"]  # the recorded values, under the library's column names
    assert rows and all({"hypothesis", "verdict", "expected"} <= set(r) for r in rows)
    found = {r["hypothesis"]: r for r in rows}
    for hid in truth["not_examinable"]:
        assert hid not in found
    for hid, sign in truth["hypotheses"].items():
        r = found[hid]
        assert _verdict_agrees(r["verdict"], sign, r["expected"]), (hid, r["verdict"], sign, r["expected"])

    # The planted relation between a town's MIPEX-L score and its residents' attitudes:
    # the multilevel estimate's interval may include zero, but never lie on the wrong side.
    values = json.loads((book / "_build" / "results" / "mipex-l.json").read_text())["values"]
    lo, hi = values["ml_lo"]["value"], values["ml_hi"]["value"]
    sign = truth["relations"]["mipex_l_overall_to_attitude"]
    assert not (lo > 0 and sign != "+") and not (hi < 0 and sign != "-"), (lo, hi, sign)

    # No respondent count below the minimum cell size is published, in tables or prose.
    floor = data.MIN_CELL_DEFAULT
    for rec in (book / "_build" / "results").glob("*.json"):
        page = json.loads(rec.read_text())
        for key, meta in page.get("table_meta", {}).items():
            col = meta.get("respondents_column")
            if not col:
                continue
            rendered = page["rendered"][key]
            idx = rendered[0].index(labels.column_label(col))  # the published header of that column
            for row in rendered[1:]:
                cell = str(row[idx]).replace(",", "")
                if cell.isdigit():
                    assert int(cell) == 0 or int(cell) >= floor, (rec.name, key, row)
        for key, val in page["values"].items():
            if RESPONDENT_COUNT.search(key) and isinstance(val.get("value"), int):
                text = val["text"].replace(",", "")
                if text.isdigit():
                    assert int(text) == 0 or int(text) >= floor, (rec.name, key, val)

    # No page calls these data a synthetic twin. The glossary defines the term (and the
    # general index lists it), and the library reference documents the twin's generator:
    # neither is a statement about the data in use. Nor is a cell's code, one click away on
    # every page, which words both cases (``if on_twin: ... else: ...``): what the page says
    # is its prose and its outputs.
    twin_words = re.compile(r"synthetic\s+twin", re.I)
    code = re.compile(r'<div class="cell_input[^"]*">.*?</pre>', re.S)
    definitions = {"book/glossary.html", "genindex.html", "book/api.html"}
    said = sorted(
        str(p.relative_to(html_dir))
        for p in pages
        if str(p.relative_to(html_dir)) not in definitions
        and twin_words.search(re.sub(r"<[^>]+>", " ", code.sub(" ", p.read_text(encoding="utf-8"))))
    )
    assert not said, f"pages calling user data a synthetic twin: {said}"
