"""The whole book as one PDF, printed from the built HTML by Debian's Chromium.

``tools/build_book.py`` calls :func:`build_pdf` after the HTML build: every page of the
table of contents, in its order, is opened from a server on localhost and printed with the
book's print stylesheet (``book/_static/wholecomm.css``: no sidebars, tables wrapped to
the page, folded tables opened, except those of more than ``book.PRINT_MAX_ROWS`` rows, which a line points to the HTML book and the CSV), and the pages are joined by pypdf into
``_build/html/wholecomm-companion.pdf`` with one bookmark per chapter. The PDF therefore
holds exactly what the HTML book holds: every chapter, figure and glued number.

Each page's print is kept in ``_build/pdf-cache`` under the sha256 of its HTML and of the
book's stylesheet: a rebuild prints again only the pages that changed (a warm rebuild with
nothing changed prints nothing and only joins the cached prints).

Every page links to the PDF when it is built (``book/_ext/html_fixes.py``, switched on by
``WHOLECOMM_PDF=1``, which the build sets only when Chromium is there to print it).

Usage: python tools/book_pdf.py [--html _build/html]   (rebuild the PDF only)
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a headless Chromium on a machine with no network beyond localhost.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PDF_NAME = "wholecomm-companion.pdf"
ENV_FLAG = "WHOLECOMM_PDF"


def can_print() -> tuple[bool, str]:
    """Whether this machine can print the PDF, and if not, why."""
    if not CHROMIUM.exists():
        return False, f"Chromium is missing at {CHROMIUM} (sudo apt-get install chromium)"
    try:
        import playwright  # noqa: F401
        import pypdf  # noqa: F401
    except ImportError as exc:
        return False, f"{exc.name} is not installed (make lock / pip install -r requirements.lock)"
    return True, ""


def toc_documents(root: Path = ROOT) -> list[str]:
    """The book's documents in reading order (root first), as in ``_toc.yml``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [d.removesuffix(".md").removesuffix(".ipynb") for d in docs]


#: Documents of the table of contents left out of the PDF: the library reference (a long
#: listing of functions, for developers; read on screen next to the code).
NOT_PRINTED = ("book/api",)


def printed_documents(root: Path = ROOT) -> list[str]:
    """The documents the PDF holds: the table of contents without :data:`NOT_PRINTED`."""
    return [d for d in toc_documents(root) if d not in NOT_PRINTED]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _page_key(html_file: Path, html_dir: Path) -> str:
    digest = hashlib.sha256(html_file.read_bytes())
    for asset in ("_static/wholecomm.css", "_static/wholecomm.js"):
        if (html_dir / asset).is_file():
            digest.update((html_dir / asset).read_bytes())
    return digest.hexdigest()


def build_pdf(html_dir: Path, root: Path = ROOT, out: Path | None = None, cache: Path | None = None) -> dict:
    """Print every page of the table of contents and join them; return what was made:
    ``{"file", "pages", "printed", "chapters": [{"doc", "title", "first_page", "pages"}], "seconds"}``."""
    from pypdf import PdfReader, PdfWriter

    start = time.perf_counter()
    out = out or html_dir / PDF_NAME
    cache = cache or html_dir.parent / "pdf-cache"
    cache.mkdir(parents=True, exist_ok=True)
    docs = printed_documents(root)
    todo = []
    for doc in docs:
        target = html_dir / f"{doc}.html"
        if not target.is_file():
            raise FileNotFoundError(f"The PDF needs {target}, which the HTML build did not write.")
        meta = cache / f"{doc.replace('/', '--')}.json"
        if not (
            meta.is_file()
            and json.loads(meta.read_text())["key"] == _page_key(target, html_dir)
            and meta.with_suffix(".pdf").is_file()
        ):
            todo.append(doc)
    if todo:
        _print_pages(html_dir, todo, cache)
    writer, chapters, page_no = PdfWriter(), [], 0
    for doc in docs:
        meta = json.loads((cache / f"{doc.replace('/', '--')}.json").read_text())
        reader = PdfReader(str(cache / f"{doc.replace('/', '--')}.pdf"))
        writer.append(reader, outline_item=meta["title"])
        chapters.append(
            {"doc": doc, "title": meta["title"], "first_page": page_no + 1, "pages": len(reader.pages)}
        )
        page_no += len(reader.pages)
    writer.add_metadata(
        {"/Title": "Whole-COMM research companion", "/Subject": "The whole book, printed from its HTML"}
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as fh:
        writer.write(fh)
    return {
        "file": str(out),
        "pages": page_no,
        "printed": len(todo),
        "chapters": chapters,
        "seconds": round(time.perf_counter() - start, 1),
    }


def _print_pages(html_dir: Path, docs: list[str], cache: Path) -> None:
    """Print ``docs`` (paths without .html) with Chromium into ``cache``."""
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html_dir))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.emulate_media(media="print")
            for doc in docs:
                target = html_dir / f"{doc}.html"
                page.goto(f"{base}/{doc}.html", wait_until="networkidle")
                page.evaluate(
                    "document.querySelectorAll('details:not(.wholecomm-very-long-table)')"
                    ".forEach(d => d.open = true)"
                )
                title = page.evaluate(
                    "(document.querySelector('article h1') || {}).textContent || document.title"
                )
                pdf = page.pdf(
                    format="A4",
                    print_background=True,
                    margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"},
                )
                stem = cache / doc.replace("/", "--")
                stem.with_suffix(".pdf").write_bytes(pdf)
                stem.with_suffix(".json").write_text(
                    json.dumps({"key": _page_key(target, html_dir), "title": title.replace("#", "").strip()})
                )
            browser.close()
    finally:
        server.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    args = parser.parse_args(argv)
    ok, why = can_print()
    if not ok:
        print(f"Cannot print the PDF: {why}.")
        return 1
    info = build_pdf(args.html)
    print(json.dumps({k: v for k, v in info.items() if k != "chapters"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
