"""The rules that apply at every node, and Twilio's delivery quirks."""
import re

import pytest
from sqlalchemy import func, select

from banking_core.models import Payment
from tests.e2e.test_call_flow import login_with_access_key, pay_wifi


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


def test_no_input_reprompts_with_the_shorter_prompt(dial):
    call = dial()
    heard = call.silence()
    assert heard.says[0] == "No recibimos su respuesta."
    assert "Clave de acceso, 1. Tarjeta, 2." in heard.text  # tapered
    assert "Si tiene clave de acceso" not in heard.text


def test_a_wrong_key_is_said_and_reprompted(dial):
    call = dial()
    heard = call.press("7")
    assert heard.says[0] == "La opción que marcó no es válida."
    assert call.last.gather is not None


def test_three_failures_at_one_node_go_to_an_agent_never_loop(dial):
    call = dial()
    call.silence()
    call.press("8")  # a wrong key: 9 is English, offered by the greeting
    heard = call.silence()
    assert "No fue posible completar su solicitud" in heard.text
    assert call.last.transferred == "ejecutivos"


def closed_now(ivr_app, bank, monkeypatch):
    """Agents work Monday to Friday; the bank's clock says Saturday noon."""
    import datetime as dt

    from config.hours import parse_hours

    ivr_app.extensions["ivr"].agent_hours = parse_hours("mon-fri 08:00-20:00")
    saturday_noon = dt.datetime(2026, 11, 21, 18, 0, tzinfo=dt.timezone.utc)  # 12:00 CDMX
    monkeypatch.setattr(bank, "clock", lambda: saturday_noon)


@pytest.mark.parametrize("keys", [["0"], ["8", "8", "8"]], ids=["zero", "max_attempts"])
def test_outside_agent_hours_nothing_promises_an_agent(dial, bank, monkeypatch, ivr_app, keys):
    closed_now(ivr_app, bank, monkeypatch)
    call = dial()
    for key in keys:
        heard = call.press(key)
    assert "En este momento no hay ejecutivos disponibles" in heard.text
    assert "transferimos" not in heard.text and "espere en la línea" not in heard.text
    assert not call.last.transferred


def test_a_short_entry_counts_as_a_failure(dial):
    call = dial()
    call.press("1")
    heard = call.press("1234#")  # 8 digits expected; '#' ends it early
    assert "Lo que marcó no es válido." in heard.text  # an entry, not an option
    assert "Su clave de acceso, 8 dígitos." in heard.text


def test_zero_asks_for_an_agent_at_any_menu(dial):
    call = dial()
    login_with_access_key(call)
    heard = call.press("0")
    assert "Le transferimos con un ejecutivo" in heard.text and call.last.transferred


def test_star_repeats_the_menu_without_counting_a_failure(dial):
    call = dial()
    login_with_access_key(call)
    for _ in range(4):
        heard = call.press("*")
        assert "Para sus cuentas de cheques, ahorro o nómina, marque 1" in heard.text
    assert "su saldo, marque 1" in call.press("1").text


def test_options_not_available_by_phone_offer_an_agent(dial):
    call = dial()
    login_with_access_key(call)
    heard = call.press("2")  # tarjetas de crédito
    assert "no está disponible por teléfono" in heard.text and "marque 0" in heard.text
    assert "cuentas de cheques" in call.press("1").text
    call.press("1")
    call.press("2")
    heard = call.press("3")  # pago de tarjetas
    assert "no está disponible por teléfono" in heard.text


def test_a_duplicated_final_confirmation_posts_once(dial, bank):
    call = dial()
    login_with_access_key(call)
    pay_wifi(call)
    call.press("1")
    gather = call.last.gather
    params = call._params(Digits="1")
    first = call.post(gather["action"], params)
    second = call.post(gather["action"], params)  # Twilio retried the same delivery
    assert first == second and first[0] == 200
    assert "Pago realizado" in call.hear(first[1]).text
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert bank.verify().ok


def test_a_late_answer_to_an_old_gather_repeats_where_the_call_is(dial):
    call = dial()
    old = call.last.gather["action"]
    call.press("1")
    status, body = call.post(old, call._params(Digits="2"))
    assert status == 200 and "clave de acceso de 8 dígitos" in call.hear(body).text


def test_malformed_requests_get_400_and_touch_nothing(dial):
    call = dial()
    action = call.last.gather["action"]
    assert call.post(action, call._params(Digits="1<script>"))[0] == 400
    params = call._params(Digits="1")
    params["CallSid"] = "not-a-call"
    assert call.post(action, params)[0] == 400
    assert "clave de acceso de 8 dígitos" in call.press("1").text


def test_a_completed_call_closes_its_state(dial, ivr_app):
    call = dial()
    login_with_access_key(call)
    store = ivr_app.extensions["ivr"].store
    assert store.load(call.call_sid) is not None
    assert call.hang_up() == 204
    assert store.load(call.call_sid) is None


def test_no_secret_is_kept_in_clear_in_the_call_state(dial, ivr_app):
    call = dial()
    call.press("2")
    call.press("4152310000000001")
    raw = ivr_app.extensions["ivr"].store.load(call.call_sid).to_json()
    assert not _holds(raw, "4152310000000001") and not _holds(raw, "0001")
    call.press("2468")
    raw = ivr_app.extensions["ivr"].store.load(call.call_sid).to_json()
    assert not _holds(raw, "2468") and not _holds(raw, "4152310000000001")


def _holds(raw: str, secret: str) -> bool:
    """`secret` standing as a value of its own in the stored text: not a
    chance run inside a timestamp's digits or a random hex or base64 token
    (one in a few thousand states held "2468" that way)."""
    return re.search(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])", raw) is not None


def test_no_secret_reaches_the_logs(dial, capsys):
    call = dial()
    call.press("2")
    call.press("4152310000000001")
    call.press("2468")
    logs = capsys.readouterr()
    assert "4152310000000001" not in logs.out + logs.err
    assert "ivr_turn" in logs.out + logs.err


def test_a_technical_failure_apologises_and_hands_over_without_posting(dial, bank, ivr_app,
                                                                       monkeypatch, capsys):
    from sqlalchemy.exc import OperationalError

    call = dial()
    login_with_access_key(call)
    pay_wifi(call)
    call.press("1")

    def database_down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(bank, "post_payment", database_down)
    heard = call.press("1")
    assert "tenemos un problema técnico" in heard.text
    assert call.last.transferred == "ejecutivos"
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)) == 0
    logs = capsys.readouterr()
    assert "ivr_turn_failed" in logs.err and "OperationalError" in logs.err
    state = ivr_app.extensions["ivr"].store.load(call.call_sid)
    assert state.node == "summary"  # the failed turn changed nothing
