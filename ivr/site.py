"""The front door: what is served here, and a health check for load balancers."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("site", __name__)


def service_urls(base_url: str) -> dict[str, str]:
    """Where each part of the system answers; `ivr serve` prints the same list."""
    return {
        "Conexión Personal (web, clave de acceso 10000001, contraseña 1357)":
            f"{base_url}/conexion/",
        "Escritorio de ejecutivos (agente1 / agente-demo-1)": f"{base_url}/escritorio/",
        "Teléfono del escritorio (Twilio Voice SDK)": f"{base_url}/escritorio/telefono",
        "Línea Directa IVR (Twilio voice webhook, POST)": f"{base_url}/ivr/voice",
        "Twilio status callback (POST)": f"{base_url}/ivr/status",
        "Twilio TwiML App voice URL (agents' phones, POST)": f"{base_url}/ivr/agent/voice",
        "Estado del servicio (health check)": f"{base_url}/healthz",
    }


@bp.get("/")
def index():
    settings = current_app.extensions["settings"]
    items = "".join(
        f'<li>{name}: <a href="{url}">{url}</a></li>'
        for name, url in service_urls(settings.public_base_url).items()
    )
    return (
        "<!doctype html><html lang='es-MX'><meta charset='utf-8'>"
        "<title>Línea Directa</title><h1>Línea Directa</h1>"
        f"<ul>{items}</ul></html>"
    )


@bp.get("/healthz")
def healthz():
    bank = current_app.extensions["bank"]
    try:
        with bank.unit_of_work() as uow:
            uow.session.execute(text("SELECT 1"))
    except Exception as exc:  # report, don't crash: this is what the check is for
        return jsonify(status="error", database=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")
