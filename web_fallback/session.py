"""Who is logged in to Conexión Personal, kept in Flask's signed session cookie.

The cookie itself lasts at most 8 hours (Flask checks its signed
timestamp); inactivity is checked here, so the customer can be told why they
must log in again. The cookie carries the principal the core gave at log-in (customer and the
accounts this log-in may touch), signed with SECRET_KEY so it cannot be edited,
and the time of the last request: past WEB_SESSION_IDLE_MINUTES of inactivity
the session is over. Nothing secret is in it: no access key, no NIP.
"""
from __future__ import annotations

import functools
import time

from flask import current_app, flash, g, redirect, request, session, url_for

from banking_core.views import Principal


def now() -> float:
    return time.time()


def log_in(principal: Principal) -> None:
    session.clear()  # a fresh session (and CSRF token) at every log-in
    session.permanent = True
    session["principal"] = {
        "customer_id": principal.customer_id, "customer_name": principal.customer_name,
        "method": principal.method, "account_ids": sorted(principal.account_ids),
        "credential_id": principal.credential_id,
    }
    session["seen"] = int(now())


def log_out() -> None:
    session.clear()


def current_principal() -> Principal | None:
    data = session.get("principal")
    if not data:
        return None
    idle = current_app.extensions["settings"].web_session_idle_minutes * 60
    if now() - session.get("seen", 0) > idle:
        session.clear()
        session["expired"] = True
        return None
    session["seen"] = int(now())
    return Principal(customer_id=data["customer_id"], customer_name=data["customer_name"],
                     method=data["method"], account_ids=frozenset(data["account_ids"]),
                     credential_id=data.get("credential_id"))


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        principal = current_principal()
        if principal is None:
            if session.pop("expired", False):
                flash("Su sesión terminó por inactividad. Ingrese de nuevo.", "info")
            wanted = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("conexion.login", next=wanted))
        g.principal = principal
        return view(*args, **kwargs)

    return wrapped
