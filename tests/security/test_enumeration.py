"""Finding 4 (enumeration): an unknown key, a wrong NIP, a malformed number and
a blocked access must be told apart by nothing — not the words on the phone,
the web or the desk, not a countdown, not a transfer, not the work done (so
not the time). The time itself is measured in bench/login_timing.py; here the
*work* is asserted: one Argon2 verification and one committed write each."""
import pytest
from sqlalchemy import func, select

from banking_core import errors
from tests.desk.conftest import (  # noqa: F401 - fixtures
    database_url, desk_app, desk_env, desk_settings, dial, twilio,
)
from tests.web.conftest import Browser

BLOCKED_KEY = "10000004"  # Bruno (tests/transcripts/bank/qa_bank.yaml), blocked below


@pytest.fixture
def bank(desk_app):
    return desk_app.extensions["bank"]


def block(bank, key=BLOCKED_KEY):
    for _ in range(bank.policy.max_failed_attempts):
        with pytest.raises(errors.DomainError):
            bank.authenticate(method="access_key", identifier=key, nip="0000")


class CountingHasher:
    """The bank's hasher, counting the Argon2 verifications it runs."""

    def __init__(self, hasher):
        self.inner, self.verifications = hasher, 0

    def verify_secret(self, stored_hash, secret):
        self.verifications += 1
        return self.inner.verify_secret(stored_hash, secret)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def failures_logged(bank):
    from banking_core.models import LoginFailure

    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(LoginFailure))


@pytest.mark.parametrize("method, identifier, nip", [
    ("access_key", "10000099", "1357"),          # no such key
    ("access_key", "10000001", "0000"),          # a real key, wrong NIP
    ("access_key", "1000000", "1357"),           # seven digits
    ("card", "4152310000000002", "2468"),        # fails the Luhn check
    ("access_key", "10000001", "12"),            # a NIP of the wrong length
    ("access_key", BLOCKED_KEY, "2468"),         # blocked (its right NIP, even)
])
def test_every_failure_does_the_same_work(bank, method, identifier, nip):
    block(bank)
    counting = CountingHasher(bank.hasher)
    bank.hasher = counting
    before = failures_logged(bank)
    with pytest.raises((errors.InvalidCredentials, errors.MalformedCredential,
                        errors.CredentialBlocked)):
        bank.authenticate(method=method, identifier=identifier, nip=nip)
    assert counting.verifications == 1  # one Argon2 verification, whatever failed
    assert failures_logged(bank) == before + 1  # and one committed write


def test_the_web_says_the_same_for_every_failure(desk_app, bank):
    block(bank)
    said = set()
    for key, password in (("10000099", "1357"), ("10000001", "0000"), ("1234", "1357"),
                          (BLOCKED_KEY, "2468")):
        browser = Browser(desk_app)
        response = browser.log_in(access_key=key, password=password)
        said.add((response.status_code, tuple(browser.errors())))
    assert len(said) == 1, said
    [(status, (words,))] = said
    assert status == 401 and "Le quedan" not in words and "no coinciden" in words


def test_the_phone_says_the_same_for_every_failure_and_transfers_none(dial, bank):
    block(bank)
    heard = set()
    for choice, number, nip in (("1", "10000099", "1357"), ("1", "10000001", "0000"),
                                ("2", "4152310000000002", "2468"), ("1", BLOCKED_KEY, "2468")):
        call = dial()
        call.press(choice)
        call.press(number)
        answer = call.press(nip)
        assert call.last.transferred is None and not call.last.hung_up
        heard.add(answer.text)
    assert len(heard) == 1, heard
    assert "intentos fallidos" in heard.pop()


def test_the_desk_says_the_same_for_a_real_agent_and_an_unknown_name(desk_app):
    said = {}
    for n, username in enumerate(("agente1", "nadie-asi")):
        desk = Browser(desk_app)
        desk.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 1}"  # each its own address
        desk.get("/escritorio/entrar")
        for _ in range(6):  # past the real agent's lockout (5)
            response = desk.post("/escritorio/entrar",
                                 {"usuario": username, "contrasena": "wrong"})
            said.setdefault(username, []).append((response.status_code, tuple(desk.errors())))
    assert said["agente1"] == said["nadie-asi"]
    assert said["agente1"][0][0] == 401 and said["agente1"][0][1]  # said, not silent
