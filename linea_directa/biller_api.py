"""The billers' API: a biller asks whether a payment to it has posted, by
folio, by reference or by its own order id, the moment it wants to know (a
shop's analyst confirming a customer's transfer while they chat).

    GET /api/billers/v1/payments/<folio>
    GET /api/billers/v1/payments?reference=<reference 1>[&date=YYYY-MM-DD]
    GET /api/billers/v1/payments?order_id=<the biller's order id>

Every request is signed with one of the biller's keys
(banking_core/biller_requests.py); a biller sees only its own payments: an
other biller's folio is answered as an unknown one, 404. Refusals are JSON
(401 names nothing of why); requests are rate-limited per address, refused
ones more tightly. No signature or secret is ever logged.
docs/biller-notifications.md says it all with examples.
"""
from __future__ import annotations

import datetime as dt
import time
from urllib.parse import quote

import structlog
from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from banking_core import biller_payments, biller_requests
from web.login_limits import retry_after

bp = Blueprint("biller_api", __name__, url_prefix="/api/billers/v1")
log = structlog.get_logger("biller_api")
MAX_QUERY_VALUE = 40


def init_app(app) -> None:
    """After web.init_app: its limiter counts these requests; its error pages
    are for people, so this blueprint answers its own, in JSON."""
    settings = app.extensions["settings"]
    limiter = app.extensions["login_limits"].limiter
    limiter.limit(settings.biller_api_limit)(bp)
    limiter.limit(settings.login_limit_per_source,
                  deduct_when=lambda response: response.status_code == 401)(bp)
    app.register_blueprint(bp)
    app.extensions["web"].add_machine_blueprint(bp)


def _bank():
    return current_app.extensions["bank"]


def _target() -> str:
    """The request's path and query as the biller sent and signed them."""
    path = quote(request.script_root + request.path, safe="/:@!$&'()*+,;=-._~")
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path


@bp.before_request
def authenticate():
    verdict = biller_requests.authenticate(
        _bank(), key_id=request.headers.get("X-Signature-Key-Id"),
        timestamp=request.headers.get("X-Signature-Timestamp"),
        signature=request.headers.get("X-Signature"), method=request.method,
        target=_target(), now=time.time())
    if not verdict.ok:
        key_id = (request.headers.get("X-Signature-Key-Id") or "")[:40]
        log.warning("biller_api_refused", reason=verdict.reason, key_id=key_id,
                    path=request.path)
        return _error(401, "unauthorized", "the request's signature was not accepted")
    g.biller_key = verdict.key
    return None


@bp.get("/payments/<folio>")
def payment_by_folio(folio: str):
    key = g.biller_key
    with _bank().unit_of_work() as uow:
        payment = biller_payments.by_folio(uow.session, key.biller_id, folio[:MAX_QUERY_VALUE])
    if payment is None:
        return _error(404, "not_found", "no payment to this biller has that folio")
    return jsonify(biller_payments.as_json(payment, _bank().policy.timezone))


@bp.get("/payments")
def payments_query():
    key = g.biller_key
    reference = request.args.get("reference", "").strip()
    order_id = request.args.get("order_id", "").strip()
    day = request.args.get("date", "").strip()
    if bool(reference) == bool(order_id) or len(reference) > MAX_QUERY_VALUE \
            or len(order_id) > 100:
        return _error(400, "bad_request", "give exactly one of reference or order_id")
    bank = _bank()
    between = None
    if day:
        try:
            between = biller_payments.day_bounds(bank.policy.timezone,
                                                 dt.date.fromisoformat(day))
        except ValueError:
            return _error(400, "bad_request", "date is YYYY-MM-DD")
    with bank.unit_of_work() as uow:
        if order_id:
            found = biller_payments.by_order(uow.session, key.biller_id, key.service_key,
                                             order_id)
            found = [found] if found is not None and _on(found, between) else []
        else:
            found = biller_payments.by_reference(uow.session, key.biller_id, reference,
                                                 between=between)
    return jsonify(payments=[biller_payments.as_json(p, bank.policy.timezone) for p in found])


def _on(payment, between) -> bool:
    return between is None or between[0] <= payment.posted_at < between[1]


def _error(status: int, code: str, message: str):
    return jsonify(error=code, message=message), status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    """Every refusal this blueprint gives (429 from the limiter, 405…) in JSON."""
    response, status = _error(exc.code or 500, exc.name.lower().replace(" ", "_"),
                              exc.description or exc.name)
    headers = {name: value for name, value in exc.get_headers()
               if name.lower() != "content-type"}
    if status == 429:
        headers["Retry-After"] = str(retry_after(exc))
    return response, status, headers
