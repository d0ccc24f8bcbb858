/* Whole-COMM self-assessment: scores, peer benchmarks and priorities in the browser.
 *
 * The same rules as the Python engine (wholecomm.index.score and wholecomm.toolbox.assess):
 *  - indicator score = score of the chosen option; "Don't know" = not answered, never 0;
 *  - an area is scored when answered >= share * size - eps (and at least one answer), as the
 *    mean of its answered indicators; the overall score is the mean of the area scores and
 *    exists only when every area is scored;
 *  - peer groups: the assessed localities sharing the size class, the country or the type;
 *    per group and unit: median, quartiles (linear interpolation), best, own - median;
 *  - average (reference) gap of an area: mean of the gaps over groups with at least
 *    min_peers scored peers (over groups with any scored peer when none has that many);
 *  - priorities: answered indicators in scored areas below the best peer of the pooled
 *    groups; priority = max(0, -gap) * (points to the next level) / 100; sorted by priority
 *    (rounded to tie_decimals), points gained, peers at 100 (more first), indicator id.
 * No request leaves the page; answers are stored only when the reader asks. */
(function () {
  "use strict";
  var root = document.getElementById("wc-sa");
  if (!root) return;
  var D = JSON.parse(document.getElementById("wc-sa-data").textContent);
  var EPS = D.eps, SHARE = D.share, TIE = Math.pow(10, D.tie_decimals);
  var IND = D.indicators, N = IND.length;
  var AREA_IDS = D.areas.map(function (a) { return a.id; });
  var AREA_LABEL = {};
  D.areas.forEach(function (a) { AREA_LABEL[a.id] = a.label; });
  AREA_LABEL.overall = "Overall";
  var AREA_OF = IND.map(function (q) { return AREA_IDS.indexOf(q.area); });
  var AREA_SIZE = AREA_IDS.map(function (_, k) { return AREA_OF.filter(function (a) { return a === k; }).length; });
  var OPT_SCORE = IND.map(function (q) {
    var m = {};
    q.options.forEach(function (o) { m[o.code] = o.score; });
    return m;
  });
  var form = document.getElementById("wc-sa-form");
  var $ = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------------ engine
  function tieRound(x) { return Math.round(x * TIE) / TIE; }

  function scoreRow(scores) {
    // scores: array aligned with IND, null = not answered
    var sums = AREA_IDS.map(function () { return 0; });
    var counts = AREA_IDS.map(function () { return 0; });
    for (var i = 0; i < N; i++) {
      if (scores[i] !== null) { sums[AREA_OF[i]] += scores[i]; counts[AREA_OF[i]] += 1; }
    }
    var areas = [], all = true, total = 0;
    for (var k = 0; k < AREA_IDS.length; k++) {
      var ok = counts[k] > 0 && counts[k] >= SHARE * AREA_SIZE[k] - EPS;
      var s = ok ? sums[k] / counts[k] : null;
      areas.push({ id: AREA_IDS[k], score: s, scored: ok, answered: counts[k], n: AREA_SIZE[k] });
      if (!ok) all = false; else total += s;
    }
    return { areas: areas, overall: all && AREA_IDS.length ? total / AREA_IDS.length : null };
  }

  var PEER_UNITS = D.peers.map(function (p) {
    var r = scoreRow(p.scores), u = {};
    r.areas.forEach(function (a) { u[a.id] = a.score; });
    u.overall = r.overall;
    return u;
  });

  function quantile(sorted, q) {
    var pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }

  function median(sorted) {
    var n = sorted.length, m = Math.floor(n / 2);
    return n % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  function assess(answers, locality) {
    // answers: {indicator id: code}, locality: {size_class, country, locality_type}
    var t0 = performance.now();
    var scores = IND.map(function (q, i) {
      var c = answers[q.id];
      return c && Object.prototype.hasOwnProperty.call(OPT_SCORE[i], c) ? OPT_SCORE[i][c] : null;
    });
    var own = scoreRow(scores);
    var ownUnit = {};
    own.areas.forEach(function (a) { ownUnit[a.id] = a.score; });
    ownUnit.overall = own.overall;
    var units = AREA_IDS.concat(["overall"]);
    var groups = D.groups.filter(function (g) { return locality[g.id]; });
    var bench = [], pool = {};
    groups.forEach(function (g) {
      var members = [];
      D.peers.forEach(function (p, j) { if (p[g.id] === locality[g.id]) { members.push(j); pool[j] = true; } });
      var value = g.values.filter(function (v) { return v.value === locality[g.id]; })[0];
      units.forEach(function (u) {
        var vals = members.map(function (j) { return PEER_UNITS[j][u]; })
          .filter(function (v) { return v !== null; }).sort(function (a, b) { return a - b; });
        var n = vals.length, o = ownUnit[u];
        var med = n ? median(vals) : null;
        bench.push({ group: g.id, value: locality[g.id], value_label: value ? value.label : locality[g.id],
          unit: u, n_peers: members.length, n_scored: n, median: med,
          q1: n ? quantile(vals, 0.25) : null, q3: n ? quantile(vals, 0.75) : null,
          best: n ? vals[n - 1] : null, own: o, gap: o !== null && med !== null ? o - med : null,
          few_peers: n < D.min_peers });
      });
    });
    var gaps = AREA_IDS.map(function (a) {
      var b = bench.filter(function (r) { return r.unit === a; });
      var enough = b.filter(function (r) { return r.n_scored >= D.min_peers; });
      var use = enough.length ? enough : b.filter(function (r) { return r.n_scored > 0; });
      var ref = null;
      if (use.length && ownUnit[a] !== null) {
        var s = 0;
        use.forEach(function (r) { s += r.gap; });
        ref = s / use.length;
      }
      var row = { unit: a, own: ownUnit[a], reference_gap: ref, few_peers: enough.length === 0 };
      b.forEach(function (r) { row["median_" + r.group] = r.median; row["gap_" + r.group] = r.gap; });
      return row;
    });
    var refGap = {};
    gaps.forEach(function (g) { refGap[g.unit] = g.reference_gap; });
    var poolIdx = Object.keys(pool).map(Number);
    var pri = [];
    IND.forEach(function (q, i) {
      var s = scores[i], a = own.areas[AREA_OF[i]];
      if (s === null || !a.scored || !poolIdx.length) return;
      var best = null, at100 = [];
      poolIdx.forEach(function (j) {
        var v = D.peers[j].scores[i];
        if (v === null) return;
        if (best === null || v > best) best = v;
        if (v >= 100 - EPS) at100.push(j);
      });
      if (best === null || !(best > s + EPS)) return;
      var next = null;
      q.options.forEach(function (o) { if (o.score > s + EPS && (next === null || o.score < next.score)) next = o; });
      var gain = next.score - s, gap = refGap[q.area];
      var current = q.options.filter(function (o) { return o.code === answers[q.id]; })[0];
      pri.push({ indicator_id: q.id, area: q.area, question: q.question, answer_code: current.code,
        answer_text: current.text, score: s, next_code: next.code, next_text: next.text, points_gained: gain,
        area_points: gain / a.answered, reference_gap: gap,
        priority: gap !== null ? Math.max(0, -gap) * gain / 100 : 0,
        best_peer: best, n_peers_100: at100.length,
        peers_100: at100.map(function (j) { return D.peers[j].description; }) });
    });
    pri.sort(function (x, y) {
      var px = tieRound(x.priority), py = tieRound(y.priority);
      if (px !== py) return py - px;
      var gx = tieRound(x.points_gained), gy = tieRound(y.points_gained);
      if (gx !== gy) return gy - gx;
      if (x.n_peers_100 !== y.n_peers_100) return y.n_peers_100 - x.n_peers_100;
      return x.indicator_id < y.indicator_id ? -1 : x.indicator_id > y.indicator_id ? 1 : 0;
    });
    pri.forEach(function (p, k) { p.rank = k + 1; });
    var result = { overall: own.overall, areas: own.areas, benchmarks: bench, gaps: gaps, priorities: pri,
      answered: scores.filter(function (v) { return v !== null; }).length, n: N };
    result.ms = performance.now() - t0;
    return result;
  }

  // ------------------------------------------------------------------ the form
  function readForm() {
    var answers = {};
    IND.forEach(function (q) {
      var el = form.querySelector('input[name="q-' + q.id + '"]:checked');
      answers[q.id] = el && el.value ? el.value : null;
    });
    var loc = {};
    D.groups.forEach(function (g) { loc[g.id] = $("wc-sa-" + g.id).value || null; });
    return { answers: answers, locality: loc, name: $("wc-sa-name").value.trim(),
      year: $("wc-sa-year").value.trim() };
  }

  function writeForm(state) {
    IND.forEach(function (q) {
      var code = state.answers && state.answers[q.id];
      var el = form.querySelector('input[name="q-' + q.id + '"][value="' + (code || "") + '"]') ||
        form.querySelector('input[name="q-' + q.id + '"][value=""]');
      el.checked = true;
    });
    D.groups.forEach(function (g) {
      var v = state.locality && state.locality[g.id];
      var ok = g.values.some(function (x) { return x.value === v; });
      $("wc-sa-" + g.id).value = ok ? v : "";
    });
    $("wc-sa-name").value = state.name || "";
    $("wc-sa-year").value = state.year || "";
  }

  function fmt(x, signed) {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    var s = (Math.round(x * 10) / 10).toFixed(1);
    return signed && x > 0 ? "+" + s : s.replace("-0.0", "0.0");
  }

  function text(el, value) { el.textContent = value; return el; }

  function make(tag, content, attrs) {
    var el = document.createElement(tag);
    if (content !== undefined) el.textContent = content;
    if (attrs) Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  var last = null;

  function render() {
    var t0 = performance.now();
    var st = readForm();
    var r = assess(st.answers, st.locality);
    last = { state: st, result: r };
    text($("wc-sa-progress"), r.answered + " of " + r.n + " questions answered");
    $("wc-sa-progress-bar").value = r.answered;
    r.areas.forEach(function (a) {
      var el = root.querySelector('[data-area-progress="' + a.id + '"]');
      if (el) text(el, a.answered + " of " + a.n + " answered" + (a.scored ? "" : " (not scored yet: " +
        Math.ceil(SHARE * a.n - EPS) + " needed)"));
    });
    var who = (st.name || "Your municipality") + (st.year ? ", " + st.year : "");
    text($("wc-sa-summary-who"), who + " · self-assessment made in the browser");
    text($("wc-sa-overall"), r.overall === null
      ? "Overall score: " + D.not_scored + " (every area needs enough answers)."
      : "Overall score: " + fmt(r.overall) + " out of 100.");
    var body = $("wc-sa-areas");
    body.textContent = "";
    var byKey = {};
    r.benchmarks.forEach(function (b) { byKey[b.group + "|" + b.unit] = b; });
    var gapOf = {};
    r.gaps.forEach(function (g) { gapOf[g.unit] = g; });
    AREA_IDS.concat(["overall"]).forEach(function (u) {
      var tr = make("tr", undefined, { "data-unit": u });
      var a = r.areas.filter(function (x) { return x.id === u; })[0];
      tr.appendChild(make("td", AREA_LABEL[u]));
      tr.appendChild(make("td", a ? a.answered + " of " + a.n : r.answered + " of " + r.n, { "data-label": "Answered" }));
      var sc = a ? (a.scored ? fmt(a.score) : D.not_scored) : (r.overall === null ? D.not_scored : fmt(r.overall));
      tr.appendChild(make("td", sc, { "data-label": "Score", "class": "wc-sa-score" }));
      D.groups.forEach(function (g) {
        var b = byKey[g.id + "|" + u];
        tr.appendChild(make("td", b ? fmt(b.median) + (b.n_scored < D.min_peers && b.n_scored ? " (few peers)" : "")
          : "choose " + g.word, { "data-label": "Typical: " + g.word }));
      });
      var gp = gapOf[u];
      var ov = u === "overall" ? null : gp;
      tr.appendChild(make("td", ov ? fmt(ov.reference_gap, true) : "", { "data-label": "Average gap" }));
      body.appendChild(tr);
    });
    var cmp = $("wc-sa-compare");
    cmp.textContent = "";
    var known = r.gaps.filter(function (g) { return g.reference_gap !== null; });
    var strong = known.slice().sort(function (x, y) { return tieRound(y.reference_gap) - tieRound(x.reference_gap) || (x.unit < y.unit ? -1 : 1); })
      .filter(function (g) { return g.reference_gap > 0.05; }).slice(0, 2);
    var weak = known.slice().sort(function (x, y) { return tieRound(x.reference_gap) - tieRound(y.reference_gap) || (x.unit < y.unit ? -1 : 1); })
      .filter(function (g) { return g.reference_gap < -0.05; }).slice(0, 2);
    if (strong.length) cmp.appendChild(make("p", "Strongest against similar places: " + strong.map(function (g) {
      return AREA_LABEL[g.unit] + " (" + fmt(g.reference_gap, true) + " points)"; }).join("; ") + "."));
    if (weak.length) cmp.appendChild(make("p", "Weakest against similar places: " + weak.map(function (g) {
      return AREA_LABEL[g.unit] + " (" + fmt(g.reference_gap, true) + " points)"; }).join("; ") + "."));
    if (!r.benchmarks.length) cmp.appendChild(make("p", "Choose the size class, country and locality type above to compare with similar places."));
    var steps = $("wc-sa-steps");
    steps.textContent = "";
    r.priorities.slice(0, 3).forEach(function (p) {
      var li = make("li", undefined, { "data-indicator": p.indicator_id });
      li.appendChild(make("strong", p.question));
      li.appendChild(document.createTextNode(" (" + AREA_LABEL[p.area] + ", " + p.indicator_id + "). Now: " +
        p.answer_text + ". Next step: " + p.next_text + ". +" + fmt(p.points_gained).replace(".0", "") +
        " points on this question; " + (p.n_peers_100 ? p.n_peers_100 + " similar place" +
        (p.n_peers_100 > 1 ? "s already do" : " already does") + " this fully." : "no similar place does this fully yet.")));
      steps.appendChild(li);
    });
    if (!r.priorities.length) steps.appendChild(make("li", r.benchmarks.length
      ? "No answered question scores below the best similar place."
      : "Answer some questions and choose the locality's categories to see next steps."));
    api.lastMs = performance.now() - t0;
    api.lastEngineMs = r.ms;
    return r;
  }

  // ------------------------------------------------------------------ YAML in and out
  function yamlString(s) { return JSON.stringify(s); }

  function toYaml(st) {
    var lines = ["# MIPEX-L-style self-evaluation (Whole-COMM research companion pilot questionnaire, modelled on MIPEX and MIPEX-R; not the Whole-COMM toolbox)",
      "# Exported from the self-assessment page of the book. Check it and score it with:",
      "#   wholecomm assess this-file.yml --out report.html", "",
      "locality:", "  name: " + yamlString(st.name || "My municipality")];
    D.groups.forEach(function (g) { lines.push("  " + g.id + ": " + (st.locality[g.id] || "")); });
    lines.push("", "assessments:", "  - year: " + (st.year || ""), "    answers:");
    var area = null;
    IND.forEach(function (q) {
      if (q.area !== area) { area = q.area; lines.push("      # " + AREA_LABEL[area]); }
      lines.push("      " + q.id + ": " + (st.answers[q.id] || "") + (st.answers[q.id] ? "" : "   # " + D.dont_know));
    });
    return lines.map(function (l) { return l.replace(/\s+$/, ""); }).join("\n") + "\n";
  }

  function unquote(v) {
    v = v.replace(/\s+#.*$/, "").trim();
    if (v.charAt(0) === '"') { try { return JSON.parse(v); } catch (e) { return v.slice(1, -1); } }
    if (v.charAt(0) === "'") return v.slice(1, -1).replace(/''/g, "'");
    return v;
  }

  function fromYaml(textIn) {
    // The questionnaire's own layout (as written by `wholecomm questionnaire` or this page):
    // locality fields, then `- year:` entries with `answers:`; the latest year is taken.
    var lines = textIn.split(/\r?\n/), section = null, years = [], cur = null, loc = {}, name = "";
    lines.forEach(function (raw) {
      var line = raw.replace(/^\s*#.*$/, "");
      if (!line.trim()) return;
      var m;
      if (/^locality:\s*$/.test(line)) { section = "locality"; return; }
      if (/^assessments:\s*$/.test(line)) { section = "assessments"; return; }
      if (section === "locality" && (m = line.match(/^\s+([A-Za-z_]+):\s*(.*)$/))) {
        var v = unquote(m[2]);
        if (m[1] === "name") name = v; else loc[m[1]] = v;
        return;
      }
      if (section === "assessments" && (m = line.match(/^\s*-\s*year:\s*(.*)$/))) {
        cur = { year: unquote(m[1]), answers: {} }; years.push(cur); return;
      }
      if (section === "assessments" && cur && (m = line.match(/^\s+([A-Za-z0-9_]+):\s*(.*)$/))) {
        if (m[1] === "answers" || m[1] === "year") { if (m[1] === "year") cur.year = unquote(m[2]); return; }
        var code = unquote(m[2]);
        cur.answers[m[1]] = code || null;
      }
    });
    if (!years.length) throw new Error("no `- year:` entry with answers was found");
    years.sort(function (a, b) { return Number(a.year) - Number(b.year); });
    var latest = years[years.length - 1], unknown = [];
    Object.keys(latest.answers).forEach(function (id) {
      var i = IND.map(function (q) { return q.id; }).indexOf(id);
      var c = latest.answers[id];
      if (i < 0 || (c && !Object.prototype.hasOwnProperty.call(OPT_SCORE[i], c))) { unknown.push(id); delete latest.answers[id]; }
    });
    return { state: { answers: latest.answers, locality: loc, name: name, year: latest.year },
      years: years.map(function (y) { return y.year; }), unknown: unknown };
  }

  // ------------------------------------------------------------------ spreadsheet in and out
  // The workbook of `wholecomm questionnaire --format xlsx`: its template (blank, built with the
  // page from the same catalogue) is filled in for export; any such workbook, also one saved by
  // a spreadsheet program, is read back. The latest year with answers is taken, as from YAML.
  var WB = D.workbook;

  function choiceCode(group, textIn) {
    var t = String(textIn).trim();
    var v = group.values.filter(function (x) { return x.value === t || x.choice === t; })[0];
    return v ? v.value : null;
  }

  function fromSheets(book) {
    var L = book.sheets[WB.sheets.locality], A = book.sheets[WB.sheets.answers];
    var missing = [WB.sheets.locality, WB.sheets.answers].filter(function (n) { return !book.sheets[n]; });
    if (missing.length) throw new Error("the sheet " + missing.join(" and ") + " is missing (start from the questionnaire spreadsheet and do not rename its sheets)");
    var loc = {}, name = "", problems = [];
    Object.keys(L).forEach(function (ref) {
      var m = ref.match(/^A(\d+)$/);
      if (!m) return;
      var key = L[ref].trim(), value = L["B" + m[1]];
      if (key === "name") { name = value ? value.trim() : ""; return; }
      var g = D.groups.filter(function (x) { return x.id === key; })[0];
      if (!g || value === undefined) return;
      var code = choiceCode(g, value);
      if (code === null) problems.push(WB.sheets.locality + " row " + m[1] + ": '" + value.slice(0, 40) + "' is not a " + g.word);
      else loc[g.id] = code;
    });
    var cols = [];
    for (var c = WB.first_answer_col; c < WB.first_answer_col + 200; c++) {
      var head = A[window.wholecommXlsx.colLetters(c) + "1"];
      if (head === undefined) break;
      if (/^Answer \(/.test(head.trim())) cols.push(c);
    }
    var years = [];
    cols.forEach(function (col) {
      var letter = window.wholecommXlsx.colLetters(col), y = A[letter + "2"];
      if (y === undefined || !String(y).trim()) return;
      years.push({ year: String(Number(y) === Math.floor(Number(y)) ? Number(y) : y).trim(), letter: letter });
    });
    if (!years.length) throw new Error("no answer column has a year in row 2 of the sheet " + WB.sheets.answers);
    years.sort(function (a, b) { return Number(a.year) - Number(b.year); });
    var latest = years[years.length - 1], answers = {}, unknown = [];
    var ids = IND.map(function (q) { return q.id; });
    Object.keys(A).forEach(function (ref) {
      var m = ref.match(/^B(\d+)$/);
      if (!m || Number(m[1]) < WB.first_question_row) return;
      var id = A[ref].trim(), i = ids.indexOf(id), given = A[latest.letter + m[1]];
      if (i < 0) { unknown.push(id); return; }
      if (given === undefined || !given.trim() || given.trim() === D.dont_know) { answers[id] = null; return; }
      var t = given.trim();
      var opt = IND[i].options.filter(function (o) { return o.text === t || o.code === t; })[0];
      if (opt) answers[id] = opt.code;
      else problems.push(WB.sheets.answers + " " + latest.letter + m[1] + " (" + id + "): '" + t.slice(0, 40) + "' is not one of its answers");
    });
    if (problems.length) throw new Error(problems.slice(0, 3).join("; ") + (problems.length > 3 ? "; and " + (problems.length - 3) + " more" : ""));
    return { state: { answers: answers, locality: loc, name: name, year: latest.year },
      years: years.map(function (y) { return y.year; }), unknown: unknown };
  }

  function toWorkbook(st) {
    var X = window.wholecommXlsx;
    return X.unzip(X.fromBase64(WB.template).buffer).then(function (parts) {
      var locCells = {}, ansCells = {};
      WB.locality_rows.forEach(function (r) {
        var value = r.field === "name" ? (st.name || "") : null;
        if (r.field !== "name") {
          var g = D.groups.filter(function (x) { return x.id === r.field; })[0];
          var v = g && g.values.filter(function (x) { return x.value === st.locality[r.field]; })[0];
          value = v ? v.choice : "";
        }
        locCells["B" + r.row] = value;
      });
      var first = X.colLetters(WB.first_answer_col);
      ansCells[first + "2"] = st.year && isFinite(Number(st.year)) ? Number(st.year) : (st.year || "");
      IND.forEach(function (q, i) {
        var code = st.answers[q.id], opt = q.options.filter(function (o) { return o.code === code; })[0];
        ansCells[first + (WB.first_question_row + i)] = opt ? opt.text : "";
      });
      X.setCells(parts, WB.sheets.locality, locCells);
      X.setCells(parts, WB.sheets.answers, ansCells);
      return X.write(parts);
    });
  }

  // ------------------------------------------------------------------ actions
  function say(msg) { text($("wc-sa-message"), msg); }

  function download(filename, content, type, base64) {
    var a = document.createElement("a");
    a.href = base64 ? "data:" + type + ";base64," + content : "data:" + type + ";charset=utf-8," + encodeURIComponent(content);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  function slug(s) { return (s || "my-municipality").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "my-municipality"; }

  form.addEventListener("change", render);
  form.addEventListener("input", function (ev) { if (ev.target.type === "text" || ev.target.type === "number") render(); });
  $("wc-sa-save").addEventListener("click", function () {
    try {
      localStorage.setItem(D.storage_key, JSON.stringify(readForm()));
      say("Saved in this browser only (nothing was sent anywhere). Use \u201cForget saved answers\u201d to remove them.");
    } catch (e) { say("This browser does not allow saving here; download the answers instead."); }
  });
  $("wc-sa-load").addEventListener("click", function () {
    var raw = null;
    try { raw = localStorage.getItem(D.storage_key); } catch (e) { raw = null; }
    if (!raw) { say("No answers are saved in this browser."); return; }
    writeForm(JSON.parse(raw)); render(); say("Saved answers loaded.");
  });
  $("wc-sa-forget").addEventListener("click", function () {
    try { localStorage.removeItem(D.storage_key); } catch (e) { /* nothing stored */ }
    say("Nothing is saved in this browser any more.");
  });
  $("wc-sa-clear").addEventListener("click", function () {
    writeForm({ answers: {}, locality: {}, name: "", year: "" }); render(); say("All answers cleared.");
  });
  $("wc-sa-export").addEventListener("click", function () {
    var st = readForm();
    var yaml = toYaml(st);
    api.lastExport = yaml;
    download(slug(st.name) + ".yml", yaml, "application/yaml");
    say("Downloaded. Check and score it on your computer with: wholecomm assess " + slug(st.name) + ".yml");
  });
  $("wc-sa-export-xlsx").addEventListener("click", function () {
    var st = readForm();
    api.lastXlsx = null;
    return toWorkbook(st).then(function (bytes) {
      api.lastXlsx = bytes;
      download(slug(st.name) + ".xlsx", window.wholecommXlsx.toBase64(bytes),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", true);
      say("Downloaded. Open it in a spreadsheet program, or score it with: wholecomm assess " + slug(st.name) + ".xlsx");
    }).catch(function (e) { say("Could not write the spreadsheet: " + e.message + "."); });
  });
  function imported(got) {
    writeForm(got.state); render();
    say("Imported the answers of " + got.state.year + (got.years.length > 1 ? " (the latest of " + got.years.join(", ") + ")" : "") +
      (got.unknown.length ? "; ignored (not in this catalogue): " + got.unknown.join(", ") : "") + ".");
  }
  function importBuffer(buffer) {
    var head = new Uint8Array(buffer.slice(0, 2));
    if (head[0] === 0x50 && head[1] === 0x4B) {  // "PK": a ZIP archive, so a workbook
      return window.wholecommXlsx.read(buffer).then(fromSheets);
    }
    return Promise.resolve().then(function () { return fromYaml(new TextDecoder("utf-8").decode(buffer)); });
  }
  $("wc-sa-import").addEventListener("change", function (ev) {
    var file = ev.target.files && ev.target.files[0];
    if (!file) return;
    if (file.size > 2000000) { say("That file is too large to be a questionnaire."); return; }
    var reader = new FileReader();
    reader.onload = function () {
      api.importing = importBuffer(reader.result).then(imported)
        .catch(function (e) { say("Could not import this file: " + e.message + "."); })
        .then(function () { ev.target.value = ""; api.importing = null; });
    };
    reader.readAsArrayBuffer(file);
  });
  // Printing: a copy of the summary becomes the only thing in the document.
  function preparePrint() {
    endPrint();
    render();
    var copy = $("wc-sa-summary").cloneNode(true);
    copy.id = "wc-sa-print-copy";
    copy.querySelectorAll("[id]").forEach(function (el) { el.removeAttribute("id"); });
    copy.removeAttribute("aria-labelledby");
    copy.classList.add("wc-sa");
    document.body.appendChild(copy);
    document.documentElement.classList.add("wc-sa-printing");
  }
  function endPrint() {
    var copy = $("wc-sa-print-copy");
    if (copy) copy.remove();
    document.documentElement.classList.remove("wc-sa-printing");
  }
  $("wc-sa-print").addEventListener("click", function () { preparePrint(); window.print(); endPrint(); });
  window.addEventListener("beforeprint", function () { if (!$("wc-sa-print-copy")) preparePrint(); });
  window.addEventListener("afterprint", endPrint);

  var api = {
    data: D,
    assess: assess,
    render: render,
    state: function () { return readForm(); },
    setState: function (st) { writeForm(st); return render(); },
    result: function () { return last ? last.result : render(); },
    toYaml: function () { return toYaml(readForm()); },
    fromYaml: fromYaml,
    toWorkbook: function () { return toWorkbook(readForm()); },
    importBuffer: importBuffer,
    importing: null,
    lastXlsx: null,
    preparePrint: preparePrint,
    endPrint: endPrint,
    lastMs: null,
    lastEngineMs: null
  };
  window.wholecommSelfAssessment = api;
  render();
})();
