"""The agents' desk and the hand-off from the IVR, end to end."""
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


def alphanumeric_call(dial):
    """A caller who logs in, goes to otros pagos, keys account and service 2088
    (a reference with letters): the IVR sends them to an agent."""
    call = dial()
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


# ---- the hand-off in the call ---------------------------------------------
def test_the_transfer_enqueues_with_wait_and_action_urls_and_keeps_the_context(dial, bank):
    call = alphanumeric_call(dial)
    status, body = call.post(f"{call.base_url}/ivr/voice", call._params())
    assert status == 200 and "<Enqueue" in body  # a repeated request gets the stored answer
    assert 'waitUrl="http://127.0.0.1:5000/ivr/queue/wait"' in body
    assert 'action="http://127.0.0.1:5000/ivr/queue/left"' in body
    assert ">ejecutivos</Enqueue>" in body
    [handoff] = handoffs(bank)
    assert handoff.status == "waiting" and handoff.reason == "alphanumeric_reference"
    assert handoff.caller == "+523336693552" and handoff.login_method == "access_key"
    assert handoff.keyed == {"account_last4": "5671", "service_key": "2088",
                             "service_name": "Impuesto predial"}
    assert handoff.customer_id is not None and len(handoff.account_ids) == 3


@pytest.mark.parametrize("desk_env", [{"TASKROUTER_WORKFLOW_SID": "WW" + "a" * 32}])
def test_with_taskrouter_the_context_rides_as_task_attributes(dial, desk_env):
    call = alphanumeric_call(dial)
    _, body = call.post(f"{call.base_url}/ivr/voice", call._params())
    assert f'workflowSid="WW{"a" * 32}"' in body
    task = json.loads(re.search(r"<Task>(.*)</Task>", body).group(1))
    assert task["reason"] == "alphanumeric_reference" and task["customer_name"] == "Ana López"
    assert task["keyed"]["service_key"] == "2088" and "nip" not in json.dumps(task).lower()


def test_the_wait_url_tells_the_place_in_line_and_plays_hold_music(dial):
    call = alphanumeric_call(dial)
    url = f"{call.base_url}/ivr/queue/wait"
    status, body = call.post(url, call._params(QueuePosition="3", QueueTime="40"))
    assert status == 200 and "Su lugar en la fila es el 3" in body and "<Play>" in body
    _, body = call.post(url, call._params(QueuePosition="1", QueueTime="70"))
    assert "Usted es el siguiente" in body


def test_a_long_wait_ends_with_an_offer_to_call_back(dial, bank):
    call = alphanumeric_call(dial)
    _, body = call.post(f"{call.base_url}/ivr/queue/wait",
                        call._params(QueuePosition="2", QueueTime="600"))
    assert "<Leave" in body and "mayor a la acostumbrada" in body
    call.ended = False
    heard = call._follow(f"{call.base_url}/ivr/queue/left", call._params(QueueResult="leave"))
    assert "devuelva la llamada" in heard.text and heard.gather["action"].endswith("/callback")
    heard = call.press("1")
    assert "terminación tres, cinco, cinco, dos" in heard.text and call.last.hung_up
    assert handoffs(bank)[0].status == "callback"


@pytest.mark.parametrize("desk_env", [{"AGENT_HOURS": "mon-fri 08:00-20:00"}])
def test_outside_agent_hours_the_caller_is_told_and_offered_a_call_back(dial, bank,
                                                                       monkeypatch):
    import datetime as dt

    saturday_noon = dt.datetime(2026, 11, 21, 18, 0, tzinfo=dt.timezone.utc)  # 12:00 CDMX
    monkeypatch.setattr(bank, "clock", lambda: saturday_noon)
    call = dial()
    heard = call.press("0")  # asks for an agent
    assert "no hay ejecutivos disponibles" in heard.text
    assert "de lunes a viernes de 08:00 a 20:00 horas" in heard.text
    assert call.last.gather and not call.last.transferred
    assert handoffs(bank) == []  # nobody will pick up: no waiting call
    heard = call.press("2")
    assert "Gracias por llamar" in heard.text and call.last.hung_up
    call2 = dial()
    call2.press("0")
    call2.press("1")
    assert [h.status for h in handoffs(bank)] == ["callback"]


def test_a_caller_who_hangs_up_in_line_is_marked_abandoned(dial, bank):
    call = alphanumeric_call(dial)
    call.post(f"{call.base_url}/ivr/queue/left", call._params(QueueResult="hangup"))
    assert handoffs(bank)[0].status == "abandoned"


# ---- the desk ---------------------------------------------------------------
def test_agents_log_in_with_their_own_password(desk_app, bank):
    from tests.desk.conftest import Agent

    intruder = Agent(desk_app)
    response = intruder.log_in(password="wrong")
    assert response.status_code == 401 and "incorrectos" in intruder.text
    assert intruder.get("/escritorio/").status_code == 302
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AgentAudit)
                                  .where(AgentAudit.action == "login_failed")) == 1


def test_from_a_call_to_a_folio_through_the_desk(dial, agent, bank):
    call = alphanumeric_call(dial)
    agent.get("/escritorio/llamadas.json")
    waiting = agent.last.get_json()["waiting"]
    assert [(w["customer"], w["reason"]) for w in waiting] == \
        [("Ana López", "Referencia con letras y números")]
    response = agent.take_next()
    assert response.status_code == 302
    handoff_id = int(response.location.rsplit("/", 1)[1])
    agent.get(response.location)
    text = agent.text
    for fact in ("+523336693552", "Ana López", "clave de acceso + NIP (IVR)",
                 "Referencia con letras y números", "terminación 5671", "2088 · Impuesto predial",
                 "&lt;Dial&gt;&lt;Queue&gt;ejecutivos&lt;/Queue&gt;&lt;/Dial&gt;"):
        assert fact in text
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
    handoff = handoffs(bank)[0]
    assert handoff.status == "completed" and handoff.folios == [payment.folio]
    assert bank.verify().ok
    actions = [a["action"] for a in bank.agent_audit(handoff_id=handoff_id)]
    assert actions == ["wrap_up", "payment_posted", "take"]
    assert call.hang_up() == 204


