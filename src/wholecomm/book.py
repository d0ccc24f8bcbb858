"""Helpers for the book's notebook pages.

A notebook starts with ``page = Page("survey", resources=[...])``, which

* shows the provenance notice of the data the page uses (built from the package
  metadata: synthetic twin with its seed, user data, or published data with source);
* sets the plotting defaults (SVG, text sizes for the text column, seaborn's colour-blind-safe
  palette, white figure background so figures stay readable in dark mode, and a provenance
  footer on every figure: see ``setup_plotting``);
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

from . import data, labels, numerics, paths, stats

#: Set by tools/build_book.py for the kernels of the book build: glued values then go to the book's
#: prose only, and no JupyterLab script is output.
BOOK_BUILD_ENV = "WHOLECOMM_BOOK_BUILD"
ROLE_NAMES = (
    "glue:md",
    "glue:text",
    "glue",
    "cite:p",
    "cite:t",
    "cite",
    "doc",
    "ref",
    "numref",
    "term",
    "eq",
)

#: Categorical palette: seaborn's colour-blind-safe palette (Okabe-Ito-like hues).
PALETTE = "colorblind"
#: Sequential colour map for heatmaps (perceptually uniform, colour-blind safe).
SEQUENTIAL = "cividis"
#: Diverging colour map for Likert bars (colour-blind safe).
DIVERGING = "PuOr"


#: Default width of a figure in inches (about the book's text column, 690 px).
COLUMN_WIDTH_IN = 7.2
#: Widest figure, in inches, as saved (with its outside legends and labels): a wider figure
#: is narrowed to this width when it is shown (``fit_to_column``). The text column shows a
#: figure at about 672 px, so at this width one point of text is at least 1.03 px.
MAX_FIGURE_WIDTH_IN = 9.0
#: Smallest font size (points) of any text in a figure: tick labels, legends, annotations and
#: the provenance footer. With ``MAX_FIGURE_WIDTH_IN`` that is at least 10 px on a desktop
#: screen; tests/test_browser.py measures it on every figure of the built book.
MIN_FONT_PT = 10.0
#: Class name of the provenance footer that every figure carries (a matplotlib text's gid).
FOOTER_GID = "wholecomm-footer"

_footer_text = "Synthetic twin"


def figure_footer(resources: Iterable[str] | None = None) -> str:
    """The short provenance line drawn under every figure: which data the figure was computed on.

    "Data supplied by the user" when the data directory is not the book's package, else
    "Synthetic twin, seed N" (from the package metadata of the synthetic resources used),
    else the kind of data the resources are (the book's design catalogue, published data)."""
    if paths.uses_user_data():
        return "Data supplied by the user · Whole-COMM research companion"
    names = list(resources) if resources is not None else data.resource_names()
    kinds = {name: data.provenance(name) for name in names}
    synthetic = [prov for prov in kinds.values() if prov.get("kind") == "synthetic"]
    if synthetic:
        return f"Synthetic twin, seed {synthetic[0].get('seed')} · Whole-COMM research companion"
    if any(prov.get("kind") == "published" for prov in kinds.values()):
        return "Published data (source on the page) · Whole-COMM research companion"
    return "The book's own design data · Whole-COMM research companion"


def _add_footer(fig) -> None:
    """``figure.hooks`` entry: give every figure pyplot creates the provenance footer."""
    if not any(a.get_gid() == FOOTER_GID for a in fig.artists):
        fig.add_artist(_make_footer(fig, _footer_text))


def _make_footer(fig, text: str):
    from matplotlib.text import Text
    from matplotlib.transforms import IdentityTransform

    class Footer(Text):
        """Text placed below everything else in the figure, left-aligned with it, at draw time
        (so that outside legends, rotated tick labels and colour bars never cover it)."""

        def _place(self, renderer) -> None:
            others = [a for a in self.figure.get_children()[1:] if a is not self and a.get_visible()]
            boxes = [b for b in (a.get_tightbbox(renderer) for a in others) if b is not None and b.width > 0]
            if not boxes:
                return
            left = min(b.x0 for b in boxes)
            bottom = min(b.y0 for b in boxes)
            pad = float(self.get_fontsize()) * self.figure.dpi / 72 * 0.6  # points (the stubs allow a name)
            self.set_transform(IdentityTransform())
            self.set_position((left, bottom - pad))

        def get_window_extent(self, renderer=None, dpi=None):
            # Agg canvases (the inline backend's) have get_renderer; the stubs know only the base class.
            renderer = renderer or self.figure.canvas.get_renderer()  # type: ignore[attr-defined]
            self._place(renderer)
            return super().get_window_extent(renderer, dpi)

        def draw(self, renderer):
            self._place(renderer)
            super().draw(renderer)

    footer = Footer(0, 0, text, ha="left", va="top", color="0.3", fontsize=MIN_FONT_PT, gid=FOOTER_GID)
    footer.set_figure(fig)
    return footer


def setup_plotting(resources: Iterable[str] | None = None) -> None:
    """Plotting defaults of the book, set once per page (``Page`` calls it).

    * SVG figures (sharp on any screen and in print) with real text (``svg.fonttype: none``),
      so that the browser tests can read every font size;
    * figures as wide as the text column, no text smaller than ``MIN_FONT_PT``;
    * seaborn's colour-blind-safe palette, white background (readable in dark mode);
    * a provenance footer on every figure ("Synthetic twin, seed N" or "Data supplied by the
      user"), added through matplotlib's ``figure.hooks`` so no figure can forget it.
    """
    global _footer_text
    import matplotlib as mpl
    import seaborn as sns

    _footer_text = figure_footer(resources)
    sns.set_theme(style="whitegrid", context="notebook", palette=PALETTE)
    small = MIN_FONT_PT
    mpl.rcParams.update(
        {
            "figure.figsize": (COLUMN_WIDTH_IN, 4.2),
            "figure.dpi": 96,
            "savefig.dpi": 192,
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.bbox": "tight",
            "svg.fonttype": "none",
            "svg.hashsalt": "wholecomm",  # stable element ids: the same figure gives the same file
            "font.family": ["DejaVu Sans", "sans-serif"],
            "axes.titleweight": "bold",
            "font.size": small + 1,
            "axes.labelsize": small + 1,
            "axes.titlesize": small + 1,
            "xtick.labelsize": small,
            "ytick.labelsize": small,
            "legend.fontsize": small,
            "legend.title_fontsize": small + 1,
            "figure.hooks": [f"{__name__}:_add_footer"],
        }
    )
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - plotting outside IPython
        return
    shell = get_ipython()
    if shell is not None:
        set_matplotlib_formats("svg")
        from IPython.core.pylabtools import print_figure
        from matplotlib.figure import Figure

        shell.display_formatter.formatters["image/svg+xml"].for_type(
            Figure, lambda fig: print_figure(fit_to_column(fig), "svg", bbox_inches="tight")
        )


def fit_to_column(fig, max_width_in: float | None = None):
    """Narrow ``fig`` so that, saved with a tight bounding box (outside legends, labels and
    footer included), it is at most ``max_width_in`` wide: the text column then shows it at
    no less than its text sizes were chosen for. Only the plotting area gets narrower; a
    figure that fits is left as it is. Returns the figure."""
    max_width_in = max_width_in or MAX_FIGURE_WIDTH_IN
    renderer = fig.canvas.get_renderer()
    for _ in range(4):
        width = fig.get_tightbbox(renderer).width
        if width <= max_width_in * 1.005:
            break
        w, h = fig.get_size_inches()
        fig.set_size_inches(max(w - (width - max_width_in), 0.5 * w), h)
    return fig


def _md_to_html(text: str) -> str:
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def notice_html(resources: Iterable[str] | None = None) -> str:
    text = data.provenance_notice(resources)
    return (
        '<div class="admonition warning wholecomm-provenance" role="note">'
        '<p class="admonition-title">About the data on this page</p>'
        f"<p>{_md_to_html(text)}</p></div>"
    )


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
        records.append(
            {
                str(k): (None if (not isinstance(v, str) and pd.isna(v)) else _jsonable(v))
                for k, v in row.items()
            }
        )
    return records


def rendered_cells(frame: pd.DataFrame, float_format: str = "{:.1f}") -> pd.DataFrame:
    """The cells of ``frame`` as a published table shows them (all text): p-value columns
    as "< 0.001" or three decimals (:func:`wholecomm.stats.format_p`), other floats with ``float_format``,
    true/false as yes/no, missing values as a dash, everything else as ``str``. The columns
    keep their code names (``labels`` gives the headers)."""

    def cell(value, p_value: bool) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "–"
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        if isinstance(value, (float, np.floating)):
            if np.isinf(value) and not p_value:
                return "∞" if value > 0 else "−∞"  # e.g. the degrees of freedom of a normal quantile
            return stats.format_p(value) if p_value else float_format.format(value)
        return str(value)

    return pd.DataFrame(
        {
            str(col): [cell(v, str(col) in labels.P_VALUE_COLUMNS) for v in frame[col].astype(object)]
            for col in frame.columns
        },
        index=range(len(frame)),
    )


#: Tables with more rows than this are shown folded (a "Show all N rows" summary), opened
#: for printing and in the whole-book PDF ...
LONG_TABLE_ROWS = 15
#: ... unless they have more rows than this: such a table stays folded on paper, where a
#: line says it is in the HTML book and its CSV download.
PRINT_MAX_ROWS = 60


def table_html(key: str, cells: pd.DataFrame) -> str:
    """The HTML table of rendered ``cells``: plain-language headers (``labels``), locality
    codes kept on one line, and long tables folded in a ``<details>`` element."""
    headers = labels.labelled(cells.columns)
    shown = cells.set_axis(headers, axis=1)
    body = shown.to_html(index=False, border=0, classes="table wholecomm-table", escape=True)
    body = body.replace("<table ", f'<table id="tbl-{html.escape(key)}" ', 1)
    head, sep, rows = body.partition("<tbody>")
    rows = labels.LOCALITY_CODE.sub(lambda m: f'<span class="wholecomm-nowrap">{m.group(0)}</span>', rows)
    # QCA configurations ("MEDIUM*CAPACITY*~THRIVING") may break after each "*" on a narrow screen.
    body = head + sep + rows.replace("*", "*<wbr>")
    # A table wider than the column scrolls in its own box, which keyboard users can reach.
    body = (
        f'<div class="wholecomm-table-scroll" tabindex="0" role="region" '
        f'aria-label="Table {html.escape(key)} (scrolls sideways when wider than the page)">{body}</div>'
    )
    if len(cells) > LONG_TABLE_ROWS:
        very = " wholecomm-very-long-table" if len(cells) > PRINT_MAX_ROWS else ""
        body = (
            f'<details class="wholecomm-long-table{very}"><summary>Show all {len(cells)} rows</summary>'
            f"{body}</details>"
        )
    return body


def _plain(text: str) -> str:
    """Markdown emphasis and code marks removed (for text that leaves the page)."""
    return re.sub(r"\*\*(.+?)\*\*|`(.+?)`", lambda m: m.group(1) or m.group(2), text)


def provenance_tag(resources: Iterable[str] | None = None) -> str:
    """A short, file-name-safe tag naming the data in use: ``synthetic-twin-seed<N>`` on the
    book's twin, ``user-data`` on data supplied by the user, ``published-data`` when only
    published reference data are used. Goes into the name of every downloaded file."""
    names = list(resources) if resources is not None else data.resource_names()
    kinds = {name: data.provenance(name) for name in names}
    if any(p["kind"] == "user" for p in kinds.values()):
        return "user-data"
    synthetic = [p for p in kinds.values() if p["kind"] == "synthetic"]
    if synthetic:
        return f"synthetic-twin-seed{synthetic[0].get('seed')}"
    return "published-data"


def provenance_lines(resources: Iterable[str] | None = None, page: str | None = None) -> list[str]:
    """The provenance of a downloaded table as comment lines (``# ...``) for the top of the
    file: where it comes from (this book, and the page) and which data it was computed on."""
    where = "Whole-COMM research companion (computed by this book, not published by Whole-COMM)"
    if page:
        where += f", page {page}"
    notice = " ".join(_plain(data.provenance_notice(resources)).split())
    return [f"# Source: {where}.", f"# Data: {notice}"]


def csv_download_link(
    frame: pd.DataFrame,
    filename: str,
    label: str = "Download this table (CSV)",
    resources: Iterable[str] | None = None,
    page: str | None = None,
) -> str:
    """A link that downloads ``frame`` as CSV, with its provenance on its face: the data tag
    (:func:`provenance_tag`) in the file name and comment lines (:func:`provenance_lines`)
    before the header (read it back with ``pandas.read_csv(path, skiprows=2)``).
    ``resources`` are the data resources the table was computed from (default: all)."""
    resources = list(resources) if resources is not None else None
    stem, dot, ext = filename.rpartition(".")
    stem, ext = (stem, ext) if dot else (filename, "csv")
    tag = provenance_tag(resources)
    named = f"{stem}-{tag}.{ext}" if not stem.endswith(tag) else f"{stem}.{ext}"
    text = "\n".join(provenance_lines(resources, page)) + "\n" + frame.to_csv(index=False)
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a class="wholecomm-download" href="data:text/csv;charset=utf-8;base64,{payload}" '
        f'download="{html.escape(named)}">{html.escape(label)}</a>'
    )


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
            author = (
                entry.fields.get("organization", entry.fields.get("institution", key))
                .replace("{", "")
                .replace("}", "")
            )
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
        self._glue_cell, self._glue_handle = None, None
        self._cell_values: dict[str, str] = {}
        setup_plotting(self.resources)
        if show_notice:
            self._display_html(notice_html(self.resources))
        if self.interactive:
            self._display_prose_script()
        self._write()

    def _display_prose_script(self) -> None:
        """In JupyterLab: the script that shows glued values and references in the prose."""
        from IPython.display import HTML, display

        setup = {"refs": prose_references(), "recorded": _recorded_values(exclude=self.name)}
        markup = (
            f'<div class="wholecomm-prose" data-wholecomm-page="{html.escape(self.name)}" hidden></div>'
            f"<script>{_prose_script()}\nwindow.wholecommProse.setRefs("
            f"{_js(self.name)}, {_js(setup)});</script>"
        )
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
        payload = {
            "page": self.name,
            "values": self.values,
            "tables": self.tables,
            "table_meta": self.table_meta,
            "rendered": self.rendered,
        }
        target.write_text(
            json.dumps(payload, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
        )

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
        lines = "".join(
            f'<div class="wholecomm-glued" data-key="{html.escape(k)}"><code>{html.escape(k)}</code> = '
            f"{_md_to_html(t)}</div>"
            for k, t in self._cell_values.items()
        )
        values = {k: _md_to_html(t) for k, t in self._cell_values.items()}
        markup = (
            f"{lines}<script>window.wholecommProse && window.wholecommProse.registerAll("
            f"{_js(self.name)}, {_js(values)});</script>"
        )
        bundle = {
            "text/html": markup,
            "text/plain": "\n".join(f"{k} = {t}" for k, t in self._cell_values.items()),
        }
        if self._glue_handle is None:
            self._glue_handle = display(bundle, raw=True, display_id=True)
        else:
            self._glue_handle.update(bundle, raw=True)

    # -- tables -----------------------------------------------------------------
    def table(
        self,
        key: str,
        frame: pd.DataFrame,
        caption: str,
        float_format: str = "{:.1f}",
        index: bool = False,
        respondents: str | None = None,
        fit: bool = False,
    ) -> None:
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
                raise KeyError(
                    f"Table {key!r}: respondent count column {respondents!r} not in {list(shown.columns)}."
                )
            data.assert_disclosure_safe(shown, respondents)
            self.table_meta[key] = {"respondents_column": respondents, "min_n": data.MIN_CELL_DEFAULT}
        if fit:
            self.table_meta.setdefault(key, {})["fit"] = True
        by_name = {str(c): c for c in shown.columns}
        cells = rendered_cells(shown[[by_name[c] for c in labels.order_columns(list(by_name))]], float_format)
        body = table_html(key, cells)
        caption_html = (
            f'<p class="caption wholecomm-caption"><strong>Table.</strong> {_md_to_html(caption)}</p>'
        )
        link = csv_download_link(shown, f"{self.name}-{key}.csv", resources=self.resources, page=self.name)
        self._display_html(f'<div class="wholecomm-table-block">{caption_html}{body}<p>{link}</p></div>')
        self.tables[key] = table_records(shown)
        self.rendered[key] = [labels.labelled(cells.columns), *cells.to_numpy().tolist()]
        self._write()


def interval_long(
    frame: pd.DataFrame,
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    scale: float = 1.0,
    value_name: str = "value",
) -> pd.DataFrame:
    """Long form of an estimate table for point-range plots: three rows per row of
    ``frame`` (its estimate, lower and upper bound, times ``scale``, e.g. 100 for percent)
    in ``value_name``, labelled in a ``bound`` column; the other columns are kept.

    With ``sns.pointplot(..., estimator="median", errorbar=("pi", 100))`` seaborn then
    draws each point at the estimate (the median of the three values, since
    lower <= estimate <= upper) and its bar from the lower to the upper bound, without
    computing anything itself. A row missing a value, or whose estimate lies outside its
    interval, is an error: nothing is dropped from a figure silently.
    """
    bad = (
        frame[[estimate, ci_low, ci_high]].isna().any(axis=1)
        | (frame[ci_low] > frame[estimate])
        | (frame[estimate] > frame[ci_high])
    )
    if bad.any():
        raise ValueError(
            f"interval_long: rows {list(frame.index[bad])[:10]} are missing an estimate or bound, "
            "or their estimate lies outside the interval."
        )
    others = [c for c in frame.columns if c not in (estimate, ci_low, ci_high)]
    parts = [
        frame[others].assign(**{value_name: frame[c].astype(float) * scale, "bound": b})
        for c, b in ((estimate, "estimate"), (ci_low, "lower"), (ci_high, "upper"))
    ]
    return pd.concat(parts, ignore_index=True)


def versions_table(
    packages: Iterable[str] = (
        "python",
        "jupyter-book",
        "sphinx",
        "myst-nb",
        "jupytext",
        "numpy",
        "pandas",
        "scipy",
        "statsmodels",
        "matplotlib",
        "seaborn",
        "frictionless",
        "wholecomm",
    ),
) -> pd.DataFrame:
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
