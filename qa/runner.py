"""Replaying one transcript: place the call, take each step, stop at the first
thing that differs and say it the way a tester reads it — the step, the turn,
what was expected, what was heard. Never a stack trace: whatever goes wrong
(the IVR answers 500, the server is down, a capture is missing) is a failure
with words."""
from __future__ import annotations

import dataclasses
import re
import time

from qa import bank_changes
from qa.checks import run_checks
from qa.transcript import TEMPLATE, Expect, Step, Transcript, fill
from qa.simulator import CallError, Heard, SimulatedCall


@dataclasses.dataclass(frozen=True)
class Timing:
    turn: int
    action: str  # what the caller did: start, press "1", silence
    latency: float  # seconds


@dataclasses.dataclass(frozen=True)
class Failure:
    step: Step | None
    turn: int
    after: str
    expected: str
    heard: str


@dataclasses.dataclass
class RunResult:
    transcript: Transcript
    call_sid: str
    failure: Failure | None = None
    timings: list[Timing] = dataclasses.field(default_factory=list)
    captures: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    skipped_checks: int = 0  # bank-side checks not made: no bank to read (a --target alone)

    @property
    def passed(self) -> bool:
        return self.failure is None


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def evaluate(expect: Expect, text: str, values: dict) -> tuple[bool, dict]:
    """Whether `text` meets `expect`, and the values its regexes captured."""
    if expect.kind == "text":
        return normalize(fill(expect.value, values)) in normalize(text), {}
    if expect.kind == "regex":
        pattern = fill(expect.value, values, escape=re.escape)
        match = re.search(pattern, text, re.IGNORECASE)
        if match is None:
            return False, {}
        return True, {k: v for k, v in match.groupdict().items() if v is not None}
    if expect.kind == "not":
        ok, _ = evaluate(expect.value, text, values)
        return not ok, {}
    captured: dict = {}
    results = []
    for item in expect.value:
        ok, caps = evaluate(item, text, values)
        results.append(ok)
        if ok:
            captured.update(caps)
            if expect.kind == "any":
                return True, captured
    return (all(results) if expect.kind == "all" else False), captured


def _describe_filled(expect: Expect, values: dict) -> str:
    try:
        return Expect(expect.kind, fill(expect.value, values)).describe() \
            if expect.kind == "text" else expect.describe()
    except KeyError:
        return expect.describe()


class _Stop(Exception):
    def __init__(self, expected: str, heard: str):
        super().__init__(expected)
        self.expected, self.heard = expected, heard


