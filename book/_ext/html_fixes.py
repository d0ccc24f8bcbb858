"""Sphinx extension of the book: small fixes to the HTML that Sphinx and the theme emit.

1. Unused remote assets. Jupyter Book 1 always loads sphinx-thebe, even with
   launch_buttons.thebe false. Its inline configuration script is then emitted twice on
   every page (a JavaScript "already been declared" error in the console), and it names a
   remote script on unpkg.com. The book does not use Thebe (notebooks run in Binder), so
   sphinx-thebe's scripts and stylesheet are removed from every page.
2. Bibliography accessibility. Docutils wraps citations in ``<div role="list"
   class="citation-list">`` whose children are not list items, which breaks the ARIA
   "list" contract (axe-core: aria-required-children, critical). The role is dropped;
   each citation keeps its ``doc-biblioentry`` role.
3. The .ipynb download. The theme copies a MyST notebook's executed ``.ipynb`` next to
   its sources, and offers it for download, only when a launch button (Binder) is
   configured. A book built without a known repository has no launch buttons, but its
   readers still want the notebook: the copy is made here for every notebook page.
4. Provenance of the .ipynb download. A downloaded notebook leaves the book, so it must
   say on its face which data its outputs were computed on: when the build finishes,
   every offered ``.ipynb`` gets a first Markdown cell with the page's data notice (the
   one its first code cell shows) and the same text in its metadata
   (``metadata.wholecomm.provenance``).
5. Status marks. The execution statistics table marks each notebook with an emoji (a
   check mark or a cross), drawn as an empty box where no emoji font is installed. The
   marks are replaced by text characters every font has, with a word for screen readers.
6. The whole-book PDF. When the build prints the book to PDF (``tools/book_pdf.py`` sets
   ``html_context.wholecomm_pdf``), every page starts with a link to it.
7. Current stylesheets. A rebuild in which no page is out of date does not copy the static
   files, so a changed stylesheet or script of the book would not reach the built book (nor
   its PDF). After every build the book's own static files are copied if they differ.
8. The button of a code cell hidden behind a click (``hide-input``). myst-nb names its
   ``<summary>`` "Toggle hidden content" while it shows "Show code cell source", so a
   spoken name differs from the visible one (axe-core: label-content-name-mismatch,
   serious). The label is dropped: the visible text is the button's name.
9. Outputs of a page taken from the notebook cache. When myst-nb takes a page's outputs from
   jupyter-cache (its code unchanged, its text changed), it renders them but writes the
   executed copy (``_build/jupyter_execute/<page>.ipynb``, the one offered for download and
   checked by the tests) from the notebook it read, without outputs. The outputs are
   merged back from the cache into that copy as soon as the page is read.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path
from shutil import copy2

CITATION_LIST = '<div role="list" class="citation-list">'
HIDDEN_CELL_SUMMARY = '<summary aria-label="Toggle hidden content">'
STATUS_MARKS = {
    "\u2705": '<span class="wholecomm-mark-ok">\u2713 <span class="wholecomm-mark-word">ok</span></span>',
    "\u2714\ufe0f": '<span class="wholecomm-mark-ok">\u2713 <span class="wholecomm-mark-word">ok</span></span>',
    "\u274c": '<span class="wholecomm-mark-failed">\u2717 <span class="wholecomm-mark-word">failed</span></span>',
}


def _is_thebe(asset) -> bool:
    filename = getattr(asset, "filename", "") or ""
    body = (getattr(asset, "attributes", {}) or {}).get("body", "") or ""
    return "thebe" in filename or "THEBE_JS_URL" in body


def _fix_page(app, pagename, templatename, context, doctree):
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_thebe(asset)]
    body = context.get("body")
    if isinstance(body, str) and CITATION_LIST in body:
        context["body"] = body = body.replace(CITATION_LIST, '<div class="citation-list">')
    if isinstance(body, str) and HIDDEN_CELL_SUMMARY in body:
        context["body"] = body = body.replace(HIDDEN_CELL_SUMMARY, "<summary>")
    if isinstance(body, str) and any(mark in body for mark in STATUS_MARKS):
        for mark, text in STATUS_MARKS.items():
            body = body.replace(mark, text)
        context["body"] = body


def _link_pdf(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if not (app.config.html_context or {}).get("wholecomm_pdf") or not isinstance(body, str) or not body:
        return
    href = context["pathto"]("wholecomm-companion.pdf", 1)
    context["body"] = (
        f'<p class="wholecomm-pdf-link"><a href="{href}" download>'
        "Download the whole book (PDF)</a></p>\n" + body
    )


def _restore_cached_outputs(app, doctree):
    docname = app.env.docname
    if "kernelspec" not in app.env.metadata.get(docname, {}):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"
    cache = app.env.mystnb_config.execution_cache_path
    if cache and executed.is_file() and Path(cache).is_dir():
        merge_cached_outputs(executed, Path(cache))


def merge_cached_outputs(executed: Path, cache_dir: Path) -> bool:
    """Merge the outputs jupyter-cache in ``cache_dir`` holds for the notebook ``executed``
    into it when none of its code cells has any; True when the file was rewritten."""
    import nbformat
    from jupyter_cache import get_cache

    nb = nbformat.read(executed, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or any(c.get("outputs") for c in code):
        return False
    try:
        _, merged = get_cache(cache_dir).merge_match_into_notebook(nb)
    except KeyError:  # not in the cache: the page was executed, or has nothing to show
        return False
    nbformat.write(merged, executed)
    return True


def _offer_notebook(app, pagename, templatename, context, doctree):
    if "kernelspec" not in app.env.metadata.get(pagename, {}) or context.get("ipynb_source"):
        return
    if not str(context.get("sourcename", "")).endswith((".md", ".md.txt")):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


PROVENANCE_CLASS = "wholecomm-provenance"
PROVENANCE_MARK = "wholecomm-provenance-cell"


def notebook_notice(nb: dict) -> str | None:
    """The data notice a notebook's page shows (plain text), from its executed outputs."""
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            markup = output.get("data", {}).get("text/html", "")
            markup = "".join(markup) if isinstance(markup, list) else markup
            if PROVENANCE_CLASS in markup:
                body = re.sub(r'<p class="admonition-title">.*?</p>', "", markup, flags=re.S)
                return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return None


