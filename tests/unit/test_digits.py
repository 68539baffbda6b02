"""Digits are ASCII (banking_core/digits.py): properties of every parser the
core offers the channels, over arbitrary Unicode text and over valid values
with some digits swapped for the same digit in another script (`１`, `١`, `²`).

A parser either refuses (with its own error, never another exception) or
answers something made of ASCII that a biller, a card network or a person can
match. The strategies are shared with tests/security/test_ascii_digits.py."""
import sys
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banking_core import accounts, errors
from banking_core.auth import IDENTIFIER_LENGTHS, is_valid_nip, normalize_identifier
from banking_core.catalog import ReferenceRule, normalize_service_key
from banking_core.checkdigits import REFERENCE_RULES, clabe_is_valid, luhn_is_valid
from banking_core.digits import int_or_none, is_ascii_alphanumeric, is_ascii_digits, parse_int
from banking_core.loader_schema import digits as loader_digits
from banking_core.money import format_mxn, parse_pesos
from banking_core.views import AccountView, Principal
from config import ConfigError, Settings
from ivr.operations import parse_keyed_amount

ASCII_DIGITS = "0123456789"
# Kept modest: the whole suite stays fast; hypothesis keeps no database in the repo.
PROPERTIES = settings(max_examples=150, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.too_slow])


def _other_digits() -> dict[str, list[str]]:
    """Every non-ASCII character with a digit value, by the ASCII digit it means."""
    found = {d: [] for d in ASCII_DIGITS}
    for code in range(0x80, sys.maxunicode + 1):
        value = unicodedata.digit(chr(code), None)
        if value is not None:
            found[str(value)].append(chr(code))
    return found


OTHER_DIGITS = _other_digits()
# Anything a browser or a phone could send (no lone surrogates: not valid UTF-8).
UNICODE_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)


@st.composite
def lookalike(draw, valid: str) -> str:
    """`valid` with at least one of its digits written in another script."""
    positions = [i for i, ch in enumerate(valid) if ch in ASCII_DIGITS]
    chosen = draw(st.sets(st.sampled_from(positions), min_size=1))
    chars = list(valid)
    for i in chosen:
        chars[i] = draw(st.sampled_from(OTHER_DIGITS[chars[i]]))
    return "".join(chars)


