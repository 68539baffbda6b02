"""Steering a live call from the desk: today, sending a caller's leg to the IVR
to key a NIP. In production that is Twilio's REST API (a call's `url` update);
the tests steer the simulated call the same way Twilio would."""
from __future__ import annotations


class CallControlUnavailable(RuntimeError):
    pass


class TwilioCallControl:
    def __init__(self, account_sid: str, auth_token: str):
        from twilio.rest import Client

        self._client = Client(account_sid, auth_token)

    def redirect(self, call_sid: str, url: str) -> None:
        try:
            self._client.calls(call_sid).update(url=url, method="POST")
        except Exception as exc:  # the REST error says why; the desk shows it plainly
            raise CallControlUnavailable(f"Twilio did not redirect the call: {exc}") from exc


class NoCallControl:
    """Without TWILIO_ACCOUNT_SID the desk cannot steer calls; it says so."""

    def redirect(self, call_sid: str, url: str) -> None:
        raise CallControlUnavailable("set TWILIO_ACCOUNT_SID to send callers to the IVR")


def from_settings(settings):
    if settings.twilio_account_sid:
        return TwilioCallControl(settings.twilio_account_sid, settings.twilio_auth_token)
    return NoCallControl()
