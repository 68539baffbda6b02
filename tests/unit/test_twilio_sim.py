"""The simulated Twilio follows Twilio's documented behaviour, failures
included (each rule's source is cited in qa/twilio_sim): tested here against
a scripted app that answers canned TwiML and records what it was asked."""
import json
from urllib.parse import urlsplit

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from qa.twilio_sim import ACCOUNT_SID, CallError, Twilio

BASE = "https://ivr.example"
TOKEN = "token-0123456789"


class ScriptedApp:
    """Answers each path with the TwiML given for it (a string, or a function
    of the form posted), checking every signature as the app would."""

    def __init__(self, routes):
        self.routes, self.seen = routes, []
        self.validator = RequestValidator(TOKEN)

    def _answer(self, method, url, params, headers):
        # A GET is signed over the URL with its query and no form.
        assert self.validator.validate(url, params, headers["X-Twilio-Signature"]), url
        path = urlsplit(url).path
        self.seen.append((method, path, params))
        answer = self.routes.get(path)
        if answer is None:
            return 404, "not found"
        body = answer(params) if callable(answer) else answer
        return (204, "") if body is None else (200, f"<Response>{body}</Response>")

    def post(self, url, data, headers):
        return self._answer("POST", url, dict(data), headers)

    def get(self, url, headers):
        return self._answer("GET", url, {}, headers)

    def paths(self):
        return [path for _, path, _ in self.seen]


def account(routes, **options):
    app = ScriptedApp(routes)
    twilio = Twilio(app, base_url=BASE, auth_token=TOKEN, **options)
    return twilio, app


def call(twilio, caller="+523336693552"):
    leg = twilio.incoming_call(caller=caller)
    leg.start()
    return leg


# ---- documents ------------------------------------------------------------------
def test_a_document_that_runs_out_hangs_up_and_reports_the_end():
    twilio, app = account({"/ivr/voice": "<Say>Hola.</Say>", "/ivr/status": lambda p: None})
    leg = call(twilio)
    assert leg.ended and leg.last.text == "Hola." and leg.last.hung_up
    assert app.seen[-1][1] == "/ivr/status" and app.seen[-1][2]["CallStatus"] == "completed"


def test_silence_falls_through_to_the_next_verb_and_keys_go_to_the_action():
    twilio, app = account({
        "/ivr/voice": '<Gather numDigits="1" action="menu"><Say>Marque.</Say></Gather>'
                      '<Redirect>/ivr/nothing</Redirect>',
        "/ivr/menu": lambda p: f"<Say>Marcó {p['Digits']}.</Say><Hangup/>",
        "/ivr/nothing": "<Say>Nada.</Say><Hangup/>", "/ivr/status": lambda p: None})
    leg = call(twilio)
    assert leg.press("7#").text == "Marcó 7."  # numDigits: the first key goes at once
    other = call(twilio)
    assert other.silence().text == "Nada."
    # The relative action resolved against the document's URL.
    assert ("POST", "/ivr/menu") in [(m, p) for m, p, _ in app.seen]


def test_the_finish_key_alone_is_silence_and_an_action_on_empty_result_posts_nothing():
    twilio, app = account({
        "/ivr/voice": '<Gather action="/ivr/a" actionOnEmptyResult="true"><Say>x</Say></Gather>',
        "/ivr/a": lambda p: f"<Say>[{p['Digits']}]</Say><Hangup/>", "/ivr/status": lambda p: None})
    assert call(twilio).press("#").text == "[]"


def test_the_method_a_verb_names_is_the_method_twilio_uses():
    twilio, app = account({"/ivr/voice": '<Redirect method="GET">/ivr/next</Redirect>',
                           "/ivr/next": "<Hangup/>", "/ivr/status": lambda p: None})
    call(twilio)
    assert ("GET", "/ivr/next") in [(m, p) for m, p, _ in app.seen]


def test_a_url_on_another_host_is_an_application_error_and_the_call_ends():
    twilio, app = account({"/ivr/voice": "<Redirect>https://elsewhere.example/x</Redirect>",
                           "/ivr/status": lambda p: None})
    leg = twilio.incoming_call(caller="+523336693552")
    with pytest.raises(CallError, match="not reachable"):
        leg.start()
    assert leg.ended and twilio.errors


