"""Calls placed against the webhooks exactly as Twilio places them."""
import pytest
from sqlalchemy import func, select

from banking_core.models import OutboxMessage, Payment


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


def login_with_access_key(call, key="10000001", nip="1357"):
    call.press("1")
    call.press(key)
    return call.press(nip)


def pay_wifi(call, amount_keys="650#"):
    call.press("1")        # cuentas
    call.press("2")        # traspasos y pagos
    call.press("5")        # otros pagos
    call.press("2")        # referencia numérica
    call.press("5671")     # cuenta de retiro
    heard = call.press("1")
    assert "Marque la clave de servicio" in heard.text
    heard = call.press("1411#")
    assert "Runtime WiFi Internet residencial" in heard.text
    assert "uno cuatro uno uno" in heard.text
    call.press("1")
    heard = call.press("9876543217#")
    assert "nueve ocho siete, seis cinco cuatro, tres dos uno siete" in heard.text
    call.press("1")
    heard = call.press(amount_keys)
    return heard


def test_greeting_offers_the_three_login_methods_with_their_digits(dial):
    call = dial()
    assert "Línea Directa, a sus órdenes" in call.last.text
    for option in ("clave de acceso, marque 1", "tarjeta de débito, 2",
                   "ahorro o nómina, 3", "Para un ejecutivo, marque 0"):
        assert option in call.last.text
    assert call.last.gather["numDigits"] == "1"


def test_a_complete_payment_by_phone(dial, bank):
    call = dial()
    heard = login_with_access_key(call)
    assert "Le damos la bienvenida, Ana" in heard.text and "cuentas de cheques" in heard.text
    heard = pay_wifi(call, "650*5#")
    assert "seiscientos cincuenta pesos con cincuenta centavos" in heard.text
    heard = call.press("1")
    assert "Pagará seiscientos cincuenta pesos con cincuenta centavos" in heard.text
    assert "terminación cinco seis siete uno" in heard.text
    heard = call.press("1")
    # The folio right after the success, no date and time before it (they go
    # with the receipt by e-mail, which the end of the call says).
    assert "Pago realizado. Su folio es" in heard.text
    with bank.unit_of_work() as uow:
        payment = uow.session.scalars(select(Payment)).one()
        assert payment.channel == "phone" and payment.amount_centavos == 65050
        assert payment.reference1 == "9876543217"
        # The confirmation e-mail and the biller's (1411's) webhook.
        assert sorted(uow.session.scalars(select(OutboxMessage.kind))) == [
            "biller_webhook", "payment_confirmation"]
    from ivr.readers.es_mx import digits as say_digits
    assert say_digits(payment.folio) in heard.text
    heard = call.press("3")
    assert "correo electrónico" in heard.text and call.last.hung_up
    assert bank.verify().ok


def test_unsigned_and_forged_requests_are_refused(dial):
    call = dial()
    status, _ = call.post(f"{call.base_url}/ivr/step?t=1", call._params(Digits="1"),
                          signature="")
    assert status == 403
    status, _ = call.post(f"{call.base_url}/ivr/step?t=1", call._params(Digits="1"),
                          signature="bm90IGEgc2lnbmF0dXJl")
    assert status == 403
    # The call is untouched: the real caller's key still works.
    assert "Marque su clave de acceso" in call.press("1").text
