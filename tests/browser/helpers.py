"""Building blocks of the browser tests: the live server, the watch that fails a test when a page
reaches for the internet or logs an error, axe-core checks, keyboard helpers and log-in.

Fixtures that use these live in conftest.py; tests import the assertions from here:

    from tests.browser.helpers import assert_focus_visible, assert_no_axe_violations, tab_to
"""
from __future__ import annotations

import base64
import os
import re
import struct
import threading
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.serving import WSGIRequestHandler, make_server

# --- the browser --------------------------------------------------------------------------------
# Debian's Chromium: `playwright install` downloads browsers, and this machine has no internet.
CHROMIUM = os.environ.get("REHAB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
MISSING_CHROMIUM = (f"Chromium not found at {CHROMIUM}: the browser tests drive Debian's Chromium "
                    "(Playwright's own browser download needs the internet). Install it with "
                    "`bash tools/system-deps.sh` (or `make system-deps`).")
# Milliseconds a Playwright action or navigation may take before the test fails (its default
# is 30 s; a page of this app that takes more than a few seconds is a bug worth seeing fast).
TIMEOUT_MS = 10_000


# Browser tests of behaviour that does not depend on the database (keyboard, forms, the plumbing
# itself) run on SQLite only; the page-per-page checks run on both dialects. Usage: @sqlite_only
sqlite_only = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


# --- the live server ----------------------------------------------------------------------------
class _InFlight:
    """Counts requests the server is handling, so a test's end can wait for them to finish
    before the `app` fixture empties the tables under them."""

    def __init__(self) -> None:
        self._n = 0
        self._cond = threading.Condition()

    def __enter__(self):
        with self._cond:
            self._n += 1

    def __exit__(self, *_exc):
        with self._cond:
            self._n -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._n == 0, timeout)


class _Handler(WSGIRequestHandler):
    """No access log (errors and tracebacks are still logged); counts requests in flight."""

    def log_request(self, code="-", size="-") -> None:
        pass

    def run_wsgi(self) -> None:
        with self.server.in_flight:
            super().run_wsgi()


class LiveServer:
    """The app served over real HTTP on 127.0.0.1, on a free port, in a background thread
    (werkzeug's threaded server: one thread per connection, so the browser's parallel requests
    are served in parallel). `url` is the origin, e.g. http://127.0.0.1:41234."""

    def __init__(self, app, host: str = "127.0.0.1") -> None:
        self.app = app
        self._server = make_server(host, 0, app, threaded=True, request_handler=_Handler)
        self._server.in_flight = _InFlight()
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name=f"live-server-{self.port}", daemon=True)
        self._thread.start()

    def url_for(self, path: str) -> str:
        """An absolute URL of a path on this server: live_server.url_for('/facilities')."""
        return self.url + (path if path.startswith("/") else "/" + path)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        return self._server.in_flight.wait_idle(timeout)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"<LiveServer {self.url}>"


# --- the watch: internet, console errors, CSP violations ----------------------------------------
_CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  const how = e.disposition === 'report' ? ' (report-only)' : '';
  window.__rehabCspViolation(
    `${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} on ${e.documentURI}${how}`);
});
"""


@dataclass
class PageWatch:
    """Attached to a browser context: aborts every request that is not to `origin` and records
    it, and records console errors, uncaught page errors and Content-Security-Policy violations.
    The browser conftest fails a test whose watch is not clean at the end; a test that expects
    a console error says so first with `allow_console(regex)`."""

    origin: str
    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    allowed_console: list[re.Pattern] = field(default_factory=list)
    context: object = None

    def attach(self, context) -> None:
        self.context = context
        context.route("**/*", self._route)
        context.on("console", self._on_console)
        context.on("weberror", lambda err: self.page_errors.append(str(err.error)))
        context.expose_function("__rehabCspViolation", self._on_csp_violation)
        context.add_init_script(_CSP_LISTENER)

    def _route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin:
            route.continue_()
        else:
            self.external_requests.append(f"{route.request.method} {url}")
            route.abort("blockedbyclient")

    def _on_console(self, msg) -> None:
        if msg.type != "error":
            return
        text = msg.text
        if any(p.search(text) for p in self.allowed_console):
            return
        if text.startswith("Failed to load resource: net::ERR_BLOCKED_BY_CLIENT"):
            return  # our own abort of an external request, already in external_requests
        where = msg.location.get("url") if msg.location else ""
        self.console_errors.append(f"{text} ({where})" if where else text)

    def _on_csp_violation(self, description: str) -> None:
        self.csp_violations.append(description)

    def allow_console(self, pattern: str) -> None:
        """Expect console errors matching this regex (e.g. the 404 of a missing page)."""
        self.allowed_console.append(re.compile(pattern))

    def clear(self) -> None:
        for found in (self.external_requests, self.console_errors, self.page_errors,
                      self.csp_violations):
            found.clear()

    def problems(self) -> list[str]:
        if self.context is not None:
            try:
                self.context.cookies()  # a round trip: delivers the events still on the way
            except Exception:  # a closed context has nothing more to deliver
                pass
        lines = []
        for title, found in (("requests to other origins (blocked)", self.external_requests),
                             ("console errors", self.console_errors),
                             ("uncaught page errors", self.page_errors),
                             ("Content-Security-Policy violations", self.csp_violations)):
            if found:
                lines.append(f"{title}:")
                lines.extend(f"  - {item}" for item in found)
        return lines

    def assert_clean(self) -> None:
        __tracebackhide__ = True
        problems = self.problems()
        if problems:
            raise AssertionError("the browser saw problems on the pages of this test:\n"
                                 + "\n".join(problems))


# --- screen sizes -------------------------------------------------------------------------------
PHONE = {"width": 390, "height": 844}  # the small screen every page must fit (house rule)
DESK = {"width": 1366, "height": 900}


def fits(page) -> bool:
    """The page needs no sideways scrolling (wide tables scroll inside their own region)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# --- axe-core -----------------------------------------------------------------------------------
