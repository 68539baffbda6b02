"""The interpreter with fakes: a small menu, fake operations, no bank, no HTTP."""
import pytest

from ivr.interpreter import Event, Interpreter, MenuRuntimeError, Outcome
from ivr.menu_schema import MenuError, parse_menu
from ivr.prompts import parse_prompts
from ivr.state import CallState, Sealer

PROMPTS = parse_prompts("""
prompts:
  hello: "Hola."
  pick: ["Marque 1 para pedir, 2 para salir.", "1 pedir, 2 salir."]
  ask: "Su número de {size} dígitos."
  secret: "Su NIP."
  echo: "Usted marcó {entry:digits}."
  no_input: "Nada."
  invalid_option: "Mal."
  invalid_entry: "Mal dato."
  agent: "Con un ejecutivo."
  bye: "Adiós."
""", source="test")

MENU = """
start: hello
defaults: {max_attempts: 3, agent: agent, on_max_attempts: agent}
nodes:
  hello: {type: say, prompt: hello, next: pick}
  pick:
    type: menu
    prompt: pick
    options: {"1": {goto: ask, set: {size: "3"}}, "2": bye}
  ask:
    type: collect
    prompt: ask
    digits: {min: 2, max: "$size"}
    store: entry
    next: nip
  nip:
    type: collect
    prompt: secret
    digits: {length: 4}
    store: nip
    secret: transient
    next: check
    max_attempts: 1
    on_max_attempts: bye
  check: {type: action, operation: check, outcomes: {ok: echo, bad: pick}}
  echo: {type: say, prompt: echo, next: leave}
  leave: {type: goto, next: bye}
  agent: {type: transfer, prompt: agent, reason: asked}
  bye: {type: hangup, prompt: bye}
"""


@pytest.fixture
def seen():
    return []


@pytest.fixture
def machine(seen):
    def check(ctx):
        seen.append(dict(ctx.transient))
        return Outcome("ok" if ctx.transient.get("nip") == "1234" else "bad")

    menu = parse_menu(MENU, source="t", prompts=PROMPTS.keys(), operations={"check"})
    return Interpreter(menu=menu, prompts=PROMPTS, operations={"check": check},
                       sealer=Sealer("k"))


def test_say_nodes_run_into_the_first_menu(machine):
    state = CallState(call_sid="CA1")
    reply = machine.start(state)
    assert reply.gather.says == ("Hola.", "Marque 1 para pedir, 2 para salir.")
    assert reply.gather.num_digits == 1 and state.node == "pick"


def test_set_values_shape_later_digit_specs_and_prompts(machine):
    state = CallState(call_sid="CA1")
    machine.start(state)
    reply = machine.handle(state, Event("digits", "1"))
    assert reply.gather.says == ("Su número de 3 dígitos.",)
    assert reply.gather.num_digits is None and reply.gather.finish_on_key == "#"
    reply = machine.handle(state, Event("digits", "1234"))  # over $size
    assert reply.gather.says[0] == "Mal dato."  # an entry, not an option


def test_transient_values_reach_the_action_and_are_never_stored(machine, seen):
    state = CallState(call_sid="CA1")
    machine.start(state)
    machine.handle(state, Event("digits", "1"))
    machine.handle(state, Event("digits", "42"))
    reply = machine.handle(state, Event("digits", "1234"))
    assert seen == [{"nip": "1234"}]
    assert "1234" not in state.to_json()
    assert reply.hangup and reply.says == ("Usted marcó cuatro dos.", "Adiós.")


def test_tapered_reprompts_then_the_escalation(machine):
    state = CallState(call_sid="CA1")
    machine.start(state)
    reply = machine.handle(state, Event("no_input"))
    assert reply.gather.says == ("Nada.", "1 pedir, 2 salir.")
    reply = machine.handle(state, Event("digits", "7"))
    assert reply.gather.says == ("Mal.", "1 pedir, 2 salir.")
    reply = machine.handle(state, Event("no_input"))
    assert reply.transfer == "asked" and reply.says == ("Con un ejecutivo.",)
    assert state.vars["transfer_reason"] == "max_attempts"


def test_zero_and_star_at_a_menu(machine):
    state = CallState(call_sid="CA1")
    machine.start(state)
    again = machine.handle(state, Event("digits", "*"))
    assert again.gather.says == ("Marque 1 para pedir, 2 para salir.",) and state.attempts == 0
    assert machine.handle(state, Event("digits", "0")).transfer == "asked"


