"""The agents' desk: calls transferred from the IVR arrive with their context,
and agents finish the payment through the same banking core. Live calls are
steered through `app.extensions["call_control"]` (Twilio's REST API), which
the IVR's runtime sets up. A thin channel on the shared web layer (web/)."""
from __future__ import annotations

import web
from agent_desk import phone, views  # noqa: F401 - phone adds its routes to views.bp
from web.channels import BrowserChannel, WayBack
from web.login_limits import limit_per_address
from web.sessions import Channel

# The open desk polls every 3 s, so the idle limit only ends a desk left
# closed or asleep; a shift's length ends any session.
DESK_IDLE_SECONDS = 30 * 60
DESK_SESSION_LIFETIME = 12 * 60 * 60


def init_app(app) -> None:
    web.add_channel(app, BrowserChannel(
        blueprint=views.bp.name,
        session=Channel(name="desk", path="/escritorio", cookie="escritorio_sesion",
                        idle=DESK_IDLE_SECONDS, lifetime=DESK_SESSION_LIFETIME),
        layout="desk/base.html",
        home=WayBack("desk.index", "Volver a la lista de llamadas"),
        login=WayBack("desk.login", "Ir a la página de entrada")))
    app.register_blueprint(views.bp)
    limit_per_address(app, "desk.login")
