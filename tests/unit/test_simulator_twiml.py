"""The simulator reads TwiML as Twilio does."""
import pytest

from qa.simulator import CallError, parse_twiml


def test_enqueue_with_a_task_carries_the_agents_context():
    heard = parse_twiml(
        '<Response><Say>Le transferimos.</Say><Enqueue waitUrl="/espera" workflowSid="WW1">'
        '<Task>{"reason": "alphanumeric_reference", "customer_id": 7}</Task></Enqueue>'
        '<Say>never heard</Say></Response>')
    assert heard.text == "Le transferimos."
    assert heard.transfer["task"] == {"reason": "alphanumeric_reference", "customer_id": 7}
    assert heard.transfer["attributes"]["waitUrl"] == "/espera"
    assert heard.ended


def test_enqueue_text_is_the_queue_and_dial_is_a_transfer_too():
    assert parse_twiml("<Response><Enqueue>ejecutivos</Enqueue></Response>").transferred \
        == "ejecutivos"
    heard = parse_twiml("<Response><Dial><Queue>ejecutivos</Queue></Dial></Response>")
    assert heard.transfer["verb"] == "Dial" and heard.transferred == "ejecutivos"


def test_play_is_recorded_and_turned_into_words_by_the_hook():
    body = ('<Response><Gather numDigits="1" action="/a"><Play>/audio/greeting.wav</Play>'
            '<Pause length="2"/><Say>Marque 1.</Say></Gather><Redirect>/n</Redirect></Response>')
    heard = parse_twiml(body, play_to_text={"/audio/greeting.wav": "Bienvenido."}.get)
    assert heard.plays == ["/audio/greeting.wav"] and heard.pause_seconds == 2
    assert heard.text == "Bienvenido. Marque 1." and heard.redirect == "/n"
    assert parse_twiml(body).text == "Marque 1."  # no hook: audio is not words


def test_a_document_that_runs_out_ends_the_call():
    assert parse_twiml("<Response><Say>Adiós.</Say></Response>").hung_up
    with pytest.raises(CallError, match="unexpected verb <Reject>"):
        parse_twiml("<Response><Reject/></Response>")
