"""The agents' desk, end to end: a transferred call, taken, talked to on the
desk's softphone, verified, paid and wrapped up."""
import json
import re

import pytest
from sqlalchemy import func, select

from banking_core.models import Account, AgentAudit, Handoff, Payment
from tests.e2e.test_call_flow import login_with_access_key
from tests.web.conftest import OPERATION


def payments(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalars(select(Payment)).all()


def handoffs(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalars(select(Handoff).order_by(Handoff.id)).all()


def alphanumeric_call(dial, **options):
    """A caller who logs in, goes to otros pagos, keys account and service 2088
    (a reference with letters): the IVR sends them to an agent."""
    call = dial(**options)
    login_with_access_key(call)
    for keys in ("1", "2", "5", "2", "5671", "1"):
        call.press(keys)
    heard = call.press("2088#")
    assert "requiere una referencia con letras" in heard.text
    return call


def pay_form(agent, handoff_id, **fields):
    agent.get(f"/escritorio/llamadas/{handoff_id}?servicio={fields.get('servicio', '2088')}")
    operation = OPERATION.search(agent.text).group(1)
    data = {"operacion": operation, "servicio": "2088", "referencia1": "CAT-00123A",
            "cuenta": agent.account_id("5671"), "importe": "1234.56"}
    data.update(fields)
    return data


# ---- the transfer, on the caller's side ---------------------------------------
def test_the_transfer_enqueues_with_wait_and_action_urls_and_keeps_the_context(dial, bank):
    call = alphanumeric_call(dial)
    transfer = call.last.transfer
    assert (transfer["verb"], transfer["queue"]) == ("Enqueue", "ejecutivos")
    assert transfer["attributes"]["waitUrl"] == "http://127.0.0.1:5000/ivr/queue/wait"
    assert transfer["attributes"]["action"] == "http://127.0.0.1:5000/ivr/queue/left"
    assert "Usted es el siguiente en la fila" in call.last.text  # the wait URL, first round
    [handoff] = handoffs(bank)
    assert handoff.status == "waiting" and handoff.reason == "alphanumeric_reference"
    assert handoff.caller_at == "queue" and handoff.queue_sid.startswith("QU")
    assert handoff.caller == "+523336693552" and handoff.login_method == "access_key"
    assert handoff.keyed == {"account_last4": "5671", "service_key": "2088",
                             "service_name": "Impuesto predial"}
    assert handoff.customer_id is not None and len(handoff.account_ids) == 3


def test_the_wait_url_tells_the_place_in_line_in_the_order_agents_take_calls(dial, twilio):
    first, second = alphanumeric_call(dial), dial()
    heard = second.press("0")
    assert "Su lugar en la fila es el 2" in heard.text
    assert heard.plays[-1].endswith("BusyStrings.mp3")  # then hold music
    twilio.advance(40)  # the wait URL loops
    assert "Usted es el siguiente" in first.last.text
    assert "Su lugar en la fila es el 2" in second.last.text


def test_agents_log_in_with_their_own_password(desk_app, twilio, bank):
    from tests.desk.conftest import Agent

    intruder = Agent(desk_app, twilio)
    response = intruder.log_in(password="wrong")
    assert response.status_code == 401 and "incorrectos" in intruder.text
    assert intruder.get("/escritorio/").status_code == 302
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AgentAudit)
                                  .where(AgentAudit.action == "login_failed")) == 1


