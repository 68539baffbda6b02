"""An agent domiciles a service for a verified caller, sees the caller's
domiciliations and cancels one; each action is in the audit log, in one
transaction with what it did."""
import datetime as dt
import re

import pytest

from sqlalchemy import select

from banking_core.models import Account, Domiciliation
from tests.desk.test_desk import alphanumeric_call
from tests.integration.helpers import without_demo_domiciliations
from tests.web.conftest import OPERATION


@pytest.fixture(autouse=True)
def no_demo_domiciliations(bank):
    without_demo_domiciliations(bank)


def domiciliations(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalars(select(Domiciliation).order_by(Domiciliation.id)).all()


def on_the_line(dial, agent):
    alphanumeric_call(dial)
    handoff_id = agent.take()
    agent.connect(handoff_id)
    return handoff_id


def domicile_form(agent, bank, handoff_id, **fields):
    agent.get(f"/escritorio/llamadas/{handoff_id}?domiciliar=1411")
    assert "Domiciliar Runtime WiFi Internet residencial · 1411" in agent.text
    operation = OPERATION.findall(agent.text)[-1]
    today = bank.clock().astimezone(bank.policy.timezone).date()
    data = {"operacion": operation, "servicio": "1411", "referencia1": "9876543217",
            "cuenta": agent.account_id("5671"), "modo": "facturado", "importe": "",
            "tope": "800.00", "dia": "21", "inicio": today.isoformat(), "fin": ""}
    data.update(fields)
    return data


def test_an_agent_domiciles_a_service_for_the_caller_and_cancels_it(dial, agent, bank):
    handoff_id = on_the_line(dial, agent)
    data = domicile_form(agent, bank, handoff_id)
    done = agent.post(f"/escritorio/llamadas/{handoff_id}/domiciliar", data)
    assert done.status_code == 303, agent.errors()
    again = agent.post(f"/escritorio/llamadas/{handoff_id}/domiciliar", data)  # double submit
    assert again.status_code == 303
    [dom] = domiciliations(bank)
    assert (dom.created_channel, dom.agent_id, dom.amount_mode, dom.ceiling_centavos) == \
        ("agent", agent.id, "billed", 80000)
    agent.get(done.location)
    assert "Domiciliación registrada: primer cargo el" in agent.text
    item = re.search(rf'<li data-domiciliacion="{dom.id}">(.*?)</li>', agent.text, re.S).group(1)
    assert "lo facturado, hasta $800.00" in item and "día 21" in item and "Activa" in item

    cancelled = agent.post(f"/escritorio/llamadas/{handoff_id}/domiciliaciones/{dom.id}/cancelar")
    assert cancelled.status_code == 303 and domiciliations(bank)[0].status == "cancelled"
    actions = [(a["action"], a["detail"].get("service_key"))
               for a in bank.agent_audit(handoff_id=handoff_id)]
    assert actions[:2] == [("domiciliation_cancelled", "1411"), ("domiciliation_created", "1411")]
    agent.get(f"/escritorio/llamadas/{handoff_id}")
    assert "Domicilió un servicio para el cliente · servicio 1411 · día 21 de cada mes" in agent.text


def test_a_refused_domiciliation_is_said_by_field_and_audited(dial, agent, bank):
    handoff_id = on_the_line(dial, agent)
    with bank.unit_of_work() as uow:
        carlos = uow.session.scalar(select(Account.id).where(Account.number == "0012340002"))
    data = domicile_form(agent, bank, handoff_id, cuenta=str(carlos))
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/domiciliar", data)
    assert response.status_code == 422
    assert "Esa cuenta no está disponible para esta sesión." in agent.errors()
    data = domicile_form(agent, bank, handoff_id, dia="40")
    agent.post(f"/escritorio/llamadas/{handoff_id}/domiciliar", data)
    assert "Elija un día del mes, del 1 al 31." in agent.errors()
    assert 'value="40"' in agent.text
    assert domiciliations(bank) == []
    refusals = [a["detail"]["code"] for a in bank.agent_audit(handoff_id=handoff_id)
                if a["action"] == "domiciliation_refused"]
    assert refusals == ["invalid_schedule", "account_not_owned"]


def test_an_unverified_caller_gets_no_domiciliation(dial, agent, bank):
    call = dial(caller="+525555555555")
    call.press("0")
    handoff_id = agent.take()
    agent.get(f"/escritorio/llamadas/{handoff_id}?domiciliar=1411")
    assert "Domiciliaciones del cliente" not in agent.text
    response = agent.post(f"/escritorio/llamadas/{handoff_id}/domiciliar", {
        "operacion": "a" * 32, "servicio": "1411", "referencia1": "9876543217",
        "cuenta": "1", "modo": "fijo", "importe": "349.00", "dia": "21",
        "inicio": dt.date.today().isoformat()})
    assert response.status_code == 422 and domiciliations(bank) == []
    assert "Verifique primero la identidad del cliente." in agent.text
