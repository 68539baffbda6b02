"""The hand-off with two (or more) live legs: callers and agents' softphones,
all on one simulated Twilio. Whoever the desk shows is whom the agent talks
to; no caller is dropped, left in a line nobody serves, or shown as waiting
after hanging up."""
import datetime as dt

import pytest
from sqlalchemy import select

from banking_core.models import Handoff
from tests.desk.conftest import Agent
from tests.desk.test_desk import alphanumeric_call, handoffs
from tests.e2e.test_call_flow import login_with_access_key


def handoff(bank, call):
    return bank.find_handoff_by_call(call.call_sid)


def waiting_on_desk(agent) -> list[str]:
    agent.get("/escritorio/llamadas.json")
    return [row["caller"] for row in agent.last.get_json()["waiting"]]


# ---- every reason goes the same way --------------------------------------------
def to_an_agent_by_zero(call):
    return call.press("0")


def to_an_agent_by_letters(call):
    login_with_access_key(call)
    for keys in ("1", "2", "5", "2", "5671", "1"):
        call.press(keys)
    return call.press("2088#")


def to_an_agent_by_attempts(call):
    call.silence()
    call.press("8")  # a wrong key: 9 is English
    return call.silence()


def to_an_agent_by_a_block(call):
    for n in range(3):  # * back to the log-in menu: the step's own limit is not reached
        if n:
            call.press("*")
        call.press("1")
        call.press("10000004")
        call.press("0000")
    return call.press("0")  # the block is said like any failure; 0 reaches an agent


def to_an_agent_by_an_ambiguous_account(call):
    call.press("1")
    call.press("10000003")
    call.press("4680")
    for keys in ("1", "2", "5", "2"):
        call.press(keys)
    return call.press("4321")


def to_an_agent_by_a_technical_problem(call, monkeypatch, bank):
    def broken(*args, **kwargs):
        raise RuntimeError("the core is unreachable")
    monkeypatch.setattr(bank, "authenticate", broken)
    call.press("1")
    call.press("10000001")
    return call.press("1357")


@pytest.mark.parametrize("reason, route", [
    ("caller_request", to_an_agent_by_zero),
    ("alphanumeric_reference", to_an_agent_by_letters),
    ("max_attempts", to_an_agent_by_attempts),
    ("credential_blocked", to_an_agent_by_a_block),
    ("ambiguous_account", to_an_agent_by_an_ambiguous_account),
    ("technical_problem", to_an_agent_by_a_technical_problem),
])
def test_every_transfer_reason_reaches_an_agent_who_talks_to_that_caller(
        reason, route, dial, agent, bank, monkeypatch):
    call = dial()
    arguments = (monkeypatch, bank) if reason == "technical_problem" else ()
    heard = route(call, *arguments)
    assert heard.transfer["attributes"]["waitUrl"].endswith("/ivr/queue/wait")
    assert "en la fila" in heard.text  # the wait URL: the place in line, then music
    assert heard.plays[-1].endswith("BusyStrings.mp3")
    monkeypatch.undo()
    found = handoff(bank, call)
    assert (found.status, found.reason, found.caller_at) == ("waiting", reason, "queue")
    assert agent.take() == found.id
    leg = agent.connect()  # the softphone names no call: the one this agent holds
    assert leg.talking_to() == {call.leg}
    assert "Le comunicamos con su ejecutivo" in call.last.text
    call.hang_up()
    assert "El cliente colgó" in leg.last.text or "terminó" in leg.last.text
    assert leg.ended and handoff(bank, call).caller_at == "gone"


# ---- the right caller, every time ----------------------------------------------------
def test_a_caller_who_hangs_up_during_the_transfer_prompt_never_reaches_the_desk(
        dial, agent, bank):
    a = dial(caller="+523336693552")
    a.leg.stop_before("Enqueue")  # still hearing "Le transferimos con un ejecutivo…"
    a.press("0")
    assert handoff(bank, a).status == "transferring" and waiting_on_desk(agent) == []
    a.hang_up()
    b = dial(caller="+525512345678")
    b.press("0")
    assert waiting_on_desk(agent) == ["+525512345678"]
    handoff_id = agent.take()
    agent.get(f"/escritorio/llamadas/{handoff_id}")
    assert "+525512345678" in agent.text and "+523336693552" not in agent.text
    leg = agent.connect(handoff_id)
    assert leg.talking_to() == {b.leg}
    assert handoff(bank, a).status == "abandoned"