def test_an_error_answer_or_a_verb_twilio_does_not_know_is_an_application_error():
    twilio, app = account({"/ivr/voice": "<Reject/><Say>x</Say>", "/ivr/status": lambda p: None})
    call(twilio)  # Reject is a verb: the call ends
    twilio, app = account({"/ivr/voice": "<Play>x</Play><Wait/>", "/ivr/status": lambda p: None})
    with pytest.raises(CallError, match="unexpected verb <Wait>"):
        call(twilio)
    twilio, app = account({"/ivr/status": lambda p: None})
    with pytest.raises(CallError, match="answered 404"):
        call(twilio)


# ---- queues ------------------------------------------------------------------------
QUEUE_APP = {
    "/ivr/voice": '<Enqueue action="/ivr/left" waitUrl="/ivr/wait">sala</Enqueue>',
    "/ivr/wait": lambda p: (f"<Say>Lugar {p['QueuePosition']}, {p['QueueTime']} s.</Say>"
                            + ("<Leave/>" if int(p["QueueTime"]) >= 60 else "")),
    "/ivr/left": lambda p: f"<Say>Salió: {p['QueueResult']}.</Say><Hangup/>",
    "/ivr/status": lambda p: None,
}


def test_the_wait_url_plays_at_once_and_again_as_time_passes_until_leave_runs_the_action():
    twilio, app = account(QUEUE_APP)
    first, second = call(twilio), call(twilio, caller="+525512345678")
    assert first.last.text == "Lugar 1, 0 s." and second.last.text == "Lugar 2, 0 s."
    assert first.last.transferred == "sala" and first.state == "queue"
    twilio.advance(30)
    assert second.last.text == "Lugar 2, 30 s."
    twilio.advance(30)
    assert first.last.text == "Lugar 1, 60 s. Salió: leave." and first.ended


def test_a_hang_up_in_line_requests_the_action_with_hangup_and_then_the_status():
    twilio, app = account(QUEUE_APP)
    leg = call(twilio)
    leg.hang_up()
    assert app.paths()[-2:] == ["/ivr/left", "/ivr/status"]
    assert app.seen[-2][2]["QueueResult"] == "hangup"


def test_a_wait_document_may_not_dial():
    routes = dict(QUEUE_APP, **{"/ivr/wait": "<Dial>+525512345678</Dial>"})
    twilio, app = account(routes)
    with pytest.raises(CallError, match="<Dial> is not allowed in a queue wait document"):
        call(twilio)


def test_dial_queue_takes_the_front_of_the_line_whoever_the_agent_meant():
    routes = dict(QUEUE_APP, **{"/ivr/agent": "<Dial><Queue>sala</Queue></Dial>"})
    twilio, app = account(routes)
    first, second = call(twilio), call(twilio, caller="+525512345678")
    agent = twilio.incoming_call(caller="+525599999999")
    agent.start(f"{BASE}/ivr/agent")
    assert agent.talking_to() == {first} and second.state == "queue"
    agent.hang_up()  # the bridge ends: the caller's action comes now
    assert first.ended and "Salió: bridged." in first.last.text


def test_dialing_a_client_nobody_registered_is_no_answer_and_the_next_verb_runs():
    twilio, app = account({"/ivr/voice": "<Dial><Client>agente_1</Client></Dial>"
                                         "<Say>Nadie contestó.</Say>",
                           "/ivr/status": lambda p: None})
    leg = call(twilio)
    assert "Nadie contestó." in leg.last.text and leg.ended
    twilio, app = account({"/ivr/voice": "<Dial><Client>agente_1</Client></Dial>",
                           "/ivr/status": lambda p: None})
    assert call(twilio).ended  # nothing after the Dial: Twilio hangs up


def test_a_registered_client_rings_and_answering_bridges_the_two():
    twilio, app = account({
        "/ivr/voice": '<Dial action="/ivr/after" timeout="10"><Client>agente_1</Client></Dial>',
        "/ivr/after": lambda p: f"<Say>{p['DialCallStatus']}</Say><Hangup/>",
        "/ivr/status": lambda p: None})
    phone = twilio.softphone("agente_1")
    leg = call(twilio)
    assert leg.state == "dialing" and phone.ringing == [leg]
    answered = phone.answer()
    assert leg.talking_to() == {answered}
    phone.hang_up()
    assert leg.last.text == "completed" and leg.ended
    unanswered = call(twilio)
    twilio.advance(16)  # 10 s, and Twilio's 5 s buffer
    assert unanswered.last.text == "no-answer"


