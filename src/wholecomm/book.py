"""Helpers for the book's notebook pages.

A notebook starts with ``page = Page("survey", resources=[...])``, which

* shows the provenance notice of the data the page uses (built from the package
  metadata: synthetic twin with its seed, user data, or published data with source);
* sets the plotting defaults (seaborn, colour-blind-safe palette, white figure
  background so figures stay readable in the theme's dark mode);
* records every glued value and published table in ``_build/results/<page>.json``
  so that builds can be compared (``tools/results.py``).

``page.glue(key, value, fmt)`` glues the formatted value for ``{glue:md}`key``` in the
page's prose (and ``{glue:text}`../notebooks/<page>.md::key``` on other pages) and
records the raw value; ``page.table(key, frame, caption)`` shows a table with a
"Download CSV" link (the CSV is embedded in the page, so it works offline and in Binder).

Run outside the book build (in JupyterLab, on Binder or locally), a page also shows each glued
value in its cell's output and puts it in the prose: JupyterLab renders the MyST roles as
plain text, so ``Page`` sends a small script (``templates/prose.js``) that replaces each
``{glue:md}`` role in the rendered Markdown by its value, and citations, cross-references and
labels by readable text. The book build sets ``WHOLECOMM_BOOK_BUILD=1`` (``tools/build_book.py``)
and then none of this is output: the book's pages are the same either way.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from . import data, numerics, paths

#: Set by tools/build_book.py for the kernels of the book build: glued values then go to the book's
#: prose only, and no JupyterLab script is output.
BOOK_BUILD_ENV = "WHOLECOMM_BOOK_BUILD"
ROLE_NAMES = ("glue:md", "glue:text", "glue", "cite:p", "cite:t", "cite", "doc", "ref", "numref", "term", "eq")

#: Categorical palette: seaborn's colour-blind-safe palette (Okabe-Ito-like hues).
PALETTE = "colorblind"
#: Sequential colour map for heatmaps (perceptually uniform, colour-blind safe).
SEQUENTIAL = "cividis"
#: Diverging colour map for Likert bars (colour-blind safe).
DIVERGING = "PuOr"


def setup_plotting() -> None:
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE)
    mpl.rcParams.update({
        "figure.figsize": (7.5, 4.2),
        "figure.dpi": 96,
        "savefig.dpi": 96,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.bbox": "tight",
        "axes.titleweight": "bold",
    })


def _md_to_html(text: str) -> str:
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def notice_html(resources: Iterable[str] | None = None) -> str:
    text = data.provenance_notice(resources)
    return ('<div class="admonition warning wholecomm-provenance" role="note">'
            '<p class="admonition-title">About the data on this page</p>'
            f"<p>{_md_to_html(text)}</p></div>")


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def table_records(frame: pd.DataFrame) -> list[dict]:
    flat = frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame
    records = []
    for row in flat.to_dict(orient="records"):
        records.append({str(k): (None if (not isinstance(v, str) and pd.isna(v)) else _jsonable(v))
                        for k, v in row.items()})
    return records


def rendered_cells(frame: pd.DataFrame, float_format: str = "{:.1f}") -> pd.DataFrame:
    """The cells of ``frame`` as a published table shows them (all text): floats with
    ``float_format``, missing values as a dash, everything else as ``str``."""
    def cell(value) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "–"
        if isinstance(value, (float, np.floating)):
            return float_format.format(value)
        return str(value)

    return pd.DataFrame({str(col): [cell(v) for v in frame[col].astype(object)] for col in frame.columns},
                        index=range(len(frame)))


def csv_download_link(frame: pd.DataFrame, filename: str, label: str = "Download this table (CSV)") -> str:
    payload = base64.b64encode(frame.to_csv(index=False).encode("utf-8")).decode("ascii")
    return (f'<a class="wholecomm-download" href="data:text/csv;charset=utf-8;base64,{payload}" '
            f'download="{html.escape(filename)}">{html.escape(label)}</a>')


def in_book_build() -> bool:
    """True when the book build runs this kernel (``WHOLECOMM_BOOK_BUILD=1``)."""
    return os.environ.get(BOOK_BUILD_ENV, "") == "1"


def _first_heading(path: Path) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None


def _citation_labels(bib: Path) -> dict[str, dict[str, str]]:
    """Author-year labels of the book's references: ``{key: {"author", "year", "text"}}``."""
    from pybtex.database import parse_file

    labels = {}
    for key, entry in parse_file(str(bib)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
        if not names:
            author = entry.fields.get("organization", entry.fields.get("institution", key)).replace("{", "").replace("}", "")
        elif len(names) == 1:
            author = names[0]
        elif len(names) == 2:
            author = f"{names[0]} and {names[1]}"
        else:
            author = f"{names[0]} et al."
        year = entry.fields.get("year", "n.d.")
        labels[key] = {"author": author, "year": year, "text": f"{author} {year}"}
    return labels


def prose_references(root: Path | None = None) -> dict:
    """What the JupyterLab prose script needs to turn citations and cross-references into text:
    page titles by file stem, section titles by label, and author-year labels by citation key."""
    root = root or paths.project_root()
    titles, labels = {}, {}
    for folder in ("book", "notebooks"):
        for md in sorted((root / folder).glob("*.md")):
            text = md.read_text(encoding="utf-8")
            titles[md.stem] = _first_heading(md) or md.stem
            for label, heading in re.findall(r"^\(([\w.:-]+)\)=\s*\n#+\s+(.+)$", text, flags=re.MULTILINE):
                labels[label] = heading.strip()
    bib = root / "book" / "references.bib"
    citations = _citation_labels(bib) if bib.is_file() else {}
    return {"titles": titles, "labels": labels, "citations": citations}


def _recorded_values(exclude: str) -> dict[str, dict[str, str]]:
    """Glued values other pages recorded in the results directory (for ``{glue:text}`` references)."""
    out = {}
    folder = paths.results_dir()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.stem == exclude:
            continue
        try:
            values = json.loads(path.read_text(encoding="utf-8")).get("values", {})
        except (OSError, ValueError):
            continue
        out[path.stem] = {key: _md_to_html(v["text"]) for key, v in values.items() if "text" in v}
    return out


def _js(value) -> str:
    """``value`` as a JavaScript literal that is safe inside a ``<script>`` element."""
    return json.dumps(value, ensure_ascii=True).replace("</", "<\\/")


def _prose_script() -> str:
    return (Path(__file__).parent / "templates" / "prose.js").read_text(encoding="utf-8")


class GluedText:
    """A formatted value as glued: ``text/markdown`` for ``{glue:md}`key``` on its own page,
    and ``text/plain`` (a quoted literal, which myst-nb unquotes) for
    ``{glue:text}`../notebooks/page.md::key``` on other pages."""

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return repr(self.text)


class Page:
    """One notebook page: provenance notice, glued values, downloadable tables, recorded results."""

    def __init__(self, name: str, resources: Iterable[str] | None = None, show_notice: bool = True):
        if not re.fullmatch(r"[a-z0-9\-]+", name):
            raise ValueError(f"Page name must be lower-case letters, digits and hyphens, got {name!r}.")
        self.name = name
        numerics.CONTEXT["page"] = name
        self.resources = list(resources) if resources is not None else None
        self.values: dict[str, dict] = {}
        self.tables: dict[str, list[dict]] = {}
        self.table_meta: dict[str, dict] = {}
        self.rendered: dict[str, list[list[str]]] = {}
        self.interactive = not in_book_build()
        self._glue_cell, self._glue_handle, self._cell_values = None, None, {}
        setup_plotting()
        if show_notice:
            self._display_html(notice_html(self.resources))
        if self.interactive:
            self._display_prose_script()
        self._write()

    def _display_prose_script(self) -> None:
        """In JupyterLab: the script that shows glued values and references in the prose."""
        from IPython.display import HTML, display

        setup = {"refs": prose_references(), "recorded": _recorded_values(exclude=self.name)}
        markup = (f'<div class="wholecomm-prose" data-wholecomm-page="{html.escape(self.name)}" hidden></div>'
                  f"<script>{_prose_script()}\nwindow.wholecommProse.setRefs("
                  f"{_js(self.name)}, {_js(setup)});</script>")
        display(HTML(markup))

    # -- output -----------------------------------------------------------------
    @staticmethod
    def _display_html(markup: str) -> None:
        from IPython.display import HTML, display

        display(HTML(markup))

    @property
    def results_file(self) -> Path:
        return paths.results_dir() / f"{self.name}.json"

    def _write(self) -> None:
        target = self.results_file
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = {"page": self.name, "values": self.values, "tables": self.tables, "table_meta": self.table_meta,
                   "rendered": self.rendered}
        target.write_text(json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                          encoding="utf-8")

    # -- glue -------------------------------------------------------------------
    def glue(self, key: str, value, fmt: str = "{}", fit: bool = False) -> None:
        """Glue ``fmt.format(value)`` under ``key`` (for ``{glue:md}`` in the prose) and record ``value``.

        ``fit=True`` marks a value computed by an iterative fit (a likelihood maximised
        numerically): the results gate compares it with the tolerance for fitted values
        rather than the one for closed-form values (see ``tools/results.py``). The text is
        compared exactly in both cases.
        """
        from myst_nb import glue

        if key in self.values:
            raise KeyError(f"{key!r} is glued twice on page {self.name!r}.")
        text = fmt.format(value)
        glue(key, GluedText(text), display=False)
        self.values[key] = {"value": _jsonable(value), "text": text}
        if fit:
            self.values[key]["fit"] = True
        self._write()
        if self.interactive:
            self._display_glued(key, text)

    def _display_glued(self, key: str, text: str) -> None:
        """Outside the book build: show the value in the cell output and send it to the prose.

        One output per cell, updated with each value the cell glues (JupyterLab shows only the
        first outputs of a cell that has very many, and a value must not go missing)."""
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        cell = shell.execution_count if shell is not None else None
        if cell != self._glue_cell or self._glue_handle is None:
            self._glue_cell, self._glue_handle, self._cell_values = cell, None, {}
        self._cell_values[key] = text
        lines = "".join(f'<div class="wholecomm-glued" data-key="{html.escape(k)}"><code>{html.escape(k)}</code> = '
                        f"{_md_to_html(t)}</div>" for k, t in self._cell_values.items())
        values = {k: _md_to_html(t) for k, t in self._cell_values.items()}
        markup = (f"{lines}<script>window.wholecommProse && window.wholecommProse.registerAll("
                  f"{_js(self.name)}, {_js(values)});</script>")
        bundle = {"text/html": markup, "text/plain": "\n".join(f"{k} = {t}" for k, t in self._cell_values.items())}
        if self._glue_handle is None:
            self._glue_handle = display(bundle, raw=True, display_id=True)
        else:
            self._glue_handle.update(bundle, raw=True)

    # -- tables -----------------------------------------------------------------
    def table(self, key: str, frame: pd.DataFrame, caption: str, float_format: str = "{:.1f}",
              index: bool = False, respondents: str | None = None, fit: bool = False) -> None:
        """Show ``frame`` with a caption and a CSV download link, and record it: its values,
        and its cells as the reader sees them (the results gate compares those exactly).
        ``fit=True`` marks a table of values from iterative fits (see :meth:`glue`).

        For survey tables, ``respondents`` names the column with each row's unweighted
        number of respondents: the table is published only if no shown row rests on fewer
        than ``data.MIN_CELL_DEFAULT`` respondents (pass it through
        ``data.suppress_small_cells`` first), and the column is recorded so the build's
        disclosure check can verify it.
        """
        if key in self.tables:
            raise KeyError(f"Table {key!r} is recorded twice on page {self.name!r}.")
        shown = frame.reset_index() if index else frame
        if respondents is not None:
            if respondents not in shown.columns:
                raise KeyError(f"Table {key!r}: respondent count column {respondents!r} not in {list(shown.columns)}.")
            data.assert_disclosure_safe(shown, respondents)
            self.table_meta[key] = {"respondents_column": respondents, "min_n": data.MIN_CELL_DEFAULT}
        if fit:
            self.table_meta.setdefault(key, {})["fit"] = True
        cells = rendered_cells(shown, float_format)
        body = cells.to_html(index=False, border=0, classes="table wholecomm-table", escape=True)
        body = body.replace("<table ", f'<table id="tbl-{html.escape(key)}" ', 1)
        caption_html = f'<p class="caption wholecomm-caption"><strong>Table.</strong> {_md_to_html(caption)}</p>'
        link = csv_download_link(shown, f"{self.name}-{key}.csv")
        self._display_html(f'<div class="wholecomm-table-block">{caption_html}{body}<p>{link}</p></div>')
        self.tables[key] = table_records(shown)
        self.rendered[key] = [[str(c) for c in cells.columns], *cells.to_numpy().tolist()]
        self._write()


def interval_long(frame: pd.DataFrame, estimate: str = "estimate", ci_low: str = "lo", ci_high: str = "hi",
                  scale: float = 1.0, value_name: str = "value") -> pd.DataFrame:
    """Long form of an estimate table for point-range plots: three rows per row of
    ``frame`` (its estimate, lower and upper bound, times ``scale``, e.g. 100 for percent)
    in ``value_name``, labelled in a ``bound`` column; the other columns are kept.

    With ``sns.pointplot(..., estimator="median", errorbar=("pi", 100))`` seaborn then
    draws each point at the estimate (the median of the three values, since
    lower <= estimate <= upper) and its bar from the lower to the upper bound, without
    computing anything itself. A row missing a value, or whose estimate lies outside its
    interval, is an error: nothing is dropped from a figure silently.
    """
    bad = frame[[estimate, ci_low, ci_high]].isna().any(axis=1) | (frame[ci_low] > frame[estimate]) | (
        frame[estimate] > frame[ci_high])
    if bad.any():
        raise ValueError(f"interval_long: rows {list(frame.index[bad])[:10]} are missing an estimate or bound, "
                         "or their estimate lies outside the interval.")
    others = [c for c in frame.columns if c not in (estimate, ci_low, ci_high)]
    parts = [frame[others].assign(**{value_name: frame[c].astype(float) * scale, "bound": b})
             for c, b in ((estimate, "estimate"), (ci_low, "lower"), (ci_high, "upper"))]
    return pd.concat(parts, ignore_index=True)


def versions_table(packages: Iterable[str] = ("python", "jupyter-book", "sphinx", "myst-nb", "jupytext", "numpy",
                                              "pandas", "scipy", "statsmodels", "matplotlib", "seaborn",
                                              "frictionless", "wholecomm")) -> pd.DataFrame:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    rows = []
    for name in packages:
        if name == "python":
            rows.append({"package": "python", "version": platform.python_version()})
            continue
        try:
            rows.append({"package": name, "version": version(name)})
        except PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return pd.DataFrame(rows)
