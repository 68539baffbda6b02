"""Checkout pages: a biller's site sends its customer here with a signed
payment request (docs/billers.md); the customer logs in, sees the request as
the biller sent it (nothing editable), picks the withdrawal account and pays,
then goes back to the biller with the signed result.

The entry (`POST /conexion/cobro`) is the one form here posted from another
site, so it carries no CSRF token: the biller's signature is what vouches for
it. It only verifies and keeps the request, then sends the browser to the
order's own page, keyed by an unguessable token; everything the customer does
from there (log in, EJECUTAR, cancel) goes through the usual CSRF-protected
forms of their session."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from banking_core import errors
from banking_core.checkout import return_link
from banking_core.digits import int_or_none
from web import messages
from web.csrf import csrf
from web.payment_form import ACCOUNT_ID_DIGITS
from web_fallback import receipt_pdf
from web_fallback.session import login_required
from web_fallback.views import bp

SIGNATURE_TEXT = ("No pudimos comprobar que esta solicitud de pago venga del comercio: "
                  "la firma no es válida.")
# reason -> (HTTP status, what the customer reads)
REFUSALS = {
    "malformed": (400, "La solicitud de pago que envió el comercio está incompleta o mal "
                       "formada."),
    "unknown_key": (403, SIGNATURE_TEXT),
    "bad_signature": (403, SIGNATURE_TEXT),
    "wrong_service": (403, "La solicitud de pago no está firmada por el comercio de ese "
                           "servicio."),
    "expired": (410, "La solicitud de pago ya venció. Regrese al sitio del comercio y genere "
                     "una nueva."),
    "expiry_too_far": (400, "La solicitud de pago pide una vigencia mayor a la permitida "
                            "(24 horas)."),
    "return_url": (403, "La dirección a la que usted regresaría no pertenece al comercio "
                        "registrado. Por su seguridad, no continuamos."),
    "email": (422, "El correo electrónico para la confirmación no es válido."),
    "service_unavailable": (422, "Ese servicio no está disponible por el momento."),
    "amount": (422, "El importe no está dentro de lo que acepta este servicio."),
    "order_conflict": (409, "Esta orden ya se había enviado al banco con otros datos. Regrese "
                            "al sitio del comercio y genere una nueva orden."),
}

HEADINGS = {"paid": "Comprobante de pago", "cancelled": "Pago cancelado",
            "expired": "La solicitud de pago venció"}


def _bank():
    return current_app.extensions["bank"]


def _refusal_text(exc: errors.CheckoutRefused) -> tuple[int, str]:
    if exc.reason == "references":
        label = exc.details.get("label") or f"Referencia {exc.details.get('position')}"
        reason = messages.REFERENCE_REASONS.get(exc.details.get("why"), "no es válida")
        return 422, f"La referencia que envió el comercio no es válida: {label}: {reason}."
    return REFUSALS.get(exc.reason, (400, REFUSALS["malformed"][1]))


@bp.post("/cobro")
@csrf.exempt
def checkout_entry():
    fields = {}
    for name, values in request.form.lists():
        if len(values) != 1:
            values = [None]  # a field sent twice is malformed: refused below
        fields[name] = values[0]
    try:
        order = _bank().open_checkout(fields)
    except errors.CheckoutRefused as exc:
        status, text = _refusal_text(exc)
        return render_template("conexion/checkout_refused.html", message=text), status
    return redirect(url_for(".checkout_page", token=order.token), 303)


def _order_or_404(token: str):
    try:
        return _bank().checkout_order(g.principal, token)
    except errors.CheckoutRefused:
        abort(404)


def _pending_page(order, error: str | None = None, status: int = 200):
    accounts = _bank().list_accounts(g.principal)
    references = list(zip(order.reference_labels, order.references))
    expires = order.expires_at.astimezone(_bank().policy.timezone)
    return render_template("conexion/checkout.html", order=order, accounts=accounts,
                           references=references, expires=expires, error=error,
                           selected=request.form.get("cuenta", "")), status


def _result_page(order):
    result = _bank().checkout_result(order)
    link = return_link(order.return_url, result) if result else None
    receipt, rows = None, []
    if order.status == "paid":
        try:
            receipt = _bank().get_receipt(g.principal, order.folio)
            rows = receipt_pdf.receipt_rows(receipt)
        except errors.UnknownPayment:
            rows = [("Folio", order.folio)]  # paid from an account this log-in cannot see
    return render_template("conexion/checkout_result.html", order=order, link=link,
                           receipt=receipt, rows=rows, heading=HEADINGS[order.status])


@bp.get("/cobro/<token>")
@login_required
def checkout_page(token):
    order = _order_or_404(token)
    return _result_page(order) if order.final else _pending_page(order)


@bp.post("/cobro/<token>/ejecutar")
@login_required
def checkout_execute(token):
    order = _order_or_404(token)
    account_id = int_or_none(request.form.get("cuenta", "").strip(), max_length=ACCOUNT_ID_DIGITS)
    if order.final:
        return redirect(url_for(".checkout_page", token=token), 303)
    if account_id is None:
        return _pending_page(order, messages.SIMPLE["unknown_account"], 422)
    try:
        order = _bank().pay_checkout(g.principal, token, account_id=account_id)
    except errors.CheckoutRefused:
        abort(404)
    except errors.OverDailyLimit as exc:
        return _pending_page(order, messages.amount_message(exc, None), 422)
    except errors.DomainError as exc:
        # Funds, an account not this log-in's, a service switched off since:
        # said on the page; nothing was posted, and the order is still payable.
        return _pending_page(order, messages.message(exc), 422)
    if order.status == "paid":
        flash("Su pago fue realizado con éxito.", "success")
    return redirect(url_for(".checkout_page", token=token), 303)


@bp.post("/cobro/<token>/cancelar")
@login_required
def checkout_cancel(token):
    _order_or_404(token)
    _bank().cancel_checkout(g.principal, token)
    return redirect(url_for(".checkout_page", token=token), 303)
