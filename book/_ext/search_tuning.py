"""Sphinx extension of the book: search that ignores accents, knows spelling variants of
names, and ranks a page by how much it is about the words searched for.

Sphinx's search matches stemmed words exactly: "padron" does not find "Padrón", "Malmo"
does not find "Malmö", and the reports' spelling "Irastroza" does not find "Irastorza".
Every page that names a term also ranks the same (only titles count more), so a page that
mentions "housing" once in a table ranks with the chapter about housing.

After the build this extension

1. adds to the search index, for every indexed word with accents, the same word without
   them (Unicode NFKD, combining marks removed), and for every pair of ``VARIANTS`` each
   spelling pointing to the pages of the other;
2. writes ``_static/wholecomm-terms.js``: how often each stemmed word occurs on each page
   (the article text of the built HTML, words occurring at least twice), loaded by the search
   page only, where the book's scorer (``_static/wholecomm.js``) adds a bonus growing with
   that count to Sphinx's score;
3. the same script removes accents from the query before Sphinx reads it.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

#: Spelling variants of names and words that the sources spell in more than one way
#: (each pair works both ways; accents are handled separately for every word).
VARIANTS: tuple[tuple[str, str], ...] = (
    ("irastroza", "irastorza"),
    ("malmoe", "malmo"),
    ("padron", "padrones"),
)

TERMS_FILE = "wholecomm-terms.js"
WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
ARTICLE = re.compile(r'<article class="bd-article"[^>]*>(.*?)</article>', re.S)
TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S)


def fold(word: str) -> str:
    """``word`` without accents (NFKD, combining marks dropped), lower case."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)).lower()


def _merge(docs_a, docs_b):
    """Union of two index entries (a document number or a list of them)."""
    as_set = lambda d: set(d) if isinstance(d, list) else {d}  # noqa: E731
    merged = sorted(as_set(docs_a) | as_set(docs_b))
    return merged[0] if len(merged) == 1 else merged


def tune_index(index: dict, stem) -> dict:
    """Add accent-free forms and spelling variants to a Sphinx search index (in place)."""
    for key in ("terms", "titleterms"):
        terms = index.get(key) or {}
        for term in list(terms):
            folded = fold(term)
            if folded != term:
                terms[folded] = _merge(terms[folded], terms[term]) if folded in terms else terms[term]
        for a, b in VARIANTS:
            sa, sb = stem(a), stem(b)
            if sa in terms or sb in terms:
                union = _merge(terms.get(sa, []), terms.get(sb, []))
                terms[sa] = terms[sb] = union
    return index


def term_counts(outdir: Path, docnames: list[str], stem) -> dict[str, dict[str, int]]:
    """``{stem: {docname: count}}`` over the article text of each built page (count >= 2)."""
    counts: dict[str, dict[str, int]] = {}
    for doc in docnames:
        page = outdir / f"{doc}.html"
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        m = ARTICLE.search(text)
        body = html.unescape(TAG.sub(" ", m.group(1) if m else text))
        for word, n in Counter(stem(fold(w)) for w in WORD.findall(body)).items():
            if n >= 2:
                counts.setdefault(word, {})[doc] = n
    return counts


def _stemmer(app):
    """The stemmer of Sphinx's English search (the Porter stemmer the search page uses too);
    the builder's own indexer is gone by the end of the build."""
    from sphinx.search.en import SearchEnglish

    lang = SearchEnglish(app.config.html_search_options or {})
    return lambda w: lang.stem(w.lower())


def _finished(app, exception):
    if exception is not None or app.builder.format != "html" or app.builder.name != "html":
        return
    outdir = Path(app.outdir)
    index_file = outdir / "searchindex.js"
    if not index_file.is_file():
        return
    stem = _stemmer(app)
    raw = index_file.read_text(encoding="utf-8")
    prefix, suffix = "Search.setIndex(", ")"
    if not (raw.startswith(prefix) and raw.rstrip().endswith(suffix)):
        raise RuntimeError(f"search_tuning: unexpected format of {index_file}")
    index = json.loads(raw[len(prefix) : raw.rstrip().rfind(suffix)])
    tune_index(index, stem)
    index_file.write_text(
        prefix + json.dumps(index, separators=(",", ":"), ensure_ascii=False) + suffix, encoding="utf-8"
    )
    counts = term_counts(outdir, list(index.get("docnames", [])), stem)
    (outdir / "_static" / TERMS_FILE).write_text(
        "window.wholecommTerms = " + json.dumps(counts, separators=(",", ":"), ensure_ascii=True) + ";\n",
        encoding="utf-8",
    )


def _search_page(app, pagename, templatename, context, doctree):
    if pagename != "search" or "script_files" not in context:
        return
    from sphinx.builders.html._assets import _JavaScript

    context["script_files"] = [*context["script_files"], _JavaScript(f"_static/{TERMS_FILE}")]


def setup(app):
    app.connect("html-page-context", _search_page, priority=950)
    app.connect("build-finished", _finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