# The default: WCAG 2.1 levels A and AA. axe's best-practice rules come on top with
# tags=WITH_BEST_PRACTICE; the pages do not pass them all yet (test_shell.py, best practice).
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
WITH_BEST_PRACTICE = (*WCAG_TAGS, "best-practice")
_axe = Axe()


def axe_violations(page, *, tags=WCAG_TAGS, disable_rules=()) -> list[dict]:
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    if disable_rules:
        options["rules"] = {rule: {"enabled": False} for rule in disable_rules}
    return _axe.run(page, options=options).response["violations"]


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            lines.append(f"    at {target}: {summary}")
    return "\n".join(lines)


def assert_no_axe_violations(page, context_label: str, *, tags=WCAG_TAGS,
                             disable_rules=()) -> None:
    """Run axe-core on the page as it is now (WCAG 2.1 A/AA rules by default) and fail listing
    each violation: rule id, impact, help and the offending nodes. `context_label` names the
    page or state in the message."""
    __tracebackhide__ = True
    violations = axe_violations(page, tags=tags, disable_rules=disable_rules)
    assert not violations, (f"{context_label} ({page.url}): {len(violations)} axe violation(s)\n"
                            + format_violations(violations))


# --- keyboard -----------------------------------------------------------------------------------
_DESCRIBE_FOCUS = """(selector) => {
  const el = document.activeElement;
  if (!el || el === document.body) return ['<body>', false];
  let d = el.tagName.toLowerCase();
  if (el.id) d += '#' + el.id;
  if (el.classList.length) d += '.' + [...el.classList].join('.');
  const href = el.getAttribute('href');
  if (href) d += `[href="${href}"]`;
  const text = (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
  if (text) d += ` "${text}"`;
  return [d, el.matches(selector)];
}"""


def focused(page, selector: str = "*") -> tuple[str, bool]:
    """(a description of document.activeElement, whether it matches the selector)."""
    description, matches = page.evaluate(_DESCRIBE_FOCUS, selector)
    return description, matches


def tab_to(page, selector: str, max_tabs: int = 50) -> list[str]:
    """Press Tab until the focused element matches the selector; return the elements focused on
    the way (the last one matches). Fails listing them when max_tabs presses do not get there."""
    __tracebackhide__ = True
    visited = []
    for _ in range(max_tabs):
        page.keyboard.press("Tab")
        description, matches = focused(page, selector)
        visited.append(description)
        if matches:
            return visited
    raise AssertionError(f"{max_tabs} Tab presses did not reach {selector!r} on {page.url}; "
                         "focused on the way:\n" + "\n".join(f"  {i}. {d}" for i, d in
                                                             enumerate(visited, 1)))


