"""What a transferred caller lives, measured on the simulated Twilio: seconds
of prompt heard (words at 2.5 per second, as a text-to-speech voice says
them, plus pauses; hold music not counted) from the transfer to the agent's
voice, in each way a hand-off goes, and when parts fail; and how long the
agent's softphone waits for the IVR to bridge it (the TwiML App request,
which dequeues the caller by REST).

    .venv/bin/python bench/handoff.py [--repeat 20]

In-process (Flask test client, SQLite, the simulated Twilio's REST fake): the
latencies are the app's own, without network. No target: the figures go in
the closing note, as what callers hear.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from banking_core import loader, migrate  # noqa: E402
from config import Settings  # noqa: E402
from qa.simulator import FlaskTransport, SimulatedCall  # noqa: E402
from ivr.state import MemoryCallStore  # noqa: E402
from qa.twilio_sim import ACCOUNT_SID, Twilio  # noqa: E402
from telephony.call_control import TwilioCallControl  # noqa: E402

TOKEN = "bench-twilio-token"


class Line:
    def __init__(self, folder: Path):
        from linea_directa.app import create_app

        database = f"sqlite:///{folder / 'bank.db'}"
        migrate.upgrade(database)
        settings = Settings.from_env({
            "IVR_ENV": "test", "IVR_INSTANCE_PATH": str(folder), "DATABASE_URL": database,
            "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "NIP_PEPPER": "bench-pepper-0123456789abcdef0123", "LOG_LEVEL": "WARNING",
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "64"})
        self.twilio = Twilio(None, base_url=settings.public_base_url, auth_token=TOKEN)
        self.app = create_app(settings, call_store=MemoryCallStore(),
                              call_control=TwilioCallControl(ACCOUNT_SID, TOKEN,
                                                             http_client=self.twilio.rest))
        self.twilio.transport = FlaskTransport(self.app.test_client())
        self.bank = self.app.extensions["bank"]
        loader.seed_demo(self.bank)
        self.settings = settings
        self.agent = next(a for a in self._agents() if a.username == "agente1")

    def _agents(self):
        from sqlalchemy import select

        from banking_core.models import Agent
        with self.bank.unit_of_work() as uow:
            return uow.session.scalars(select(Agent)).all()

    def call(self) -> SimulatedCall:
        call = SimulatedCall(self.twilio.transport, base_url=self.settings.public_base_url,
                             auth_token=TOKEN, twilio=self.twilio)
        call.start()
        return call

    def take(self):
        from banking_core.agents import AgentView
        view = AgentView(id=self.agent.id, username="agente1", name="", role="agent")
        return view, self.bank.take_next_handoff(view)

    def phone(self):
        return self.twilio.softphone(f"agente_{self.agent.id}")


def heard_seconds(call, since: float) -> float:
    return call.leg.prompt_seconds - since


def scenario_zero(line):
    """`0` at the greeting, straight to an agent who is free."""
    call = line.call()
    before = call.leg.prompt_seconds
    call.press("0")
    _, handoff = line.take()
    started = time.perf_counter()
    leg = line.phone().connect(handoff=str(handoff.id))
    connect_ms = (time.perf_counter() - started) * 1000
    assert leg.talking_to() == {call.leg}
    seconds = heard_seconds(call, before)
    call.hang_up()
    return seconds, connect_ms


def keying_the_nip(line):
    """A caller with the agent, sent to key the NIP as the desk does it."""
    call = line.call()
    call.press("0")
    agent, handoff = line.take()
    leg = line.phone().connect(handoff=str(handoff.id))
    line.bank.request_caller_verification(agent, handoff.id, method="card",
                                          identifier="4152310000000001")
    line.bank.caller_sent_to_verify(handoff.id)
    before = call.leg.prompt_seconds
    line.app.extensions["call_control"].redirect(
        call.call_sid, f"{line.settings.public_base_url}/ivr/queue/verify?h={handoff.id}")
    line.twilio.settle()
    return call, leg, before


def scenario_verification(line):
    """An unverified caller keys the NIP for the agent and comes back."""
    call, leg, before = keying_the_nip(line)
    call.press("2468")
    assert leg.talking_to() == {call.leg}
    seconds = heard_seconds(call, before)
    call.hang_up()
    return seconds, None


def scenario_agent_lost(line):
    """The agent's softphone drops while the caller keys the NIP."""
    call, leg, _ = keying_the_nip(line)
    leg.hang_up()
    before = call.leg.prompt_seconds
    call.press("2468")
    assert call.leg.state == "queue"
    seconds = heard_seconds(call, before)
    call.hang_up()
    return seconds, None


def scenario_api_down(line):
    """Twilio's REST API is unreachable when the agent's phone comes on."""
    call = line.call()
    call.press("0")
    agent, handoff = line.take()
    line.twilio.rest.down = True
    started = time.perf_counter()
    leg = line.phone().connect(handoff=str(handoff.id))
    connect_ms = (time.perf_counter() - started) * 1000
    line.twilio.rest.down = False
    assert call.leg.state == "queue" and "No fue posible" in leg.last.text
    line.bank.release_handoff(agent, handoff.id)
    call.hang_up()
    return leg.prompt_seconds, connect_ms


SCENARIOS = {
    "caller: from `0` to the agent's voice": scenario_zero,
    "caller: NIP for the agent, back with the agent": scenario_verification,
    "caller: agent lost during the NIP, back in line": scenario_agent_lost,
    "agent: Twilio API down at connect (what the agent hears)": scenario_api_down,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-handoff-") as folder:
        line = Line(Path(folder))
        print(f"{'scenario':58} {'heard s':>8} {'connect ms p50/max':>20}")
        for name, run in SCENARIOS.items():
            results = [run(line) for _ in range(options.repeat)]
            seconds = {round(s, 1) for s, _ in results}
            connects = [ms for _, ms in results if ms is not None]
            timing = (f"{statistics.median(connects):.1f} / {max(connects):.1f}"
                      if connects else "-")
            print(f"{name:58} {'/'.join(map(str, sorted(seconds))):>8} {timing:>20}")
        assert line.twilio.errors == [], line.twilio.errors
        line.bank.engine.dispose()


if __name__ == "__main__":
    main()
