"""A call's state and its recorded turns as JSON text (ivr/state.py,
to_text / from_text, orjson): the same values as json's text reads back to,
and a state written by json (a worker of the release before, during a
rolling deploy) reads back whole."""
import json

from ivr.state import CallState, from_text, to_text


def a_state() -> CallState:
    state = CallState(call_sid="CA" + "7" * 32, node="payment.amount", turn=12, attempts=1,
                      caller="+523336693552", language="es-MX", started_at=1795991719.6659398)
    state.set("customer_name", "Ana López")
    state.set("payment.amount", 1_234_567)
    state.set("payment.reference", "00012345678901234567")
    state.set("hints_heard", ["ways_out_entry", "ways_out_menu"])
    state.vars["by_number"] = {1: "uno", 2.5: "dos y medio", None: "nada"}
    state.sealed["session"] = "gAAAAABrDKin" + "x" * 100
    state.principal = {"customer_id": 1, "customer_name": "Ana López", "account_ids": [6, 7, 8]}
    state.last_reply = {"key": "3c4b0584f12b63ddd8f24da4e7049f9e",
                        "twiml": '<?xml version="1.0"?><Response><Say>Año: ñ, ü</Say></Response>'}
    state.recording = [{"turn": 12}]
    return state


def test_the_text_reads_back_to_what_json_text_reads_back_to():
    state = a_state()
    fields = {k: v for k, v in vars(state).items() if k != "recording"}
    assert json.loads(state.to_json()) == json.loads(json.dumps(fields))
    assert from_text(state.to_json()) == json.loads(json.dumps(fields))


def test_a_state_goes_round_the_store_whole():
    state = a_state()
    again = CallState.from_json(state.to_json())
    assert again.recording == []  # the recording is kept beside the state
    again.recording = state.recording
    state.vars["by_number"] = {"1": "uno", "2.5": "dos y medio", "null": "nada"}
    assert again == state
    assert again.started_at == 1795991719.6659398  # every digit of the float


def test_a_state_written_by_json_reads_back():
    state = a_state()
    fields = {k: v for k, v in vars(state).items() if k != "recording"}
    written_before = json.dumps(fields)  # ensure_ascii: "L\\u00f3pez"
    assert "\\u00f3" in written_before
    assert CallState.from_json(written_before) == CallState.from_json(state.to_json())


def test_a_recorded_turn_is_compact_utf8_json():
    entry = {"turn": 3, "says": ["Para sus cuentas de cheques, ahorro o nómina, marque 1."],
             "keys": "*"}
    text = to_text(entry)
    assert text == ('{"turn":3,"says":["Para sus cuentas de cheques, ahorro o nómina, '
                    'marque 1."],"keys":"*"}')
    assert json.loads(text) == entry == from_text(text)
