"""`ivr dial`: a phone call in the terminal, for developers with no phone.

Shows what the IVR says, takes the keys typed (a line: `1`, `10000001`,
`1411#`), `s` to stay silent (the gather times out), `h` to hang up; the end of
input hangs up too. The call goes through the same simulator as the tests, so
it is signed and followed exactly as Twilio would.
"""
from __future__ import annotations

import textwrap

from qa.report import ms
from qa.simulator import CallError, Heard, SimulatedCall

HELP = "keys 0-9 * # (a whole entry on one line, e.g. 1411#), s = silence, h = hang up"


def _waiting_for(heard: Heard) -> str:
    gather = heard.gather or {}
    digits = gather.get("numDigits")
    finish = gather.get("finishOnKey", "#")
    if digits == "1":
        return "1 key"
    if digits:
        return f"{digits} keys" + (f", or fewer ended by {finish}" if finish else "")
    return f"keys ended by {finish}" if finish else "keys"


def _show(heard: Heard, echo, *, audio_as_text: bool = False) -> None:
    # One paragraph per answer: in play mode a sentence arrives in pieces.
    if heard.text:
        echo(textwrap.fill(heard.text, width=88, initial_indent="IVR: ",
                           subsequent_indent="     "))
    if not audio_as_text:  # recordings we cannot turn back into words: name them
        for url in heard.plays:
            echo(f"IVR: [audio {url}]")
    echo(f"     ({ms(heard.latency)})")


def _ending(heard: Heard) -> str:
    if heard.transfer:
        return f"transferred to the agents' queue {heard.transfer['queue']!r}"
    return "the IVR hung up"


def run_softphone(call: SimulatedCall, *, read, echo) -> int:
    """Drive `call` from `read()` (a line, or None at end of input); 0 when the
    call ended normally, 1 when the IVR answered something Twilio could not
    follow."""
    echo(f"Calling Línea Directa as {call.caller} (call {call.call_sid}). {HELP}")
    try:
        heard = call.start()
        _show(heard, echo, audio_as_text=call.play_to_text is not None)
        while True:
            if call.ended:
                echo(f"-- call ended: {_ending(heard)} --")
                call.hang_up()
                return 0
            line = read(f"[{_waiting_for(heard)}] > ")
            if line is None or line.strip().lower() in {"h", "hang up", "hangup"}:
                call.hang_up()
                echo("-- you hung up --")
                return 0
            keys = line.strip().replace(" ", "")
            if keys.lower() == "s":
                heard = call.silence()
            elif keys and all(k in "0123456789*#" for k in keys):
                heard = call.press(keys)
            else:
                echo(HELP)
                continue
            _show(heard, echo, audio_as_text=call.play_to_text is not None)
    except CallError as exc:
        echo(f"-- the call failed: {exc} --")
        return 1
