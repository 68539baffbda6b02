"""Test vectors from the field notes (checked against public references)."""
import pytest

from banking_core.checkdigits import (
    REFERENCE_RULES, clabe_is_valid, luhn_check_digit, luhn_is_valid, make_clabe,
    paynet_is_valid,
)


def test_bancomer_00_is_luhn():
    assert luhn_check_digit("18000359700002387") == "1"
    assert REFERENCE_RULES["bancomer00"]("180003597000023871")
    assert not REFERENCE_RULES["bancomer00"]("180003597000023872")


def test_demo_references_and_card():
    assert luhn_is_valid("9876543217")
    assert not luhn_is_valid("9876543210")
    assert luhn_is_valid("4152310000000001")


def test_paynet_maps_letters_then_applies_luhn():
    assert paynet_is_valid("00003Y101013965399")
    assert not paynet_is_valid("00003Y101013965390")
    assert not paynet_is_valid("00003Y10101396539Ñ")


@pytest.mark.parametrize("clabe", ["002010077777777771", "032180000118359719",
                                   "014027000005555558", "002010777777777770"])
def test_valid_clabes(clabe):
    assert clabe_is_valid(clabe)


@pytest.mark.parametrize("clabe", ["002010077777777779", "00201007777777777", "ABC010077777777771",
                                   ""])
def test_invalid_clabes(clabe):
    assert not clabe_is_valid(clabe)


def test_made_clabes_carry_the_account_and_a_valid_check_digit():
    clabe = make_clabe("999", "180", "0012345671")
    assert clabe.startswith("999180") and "0012345671" in clabe
    assert clabe_is_valid(clabe)