def test_an_outcome_the_menu_does_not_handle_is_a_loud_error(machine):
    machine.operations["check"] = lambda ctx: Outcome("surprise")
    state = CallState(call_sid="CA1")
    machine.start(state)
    machine.handle(state, Event("digits", "1"))
    machine.handle(state, Event("digits", "42"))
    with pytest.raises(MenuRuntimeError, match="outcome 'surprise'"):
        machine.handle(state, Event("digits", "1234"))


def test_a_node_may_name_its_own_escalation(machine):
    state = CallState(call_sid="CA1")
    machine.start(state)
    machine.handle(state, Event("digits", "1"))
    machine.handle(state, Event("digits", "42"))
    reply = machine.handle(state, Event("no_input"))  # one failure allowed at "nip"
    assert reply.hangup and reply.says == ("Adiós.",)


NAMESPACED = """
start: pick
defaults: {max_attempts: 3, agent: bye, on_max_attempts: bye}
nodes:
  pick:
    type: menu
    prompt: pick
    options: {"1": {goto: ask, set: {order.size: "3"}}, "2": bye}
  ask:
    type: collect
    prompt: ask
    digits: {min: 2, max: "$order.size"}
    store: order.entry
    next: echo
  echo: {type: say, prompt: echo, next: again}
  again: {type: action, operation: again, outcomes: {ok: pick}}
  bye: {type: hangup, prompt: bye}
"""


def test_a_namespace_keeps_its_values_together_and_prompts_read_them_by_name():
    def again(ctx):
        ctx.state.forget("order")
        return Outcome("ok", {"rounds": ctx.state.get("rounds", 0) + 1})

    machine = Interpreter(menu=parse_menu(NAMESPACED, source="test", prompts=PROMPTS.keys(),
                                          operations={"again"}),
                          prompts=PROMPTS, operations={"again": again}, sealer=Sealer("k" * 32))
    state = CallState(call_sid="CA1")
    machine.start(state)
    machine.handle(state, Event("digits", "1"))
    assert state.vars == {"order": {"size": "3"}}
    too_long = machine.handle(state, Event("digits", "1234"))  # more than $order.size
    assert too_long.gather.says[0] == "Mal dato."
    reply = machine.handle(state, Event("digits", "123"))
    assert str(reply.gather.says[0]) == "Usted marcó uno dos tres."
    # The action cleared the namespace as one; the call's own values stay.
    assert state.vars == {"rounds": 1}
    assert CallState.from_json(state.to_json()).get("rounds") == 1


HINTED = """
start: a
defaults: {max_attempts: 3, timeout: 5, agent: bye, on_max_attempts: bye}
nodes:
  a: {type: collect, prompt: ask, hint: ways, digits: {length: 2}, store: x, next: b, back: a}
  b: {type: collect, prompt: ask, hint: ways, digits: {length: 2}, store: y, next: bye, back: a}
  bye: {type: hangup, prompt: bye}
"""


def test_a_hint_is_said_once_a_call_where_it_first_applies():
    prompts = parse_prompts('language: es-MX\nvoice: v\nprompts:\n'
                            '  ask: "Marque 2 dígitos."\n  ways: "Asterisco regresa."\n'
                            '  bye: "Adiós."\n  no_input: "Nada."\n  no_input_entry: "Nada."\n'
                            '  invalid_option: "Mal."\n  invalid_entry: "Mal dato."\n',
                            source="p.yaml")
    menu = parse_menu(HINTED, source="m.yaml", prompts=prompts.keys(), operations=set())
    machine = Interpreter(menu=menu, prompts=prompts, operations={}, sealer=Sealer("k" * 32))
    state = CallState(call_sid="CA1")
    assert machine.start(state).gather.says == ("Marque 2 dígitos.", "Asterisco regresa.")
    # Asked again (a wrong entry), and at the next node using the same hint: not again.
    assert "Asterisco regresa." not in machine.handle(state, Event("digits", "123")).gather.says
    assert machine.handle(state, Event("digits", "12")).gather.says == ("Marque 2 dígitos.",)


def test_a_hint_must_name_a_prompt():
    with pytest.raises(MenuError, match="missing hint 'nope'"):
        parse_menu(HINTED.replace("hint: ways, digits", "hint: nope, digits", 1), source="m.yaml",
                   prompts={"ask", "ways", "bye"}, operations=set())
