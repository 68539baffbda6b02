"""The agents' desk: calls transferred from the IVR arrive with their context,
and agents finish the payment through the same banking core."""
from __future__ import annotations


def init_app(app, *, call_control=None) -> None:
    from agent_desk import call_control as control, views
    from agent_desk import phone  # noqa: F401 - adds the softphone's routes to views.bp

    app.extensions["call_control"] = call_control or control.from_settings(
        app.extensions["settings"])
    app.register_blueprint(views.bp)
