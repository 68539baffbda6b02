import pytest

from banking_core.money import centavos_from_decimal, format_mxn, parse_pesos


@pytest.mark.parametrize("text, centavos", [
    ("349", 34900), ("349.5", 34950), ("349.50", 34950), ("0.01", 1), ("$1,234.56", 123456),
    ("25,000.00", 2500000), ("  12.3 ", 1230),
])
def test_pesos_become_exact_centavos(text, centavos):
    assert parse_pesos(text) == centavos


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1,23", "-5", "1e3", "12,34.00", "1.2.3",
                                  "9" * 20])
def test_malformed_amounts_are_refused_with_a_reason(text):
    with pytest.raises(ValueError):
        parse_pesos(text)


def test_decimal_conversion_refuses_fractions_of_a_centavo():
    assert centavos_from_decimal("10.25") == 1025
    with pytest.raises(ValueError):
        centavos_from_decimal("10.255")


def test_amounts_format_as_mexican_pesos():
    assert format_mxn(2500000) == "$25,000.00"
    assert format_mxn(5) == "$0.05"
    assert format_mxn(-3615000) == "-$36,150.00"
