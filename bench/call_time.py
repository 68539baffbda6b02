"""How long a caller spends on the line: inputs, keys and seconds of prompts.

Each scenario is a call placed in-process through the simulator
(`qa/simulator.py`) on the demo bank in a temporary database (`qa/lines.py`'s
LocalExchange), once in each prompt mode:

- play: every `<Play>` the caller hears is fetched from the app as Twilio
  fetches it and its real duration read from the WAV (prompts from
  `audio/<language>/`, values joined at request time); what is still `<Say>`
  in play mode (a customer's or biller's name) is counted as words at the
  say-mode rate.
- say: the words of every `<Say>`, at WORDS_PER_SECOND.

Seconds are prompt audio heard from the first ring to the end of the reply
that gives the caller what they called for (the folio, the balances),
assuming the caller listens to every prompt to its end (no keying ahead) and
not counting the time spent pressing keys. Inputs are the caller's actions
(one key press or one entry ended by # or by its length); keys are the keys
pressed. Each scenario checks it got where it meant to go, so a broken path
fails the run (exit status 1) instead of timing something else.

    .venv/bin/python bench/call_time.py            # the table
    .venv/bin/python bench/call_time.py --verbose  # and every turn: keys, seconds, words
"""
from __future__ import annotations

import argparse
import dataclasses
import secrets
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import Settings  # noqa: E402
from ivr.audio.wavfile import read_wav  # noqa: E402
from qa.lines import LocalExchange  # noqa: E402

WORDS_PER_SECOND = 2.5  # a deliberate telephone reading pace (150 words a minute)

LOGIN = ["1", "10000001", "1357"]               # access key, Ana's NIP
TO_OTHER_PAYMENTS = ["1", "2", "5", "2"]          # cuentas, traspasos y pagos, otros pagos, numérica
ACCOUNT = ["5671", "1"]                           # withdrawal account ending, confirmed
SERVICE = ["1411#", "1"]                          # Runtime WiFi, confirmed
REFERENCE = ["9876543217#", "1"]                  # a valid Luhn reference, confirmed
AMOUNT = ["650#", "1"]                            # $650.00, confirmed
PAY = ["1"]                                       # at the summary: pay


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    keys: list[str]
    ends_with: str  # words the last reply must say: the call got where it meant to


SCENARIOS = [
    Scenario("happy payment", LOGIN + TO_OTHER_PAYMENTS + ACCOUNT + SERVICE + REFERENCE
             + AMOUNT + PAY, "folio"),
    Scenario("payment, amount corrected at the summary",
             LOGIN + TO_OTHER_PAYMENTS + ACCOUNT + SERVICE + REFERENCE + AMOUNT
             + ["2", "4", "700#", "1"] + PAY, "folio"),
    Scenario("payment, reference rejected once (check digit)",
             LOGIN + TO_OTHER_PAYMENTS + ACCOUNT + SERVICE + ["9876543210#"] + REFERENCE
             + AMOUNT + PAY, "folio"),
    Scenario("balance query", LOGIN + ["1", "1"], "saldo"),
]


@dataclasses.dataclass
class Measure:
    inputs: int = 0
    keys: int = 0
    seconds: float = 0.0
    turns: list = dataclasses.field(default_factory=list)


def words(text: str) -> int:
    return len(text.split())


class Timer:
    """Seconds of one reply as the caller hears it, in the line's mode."""

    def __init__(self, line, mode: str):
        self.mode = mode
        self.client = line.app.test_client()
        self.player = line.app.extensions["ivr"].player
        self._ms: dict[str, int] = {}

    def play_ms(self, url: str) -> int:
        if url not in self._ms:
            parts = urlsplit(url)
            response = self.client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
            if response.status_code != 200:
                raise SystemExit(f"<Play> {url}: {response.status_code}")
            self._ms[url] = read_wav(response.get_data()).milliseconds
        return self._ms[url]

    def seconds(self, heard) -> float:
        if self.mode == "say":
            return words(heard.text) / WORDS_PER_SECOND
        played = {self.player.text_for(url) for url in heard.plays}
        said = [s for s in heard.says if s and s not in played]  # the <Say>s left in play mode
        return (sum(self.play_ms(u) for u in heard.plays) / 1000
                + sum(words(s) for s in said) / WORDS_PER_SECOND)


def run(exchange, scenario: Scenario, mode: str) -> Measure:
    line = exchange.line()
    try:
        timer = Timer(line, mode)
        call = line.place_call()
        heard = call.start()
        measure = Measure()
        measure.seconds += timer.seconds(heard)
        measure.turns.append(("(call)", timer.seconds(heard), heard.text))
        for keys in scenario.keys:
            if call.ended:
                raise SystemExit(f"{scenario.name} ({mode}): the call ended before {keys!r}:"
                                 f" {heard.text!r}")
            heard = call.press(keys)
            seconds = timer.seconds(heard)
            measure.inputs += 1
            measure.keys += len(keys)
            measure.seconds += seconds
            measure.turns.append((keys, seconds, heard.text))
        if scenario.ends_with not in heard.text:
            raise SystemExit(f"{scenario.name} ({mode}): expected {scenario.ends_with!r} in "
                             f"the last reply, heard {heard.text!r}")
        call.hang_up()
        return measure
    finally:
        line.close()


def settings_for(mode: str, folder: Path) -> Settings:
    return Settings.from_env({
        "IVR_ENV": "test", "IVR_PROMPT_MODE": mode, "IVR_INSTANCE_PATH": str(folder / mode),
        "NIP_PEPPER": secrets.token_hex(32), "SECRET_KEY": secrets.token_hex(32),
        "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "64",
        "IVR_AUDIO_DIR": str(ROOT / "audio")})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="print every turn")
    args = parser.parse_args(argv)
    results: dict[tuple[str, str], Measure] = {}
    with tempfile.TemporaryDirectory(prefix="ivr-call-time-") as folder:
        for mode in ("play", "say"):
            exchange = LocalExchange(settings_for(mode, Path(folder)))
            try:
                for scenario in SCENARIOS:
                    results[(scenario.name, mode)] = run(exchange, scenario, mode)
            finally:
                exchange.close()
    if args.verbose:
        for scenario in SCENARIOS:
            for mode in ("play", "say"):
                print(f"\n== {scenario.name} — {mode}")
                for keys, seconds, text in results[(scenario.name, mode)].turns:
                    print(f"  {keys:>13} {seconds:6.1f} s  {text}")
        print()
    width = max(len(s.name) for s in SCENARIOS)
    print(f"{'scenario':<{width}}  inputs  keys  play (s)  say (s, {WORDS_PER_SECOND} words/s)")
    for scenario in SCENARIOS:
        play, say = results[(scenario.name, "play")], results[(scenario.name, "say")]
        print(f"{scenario.name:<{width}}  {play.inputs:>6}  {play.keys:>4}  "
              f"{play.seconds:8.0f}  {say.seconds:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
