"""The desk: an agent sees the calls they took and those still waiting for
any agent; a supervisor sees all (finding 7: any agent could open any
unassigned or closed call's screen pop, 56 of 59)."""
import pytest

from banking_core import loader
from tests.desk.conftest import Agent

SECOND_AGENT = """
agents:
  - {username: agente2, name: Rosa Ibarra, password: agente-demo-2, role: agent}
"""


@pytest.fixture
def other_agent(desk_app, twilio):
    loader.load_bank_file(desk_app.extensions["bank"],
                          loader.parse_bank_file(SECOND_AGENT, source="test"))
    other = Agent(desk_app, twilio, "agente2", "agente-demo-2")
    assert other.log_in().status_code == 302
    return other


def _waiting_call(dial):
    call = dial()
    call.press("1")
    call.press("10000001")
    call.press("1357")
    call.press("0")  # Ana asks for an agent
    assert call.last.transferred == "ejecutivos"
    return call


def test_another_agents_call_is_not_mine_to_see(dial, agent, other_agent, supervisor):
    _waiting_call(dial)
    handoff_id = other_agent.take()
    assert agent.get(f"/escritorio/llamadas/{handoff_id}").status_code == 404
    assert agent.get(f"/escritorio/llamadas/{handoff_id}.json").status_code == 404
    listed = agent.get("/escritorio/llamadas.json").get_json()
    assert all(row["id"] != handoff_id for rows in listed.values() for row in rows)
    assert supervisor.get(f"/escritorio/llamadas/{handoff_id}").status_code == 200
    seen = supervisor.get("/escritorio/llamadas.json").get_json()
    assert any(row["id"] == handoff_id for row in seen["in_progress"])


def test_a_closed_call_nobody_took_is_nobodys_to_open(dial, agent, supervisor, desk_app):
    call = _waiting_call(dial)
    listed = agent.get("/escritorio/llamadas.json").get_json()
    handoff_id = listed["waiting"][0]["id"]
    assert agent.get(f"/escritorio/llamadas/{handoff_id}").status_code == 200  # waiting: takeable
    call.hang_up()  # abandoned in line
    response = agent.get(f"/escritorio/llamadas/{handoff_id}")
    assert response.status_code == 404 and "Ana" not in response.get_data(as_text=True)
    assert supervisor.get(f"/escritorio/llamadas/{handoff_id}").status_code == 200


def test_an_agent_keeps_seeing_the_calls_they_closed(dial, agent):
    _waiting_call(dial)
    handoff_id = agent.take()
    assert agent.get(f"/escritorio/llamadas/{handoff_id}").status_code == 200
