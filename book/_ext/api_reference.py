"""Sphinx extension of the book: the library's API reference, listed from the package itself.

The directive ``wholecomm-api`` (used by ``book/api.md``) walks :mod:`wholecomm` with
:mod:`pkgutil` and writes, for each module in the order of its dotted name, a section with
the module's docstring and its public functions, classes and constants (``automodule`` with
``:members:``). A module added to the library therefore appears on the page without editing
it, and every ``{py:func}`` reference in a chapter's caption resolves to the module where the
function is defined. Command-line entry points (``__main__``) and private modules (leading
underscore) are left out.

Type hints name classes of other libraries (pandas, numpy, matplotlib, ...). The book reads
no inventory over the network, so those references cannot resolve; ``nitpick_ignore_regex``
below ignores references to those libraries only, and any unresolved reference to the
book's own code still fails the build (``-n -W``).
"""

from __future__ import annotations

import importlib
import pkgutil

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

PACKAGE = "wholecomm"

#: Libraries whose classes appear in type hints and docstrings but have no local inventory.
EXTERNAL = (
    "pandas",
    "pd",
    "numpy",
    "np",
    "scipy",
    "statsmodels",
    "matplotlib",
    "plt",
    "seaborn",
    "openpyxl",
    "jinja2",
    "frictionless",
    "yaml",
    "pathlib",
    "os",
    "collections",
    "typing",
    "datetime",
    "decimal",
    "io",
    "re",
    "json",
    "csv",
    "zipfile",
    "subprocess",
    "argparse",
    "dataclasses",
    "enum",
    "types",
    "SALib",
    "numpy.typing",
    "optional",
    "callable",
    "iterable",
)


def modules(package: str = PACKAGE) -> list[str]:
    """Dotted names of the package's public modules, sorted (the package itself first)."""
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        last = info.name.rsplit(".", 1)[-1]
        if last.startswith("_"):
            continue
        names.append(info.name)
    return sorted(names)


class WholecommApi(SphinxDirective):
    """One section per module of :mod:`wholecomm`, with autodoc's members."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        lines: list[str] = []
        for name in modules():
            mod = importlib.import_module(name)
            # The page is MyST: headings in MyST, autodoc inside eval-rst (docstrings are RST).
            lines += [f"## `{name}`", "", "```{eval-rst}", f".. automodule:: {name}"]
            # A package's __init__ only re-exports: its docstring and its name (so that
            # :mod:`wholecomm.index` resolves), its functions under their defining modules.
            if not hasattr(mod, "__path__"):
                lines += ["   :members:", "   :member-order: bysource"]
            lines += ["```", ""]
        content = StringList(lines, source="wholecomm-api")
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, content, node)
        return node.children


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.add_directive("wholecomm-api", WholecommApi)
    app.connect("config-inited", _ignore_external)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}


def _ignore_external(app, config) -> None:
    pattern = r"(" + "|".join(e.replace(".", r"\.") for e in EXTERNAL) + r")(\..*)?"
    config.nitpick_ignore_regex = [
        *list(getattr(config, "nitpick_ignore_regex", []) or []),
        ("py:.*", pattern),
    ]
    config.autodoc_typehints = "description"
    config.autodoc_typehints_format = "short"
    config.autodoc_default_options = {"undoc-members": False, "show-inheritance": True}
