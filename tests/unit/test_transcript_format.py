"""The transcript format: what a tester writes, and the errors a bad file gets."""
import pytest

from qa.runner import evaluate
from qa.transcript import TranscriptError, parse_transcript, spoken_digits


def parse(text):
    return parse_transcript(text, source="t.yaml")


def error(text) -> str:
    with pytest.raises(TranscriptError) as caught:
        parse(text)
    return str(caught.value)


def test_a_transcript_reads_as_steps_with_their_lines():
    t = parse('name: pago\nsteps:\n  - ivr: "Bienvenido"\n  - press: "1"\n  - silence\n'
              '  - expect_transfer\n')
    assert [s.action for s in t.steps] == ["ivr", "press", "silence", "expect_transfer"]
    assert [s.line for s in t.steps] == [3, 4, 5, 6]
    assert t.steps[3].value == {}


def test_an_unknown_action_names_file_step_line_and_suggests():
    message = error('steps:\n  - ivr: "hola"\n  - pres: "1"\n')
    assert message.startswith("t.yaml: step 2 (line 3): unknown action 'pres'")
    assert "did you mean press?" in message


def test_keys_written_as_a_number_are_refused_because_yaml_drops_leading_zeros():
    message = error("steps:\n  - press: 0055500011\n")
    assert "step 1 (line 2)" in message and 'write the keys in quotes' in message


def test_keys_must_be_phone_keys():
    assert "only 0-9, * and # can be keyed" in error('steps:\n  - press: "12a"\n')


def test_a_bad_regular_expression_is_named_not_raised():
    message = error('steps:\n  - ivr: {regex: "folio (es"}\n')
    assert "step 1 (line 2): ivr: bad regular expression 'folio (es'" in message


def test_a_capture_used_before_it_is_captured_is_an_error():
    message = error('steps:\n  - ivr: "folio es {{folio}}"\n'
                    '  - ivr: {regex: "folio es (?P<folio>[a-z, ]+)"}\n')
    assert "step 1 (line 2): {{folio}} is neither a var nor captured" in message


def test_unknown_check_fields_and_bad_amounts_are_named():
    assert "payment has unknown field(s) monto" in error(
        "steps:\n  - check: {payment: {monto: 1}}\n")
    assert "payment.amount:" in error('steps:\n  - check: {payment: {amount: "650.5.0"}}\n')


def test_not_yaml_and_missing_steps_say_so():
    assert error("steps: [").startswith("t.yaml: not valid YAML")
    assert "expected a mapping with `steps:`" in error("name: x\n")


def test_currency_is_literal_text_never_a_variable():
    t = parse('steps:\n  - ivr: "de $1.00 a $50,000.00"\n')
    ok, _ = evaluate(t.steps[0].value, "El importe no es válido: de $1.00 a $50,000.00.", {})
    assert ok
    ok, _ = evaluate(t.steps[0].value, "de 1.00 a 50,000.00", {})
    assert not ok


def test_expectations_substring_regex_any_not_and_captures():
    t = parse('steps:\n'
              '  - ivr: ["pago REALIZADO", {regex: "folio es (?P<folio>[a-z, ]+)\\\\."}]\n'
              '  - ivr: {any: ["no existe", "folio es {{folio}}"]}\n'
              '  - ivr: {not: "no existe"}\n')
    heard = "Pago realizado. Su folio es uno dos tres."
    ok, captured = evaluate(t.steps[0].value, heard, {})
    assert ok and captured == {"folio": "uno dos tres"}
    assert evaluate(t.steps[1].value, heard, captured)[0]
    assert evaluate(t.steps[2].value, heard, captured)[0]
    assert not evaluate(t.steps[2].value, "la clave no existe", captured)[0]


def test_spoken_digits_turn_back_into_digits():
    assert spoken_digits("cinco seis siete uno") == "5671"
    assert spoken_digits("nueve ocho siete, seis cinco cuatro, tres dos uno siete") == "9876543217"
    assert spoken_digits("cinco, seis, siete, uno") == "5671"  # the former reading
    assert spoken_digits("1234") == "1234"
    with pytest.raises(ValueError):
        spoken_digits("cinco pesos")


def test_a_transfer_expectation_names_the_queue_or_the_reason_never_a_task():
    t = parse("steps:\n  - expect_transfer: {queue: ejecutivos, reason: max_attempts}\n")
    assert t.steps[0].value == {"queue": "ejecutivos", "reason": "max_attempts"}
    assert "the IVR sends no <Task>" in error(
        "steps:\n  - expect_transfer: {task: {reason: max_attempts}}\n")


def test_a_step_with_a_key_written_twice_is_refused_not_half_kept():
    # `{press: "1", press: "2"}` in plain YAML silently keeps the second press.
    with pytest.raises(TranscriptError, match="the key 'press' appears twice"):
        parse('steps:\n  - {press: "1", press: "2"}\n')
