"""The confirmation e-mail a checkout sends to the address the biller's
request gave (often the student's, not the payer's): the payment's facts and
the biller's order id, never the payer's name or account. The customer's own
confirmation goes, as for every payment, to the address the bank holds."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from banking_core.money import format_mxn

KIND = "checkout_confirmation"


def payload(receipt, order_id: str) -> dict:
    local = receipt.local_posted_at
    return {"folio": receipt.folio, "amount_centavos": receipt.amount_centavos,
            "amount": format_mxn(receipt.amount_centavos), "date": local.strftime("%d/%m/%Y"),
            "time": local.strftime("%H:%M:%S"), "service_key": receipt.service_key,
            "service_name": receipt.service_name, "references": list(receipt.references),
            "order_id": order_id, "channel": receipt.channel}


def render(message, mail_from: str) -> EmailMessage:
    p = message.payload
    mail = EmailMessage()
    mail["From"] = mail_from
    mail["To"] = message.recipient
    mail["Subject"] = f"Pago confirmado {p['folio']}: {p['service_name']}"
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="lineadirecta.example")
    mail["X-Outbox-Id"] = str(message.id)
    mail["X-Folio"] = p["folio"]
    mail.set_content(
        "Le confirmamos que el banco recibió el pago de la siguiente orden, hecho en "
        "Conexión Personal.\n\n"
        f"  Orden del comercio: {p['order_id']}\n"
        f"  Folio:              {p['folio']}\n"
        f"  Importe:            {p['amount']} MXN\n"
        f"  Fecha:              {p['date']}\n"
        f"  Hora:               {p['time']} (hora del centro de México)\n"
        f"  Servicio:           {p['service_key']} {p['service_name']}\n"
        f"  Referencia(s):      {', '.join(p['references'])}\n\n"
        "El comercio recibe el mismo aviso. Conserve este folio para cualquier aclaración.\n"
    )
    return mail