class Replay:
    """One transcript against one line (a call factory and, maybe, its bank)."""

    def __init__(self, transcript: Transcript, line, variables: dict | None = None):
        self.transcript, self.line = transcript, line
        self.values = {**transcript.vars, **(variables or {})}
        self.call: SimulatedCall = line.place_call(caller=transcript.caller)
        self.result = RunResult(transcript=transcript, call_sid=self.call.call_sid)
        self.turn, self.after, self.status_sent = 0, "the call started", False

    def run(self) -> RunResult:
        started = time.perf_counter()
        step = None
        try:
            self._heard(lambda: self.call.start(), "start")
            for step in self.transcript.steps:
                self._take(step)
        except _Stop as stop:
            self._fail(step, stop.expected, stop.heard)
        except CallError as exc:
            self._fail(step, "an answer Twilio can follow", str(exc))
        except Exception as exc:  # noqa: BLE001 - a replay reports; it never crashes
            self._fail(step, "the step to run", f"{type(exc).__name__}: {exc}")
        finally:
            self._end_call()
            self.result.captures = {k: v for k, v in self.values.items()
                                    if k not in self.transcript.vars}
            self.result.seconds = time.perf_counter() - started
        return self.result

    # -- steps -----------------------------------------------------------------
    def _take(self, step: Step) -> None:
        call = self.call
        if step.action == "ivr":
            try:
                ok, captured = evaluate(step.value, self._text(), self.values)
            except KeyError as exc:
                raise _Stop("a value for {{%s}}" % exc.args[0], "none was captured") from None
            if not ok:
                raise _Stop(_describe_filled(step.value, self.values), self._quoted())
            self.values.update(captured)
        elif step.action in {"press", "silence"}:
            if call.ended:
                raise _Stop(f"to {step.describe()}", f"the call had already ended "
                            f"({self._ending()})")
            if call.last.gather is None:
                raise _Stop(f"to {step.describe()}", "the IVR was not waiting for keys")
            if step.action == "press":
                keys = self._fill(step.value)
                self._heard(lambda: call.press(keys), f'press "{keys}"')
            else:
                self._heard(call.silence, "silence")
        elif step.action == "hang_up":
            if call.ended:
                raise _Stop("to hang up", f"the call had already ended ({self._ending()})")
            self.after = "the caller hung up"
            self._send_status()
        elif step.action == "expect_transfer":
            self._expect_transfer(step.value)
        elif step.action == "expect_hangup":
            if not (call.last and call.last.hung_up):
                raise _Stop("the IVR to hang up", self._state_words())
        elif step.action == "bank_change":
            if self.line.bank is None:
                raise _Stop(step.describe(), "this line's bank is a --target server's, "
                            "not ours to change (bank_change runs on local replays only)")
            try:
                bank_changes.apply(self.line.bank, step.value)
            except bank_changes.BankChangeError as exc:
                raise _Stop(step.describe(), str(exc)) from None
        elif step.action == "check":
            if self.line.bank is None:
                self.result.skipped_checks += 1
                return
            values = self.values
            try:
                problems = run_checks(step.value, bank=self.line.bank,
                                      call_sid=call.call_sid, values=values)
            except KeyError as exc:
                raise _Stop("a value for {{%s}}" % exc.args[0], "nothing was captured") from None
            if problems:
                raise _Stop(step.describe(), "; ".join(problems))

    def _expect_transfer(self, want: dict) -> None:
        detail = self.call.last.transfer if self.call.last else None
        if not detail:
            raise _Stop("a transfer to an agent", self._state_words())
        if "queue" in want and want["queue"] != detail["queue"]:
            raise _Stop(f"a transfer to queue {want['queue']!r}",
                        f"a transfer to queue {detail['queue']!r}")
        if "reason" in want:
            # The reason is what the desk shows: read from the bank's hand-off.
            if self.line.bank is None:
                self.result.skipped_checks += 1
                return
            handoff = self.line.bank.find_handoff_by_call(self.call.call_sid)
            reason = handoff.reason if handoff else None
            if reason != self._fill(str(want["reason"])):
                raise _Stop(f"a hand-off with reason {want['reason']!r}",
                            f"reason {reason!r}" if handoff else "no hand-off recorded")

    # -- the call --------------------------------------------------------------
    def _heard(self, act, action: str) -> Heard:
        heard = act()
        self.turn += 1
        self.after = {"start": "the call started"}.get(action, action.replace('press', 'pressing'))
        self.result.timings.append(Timing(self.turn, action, heard.latency))
        if self.call.ended:
            self._send_status()  # Twilio reports the end as soon as the last verb ran
        return heard

    def _send_status(self) -> None:
        if not self.status_sent:
            self.status_sent = True
            code = self.call.hang_up()
            if code >= 400:
                raise CallError(f"the status callback answered {code}")

    def _end_call(self) -> None:
        try:
            self._send_status()  # the script ended with the call live: the caller leaves
        except Exception:  # noqa: BLE001 - the result already says what went wrong
            pass

    def _fill(self, text: str) -> str:
        empty = [m.group(1) for m in TEMPLATE.finditer(text) if not self.values.get(m.group(1))]
        if empty:
            raise _Stop("a value for {{%s}}" % empty[0],
                        "none: pass it with --var %s=… or capture it first" % empty[0])
        return fill(text, self.values)

    def _text(self) -> str:
        return self.call.last.text if self.call.last else ""

    def _quoted(self) -> str:
        text = self._text()
        return f'"{text}"' if text else f"nothing ({self._state_words()})"

    def _ending(self) -> str:
        last = self.call.last
        if last and last.transfer:
            return f"transferred to {last.transfer['queue']!r}"
        if last and last.hung_up:
            return "the IVR hung up"
        return "the caller hung up"

    def _state_words(self) -> str:
        last = self.call.last
        if last is None:
            return "no answer"
        if last.transfer:
            return f"a transfer to queue {last.transfer['queue']!r}"
        if last.hung_up:
            return "the IVR hung up"
        if self.status_sent:
            return "the caller hung up"
        return f'the IVR waiting for keys after saying "{last.text}"'

    def _fail(self, step: Step | None, expected: str, heard: str) -> None:
        self.result.failure = Failure(step=step, turn=self.turn, after=self.after,
                                      expected=expected, heard=heard)


def run_transcript(transcript: Transcript, line, variables: dict | None = None) -> RunResult:
    return Replay(transcript, line, variables).run()
