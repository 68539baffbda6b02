from banking_core.folios import FOLIO_LENGTH, is_valid_folio, new_folio


def test_folios_are_ten_digits_with_a_check_digit():
    folios = {new_folio() for _ in range(2000)}
    assert len(folios) == 2000
    for folio in folios:
        assert len(folio) == FOLIO_LENGTH and folio.isdigit() and folio[0] != "0"
        assert is_valid_folio(folio)


def test_a_mistyped_folio_is_detected():
    folio = new_folio()
    wrong = folio[:-1] + str((int(folio[-1]) + 1) % 10)
    assert not is_valid_folio(wrong)
    swapped_digit = folio[:3] + str((int(folio[3]) + 1) % 10) + folio[4:]
    assert not is_valid_folio(swapped_digit)
