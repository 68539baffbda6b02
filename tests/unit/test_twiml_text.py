"""The turn's TwiML written as text (ivr/twiml.py) is byte for byte what
twilio's VoiceResponse wrote before it, on every kind of turn: Twilio reads
the same document, only cheaper to make."""
import pytest
from twilio.twiml.voice_response import Gather as TwilioGather, VoiceResponse

from ivr import twiml
from ivr.interpreter import Gather, Reply


class ScriptedSpeaker:
    """Speaks each text as the actions it names: ("say", words, language,
    voice) or ("play", url)."""

    def __init__(self, actions):
        self.actions = actions

    def speak_turn(self, verb, texts, language=None, *, before_input=False):
        for text in texts:
            for action in self.actions[text]:
                if action[0] == "play":
                    verb.play(action[1])
                else:
                    verb.say(action[1], language=action[2], voice=action[3])


def twilio_render(reply, *, action_url, no_input_url, speaker):
    """ivr/twiml.py's render as it was, on twilio's classes."""
    response = VoiceResponse()
    if reply.gather is not None:
        spec = reply.gather
        options = dict(input="dtmf", action=action_url, method="POST", timeout=spec.timeout,
                       finish_on_key=spec.finish_on_key)
        if spec.num_digits:
            options["num_digits"] = spec.num_digits
        gather = TwilioGather(**options)
        speaker.speak_turn(gather, spec.says, None, before_input=True)
        response.append(gather)
        response.redirect(no_input_url, method="POST")
        return str(response)
    speaker.speak_turn(response, reply.says, None)
    if reply.hangup:
        response.hangup()
    return str(response)


ACTIONS = {
    "menu": [("say", "Para pagos, marque 2; para su saldo, marque 1.", "es-MX", "Polly.Mia")],
    "tricky": [("say", 'A & B <c> "d" \'e\'\nnueva línea\tñ', "es-MX", "Polly.Mia")],
    "english": [("say", "For English, press 9.", "en-US", "Polly.Joanna")],
    "recorded": [("play", "https://ivr.example/ivr/audio/es-MX/menu.wav?v=1&x=<2>"),
                 ("play", "https://ivr.example/ivr/audio/es-MX/fin.wav?end=turn")],
    "empty": [("say", "", "es-MX", "Polly.Mia")],
    "nothing": [],
}
URLS = dict(action_url="https://ivr.example/ivr/step?t=5&a=\"1\"",
            no_input_url="https://ivr.example/ivr/step?t=5&ev=noinput")


@pytest.mark.parametrize("reply", [
    Reply(gather=Gather(says=("menu",), num_digits=1, finish_on_key="", timeout=5)),
    Reply(gather=Gather(says=("tricky", "english"), num_digits=None, finish_on_key="#",
                        timeout=8)),
    Reply(gather=Gather(says=("recorded",), num_digits=0, finish_on_key="#", timeout=10)),
    Reply(gather=Gather(says=("nothing",), num_digits=4, finish_on_key="", timeout=5)),
    Reply(says=("menu", "recorded"), hangup=True),
    Reply(says=("tricky", "empty")),
    Reply(says=()),
    Reply(says=("nothing",), hangup=True),
], ids=["menu", "entry-with-escapes", "recorded", "silent-gather", "goodbye", "say-only",
        "empty", "bare-hangup"])
def test_the_turns_twiml_is_byte_for_byte_twilios(reply):
    speaker = ScriptedSpeaker(ACTIONS)
    assert twiml.render(reply, speaker=speaker, **URLS) == \
        twilio_render(reply, speaker=speaker, **URLS)


def test_a_transfer_is_never_rendered_here():
    with pytest.raises(ValueError, match="transfer"):
        twiml.render(Reply(transfer="agent"), speaker=ScriptedSpeaker({}), **URLS)
