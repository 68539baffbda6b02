"""A call's first webhook as Twilio signs it, for the security tests."""
from twilio.request_validator import RequestValidator


def post_signed_voice(app, client, digit: str):
    """POST /ivr/voice for a new call (CallSid of `digit`s), signed with the
    app's Twilio auth token; returns (the response, the form posted)."""
    settings = app.extensions["settings"]
    url = f"{settings.public_base_url}/ivr/voice"
    params = {"CallSid": "CA" + digit * 32, "From": "+525512345678", "To": "+525500000000",
              "AccountSid": settings.twilio_account_sid, "CallStatus": "ringing"}
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(url, params)
    return client.post("/ivr/voice", data=params, headers={"X-Twilio-Signature": signature}), \
        params
