"""The desk's pages. Like the customer's web page, views only read forms, call
the core, and put its refusals in words; the core decides who may do what."""
from __future__ import annotations

import functools

import structlog
from flask import (
    Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request,
    session, url_for,
)
from banking_core import errors
from banking_core.agent_calls import DISPOSITIONS
from banking_core.domiciliations import today as domiciliations_today
from banking_core.sessions import agent_principal
from telephony.call_control import CallControlUnavailable, CallGone
from web import messages
from web import sessions as web_sessions
from web.login_limits import login_limits
from web.messages import CALLER_AT, METHODS, REASONS
from web.domiciliation_form import DomiciliationForm
from web.payment_form import PaymentForm, carried_operation, posted_operation

bp = Blueprint("desk", __name__, url_prefix="/escritorio", template_folder="templates")
log = structlog.get_logger("agent_desk")


def _bank():
    return current_app.extensions["bank"]


def _calls():
    """Twilio's REST API (telephony.call_control), set up with the IVR."""
    return current_app.extensions["call_control"]


def _url(path: str) -> str:
    return current_app.extensions["settings"].public_base_url + path


def agent_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        # The session store already ended an idle, old or revoked session;
        # a deactivated agent is refused here at the next request.
        agent_id = session.get("agent_id")
        agent = _bank().get_agent(agent_id) if agent_id else None
        if agent is None:
            if request.path.endswith(".json"):
                return jsonify(error="session_expired"), 401
            return redirect(url_for(".login"))
        g.agent = agent
        return view(*args, **kwargs)

    return wrapped


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response  # the security headers are the app's (web/headers.py)


