"""Conexión Personal's pages. Views read the form, call the banking core with
primitives, and put its refusals in the customer's words next to the field;
no rule of the bank is decided here."""
from __future__ import annotations

import re

from flask import (
    Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request,
    url_for,
)

from banking_core import errors
from web import messages
from web.csrf import CSRFError
from web.errors import error_response
from web.login_limits import login_limits
from web.payment_form import PaymentForm, carried_operation, posted_operation
from web_fallback import receipt_pdf
from web_fallback.session import current_principal, log_in, log_out, login_required

bp = Blueprint("conexion", __name__, url_prefix="/conexion", template_folder="templates",
               static_folder="static", static_url_path="/static")
FOLIO = re.compile(r"[0-9]{10}")  # fullmatch: "$" would let a trailing newline in


def _bank():
    return current_app.extensions["bank"]


@bp.after_request
def no_store(response):
    # Balances and receipts must not be kept by a shared computer's browser cache,
    # nor shown again by the back button after logging out.
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response  # the security headers are the app's (web/headers.py)


@bp.errorhandler(CSRFError)
def form_expired(exc):
    """A form posted without its session's token: refused, nothing done. If
    the session is over (a log-out, a block, inactivity), back to the log-in
    saying so; with a live session it is a forged or stale form: 400."""
    if current_principal() is not None:
        return error_response(exc)
    flash("Su sesión terminó. Ingrese de nuevo.", "info")
    return redirect(url_for(".login"), 303)


# ---- log-in ---------------------------------------------------------------
@bp.get("/")
def index():
    return redirect(url_for(".home" if current_principal() else ".login"))


@bp.route("/entrar", methods=["GET", "POST"])
def login():
    wanted = request.args.get("next", "")
    if not wanted.startswith("/conexion/") or wanted.startswith("//"):
        wanted = ""  # only our own pages: no open redirect
    if request.method == "GET":
        return render_template("conexion/login.html", access_key="", error=None, next=wanted)
    access_key = request.form.get("clave", "").strip()[:40]
    # Per access key (also keys that exist nowhere); per address is Flask-Limiter's.
    attempt = login_limits().credential(_bank(), "access_key", access_key)
    login_limits().check(attempt)
    try:
        principal = _bank().authenticate(method="access_key", identifier=access_key,
                                         nip=request.form.get("contrasena", "")[:40])
    except (errors.InvalidCredentials, errors.MalformedCredential, errors.CredentialBlocked):
        login_limits().failed(attempt)
        error = messages.login_failed(_bank().policy.max_failed_attempts)
        return render_template("conexion/login.html", access_key=access_key,
                               error=error, next=wanted), 401
    log_in(principal)
    return redirect(wanted or url_for(".home"))


@bp.post("/salir")
def logout():
    log_out()
    flash("Su sesión terminó. Gracias por usar Conexión Personal.", "info")
    return redirect(url_for(".login"))


# ---- main menu and services -------------------------------------------------
@bp.get("/inicio")
@login_required
def home():
    return render_template("conexion/home.html", accounts=_bank().list_accounts(g.principal))


@bp.get("/servicios/buscar")
@login_required
def search():
    number = request.args.get("numero", "").strip()[:20]
    service, error = None, None
    if number:
        try:
            service = _bank().find_service(number)
        except (errors.UnknownService, errors.ServiceInactive) as exc:
            error = messages.message(exc)
    elif "numero" in request.args:
        error = "Escriba el número del servicio."
    return render_template("conexion/search.html", number=number, service=service,
                           error=error)


def _service_or_404(service_key: str):
    try:
        return _bank().find_service(service_key)
    except (errors.UnknownService, errors.ServiceInactive):
        abort(404)


def _form_page(form: PaymentForm, status: int = 200):
    accounts = _bank().list_accounts(g.principal)
    return render_template("conexion/pay.html", form=form, accounts=accounts,
                           operation=carried_operation(request.form)), status


@bp.route("/servicios/<service_key>/pagar", methods=["GET", "POST"])
@login_required
def pay(service_key):
    service = _service_or_404(service_key)
    if request.method == "GET":
        return _form_page(PaymentForm.blank(service))
    form = PaymentForm.from_request(service, request.form)
    if request.form.get("accion") == "corregir":
        return _form_page(form)  # back from the review, with what was typed
    form.validate(_bank(), g.principal)
    if not form.valid:
        return _form_page(form, 422)
    return render_template("conexion/review.html", form=form,
                           operation=carried_operation(request.form))


@bp.post("/servicios/<service_key>/ejecutar")
@login_required
def execute(service_key):
    service = _service_or_404(service_key)
    form = PaymentForm.from_request(service, request.form)
    operation = posted_operation(request.form)
    if operation is None:
        abort(400, "operación inválida")
    if form.parse():
        try:
            receipt = _bank().post_payment(
                g.principal, channel="web", account_id=form.selected_account_id,
                service_key=service.service_key, references=form.references,
                amount_centavos=form.amount_centavos,
                idempotency_key=f"web:{g.principal.customer_id}:{operation}")
        except errors.DomainError as exc:
            form.refuse(exc)
        else:
            if not receipt.replayed:
                flash("Su pago fue realizado con éxito.", "success")
            return redirect(url_for(".receipt", folio=receipt.folio), 303)
    # Refused: the form again with the reason next to its field, never a second
    # attempt behind the customer's back.
    return _form_page(form, 422)


# ---- receipts and history -------------------------------------------------
def _receipt_or_404(folio: str):
    if not FOLIO.fullmatch(folio):
        abort(404)
    try:
        return _bank().get_receipt(g.principal, folio)
    except errors.UnknownPayment:
        abort(404)


@bp.get("/pagos/<folio>")
@login_required
def receipt(folio):
    found = _receipt_or_404(folio)
    return render_template("conexion/receipt.html", receipt=found,
                           rows=receipt_pdf.receipt_rows(found))


@bp.get("/pagos/<folio>.pdf")
@login_required
def receipt_pdf_download(folio):
    pdf = receipt_pdf.render(_receipt_or_404(folio), customer_name=g.principal.customer_name)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="comprobante-{folio}.pdf"',
        "Cache-Control": "no-store"})


@bp.get("/pagos")
@login_required
def history():
    return render_template("conexion/history.html",
                           payments=_bank().list_payments(g.principal))
