import datetime as dt

import pytest

from ivr.prompts import PromptError, load_prompts, parse_prompts
from ivr.readers.es_mx import amount as say_amount, date as say_date, digits as say_digits, \
    time as say_time


@pytest.mark.parametrize("centavos, words", [
    (34950, "trescientos cuarenta y nueve pesos con cincuenta centavos"),
    (100, "un peso"), (2100, "veintiún pesos"), (50, "cincuenta centavos"),
    (1, "un centavo"), (101, "un peso con un centavo"),
    (100000000, "un millón de pesos"), (2500000, "veinticinco mil pesos"),
    # "uno" is shortened before the noun, in the pesos and in the centavos.
    (2121, "veintiún pesos con veintiún centavos"), (21, "veintiún centavos"),
    (3131, "treinta y un pesos con treinta y un centavos"),
    (2100000, "veintiún mil pesos"), (100000001, "un millón de pesos con un centavo"),
])
def test_amounts_are_read_in_words(centavos, words):
    assert say_amount(centavos) == words


def test_identifiers_are_read_digit_by_digit():
    assert say_digits("0055") == "cero cero cinco cinco"


@pytest.mark.parametrize("when, words", [
    (dt.time(0, 5), "las doce con cinco minutos de la madrugada"),
    (dt.time(9, 0), "las nueve de la mañana"),
    (dt.time(12, 30), "las doce con treinta minutos del día"),
    (dt.time(13, 0), "la una de la tarde"),
    (dt.time(21, 15), "las nueve con quince minutos de la noche"),
    (dt.time(13, 1), "la una con un minuto de la tarde"),
    (dt.time(1, 21), "la una con veintiún minutos de la madrugada"),
    (dt.time(9, 31), "las nueve con treinta y un minutos de la mañana"),
])
def test_times_are_read_as_people_say_them(when, words):
    assert say_time(when) == words


def test_dates_read_naturally_also_from_iso_text():
    assert say_date("2026-11-20T12:30:05-06:00") == "20 de noviembre de 2026"


def test_tapered_variants_and_placeholders():
    catalog = parse_prompts('prompts: {p: ["Largo {x:digits}.", "Corto."]}', source="t")
    assert catalog.render("p", {"x": "12"}, 1) == "Largo uno dos."
    assert catalog.render("p", {"x": "12"}, 2) == "Corto."
    assert catalog.render("p", {"x": "12"}, 9) == "Corto."
    with pytest.raises(PromptError, match="needs 'x'"):
        catalog.render("p", {}, 1)


def test_literal_currency_text_is_not_a_placeholder():
    catalog = parse_prompts('prompts: {p: "Cuesta $650.00, {n}."}', source="t")
    assert catalog.render("p", {"n": "ya"}) == "Cuesta $650.00, ya."


@pytest.mark.parametrize("text, message", [
    ('prompts: {p: ""}', "must be a text"),
    ('prompts: {p: "Hola {x:money}"}', "bad placeholder"),
    ("[1]", "expected language"),
])
def test_bad_prompt_files_are_refused(text, message):
    with pytest.raises(PromptError, match=message):
        parse_prompts(text, source="t")


def test_every_prompt_of_the_shipped_file_speaks_usted():
    catalog = load_prompts()
    for key, variants in catalog.prompts.items():
        for text in variants:
            assert " tú " not in f" {text.lower()} " and "marca " not in text.lower(), key


def test_limits_and_hours_are_read_in_words_never_symbols():
    from config.hours import parse_hours
    from ivr.readers import es_mx

    rule = es_mx.amount_rule(fixed=None, low=100, high=5000000)
    assert rule == "de un peso a cincuenta mil pesos"
    assert [(s.kind, s.value) for s in rule.segments if s.kind != "text"] == \
        [("amount", 100), ("amount", 5000000)]
    hours = es_mx.hours(parse_hours("sat-mon 00:00-24:00; tue 10:30-24:00"))
    assert hours == "de sábado a lunes todo el día y martes de las diez con treinta " \
        "minutos de la mañana a la medianoche"
    assert not any(ch in hours + rule for ch in "$:0123456789")


def test_a_prompt_written_twice_is_refused_naming_its_line():
    # PyYAML alone keeps the last of two equal keys: a prompt pasted twice
    # would silently replace the reviewed one.
    from ivr.prompts import PromptError, parse_prompts
    text = 'language: es-MX\nvoice: v\nprompts:\n  a: "Uno."\n  b: "Dos."\n  a: "Otro."\n'
    with pytest.raises(PromptError, match="the key 'a' appears twice \\(first on line 4\\)"):
        parse_prompts(text, source="p.yaml")


def test_a_menu_node_written_twice_is_refused():
    from ivr.menu_schema import MenuError, parse_menu
    text = "start: a\nnodes:\n  a: {type: hangup, prompt: p}\n  a: {type: hangup, prompt: p}\n"
    with pytest.raises(MenuError, match="the key 'a' appears twice"):
        parse_menu(text, source="m.yaml", prompts={"p"}, operations=set())
