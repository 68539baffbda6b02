"""Every node of call-flow.md and every row of its outcomes table, by phone."""
import pytest
from sqlalchemy import func, select

from banking_core.models import Account, Credential, Payment
from ivr.readers.es_mx import digits as say_digits
from tests.e2e.test_call_flow import login_with_access_key, pay_wifi


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


def payments(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(Payment))


def to_payment_menu(call):
    login_with_access_key(call)
    call.press("1")
    call.press("2")
    call.press("5")
    return call.press("2")


def test_card_login_lands_on_the_accounts_menu(dial):
    call = dial()
    call.press("2")
    assert "16 dígitos de su tarjeta" in call.last.text
    call.press("4152310000000001")
    heard = call.press("2468")
    assert "para su saldo, marque 1" in heard.text


def test_account_login_and_balance_reading(dial):
    call = dial()
    call.press("3")
    call.press("0055500011")
    heard = call.press("9753")
    assert "su saldo, marque 1" in heard.text
    heard = call.press("1")
    assert ("Su cuenta de nómina terminación cero cero uno uno tiene un saldo de "
            "ocho mil pesos") in heard.text
    assert "cheques" not in heard.text  # an account login sees only that account
    assert "terminar, marque 2" in heard.text.lower()
    heard = call.press("2")
    assert call.last.hung_up and "Gracias por llamar" in heard.text


def test_access_key_balances_read_every_account(dial):
    call = dial()
    login_with_access_key(call)
    call.press("1")
    heard = call.press("1")
    assert "cheques terminación cinco seis siete uno tiene un saldo de veinticinco mil pesos" \
        in heard.text
    assert "ahorro terminación" in heard.text and "nómina terminación" in heard.text


def test_three_wrong_nips_block_the_credential_said_like_any_failure(dial, bank):
    call = dial()
    heard = login_with_access_key(call, key="10000002", nip="0000")
    assert "no coinciden" in heard.text and "después de 3 intentos fallidos" in heard.text
    call.press("*")  # back to the log-in menu (a failure asks only the NIP again)
    login_with_access_key(call, key="10000002", nip="0000")
    call.press("*")
    heard = login_with_access_key(call, key="10000002", nip="0000")
    assert "no coinciden" in heard.text and call.last.transferred is None
    with bank.unit_of_work() as uow:
        cred = uow.session.scalars(select(Credential).where(
            Credential.kind == "access_key", Credential.last4 == "0002")).one()
        assert cred.blocked_at is not None  # persisted in the bank, not only in the call
    again = dial()
    heard = login_with_access_key(again, key="10000002", nip="2580")
    assert "no coinciden" in heard.text  # even with the right NIP, on a new call
    heard = again.press("0")  # the agent it offers files the call as a blocked access
    assert call.last.transferred is None and again.last.transferred == "ejecutivos"
    assert "Le transferimos con un ejecutivo" in heard.text


def test_an_access_key_that_does_not_exist_is_said_like_a_wrong_nip(dial):
    call = dial()
    call.press("1")
    call.press("10000099")
    heard = call.press("1357")
    assert "Los datos que marcó no coinciden con nuestros registros." in heard.text
    assert "después de 3 intentos fallidos" in heard.text


def test_an_alphanumeric_reference_goes_to_an_agent(dial):
    call = dial()
    login_with_access_key(call)
    call.press("1")
    call.press("2")
    call.press("5")
    heard = call.press("1")
    assert "Le transferimos con un ejecutivo" in heard.text
    assert call.last.transferred == "ejecutivos"


def test_a_service_with_letters_in_its_reference_goes_to_an_agent(dial):
    call = dial()
    to_payment_menu(call)
    call.press("5671")
    call.press("1")
    heard = call.press("2088#")
    assert "requiere una referencia con letras" in heard.text
    assert call.last.transferred


def test_unknown_account_ending_is_said_and_asked_again(dial, bank):
    call = dial()
    to_payment_menu(call)
    heard = call.press("0002")  # Carlos's account, not Ana's
    assert "No encontramos una cuenta suya que termine en cero cero cero dos" in heard.text
    assert "últimos 4 dígitos" in heard.text
    assert payments(bank) == 0


def test_a_wrong_account_can_be_re_entered_at_the_read_back(dial):
    call = dial()
    to_payment_menu(call)
    heard = call.press("5432")
    assert "terminación cinco cuatro tres dos" in heard.text
    heard = call.press("2")
    assert "últimos 4 dígitos" in heard.text


def test_unknown_service_key_is_said_and_asked_again(dial):
    call = dial()
    to_payment_menu(call)
    call.press("5671")
    call.press("1")
    heard = call.press("9999#")
    assert "La clave de servicio nueve nueve nueve nueve no existe" in heard.text
    assert "Marque la clave de servicio" in heard.text


def test_an_invalid_reference_is_refused_and_asked_again(dial, bank):
    call = dial()
    to_payment_menu(call)
    call.press("5671")
    call.press("1")
    call.press("1411#")
    call.press("1")
    heard = call.press("9876543210#")
    assert "La referencia no es válida: el dígito verificador no coincide" in heard.text
    assert "Número de cliente: marque sus 10 dígitos" in heard.text
    heard = call.press("98765#")
    assert "Lo que marcó no es válido." in heard.text and "10 dígitos" in heard.text
    assert payments(bank) == 0


