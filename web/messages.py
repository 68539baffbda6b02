"""Codes in words: the core's error codes in the customer's words (Spanish,
usted), the desk's reasons, states and audit log in the bank's, and the words
of the error pages. Every browser channel says things the same way because it
reads them from here; none of them decides anything."""
from __future__ import annotations

from banking_core import errors
from banking_core.agent_calls import DISPOSITIONS
from banking_core.money import format_mxn

REFERENCE_REASONS = {
    "missing": "es obligatoria",
    "too_short": "tiene menos caracteres de los necesarios",
    "too_long": "tiene más caracteres de los permitidos",
    "not_numeric": "debe tener solo números",
    "bad_characters": "tiene caracteres no permitidos",
    "bad_check_digit": "el dígito verificador no coincide",
    "unexpected": "este servicio no la pide",
}

SIMPLE = {
    "unknown_service": "No existe un servicio con ese número.",
    "service_inactive": "Ese servicio no está disponible por el momento.",
    "invalid_amount": "Escriba un importe válido, por ejemplo 349.50.",
    "insufficient_funds": "La cuenta de retiro no tiene saldo suficiente para este pago.",
    "unknown_account": "Elija una de sus cuentas de retiro.",
    "account_not_owned": "Esa cuenta no está disponible para esta sesión.",
    "idempotency_conflict": "Este pago ya se envió con otros datos. Capture el pago de nuevo.",
    "caller_not_verified": "Verifique primero la identidad del cliente.",
    "handoff_unavailable": "Esta llamada ya no está a su cargo.",
    "no_call_waiting": "No hay llamadas en espera.",
    "caller_gone": "El cliente colgó.",
    "caller_not_on_line": "El cliente no está en la línea con usted.",
    "caller_still_waiting": ("El cliente sigue en la fila: conéctese con él o libere la "
                             "llamada para otro ejecutivo."),
    "domiciliation_exists": ("Ese servicio ya está domiciliado con esas referencias. Puede "
                             "consultarlo, pausarlo o cancelarlo en Domiciliaciones."),
    "unknown_domiciliation": "No encontramos esa domiciliación.",
    "domiciliation_closed": "Esa domiciliación ya no está vigente: no se puede cambiar.",
    "invalid_schedule": "Revise el día y las fechas de la domiciliación.",
}

# Why a domiciliation's calendar was refused (errors.InvalidSchedule's reason).
SCHEDULE_REASONS = {
    "not_a_day": "Elija un día del mes, del 1 al 31.",
    "in_the_past": "La fecha de inicio no puede ser anterior a hoy.",
    "before_start": "La fecha de término debe ser igual o posterior a la de inicio.",
    "no_occurrence": ("Entre el inicio y el término no cae ningún cargo: elija otro día "
                      "o un término posterior."),
}
DOMICILIATION_STATUS = {"active": "Activa", "paused": "En pausa", "cancelled": "Cancelada",
                        "finished": "Terminada"}
# A charge's state, and why it was not made (banking_core/domiciliation_runs.py).
CHARGE_STATUS = {"due": "pendiente", "paid": "cobrado", "failed": "no se pudo cobrar",
                 "skipped": "no se cobró", "cancelled": "no se cobró"}
CHARGE_REASONS = {
    "insufficient_funds": "saldo insuficiente",
    "over_daily_limit": "rebasaba el límite diario",
    "service_inactive": "el servicio no recibía pagos",
    "no_bill": "el servicio no envió el importe del mes",
    "over_ceiling": "el recibo rebasaba su tope",
    "bill_paid": "el recibo ya estaba pagado",
    "paused": "domiciliación en pausa",
    "cancelled": "domiciliación cancelada",
}


