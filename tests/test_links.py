"""Internal links and anchors of the built book resolve (checked offline)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_links  # noqa: E402


def test_internal_links_and_anchors_resolve(built_html):
    broken, _ = check_links.scan(built_html)
    assert broken == [], "\n".join(broken[:50])


def test_checker_detects_a_broken_link_and_anchor(tmp_path):
    (tmp_path / "a.html").write_text(
        '<a href="b.html#there">x</a><a href="missing.html">y</a>'
        '<a href="b.html#nowhere">z</a><a href="https://example.org/">e</a>'
    )
    (tmp_path / "b.html").write_text('<h1 id="there">B</h1>')
    broken, external = check_links.scan(tmp_path)
    assert (
        len(broken) == 2 and any("missing.html" in b for b in broken) and any("#nowhere" in b for b in broken)
    )
    assert set(external) == {"https://example.org/"}


def test_external_check_reports_only_the_links_that_fail(tmp_path):
    """The weekly link check's checker, against a server on this machine."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            code = 200 if self.path == "/ok" else 405 if self.path == "/get-only" else 404
            self.send_response(code)
            self.end_headers()

        def do_GET(self):
            self.send_response(200 if self.path in ("/ok", "/get-only") else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        problems = check_links.check_external([f"{base}/ok", f"{base}/get-only", f"{base}/gone"], timeout=5)
    finally:
        server.shutdown()
    assert problems == {f"{base}/gone": "HTTP 404"}
