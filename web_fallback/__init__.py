"""Conexión Personal: the bank's web page where customers pay the same services
as on the phone line, through the same banking core. A thin channel on the
shared web layer (web/): its own pages, menu and receipt; the sessions, CSRF,
headers, limits, form and words are the layer's."""
from __future__ import annotations

import web
from web.channels import BrowserChannel, WayBack
from web.login_limits import limit_per_address
from web.sessions import Channel
from web_fallback import checkout, domiciliations, views  # noqa: F401 - domiciliations adds its routes to views.bp

# However active, a customer logs in again after this long (from the log-in).
SESSION_LIFETIME = 8 * 60 * 60


def init_app(app) -> None:
    settings = app.extensions["settings"]
    web.add_channel(app, BrowserChannel(
        blueprint=views.bp.name,
        session=Channel(name="web", path="/conexion", cookie="conexion_sesion",
                        idle=settings.web_session_idle_minutes * 60,
                        lifetime=SESSION_LIFETIME),
        layout="conexion/base.html",
        home=WayBack("conexion.home", "Ir a Mis cuentas"),
        login=WayBack("conexion.login", "Ir a la página de acceso")))
    # checkout.py's pages are on the same blueprint (imported above, so its
    # routes are there before it is registered).
    assert checkout.bp is views.bp
    app.register_blueprint(views.bp)
    limit_per_address(app, "conexion.login")
