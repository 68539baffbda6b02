import pytest
from hypothesis import given
from hypothesis import strategies as st

from banking_core import errors
from banking_core.catalog import AmountRule, ReferenceRule, Service, normalize_service_key


def wifi(active=True):
    return Service(
        id=1, service_key="1411", name="Runtime WiFi", active=active, collection_account_id=9,
        references=(ReferenceRule(1, "Número de cliente", "numeric", 10, 10, "luhn"),),
        amount_rule=AmountRule(min_centavos=100, max_centavos=5_000_000),
    )


def water():
    return Service(
        id=2, service_key="5005", name="Agua", active=True, collection_account_id=9,
        references=(ReferenceRule(1, "Contrato", "numeric", 8, 8),
                    ReferenceRule(2, "Periodo", "numeric", 4, 4)),
        amount_rule=AmountRule(fixed_centavos=65000),
    )


def test_a_valid_reference_comes_back_normalized():
    assert wifi().check_references(["987-654 3217"]) == ("9876543217",)


@pytest.mark.parametrize("value, reason", [
    ("", "missing"), ("98765432", "too_short"), ("98765432170", "too_long"),
    ("98765A3217", "not_numeric"), ("9876543210", "bad_check_digit"),
])
def test_an_invalid_reference_says_which_and_why(value, reason):
    with pytest.raises(errors.InvalidReference) as caught:
        wifi().check_references([value])
    assert caught.value.code == "invalid_reference"
    assert caught.value.position == 1 and caught.value.reason == reason


def test_the_second_reference_is_named_when_it_fails():
    with pytest.raises(errors.InvalidReference) as caught:
        water().check_references(["12345678", "123"])
    assert caught.value.position == 2 and caught.value.reason == "too_short"


def test_too_many_references_are_refused():
    with pytest.raises(errors.InvalidReference) as caught:
        wifi().check_references(["9876543217", "1"])
    assert caught.value.reason == "unexpected" and caught.value.position == 2


def test_alphanumeric_references_accept_letters_and_refuse_symbols():
    rule = ReferenceRule(1, "Clave catastral", "alphanumeric", 1, 20)
    assert rule.check("ab-12 cd") == "AB12CD"
    with pytest.raises(errors.InvalidReference) as caught:
        rule.check("AB#12")
    assert caught.value.reason == "bad_characters"


def test_amount_ranges_and_fixed_amounts():
    assert wifi().check_amount(100) == 100
    with pytest.raises(errors.AmountOutOfRange):
        wifi().check_amount(99)
    with pytest.raises(errors.AmountOutOfRange):
        wifi().check_amount(5_000_001)
    with pytest.raises(errors.AmountOutOfRange) as caught:
        water().check_amount(65001)
    assert caught.value.details["fixed"] == 65000


@pytest.mark.parametrize("bad", [0, -5, 1.5, "100", True, None])
def test_amounts_must_be_positive_integer_centavos(bad):
    with pytest.raises(errors.InvalidAmount):
        wifi().check_amount(bad)


def test_inactive_services_refuse_payments():
    with pytest.raises(errors.ServiceInactive):
        wifi(active=False).require_active()


def test_service_keys_are_digits_without_leading_zeros():
    assert normalize_service_key(" 0025 ") == "25"
    for bad in ("", "12a", "123456789", "-1"):
        with pytest.raises(errors.UnknownService):
            normalize_service_key(bad)


def test_every_domain_error_has_its_own_stable_code():
    from banking_core.errors import ALL_CODES, DomainError

    classes = DomainError.__subclasses__()
    assert len(ALL_CODES) == len(classes) == 27
    assert {"unknown_service", "invalid_reference", "insufficient_funds", "over_daily_limit",
            "account_not_owned", "credential_blocked", "amount_out_of_range",
            "service_inactive"} <= ALL_CODES


@given(st.text(alphabet=st.sampled_from("09aZ -ßﬁñ１²é\t") | st.characters(), max_size=24))
def test_normalize_keeps_its_per_character_definition(value):
    # normalize has a fast path for ASCII text; it must say what the
    # character-by-character definition says, for every text.
    expected = "".join(ch.upper() if ch.isascii() else ch for ch in value if ch not in " -")
    assert ReferenceRule(1, "Ref", "alphanumeric", 1, 40).normalize(value) == expected
