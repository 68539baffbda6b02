"""Driving the app in a real headless Chromium (Playwright, with the system's
/usr/bin/chromium: no browser is ever downloaded), and serving it on a real
port for the browser to reach. The `chromium` and `page` fixtures are in
tests/conftest.py."""
from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

from werkzeug.serving import make_server

from tests import services

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR",
                                Path(__file__).resolve().parents[1] / "build" / "test-artifacts"))


@contextlib.contextmanager
def launched_chromium():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        services.unavailable("Playwright", "the test extras", exc)
    if not shutil.which(CHROMIUM):
        services.unavailable("Chromium", CHROMIUM, FileNotFoundError(CHROMIUM))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


# Every page of a browser context reports its Content-Security-Policy
# violations to the test, across navigations and pop-up windows: the event
# (what was blocked, by which directive) and Chromium's console line for it.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolation(
    `${e.violatedDirective} blocked ${e.blockedURI || "inline"} on ${location.pathname}` +
    (e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : "")));
"""


def watch_policy_violations(context) -> list[str]:
    """The list every Content-Security-Policy violation in `context` is added to."""
    violations: list[str] = []
    context.expose_function("__cspViolation", lambda text: violations.append(text))
    context.add_init_script(_REPORT_VIOLATIONS)
    context.on("console", lambda message: violations.append(f"console: {message.text}")
               if "Content Security Policy" in message.text else None)
    return violations


@contextlib.contextmanager
def served(app):
    """`app` on a real HTTP port of 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["bank"].engine.dispose()
