"""Who is logged in to Conexión Personal.

The session lives in the bank's session store (web/sessions.py):
the browser holds only its token. It keeps the principal the core gave at
log-in (customer and the accounts this log-in may touch); nothing secret: no
access key, no NIP. Inactivity (WEB_SESSION_IDLE_MINUTES) and the 8-hour
lifetime end it there, and so do a log-out or the credential's block anywhere.
"""
from __future__ import annotations

import functools

from flask import flash, g, redirect, request, session, url_for

from banking_core.sessions import customer_principal
from banking_core.views import Principal
from web import sessions as web_sessions


def log_in(principal: Principal) -> None:
    web_sessions.log_in(customer_principal(principal))
    session["principal"] = {
        "customer_id": principal.customer_id, "customer_name": principal.customer_name,
        "method": principal.method, "account_ids": sorted(principal.account_ids),
        "credential_id": principal.credential_id,
    }


def log_out() -> None:
    web_sessions.log_out()


def current_principal() -> Principal | None:
    data = session.get("principal")
    if not data:
        return None
    return Principal(customer_id=data["customer_id"], customer_name=data["customer_name"],
                     method=data["method"], account_ids=frozenset(data["account_ids"]),
                     credential_id=data.get("credential_id"))


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        principal = current_principal()
        if principal is None:
            ended = getattr(session, "ended", None)
            if ended == "idle":
                flash("Su sesión terminó por inactividad. Ingrese de nuevo.", "info")
            elif ended:
                flash("Su sesión terminó. Ingrese de nuevo.", "info")
            wanted = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("conexion.login", next=wanted))
        g.principal = principal
        return view(*args, **kwargs)

    return wrapped
