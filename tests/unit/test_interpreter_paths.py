"""Every path bounded: refusals count, and the ways out of a digit entry
(the interpreter with fakes, no bank, no HTTP)."""
import pytest

from ivr.interpreter import Event, Interpreter, Outcome
from ivr.menu_schema import parse_menu
from ivr.prompts import parse_prompts
from ivr.state import CallState, Sealer

PROMPTS = parse_prompts("""
prompts:
  pick: "Marque 1."
  ask: ["Su clave.", "Clave."]
  unknown: "No existe."
  read: "Correcto, 1."
  no_input: "Nada."
  no_input_entry: "Nada. Espere y le atiende un ejecutivo."
  invalid_option: "Mal."
  invalid_entry: "Mal dato."
  sorry: "No fue posible."
  bye: "Adiós."
""", source="test")

MENU = """
start: pick
defaults: {max_attempts: 3, agent: agent, on_max_attempts: limit}
nodes:
  pick: {type: menu, prompt: pick, options: {"1": key}}
  key:
    type: collect
    prompt: ask
    digits: {min: 2, max: 6}
    store: key
    next: lookup
    back: pick
  lookup: {type: action, operation: lookup, outcomes: {ok: read, unknown: unknown}}
  unknown: {type: say, prompt: unknown, next: key}
  read: {type: confirm, prompt: read, "yes": bye, "no": key}
  agent: {type: transfer, reason: caller_request}
  limit: {type: transfer, prompt: sorry, reason: max_attempts}
  bye: {type: hangup, prompt: bye}
"""


@pytest.fixture
def machine():
    def lookup(ctx):
        return Outcome("ok" if ctx.state.get("key") == "25" else "unknown")

    menu = parse_menu(MENU, source="t", prompts=PROMPTS.keys(), operations={"lookup"})
    return Interpreter(menu=menu, prompts=PROMPTS, operations={"lookup": lookup},
                       sealer=Sealer("k"))


def at_key(machine):
    state = CallState(call_sid="CA1")
    machine.start(state)
    machine.handle(state, Event("digits", "1"))
    return state


def test_refusals_count_and_the_third_ends_in_the_announced_limit(machine):
    state = at_key(machine)
    for n in (1, 2):
        reply = machine.handle(state, Event("digits", "99"))
        # said once, the whole prompt again (the caller keyed a value), counted
        assert reply.gather.says == ("No existe.", "Su clave.") and state.attempts == n
    reply = machine.handle(state, Event("digits", "98"))
    assert reply.transfer == "max_attempts" and reply.says == ("No existe.", "No fue posible.")


def test_refusals_and_other_failures_count_together(machine):
    state = at_key(machine)
    machine.handle(state, Event("digits", "99"))
    machine.handle(state, Event("digits", "7"))  # too short: a wrong entry
    assert machine.handle(state, Event("digits", "99")).transfer == "max_attempts"


def test_a_new_step_starts_its_own_count(machine):
    state = at_key(machine)
    machine.handle(state, Event("digits", "99"))
    machine.handle(state, Event("digits", "99"))
    machine.handle(state, Event("digits", "25"))
    assert state.node == "read" and state.attempts == 0
    reply = machine.handle(state, Event("digits", "2"))  # re-enter: asked afresh
    assert reply.gather.says == ("Su clave.",) and state.attempts == 0


def test_star_alone_goes_back_and_zero_alone_reaches_an_agent(machine):
    state = at_key(machine)
    reply = machine.handle(state, Event("digits", "*"))
    assert reply.gather.says == ("Marque 1.",) and state.attempts == 0
    machine.handle(state, Event("digits", "1"))
    reply = machine.handle(state, Event("digits", "0"))  # a key needs 2 digits
    assert reply.transfer == "caller_request" and reply.says == ()


def test_a_second_silence_at_an_entry_reaches_an_agent(machine):
    state = at_key(machine)
    reply = machine.handle(state, Event("no_input"))
    assert reply.gather.says == ("Nada. Espere y le atiende un ejecutivo.", "Clave.")
    assert machine.handle(state, Event("no_input")).transfer == "caller_request"


def test_keys_between_silences_reset_the_offer(machine):
    state = at_key(machine)
    machine.handle(state, Event("no_input"))
    machine.handle(state, Event("digits", "25"))
    machine.handle(state, Event("digits", "2"))  # back at the entry, keys pressed since
    reply = machine.handle(state, Event("no_input"))
    assert reply.gather is not None and reply.gather.says[0].startswith("Nada. Espere")
