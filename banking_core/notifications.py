"""The confirmation e-mail: queued with the payment (the outbox), sent later.

Nothing a caller waits on ever talks to a mail server. A worker (`ivr notify
send`) claims due messages one at a time with a short lease, sends, and marks
them sent; a failure pushes the next attempt back (exponential, capped) and
keeps the message: nothing is ever dropped. A crash between sending and marking
means the lease expires and the mail is sent again: at-least-once, because a
duplicate confirmation is better than a lost one. The outbox's other kind, the
billers' webhooks, has its own sender (banking_core/biller_notifications.py):
neither picks up the other's rows.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import smtplib
import tempfile
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

from sqlalchemy import select, update

from banking_core import checkout_mail
from banking_core.biller_notifications import KIND as WEBHOOK_KIND
from banking_core.models import OutboxMessage

LEASE = dt.timedelta(minutes=5)
MAX_BACKOFF = dt.timedelta(hours=1)

CHANNEL_NAMES = {"phone": "Línea Directa", "web": "Conexión Personal",
                 "agent": "Línea Directa (ejecutivo)", "domiciliacion": "Domiciliación"}

# Why a domiciliation's charge was not made (domiciliation_runs), in the
# customer's words.
UNPAID_REASONS = {
    "insufficient_funds": "la cuenta de retiro no tuvo saldo suficiente",
    "over_daily_limit": "el cargo rebasaba el límite diario de pagos domiciliados de la cuenta",
    "service_inactive": "el servicio no estaba recibiendo pagos",
    "no_bill": "el proveedor del servicio no nos envió el importe a pagar de ese mes",
    "over_ceiling": "el importe del recibo rebasa el tope que usted fijó",
    "account_not_owned": "la cuenta de retiro ya no está disponible",
    "unknown_service": "el servicio ya no existe",
    "invalid_reference": "el proveedor ya no acepta las referencias registradas",
    "amount_out_of_range": "el importe está fuera del rango que acepta el servicio",
}


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpSender:
    def __init__(self, *, host: str, port: int = 25, username: str = "", password: str = "",
                 starttls: bool = False, timeout: float = 10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class EmlFileSender:
    """With no SMTP server configured, each message becomes a .eml file."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{message['X-Outbox-Id'].zfill(8)}-{message['X-Folio'] or 'mail'}.eml"
        # Write then rename, so a reader never sees half a message.
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(bytes(message))
        os.replace(tmp, self.directory / name)


def sender_from_settings(settings) -> MailSender:
    if settings.smtp_host:
        return SmtpSender(host=settings.smtp_host, port=settings.smtp_port,
                          username=settings.smtp_username, password=settings.smtp_password,
                          starttls=settings.smtp_starttls)
    return EmlFileSender(settings.outbox_dir)


def render(message: OutboxMessage, mail_from: str) -> EmailMessage:
    if message.kind == checkout_mail.KIND:
        return checkout_mail.render(message, mail_from)
    mail = EmailMessage()
    mail["From"] = mail_from
    mail["To"] = message.recipient
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="lineadirecta.example")
    mail["X-Outbox-Id"] = str(message.id)
    if message.kind == "domiciliation_unpaid":
        _unpaid(mail, message.payload)
    else:
        _confirmation(mail, message.payload)
    return mail


def _confirmation(mail: EmailMessage, p: dict) -> None:
    mail["Subject"] = f"Comprobante de pago {p['folio']}: {p['service_name']}"
    mail["X-Folio"] = p["folio"]
    references = ", ".join(p["references"])
    if p["channel"] == "domiciliacion":
        what = "Le confirmamos el cargo de su pago domiciliado."
    else:
        what = f"Le confirmamos el pago realizado por {CHANNEL_NAMES.get(p['channel'], p['channel'])}."
    mail.set_content(
        f"Estimado(a) {p['customer_name']}:\n\n"
        f"{what}\n\n"
        f"  Folio:             {p['folio']}\n"
        f"  Importe:           {p['amount']} MXN\n"
        f"  Fecha:             {p['date']}\n"
        f"  Hora:              {p['time']} (hora del centro de México)\n"
        f"  Servicio:          {p['service_key']} {p['service_name']}\n"
        f"  Referencia(s):     {references}\n"
        f"  Cuenta de retiro:  terminación {p['account_last4']}\n\n"
        "Conserve este folio para cualquier aclaración.\n"
        "Si usted no reconoce esta operación, llame a Línea Directa.\n"
    )


