"""An example biller's site, for the demo (`make run` serves it on port 5001):
the university's cart (service 25, seed 001) that sends the student to pay at
Conexión Personal with a signed request and verifies the signed result that
comes back, its payment history, and the endpoint where the bank announces
payments (webhooks, for services 25 and 1411: seed 002's analyst watching for
payments). It is a separate app that shares no code with the bank: only what
docs/billers.md tells a biller's developer."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from example_biller import views
from example_biller.store import Store

DEMO_KEYS = {
    "25": ("25-demo", "demo-universidad-25-secreto-compartido-01"),
    "1411": ("1411-demo", "demo-runtime-wifi-1411-secreto-compartido"),
}


def settings_from_env(env=os.environ) -> dict:
    """Each service's key id and secret (the bank's demo ones unless given:
    BILLER_DEMO_KEY_ID_25, BILLER_DEMO_SECRET_25, …), where the bank is, and
    where this site keeps its data."""
    keys = {service: (env.get(f"BILLER_DEMO_KEY_ID_{service}", key_id),
                      env.get(f"BILLER_DEMO_SECRET_{service}", secret))
            for service, (key_id, secret) in DEMO_KEYS.items()}
    return {"BANK_URL": env.get("BILLER_DEMO_BANK_URL", "http://127.0.0.1:5000"),
            "KEYS": keys,
            "DATA": env.get("BILLER_DEMO_DATA", "instance/example_biller.sqlite3"),
            "ORDER_MINUTES": int(env.get("BILLER_DEMO_ORDER_MINUTES", "30"))}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(settings_from_env())
    app.config.update(config or {})
    app.config["BANK_URL"] = app.config["BANK_URL"].rstrip("/")
    app.extensions["biller_store"] = Store(Path(app.config["DATA"]))
    app.add_template_filter(lambda centavos: f"${centavos // 100:,}.{centavos % 100:02d}", "pesos")
    app.register_blueprint(views.bp)
    return app