def charge_summary(last) -> str:
    """The latest charge of a domiciliation in a few words, or "" if none yet."""
    if last is None:
        return ""
    said = f"{last.due_date:%d/%m/%Y}: {CHARGE_STATUS.get(last.status, last.status)}"
    if last.folio:
        said += f", folio {last.folio}"
    if last.status == "due" and last.last_error:
        said += f" (se reintentará: {CHARGE_REASONS.get(last.last_error, last.last_error)})"
    elif last.status != "paid" and last.last_error:
        said += f" ({CHARGE_REASONS.get(last.last_error, 'no fue posible')})"
    return said


def reference_message(exc: errors.InvalidReference) -> str:
    label = exc.details.get("label") or f"Referencia {exc.position}"
    return f"{label}: {REFERENCE_REASONS.get(exc.reason, 'no es válida')}."


def amount_message(exc: errors.DomainError, service) -> str:
    if isinstance(exc, errors.AmountOutOfRange):
        rule = service.amount_rule
        if rule.fixed_centavos:
            return f"Este servicio solo acepta pagos de {format_mxn(rule.fixed_centavos)}."
        return (f"Este servicio acepta pagos de {format_mxn(rule.min_centavos)} "
                f"a {format_mxn(rule.max_centavos)}.")
    if isinstance(exc, errors.OverDailyLimit):
        available = exc.details.get("available")
        left = f" Hoy puede pagar hasta {format_mxn(available)}." if available is not None else ""
        return "El importe rebasa el límite diario de pagos por internet." + left
    return message(exc)


def login_failed(max_attempts: int) -> str:
    """The one answer to a failed log-in: unknown key, wrong password, a key or
    password of the wrong length, a blocked access. Any difference would tell
    someone trying keys which exist — a countdown ("le quedan 2 intentos") only
    a real key can have, "bloqueado" only a real key can be — so it says the
    rule and what to do if blocked instead, the same for everyone."""
    return ("La clave de acceso o la contraseña no coinciden (la clave tiene 8 dígitos y la "
            f"contraseña 4). Por su seguridad, el acceso se bloquea después de {max_attempts} "
            f"{'intento fallido' if max_attempts == 1 else 'intentos fallidos'}; si su acceso "
            "está bloqueado, llame a Línea Directa para desbloquearlo.")


AGENT_LOGIN_FAILED = ("Usuario o contraseña incorrectos. Por seguridad, después de varios "
                      "intentos fallidos la cuenta se bloquea por unos minutos.")


def too_many_attempts(minutes: int) -> str:
    return (f"Demasiados intentos. Espere {minutes} {'minuto' if minutes == 1 else 'minutos'} "
            "e intente de nuevo.")


def message(exc: errors.DomainError) -> str:
    return SIMPLE.get(exc.code, "No pudimos completar la operación. Intente de nuevo.")


# ---- the desk ---------------------------------------------------------------
# Why the IVR handed the call over (banking_core.handoffs' reasons).
REASONS = {
    "alphanumeric_reference": "Referencia con letras y números",
    "caller_request": "El cliente pidió un ejecutivo",
    "max_attempts": "Demasiados intentos fallidos en el IVR",
    "credential_blocked": "Acceso bloqueado",
    "ambiguous_account": "Cuenta de retiro ambigua",
    "technical_problem": "Problema técnico del IVR",
    "state_lost": "El IVR perdió el avance de la llamada: pregunte al cliente qué hacía",
    "callback": "Pidió que le devolvieran la llamada",
}
# Where the caller is, in the agent's words.
CALLER_AT = {"ivr": "en el IVR", "queue": "en la fila, esperando su teléfono",
             "agent": "en línea con usted", "verifying": "marcando su NIP en el IVR",
             "gone": "colgó"}
# How the caller proved who they are.
METHODS = {"access_key": "clave de acceso + NIP (IVR)", "card": "tarjeta + NIP (IVR)",
           "account": "cuenta + NIP (IVR)", "card+nip": "tarjeta + NIP verificado por el ejecutivo",
           "account+nip": "cuenta + NIP verificado por el ejecutivo"}
HANDOFF_STATUS = {"transferring": "transfiriendo", "waiting": "en espera",
                  "taken": "en atención", "completed": "cerrada", "abandoned": "abandonada",
                  "callback": "devolver llamada"}
