from banking_core.secrets import SecretHasher


def make(pepper="pepper-one-0123456789abcdef0123456789"):
    return SecretHasher(pepper=pepper, time_cost=1, memory_kib=64)


def test_a_nip_verifies_only_against_its_own_hash():
    hasher = make()
    stored = hasher.hash_secret("1357")
    assert stored.startswith("$argon2id$") and "1357" not in stored
    assert hasher.verify_secret(stored, "1357")
    assert not hasher.verify_secret(stored, "1358")
    assert not hasher.verify_secret(None, "1357")
    assert not hasher.verify_secret("not-a-hash", "1357")


def test_the_pepper_is_part_of_the_hash():
    stored = make().hash_secret("1357")
    assert not make("another-pepper-0123456789abcdef01234").verify_secret(stored, "1357")


def test_lookup_hashes_are_keyed_and_separate_by_kind():
    a, b = make(), make("another-pepper-0123456789abcdef01234")
    assert a.lookup_hash("card", "4152310000000001") == a.lookup_hash("card", "4152310000000001")
    assert a.lookup_hash("card", "4152310000000001") != b.lookup_hash("card", "4152310000000001")
    assert a.lookup_hash("access_key", "10000001") != a.lookup_hash("account", "10000001")
    assert "4152310000000001" not in a.lookup_hash("card", "4152310000000001")