def test_callers_are_taken_in_the_order_they_reached_the_line_not_the_order_they_asked(
        dial, desk_app, twilio, agent, bank):
    a = dial(caller="+523336693552")
    a.leg.stop_before("Enqueue")
    alphanumeric_call(lambda: a)  # a long transfer prompt, still playing…
    b = dial(caller="+525512345678")
    b.press("0")  # …while b's short one ends and b is in line first
    a.leg.resume()
    assert waiting_on_desk(agent) == ["+525512345678", "+523336693552"]
    other = Agent(desk_app, twilio, "supervisor", "supervisor-demo-1")
    other.log_in()
    first, second = agent.take(), other.take()
    agent.get(f"/escritorio/llamadas/{first}")
    assert "sin identificar" in agent.text  # b never logged in
    other.get(f"/escritorio/llamadas/{second}")
    assert "Ana López" in other.text
    assert agent.connect(first).talking_to() == {b.leg}
    assert other.connect(second).talking_to() == {a.leg}


def test_two_agents_racing_for_one_call_one_gets_it_and_only_that_one_is_bridged(
        dial, desk_app, twilio, agent):
    call = alphanumeric_call(dial)
    other = Agent(desk_app, twilio, "supervisor", "supervisor-demo-1")
    other.log_in()
    first, second = agent.take_next(), other.take_next()
    handoff_id = int(first.location.rsplit("/", 1)[1])
    assert second.location == "/escritorio/"
    other.get("/escritorio/")
    assert "No hay llamadas en espera." in other.text
    loser = other.connect(handoff_id)  # forcing the id is no help
    assert "No tiene una llamada asignada" in loser.last.text and loser.ended
    assert not call.leg.ended and call.leg.state == "queue"
    assert agent.connect(handoff_id).talking_to() == {call.leg}
    assert other.get(f"/escritorio/llamadas/{handoff_id}").status_code == 200  # supervisor sees
    assert other.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "otro"}).status_code == 422  # but cannot act


def keying_the_nip(dial, agent):
    """A caller who never logged in, talking to the agent, sent to key the NIP."""
    call = dial()
    call.press("0")
    handoff_id = agent.take()
    leg = agent.connect(handoff_id)
    agent.post(f"/escritorio/llamadas/{handoff_id}/verificar",
               {"metodo": "card", "numero": "4152310000000001"})
    return call, leg, handoff_id


# ---- hanging up at every stage ------------------------------------------------------
def test_a_caller_who_hangs_up_in_line_leaves_the_desk(dial, agent, bank):
    call = alphanumeric_call(dial)
    assert len(waiting_on_desk(agent)) == 1
    call.hang_up()
    assert waiting_on_desk(agent) == []
    assert handoff(bank, call).status == "abandoned"


def test_a_caller_who_hangs_up_after_the_take_is_said_to_the_agents_phone(dial, agent, bank):
    call = alphanumeric_call(dial)
    handoff_id = agent.take()
    call.hang_up()
    leg = agent.connect(handoff_id)
    assert "El cliente colgó" in leg.last.text and leg.ended
    agent.get(f"/escritorio/llamadas/{handoff_id}.json")
    assert agent.last.get_json()["caller_at_text"] == "colgó"
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "cliente_colgo"}).status_code == 302


def test_a_caller_gone_between_the_take_and_the_dequeue_is_said_too(dial, agent, bank, twilio):
    call = alphanumeric_call(dial)
    handoff_id = agent.take()
    call.leg.enqueued["queue"].members.remove(call.leg)  # Twilio lost it: not in line
    leg = agent.connect(handoff_id)
    assert "El cliente colgó" in leg.last.text
    assert handoff(bank, call).caller_at == "gone"
    call.leg.enqueued["queue"].members.append(call.leg)  # so its hang-up is tidy
    call.hang_up()