def test_water_asks_for_both_references(dial, bank):
    call = dial()
    to_payment_menu(call)
    call.press("5671")
    call.press("1")
    call.press("5005#")
    call.press("1")
    heard = call.press("12345678#")
    assert "Número de contrato: uno dos tres cuatro, cinco seis siete ocho." in heard.text
    heard = call.press("1")
    assert "periodo, mes y año: marque sus 4 dígitos" in heard.text
    call.press("1126#")
    heard = call.press("1")
    assert "Marque el importe" in heard.text
    call.press("349*5#")
    call.press("1")
    heard = call.press("1")
    assert "folio" in heard.text
    with bank.unit_of_work() as uow:
        payment = uow.session.scalars(select(Payment)).one()
        assert (payment.reference1, payment.reference2, payment.amount_centavos) == \
            ("12345678", "1126", 34950)


def test_insufficient_funds_offers_to_change_the_amount(dial, bank):
    call = dial()
    heard = login_with_access_key(call, key="10000002", nip="2580")
    pay_wifi_from = ["1", "2", "5", "2", "0002", "1", "1411#", "1", "9876543217#", "1"]
    for keys in pay_wifi_from:
        call.press(keys)
    call.press("151#")
    call.press("1")
    heard = call.press("1")
    assert "no tiene fondos suficientes" in heard.text
    assert "Para cambiar el importe, marque 1" in heard.text
    assert payments(bank) == 0
    call.press("1")
    call.press("150#")
    call.press("1")
    heard = call.press("1")
    assert "Pago realizado" in heard.text


def test_over_the_daily_phone_limit_says_what_is_left(dial, bank):
    call = dial()
    login_with_access_key(call)
    pay_wifi(call, "20000*01#")
    call.press("1")
    heard = call.press("1")
    assert "excede su límite diario" in heard.text
    assert "veinte mil pesos" in heard.text
    assert payments(bank) == 0


def test_amount_out_of_range_is_said_and_asked_again(dial):
    call = dial()
    login_with_access_key(call)
    heard = pay_wifi(call, "0*5#")
    assert "El importe no es válido para este servicio" in heard.text


def test_the_summary_lets_the_caller_correct_a_field_then_returns(dial, bank):
    call = dial()
    login_with_access_key(call)
    pay_wifi(call, "650#")
    heard = call.press("1")
    assert "Para pagar, marque 1" in heard.text
    heard = call.press("2")
    assert "Para corregir la cuenta, marque 1" in heard.text
    call.press("1")
    call.press("5432")
    heard = call.press("1")
    assert "Pagará" in heard.text and "cinco cuatro tres dos" in heard.text
    call.press("2")
    call.press("4")
    call.press("700#")
    heard = call.press("1")
    assert "setecientos pesos" in heard.text and "Pagará" in heard.text
    call.press("1")
    with bank.unit_of_work() as uow:
        payment = uow.session.scalars(select(Payment)).one()
        account = uow.session.get(Account, payment.account_id)
        assert account.number == "0098765432" and payment.amount_centavos == 70000


def test_the_folio_can_be_repeated_and_another_payment_made(dial, bank):
    call = dial()
    login_with_access_key(call)
    pay_wifi(call)
    call.press("1")
    call.press("1")
    with bank.unit_of_work() as uow:
        first = uow.session.scalars(select(Payment)).one().folio
    heard = call.press("1")
    assert f"Su folio es {say_digits(first)}" in heard.text
    heard = call.press("2")
    assert "últimos 4 dígitos" in heard.text
    for keys in ["5671", "1", "25#", "1", "123456789#", "1", "100#", "1"]:
        call.press(keys)
    heard = call.press("1")
    assert "Pago realizado" in heard.text
    assert payments(bank) == 2  # a second payment, with its own idempotency key


def test_hanging_up_before_confirming_posts_nothing(dial, bank):
    call = dial()
    login_with_access_key(call)
    pay_wifi(call)
    call.press("1")  # at the summary
    assert call.hang_up() == 204
    assert payments(bank) == 0


def test_a_payment_key_already_used_says_the_payment_stands_never_nothing_charged(dial, bank):
    # The call's state went back after a payment (a cache restored from an
    # older copy): its payment key is already the bank's, with other data.
    # That payment stands; "no se hizo ningún cargo" would be false.
    call = dial()
    login_with_access_key(call)
    pay_wifi(call, "650#")
    call.press("1")
    account = next(a for a in bank.list_accounts(ana(bank)) if a.number.endswith("5671"))
    first = bank.post_payment(ana(bank), channel="phone", account_id=account.id,
                              service_key="1411", references=["9876543217"],
                              amount_centavos=10000, idempotency_key=f"{call.call_sid}:pago:1")
    heard = call.press("1")
    assert "En esta llamada ya se realizó un pago" in heard.text
    assert "No se hizo ningún cargo" not in heard.text and heard.hung_up
    assert payments(bank) == 1 and bank.get_receipt(ana(bank), first.folio).amount_centavos == 10000


def ana(bank):
    return bank.authenticate(method="access_key", identifier="10000001", nip="1357")
