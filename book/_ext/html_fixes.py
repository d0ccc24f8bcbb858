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
"""

from __future__ import annotations

CITATION_LIST = '<div role="list" class="citation-list">'


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
        context["body"] = body.replace(CITATION_LIST, '<div class="citation-list">')


def setup(app):
    app.connect("html-page-context", _fix_page, priority=900)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
