"""What is Whole-COMM's and what the book computes are kept apart, on every page and in
every file that leaves a page.

* The narrative pages (events, recommendations) report the project's record: no computed
  value appears on them outside a labelled box carrying the data notice, and their wording
  about the data follows the data in use (never "synthetic" on user data).
* Every CSV download carries its provenance in its file name and in its first lines; every
  downloadable notebook starts with its data notice; the blank questionnaire says it is
  this book's pilot, not the Whole-COMM toolbox.
* The people page gives both spellings where the two event reports differ, and search finds both.
* The bibliography holds no title, author or year that its source does not give
  (``book/references-provenance.yml`` quotes the source), and its citation labels are
  distinguishable.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup

from wholecomm import book, data, toolbox

ROOT = Path(__file__).resolve().parents[1]
NARRATIVE = ["intro", "workshop", "conference", "recommendations", "cite", "people", "glossary"]
EVENT_PAGES = ["workshop", "conference"]
#: Pages whose wording about the data in use must follow it (the glossary defines the
#: synthetic twin as the book's own package, whatever data a build uses).
DATA_WORDING_PAGES = ["intro", "workshop", "conference", "recommendations", "cite", "people"]
DOWNLOAD = re.compile(
    r'<a class="wholecomm-download" href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)" '
    r'download="([^"]+)"'
)
SEED = data.provenance("survey")["seed"]


def _page(built: Path, name: str) -> BeautifulSoup:
    path = built / "book" / f"{name}.html"
    assert path.is_file(), f"{path} not built"
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _article(soup: BeautifulSoup):
    return soup.find("article") or soup


# ------------------------------------------------------------------ narrative pages
@pytest.mark.parametrize("name", EVENT_PAGES)
def test_event_pages_put_no_computed_value_outside_a_labelled_box(built_html, name):
    soup = _page(built_html, name)
    article = _article(soup)
    glued = article.select(".pasted-text, .pasted-inline, .cell_output, .wholecomm-glued")
    for node in glued:
        box = node.find_parent(class_="wholecomm-data-box")
        assert box is not None, f"{name}: computed value {node.get_text()[:60]!r} outside a labelled box"
        assert "About the data" in box.get_text(), f"{name}: a data box without the data notice"
    source = (ROOT / "book" / f"{name}.md").read_text(encoding="utf-8")
    assert "{glue" not in source or "wholecomm-data-box" in source
    # The page says which data its links lead to, in its notice box.
    notice = article.select_one(".wholecomm-record-notice")
    assert notice is not None, f"{name}: no notice saying what the linked chapters run on"
    assert f"synthetic twin (seed {SEED})" in " ".join(notice.get_text().split())


def test_event_pages_link_to_the_analysis_instead_of_quoting_it(built_html):
    text = " ".join(_article(_page(built_html, "conference")).get_text().split())
    assert text.count("Examined on the data in use") >= 6
    assert "On the synthetic twin," not in text
    # The heading no longer ties the small-funds remark to a country the report does not name.
    assert "Austria and small funds" not in text


def test_narrative_wording_comes_from_the_data_in_use(built_html):
    for name in DATA_WORDING_PAGES:
        source = (ROOT / "book" / f"{name}.md").read_text(encoding="utf-8")
        # Outside the wording switched by the data in use, the page says nothing about a twin.
        fixed = re.sub(r"```\{only\} not wholecomm_user_data.*?```", "", source, flags=re.S)
        assert "synthetic" not in fixed.lower(), (
            f"book/{name}.md: data wording not taken from the data in use"
        )


@pytest.fixture(scope="module")
def user_data_build(tmp_path_factory):
    """The narrative pages built on a user data folder (a copy of the study CSVs)."""
    tmp = tmp_path_factory.mktemp("userbuild")
    folder = tmp / "userdata"
    folder.mkdir()
    for csv in (ROOT / "data").glob("*.csv"):
        if csv.name != "mipex2020_national.csv":
            shutil.copy(csv, folder / csv.name)
    toc = tmp / "_toc.yml"
    toc.write_text(
        yaml.safe_dump(
            {
                "format": "jb-book",
                "root": "book/intro",
                "chapters": [
                    {"file": f"book/{name}"}
                    for name in [n for n in NARRATIVE if n != "intro"] + ["references"]
                ],
            }
        )
    )
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    for button in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
        config["html"][button] = False  # no repository URL is needed for this check
    config["sphinx"]["local_extensions"] = {
        name: str(ROOT / path) for name, path in config["sphinx"]["local_extensions"].items()
    }
    config["bibtex_bibfiles"] = [str(ROOT / path) for path in config["bibtex_bibfiles"]]
    (tmp / "_config.yml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "WHOLECOMM_DATA": str(folder), "WHOLECOMM_DATA_CACHE": str(tmp / "cache")}
    env.pop("WHOLECOMM_RESULTS_DIR", None)
    out = tmp / "out"
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("jupyter-book")),
            "build",
            str(ROOT),
            "--builder",
            "html",
            "--toc",
            str(toc),
            "--config",
            str(tmp / "_config.yml"),
            "--path-output",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[:6000]
    return out / "_build" / "html"


def test_narrative_pages_built_on_user_data_never_say_synthetic(user_data_build):
    for name in DATA_WORDING_PAGES:
        text = " ".join(_article(_page(user_data_build, name)).get_text().split())
        assert "synthetic" not in text.lower(), f"{name} built on user data still speaks of synthetic data"
        if name != "people":
            assert "supplied by the user" in text, f"{name} built on user data does not say so"


# ------------------------------------------------------------------ what leaves a page
def _downloads(built: Path) -> list[tuple[Path, str, str]]:
    found = []
    for page in sorted(built.rglob("*.html")):
        for payload, name in DOWNLOAD.findall(page.read_text(encoding="utf-8")):
            found.append((page, html.unescape(name), base64.b64decode(payload).decode("utf-8")))
    return found


def test_every_csv_download_carries_its_provenance(built_html):
    downloads = _downloads(built_html)
    pages = {page.name for page, _name, _text in downloads}
    assert len(downloads) >= 20 and {"mipex-l.html", "survey.html", "findings.html"} <= pages
    for page, name, text in downloads:
        where = f"{page.name}: {name}"
        assert name.endswith(f"-synthetic-twin-seed{SEED}.csv"), f"{where}: no data tag in the file name"
        first, second, *rest = text.split("\n")
        assert first.startswith("# Source: Whole-COMM research companion (computed by this book"), where
        assert second.startswith(f"# Data: Synthetic twin (seed {SEED},"), where
        assert "**" not in second and "`" not in second, where
        table = pd.read_csv(io.StringIO(text), skiprows=2)
        assert len(table.columns) >= 1, where
    # The table that puts synthetic local scores beside real national ones names both.
    local = [t for p, n, t in downloads if n.startswith("mipex-l-local-vs-national")]
    assert local and "Published data (" in local[0].split("\n")[1]


def test_csv_download_link_names_user_data(data_copy):
    link = book.csv_download_link(
        pd.DataFrame({"a": [1, 2]}), "page-key.csv", resources=["survey"], page="page"
    )
    payload, name = DOWNLOAD.search(link).groups()
    text = base64.b64decode(payload).decode("utf-8")
    assert name == "page-key-user-data.csv"
    assert text.split("\n")[1].startswith("# Data: Data supplied by the user (survey)")
    assert "ynthetic" not in text
    assert pd.read_csv(io.StringIO(text), skiprows=2)["a"].tolist() == [1, 2]


def test_every_notebook_download_starts_with_its_data_notice(built_html):
    notebooks = sorted((built_html / "_sources").rglob("*.ipynb"))
    assert len(notebooks) >= 9
    for path in notebooks:
        page = next(built_html.rglob(f"{path.stem}.html"))
        if "wholecomm-provenance" not in page.read_text(encoding="utf-8"):
            continue  # a page that shows no data (the build status)
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = nb["cells"][0]
        assert first["cell_type"] == "markdown", path.name
        assert "About the data in this notebook" in "".join(first["source"]), path.name
        assert f"Synthetic twin (seed {SEED}" in nb["metadata"]["wholecomm"]["provenance"], path.name


def test_blank_questionnaire_says_it_is_the_books_pilot():
    head = "\n".join(toolbox.blank_questionnaire().splitlines()[:4])
    assert not head.startswith("# Whole-COMM toolbox")
    assert "pilot questionnaire of the" in head and "modelled on MIPEX and MIPEX-R" in head
    assert "not the Whole-COMM toolbox" in head
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(toolbox.questionnaire_workbook())).worksheets[0]
    assert "pilot" in sheet["A1"].value and "not the Whole-COMM toolbox" in sheet["A2"].value


# ------------------------------------------------------------------ people and sources
def test_people_page_gives_both_spellings_and_search_finds_them(built_html):
    text = _article(_page(built_html, "people")).get_text()
    for spelling in ("Irastorza", "Irastroza", "Garcés-Mascareñas", "Garcés Mascareñas"):
        assert spelling in text, spelling
    index = (built_html / "searchindex.js").read_text(encoding="utf-8").lower()
    assert "irastroza" in index and "irastorza" in index


def _bib_entries() -> dict:
    from pybtex.database import parse_file

    return parse_file(str(ROOT / "book" / "references.bib"), bib_format="bibtex").entries


def _words(text: str) -> list[str]:
    return [w for w in re.sub(r"[^0-9a-zà-ÿ]+", " ", text.lower()).split() if w]


def test_bibliography_gives_only_titles_authors_and_years_its_sources_give():
    table = yaml.safe_load((ROOT / "book" / "references-provenance.yml").read_text(encoding="utf-8"))
    entries = _bib_entries()
    sources, works = table["sources"], set(table["published_works"])
    assert set(entries) == set(sources) | works, "every bibliography entry needs a provenance row"
    for key, row in sources.items():
        entry = entries[key]
        quote = " ".join(_words(row["quote"]))
        for word in _words(entry.fields["title"].replace("{", "").replace("}", "")):
            assert word in quote, f"{key}: title word {word!r} is not in its source"
        year = entry.fields.get("year", "")
        assert year == "n.d." or year in quote, f"{key}: year {year} is not in its source"
        for person in entry.persons.get("author", []):
            for word in _words(" ".join(person.last_names + person.first_names)):
                assert word in quote, f"{key}: author {word!r} is not in its source"
    # The two event reports name no author, date or publisher of their own.
    for key in ("mpg2023workshop", "mpg2024conference"):
        assert not entries[key].persons and entries[key].fields["year"] == "n.d."


def test_citation_labels_are_distinguishable(built_html):
    labels: dict[str, set[str]] = {}
    for page in ["conference", "workshop", "glossary", "recommendations", "people", "intro", "cite"]:
        for link in _article(_page(built_html, page)).select("a[href*='references.html#']"):
            labels.setdefault(" ".join(link.get_text().split()), set()).add(link["href"].split("#")[1])
    assert len(labels) >= 10
    shared = {label: ids for label, ids in labels.items() if len(ids) > 1}
    assert not shared, f"one label for several sources: {shared}"


def test_toolbox_report_header_says_it_is_the_books_pilot():
    path = toolbox.example_questionnaire()
    q = toolbox.parse_questionnaire(path.read_text(encoding="utf-8"), path.name)
    report = toolbox.render_report(toolbox.assess(q))
    header = report[report.index("<header>") : report.index("</header>")]
    assert (
        "pilot questionnaire (modelled on MIPEX and MIPEX-R; not the Whole-COMM toolbox, not MIPEX-L)"
        in header
    )
    assert f"seed {SEED}" in report


def test_planted_table_reads_the_twins_parameters():
    from wholecomm.twin import load_parameters, planted

    params = load_parameters()
    table = planted.planted_table(params)
    assert len(table) == len(planted.PLANTED) and table["planted"].str.len().gt(0).all()
    row = table.set_index("chapter").loc["mipex-l"].iloc[0]
    assert (
        f"political_participation {params['mipex_l']['area_effect']['political_participation']}"
        in row["planted"]
    )
    # A changed parameter shows up; a parameter that is gone is an error naming it.
    params["policies"]["proactive_logit"]["progressive_housing"] = 9.5
    assert "progressive_housing = 9.5" in " ".join(planted.planted_table(params)["planted"])
    assert planted.planted_for("H4") == "policies.proactive_logit.progressive_housing"
    assert planted.planted_for("H2 (housing)").startswith("interviews.housing_difficulty")
    assert planted.planted_for("H9") is None
    for keys in planted.BY_HYPOTHESIS.values():  # every path named there exists
        assert all(planted._lookup(load_parameters(), key) is not None for key in keys)
    del params["interviews"]["onward_given_registration"]
    with pytest.raises(KeyError, match="interviews.onward_given_registration"):
        planted.planted_table(params)