def test_two_agents_racing_for_one_call_one_wins(dial, desk_app, agent, bank):
    from tests.desk.conftest import Agent

    alphanumeric_call(dial)
    other = Agent(desk_app)
    other.log_in("supervisor", "supervisor-demo-1")
    first, second = agent.take_next(), other.take_next()
    assert first.location.startswith("/escritorio/llamadas/")
    assert second.location == "/escritorio/"
    other.get("/escritorio/")
    assert "No hay llamadas en espera." in other.text
    handoff_id = first.location.rsplit("/", 1)[1]
    assert other.get(f"/escritorio/llamadas/{handoff_id}").status_code == 200  # supervisor sees
    assert other.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "otro"}).status_code == 422  # but cannot act


def test_paying_from_an_account_that_is_not_the_callers_is_refused(dial, agent, bank):
    alphanumeric_call(dial)
    handoff_id = int(agent.take_next().location.rsplit("/", 1)[1])
    with bank.unit_of_work() as uow:
        carlos = uow.session.scalar(select(Account.id).where(Account.number == "0012340002"))
    data = pay_form(agent, handoff_id, cuenta=str(carlos))
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/pagar", data)
    assert response.status_code == 422
    assert "Esa cuenta no está disponible para esta sesión." in agent.errors()
    assert payments(bank) == []
    assert bank.agent_audit(handoff_id=handoff_id)[0]["detail"]["code"] == "account_not_owned"


def test_an_unverified_caller_keys_the_nip_in_the_ivr_then_the_agent_pays(
        dial, agent, bank, call_control):
    call = dial()
    heard = call.press("0")  # straight to an agent, never logged in
    assert call.last.transferred == "ejecutivos"
    handoff_id = int(agent.take_next().location.rsplit("/", 1)[1])
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
    assert call_control.redirects == [
        (call.call_sid, f"http://127.0.0.1:5000/ivr/queue/verify?h={handoff_id}")]
    assert "NIP de 4 dígitos de su tarjeta terminación cero, cero, cero, uno" in call.last.text
    heard = call.press("2468")
    assert "quedó verificada" in heard.text
    assert call.last.dialed == f"client:agente-{handoffs(bank)[0].agent_id}"
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


def test_a_wrong_nip_for_the_agent_counts_against_the_credential(dial, agent, bank):
    call = dial()
    call.press("0")
    handoff_id = int(agent.take_next().location.rsplit("/", 1)[1])
    agent.post(f"/escritorio/llamadas/{handoff_id}/verificar",
               {"metodo": "account", "numero": "0055500011"})
    heard = call.press("0000")
    assert "El NIP no coincide" in heard.text
    with pytest.raises(Exception) as refused:
        bank.verify_handoff_caller(handoff_id, "1111")
    assert refused.value.code == "invalid_credentials"
    assert refused.value.details["remaining"] == 1  # 2 failures so far, as a log-in counts


def test_a_malformed_number_is_said_and_no_call_is_moved(dial, agent, call_control):
    call = dial()
    call.press("0")
    handoff_id = int(agent.take_next().location.rsplit("/", 1)[1])
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/verificar",
                          {"metodo": "card", "numero": "1234"})
    assert response.status_code == 422 and "16 dígitos" in agent.text
    assert call_control.redirects == []


def test_wrap_up_needs_a_disposition_and_the_supervisor_sees_the_audit(
        dial, agent, supervisor):
    alphanumeric_call(dial)
    handoff_id = int(agent.take_next().location.rsplit("/", 1)[1])
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "nada"}).status_code == 422
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "consulta_resuelta", "notas": "dudas"}).status_code == 302
    assert agent.get("/escritorio/auditoria").status_code == 403
    supervisor.get("/escritorio/auditoria")
    assert "wrap_up" in supervisor.text and "consulta_resuelta" in supervisor.text


def test_desk_forms_need_the_csrf_token(dial, agent, bank):
    alphanumeric_call(dial)
    agent.get("/escritorio/")
    assert agent.post("/escritorio/tomar", csrf=False).status_code == 400
    assert handoffs(bank)[0].status == "waiting"


def test_a_call_back_request_is_listed_and_taken_from_the_desk(dial, agent, bank):
    call = alphanumeric_call(dial)
    call.post(f"{call.base_url}/ivr/queue/wait", call._params(QueueTime="900"))
    call.ended = False
    call._follow(f"{call.base_url}/ivr/queue/left", call._params(QueueResult="leave"))
    call.press("1")
    agent.get("/escritorio/")
    assert "Devolver llamada (<span data-count=\"callbacks\">1</span>)" in agent.text
    handoff_id = handoffs(bank)[0].id
    assert agent.post("/escritorio/tomar").location == "/escritorio/"  # not a caller on hold
    response = agent.post(f"/escritorio/devolver/{handoff_id}")
    assert response.location == f"/escritorio/llamadas/{handoff_id}"
    assert handoffs(bank)[0].status == "taken"
    assert agent.post(f"/escritorio/devolver/{handoff_id}").location == "/escritorio/"
