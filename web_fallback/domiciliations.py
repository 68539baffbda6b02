"""Conexión Personal's domiciliations: the customer's list (pause, resume,
cancel) and the form that domiciles a service. Routes on the channel's
blueprint; like the payment pages, the core decides everything."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from banking_core import errors
from banking_core.domiciliations import today
from web import messages
from web.domiciliation_form import DomiciliationForm
from web.payment_form import carried_operation, posted_operation
from web_fallback.session import login_required
from web_fallback.views import bp

ACTIONS = {"pausar": ("pause_domiciliation", "Su domiciliación quedó en pausa."),
           "reanudar": ("resume_domiciliation", "Su domiciliación está activa de nuevo."),
           "cancelar": ("cancel_domiciliation", "Su domiciliación quedó cancelada.")}


def _bank():
    return current_app.extensions["bank"]


@bp.get("/domiciliaciones")
@login_required
def domiciliations():
    number = request.args.get("servicio", "").strip()[:20]
    error = None
    if number:
        try:
            service = _bank().find_service(number)
        except (errors.UnknownService, errors.ServiceInactive) as exc:
            error = messages.message(exc)
        else:
            return redirect(url_for(".domicile", service_key=service.service_key))
    elif "servicio" in request.args:
        error = "Escriba el número del servicio."
    return render_template("conexion/domiciliations.html", number=number, error=error,
                           domiciliations=_bank().list_domiciliations(g.principal)), \
        422 if error else 200


def _form_page(form: DomiciliationForm, status: int = 200):
    return render_template("conexion/domicile.html", form=form,
                           accounts=_bank().list_accounts(g.principal),
                           operation=carried_operation(request.form)), status


@bp.route("/servicios/<service_key>/domiciliar", methods=["GET", "POST"])
@login_required
def domicile(service_key):
    bank = _bank()
    try:
        service = bank.find_service(service_key)
    except (errors.UnknownService, errors.ServiceInactive):
        abort(404)
    if request.method == "GET":
        return _form_page(DomiciliationForm.blank(service, today(bank)))
    form = DomiciliationForm.from_request(service, request.form)
    operation = posted_operation(request.form)
    if operation is None:
        abort(400, "operación inválida")
    asked = form.to_request()
    if asked is not None:
        try:
            created = bank.create_domiciliation(
                g.principal, asked,
                creation_key=f"web:{g.principal.customer_id}:{operation}")
        except errors.DomainError as exc:
            form.refuse(exc)
        else:
            flash(f"Su domiciliación quedó registrada. El primer cargo será el "
                  f"{created.next_date:%d/%m/%Y}.", "success")
            return redirect(url_for(".domiciliations"), 303)
    return _form_page(form, 422)


@bp.post("/domiciliaciones/<int:domiciliation_id>/<action>")
@login_required
def change_domiciliation(domiciliation_id, action):
    if action not in ACTIONS:
        abort(404)
    method, done = ACTIONS[action]
    try:
        getattr(_bank(), method)(g.principal, domiciliation_id)
    except errors.UnknownDomiciliation:
        abort(404)
    except errors.DomiciliationClosed as exc:
        flash(messages.message(exc), "error")
    else:
        flash(done, "success")
    return redirect(url_for(".domiciliations"), 303)
