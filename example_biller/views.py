"""The university's pages: the cart, the confirmation that sends the student to
the bank, the return page that checks the bank's signed result, the payment
history, and the bank's payment notifications (received and listed)."""
from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for

from example_biller import signatures

bp = Blueprint("biller", __name__)
SERVICE = "25"  # the university's clave de servicio at the bank
STUDENT = {"matricula": "110045134", "name": "Sergio Márquez Mora"}
CART = {  # item -> (concept, centavos)
    "colegiatura": ("Colegiatura de licenciatura, noviembre", 645000),
    "credencial": ("Reposición de credencial", 15000),
}
MATRICULA = re.compile(r"[0-9]{9}", re.ASCII)
WEBHOOK_TOLERANCE = 300  # seconds a notification's timestamp may be off


def _store():
    return current_app.extensions["biller_store"]


def _keys() -> dict[str, str]:
    """key id -> secret, for every service this site holds keys of."""
    return {key_id: secret for key_id, secret in current_app.config["KEYS"].values()}


def _pesos(centavos: int) -> str:
    return f"{centavos // 100}.{centavos % 100:02d}"


def _utc(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/")
def cart():
    return render_template("cart.html", student=STUDENT, cart=CART, error=None)


@bp.post("/pagar")
def confirm():
    """The order, kept here, and the signed request the student's browser will
    post to the bank ("Confirmar")."""
    matricula = request.form.get("matricula", "").strip()
    items = [item for item in request.form.getlist("concepto") if item in CART]
    email = request.form.get("correo", "").strip()
    if not MATRICULA.fullmatch(matricula) or not items or "@" not in email:
        error = "Escribe tu matrícula (9 dígitos), elige al menos un concepto y tu correo."
        return render_template("cart.html", student=STUDENT, cart=CART, error=error), 422
    now = dt.datetime.now(dt.timezone.utc)
    order_id = f"U-{now:%Y%m%d}-{secrets.token_hex(4)}"
    total = sum(CART[item][1] for item in items)
    concept = " + ".join(CART[item][0] for item in items)
    _store().add_order(order_id=order_id, service_key=SERVICE, reference=matricula,
                       concept=concept, amount=_pesos(total), email=email,
                       created_at=_utc(now))
    key_id, secret = current_app.config["KEYS"][SERVICE]
    expires = now + dt.timedelta(minutes=current_app.config["ORDER_MINUTES"])
    fields = {"key_id": key_id, "service_key": SERVICE, "reference1": matricula,
              "amount": _pesos(total), "order_id": order_id, "email": email,
              "return_url": url_for(".returned", _external=True), "expires_at": _utc(expires)}
    fields["signature"] = signatures.sign(secret, fields)
    return render_template("confirm.html", fields=fields, concept=concept, student=STUDENT,
                           action=current_app.config["BANK_URL"] + "/conexion/cobro")


@bp.get("/regreso")
def returned():
    """The bank's signed result: believed only if the signature checks with
    the key it names, and it is about an order we sent, for its amount."""
    fields = {name: request.args.get(name, "") for name in
              ("order_id", "folio", "amount", "status", "paid_at", "key_id", "signature")}
    secret = _keys().get(fields["key_id"])
    order = _store().order(fields["order_id"])
    verified = secret is not None and signatures.verify(secret, fields) and order is not None \
        and order["amount"] == fields["amount"] and fields["status"] in ("pagado", "cancelado")
    if verified:
        _store().record_result(fields["order_id"], status=fields["status"],
                               folio=fields["folio"], paid_at=fields["paid_at"])
    return render_template("returned.html", fields=fields, verified=verified,
                           order=order), 200 if verified else 400


@bp.get("/historial")
def history():
    return render_template("history.html", orders=_store().orders(), student=STUDENT)


@bp.post("/notificaciones/<service_key>")
def notification(service_key):
    """The bank's webhook: signed body, verified before it is read; a
    delivery already received is acknowledged again and not counted twice."""
    keys = current_app.config["KEYS"]
    if service_key not in keys:
        abort(404)
    key_id, secret = keys[service_key]
    timestamp = request.headers.get("X-Signature-Timestamp", "")
    raw = request.get_data()
    if request.headers.get("X-Signature-Key-Id") != key_id or not timestamp.isdigit() \
            or abs(time.time() - int(timestamp)) > WEBHOOK_TOLERANCE \
            or not signatures.verify_body(secret, timestamp, raw,
                                          request.headers.get("X-Signature", "")):
        return jsonify(error="invalid signature"), 401
    try:
        body = json.loads(raw)
        if not isinstance(body, dict) or not body.get("delivery_id"):
            raise ValueError("no delivery_id")
    except ValueError:
        return jsonify(error="invalid body"), 400
    received = _utc(dt.datetime.now(dt.timezone.utc))
    new = _store().add_notification(service_key, body, raw, received)
    return jsonify(received=True, duplicate=not new), 200


@bp.get("/notificaciones")
def notifications():
    return render_template("notifications.html", notifications=_store().notifications())
