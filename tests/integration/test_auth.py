import pytest
from sqlalchemy import select

from banking_core import errors
from banking_core.models import Credential


def test_access_key_login_sees_all_of_the_customers_accounts(demo):
    principal = demo.authenticate(method="access_key", identifier="10000001", nip="1357")
    assert principal.customer_name == "Ana López" and principal.method == "access_key"
    numbers = [a.number for a in demo.list_accounts(principal)]
    assert numbers == ["0012345671", "0098765432", "0055500011"]


def test_card_login_sees_only_the_cards_account(demo):
    principal = demo.authenticate(method="card", identifier="4152 3100 0000 0001", nip="2468")
    assert [a.number for a in demo.list_accounts(principal)] == ["0012345671"]


def test_account_login_uses_that_accounts_own_nip(demo):
    principal = demo.authenticate(method="account", identifier="0055500011", nip="9753")
    assert [a.kind for a in demo.list_accounts(principal)] == ["nomina"]
    with pytest.raises(errors.InvalidCredentials):
        demo.authenticate(method="account", identifier="0055500011", nip="1357")


def test_a_wrong_nip_says_how_many_attempts_remain(demo):
    with pytest.raises(errors.InvalidCredentials) as caught:
        demo.authenticate(method="access_key", identifier="10000001", nip="0000")
    assert caught.value.details["remaining"] == 2


def test_three_consecutive_failures_block_the_credential_in_the_bank(demo):
    for _ in range(2):
        with pytest.raises(errors.InvalidCredentials):
            demo.authenticate(method="card", identifier="4152310000000001", nip="1111")
    with pytest.raises(errors.CredentialBlocked) as caught:
        demo.authenticate(method="card", identifier="4152310000000001", nip="1111")
    assert caught.value.details.get("newly") is True
    # Even the right NIP is refused now, and the block is a fact in the database.
    with pytest.raises(errors.CredentialBlocked):
        demo.authenticate(method="card", identifier="4152310000000001", nip="2468")
    with demo.unit_of_work() as uow:
        card = uow.session.scalars(select(Credential).where(Credential.kind == "card")).one()
        assert card.blocked_at is not None and card.failed_attempts == 3
    # Other credentials of the same customer are not blocked.
    demo.authenticate(method="access_key", identifier="10000001", nip="1357")


def test_a_success_resets_the_count(demo):
    for _ in range(2):
        with pytest.raises(errors.InvalidCredentials):
            demo.authenticate(method="access_key", identifier="10000002", nip="0000")
    demo.authenticate(method="access_key", identifier="10000002", nip="2580")
    with pytest.raises(errors.InvalidCredentials) as caught:
        demo.authenticate(method="access_key", identifier="10000002", nip="0000")
    assert caught.value.details["remaining"] == 2


def test_unblock_restores_access(demo):
    for _ in range(3):
        with pytest.raises((errors.InvalidCredentials, errors.CredentialBlocked)):
            demo.authenticate(method="access_key", identifier="10000002", nip="9999")
    assert demo.unblock(method="access_key", identifier="10000002") is True
    assert demo.authenticate(method="access_key", identifier="10000002", nip="2580")
    assert demo.unblock(method="access_key", identifier="99999999") is False


def test_an_unknown_identifier_is_refused_without_saying_it_does_not_exist(demo):
    with pytest.raises(errors.InvalidCredentials) as caught:
        demo.authenticate(method="access_key", identifier="99999999", nip="1357")
    assert caught.value.details["remaining"] is None


@pytest.mark.parametrize("method, identifier", [
    ("access_key", "1234567"), ("access_key", "1234567a"), ("card", "4152310000000002"),
    ("card", "415231000000000"), ("account", "12345"), ("passport", "12345678"),
])
def test_malformed_identifiers_are_refused_before_any_lookup(demo, method, identifier):
    with pytest.raises(errors.MalformedCredential):
        demo.authenticate(method=method, identifier=identifier, nip="1357")


def test_a_malformed_nip_counts_as_a_failure(demo):
    with pytest.raises(errors.InvalidCredentials) as caught:
        demo.authenticate(method="access_key", identifier="10000001", nip="13a7")
    assert caught.value.details["remaining"] == 2


def test_find_account_by_last4(demo):
    ana = demo.authenticate(method="access_key", identifier="10000001", nip="1357")
    assert demo.find_account_by_last4(ana, "5432").number == "0098765432"
    with pytest.raises(errors.UnknownAccount):
        demo.find_account_by_last4(ana, "0002")  # Carlos's account
    with pytest.raises(errors.UnknownAccount):
        demo.find_account_by_last4(ana, "54a2")
