"""The core's error codes in the customer's words (Spanish, usted)."""
from __future__ import annotations

from banking_core import errors
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
}


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
