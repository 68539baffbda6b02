"""The call state's sealed values (ivr/state.py's Sealer): opened once per
process and remembered, without the memo ever taking a token Fernet would
refuse."""
import time

from ivr import state
from ivr.state import STATE_TTL, Sealer


def test_a_sealed_value_opens_and_opens_again_from_the_memo(monkeypatch):
    sealer = Sealer("k" * 32)
    token = sealer.seal("session-token-123")
    assert sealer.open(token) == "session-token-123"
    calls = []
    monkeypatch.setattr(sealer._fernet, "decrypt", lambda *a, **k: calls.append(a))
    assert sealer.open(token) == "session-token-123" and calls == []


def test_an_altered_or_foreign_token_is_refused_even_after_the_real_one_was_opened():
    sealer = Sealer("k" * 32)
    token = sealer.seal("session-token-123")
    assert sealer.open(token) == "session-token-123"
    altered = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    assert sealer.open(altered) is None
    assert sealer.open(Sealer("z" * 32).seal("session-token-123")) is None
    assert sealer.open("not a token") is None


def test_a_remembered_token_stops_opening_when_its_time_is_up(monkeypatch):
    sealer = Sealer("k" * 32)
    token = sealer.seal("session-token-123")
    assert sealer.open(token) == "session-token-123"
    later = time.time() + STATE_TTL + 5
    monkeypatch.setattr(state.time, "time", lambda: later)
    assert sealer.open(token) is None


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(state, "MEMO_SIZE", 3)
    sealer = Sealer("k" * 32)
    tokens = [sealer.seal(f"v{i}") for i in range(5)]
    assert [sealer.open(t) for t in tokens] == [f"v{i}" for i in range(5)]
    assert len(sealer._opened) <= 3
