"""Check the links of the built book, offline.

    python tools/check_links.py             # internal links and anchors must all resolve (exit 1 if not)
    python tools/check_links.py --external  # list external links (never fails: the build has no network)
    python tools/check_links.py --external --check  # request each external link (exit 1 if any is broken)

The last form needs a network: the weekly link-check workflow
(.github/workflows/linkcheck.yml) runs it; it never gates the build or the tests.

Internal means relative links between pages of _build/html, to files (images, downloads,
sources) and to anchors (#id) on the same or another page.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import urllib.error
import urllib.request
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SKIP_SCHEMES = {"mailto", "data", "javascript", "tel"}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "name" in attrs:
            self.ids.add(attrs["name"])
        for attr in ("href", "src"):
            if attrs.get(attr) and not (tag == "link" and attrs.get("rel") in ("preload", "dns-prefetch")):
                self.links.append(attrs[attr])


def parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def scan(html_dir: Path = HTML) -> tuple[list[str], dict[str, set[str]]]:
    """Return (broken internal links as messages, external URL -> pages using it)."""
    pages = sorted(p for p in html_dir.rglob("*.html") if "_static" not in p.parts)
    parsed = {p: parse(p) for p in pages}
    broken, external = [], defaultdict(set)
    for page, links in parsed.items():
        rel_page = page.relative_to(html_dir).as_posix()
        for link in links.links:
            scheme = urlparse(link).scheme
            if scheme in SKIP_SCHEMES:
                continue
            if scheme in ("http", "https") or link.startswith("//"):
                external[link].add(rel_page)
                continue
            target_part, anchor = urldefrag(link)
            target_part = unquote(target_part.split("?")[0])
            target = (page.parent / target_part).resolve() if target_part else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{rel_page}: link to missing file {link!r}")
                continue
            if anchor and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else parse(target).ids
                if anchor not in ids:
                    broken.append(f"{rel_page}: link to missing anchor {link!r}")
    return broken, external


def _status(url: str, timeout: float) -> str | None:
    """None when ``url`` answers (2xx or 3xx), else the HTTP status or the error."""
    headers = {"User-Agent": "wholecomm-linkcheck/1 (+https://jupyterbook.org)"}
    last = "no answer"
    for method in ("HEAD", "GET"):  # some servers refuse HEAD
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, method=method, headers=headers), timeout=timeout
            ) as resp:
                if resp.status < 400:
                    return None
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            last = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
    return last


def check_external(urls, timeout: float = 20.0, workers: int = 8) -> dict[str, str]:
    """Request each URL (HEAD, then GET if HEAD fails); return {url: problem} for those
    that do not answer with a 2xx or 3xx status."""
    urls = sorted(set(urls))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        found = dict(zip(urls, pool.map(lambda u: _status(u, timeout), urls), strict=False))
    return {url: problem for url, problem in found.items() if problem is not None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--external", action="store_true", help="list external links instead (never fails)")
    parser.add_argument(
        "--check", action="store_true", help="with --external: request each link (needs a network)"
    )
    args = parser.parse_args(argv)
    if not (HTML / "index.html").exists():
        print("The book is not built: run `make book` first.", file=sys.stderr)
        return 1
    broken, external = scan()
    if args.external and args.check:
        problems = check_external(external)
        print(f"{len(external)} external links checked, {len(problems)} broken.")
        for url, problem in sorted(problems.items()):
            print(f"  {url}: {problem} (on {', '.join(sorted(external[url]))})")
        return 1 if problems else 0
    if args.external:
        print(f"{len(external)} external links (not checked here: the build has no network):")
        for url in sorted(external):
            print(f"  {url}  ({len(external[url])} page(s))")
        return 0
    if broken:
        print(f"{len(broken)} broken internal links:\n" + "\n".join(f"  {b}" for b in broken))
        return 1
    print("All internal links and anchors resolve.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
