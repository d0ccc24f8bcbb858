"""Page helpers of wholecomm.book that the notebooks share."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from wholecomm import book


def test_interval_long_puts_estimate_in_the_middle():
    t = pd.DataFrame({"g": ["a"], "est": [2.0], "lo": [1.0], "hi": [5.0]})
    long = book.interval_long(t, "est", "lo", "hi")
    assert sorted(long["value"]) == [1.0, 2.0, 5.0]
    assert long["value"].median() == 2.0
    with pytest.raises(ValueError, match="outside the interval"):
        book.interval_long(t.assign(est=6.0), "est", "lo", "hi")


# --------------------------------------------------- analyses on small data


def test_interval_long_scales_keeps_other_columns_and_refuses_a_missing_bound():
    t = pd.DataFrame(
        {"group": ["a", "b"], "estimate": [0.2, 0.5], "ci_low": [0.1, 0.4], "ci_high": [0.3, 0.6]}
    )
    long = book.interval_long(t, scale=100)
    assert sorted(long.loc[long["group"] == "b", "value"]) == pytest.approx([40.0, 50.0, 60.0])
    assert set(long["bound"]) == {"estimate", "lower", "upper"}
    with pytest.raises(ValueError, match=r"rows \[1\] are missing"):
        book.interval_long(t.assign(ci_high=[0.3, None]))


def _captured_displays(monkeypatch) -> list:
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    import myst_nb

    monkeypatch.setattr(myst_nb, "glue", lambda *a, **kw: None)
    return shown


def test_in_the_book_build_glue_outputs_nothing_but_the_glue(monkeypatch, tmp_path):
    monkeypatch.setenv("WHOLECOMM_BOOK_BUILD", "1")
    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))
    shown = _captured_displays(monkeypatch)
    page = book.Page("unit-test", show_notice=False)
    page.glue("share", 0.4567, "{:.1%}")
    assert shown == []
    assert page.values["share"] == {"value": 0.4567, "text": "45.7%"}


def test_outside_the_book_build_a_page_shows_values_and_sends_them_to_the_prose(monkeypatch, tmp_path):
    monkeypatch.delenv("WHOLECOMM_BOOK_BUILD", raising=False)
    monkeypatch.setenv("WHOLECOMM_RESULTS_DIR", str(tmp_path))
    (tmp_path / "other-page.json").write_text('{"values": {"n": {"value": 12, "text": "**12**"}}}')
    shown = _captured_displays(monkeypatch)
    page = book.Page("unit-test", show_notice=False)
    script = shown[0].data
    assert 'data-wholecomm-page="unit-test"' in script and "window.wholecommProse.setRefs" in script
    assert '"other-page": {"n": "<strong>12<\\/strong>"}' in script  # another page's recorded value, as HTML
    page.glue("share", 0.4567, "{:.1%}")
    bundle = shown[-1]
    assert bundle["text/plain"] == "share = 45.7%"
    assert 'registerAll("unit-test", {"share": "45.7%"})' in bundle["text/html"]
    page.glue("evil", "</script><b>x</b>")
    assert "</script><b>" not in shown[-1]["text/html"].split("<script>", 1)[1].rsplit("</script>", 1)[0]


def test_prose_references_give_titles_labels_and_author_year_citations():
    refs = book.prose_references()
    assert refs["titles"]["codebook"] == "Codebook"
    assert refs["labels"]["survey"].startswith("Community attitudes")
    assert refs["citations"], "no citations read from book/references.bib"
    for key, cite in refs["citations"].items():
        assert cite["text"] == f"{cite['author']} {cite['year']}"
        assert re.fullmatch(r"\d{4}|n\.d\.", cite["year"]), (key, cite)
        assert "{" not in cite["author"]


# ------------------------------------------------------ one vocabulary for readers
def test_one_p_value_format_for_tables_and_prose():
    from wholecomm import labels, stats

    assert labels.format_p is stats.format_p  # the old name is the same function
    cases = [(1.7e-10, "< 0.001", "< 0.001"), (0.0031, "0.003", "= 0.003"), (0.0199, "0.020", "= 0.020")]
    cases += [(0.41, "0.410", "= 0.41"), (1.0, "1.000", "= 1.00")]
    for p, table, prose in cases:
        assert stats.format_p(p) == table
        assert stats.format_p(p, prose=True) == prose == stats.p_text(p)
    assert stats.format_p(float("nan")) == "–"
    assert stats.format_p(None, prose=True) == "not computable on these data"
    for bad in (-0.01, 1.5):
        with pytest.raises(ValueError, match="p-value must lie between 0 and 1"):
            stats.format_p(bad)
        with pytest.raises(ValueError, match="p-value must lie between 0 and 1"):
            stats.p_text(bad)


def test_labels_of_categories_are_defined_once():
    from wholecomm import data, labels, overview
    from wholecomm.twin.generate import CONTACT_SETTINGS as twin_settings

    assert data.CONTACT_SETTINGS is labels.CONTACT_SETTINGS is twin_settings
    assert overview.SIZE_LABELS is labels.SIZE_LABELS and overview.TYPE_LABELS is labels.TYPE_LABELS
    # a size class reads the same as a column of a table and as a category of a figure
    for code, label in labels.SIZE_LABELS.items():
        assert labels.column_label(code) == label
        assert labels.column_label(f"{code}_pct") == f"{label} (%)"
    assert labels.SIZE_LABELS.keys() == labels.SIZE_PLURALS.keys()
    # the columns that identify a row are exactly the labelled identifiers
    assert labels.ID_COLUMNS == frozenset(labels.ID_LABELS)
    assert all(labels.COLUMN_LABELS[c] == labels.ID_LABELS[c] for c in labels.ID_LABELS)
    # the category codes are the ones the data package's schema allows
    fields = {f["name"]: f for f in data.resource_descriptor("localities")["schema"]["fields"]}
    assert list(labels.SIZE_LABELS) == fields["size_class"]["constraints"]["enum"]
    assert sorted(labels.TYPE_LABELS) == sorted(fields["locality_type"]["constraints"]["enum"])
    assert sorted(labels.COUNTRY_NAMES) == sorted(fields["country"]["constraints"]["enum"])
    survey = {f["name"] for f in data.resource_descriptor("survey")["schema"]["fields"]}
    assert {f"contact_{s}" for s in labels.CONTACT_SETTINGS} <= survey
    att = {f["name"]: f for f in data.resource_descriptor("survey")["schema"]["fields"]}["att_economy"]
    assert set(labels.NON_SUBSTANTIVE_LABELS) <= set(att["constraints"]["enum"])
