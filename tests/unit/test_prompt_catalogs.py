"""Catalogs that can stand in for each other: the checks `load_catalogs` runs
at start-up, each shown to fire, and the list of prompts the code renders by
name shown to be complete."""
import re
from pathlib import Path

import pytest

from ivr.prompts import CODE_PROMPTS, LANGUAGE_OFFER, PromptError, by_language, \
    check_catalogs, link_catalogs, load_catalogs, parse_prompts

ROOT = Path(__file__).resolve().parents[2]


def catalog(language: str, offers: str | None, **prompts: str):
    lines = [f"language: {language}"] + ([f"offers: {offers}"] if offers else []) + \
        ["prompts:"] + [f"  {key}: {text!r}" for key, text in prompts.items()]
    return parse_prompts("\n".join(lines), source=f"{language}.yaml")


def pair(es: dict, en: dict):
    return {"es-MX": catalog("es-MX", "en-US", **es), "en-US": catalog("en-US", "es-MX", **en)}


def test_the_shipped_catalogs_pass_every_check():
    catalogs = load_catalogs()
    assert set(catalogs) >= {"es-MX", "en-US"}
    assert catalogs["es-MX"].offers == "en-US" and catalogs["en-US"].offers == "es-MX"


def test_a_key_missing_from_one_catalog_is_refused():
    with pytest.raises(PromptError, match="prompt 'bye' is in es-MX but not in en-US"):
        check_catalogs(pair({"hi": "Hola.", "bye": "Adiós."}, {"hi": "Hi."}), required=())


def test_different_placeholders_for_one_key_are_refused():
    with pytest.raises(PromptError, match=r"prompt 'paid' has placeholders \['amount:amount'\]"
                                          r" in en-US but \['amount'\] in es-MX"):
        check_catalogs(pair({"paid": "Pagó {amount}."}, {"paid": "You paid {amount:amount}."}),
                       required=())


def test_a_placeholder_in_any_variant_counts():
    # The short variant may drop a value; the key still has it in some variant.
    check_catalogs(pair({"p": ["Cuenta {n:digits}.", "Corto."]}, {"p": "Account {n:digits}."}),
                   required=())


def test_a_prompt_the_code_renders_by_name_must_be_in_every_catalog():
    with pytest.raises(PromptError, match="es-MX lacks prompt 'goodbye', which the code renders"):
        check_catalogs(pair({"hi": "Hola."}, {"hi": "Hi.", "goodbye": "Bye."}),
                       required={"goodbye"})


def test_the_offered_language_must_be_another_catalog():
    lone = {"es-MX": catalog("es-MX", "fr-CA", hi="Hola."), "en-US": catalog("en-US", "es-MX",
                                                                                hi="Hi.")}
    with pytest.raises(PromptError, match="es-MX offers 'fr-CA', which is not another catalog"):
        check_catalogs(lone, required=())
    silent = {"es-MX": catalog("es-MX", None, hi="Hola."), "en-US": catalog("en-US", "es-MX",
                                                                              hi="Hi.")}
    with pytest.raises(PromptError, match="es-MX offers no language"):
        check_catalogs(silent, required=())


def test_a_language_without_readers_is_refused():
    with pytest.raises(PromptError, match=r"fr.yaml: no readers for fr: add ivr/readers/fr.py"):
        parse_prompts("language: fr\nprompts: {hi: Salut.}", source="fr.yaml")


def test_the_offer_is_said_in_the_offered_language_and_its_voice():
    catalogs = link_catalogs(pair(
        {"greeting": "Bienvenido. {language_offer}", LANGUAGE_OFFER: "Para español, 9."},
        {"greeting": "Welcome. {language_offer}", LANGUAGE_OFFER: "For English, 9."}),
        required=())
    spoken = catalogs["es-MX"].render("greeting", {})
    assert spoken == "Bienvenido. For English, 9."
    assert by_language(spoken, "es-MX", "Polly.Mia") == [
        ("Bienvenido.", "es-MX", "Polly.Mia"), ("For English, 9.", "en-US", "Polly.Mia")]
    assert by_language(catalogs["en-US"].render("greeting", {}), "en-US", "Polly.Joanna") == [
        ("Welcome.", "en-US", "Polly.Joanna"), ("Para español, 9.", "es-MX", "Polly.Mia")]


def test_a_prompt_in_one_language_is_one_say_as_before():
    spoken = load_catalogs()["es-MX"].render("goodbye", {})
    assert by_language(spoken, "es-MX", "Polly.Mia") == [(str(spoken), "es-MX", "Polly.Mia")]


# Every way the code names a prompt: say(verb, "key"), .words("key"),
# .render("key", …), _hang_up_with("key"), goodbye(response, "key"),
# _failure(…, "key"), f"reason_{…}".
NAMED = re.compile(r"""(?:\bsay\(\w+,\s*|\.words\(|\.render\(|_hang_up_with\(|"""
                   r"""goodbye\(\w+,\s*|_failure\([^)]*?,\s*)"([a-z_]+)\"""")


def test_every_prompt_the_code_renders_by_name_is_listed():
    found = set()
    for path in (ROOT / "ivr").rglob("*.py"):
        found |= set(NAMED.findall(path.read_text(encoding="utf-8")))
    assert {"goodbye", "technical_problem", "session_ended", "queue_position",
            "invalid_option", "verify_nip", "agent_call_ended"} <= found  # the pattern works
    assert found <= CODE_PROMPTS, sorted(found - CODE_PROMPTS)


def test_every_reason_a_reference_is_refused_for_has_its_words():
    source = (ROOT / "banking_core" / "catalog.py").read_text(encoding="utf-8")
    # Less bad_characters: a reference with letters is never keyed by phone
    # (such a service goes to an agent), so the IVR never hears that reason.
    reasons = set(re.findall(r'fail\("([a-z_]+)"', source)) - {"bad_characters"}
    assert reasons and {f"reason_{r}" for r in reasons} <= CODE_PROMPTS
