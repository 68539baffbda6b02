"""The front door: what is served here (the health checks are ops.py's)."""
from __future__ import annotations

from flask import Blueprint, current_app
from markupsafe import escape

bp = Blueprint("site", __name__)


def demo_logins(app):
    """The demo log-ins to print, or None: only in development, and only while
    the bank holds them (a developer's machine with `make run`'s demo bank)."""
    if app.extensions["settings"].environment != "development":
        return None
    return app.extensions["bank"].demo_logins()


def service_urls(base_url: str, demo=None) -> dict[str, str]:
    """Where each part of the system answers, with the demo log-ins if given;
    `ivr serve` prints the same list."""
    web = (f" (web, clave de acceso {demo.access_key}, contraseña {demo.nip})" if demo
           else " (web)")
    desk = f" ({demo.agent} / {demo.agent_password})" if demo else ""
    return {
        f"Conexión Personal{web}": f"{base_url}/conexion/",
        f"Escritorio de ejecutivos{desk}": f"{base_url}/escritorio/",
        "Teléfono del escritorio (Twilio Voice SDK)": f"{base_url}/escritorio/telefono",
        "Línea Directa IVR (Twilio voice webhook, POST)": f"{base_url}/ivr/voice",
        "Twilio status callback (POST)": f"{base_url}/ivr/status",
        "Twilio TwiML App voice URL (agents' phones, POST)": f"{base_url}/ivr/agent/voice",
        "Estado del servicio (health check)": f"{base_url}/healthz",
        "Listo para atender (readiness)": f"{base_url}/readyz",
        "Métricas (Prometheus; solo desde este equipo o con METRICS_TOKEN)":
            f"{base_url}/metrics",
    }


@bp.get("/")
def index():
    settings = current_app.extensions["settings"]
    items = "".join(
        f'<li>{escape(name)}: <a href="{escape(url)}">{escape(url)}</a></li>'
        for name, url in service_urls(settings.public_base_url,
                                      demo_logins(current_app)).items()
    )
    return (
        "<!doctype html><html lang='es-MX'><meta charset='utf-8'>"
        "<title>Línea Directa</title><h1>Línea Directa</h1>"
        f"<ul>{items}</ul></html>"
    )

