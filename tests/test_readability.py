"""Readability of what the book shows: table labels and formats (wholecomm.labels,
book.rendered_cells, book.table_html), the figures' SVG output and provenance footer
(book.setup_plotting), the search index tuning and the whole-book PDF."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wholecomm import book, labels

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ tables
@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0, "< 0.001"),
        (8.91e-160, "< 0.001"),
        (0.000999, "< 0.001"),
        (0.001, "0.001"),
        (0.0494, "0.049"),
        (0.195, "0.195"),
        (1.0, "1.000"),
    ],
)
def test_p_values_read_as_a_reader_expects(p, text):
    assert labels.format_p(p) == text


def test_a_p_value_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="p-value"):
        labels.format_p(1.5)


def test_labels_come_from_one_place_and_never_repeat():
    assert labels.column_label("locality_id") == "Locality"
    assert labels.column_label("ci_low_pct") == "95% CI low (%)"
    assert labels.column_label("struggling_experienced") == "Struggling experienced"
    assert labels.column_label("empty_share_pct") == "Empty share (%)"
    assert labels.column_label("Effective sample size") == "Effective sample size"  # already a label
    assert labels.column_label(2024) == "2024"
    # two code names with one label keep their code name, so a header never repeats
    assert labels.labelled(["ci_lo", "ci_low"]) == ["95% CI low (ci_lo)", "95% CI low (ci_low)"]


def test_key_columns_come_first_after_the_row_labels():
    truth = [
        "MEDIUM",
        "CAPACITY",
        "configuration",
        "n",
        "n_outcome",
        "consistency",
        "coverage",
        "status",
        "cases",
    ]
    assert labels.order_columns(truth)[:5] == ["configuration", "status", "consistency", "n", "n_outcome"]
    hyp = ["hypothesis", "claim", "estimand", "estimate", "ci_low", "ci_high", "p_value", "verdict"]
    assert labels.order_columns(hyp)[:3] == ["hypothesis", "claim", "verdict"]
    themes = ["theme_label", "interviews", "share_pct", "role"]
    assert labels.order_columns(themes) == ["theme_label", "role", "interviews", "share_pct"]
    survey = ["group", "estimate", "lo", "hi", "n"]  # no consistency: n stays where it is
    assert labels.order_columns(survey) == survey
    assert sorted(labels.order_columns(truth)) == sorted(truth)


def test_rendered_cells_format_p_values_booleans_and_missing_values():
    frame = pd.DataFrame(
        {
            "estimate": [1.234, np.nan],
            "df": [36.0, np.inf],
            "p_value": [3e-9, 0.2],
            "tied": [True, False],
            "locality_id": ["AT-01", "BE-05"],
        }
    )
    cells = book.rendered_cells(frame, "{:.2f}")
    assert cells.to_dict(orient="list") == {
        "estimate": ["1.23", "–"],
        "df": ["36.00", "∞"],
        "p_value": ["< 0.001", "0.200"],
        "tied": ["yes", "no"],
        "locality_id": ["AT-01", "BE-05"],
    }


def test_table_html_labels_headers_keeps_codes_whole_and_folds_long_tables():
    short = book.rendered_cells(pd.DataFrame({"locality_id": ["AT-01"], "share_pct": [12.0]}))
    markup = book.table_html("t", short)
    assert "<th>Locality</th>" in markup and "<th>Share (%)</th>" in markup
    assert '<span class="wholecomm-nowrap">AT-01</span>' in markup and "<details" not in markup
    long = book.rendered_cells(pd.DataFrame({"k": range(book.LONG_TABLE_ROWS + 1)}))
    folded = book.table_html("u", long)
    assert folded.startswith('<details class="wholecomm-long-table">')
    assert f"Show all {book.LONG_TABLE_ROWS + 1} rows" in folded and 'id="tbl-u"' in folded


def test_page_table_records_what_the_reader_sees(monkeypatch, tmp_path):
    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv(book.BOOK_BUILD_ENV, "1")
    page = book.Page("unit-test", resources=["localities"], show_notice=False)
    page.table(
        "t",
        pd.DataFrame({"estimate": [0.5], "p_value": [1e-5], "verdict": ["supported"], "hypothesis": ["H1"]}),
        "A table.",
    )
    record = json.loads((tmp_path / "unit-test.json").read_text())
    assert record["rendered"]["t"] == [
        ["Hypothesis", "Verdict", "Estimate", "p-value"],
        ["H1", "supported", "0.5", "< 0.001"],
    ]
    # the recorded values keep the code names, for the results gate and the CSV
    assert record["tables"]["t"] == [
        {"estimate": 0.5, "p_value": 1e-5, "verdict": "supported", "hypothesis": "H1"}
    ]


# ------------------------------------------------------------------ figures
def _svg(fig) -> str:
    import io

    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def test_every_figure_is_svg_text_with_the_provenance_footer_below_everything(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    book.setup_plotting(["localities"])
    seed = json.loads((ROOT / "data" / "datapackage.json").read_text())["resources"][0]["provenance"]["seed"]
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_xlabel("An x label")
    plt.setp(ax.get_xticklabels(), rotation=40)
    ax.legend(title="Legend", bbox_to_anchor=(1.02, 1), loc="upper left")
    svg = _svg(fig)
    footer = f"Synthetic twin, seed {seed} · Whole-COMM research companion"
    assert footer in svg
    # real text (not paths), nothing smaller than the minimum size
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert sizes and min(sizes) >= book.MIN_FONT_PT
    # the footer lies below every other text (SVG y grows downwards)
    ys = {
        m.group(2): float(m.group(1))
        for m in re.finditer(r'<text [^>]*?y="([\d.]+)"[^>]*>([^<]+)</text>', svg)
    }
    assert ys[footer] > max(y for text, y in ys.items() if text != footer)
    # only one footer, also when a figure is saved twice
    assert _svg(fig).count(footer) == 1
    plt.close(fig)


def test_a_figure_wider_than_the_column_is_narrowed_to_it():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    book.setup_plotting(["localities"])
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot([0, 1], [0, 1], label="a long legend entry that sits outside the axes")
    ax.legend(bbox_to_anchor=(1.02, 1), loc="upper left")
    renderer = fig.canvas.get_renderer()
    assert fig.get_tightbbox(renderer).width > book.MAX_FIGURE_WIDTH_IN
    book.fit_to_column(fig)
    assert fig.get_tightbbox(renderer).width <= book.MAX_FIGURE_WIDTH_IN * 1.005
    assert fig.get_size_inches()[1] == 4  # the height is kept
    narrow, ax2 = plt.subplots(figsize=(5, 3))
    book.fit_to_column(narrow)
    assert list(narrow.get_size_inches()) == [5, 3]  # a figure that fits is left alone
    plt.close("all")


def test_the_footer_says_user_data_when_the_data_are_the_users(data_copy):
    assert book.figure_footer(["localities"]).startswith("Data supplied by the user")


def test_no_measure_is_the_quietest_colour_of_the_approach_map():
    from matplotlib.colors import rgb_to_hsv

    from wholecomm import policy

    colours = policy.approach_colours()
    saturation = {k: rgb_to_hsv(np.array(v[:3]))[1] for k, v in colours.items()}
    assert saturation["none"] == min(saturation.values()) and saturation["none"] < 0.05
    lightness = {k: float(np.mean(v[:3])) for k, v in colours.items()}
    assert lightness["proactive"] < lightness["reactive"]  # darker means more


# ------------------------------------------------------------------ search
def _search_tuning():
    spec = importlib.util.spec_from_file_location(
        "search_tuning", ROOT / "book" / "_ext" / "search_tuning.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_search_index_gets_accent_free_forms_and_spelling_variants():
    st = _search_tuning()
    index = {
        "terms": {"padrón": 3, "malmö": [1, 2], "irastorza": [4, 5], "housing": 0},
        "titleterms": {"malmö": 1},
    }
    st.tune_index(index, stem=lambda w: w)
    assert index["terms"]["padron"] == 3 and index["terms"]["padrón"] == 3
    assert index["terms"]["malmo"] == [1, 2] and index["titleterms"]["malmo"] == 1
    assert index["terms"]["irastroza"] == [4, 5] and index["terms"]["malmoe"] == [1, 2]
    assert index["terms"]["housing"] == 0
    assert st.fold("Malmö Padrón Ñuñoa") == "malmo padron nunoa"


def test_term_counts_count_words_of_the_article_only(tmp_path):
    st = _search_tuning()
    (tmp_path / "a.html").write_text(
        '<nav>housing housing housing</nav><article class="bd-article">'
        "<p>Housing and housing; Malmö, Malmo.</p><script>housing</script></article>"
    )
    counts = st.term_counts(tmp_path, ["a"], stem=lambda w: w)
    assert counts["housing"] == {"a": 2} and counts["malmo"] == {"a": 2} and "and" not in counts


# ------------------------------------------------------------------ PDF
def test_the_pdf_follows_the_table_of_contents():
    sys.path.insert(0, str(ROOT / "tools"))
    import book_pdf

    docs = book_pdf.toc_documents(ROOT)
    assert docs[0] == "book/intro" and "notebooks/mipex-l" in docs and docs[-1] == "book/status"
    assert len(docs) == len(set(docs))
    printed = book_pdf.printed_documents(ROOT)
    assert printed == [d for d in docs if d != "book/api"], "every page but the library reference is printed"


def test_the_whole_book_pdf_has_every_chapter(built_html):
    """The PDF the build printed: one bookmark per page of the table of contents, in order,
    each chapter's title on its first page, and a page count that matches the build's record."""
    from pypdf import PdfReader

    sys.path.insert(0, str(ROOT / "tools"))
    import book_pdf

    summary = json.loads((ROOT / "_build" / "build-summary.json").read_text())
    if "pdf" not in summary:
        pytest.fail("The build printed no PDF (Chromium missing?): run `make test`, which installs it.")
    reader = PdfReader(str(built_html / book_pdf.PDF_NAME))
    chapters = summary["pdf"]["chapters"]
    assert [c["doc"] for c in chapters] == book_pdf.printed_documents(ROOT)
    assert len(reader.pages) == summary["pdf"]["pages"] == sum(c["pages"] for c in chapters)
    assert [o.title for o in reader.outline] == [c["title"] for c in chapters]
    # The self-assessment page prints, by its own print stylesheet, the one-page summary of the
    # answers given in the browser (the form itself is no use on paper): its bookmark names it.
    for chapter in (c for c in chapters if c["doc"] != "notebooks/self-assessment"):
        text = " ".join(
            unicodedata.normalize("NFKC", reader.pages[chapter["first_page"] - 1].extract_text()).split()
        )
        assert " ".join(chapter["title"].split()) in text, chapter
    # a book of this size: more pages than chapters, and no runaway page (a table cut into pieces)
    assert len(chapters) < len(reader.pages) < 40 * len(chapters)
    mipex = next(c for c in chapters if c["doc"] == "notebooks/mipex-l")
    assert mipex["pages"] <= 25  # every figure and every table of up to book.PRINT_MAX_ROWS rows


def test_percentage_intervals_stay_within_the_scale(built_html):
    """Every published interval of a percentage (columns ``*_pct``) lies within 0-100: the
    methods (Wilson, logit-scale) respect the scale's bounds, and no table shows 101 %."""
    from wholecomm import paths

    checked = 0
    for path in sorted(paths.results_dir().glob("*.json")):
        for key, rows in json.loads(path.read_text(encoding="utf-8")).get("tables", {}).items():
            for row in rows:
                for col in ("ci_low_pct", "ci_high_pct", "share_pct"):
                    value = row.get(col)
                    if isinstance(value, (int, float)):
                        checked += 1
                        assert -1e-9 <= value <= 100 + 1e-9, (path.stem, key, col, row)
                if isinstance(row.get("ci_low_pct"), (int, float)) and isinstance(
                    row.get("ci_high_pct"), (int, float)
                ):
                    assert row["ci_low_pct"] <= row["ci_high_pct"], (path.stem, key, row)
    assert checked > 50