def test_a_caller_who_hangs_up_while_talking_ends_the_agents_call(dial, agent, bank):
    call = alphanumeric_call(dial)
    handoff_id = agent.take()
    leg = agent.connect(handoff_id)
    call.hang_up()
    assert "La llamada con el cliente terminó" in leg.last.text and leg.ended
    agent.get(f"/escritorio/llamadas/{handoff_id}")
    assert "colgó" in agent.text
    found = handoff(bank, call)
    assert found.status == "taken" and found.caller_at == "gone"  # the agent wraps up


def test_a_caller_who_hangs_up_while_keying_the_nip_frees_the_held_agent(dial, agent, bank):
    call, leg, handoff_id = keying_the_nip(dial, agent)
    assert leg.talking_to() == set()  # on hold
    call.hang_up()
    assert leg.ended and "La llamada con el cliente terminó" in leg.last.text
    assert handoff(bank, call).caller_at == "gone"


def test_an_agent_who_wraps_up_while_the_caller_keys_the_nip_is_said_not_404(
        dial, agent, twilio):
    call, leg, handoff_id = keying_the_nip(dial, agent)
    leg.hang_up()
    assert agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar",
                      {"disposicion": "otro"}).status_code == 302
    heard = call.press("2468")
    assert "No fue posible verificar su NIP" in heard.text
    assert "Su ejecutivo terminó la llamada" in heard.text and call.leg.ended


def test_an_agent_whose_phone_drops_while_the_caller_keys_the_nip_hands_the_caller_back_in_line(
        dial, desk_app, twilio, agent, bank):
    call, leg, handoff_id = keying_the_nip(dial, agent)
    leg.hang_up()  # the browser crashed; the agent never wrapped up
    heard = call.press("2468")
    assert "quedó verificada" in heard.text and "siguiente ejecutivo disponible" in heard.text
    assert call.leg.state == "queue"
    other = Agent(desk_app, twilio, "supervisor", "supervisor-demo-1")
    other.log_in()
    assert other.take() == handoff_id
    other.get(f"/escritorio/llamadas/{handoff_id}")
    assert "Ana López" in other.text  # what the first agent verified stays
    assert other.connect(handoff_id).talking_to() == {call.leg}


# ---- nobody waits forever ---------------------------------------------------------------
def test_a_long_wait_ends_with_an_offer_to_call_back(dial, bank, twilio, desk_settings):
    call = alphanumeric_call(dial)
    twilio.advance(desk_settings.max_queue_minutes * 60 - 1)
    assert call.leg.state == "queue"
    twilio.advance(1)
    assert "la espera es mayor a la acostumbrada" in call.last.text
    assert "devuelva la llamada" in call.last.text and call.last.gather
    assert handoff(bank, call).status == "transferring"  # out of line, not offered
    heard = call.press("1")
    assert "terminación tres cinco cinco dos" in heard.text and call.leg.ended
    assert handoff(bank, call).status == "callback"


def test_a_long_wait_declined_is_abandoned(dial, bank, twilio, desk_settings):
    call = alphanumeric_call(dial)
    twilio.advance(desk_settings.max_queue_minutes * 60)
    call.press("2")
    assert call.leg.ended and handoff(bank, call).status == "abandoned"


def test_a_withheld_number_is_never_promised_a_call_back(dial, bank, twilio, desk_settings):
    call = dial(caller="+266696687")  # Twilio's keypad spelling of ANONYMOUS
    call.press("0")
    assert handoff(bank, call).caller is None
    twilio.advance(desk_settings.max_queue_minutes * 60)
    assert "no podemos devolverle la llamada" in call.last.text
    assert "marque 1" not in call.last.text and call.leg.ended