def choose_file_by_keyboard(page, selector: str, path, attempts: int = 3) -> None:
    """Tab to the file input, open its chooser with Space (the keyboard only) and answer it with
    ``path``. Chromium now and then lets that key press open no chooser (seen in full runs on a
    loaded machine, never alone): the press is tried again on the input, still by keyboard."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    __tracebackhide__ = True
    tab_to(page, selector, max_tabs=120)
    for attempt in range(attempts):
        if not focused(page, selector)[1]:
            tab_to(page, selector, max_tabs=120)
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press("Space")  # the system's file dialog, answered by the test
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            continue
        chooser.value.set_files(str(path))
        return


_FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const cs = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return {outlineStyle: cs.outlineStyle, outlineWidth: cs.outlineWidth,
          outlineColor: cs.outlineColor, boxShadow: cs.boxShadow,
          rect: [r.left, r.top, r.width, r.height], viewport: [innerWidth, innerHeight]};
}"""
_TRANSPARENT = ("transparent", "rgba(0, 0, 0, 0)")


def assert_focus_visible(page) -> None:
    """The focused element shows where focus is: a non-transparent outline of some width, or a
    box-shadow (computed style), and it is on screen (a skip link off to the left is not)."""
    __tracebackhide__ = True
    description, _ = focused(page)
    style = page.evaluate(_FOCUS_STYLE)
    assert style is not None, f"nothing is focused on {page.url}"
    outline = (style["outlineStyle"] != "none" and float(style["outlineWidth"][:-2] or 0) > 0
               and style["outlineColor"] not in _TRANSPARENT)
    shadow = style["boxShadow"] not in ("", "none")
    assert outline or shadow, f"no visible focus indicator on {description}: {style}"
    left, top, width, height = style["rect"]
    vw, vh = style["viewport"]
    assert width > 0 and height > 0 and left + width > 0 and top + height > 0 \
        and left < vw and top < vh, f"the focused element {description} is off screen: {style}"


# --- logging in ---------------------------------------------------------------------------------
def login(page, live_server, username: str, password: str) -> None:
    """Log in through the form at /login as a person would: type the user name and password into
    #username and #password and press Enter. Fails, with the page's message, if the browser is
    still on /login afterwards."""
    page.goto(live_server.url_for("/login"))
    if urlsplit(page.url).path.rstrip("/") != "/login":
        raise AssertionError(f"/login sent the browser on to {page.url}: already logged in? "
                             "(page.context.clear_cookies() logs out)")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("#password").press("Enter")
    if urlsplit(page.url).path.rstrip("/") == "/login":
        alerts = page.locator("[role=alert], .error, .errors").all_inner_texts()
        raise AssertionError(f"login as {username!r} failed: still on {page.url}; "
                             f"messages: {alerts or '(none)'}")


# --- screenshots --------------------------------------------------------------------------------
# Chromium writes true-colour PNGs: a long page of tables is ~200 bytes per pixel row. The same
# picture with a palette of its 256 commonest colours (the rest, anti-aliasing mostly, take the
# nearest) is a third of that, as legible. The browser decodes and quantises it on a canvas.
_QUANTISE = """async (dataUrl) => {
  const img = new Image();
  img.src = dataUrl;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width; canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, img.width, img.height).data;
  const counts = new Map();
  for (let i = 0; i < data.length; i += 4) {
    const k = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const palette = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 256).map(e => e[0]);
  const index = new Map(palette.map((k, i) => [k, i]));
  const out = new Uint8Array(img.width * img.height);
  for (let i = 0, p = 0; i < data.length; i += 4, p++) {
    const k = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    let j = index.get(k);
    if (j === undefined) {
      let best = Infinity;
      for (let c = 0; c < palette.length; c++) {
        const q = palette[c];
        const dr = (q >> 16) - data[i], dg = ((q >> 8) & 255) - data[i + 1];
        const db = (q & 255) - data[i + 2];
        const d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
        if (d < best) { best = d; j = c; }
      }
      index.set(k, j);
    }
    out[p] = j;
  }
  let binary = '';
  for (let i = 0; i < out.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, out.subarray(i, i + 0x8000));
  }
  return {width: img.width, height: img.height, palette, pixels: btoa(binary)};
}"""


def indexed_png(blank_page, png: bytes) -> bytes:
    """The screenshot as an 8-bit palette PNG (see _QUANTISE), written here with zlib."""
    got = blank_page.evaluate(_QUANTISE, "data:image/png;base64," + base64.b64encode(png)
                              .decode())
    blank_page.close()
    width, height = got["width"], got["height"]
    pixels = base64.b64decode(got["pixels"])
    rows = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    palette = b"".join(struct.pack(">I", c)[1:] for c in got["palette"])

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
            + chunk(b"PLTE", palette) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))