# ---- conferences -------------------------------------------------------------------
CONFERENCE_APP = {
    "/ivr/caller": '<Dial action="/ivr/after"><Conference startConferenceOnEnter="false" '
                   'waitUrl="/ivr/hold" statusCallback="/ivr/events" '
                   'statusCallbackEvent="start end join leave">sala-1</Conference></Dial>',
    "/ivr/agent": '<Dial><Conference endConferenceOnExit="true" statusCallback="/ivr/other" '
                  'statusCallbackEvent="join">sala-1</Conference></Dial>'
                  '<Say>Fin.</Say>',
    "/ivr/hold": "<Say>Espere.</Say><Redirect>/ivr/hold</Redirect>",
    "/ivr/after": lambda p: f"<Say>{p['DialCallStatus']}.</Say><Hangup/>",
    "/ivr/events": lambda p: None, "/ivr/other": lambda p: None, "/ivr/status": lambda p: None,
}


def caller_and_agent_in_a_conference():
    twilio, app = account(CONFERENCE_APP)
    caller = twilio.incoming_call(caller="+523336693552")
    caller.start(f"{BASE}/ivr/caller")
    agent = twilio.incoming_call(caller="+525599999999")
    agent.start(f"{BASE}/ivr/agent")
    return twilio, app, caller, agent


def test_a_conference_starts_with_its_moderator_and_ends_when_the_moderator_leaves():
    twilio, app = account(CONFERENCE_APP)
    caller = twilio.incoming_call(caller="+523336693552")
    caller.start(f"{BASE}/ivr/caller")
    assert caller.last.text == "Espere." and caller.talking_to() == set()
    twilio.advance(20)  # the wait URL loops only through its own <Redirect>
    assert caller.last.text == "Espere."
    agent = twilio.incoming_call(caller="+525599999999")
    agent.start(f"{BASE}/ivr/agent")
    assert agent.talking_to() == {caller} and caller.talking_to() == {agent}
    events = [p["StatusCallbackEvent"] for m, path, p in app.seen if path == "/ivr/events"]
    assert events == ["participant-join", "participant-join", "conference-start"]
    assert "/ivr/other" not in app.paths()  # the first participant's callback is the room's
    agent.hang_up()
    assert caller.last.text == "answered." and caller.ended


def test_a_rest_redirect_out_of_a_conference_requests_the_dial_action_and_ignores_it():
    twilio, app, caller, agent = caller_and_agent_in_a_conference()
    app.routes["/ivr/elsewhere"] = "<Say>Aquí.</Say><Hangup/>"
    heard = caller.redirected(f"{BASE}/ivr/elsewhere")
    assert heard.text == "Aquí."  # not "completed.": the action's answer is not run
    assert app.paths()[-4:] == ["/ivr/events", "/ivr/after", "/ivr/elsewhere", "/ivr/status"]
    assert not agent.ended and agent.talking_to() == set()  # alone in the started room


# ---- the REST API ------------------------------------------------------------------
def rest_client(twilio, token=TOKEN):
    return Client(ACCOUNT_SID, token, http_client=twilio.rest)


def test_the_rest_api_dequeues_a_member_by_call_sid_once():
    routes = dict(QUEUE_APP, **{"/ivr/agent-now": "<Say>Con su ejecutivo.</Say><Hangup/>"})
    twilio, app = account(routes)
    first, second = call(twilio), call(twilio, caller="+525512345678")
    queue_sid = first.enqueued["queue"].sid
    members = rest_client(twilio).queues(queue_sid).members
    members(second.sid).update(url=f"{BASE}/ivr/agent-now", method="POST")
    assert second.state == "queue"  # Twilio answers first, moves the call after
    twilio.settle()
    assert second.last.text == "Con su ejecutivo." and first.state == "queue"
    assert [p["QueueResult"] for m, path, p in app.seen if path == "/ivr/left"] == ["redirected"]
    with pytest.raises(TwilioRestException) as again:
        members(second.sid).update(url=f"{BASE}/ivr/agent-now")
    assert again.value.status == 400


