"""The English readers, and that play mode can say everything they read:
a value's recorded words, joined, are exactly its say-mode reading."""
import datetime as dt
import random

import pytest

from config.hours import parse_hours
from ivr.audio import pieces
from ivr.readers import ReaderError, en_us, es_mx, reader_for

rng = random.Random(11)


def joined(words):
    return "".join(separator + word for separator, word in words)


@pytest.mark.parametrize("centavos, words", [
    (1, "one centavo"), (50, "fifty centavos"), (100, "one peso"),
    (101, "one peso and one centavo"), (65050, "six hundred fifty pesos and fifty centavos"),
    (2500000, "twenty-five thousand pesos"), (100000000, "one million pesos"),
    (123456789, "one million two hundred thirty-four thousand five hundred sixty-seven pesos"
                " and eighty-nine centavos"),
])
def test_amounts_in_pesos_and_centavos_in_american_english(centavos, words):
    assert en_us.amount(centavos) == words


@pytest.mark.parametrize("when, words", [
    (dt.time(0, 0), "twelve o'clock at night"), (dt.time(9, 5), "nine oh five in the morning"),
    (dt.time(12, 30), "twelve thirty in the afternoon"),
    (dt.time(14, 0), "two o'clock in the afternoon"),
    (dt.time(21, 45), "nine forty-five in the evening"),
])
def test_times_of_day(when, words):
    assert en_us.time(when) == words


def test_dates_digits_hours_kinds_and_rules():
    assert en_us.date("2026-11-20T12:30:05-06:00") == "November twentieth, twenty twenty-six"
    assert en_us.date(dt.date(2005, 3, 1)) == "March first, two thousand five"
    assert en_us.digits("0055") == "zero zero five five"
    assert en_us.hours(parse_hours("mon-fri 08:00-20:00; sat 09:30-14:00")) == \
        "Monday through Friday from eight o'clock in the morning to eight o'clock in the " \
        "evening and Saturday from nine thirty in the morning to two o'clock in the afternoon"
    assert en_us.hours(parse_hours("mon-sun 00:00-24:00")) == "Monday through Sunday, all day"
    assert en_us.account_kind("nomina") == "payroll" and es_mx.account_kind("nomina") == "nómina"
    assert en_us.credential("card") == "card" and es_mx.credential("card") == "tarjeta"
    assert en_us.amount_rule(fixed=None, low=100, high=5000000) == \
        "from one peso to fifty thousand pesos"
    assert es_mx.amount_rule(fixed=5000, low=0, high=0) == "solo acepta cincuenta pesos"


def test_every_english_reading_is_said_from_recorded_words():
    vocabulary = pieces.vocabulary(en_us)
    tokens = [("amount", str(rng.randrange(1, 10**10))) for _ in range(300)]
    tokens += [("digits", str(rng.randrange(10**12))) for _ in range(20)]
    tokens += [("time", f"{m // 60:02d}{m % 60:02d}") for m in range(0, 24 * 60, 7)]
    day = dt.date(2024, 1, 1)
    while day.year < 2031:
        tokens.append(("date", day.isoformat()))
        day += dt.timedelta(days=13)
    tokens += [("number", str(n)) for n in (1, 2, 15, 99, 1234)]
    for kind, token in tokens:
        words = pieces.spoken_words(kind, token, en_us)
        reading = pieces.reading(kind, token, en_us)
        assert joined(words) == (reading if kind != "number" else en_us.spell(int(token)))
        assert {word for _, word in words} <= vocabulary, (kind, token)


def test_a_language_is_its_module_or_a_clear_refusal():
    assert reader_for("en-US") is en_us and reader_for("es-MX") is es_mx
    with pytest.raises(ReaderError, match="no readers for pt-BR: add ivr/readers/pt_br.py"):
        reader_for("pt-BR")
    with pytest.raises(ReaderError, match="not a language tag"):
        reader_for("../x")


def test_long_numbers_are_read_in_groups_as_a_person_reads_them():
    from ivr.readers.common import digit_groups
    assert digit_groups("5671") == ["5671"]
    assert digit_groups("9876543217") == ["987", "654", "3217"]        # folio, reference: 3-3-4
    assert digit_groups("4152310000000001") == ["4152", "3100", "0000", "0001"]  # a card
    assert digit_groups("12345678") == ["1234", "5678"]
    assert digit_groups("123456789") == ["123", "456", "789"]
    assert digit_groups("12345") == ["123", "45"]
    assert es_mx.digits("9876543217") == "nueve ocho siete, seis cinco cuatro, tres dos uno siete"
    # Two references stay two values, each in its groups.
    assert es_mx.digits("12345678 0626") == \
        "uno dos tres cuatro, cinco seis siete ocho; y cero seis dos seis"