# ---- a call taken, talked to, paid, closed ---------------------------------------
def test_from_a_call_to_a_folio_through_the_desk(dial, agent, bank):
    call = alphanumeric_call(dial)
    agent.get("/escritorio/llamadas.json")
    waiting = agent.last.get_json()["waiting"]
    assert [(w["customer"], w["reason"]) for w in waiting] == \
        [("Ana López", "Referencia con letras y números")]
    handoff_id = agent.take()
    agent.get(f"/escritorio/llamadas/{handoff_id}")
    for fact in ("+523336693552", "Ana López", "clave de acceso + NIP (IVR)",
                 "Referencia con letras y números", "terminación 5671", "2088 · Impuesto predial",
                 "en la fila, esperando su teléfono"):
        assert fact in agent.text
    leg = agent.connect(handoff_id)
    assert "Le comunicamos con su ejecutivo" in call.last.text
    assert leg.talking_to() == {call.leg}
    agent.get(f"/escritorio/llamadas/{handoff_id}.json")
    assert agent.last.get_json()["caller_at_text"] == "en línea con usted"
    data = pay_form(agent, handoff_id)
    done = agent.post(f"/escritorio/llamadas/{handoff_id}/pagar", data)
    assert done.status_code == 302, agent.errors()
    again = agent.post(f"/escritorio/llamadas/{handoff_id}/pagar", data)  # double submit
    assert again.location == done.location
    [payment] = payments(bank)
    assert (payment.channel, payment.reference1, payment.amount_centavos) == \
        ("agent", "CAT00123A", 123456)
    assert payment.agent_id is not None
    agent.get(done.location)
    assert f"Folio {payment.folio}: léalo al cliente." in agent.text
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "pago_realizado"}).status_code == 302
    # Closing while still on the line ends the conference: each side hears it.
    assert "Gracias por llamar a Línea Directa" in call.last.text and call.leg.ended
    assert "La llamada con el cliente terminó" in leg.last.text and leg.ended
    handoff = handoffs(bank)[0]
    assert handoff.status == "completed" and handoff.folios == [payment.folio]
    assert handoff.caller_at == "gone"
    assert bank.verify().ok
    actions = [a["action"] for a in bank.agent_audit(handoff_id=handoff_id)]
    assert actions == ["wrap_up", "payment_posted", "agent_connected", "take"]


def test_paying_from_an_account_that_is_not_the_callers_is_refused(dial, agent, bank):
    alphanumeric_call(dial)
    handoff_id = agent.take()
    agent.connect(handoff_id)
    with bank.unit_of_work() as uow:
        carlos = uow.session.scalar(select(Account.id).where(Account.number == "0012340002"))
    data = pay_form(agent, handoff_id, cuenta=str(carlos))
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/pagar", data)
    assert response.status_code == 422
    assert "Esa cuenta no está disponible para esta sesión." in agent.errors()
    assert payments(bank) == []
    assert bank.agent_audit(handoff_id=handoff_id)[0]["detail"]["code"] == "account_not_owned"


def test_an_unverified_caller_keys_the_nip_in_the_ivr_and_comes_back_to_the_same_agent(
        dial, agent, bank, twilio):
    call = dial()
    call.press("0")  # straight to an agent, never logged in
    assert call.last.transferred == "ejecutivos"
    handoff_id = agent.take()
    leg = agent.connect(handoff_id)
    agent.get(f"/escritorio/llamadas/{handoff_id}")
    assert "sin identificar" in agent.text and "Verificar al cliente" in agent.text
    assert 'name="operacion"' not in agent.text  # no payment form before verification
    forced = {"operacion": "ab" * 16, "servicio": "2088", "referencia1": "CAT1",
              "cuenta": "1", "importe": "10"}
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/pagar", forced)
    assert response.status_code == 422
    assert "Verifique primero la identidad del cliente." in agent.text and payments(bank) == []
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/verificar",
                          {"metodo": "card", "numero": "4152310000000001"})
    assert response.status_code == 302
    assert "NIP de 4 dígitos de su tarjeta terminación cero cero cero uno" in call.last.text
    assert leg.talking_to() == set()  # the agent waits on hold, with music
    assert leg.last.plays[-1].endswith("BusyStrings.mp3")
    heard = call.press("2468")
    assert "quedó verificada" in heard.text
    assert leg.talking_to() == {call.leg}  # back with the same agent, taken off hold
    agent.get(f"/escritorio/llamadas/{handoff_id}")
    assert "Ana López" in agent.text and "tarjeta + NIP verificado por el ejecutivo" in agent.text
    data = pay_form(agent, handoff_id)
    # A card proves only the card's account: the only one offered.
    assert re.findall(r'<option value="\d+"[^>]*>\w+ (\*+\d{4})', agent.text) == ["******5671"]
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/pagar", data).status_code == 302
    [payment] = payments(bank)
    assert payment.channel == "agent"
    with bank.unit_of_work() as uow:
        stored = uow.session.get(Handoff, handoff_id)
        assert stored.verify_lookup is None and "4152310000000001" not in json.dumps(
            {"keyed": stored.keyed, "last4": stored.verify_last4})
    assert not [r for r in twilio.requests if "2468" in json.dumps(r[2]) and
                "verify-nip" not in r[1]]  # the NIP went only where it is checked