def _unpaid(mail: EmailMessage, p: dict) -> None:
    mail["Subject"] = f"No se realizó su pago domiciliado: {p['service_name']}"
    reason = UNPAID_REASONS.get(p["reason"], "no fue posible realizar el cargo")
    if p["reason"] == "over_ceiling" and p.get("amount") and p.get("ceiling"):
        reason += f" ({p['amount']} MXN; su tope es de {p['ceiling']} MXN)"
    tries = p.get("attempts") or 1
    tried = "" if tries == 1 else f" Lo intentamos {tries} veces, un día tras otro."
    amount = f"  Importe:           {p['amount']} MXN\n" if p.get("amount") else ""
    mail.set_content(
        f"Estimado(a) {p['customer_name']}:\n\n"
        f"No pudimos realizar el cargo domiciliado del {p['due_date']} porque {reason}.{tried}\n\n"
        f"  Servicio:          {p['service_key']} {p['service_name']}\n"
        f"  Referencia(s):     {', '.join(p['references'])}\n"
        f"{amount}"
        f"  Cuenta de retiro:  terminación {p['account_last4']}\n\n"
        "Este mes no se hará otro intento. Si lo desea, pague el servicio en Conexión "
        "Personal o en Línea Directa. Su domiciliación sigue vigente para los próximos meses; "
        "puede consultarla, pausarla o cancelarla en Conexión Personal.\n"
    )


@dataclasses.dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0


def backoff(attempts: int) -> dt.timedelta:
    exponent = min(max(attempts - 1, 0), 20)  # 2**20 * 30 s is already far past the cap
    return min(dt.timedelta(seconds=30 * 2 ** exponent), MAX_BACKOFF)


def deliver_due(bank, sender: MailSender, *, mail_from: str, limit: int = 100) -> DeliveryResult:
    result = DeliveryResult()
    now = bank.clock()
    with bank.unit_of_work() as uow:
        due = uow.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                   OutboxMessage.kind != WEBHOOK_KIND)
            .order_by(OutboxMessage.id).limit(limit)
        ).all()
    for message_id in due:
        message = _claim(bank, message_id)
        if message is None:  # another worker has it
            continue
        try:
            sender.send(render(message, mail_from))
        except Exception as exc:  # any failure: keep the message, try later
            _record_failure(bank, message, exc)
            result.failed += 1
        else:
            _record_sent(bank, message)
            result.sent += 1
    return result


def _claim(bank, message_id: int) -> OutboxMessage | None:
    now = bank.clock()
    with bank.unit_of_work() as uow:
        claimed = uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending",
                   OutboxMessage.next_attempt_at <= now, OutboxMessage.kind != WEBHOOK_KIND)
            .values(next_attempt_at=now + LEASE)
        ).rowcount
        message = uow.session.get(OutboxMessage, message_id) if claimed else None
        uow.commit()
        return message


def _record_sent(bank, message: OutboxMessage) -> None:
    with bank.unit_of_work() as uow:
        uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message.id)
            .values(status="sent", sent_at=bank.clock(), attempts=message.attempts + 1,
                    last_error=None)
        )
        uow.commit()


def _record_failure(bank, message: OutboxMessage, exc: Exception) -> None:
    attempts = message.attempts + 1
    with bank.unit_of_work() as uow:
        uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message.id)
            .values(attempts=attempts, next_attempt_at=bank.clock() + backoff(attempts),
                    last_error=f"{type(exc).__name__}: {exc}"[:500])
        )
        uow.commit()
    bank.log.warning("notification_failed", outbox_id=message.id, attempts=attempts,
                     error=type(exc).__name__)


def pending_messages(bank) -> list[OutboxMessage]:
    with bank.unit_of_work() as uow:
        return list(uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == "pending",
                                        OutboxMessage.kind != WEBHOOK_KIND)
            .order_by(OutboxMessage.id)
        ))
