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
