/* Whole-COMM: reading and writing the questionnaire workbook (.xlsx) in the browser.
 *
 * An .xlsx file is a ZIP archive of XML parts. Reading unpacks the parts (stored or deflated;
 * deflated ones through the browser's DecompressionStream) and returns the text of every
 * cell of every sheet, by sheet name and cell reference ("B3"); shared strings, inline
 * strings and rich-text runs are resolved. Writing takes a workbook as a map of parts, lets
 * the caller change cells of named sheets, and packs it again (deflated through
 * CompressionStream where the browser has it, otherwise stored). No library, no request.
 * window.wholecommXlsx = { read(arrayBuffer) -> Promise<{names, sheets, parts}>,
 *                          setCells(parts, sheetName, {ref: value}) , write(parts) -> Promise<Uint8Array> } */
(function () {
  "use strict";
  var MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
  var REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
  var MAX_UNPACKED = 40000000;

  var CRC_TABLE = (function () {
    var t = new Uint32Array(256);
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c >>> 0;
    }
    return t;
  })();

  function crc32(bytes) {
    var c = 0xFFFFFFFF;
    for (var i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xFF] ^ (c >>> 8);
    return (c ^ 0xFFFFFFFF) >>> 0;
  }

  function through(bytes, stream) {
    return new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer()
      .then(function (b) { return new Uint8Array(b); });
  }

  function fail(msg) { return Promise.reject(new Error(msg)); }

  // ------------------------------------------------------------------ ZIP
  function unzip(buffer) {
    var u8 = new Uint8Array(buffer);
    var dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    if (u8.length < 22 || dv.getUint32(0, true) !== 0x04034b50) return fail("it is not an Excel workbook (.xlsx)");
    var eocd = -1;
    for (var p = u8.length - 22; p >= Math.max(0, u8.length - 65557); p--) {
      if (dv.getUint32(p, true) === 0x06054b50) { eocd = p; break; }
    }
    if (eocd < 0) return fail("the workbook is damaged (no ZIP directory)");
    var count = dv.getUint16(eocd + 10, true), offset = dv.getUint32(eocd + 16, true);
    var names = new TextDecoder("utf-8");
    var jobs = [], total = 0;
    for (var e = 0; e < count; e++) {
      if (offset + 46 > u8.length || dv.getUint32(offset, true) !== 0x02014b50) return fail("the workbook is damaged (bad ZIP directory)");
      var method = dv.getUint16(offset + 10, true);
      var csize = dv.getUint32(offset + 20, true), usize = dv.getUint32(offset + 24, true);
      var nlen = dv.getUint16(offset + 28, true), xlen = dv.getUint16(offset + 30, true), clen = dv.getUint16(offset + 32, true);
      var local = dv.getUint32(offset + 42, true);
      var name = names.decode(u8.subarray(offset + 46, offset + 46 + nlen));
      offset += 46 + nlen + xlen + clen;
      if (csize === 0xFFFFFFFF || usize === 0xFFFFFFFF) return fail("the workbook is too large");
      total += usize;
      if (total > MAX_UNPACKED) return fail("the workbook unpacks to more than " + MAX_UNPACKED + " bytes: is this the right file?");
      if (local + 30 > u8.length || dv.getUint32(local, true) !== 0x04034b50) return fail("the workbook is damaged (bad ZIP entry " + name + ")");
      var start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
      var raw = u8.subarray(start, start + csize);
      if (method === 0) jobs.push(Promise.resolve([name, raw]));
      else if (method === 8) {
        if (typeof DecompressionStream === "undefined") return fail("this browser cannot unpack workbooks; use a current browser or the YAML file");
        jobs.push(through(raw, new DecompressionStream("deflate-raw")).then(function (n) { return function (b) { return [n, b]; }; }(name)));
      } else return fail("the workbook uses an unsupported compression (method " + method + ")");
    }
    return Promise.all(jobs).then(function (pairs) {
      var parts = {};
      pairs.forEach(function (pr) { parts[pr[0]] = pr[1]; });
      return parts;
    });
  }

  function zip(parts) {
    var enc = new TextEncoder(), names = Object.keys(parts);
    var canDeflate = typeof CompressionStream !== "undefined";
    return Promise.all(names.map(function (n) {
      var data = parts[n];
      if (!canDeflate) return Promise.resolve({ name: n, data: data, packed: data, method: 0 });
      return through(data, new CompressionStream("deflate-raw")).then(function (packed) {
        return { name: n, data: data, packed: packed, method: 8 };
      });
    })).then(function (entries) {
      var chunks = [], central = [], offset = 0;
      entries.forEach(function (en) {
        var nb = enc.encode(en.name), crc = crc32(en.data);
        var h = new DataView(new ArrayBuffer(30));
        h.setUint32(0, 0x04034b50, true); h.setUint16(4, 20, true); h.setUint16(6, 0x0800, true);
        h.setUint16(8, en.method, true); h.setUint16(10, 0, true); h.setUint16(12, 0x21, true);
        h.setUint32(14, crc, true); h.setUint32(18, en.packed.length, true); h.setUint32(22, en.data.length, true);
        h.setUint16(26, nb.length, true); h.setUint16(28, 0, true);
        var c = new DataView(new ArrayBuffer(46));
        c.setUint32(0, 0x02014b50, true); c.setUint16(4, 20, true); c.setUint16(6, 20, true); c.setUint16(8, 0x0800, true);
        c.setUint16(10, en.method, true); c.setUint16(12, 0, true); c.setUint16(14, 0x21, true);
        c.setUint32(16, crc, true); c.setUint32(20, en.packed.length, true); c.setUint32(24, en.data.length, true);
        c.setUint16(28, nb.length, true); c.setUint32(42, offset, true);
        chunks.push(new Uint8Array(h.buffer), nb, en.packed);
        central.push(new Uint8Array(c.buffer), nb);
        offset += 30 + nb.length + en.packed.length;
      });
      var cdSize = central.reduce(function (s, b) { return s + b.length; }, 0);
      var end = new DataView(new ArrayBuffer(22));
      end.setUint32(0, 0x06054b50, true); end.setUint16(8, entries.length, true); end.setUint16(10, entries.length, true);
      end.setUint32(12, cdSize, true); end.setUint32(16, offset, true);
      var all = chunks.concat(central, [new Uint8Array(end.buffer)]);
      var out = new Uint8Array(offset + cdSize + 22), at = 0;
      all.forEach(function (b) { out.set(b, at); at += b.length; });
      return out;
    });
  }

  // ------------------------------------------------------------------ sheets
  function parseXml(bytes, what) {
    var doc = new DOMParser().parseFromString(new TextDecoder("utf-8").decode(bytes), "application/xml");
    if (doc.getElementsByTagName("parsererror").length) throw new Error("the workbook is damaged (" + what + " is not XML)");
    return doc;
  }

  function descendants(node, local) {
    return Array.prototype.slice.call(node.getElementsByTagNameNS("*", local));
  }

  function runText(node) {
    // the text of a string item: every <t>, except phonetic runs (<rPh>)
    return descendants(node, "t").filter(function (t) {
      return !(t.parentNode && t.parentNode.localName === "rPh");
    }).map(function (t) { return t.textContent; }).join("");
  }

  function colNumber(letters) {
    var n = 0;
    for (var i = 0; i < letters.length; i++) n = n * 26 + (letters.charCodeAt(i) - 64);
    return n;
  }

  function colLetters(n) {
    var s = "";
    while (n > 0) { var m = (n - 1) % 26; s = String.fromCharCode(65 + m) + s; n = Math.floor((n - 1) / 26); }
    return s;
  }

  function sheetPaths(parts) {
    if (!parts["xl/workbook.xml"]) throw new Error("it is not an Excel workbook (no xl/workbook.xml)");
    var wb = parseXml(parts["xl/workbook.xml"], "the workbook part");
    var rels = parts["xl/_rels/workbook.xml.rels"] ? parseXml(parts["xl/_rels/workbook.xml.rels"], "the workbook relations") : null;
    var target = {};
    if (rels) descendants(rels, "Relationship").forEach(function (r) { target[r.getAttribute("Id")] = r.getAttribute("Target"); });
    var out = [];
    descendants(wb, "sheet").forEach(function (s) {
      var id = s.getAttributeNS(REL_NS, "id") || s.getAttribute("r:id");
      var t = target[id];
      if (!t) return;
      var path = t.charAt(0) === "/" ? t.slice(1) : "xl/" + t.replace(/^\.\//, "");
      out.push({ name: s.getAttribute("name"), path: path });
    });
    return out;
  }

  function readCells(doc, shared) {
    var cells = {}, rowNo = 0;
    descendants(doc, "row").forEach(function (row) {
      rowNo = row.getAttribute("r") ? Number(row.getAttribute("r")) : rowNo + 1;
      var col = 0;
      descendants(row, "c").forEach(function (c) {
        var ref = c.getAttribute("r");
        if (ref) { var m = ref.match(/^([A-Z]+)(\d+)$/); col = colNumber(m[1]); } else { col += 1; ref = colLetters(col) + rowNo; }
        var type = c.getAttribute("t") || "n", v = descendants(c, "v")[0], value = null;
        if (type === "s") value = v ? shared[Number(v.textContent)] : null;
        else if (type === "inlineStr") { var is = descendants(c, "is")[0]; value = is ? runText(is) : null; }
        else if (v) value = v.textContent;
        if (value !== null && value !== undefined) cells[ref] = String(value);
      });
    });
    return cells;
  }

  function read(buffer) {
    return unzip(buffer).then(function (parts) {
      var shared = [];
      if (parts["xl/sharedStrings.xml"]) {
        shared = descendants(parseXml(parts["xl/sharedStrings.xml"], "the shared strings"), "si").map(runText);
      }
      var sheets = {}, names = [];
      sheetPaths(parts).forEach(function (s) {
        names.push(s.name);
        if (parts[s.path]) sheets[s.name] = readCells(parseXml(parts[s.path], "sheet " + s.name), shared);
      });
      return { names: names, sheets: sheets, parts: parts };
    });
  }

  function setCells(parts, sheetName, values) {
    var s = sheetPaths(parts).filter(function (x) { return x.name === sheetName; })[0];
    if (!s) throw new Error("the workbook has no sheet " + sheetName);
    var doc = parseXml(parts[s.path], "sheet " + sheetName);
    var byRef = {};
    descendants(doc, "c").forEach(function (c) { byRef[c.getAttribute("r")] = c; });
    Object.keys(values).forEach(function (ref) {
      var c = byRef[ref];
      if (!c) throw new Error("the template has no cell " + sheetName + "!" + ref);
      while (c.firstChild) c.removeChild(c.firstChild);
      var value = values[ref];
      if (value === null || value === undefined || value === "") { c.removeAttribute("t"); return; }
      if (typeof value === "number") {
        c.removeAttribute("t");
        var v = doc.createElementNS(MAIN_NS, "v");
        v.textContent = String(value);
        c.appendChild(v);
        return;
      }
      c.setAttribute("t", "inlineStr");
      var is = doc.createElementNS(MAIN_NS, "is"), t = doc.createElementNS(MAIN_NS, "t");
      t.setAttributeNS("http://www.w3.org/XML/1998/namespace", "xml:space", "preserve");
      t.textContent = String(value);
      is.appendChild(t);
      c.appendChild(is);
    });
    parts[s.path] = new TextEncoder().encode(new XMLSerializer().serializeToString(doc));
  }

  function fromBase64(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function toBase64(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }

  window.wholecommXlsx = { read: read, setCells: setCells, write: zip, unzip: unzip, crc32: crc32,
    fromBase64: fromBase64, toBase64: toBase64, colNumber: colNumber, colLetters: colLetters };
})();
