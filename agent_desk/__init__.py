"""The agents' desk: calls transferred from the IVR arrive with their context,
and agents finish the payment through the same banking core. Live calls are
steered through `app.extensions["call_control"]` (Twilio's REST API), which
the IVR's runtime sets up."""
from __future__ import annotations


def init_app(app) -> None:
    from agent_desk import phone, views  # noqa: F401 - phone adds its routes to views.bp

    app.register_blueprint(views.bp)
