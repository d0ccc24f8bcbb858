// Shows the glued values in a notebook's prose when it runs in JupyterLab (not in the book build).
//
// JupyterLab renders the MyST roles of the prose as plain Markdown: `{glue:md}` followed by the
// key in code font. Each `page.glue(...)` call outputs its value with a call to `register`;
// this script replaces every role in the rendered Markdown of that notebook by its value, and
// citations, cross-references and labels by readable text. It changes the rendered view only,
// never the cells, so saving the notebook saves exactly what was opened.
(function () {
  "use strict";
  const ROLE = /\{(glue:md|glue:text|glue|cite:p|cite:t|cite|doc|ref|numref|term|eq)\}$/;
  const LABEL = /^\([\w.:-]+\)=$/;
  const state = window.wholecommProse || {pages: {}, refs: {}, observer: null, timer: null};
  window.wholecommProse = state;

  const escape = (text) => text.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c]));
  const target = (content) => {  // `text <target>` or `target`
    const m = content.match(/^(.*?)\s*<([^>]+)>$/);
    return m ? {text: m[1], target: m[2]} : {text: "", target: content};
  };
  const stem = (path) => path.replace(/\.(md|ipynb)$/, "").split("/").pop();

  function resolve(role, content, page) {
    const refs = state.refs;
    if (role.startsWith("glue")) {
      let pageName = page, key = content;
      if (content.includes("::")) {
        const [path, rest] = content.split("::");
        pageName = stem(path);
        key = rest;
      }
      key = key.split(":")[0];  // `key:s`: a format specification, not part of the key
      const values = state.pages[pageName] || {};
      if (key in values) return {html: values[key], cls: "wholecomm-glue-value"};
      if (pageName === page) return null;  // not computed yet: leave the role until the cell runs
      const title = (refs.titles || {})[pageName] || pageName;
      return {html: `[${escape(key)}: computed in “${escape(title)}”; run that notebook first to see it here]`,
              cls: "wholecomm-glue-missing"};
    }
    if (role.startsWith("cite")) {
      const keys = content.split(",").map((k) => k.trim());
      const cites = keys.map((k) => (refs.citations || {})[k] || {text: k, author: k, year: ""});
      if (role === "cite:t") return {html: escape(cites.map((c) => `${c.author} (${c.year})`).join("; ")), cls: "wholecomm-cite"};
      return {html: escape(`(${cites.map((c) => c.text).join("; ")})`), cls: "wholecomm-cite"};
    }
    const t = target(content);
    if (t.text) return {html: escape(t.text), cls: "wholecomm-ref"};
    if (role === "doc") return {html: escape((refs.titles || {})[stem(t.target)] || t.target), cls: "wholecomm-ref"};
    if (role === "ref" || role === "numref") return {html: escape((refs.labels || {})[t.target] || t.target), cls: "wholecomm-ref"};
    return {html: escape(t.target), cls: "wholecomm-ref"};
  }

  function scanNotebook(nb) {
    const marker = nb.querySelector("[data-wholecomm-page]");
    if (!marker) return;
    const page = marker.getAttribute("data-wholecomm-page");
    nb.querySelectorAll(".jp-MarkdownOutput code").forEach((code) => {
      const before = code.previousSibling;
      if (!before || before.nodeType !== Node.TEXT_NODE) return;
      const m = before.nodeValue.match(ROLE);
      if (!m) return;
      const out = resolve(m[1], code.textContent, page);
      if (!out) return;
      before.nodeValue = before.nodeValue.slice(0, before.nodeValue.length - m[0].length);
      const span = document.createElement("span");
      span.className = out.cls;
      span.title = `{${m[1]}}\`${code.textContent}\``;
      span.innerHTML = out.html;
      code.replaceWith(span);
    });
    nb.querySelectorAll(".jp-MarkdownOutput p").forEach((p) => {
      if (LABEL.test(p.textContent.trim())) p.hidden = true;
    });
  }

  function scan() {
    state.timer = null;
    document.querySelectorAll(".jp-Notebook").forEach(scanNotebook);
  }

  state.schedule = () => { if (!state.timer) state.timer = setTimeout(scan, 50); };
  state.register = (page, key, html) => {
    (state.pages[page] = state.pages[page] || {})[key] = html;
    state.schedule();
  };
  state.registerAll = (page, values) => {
    Object.assign(state.pages[page] = state.pages[page] || {}, values);
    state.schedule();
  };
  state.setRefs = (page, refs) => {
    state.refs = refs.refs || state.refs;
    for (const [other, values] of Object.entries(refs.recorded || {})) {
      state.pages[other] = Object.assign({}, values, state.pages[other] || {});
    }
    state.schedule();
  };
  if (!state.observer) {
    state.observer = new MutationObserver(() => state.schedule());
    state.observer.observe(document.body, {childList: true, subtree: true});
  }
})();