def test_the_rest_api_refuses_unknown_and_finished_calls_and_wrong_credentials():
    twilio, app = account(QUEUE_APP)
    leg = call(twilio)
    leg.hang_up()
    api = rest_client(twilio)
    with pytest.raises(TwilioRestException) as unknown:
        api.calls("CA" + "f" * 32).update(url=f"{BASE}/ivr/voice")
    assert (unknown.value.status, unknown.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as finished:
        api.calls(leg.sid).update(url=f"{BASE}/ivr/voice")
    assert (finished.value.status, finished.value.code) == (400, 21220)
    with pytest.raises(TwilioRestException) as intruder:
        rest_client(twilio, token="wrong").calls(leg.sid).update(url=f"{BASE}/ivr/voice")
    assert intruder.value.status == 401


def test_the_rest_api_holds_a_participant_with_music_and_ends_a_conference():
    twilio, app, caller, agent = caller_and_agent_in_a_conference()
    room = caller.dialing["conference"]
    api = rest_client(twilio)
    api.conferences(room.sid).participants(agent.sid).update(
        hold=True, hold_url="https://music.example/espera.mp3", hold_method="GET")
    twilio.settle()
    assert agent.talking_to() == set() and agent.last.plays == ["https://music.example/espera.mp3"]
    api.conferences(room.sid).participants(agent.sid).update(hold=False)
    twilio.settle()
    assert agent.talking_to() == {caller}
    api.conferences(room.sid).update(status="completed")
    twilio.settle()
    assert caller.ended and agent.last.text == "Fin."
    with pytest.raises(TwilioRestException) as ended:
        api.conferences(room.sid).update(status="completed")
    assert ended.value.status == 400
    with pytest.raises(TwilioRestException) as gone:
        api.conferences(room.sid).participants(agent.sid).update(hold=True)
    assert gone.value.status == 404


def test_a_softphone_reaches_the_twiml_app_with_its_identity_and_custom_parameters():
    twilio, app = account({"/ivr/agent/voice": "<Say>Hola.</Say><Hangup/>"},
                          twiml_app_sid="AP" + "2" * 32)
    leg = twilio.softphone("agente_7").connect(handoff="12")
    assert leg.ended and leg.last.text == "Hola."
    _, path, params = app.seen[0]
    assert path == "/ivr/agent/voice" and params["From"] == "client:agente_7"
    assert params["ApplicationSid"] == "AP" + "2" * 32 and params["handoff"] == "12"
    assert json.dumps(params)  # a flat form, as Twilio posts it


STATUS = {"/ivr/status": lambda form: None}


class FailingFirst(ScriptedApp):
    """Drops the connection (or answers `status`) on the first `failures`
    requests, as a killed worker or a failing app would."""

    def __init__(self, routes, failures=1, status=None):
        super().__init__(routes)
        self.failures, self.status = failures, status

    def post(self, url, data, headers):
        if self.failures:
            self.failures -= 1
            if self.status is None:
                from qa.twilio_sim.retries import ConnectionFailed
                raise ConnectionFailed(f"{url}: connection reset")
            return self.status, "boom"
        return super().post(url, data, headers)


def test_a_dropped_connection_is_retried_once_by_default():
    app = FailingFirst({**STATUS, "/ivr/voice": "<Say>Hola</Say><Hangup/>"})
    twilio = Twilio(app, base_url=BASE, auth_token=TOKEN)
    heard = twilio.incoming_call(caller="+523336693552").start()
    assert heard.says == ["Hola"] and len(twilio.retries) == 1
    app = FailingFirst({**STATUS, "/ivr/voice": "<Say>Hola</Say>"}, failures=2)
    twilio = Twilio(app, base_url=BASE, auth_token=TOKEN)
    with pytest.raises(CallError, match="connection reset"):
        twilio.incoming_call(caller="+523336693552").start()


def test_an_error_answer_is_retried_only_where_the_urls_policy_says():
    app = FailingFirst({**STATUS, "/ivr/voice": "<Say>Hola</Say>"}, status=500)
    twilio = Twilio(app, base_url=BASE, auth_token=TOKEN)
    with pytest.raises(CallError, match="answered 500"):
        twilio.incoming_call(caller="+523336693552").start()
    assert twilio.retries == []
    app = FailingFirst({**STATUS, "/ivr/voice": "<Say>Hola</Say><Hangup/>"}, status=500)
    twilio = Twilio(app, base_url=BASE, auth_token=TOKEN)
    twilio.voice_url += "#rc=2&rp=ct,5xx"
    assert twilio.incoming_call(caller="+523336693552").start().says == ["Hola"]
    assert len(twilio.retries) == 1
