"""The built book in a real browser: Debian's Chromium driven by Playwright, the book served
on localhost. Every page loads without console errors or failed requests, nothing is
fetched from outside localhost, figures have alt text, search works, notebook pages have
launch and download buttons, and axe-core finds no serious or critical accessibility
violation. Screenshots are saved under _build/screenshots/ for people to look at."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
AXE = ROOT / "tools" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SKIP_DIRS = {"_static", "_sources", "_images", "reports", "_panels_static"}


def content_pages() -> list[str]:
    if not HTML.is_dir():
        return []
    pages = []
    for path in sorted(HTML.rglob("*.html")):
        rel = path.relative_to(HTML)
        if rel.parts[0] in SKIP_DIRS or rel.name == "index.html" and rel.parent == Path("."):
            continue
        pages.append(rel.as_posix())
    return pages


PAGES = content_pages()
NOTEBOOK_PAGES = [p for p in PAGES if p.startswith("notebooks/")]
# Pages that show data, and therefore a provenance notice: the notebooks and the findings page.
NOTICE_PAGES = [*NOTEBOOK_PAGES, *[p for p in PAGES if p == "book/findings.html"]]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(built_html):
    srv = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(built_html))
    )
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@contextlib.contextmanager
def _visit(browser, url: str, color_scheme: str = "light"):
    """Open ``url`` in a new browser context; yield the page and what went wrong on the way,
    and close the context afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=color_scheme)
    page = context.new_page()
    problems: dict[str, list[str]] = {"console": [], "failed": [], "external": [], "http": []}
    page.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems["console"].append(str(e)))
    page.on("requestfailed", lambda r: problems["failed"].append(r.url))
    page.on("response", lambda r: problems["http"].append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def _request(req):
        host = urlparse(req.url).hostname
        if req.url.startswith(("http://", "https://", "ws://", "wss://")) and host not in (
            "127.0.0.1",
            "localhost",
        ):
            problems["external"].append(req.url)

    page.on("request", _request)
    try:
        page.goto(url, wait_until="networkidle")
        yield page, problems
    finally:
        context.close()


def test_there_are_pages_to_check(built_html):
    assert "book/intro.html" in PAGES and NOTEBOOK_PAGES


@pytest.mark.browser
@pytest.mark.parametrize("path", PAGES)
def test_page_loads_cleanly_offline_and_accessibly(browser, server, path):
    with _visit(browser, f"{server}/{path}") as (page, problems):
        assert problems["console"] == [], problems["console"]
        assert problems["failed"] == [] and problems["http"] == [], problems
        assert problems["external"] == [], f"requests leaving localhost: {problems['external']}"
        missing_alt = page.eval_on_selector_all(
            "main img, article img",
            "els => els.filter(e => !(e.getAttribute('alt') || '').trim()).map(e => e.src)",
        )
        assert missing_alt == [], f"images without alt text: {missing_alt}"
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
                               .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""")
        assert result == [], f"axe-core serious/critical violations on {path}: {result}"


def _repository_url() -> str | None:
    """The repository URL the build used (tools/build_book.py), None when it knew none."""
    import json

    return json.loads((ROOT / "_build" / "build-summary.json").read_text())["repository_url"]


@pytest.mark.browser
@pytest.mark.parametrize("path", NOTEBOOK_PAGES)
def test_notebook_pages_offer_launch_and_download_buttons(browser, server, path):
    """Launch buttons exactly when the build knew the repository (never a guessed link)."""
    with _visit(browser, f"{server}/{path}") as (page, _):
        stem = Path(path).stem
        binder = page.eval_on_selector_all("a[href*='mybinder.org']", "els => els.map(e => e.href)")
        repo = _repository_url()
        if repo is None:
            assert binder == [], f"launch buttons without a known repository: {binder}"
            assert page.locator("a[href*='github.com']").count() == 0
        else:
            owner_name = "/".join(repo.rstrip("/").split("/")[-2:])
            assert any(
                f"/v2/gh/{owner_name}/" in h and "urlpath=lab/tree/notebooks/" + stem + ".md" in h
                for h in binder
            ), binder
        downloads = page.eval_on_selector_all(
            "a[href*='_sources/']", "els => els.map(e => e.getAttribute('href'))"
        )
        if repo is not None:  # the theme offers the .ipynb download together with the launch buttons
            assert any(h.endswith(f"{stem}.ipynb") for h in downloads), downloads
        assert any(h.endswith(f"{stem}.md") for h in downloads), downloads
        assert page.locator(".wholecomm-provenance").count() >= 1


CONTRAST_JS = """(selector) => {
    const lum = (rgb) => {
        const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
            .map(c => c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = (el) => {
        for (let e = el; e; e = e.parentElement) {
            const bg = getComputedStyle(e).backgroundColor;
            const alpha = (bg.match(/[\\d.]+/g) || []).length === 4 ? Number(bg.match(/[\\d.]+/g)[3]) : 1;
            if (bg !== 'transparent' && alpha > 0) return bg;
        }
        return 'rgb(255, 255, 255)';
    };
    return [...document.querySelectorAll(selector)].map(el => {
        const a = lum(getComputedStyle(el).color), b = lum(background(el));
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    });
}"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", NOTICE_PAGES)
def test_provenance_notice_is_readable_in_light_and_dark_mode(browser, server, path, scheme):
    with _visit(browser, f"{server}/{path}", color_scheme=scheme) as (page, _):
        ratios = page.evaluate(CONTRAST_JS, ".wholecomm-provenance p")
        assert ratios, "no provenance notice on the page"
        assert min(ratios) >= 4.5, f"notice text contrast {min(ratios):.2f} < 4.5 in {scheme} mode"


@pytest.mark.browser
def test_search_finds_housing(browser, server):
    with _visit(browser, f"{server}/search.html?q=housing") as (page, problems):
        page.wait_for_selector("#search-results ul.search li", timeout=15000)
        hits = page.locator("#search-results ul.search li").count()
        assert hits >= 1
        assert problems["console"] == [] and problems["external"] == []


@pytest.mark.browser
def test_screenshots_of_home_and_analysis_chapters(browser, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    targets = ["book/intro.html", *NOTEBOOK_PAGES]
    for path in targets:
        for scheme in ("light", "dark"):
            with _visit(browser, f"{server}/{path}", color_scheme=scheme) as (page, _):
                out = SHOTS / f"{path.replace('/', '-').removesuffix('.html')}-{scheme}.png"
                page.screenshot(path=str(out), full_page=False)
                assert out.stat().st_size > 10_000


def test_figures_are_svg_on_an_opaque_background_for_dark_mode(built_html):
    """Figures are SVG drawn on white, so they stay readable when the theme is dark."""
    import re

    shown = set()
    for page in built_html.rglob("*.html"):
        shown |= {
            m.rsplit("/", 1)[-1] for m in re.findall(r'<img[^>]+src="([^"]*_images/[^"]+)"', page.read_text())
        }
    assert shown, "no figures in the built book"
    assert sorted(name for name in shown if not name.endswith(".svg")) == [], "figures must be SVG"
    # (an earlier build may have left images no page shows any more: they are not checked)
    images = [built_html / "_images" / name for name in sorted(shown)]
    background = re.compile(r'<g id="patch_1">\s*<path d="[^"]*"\s+style="fill: #ffffff')
    for path in images:
        text = path.read_text(encoding="utf-8")
        assert background.search(text), f"{path.name} has no white figure background"


# ------------------------------------------------------------------ readability
#: Smallest text a reader must be given in a figure, in CSS pixels as shown at 1,280 px.
MIN_FIGURE_TEXT_PX = 10.0
FIGURE_TEXT_JS = """async () => {
    const out = [];
    for (const img of document.querySelectorAll('main .cell_output img')) {
        const src = img.currentSrc || img.src;
        const item = {src: src.split('/').pop().slice(0, 60), shown: img.getBoundingClientRect().width,
                      column: (img.closest('section') || img.closest('article')).getBoundingClientRect().width, svg: false};
        if (/\\.svg(\\?|$)/.test(src) || src.startsWith('data:image/svg')) {
            const doc = new DOMParser().parseFromString(await (await fetch(src)).text(), 'image/svg+xml');
            const svg = doc.documentElement;
            const box = (svg.getAttribute('viewBox') || '').trim().split(/[\\s,]+/).map(Number);
            item.svg = true;
            item.viewBoxWidth = box.length === 4 ? box[2] : parseFloat(svg.getAttribute('width'));
            item.texts = [...doc.querySelectorAll('text')].map(t => {
                const style = (t.getAttribute('style') || '') + ';font-size:' + (t.getAttribute('font-size') || '');
                const m = style.match(/([\\d.]+)px/) || style.match(/font-size:\\s*([\\d.]+)/);
                return {size: m ? Number(m[1]) : null, text: t.textContent.trim()};
            }).filter(t => t.text);
        }
        out.push(item);
    }
    return out;
}"""


def _expected_footer() -> str:
    """The provenance line every figure of the built book must carry (the book is built on
    the synthetic twin unless WHOLECOMM_DATA says otherwise)."""
    import json
    import os

    if os.environ.get("WHOLECOMM_DATA"):
        return "Data supplied by the user"
    package = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    seeds = {
        r.get("provenance", {}).get("seed")
        for r in package["resources"]
        if r.get("provenance", {}).get("kind") == "synthetic"
    }
    assert len(seeds) == 1, seeds
    return f"Synthetic twin, seed {seeds.pop()}"


@pytest.mark.browser
@pytest.mark.parametrize("path", NOTEBOOK_PAGES + [p for p in PAGES if p == "book/findings.html"])
def test_figures_are_svg_with_readable_text_and_a_provenance_footer(browser, server, path):
    """Every figure: an SVG whose smallest text, at the size the page shows it on a 1,280 px
    desktop, is at least 10 px; never wider than the text column; with the footer that says
    which data it was computed on."""
    with _visit(browser, f"{server}/{path}") as (page, _):
        figures = page.evaluate(FIGURE_TEXT_JS)
        footer = _expected_footer()
        for fig in figures:
            assert fig["svg"], f"{path}: figure {fig['src']} is not SVG"
            assert fig["shown"] <= fig["column"] + 0.5, f"{path}: {fig['src']} is wider than the text column"
            sizes = [t["size"] for t in fig["texts"]]
            assert sizes and None not in sizes, f"{path}: {fig['src']} has text without a readable font size"
            smallest = min(sizes) * fig["shown"] / fig["viewBoxWidth"]
            tiny = sorted(
                {
                    t["text"][:30]
                    for t in fig["texts"]
                    if t["size"] * fig["shown"] / fig["viewBoxWidth"] < MIN_FIGURE_TEXT_PX
                }
            )[:5]
            assert smallest >= MIN_FIGURE_TEXT_PX, (
                f"{path}: {fig['src']} shows text at {smallest:.1f} px (< {MIN_FIGURE_TEXT_PX}): {tiny}"
            )
            footers = [t["text"] for t in fig["texts"] if t["text"].startswith(footer)]
            assert footers, f"{path}: {fig['src']} lacks the provenance footer {footer!r}"


KEY_HEADERS = ("Verdict", "Status", "Consistency", "Count (n)")
TABLE_CLIPPING_JS = """(keys) => {
    document.querySelectorAll('details.wholecomm-long-table').forEach(d => d.open = true);
    const out = {pageOverflow: document.documentElement.scrollWidth - window.innerWidth, tables: []};
    for (const table of document.querySelectorAll('table.wholecomm-table')) {
        const box = (table.closest('.wholecomm-table-scroll') || table.parentElement).getBoundingClientRect();
        const heads = [...table.querySelectorAll('thead th')];
        const bad = [];
        heads.forEach((th, i) => {
            const label = th.textContent.trim();
            const key = i === 0 || (keys.includes(label) && (label !== 'Count (n)' || heads.some(h => h.textContent.trim() === 'Consistency')));
            const r = th.getBoundingClientRect();
            if (key && (r.right > box.right + 1 || r.left < box.left - 1)) bad.push(label);
        });
        const cut = [...table.querySelectorAll('td, th')].filter(c => {
            const s = getComputedStyle(c);
            return s.overflow !== 'visible' && c.scrollWidth > c.clientWidth + 1;
        }).map(c => c.textContent.trim().slice(0, 30));
        const codes = [...table.querySelectorAll('.wholecomm-nowrap')].filter(s => s.getClientRects().length > 1)
            .map(s => s.textContent);
        out.tables.push({id: table.id, offscreenKeys: bad, cutCells: cut.slice(0, 5), brokenCodes: codes.slice(0, 5),
                         scrollable: getComputedStyle(table.closest('.wholecomm-table-scroll') || table).overflowX});
    }
    return out;
}"""


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("path", NOTEBOOK_PAGES + [p for p in PAGES if p == "book/findings.html"])
def test_tables_clip_nothing_important(browser, server, path, width):
    """At 1,280 px the first column and the key columns (verdict, status, consistency and,
    beside a consistency, the count of cases) are on screen without scrolling; at 390 px the
    first column is.
    No cell's text is cut, no locality code breaks at its hyphen, and the page itself never
    scrolls sideways (a wide table scrolls in its own box)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server}/{path}", wait_until="networkidle")
        result = page.evaluate(TABLE_CLIPPING_JS, list(KEY_HEADERS) if width >= 1280 else [])
        assert result["pageOverflow"] <= 1, (
            f"{path} at {width} px scrolls sideways by {result['pageOverflow']} px"
        )
        for table in result["tables"]:
            assert table["offscreenKeys"] == [], (
                f"{path} {table['id']} at {width} px: {table['offscreenKeys']} off screen"
            )
            assert table["cutCells"] == [], f"{path} {table['id']}: cut cells {table['cutCells']}"
            assert table["brokenCodes"] == [], f"{path} {table['id']}: codes broken {table['brokenCodes']}"
            assert table["scrollable"] in ("auto", "scroll"), (
                f"{path} {table['id']}: a wide table cannot scroll"
            )
    finally:
        context.close()


def _search(browser, server, query: str) -> list[str]:
    with _visit(browser, f"{server}/search.html?q={query}") as (page, problems):
        page.wait_for_selector("#search-results ul.search li", timeout=15000)
        # results are added one by one: read them when Sphinx says the search has finished
        page.wait_for_function(
            "() => /Search finished/.test((document.querySelector("
            "'#search-results .search-summary') || {}).textContent || '')",
            timeout=30000,
        )
        assert problems["console"] == [] and problems["external"] == []
        return page.eval_on_selector_all(
            "#search-results ul.search li a:first-of-type",
            "els => els.map(e => e.getAttribute('href').split('#')[0])",
        )


@pytest.mark.browser
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("padron", "notebooks/housing-employment.html"),  # the page writes "Padrón"
        ("Malmo", "book/people.html"),  # "Malmö"
        ("Irastroza", "book/conference.html"),  # the reports' other spelling of "Irastorza"
        ("Irastorza", "book/conference.html"),
    ],
)
def test_search_ignores_accents_and_knows_spelling_variants(browser, server, query, expected):
    hits = _search(browser, server, query)
    assert any(h.endswith(expected) for h in hits), (query, hits)


@pytest.mark.browser
def test_search_ranks_the_chapters_about_a_topic_first(browser, server):
    hits = [h.split("/")[-1] for h in _search(browser, server, "housing")]
    position = {name: hits.index(name) for name in dict.fromkeys(hits)}
    for chapter in ("housing-employment.html", "conference.html"):
        for minor in ("status.html", "cite.html"):
            if minor in position:
                assert position[chapter] < position[minor], hits


@pytest.mark.browser
def test_status_marks_are_text_not_emoji(browser, server):
    with _visit(browser, f"{server}/book/status.html") as (page, _):
        body = page.inner_text("main")
        assert "\u2705" not in body and "\u274c" not in body
        assert page.locator(".wholecomm-mark-ok").count() >= 1


@pytest.mark.browser
def test_one_search_box_on_desktop(browser, server):
    with _visit(browser, f"{server}/book/intro.html") as (page, _):
        visible = page.evaluate("""() => [...document.querySelectorAll(
            '.search-button-field, .search-button__button, form.bd-search, .bd-search input')]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().width > 0).length""")
        assert visible == 1, f"{visible} search boxes visible at 1,280 px"
