"""Steering live calls through Twilio's REST API.

Four operations, each addressing exactly one call by its Sid:
- `dequeue`: take a caller out of the queue, by CallSid, to a TwiML URL (the
  Queue Member resource), so an agent is bridged to the call the desk shows;
- `redirect`: move a live call to a TwiML URL (the Call resource), e.g. the
  caller's leg to the IVR to key a NIP;
- `hold`: hold or release a conference participant (the agent, while the
  caller keys the NIP), with music;
- `end_conference`: end the hand-off's conference (the caller hung up, or the
  agent wrapped up while talking).

Twilio answers 404 (error 20404) for a Sid that is not there, 400 for a queue
member dequeued twice, and 21220 for a call no longer in progress: those mean
the caller (or agent) is gone, `CallGone`, a normal event the desk puts in
words. Anything else (timeouts, 5xx, credentials) is `CallControlUnavailable`.
"""
from __future__ import annotations

import structlog

log = structlog.get_logger("telephony")
# Every REST call is made from inside a request: the desk's, or a Twilio
# webhook that must answer within Twilio's 15 s. Without a timeout the twilio
# library would wait forever.
REST_TIMEOUT = 4.0
CALL_NOT_IN_PROGRESS = 21220


class CallControlUnavailable(RuntimeError):
    """Twilio could not be reached or refused for a reason other than the call
    being gone."""


class CallGone(RuntimeError):
    """The call is no longer where it was asked for: hung up, already out of
    the queue, or not in the conference."""


class TwilioCallControl:
    def __init__(self, account_sid: str, auth_token: str, *, http_client=None,
                 timeout: float = REST_TIMEOUT):
        # Imported here: twilio.rest costs ~120 ms of start-up, which a
        # deployment without TWILIO_ACCOUNT_SID (NoCallControl) never needs.
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self._client = Client(account_sid, auth_token,
                              http_client=http_client or TwilioHttpClient(timeout=timeout))

    def dequeue(self, queue_sid: str, call_sid: str, url: str) -> None:
        self._do("dequeue", lambda: self._client.queues(queue_sid).members(call_sid)
                 .update(url=url, method="POST"), gone_on_400=True)

    def redirect(self, call_sid: str, url: str) -> None:
        self._do("redirect", lambda: self._client.calls(call_sid).update(url=url, method="POST"))

    def hold(self, conference_sid: str, call_sid: str, *, on_hold: bool,
             music_url: str | None = None) -> None:
        options = {"hold": on_hold}
        if on_hold and music_url:
            options.update(hold_url=music_url, hold_method="GET")
        self._do("hold", lambda: self._client.conferences(conference_sid)
                 .participants(call_sid).update(**options))

    def end_conference(self, conference_sid: str) -> None:
        self._do("end_conference",
                 lambda: self._client.conferences(conference_sid).update(status="completed"),
                 gone_on_400=True)  # Twilio refuses (400) to end an ended conference

    @staticmethod
    def _do(operation: str, request, *, gone_on_400: bool = False) -> None:
        from twilio.base.exceptions import TwilioException, TwilioRestException  # see __init__

        try:
            request()
        except TwilioRestException as exc:
            gone = (exc.status == 404 or exc.code == CALL_NOT_IN_PROGRESS
                    or (gone_on_400 and exc.status == 400))
            log.info("twilio_rest_refused", operation=operation, status=exc.status,
                     code=exc.code, gone=gone)
            if gone:
                raise CallGone(f"{operation}: Twilio says the call is not there "
                               f"({exc.status}, {exc.code})") from None
            raise CallControlUnavailable(f"{operation}: Twilio refused ({exc.status}, "
                                         f"{exc.code})") from None
        except (TwilioException, OSError) as exc:  # requests' timeouts are OSErrors
            log.warning("twilio_rest_failed", operation=operation, error=type(exc).__name__)
            raise CallControlUnavailable(f"{operation}: Twilio did not answer "
                                         f"({type(exc).__name__})") from None


class NoCallControl:
    """Without TWILIO_ACCOUNT_SID nothing can steer calls; every operation says so."""

    def _unavailable(self, *args, **kwargs) -> None:
        raise CallControlUnavailable("set TWILIO_ACCOUNT_SID to steer calls through Twilio")

    dequeue = redirect = hold = end_conference = _unavailable


def from_settings(settings, *, http_client=None):
    if settings.twilio_account_sid:
        return TwilioCallControl(settings.twilio_account_sid, settings.twilio_auth_token,
                                 http_client=http_client)
    return NoCallControl()
