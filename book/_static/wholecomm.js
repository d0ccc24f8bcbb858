// Printing a page opens its folded long tables (and folds them again afterwards), so that
// a printed page, like the whole-book PDF, shows every row.
(function () {
  let opened = [];
  window.addEventListener("beforeprint", function () {
    opened = Array.from(document.querySelectorAll("details.wholecomm-long-table:not(.wholecomm-very-long-table):not([open])"));
    opened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();

// Search (see book/_ext/search_tuning.py). Accents in the query are removed before Sphinx
// reads it (the index holds every accented word also without its accents), and a page's
// score grows with how often it uses the words searched for, so that a chapter about a
// topic ranks above a page that only mentions it.
(function () {
  const fold = (s) => s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  const params = new URLSearchParams(window.location.search);
  const q = params.get("q");
  if (q !== null && fold(q) !== q) {
    params.set("q", fold(q));
    window.history.replaceState(null, "", window.location.pathname + "?" + params.toString() + window.location.hash);
  }
  const words = () => {
    const query = new URLSearchParams(window.location.search).get("q") || "";
    const stemmer = typeof Stemmer === "function" ? new Stemmer() : null;
    return fold(query).toLowerCase().split(/[^\p{L}]+/u).filter((w) => w.length > 1)
      .map((w) => (stemmer ? stemmer.stemWord(w) : w));
  };
  window.Scorer = {
    score: (result) => {
      const [docname, , , , score] = result;
      const counts = window.wholecommTerms || {};
      let bonus = 0;
      for (const w of words()) {
        const n = (counts[w] || {})[docname] || 0;
        bonus += 4 * Math.log2(1 + n);
      }
      return score + bonus;
    },
    // Sphinx's defaults for the rest.
    objNameMatch: 11, objPartialMatch: 6, objPrio: {0: 15, 1: 5, 2: -5}, objPrioDefault: 0,
    title: 15, partialTitle: 7, term: 5, partialTerm: 2,
  };
})();
