"""The transcript suite (tests/transcripts/*.yaml), replayed in-process as
`ivr replay tests/transcripts --bank-file tests/transcripts/bank/qa_bank.yaml`
does: one test per file, then the coverage the suite reached."""
from pathlib import Path

import pytest

from banking_core.call_transcripts import load_transcripts
from config import Settings
from qa import coverage
from qa.lines import LocalExchange
from qa.report import failure_text
from qa.runner import run_transcript
from qa.transcript import load_transcript, transcript_paths
from tests.conftest import TEST_PEPPER

HERE = Path(__file__).parent
SUITE = transcript_paths([HERE, HERE / "en", HERE / "load"])
BANK_FILE = HERE / "bank" / "qa_bank.yaml"
# Reached only through a refusal no keyed input and no change of the bank's
# data produces: an idempotency conflict (this call's payment key already
# used for other data) or a service that kept changing through every retry
# of the posting. Listed exactly, so the test fails both when one becomes
# reachable and when anything else goes unvisited.
NEVER_BY_PHONE_NODES = {"payment_failed", "payment_already_made"}
NEVER_BY_PHONE_EXITS = {
    "pay --unknown_service--> unknown_service",
    "pay --unknown_account|account_not_owned--> unknown_account",
    "pay --default--> payment_failed",
    "payment_failed --next--> goodbye",
    "pay --idempotency_conflict--> payment_already_made",
    "payment_already_made --next--> goodbye",
}
RECORDINGS: dict[str, list] = {}


@pytest.fixture(scope="module", params=["say", "play"])
def exchange(request, tmp_path_factory):
    """The same suite in both prompt modes: Twilio's <Say>, and our recordings
    (<Play>, heard back through the audio manifest)."""
    settings = Settings.from_env({
        "IVR_ENV": "test", "NIP_PEPPER": TEST_PEPPER, "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "64", "IVR_PROMPT_MODE": request.param,
        "IVR_INSTANCE_PATH": str(tmp_path_factory.mktemp("transcripts-instance"))})
    exchange = LocalExchange(settings, bank_files=[BANK_FILE])
    exchange.mode = request.param
    yield exchange
    exchange.close()


def replay(exchange, path: Path):
    line = exchange.line()
    try:
        result = run_transcript(load_transcript(path), line)
        RECORDINGS[(exchange.mode, str(path))] = load_transcripts(line.bank, [result.call_sid])
    finally:
        line.close()
    return result


@pytest.mark.parametrize("path", SUITE, ids=[p.stem for p in SUITE])
def test_transcript(exchange, path):
    result = replay(exchange, path)
    assert result.passed, f"{path}\n{failure_text(result)}"
    assert len(RECORDINGS[(exchange.mode, str(path))]) == 1  # recorded when it ended


def test_the_suite_visits_every_node_and_takes_every_menu_exit(exchange):
    for path in SUITE:  # when run alone, replay what the suite has not yet
        if (exchange.mode, str(path)) not in RECORDINGS:
            replay(exchange, path)
    line = exchange.line()
    menu = line.menu
    line.close()
    found = coverage.compute(menu, [r for (mode, _), rs in RECORDINGS.items()
                                    if mode == exchange.mode for r in rs])
    assert set(found.never_nodes) == NEVER_BY_PHONE_NODES, found.report()
    assert {str(e) for e in found.never_exits(rule=False)} == NEVER_BY_PHONE_EXITS, \
        found.report()
