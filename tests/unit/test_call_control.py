"""Twilio's REST API as the app uses it: the real `twilio` client, with a
timeout, and each of Twilio's answers turned into what the desk and the IVR
act on (gone, or unavailable)."""
import pytest
from twilio.http.http_client import TwilioHttpClient

from qa.twilio_sim import ACCOUNT_SID, Twilio
from telephony.call_control import (
    REST_TIMEOUT, CallControlUnavailable, CallGone, NoCallControl, TwilioCallControl,
)
from tests.unit.test_twilio_sim import BASE, QUEUE_APP, TOKEN, ScriptedApp


class Answering(TwilioHttpClient):
    """Twilio's HTTP client with a canned answer (or failure) instead of the network."""

    def __init__(self, status=None, body="{}", error=None):
        super().__init__(timeout=REST_TIMEOUT)
        self.status, self.body, self.error = status, body, error

    def request(self, *args, **kwargs):
        from twilio.http.response import Response

        if self.error is not None:
            raise self.error
        return Response(self.status, self.body)


def test_the_rest_client_never_waits_without_a_timeout():
    control = TwilioCallControl(ACCOUNT_SID, "token")
    assert control._client.http_client.timeout == REST_TIMEOUT < 15  # inside Twilio's 15 s


def test_twilios_not_there_answers_mean_the_call_is_gone():
    twilio = Twilio(ScriptedApp(QUEUE_APP), base_url=BASE, auth_token=TOKEN)
    control = TwilioCallControl(ACCOUNT_SID, TOKEN, http_client=twilio.rest)
    leg = twilio.incoming_call(caller="+523336693552")
    leg.start()
    queue_sid = leg.enqueued["queue"].sid
    control.dequeue(queue_sid, leg.sid, f"{BASE}/ivr/voice")
    with pytest.raises(CallGone):  # dequeued twice: Twilio's 400
        control.dequeue(queue_sid, leg.sid, f"{BASE}/ivr/voice")
    with pytest.raises(CallGone):  # an unknown call: 404
        control.redirect("CA" + "f" * 32, f"{BASE}/ivr/voice")
    with pytest.raises(CallGone):  # no such conference
        control.hold("CF" + "f" * 32, leg.sid, on_hold=True)


@pytest.mark.parametrize("client", [
    Answering(500, '{"code": 20500, "message": "Internal Server Error", "status": 500}'),
    Answering(401, '{"code": 20003, "message": "Authenticate", "status": 401}'),
    Answering(error=ConnectionError("api.twilio.com: timed out")),
])
def test_anything_else_is_unavailable_and_says_so(client):
    control = TwilioCallControl(ACCOUNT_SID, "token", http_client=client)
    with pytest.raises(CallControlUnavailable, match="redirect"):
        control.redirect("CA" + "a" * 32, f"{BASE}/ivr/voice")


def test_without_an_account_sid_nothing_is_steered_and_it_says_why():
    with pytest.raises(CallControlUnavailable, match="TWILIO_ACCOUNT_SID"):
        NoCallControl().dequeue("QU1", "CA1", f"{BASE}/x")