# ---- log-in ---------------------------------------------------------------
@bp.route("/entrar", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("desk/login.html", username="", error=None)
    username = request.form.get("usuario", "").strip()[:40]
    # Per username, existing or not: "too many tries" must not single out real
    # agents (per address is Flask-Limiter's). A locked agent hears what a wrong
    # password hears, for the same reason.
    attempt = login_limits().agent(username)
    login_limits().check(attempt)
    try:
        agent = _bank().authenticate_agent(username, request.form.get("contrasena", "")[:200])
    except errors.InvalidCredentials:
        login_limits().failed(attempt)
        return render_template("desk/login.html", username=username,
                               error=messages.AGENT_LOGIN_FAILED), 401
    web_sessions.log_in(agent_principal(agent.id))
    session["agent_id"] = agent.id
    return redirect(url_for(".index"))


@bp.post("/salir")
def logout():
    web_sessions.log_out()
    return redirect(url_for(".login"))


# ---- the queue --------------------------------------------------------------
def _row(h) -> dict:
    return {"id": h.id, "status": h.status, "reason": REASONS.get(h.reason, h.reason),
            "caller": h.caller or "número oculto", "customer": h.customer_name or "sin identificar",
            "waiting_since": h.created_at.isoformat(), "agent": h.agent_name,
            "mine": h.agent_id == g.agent.id,
            "callback_url": url_for(".take_callback", handoff_id=h.id)
            if h.status == "callback" else None,
            "caller_at": CALLER_AT.get(h.caller_at, h.caller_at),
            "url": url_for(".call", handoff_id=h.id) if h.agent_id == g.agent.id else None}


def _queue() -> dict:
    calls = _bank().list_handoffs(("waiting", "taken", "callback"), agent=g.agent)
    return {"waiting": [_row(h) for h in calls if h.status == "waiting"],
            "in_progress": [_row(h) for h in calls if h.status == "taken"],
            "callbacks": [_row(h) for h in calls if h.status == "callback"]}


@bp.get("/")
@agent_required
def index():
    return render_template("desk/index.html", queue=_queue())


@bp.get("/llamadas.json")
@agent_required
def calls_json():
    """Polled by the desk page every few seconds: it updates by itself."""
    return jsonify(_queue())


@bp.post("/tomar")
@agent_required
def take():
    try:
        handoff = _bank().take_next_handoff(g.agent)
    except errors.NoCallWaiting:
        flash("No hay llamadas en espera.", "info")
        return redirect(url_for(".index"))
    return redirect(url_for(".call", handoff_id=handoff.id))


@bp.post("/devolver/<int:handoff_id>")
@agent_required
def take_callback(handoff_id):
    """A caller asked to be called back: the agent takes it and phones them."""
    try:
        _bank().take_callback(g.agent, handoff_id)
    except errors.HandoffUnavailable:
        flash("Otro ejecutivo ya tomó esa llamada.", "info")
        return redirect(url_for(".index"))
    return redirect(url_for(".call", handoff_id=handoff_id))


# ---- one call -----------------------------------------------------------------
def _handoff(handoff_id: int):
    try:
        return _bank().get_handoff(g.agent, handoff_id)
    except errors.HandoffUnavailable:
        abort(404)


def _hold_agent(handoff) -> None:
    """The agent waits on hold, with music, while the caller keys the NIP; the
    caller's return to the conference lets the agent back in (ivr/agent_leg.py).
    Best effort: without it the agent only hears silence for that minute."""
    if not (handoff.conference_sid and handoff.agent_call_sid):
        return
    try:
        _calls().hold(handoff.conference_sid, handoff.agent_call_sid, on_hold=True,
                      music_url=current_app.extensions["settings"].hold_music_url)
        _bank().agent_held(handoff.id, True)
    except (CallGone, CallControlUnavailable) as exc:
        log.warning("agent_not_held", handoff=handoff.id, error=str(exc))


def _call_page(handoff, form: PaymentForm | None = None, status: int = 200, *,
               service_error: str | None = None, **extra):
    bank = _bank()
    accounts = []
    if handoff.verified and handoff.status == "taken" and handoff.agent_id == g.agent.id:
        principal = bank.handoff_principal(g.agent, handoff.id)
        accounts = bank.list_accounts(principal)
        # The caller's domiciliations, and the form to domicile a service.
        extra.setdefault("domiciliations", bank.list_domiciliations(principal))
        extra.update(_domiciliation_form(bank, extra.get("dom_form")))
        if form is None:
            key = request.args.get("servicio") or handoff.keyed.get("service_key")
            if key:
                try:
                    form = PaymentForm.blank(bank.find_service(str(key)))
                except (errors.UnknownService, errors.ServiceInactive) as exc:
                    service_error = messages.message(exc)
    return render_template(
        "desk/call.html", handoff=handoff, form=form, accounts=accounts,
        service_error=service_error, reasons=REASONS, methods=METHODS,
        dispositions=DISPOSITIONS, caller_at=CALLER_AT,
        operation=carried_operation(request.form),
        audit=bank.agent_audit(handoff_id=handoff.id), **extra), status


@bp.get("/llamadas/<int:handoff_id>")
@agent_required
def call(handoff_id):
    return _call_page(_handoff(handoff_id))


@bp.get("/llamadas/<int:handoff_id>.json")
@agent_required
def call_json(handoff_id):
    """Polled by the call page: where the caller is, as it changes."""
    handoff = _handoff(handoff_id)
    return jsonify(status=handoff.status, caller_at=handoff.caller_at,
                   caller_at_text=CALLER_AT.get(handoff.caller_at, handoff.caller_at),
                   verified=handoff.verified, agent_on_line=handoff.agent_call_sid is not None)


@bp.post("/llamadas/<int:handoff_id>/liberar")
@agent_required
def release(handoff_id):
    """Give back a call whose caller is still in line, for another agent."""
    try:
        _bank().release_handoff(g.agent, handoff_id)
    except (errors.HandoffUnavailable, errors.CallerNotOnLine) as exc:
        return _call_page(_handoff(handoff_id), status=422, wrap_error=messages.message(exc))
    flash("La llamada regresó a la fila para otro ejecutivo.", "info")
    return redirect(url_for(".index"))


@bp.post("/llamadas/<int:handoff_id>/verificar")
@agent_required
def verify(handoff_id):
    """Verify a caller who never logged in: the agent keys the card or account
    number the caller reads out; the caller keys the NIP on the phone."""
    bank = _bank()
    handoff = _handoff(handoff_id)
    try:
        bank.request_caller_verification(
            g.agent, handoff_id, method=request.form.get("metodo", ""),
            identifier=request.form.get("numero", "")[:40])
    except (errors.MalformedCredential, errors.HandoffUnavailable, errors.CallerGone,
            errors.CallerNotOnLine) as exc:
        return _call_page(handoff, status=422, verify_error=(
            "Escriba los 16 dígitos de la tarjeta o los 10 de la cuenta."
            if isinstance(exc, errors.MalformedCredential) else messages.message(exc)))
    # Marked first: Twilio reports the caller leaving the conference as soon
    # as the redirect lands, and that report must not read as a goodbye.
    bank.caller_sent_to_verify(handoff_id)
    try:
        _calls().redirect(handoff.call_sid, _url(f"/ivr/queue/verify?h={handoff_id}"))
    except (CallGone, CallControlUnavailable) as exc:
        log.warning("call_control_failed", handoff=handoff_id, error=str(exc))
        if isinstance(exc, CallGone):
            bank.caller_gone(handoff.call_sid)
            problem = "El cliente colgó antes de marcar su NIP."
        else:
            bank.caller_to_agent(handoff_id, handoff.call_sid)  # still with the agent
            problem = "No fue posible enviar la llamada al IVR para que el cliente marque su NIP."
        return _call_page(_handoff(handoff_id), status=503, verify_error=problem)
    _hold_agent(handoff)
    flash("El cliente está marcando su NIP en el IVR; regresa con usted al terminar.", "info")
    return redirect(url_for(".call", handoff_id=handoff_id))


@bp.post("/llamadas/<int:handoff_id>/pagar")
@agent_required
def pay(handoff_id):
    bank = _bank()
    handoff = _handoff(handoff_id)
    try:
        service = bank.find_service(request.form.get("servicio", ""))
    except (errors.UnknownService, errors.ServiceInactive) as exc:
        return _call_page(handoff, status=422, service_error=messages.message(exc))
    form = PaymentForm.from_request(service, request.form)
    operation = posted_operation(request.form)
    if operation is None:
        abort(400, "operación inválida")
    receipt = None
    try:
        # The core checks everything (and replays a double submit's receipt).
        if form.parse():
            receipt = bank.agent_pay(
                g.agent, handoff_id, account_id=form.selected_account_id,
                service_key=service.service_key, references=form.references,
                amount_centavos=form.amount_centavos, operation=operation)
    except errors.DomainError as exc:
        form.refuse(exc)
    if receipt is None:
        return _call_page(handoff, form, 422)
    flash(f"Pago realizado. Folio {receipt.folio}: léalo al cliente.", "success")
    return redirect(url_for(".call", handoff_id=handoff_id, folio=receipt.folio))


# ---- domiciliations for the caller ------------------------------------------------
def _domiciliation_form(bank, dom_form: DomiciliationForm | None) -> dict:
    """The call page's domiciliation form: the one being corrected, or a blank
    one for the service the agent looked up (?domiciliar=KEY)."""
    if dom_form is not None:
        return {"dom_form": dom_form}
    key = request.args.get("domiciliar", "").strip()[:20]
    if not key:
        return {"dom_form": None}
    try:
        return {"dom_form": DomiciliationForm.blank(bank.find_service(key),
                                                    domiciliations_today(bank))}
    except (errors.UnknownService, errors.ServiceInactive) as exc:
        return {"dom_form": None, "dom_service_error": messages.message(exc)}


@bp.post("/llamadas/<int:handoff_id>/domiciliar")
@agent_required
def domicile(handoff_id):
    """Domicile a service for the verified caller, who says what to domicile."""
    bank = _bank()
    handoff = _handoff(handoff_id)
    try:
        service = bank.find_service(request.form.get("servicio", ""))
    except (errors.UnknownService, errors.ServiceInactive) as exc:
        return _call_page(handoff, status=422, dom_service_error=messages.message(exc))
    form = DomiciliationForm.from_request(service, request.form)
    operation = posted_operation(request.form)
    if operation is None:
        abort(400, "operación inválida")
    asked = form.to_request()
    if asked is not None:
        try:
            created = bank.agent_create_domiciliation(g.agent, handoff_id, asked,
                                                      operation=operation)
        except errors.CallerNotVerified as exc:  # said where the agent verifies
            return _call_page(handoff, status=422, verify_error=messages.message(exc))
        except errors.DomainError as exc:
            form.refuse(exc)
        else:
            flash(f"Domiciliación registrada: primer cargo el {created.next_date:%d/%m/%Y}. "
                  "Confírmelo al cliente.", "success")
            return redirect(url_for(".call", handoff_id=handoff_id), 303)
    return _call_page(handoff, status=422, dom_form=form)


@bp.post("/llamadas/<int:handoff_id>/domiciliaciones/<int:domiciliation_id>/cancelar")
@agent_required
def cancel_domiciliation(handoff_id, domiciliation_id):
    handoff = _handoff(handoff_id)
    try:
        _bank().agent_cancel_domiciliation(g.agent, handoff_id, domiciliation_id)
    except (errors.UnknownDomiciliation, errors.DomiciliationClosed,
            errors.HandoffUnavailable, errors.CallerNotVerified) as exc:
        return _call_page(handoff, status=422, dom_error=messages.message(exc))
    flash("Domiciliación cancelada. Confírmelo al cliente.", "success")
    return redirect(url_for(".call", handoff_id=handoff_id), 303)


@bp.post("/llamadas/<int:handoff_id>/cerrar")
@agent_required
def wrap_up(handoff_id):
    handoff = _handoff(handoff_id)
    try:
        closed = _bank().wrap_up_handoff(g.agent, handoff_id,
                                         disposition=request.form.get("disposicion", ""),
                                         notes=request.form.get("notas", ""))
    except (errors.InvalidRequest, errors.HandoffUnavailable):
        return _call_page(handoff, status=422, wrap_error="Elija cómo terminó la llamada.")
    except errors.CallerStillWaiting as exc:
        return _call_page(handoff, status=422, wrap_error=messages.message(exc))
    if closed.caller_at == "agent" and closed.conference_sid:
        # Still talking: the caller hears goodbye as the conference ends.
        try:
            _calls().end_conference(closed.conference_sid)
        except (CallGone, CallControlUnavailable) as exc:
            log.warning("conference_not_ended", handoff=handoff_id, error=str(exc))
    flash("Llamada cerrada.", "info")
    return redirect(url_for(".index"))


@bp.get("/auditoria")
@agent_required
def audit():
    if g.agent.role != "supervisor":
        abort(403)
    return render_template("desk/audit.html", entries=_bank().agent_audit(limit=500))
