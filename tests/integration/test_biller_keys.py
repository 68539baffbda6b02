"""Billers' keys and addresses (banking_core/biller_keys.py), on SQLite and
PostgreSQL: sealed at rest, rotated by key id, never shown twice."""
import pytest
from sqlalchemy import select, text

from banking_core import biller_keys, errors
from banking_core.models import BillerKey
from banking_core.secrets import SealedSecretError, SecretHasher


def test_the_demo_billers_have_keys_addresses_and_sealed_secrets(demo):
    key = biller_keys.key_for_checking(demo, "25-demo")
    assert key.service_key == "25" and key.secret == "demo-universidad-25-secreto-compartido-01"
    with demo.unit_of_work() as uow:
        stored = uow.session.scalars(select(BillerKey.secret_sealed)).all()
    assert len(stored) == 2 and not any("secreto" in s for s in stored)
    places = biller_keys.addresses(demo, key.biller_id)
    assert places.notification_url == "http://127.0.0.1:5001/notificaciones/25"
    assert places.return_origins == ("http://127.0.0.1:5001", "http://localhost:5001")


def test_another_pepper_cannot_open_a_sealed_secret(demo):
    other = SecretHasher(pepper="another-pepper-0123456789abcdef01234", time_cost=1,
                         memory_kib=64)
    with demo.unit_of_work() as uow:
        sealed = uow.session.scalar(select(BillerKey.secret_sealed).limit(1))
    with pytest.raises(SealedSecretError):
        other.unseal(sealed)


def test_a_rotation_signs_with_the_newest_key_and_accepts_both_until_one_is_retired(demo, clock):
    old = biller_keys.key_for_signing(demo, biller_keys.key_for_checking(demo, "25-demo").biller_id)
    assert old.key_id == "25-demo"
    clock.advance(seconds=1)
    new = biller_keys.issue_key(demo, "0025")
    assert new.key_id.startswith("25-") and len(new.secret) >= 32 and "secret" not in repr(new)
    assert biller_keys.key_for_signing(demo, old.biller_id).key_id == new.key_id
    assert biller_keys.key_for_checking(demo, "25-demo").secret == old.secret
    assert biller_keys.key_for_checking(demo, new.key_id).secret == new.secret
    assert biller_keys.retire_key(demo, "25-demo")
    assert not biller_keys.retire_key(demo, "25-demo")
    assert biller_keys.key_for_checking(demo, "25-demo") is None
    assert [k["status"] for k in biller_keys.list_keys(demo, "25")] == ["retired", "active"]


def test_keys_are_refused_for_unknown_billers_and_badly_named_ids(demo):
    with pytest.raises(errors.UnknownService):
        biller_keys.issue_key(demo, "999")
    with pytest.raises(ValueError, match="key id"):
        biller_keys.issue_key(demo, "25", key_id="no spaces please")
    with pytest.raises(ValueError, match="already exists"):
        biller_keys.issue_key(demo, "1411", key_id="25-demo")
    assert biller_keys.key_for_checking(demo, "'; drop table billers; --") is None
    assert biller_keys.key_for_checking(demo, "") is None


def test_a_biller_without_keys_has_nothing_to_sign_with(demo):
    water = demo.find_service("5005")
    assert biller_keys.key_for_signing(demo, water.id) is None


def test_addresses_are_changed_only_to_absolute_urls_and_bare_origins(demo):
    found = biller_keys.set_addresses(demo, "5005", notification_url="https://agua.example/pagos",
                                      return_origins=["https://Agua.example/", "https://agua.example"])
    assert found.notification_url == "https://agua.example/pagos"
    assert found.return_origins == ("https://agua.example",)
    assert biller_keys.set_addresses(demo, "5005").notification_url == "https://agua.example/pagos"
    assert biller_keys.set_addresses(demo, "5005", notification_url=None).notification_url is None
    for bad in ("javascript:alert(1)", "/relative", "https://user:pw@agua.example/x", "ftp://a.b"):
        with pytest.raises(ValueError):
            biller_keys.set_addresses(demo, "5005", notification_url=bad)
    with pytest.raises(ValueError, match="not an origin"):
        biller_keys.set_addresses(demo, "5005", return_origins=["https://agua.example/pagos"])


def test_a_changed_address_bumps_the_billers_version_so_caches_notice(demo, engine):
    def version():
        with engine.connect() as c:
            return c.execute(text("SELECT version FROM billers WHERE service_key = '5005'")).scalar()
    before = version()
    biller_keys.set_addresses(demo, "5005", notification_url="https://agua.example/pagos")
    assert version() > before


@pytest.mark.parametrize("origin", ["http://127.0.0.1:5001", "https://u.mx"])
def test_an_origin_is_scheme_host_and_a_port_only_when_not_the_default(origin):
    assert biller_keys.origin_of(origin + "/carrito?x=1") == origin
    assert biller_keys.origin_of("https://u.mx:443/a") == "https://u.mx"
    assert biller_keys.origin_of("https://u.mx:99999/a") is None
