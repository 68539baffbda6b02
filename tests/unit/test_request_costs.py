"""What was cut from every request's cost (bench/README.md) still behaves as
before: Flask's coroutine check remembered, the form limits read from the
config, the turn's log line asked for by level, the fixed prompt texts
rendered once, and the redaction's quick scan."""
import logging

import pytest

from config import logging as app_logging
from config.logging import redact_value
from ivr.prompts import PromptCatalog
from linea_directa.app import LineaDirecta


def test_ensure_sync_is_remembered_but_bounded():
    app = LineaDirecta(__name__)

    def view():
        return "ok"

    assert app.ensure_sync(view) is view
    assert app._synced[view] is view
    app._synced.clear()
    app._MEMO_SIZE = 0  # past the bound: asked each time, nothing kept
    assert app.ensure_sync(view) is view and app._synced == {}


def test_a_coroutine_view_is_still_refused_without_flasks_async_extra():
    app = LineaDirecta(__name__)

    async def view():
        return "ok"

    for _ in range(2):  # Flask's answer each time, never a remembered wrong one
        with pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(view)
    assert view not in app._synced


def test_each_request_carries_the_apps_form_limits():
    app = LineaDirecta(__name__)
    app.config.update(MAX_CONTENT_LENGTH=1000, MAX_FORM_PARTS=7)

    @app.post("/f")
    def form():
        from flask import request
        return {"n": len(request.form), "limit": request.max_content_length,
                "parts": request.max_form_parts}

    client = app.test_client()
    assert client.post("/f", data={"a": "1"}).get_json() == {"n": 1, "limit": 1000, "parts": 7}
    assert client.post("/f", data={"a": "x" * 2000}).status_code == 413
    app.config["MAX_CONTENT_LENGTH"] = 5000  # the config as it is at each request
    assert client.post("/f", data={"a": "x" * 2000}).status_code == 200


def test_the_turn_log_is_asked_for_by_level(monkeypatch):
    monkeypatch.setattr(app_logging, "_level", logging.WARNING)
    assert not app_logging.enabled(logging.INFO) and app_logging.enabled(logging.ERROR)
    monkeypatch.setattr(app_logging, "_level", logging.INFO)
    assert app_logging.enabled(logging.INFO)


@pytest.mark.parametrize("text", [
    "", "Su folio es 1234567", "Su folio es 12345678", "tarjeta 4111111111111111 y 12",
    "CA" + "1234abcd" * 4, "１２３４５６７８", "cuenta 0001234567890 y 00012345678",
])
def test_redaction_with_its_quick_scan_masks_as_before(text):
    full = app_logging._LONG_DIGITS.sub(app_logging._mask_digits, text)
    assert redact_value(text) == full


def test_fixed_prompts_are_rendered_once_and_filled_ones_each_time():
    catalog = PromptCatalog(language="es-MX", voice="Polly.Mia", prompts={
        "menu": ("Para pagos, marque 2.", "Pagos, 2."), "hello": ("Hola, {name}.",)})
    assert catalog.fixed("menu") is None  # not rendered yet
    first = catalog.render("menu", {})
    assert catalog.fixed("menu") is first and catalog.render("menu", {"x": 1}) is first
    assert catalog.render("menu", {}, attempt=2) == "Pagos, 2."
    assert catalog.render("hello", {"name": "Ana"}) == "Hola, Ana."
    assert catalog.render("hello", {"name": "Luis"}) == "Hola, Luis."
    assert catalog.fixed("hello") is None