def stamp_notebook(path: Path) -> bool:
    """Put the data notice at the top of a downloadable notebook (once); False if it has none."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    notice = notebook_notice(nb)
    if notice is None:
        return False
    cells = nb.setdefault("cells", [])
    if cells and PROVENANCE_MARK in cells[0].get("metadata", {}).get("tags", []):
        return True
    cell = {
        "cell_type": "markdown",
        "metadata": {"tags": [PROVENANCE_MARK]},
        "source": f"**About the data in this notebook.** {notice}\n\nThe outputs below were computed "
        "by the Whole-COMM research companion on these data; they are not published "
        "Whole-COMM results.",
    }
    if nb.get("nbformat", 4) >= 4 and nb.get("nbformat_minor", 0) >= 5:
        cell["id"] = "wholecomm-provenance"
    cells.insert(0, cell)
    nb.setdefault("metadata", {})["wholecomm"] = {"provenance": notice}
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def _stamp_downloads(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in sorted((Path(app.outdir) / "_sources").rglob("*.ipynb")):
        stamp_notebook(path)


def _refresh_static(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for folder in app.config.html_static_path:
        source = Path(app.confdir, folder) if not Path(folder).is_absolute() else Path(folder)
        for path in source.rglob("*") if source.is_dir() else []:
            target = Path(app.outdir) / "_static" / path.relative_to(source)
            if path.is_file() and (not target.is_file() or target.read_bytes() != path.read_bytes()):
                target.parent.mkdir(parents=True, exist_ok=True)
                copy2(path, target)


def setup(app):
    app.connect("build-finished", _refresh_static)
    app.connect("doctree-read", _restore_cached_outputs)
    app.connect("html-page-context", _offer_notebook, priority=500)  # before the theme's buttons (501)
    app.connect("html-page-context", _fix_page, priority=900)
    app.connect("build-finished", _stamp_downloads)
    app.connect("html-page-context", _link_pdf, priority=910)
    return {"version": "1.2", "parallel_read_safe": True, "parallel_write_safe": True}
