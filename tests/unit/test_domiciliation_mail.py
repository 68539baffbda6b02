"""The customer's e-mail when a domiciliation's charge was not made: why, in
their words, and what to do."""
import datetime as dt

from banking_core.models import OutboxMessage
from banking_core.notifications import render


def notice(**payload):
    base = {"customer_name": "Ana López", "service_key": "1411",
            "service_name": "Runtime WiFi Internet residencial", "references": ["9876543217"],
            "account_last4": "5671", "due_date": "21/01/2027", "amount": "$649.00",
            "ceiling": "$500.00", "reason": "over_ceiling", "attempts": 1,
            "domiciliation_id": 7}
    return OutboxMessage(id=12, kind="domiciliation_unpaid", recipient="ana@example.com",
                         payload={**base, **payload}, status="pending", attempts=0,
                         next_attempt_at=dt.datetime.now(dt.timezone.utc))


def body(message):
    return message.get_content()


def test_a_bill_over_the_ceiling_says_both_amounts():
    mail = render(notice(), "banco@example.com")
    assert mail["Subject"] == "No se realizó su pago domiciliado: Runtime WiFi Internet residencial"
    assert mail["X-Folio"] is None and mail["To"] == "ana@example.com"
    text = body(mail)
    assert ("No pudimos realizar el cargo domiciliado del 21/01/2027 porque el importe del "
            "recibo rebasa el tope que usted fijó ($649.00 MXN; su tope es de $500.00 MXN).") in text
    assert "terminación 5671" in text and "pausarla o cancelarla en Conexión Personal" in text


def test_retries_are_said_and_an_unknown_reason_still_reads_well():
    text = body(render(notice(reason="insufficient_funds", attempts=3, ceiling=None,
                              amount="$349.00"), "banco@example.com"))
    assert "porque la cuenta de retiro no tuvo saldo suficiente. Lo intentamos 3 veces" in text
    text = body(render(notice(reason="something_new", amount=None), "banco@example.com"))
    assert "porque no fue posible realizar el cargo." in text and "Importe:" not in text
