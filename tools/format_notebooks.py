"""Keep the MyST notebooks exactly as JupyterLab (through jupytext) writes them.

Opening a notebook in JupyterLab and saving it (autosave does, once a kernel starts) writes
the file back through jupytext, with the kernel's ``kernelspec`` in the front matter. If the
tracked file differs from that form, merely opening a notebook changes it. This script
rewrites every notebook in that form (``--check`` only reports); tests/test_notebook_format.py
fails when a notebook is not in it.

Usage: python tools/format_notebooks.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "python3"


def notebook_files(root: Path = ROOT) -> list[Path]:
    """The book's notebooks: every source in the table of contents with a jupytext header."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [root / f"{toc['root']}.md"]
    for part in toc.get("parts", []):
        files += [root / f"{ch['file']}.md" for ch in part.get("chapters", [])]
    return [f for f in files if f.is_file() and _header(f.read_text(encoding="utf-8")).get("jupytext")]


def _header(text: str) -> dict:
    if not text.startswith("---\n"):
        return {}
    return yaml.safe_load(text.split("---\n", 2)[1]) or {}


def kernelspec() -> dict:
    """The kernelspec JupyterLab writes for the project's kernel (``python3``, from ipykernel)."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    return {"display_name": spec.display_name, "language": spec.language, "name": KERNEL}


def as_saved(path: Path, spec: dict | None = None) -> str:
    """The text JupyterLab saves for ``path``: read and written by jupytext with its configuration
    for that file, with the kernel's kernelspec."""
    notebook = jupytext.read(path)
    notebook.metadata["kernelspec"] = spec or kernelspec()
    config = jupytext.config.load_jupytext_config(str(path))
    fmt = jupytext.formats.long_form_one_format(
        notebook.metadata["jupytext"]["text_representation"]["format_name"]
    )
    fmt = {"extension": path.suffix, **fmt}
    return jupytext.writes(notebook, fmt=fmt, config=config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that would change")
    args = parser.parse_args(argv)
    spec = kernelspec()
    changed = []
    for path in notebook_files():
        text = path.read_text(encoding="utf-8")
        saved = as_saved(path, spec)
        if saved != text:
            changed.append(path.relative_to(ROOT).as_posix())
            if not args.check:
                path.write_text(saved, encoding="utf-8")
    verb = "would change" if args.check else "rewritten"
    print(f"{len(changed)} notebook(s) {verb}: {', '.join(changed) or 'none'}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
