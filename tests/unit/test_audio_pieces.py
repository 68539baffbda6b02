"""Play mode says the words say mode sends to Twilio: a value's recorded
words, joined, are exactly its say-mode reading."""
import datetime as dt
import random

import pytest
from num2words import num2words

from ivr.audio import pieces
from ivr.prompts import Segment, Spoken, join_spoken, load_prompts, parse_prompts
from ivr.readers import es_mx
from ivr.readers.es_mx import amount as say_amount, date as say_date, digits as say_digits, \
    time as say_time

rng = random.Random(7)
AMOUNTS = sorted({1, 50, 99, 100, 101, 2100, 34950, 65050, 100000, 2500000, 100000000,
                  100000001, 200000000, 123456789, 5000000000, 99999999999}
                 | {rng.randrange(1, 10**10) for _ in range(400)})


def joined(words):
    return "".join(separator + word for separator, word in words)


def test_an_amounts_words_joined_are_its_say_mode_reading():
    for centavos in AMOUNTS:
        words = pieces.spoken_words("amount", str(centavos), es_mx)
        assert joined(words) == say_amount(centavos), centavos
        assert {word for _, word in words} <= pieces.vocabulary(es_mx), centavos


def test_digits_are_played_in_groups_a_listener_can_hold():
    # 3-3-4 as a phone number is read: the words of a group run together, a
    # comma's pause between groups.
    words = pieces.spoken_words("digits", "9876543217", es_mx)
    assert [pieces.gap_ms(sep) for sep, _ in words][1:] == \
        [pieces.WORD_GAP_MS] * 2 + [pieces.COMMA_GAP_MS] + [pieces.WORD_GAP_MS] * 2 \
        + [pieces.COMMA_GAP_MS] + [pieces.WORD_GAP_MS] * 3
    for token in ["0", "5671", "9876543217", "4152310000000001"] + \
            [str(rng.randrange(10**12)) for _ in range(50)]:
        words = pieces.spoken_words("digits", token, es_mx)
        assert joined(words) == say_digits(token)
        assert len(words) == len(token)
        groups = [len(g.split()) for g in say_digits(token).split(", ")]
        assert sum(groups) == len(token) and all(1 <= g <= 4 for g in groups) \
            or len(token) == 1


def test_every_time_of_day_is_read_from_recorded_words():
    for minute_of_day in range(0, 24 * 60, 7):
        when = dt.time(minute_of_day // 60, minute_of_day % 60)
        words = pieces.spoken_words("time", pieces.value_token("time", when), es_mx)
        assert joined(words) == say_time(when)
        assert {word for _, word in words} <= pieces.vocabulary(es_mx)


def test_dates_spell_their_day_and_year_as_a_voice_reads_them():
    day = dt.date(2024, 1, 1)
    while day.year < 2031:
        words = pieces.spoken_words("date", pieces.value_token("date", day), es_mx)
        spelled = " ".join(num2words(int(w), lang="es") if w.isdigit() else w
                           for w in say_date(day).split())
        assert joined(words) == spelled
        assert {word for _, word in words} <= pieces.vocabulary(es_mx)
        day += dt.timedelta(days=17)
    assert pieces.reading("date", "2025-11-22", es_mx) == "22 de noviembre de 2025"


def test_values_that_cannot_be_read_from_words_have_no_token():
    assert pieces.value_token("digits", "12A4") is None
    assert pieces.value_token("amount", "diez") is None
    assert pieces.value_token("number", "007") is None
    assert pieces.value_token("date", "2025-13-01") is None
    assert pieces.value_token("time", "2026-11-20T14:05:00-06:00") == "1405"
    with pytest.raises(ValueError):
        pieces.reading("time", "2460", es_mx)


def test_the_vocabulary_has_what_spanish_numbers_need():
    words = pieces.vocabulary(es_mx)
    assert {"uno", "quince", "veintiuno", "treinta", "noventa", "y", "cien", "ciento",
            "quinientos", "mil", "millón", "millones", "un", "una", "veintiún", "pesos",
            "peso", "centavos", "centavo", "con", "de", "noviembre", "minutos"} <= words


def test_a_rendered_prompt_is_its_segments_joined():
    catalog = load_prompts()
    spoken = catalog.render("summary", {"amount": 65050, "service_name": "Agua potable",
                                        "references": "12345678 0125",
                                        "account_last4": "5671"})
    assert isinstance(spoken, Spoken) and spoken == "".join(s.text for s in spoken.segments)
    kinds = [s.kind for s in spoken.segments]
    assert kinds == ["text", "amount", "text", "value", "text", "digits", "text", "digits",
                     "text"]
    assert spoken.segments[1] == Segment(say_amount(65050), "amount", 65050)


def test_a_prompt_value_lends_its_segments_to_the_prompt_it_fills():
    catalog = parse_prompts('prompts: {line: "Cuenta {n:digits}.", all: "Saldos: {lines}"}',
                            source="t")
    lines = join_spoken([catalog.render("line", {"n": "12"}),
                         catalog.render("line", {"n": "3"})])
    spoken = catalog.render("all", {"lines": lines})
    assert spoken == "Saldos: Cuenta uno dos. Cuenta tres."
    assert [s.kind for s in spoken.segments].count("digits") == 2


def test_every_piece_of_every_prompt_is_to_be_recorded():
    catalog = load_prompts()
    texts = pieces.recordings(catalog)
    assert texts["Cuenta terminación"] == "prompt"
    assert texts[", de su cuenta terminación"] == "prompt"
    assert texts[","] == "pause" and texts["."] == "pause"
    assert texts["nómina"] == "word" and texts["veintidós"] == "word"
    assert all(pieces.piece_key(text) == text for text in texts)