def field(*valid: str):
    """What a field may receive: a valid value, one with look-alike digits, or anything."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid).flatmap(lookalike),
                     UNICODE_TEXT)


def test_every_script_s_digits_are_found():
    assert {"１", "١", "²", "۴", "߅"} <= {c for cs in OTHER_DIGITS.values() for c in cs}
    assert all(len(OTHER_DIGITS[d]) > 50 for d in ASCII_DIGITS)


# ---- the validator itself -------------------------------------------------------------
@PROPERTIES
@given(field("0", "123", "000123", "9" * 18, "9" * 19))
def test_only_ascii_digit_strings_are_numbers(text):
    ascii_number = text != "" and set(text) <= set(ASCII_DIGITS)
    assert is_ascii_digits(text) is ascii_number
    if ascii_number and len(text) <= 18:
        assert parse_int(text) == int(text) and int_or_none(text) == int(text)
    else:
        with pytest.raises(ValueError):
            parse_int(text)
        assert int_or_none(text) is None


@pytest.mark.parametrize("text", ["+1", "-1", " 1", "1 ", "1_0", "١", "１", "²", "", "1.0"])
def test_parse_int_takes_none_of_what_int_takes(text):
    assert int_or_none(text) is None


def test_lengths_and_types():
    assert is_ascii_digits("1234", length=4) and not is_ascii_digits("123", length=4)
    assert is_ascii_digits("12", min_length=2, max_length=3)
    assert not is_ascii_digits("1234", max_length=3) and not is_ascii_digits(1234)
    assert is_ascii_alphanumeric("CAT00123A") and not is_ascii_alphanumeric("CAÑ1")
    assert not is_ascii_alphanumeric("A²") and not is_ascii_alphanumeric("")


# ---- money -------------------------------------------------------------------------------
@PROPERTIES
@given(field("349.50", "$1,234.56", "25000", "0.05", "1,000,000.00"))
def test_an_amount_is_read_from_ascii_digits_or_refused(text):
    try:
        centavos = parse_pesos(text)
    except ValueError:
        return
    number = text.strip().removeprefix("$").strip().replace(",", "")
    assert number.isascii() and set(number) <= set(ASCII_DIGITS + ".")
    assert centavos == int(Decimal(number) * 100)


@PROPERTIES
@given(st.integers(min_value=0, max_value=10**14))
def test_every_formatted_amount_reads_back_exactly(centavos):
    assert parse_pesos(format_mxn(centavos)) == centavos


@PROPERTIES
@given(st.sampled_from(["349.50", "$1,234.56", "25000", "12.5"]).flatmap(lookalike))
def test_an_amount_with_any_other_digit_is_refused(text):
    with pytest.raises(ValueError):
        parse_pesos(text)


@PROPERTIES
@given(field("349", "349*5", "349*05", "1*"))
def test_an_amount_keyed_on_the_phone_is_ascii_or_nothing(keyed):
    centavos = parse_keyed_amount(keyed)
    if centavos is not None:
        assert keyed.isascii() and set(keyed) <= set(ASCII_DIGITS + "*")


# ---- references and check digits ---------------------------------------------------------
RULES = [
    ReferenceRule(1, "Número de cliente", "numeric", 10, 10, "luhn"),
    ReferenceRule(1, "Matrícula", "numeric", 9, 9),
    ReferenceRule(1, "Clave catastral", "alphanumeric", 1, 20),
    ReferenceRule(1, "Referencia Paynet", "alphanumeric", 4, 20, "paynet"),
]


@PROPERTIES
@given(st.sampled_from(RULES),
       field("9876543217", "987-654 3217", "123456789", "CAT-00123A", "cat00123a", "A1B2C3D4"))
def test_a_reference_is_ascii_and_follows_its_rule_or_is_refused(rule, value):
    try:
        ref = rule.check(value)
    except errors.InvalidReference as exc:
        assert exc.reason in {"missing", "not_numeric", "bad_characters", "too_short",
                              "too_long", "bad_check_digit"}
        return
    assert is_ascii_digits(ref) if rule.is_numeric else is_ascii_alphanumeric(ref)
    assert ref == ref.upper() and rule.min_length <= len(ref) <= rule.max_length
    assert REFERENCE_RULES[rule.check_digit](ref)


@pytest.mark.parametrize("value", ["maße1", "ﬁ123", "ı123"])
def test_upper_casing_never_makes_a_reference_of_what_was_not_typed(value):
    # str.upper() would turn these into MASSE1, FI123, I123: ASCII never typed.
    with pytest.raises(errors.InvalidReference) as caught:
        RULES[2].check(value)
    assert caught.value.reason == "bad_characters"


@PROPERTIES
@given(field("4152310000000001", "9876543217", "002180000123456781"))
def test_check_digit_rules_answer_for_any_text(text):
    for check in (luhn_is_valid, clabe_is_valid, *REFERENCE_RULES.values()):
        assert check(text) in (True, False)
    if luhn_is_valid(text) or clabe_is_valid(text):
        assert is_ascii_digits(text)


# ---- log-in, service keys, accounts ---------------------------------------------------------
@PROPERTIES
@given(st.sampled_from(sorted(IDENTIFIER_LENGTHS)),
       field("10000001", "4152310000000001", "0055500011", "4152 3100 0000 0001"))
def test_an_identifier_is_its_ascii_digits_or_malformed(method, text):
    try:
        value = normalize_identifier(method, text)
    except errors.MalformedCredential:
        return
    assert is_ascii_digits(value, length=IDENTIFIER_LENGTHS[method])
    assert value == "".join(text.split())


@PROPERTIES
@given(field("1357", "0000"))
def test_a_nip_is_four_ascii_digits(text):
    assert is_valid_nip(text) is is_ascii_digits(text, length=4)


@PROPERTIES
@given(field("1411", "25", "0025", "5005", "12345678"))
def test_a_service_key_is_ascii_digits_or_unknown(text):
    try:
        key = normalize_service_key(text)
    except errors.UnknownService:
        return
    assert is_ascii_digits(text.strip(), max_length=8) and key == str(int(text.strip()))


ANA = Principal(customer_id=1, customer_name="Ana López", method="access_key",
                account_ids=frozenset({1, 2}))
ANA_ACCOUNTS = [AccountView(id=1, number="0012345671", kind="cheques", balance_centavos=1,
                            clabe="x"),
                AccountView(id=2, number="0098765432", kind="ahorro", balance_centavos=1,
                            clabe="y")]


@PROPERTIES
@given(field("5671", "5432", "0000"))
def test_an_account_ending_is_four_ascii_digits(text):
    import unittest.mock

    with unittest.mock.patch.object(accounts, "list_accounts", lambda bank, p: ANA_ACCOUNTS):
        try:
            found = accounts.find_account_by_last4(None, ANA, text)
        except errors.UnknownAccount:
            return
    assert found.last4 == text.strip() and is_ascii_digits(text.strip(), length=4)


# ---- what operators write --------------------------------------------------------------------
@PROPERTIES
@given(field("0012345671", "4152310000000001"))
def test_bank_file_numbers_are_ascii(text):
    try:
        value = loader_digits(text, 10, "an account number")
    except ValueError:
        return
    assert is_ascii_digits(value, length=10)


@PROPERTIES
@given(field("10", "3", "60"))
def test_integer_settings_are_ascii(text):
    try:
        value = Settings.from_env({"IVR_ENV": "test", "MAX_QUEUE_MINUTES": text})
    except ConfigError:
        return
    assert text == "" or int(text.strip()) == value.max_queue_minutes
    assert text.strip() == "" or is_ascii_digits(text.strip())