ROLES = {"agent": "ejecutivo", "supervisor": "supervisor"}

# Every action the core writes to the agents' audit log (banking_core: every
# `audit(` call; tests/web/test_words.py fails when one has no words here).
AUDIT_ACTIONS = {
    "login": "Entró al escritorio",
    "login_failed": "Intento de entrada fallido",
    "login_locked": "Cuenta bloqueada por intentos fallidos",
    "password_changed": "Se cambió la contraseña",
    "take": "Tomó la llamada",
    "take_callback": "Tomó la llamada para devolverla",
    "release": "Regresó la llamada a la fila",
    "agent_connected": "Se conectó con el cliente",
    "back_in_line": "El cliente regresó a la fila (el ejecutivo no se conectó)",
    "verification_requested": "Envió al cliente a marcar su NIP",
    "caller_verified": "El cliente quedó verificado con su NIP",
    "payment_refused": "Pago rechazado",
    "payment_posted": "Pago realizado",
    "domiciliation_created": "Domicilió un servicio para el cliente",
    "domiciliation_refused": "Domiciliación rechazada",
    "domiciliation_cancelled": "Canceló una domiciliación del cliente",
    "wrap_up": "Cerró la llamada",
    "caller_hung_up": "El cliente colgó",
    "caller_left": "El cliente salió de la fila y pidió que le devolvieran la llamada",
}
CREDENTIAL_KINDS = {"card": "tarjeta", "account": "cuenta"}
# Each fact an audit entry's detail may hold, in words, in the order a reader
# wants them (the folio and the amount first).
AUDIT_DETAILS = {
    "folio": lambda value: f"folio {value}",
    "amount": format_mxn,
    "service_key": lambda value: f"servicio {value}",
    "code": lambda value: SIMPLE.get(value, f"motivo: {value}"),
    "method": lambda value: f"con {CREDENTIAL_KINDS.get(value, value)}",
    "last4": lambda value: f"terminación {value}",
    "disposition": lambda value: f"resultado: {DISPOSITIONS.get(value, value)}",
    "day": lambda value: f"día {value} de cada mes",
}


def audit_action(code: str) -> str:
    # An action these words do not know yet still shows, as stored.
    return AUDIT_ACTIONS.get(code, code)


def audit_detail(detail: dict) -> str:
    said = [say(detail[key]) for key, say in AUDIT_DETAILS.items()
            if detail.get(key) is not None]
    said += [f"{key}: {value}" for key, value in detail.items() if key not in AUDIT_DETAILS]
    return " · ".join(said)


# ---- error pages --------------------------------------------------------------
# Status -> (heading, what happened and what to do). Any other status gets the
# words of its class (4xx, 5xx).
ERROR_PAGES = {
    400: ("Solicitud no válida",
          "No pudimos procesar lo que se envió. Si estaba llenando un formulario, "
          "ábralo de nuevo e intente otra vez."),
    401: ("Necesita ingresar", "Para ver esta página, ingrese con sus datos de acceso."),
    403: ("Acceso no permitido", "Su usuario no tiene permiso para ver esta página."),
    404: ("Página no encontrada", "La página que busca no existe o ya no está disponible."),
    405: ("Operación no permitida",
          "Esta página no acepta esa operación. Use los botones y enlaces del sitio."),
    413: ("Envío demasiado grande",
          "Lo que se envió rebasa el tamaño permitido. Revise los datos e intente de nuevo."),
    429: ("Demasiados intentos", "Demasiados intentos. Espere unos minutos e intente de nuevo."),
    500: ("Ocurrió un problema",
          "No pudimos completar la operación por un problema técnico. Intente de nuevo en "
          "unos minutos; si estaba haciendo un pago, revise si ya aparece antes de repetirlo."),
}


def error_page(status: int) -> tuple[str, str]:
    return ERROR_PAGES.get(status) or ERROR_PAGES[500 if status >= 500 else 400]
