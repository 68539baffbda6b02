"""The ceiling for bench/turns.py: a bare Flask app that reads the same form and
answers a fixed <Gather> built the same way, with no state, no signature
check, no menu. Served by gunicorn exactly like the real app."""
from flask import Flask, Response, request
from twilio.twiml.voice_response import Gather, VoiceResponse

app = Flask(__name__)

PROMPT = ("Para cuentas de cheques, ahorro o nómina, marque 1. Para tarjetas de crédito, "
          "marque 2. Para hablar con un ejecutivo, marque 0. Para repetir este menú, marque "
          "asterisco.")


def gather_twiml(turn: int) -> str:
    """The fixed menu <Gather> for `turn`, built with VoiceResponse as the IVR does."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", action=f"/ivr/step?t={turn}", method="POST", timeout=5,
                    finish_on_key="", num_digits=1)
    gather.say(PROMPT, language="es-MX", voice="Polly.Mia")
    response.append(gather)
    response.redirect(f"/ivr/step?t={turn}&ev=noinput", method="POST")
    return str(response)


@app.post("/ivr/step")
def step():
    turn = request.args.get("t", type=int, default=0) + 1
    request.form.get("Digits")
    return Response(gather_twiml(turn), mimetype="text/xml")