def test_a_wrong_nip_for_the_agent_counts_against_the_credential(dial, agent, bank):
    call = dial()
    call.press("0")
    handoff_id = agent.take()
    agent.connect(handoff_id)
    agent.post(f"/escritorio/llamadas/{handoff_id}/verificar",
               {"metodo": "account", "numero": "0055500011"})
    heard = call.press("0000")
    assert "El NIP no coincide" in heard.text
    with pytest.raises(Exception) as refused:
        bank.verify_handoff_caller(handoff_id, "1111")
    assert refused.value.code == "invalid_credentials"
    assert refused.value.details["remaining"] == 1  # 2 failures so far, as a log-in counts


def test_verification_needs_the_caller_on_the_line_and_a_well_formed_number(
        dial, agent, twilio):
    call = dial()
    call.press("0")
    handoff_id = agent.take()
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/verificar",
                          {"metodo": "card", "numero": "4152310000000001"})
    assert response.status_code == 422 and "no está en la línea con usted" in agent.text
    agent.connect(handoff_id)
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/verificar",
                          {"metodo": "card", "numero": "1234"})
    assert response.status_code == 422 and "16 dígitos" in agent.text
    assert not [c for c in twilio.rest.calls if "/Calls/" in c[1]]  # no call was moved


def test_wrap_up_needs_a_disposition_and_the_supervisor_sees_the_audit(
        dial, agent, supervisor):
    alphanumeric_call(dial)
    handoff_id = agent.take()
    agent.connect(handoff_id)
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "nada"}).status_code == 422
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "consulta_resuelta", "notas": "dudas"}).status_code == 302
    assert agent.get("/escritorio/auditoria").status_code == 403
    supervisor.get("/escritorio/auditoria")
    assert "wrap_up" in supervisor.text and "consulta_resuelta" in supervisor.text


def test_a_caller_still_in_line_is_given_back_not_closed_on(dial, agent, bank):
    call = alphanumeric_call(dial)
    handoff_id = agent.take()
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar", {"disposicion": "otro"})
    assert response.status_code == 422 and "sigue en la fila" in agent.text
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/liberar").location == "/escritorio/"
    assert handoffs(bank)[0].status == "waiting" and not call.leg.ended
    assert agent.take() == handoff_id


def test_desk_forms_need_the_csrf_token(dial, agent, bank):
    alphanumeric_call(dial)
    agent.get("/escritorio/")
    assert agent.post("/escritorio/tomar", csrf=False).status_code == 400
    assert handoffs(bank)[0].status == "waiting"


def test_a_call_back_request_is_listed_and_taken_from_the_desk(dial, agent, bank, twilio,
                                                                desk_settings):
    call = alphanumeric_call(dial)
    twilio.advance(desk_settings.max_queue_minutes * 60)
    assert "devuelva la llamada" in call.last.text
    call.press("1")
    agent.get("/escritorio/")
    assert "Devolver llamada (<span data-count=\"callbacks\">1</span>)" in agent.text
    handoff_id = handoffs(bank)[0].id
    assert agent.post("/escritorio/tomar").location == "/escritorio/"  # not a caller on hold
    response = agent.post(f"/escritorio/devolver/{handoff_id}")
    assert response.location == f"/escritorio/llamadas/{handoff_id}"
    assert handoffs(bank)[0].status == "taken"
    assert agent.post(f"/escritorio/devolver/{handoff_id}").location == "/escritorio/"
