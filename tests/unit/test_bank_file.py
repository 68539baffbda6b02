"""The bank-file format: parsed without a database."""
import pytest

from banking_core.loader import DEMO_BANK, BankFileError, parse_bank_file


def test_the_demo_file_parses_with_exact_centavos():
    bank_file = parse_bank_file(DEMO_BANK.read_text())
    ana = bank_file.customers[0]
    assert ana.name == "Ana López" and ana.phone == "+523336693552"
    assert [a.balance for a in ana.accounts] == [2_500_000, 300_000, 800_000]
    wifi = bank_file.billers[0]
    assert (wifi.references[0].min_length, wifi.references[0].max_length) == (10, 10)


BAD_ACCOUNT = """
customers:
  - name: Ana López
    email: ana@example.com
    accounts:
      - {number: "0012345671", kind: cheques, balance: "10.00"}
  - name: Carlos Ruiz
    email: carlos@example.com
    accounts:
      - {number: "12340002", kind: cheques, balance: 150.5}
"""


def test_errors_name_the_record_and_field():
    with pytest.raises(BankFileError) as caught:
        parse_bank_file(BAD_ACCOUNT, source="bank.yaml")
    message = str(caught.value)
    assert "bank.yaml: 2 problem(s)" in message
    assert "customers[1] 'Carlos Ruiz' → accounts[0] '12340002' → number" in message
    assert "exactly 10 digits" in message
    assert "→ balance: write amounts as text" in message


def test_secrets_never_appear_in_errors():
    text = """
customers:
  - name: Ana
    email: ana@example.com
    access_key: {number: "10000001", nip: "13579"}
    accounts:
      - number: "0012345671"
        kind: cheques
        card: {number: "4152310000000002", nip: "2468"}
"""
    with pytest.raises(BankFileError) as caught:
        parse_bank_file(text)
    message = str(caught.value)
    assert "access_key → nip" in message and "Luhn" in message
    assert "13579" not in message and "4152310000000002" not in message


@pytest.mark.parametrize("text, expected", [
    ("[1, 2]", "expected a mapping"),
    ("billers: [{service_key: '12a', name: X, amount: {min: 1, max: 2},"
     " references: [{label: R, length: 3}]}]", "service key is 1 to 8 digits"),
    ("billers: [{service_key: '7', name: X, amount: {min: 1},"
     " references: [{label: R, length: 3}]}]", "give fixed, or both min and max"),
    ("billers: [{service_key: '7', name: X, amount: {fixed: 5},"
     " references: [{label: R, length: 3, check_digit: crc}]}]", "unknown check-digit rule"),
    ("billers: [{service_key: '7', name: X, amount: {fixed: 5}, references: []}]",
     "at least 1 item"),
    ("customers: [{name: A, email: nope, accounts: [{number: '0012345671', kind: cheques}]}]",
     "email"),
    ("customers: [{name: A, email: a@b.mx, colour: red, accounts: []}]", "colour"),
    ("agents: [{username: ab, name: A, password: short}]", "username"),
    ("billers: {oops", "not valid YAML"),
])
def test_bad_records_are_explained(text, expected):
    with pytest.raises(BankFileError, match=expected):
        parse_bank_file(text)


@pytest.mark.parametrize("reference, expected", [
    ("{label: Predial, charset: alphanumeric, max_length: 20, check_digit: luhn}",
     "'luhn' reads digits only: it cannot check an alphanumeric reference"),
    ("{label: Predial, charset: alphanumeric, max_length: 20, check_digit: bancomer00}",
     "'bancomer00' reads digits only"),
    ("{label: Predial, length: 1, check_digit: paynet}",
     "a check digit needs a reference of at least 2 characters"),
])
def test_a_reference_rule_that_could_never_pass_is_refused_naming_biller_and_reference(
        reference, expected):
    text = f"""
billers:
  - service_key: "2088"
    name: Impuesto predial
    amount: {{min: "1.00", max: "500000.00"}}
    references:
      - {{label: Cuenta, length: 10}}
      - {reference}
"""
    with pytest.raises(BankFileError) as caught:
        parse_bank_file(text, source="bank.yaml")
    message = str(caught.value)
    assert "billers[0] 'Impuesto predial' → references[1] 'Predial'" in message
    assert expected in message


def test_paynet_on_an_alphanumeric_reference_is_a_fine_rule():
    bank_file = parse_bank_file("""
billers:
  - service_key: "2088"
    name: Impuesto predial
    amount: {min: "1.00", max: "500000.00"}
    references: [{label: Predial, charset: alphanumeric, max_length: 20, check_digit: paynet}]
""")
    assert bank_file.billers[0].references[0].check_digit == "paynet"


def test_a_billers_keys_and_addresses_are_checked_and_a_short_secret_is_never_echoed():
    text = """
billers:
  - service_key: "77"
    name: Escuela
    amount: {min: "1.00", max: "10.00"}
    references: [{label: Matrícula, length: 6}]
    keys:
      - {key_id: "bad id", secret: corto-secreto-123}
    notification_url: "javascript:alert(1)"
    return_origins: ["https://escuela.mx/carrito"]
"""
    with pytest.raises(BankFileError) as caught:
        parse_bank_file(text)
    message = str(caught.value)
    assert "keys[0] → key_id" in message or "keys → 0 → key_id" in message, message
    assert "at least 32 characters" in message and "corto-secreto-123" not in message
    assert "notification_url" in message and "return_origins" in message