@pytest.mark.parametrize("desk_env", [{"AGENT_HOURS": "mon-fri 08:00-20:00"}])
def test_outside_agent_hours_the_caller_is_told_and_offered_a_call_back(
        dial, agent, bank, monkeypatch, desk_env):
    saturday_noon = dt.datetime(2026, 11, 21, 18, 0, tzinfo=dt.timezone.utc)  # 12:00 CDMX
    monkeypatch.setattr(bank, "clock", lambda: saturday_noon)
    call = dial()
    heard = call.press("0")  # asks for an agent
    assert "no hay ejecutivos disponibles" in heard.text
    assert "de lunes a viernes de las ocho de la mañana a las ocho de la noche" in heard.text
    assert call.last.gather and not call.last.transferred and call.leg.state == "gather"
    assert handoffs(bank) == [] and waiting_on_desk(agent) == []
    heard = call.press("2")
    assert "Gracias por llamar" in heard.text and call.leg.ended
    call2 = dial()
    call2.press("0")
    call2.press("1")
    assert [h.status for h in handoffs(bank)] == ["callback"]


# ---- when a part fails ---------------------------------------------------------------------
def test_when_twilios_api_is_down_the_agent_hears_it_and_the_caller_stays_in_line(
        dial, agent, twilio, bank):
    call = alphanumeric_call(dial)
    handoff_id = agent.take()
    twilio.rest.down = True
    leg = agent.connect(handoff_id)
    assert "No fue posible comunicarle con el cliente" in leg.last.text
    assert call.leg.state == "queue" and handoff(bank, call).caller_at == "queue"
    twilio.rest.down = False
    assert agent.connect(handoff_id).talking_to() == {call.leg}


def test_a_failing_wait_url_still_answers_a_wait_document(dial, bank, monkeypatch, twilio):
    def unreachable(*args, **kwargs):
        raise RuntimeError("database unreachable")
    monkeypatch.setattr(bank, "caller_enqueued", unreachable)
    call = dial()
    heard = call.press("0")
    assert heard.plays[-1].endswith("BusyStrings.mp3") and call.leg.state == "queue"
    monkeypatch.undo()
    twilio.advance(30)  # the next round records the caller for the desk
    assert handoff(bank, call).status == "waiting"


def test_a_transfer_while_the_database_is_down_is_seen_by_the_desk_once_it_is_back(
        dial, agent, bank, monkeypatch, twilio):
    def unreachable(*args, **kwargs):
        raise RuntimeError("database unreachable")
    call = dial()
    monkeypatch.setattr(bank, "open_handoff", unreachable)
    monkeypatch.setattr(bank, "caller_enqueued", unreachable)
    heard = call.press("0")
    assert heard.transferred == "ejecutivos" and handoffs(bank) == []
    monkeypatch.undo()
    twilio.advance(30)
    assert waiting_on_desk(agent) == ["+523336693552"]
    assert agent.connect(agent.take()).talking_to() == {call.leg}


# ---- only the desk's softphones --------------------------------------------------------------
def test_a_call_to_the_twiml_app_from_anything_but_an_agents_softphone_is_refused(
        dial, agent, twilio, bank):
    call = alphanumeric_call(dial)
    handoff_id = agent.take()
    stranger = twilio.softphone("agente_999").connect(handoff=str(handoff_id))
    assert "no está autorizado" in stranger.last.text and stranger.ended
    spoofed = twilio.softphone(f"agente_{agent.id}")
    twilio.twiml_app_sid = "AP" + "9" * 32  # another account's app pointed at our URL
    wrong_app = spoofed.connect(handoff=str(handoff_id))
    assert "no está autorizado" in wrong_app.last.text
    assert call.leg.state == "queue"  # nobody was bridged
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(Handoff.agent_call_sid)) is None


def test_an_error_inside_the_wait_url_answers_hold_music_not_a_transfer(
        dial, monkeypatch, twilio, capsys):
    import ivr.queue

    call = dial()
    call.press("0")
    monkeypatch.setattr(ivr.queue, "hold_music", lambda response: 1 / 0)
    twilio.advance(30)  # Twilio loops the wait URL, which now fails inside
    assert call.leg.state == "queue"  # still in line: no <Enqueue> inside a wait document
    assert call.last.plays[-1].endswith("BusyStrings.mp3")
    assert "ivr_turn_failed" in capsys.readouterr().err
