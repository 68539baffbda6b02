"""The committed recordings, `ivr audio check`, serving them to Twilio, and
play mode's start-up and TwiML."""
import dataclasses
import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from config import ConfigError, Settings
from tools.audio import check as audio_check
from ivr.audio import pieces
from ivr.audio.manifest import load_manifest
from ivr.audio.wavfile import decode, read_wav
from linea_directa.cli import cli
from ivr.prompts import load_prompts

AUDIO = Settings().audio_dir
ES_MX = AUDIO / "es-MX"


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


@pytest.fixture
def play_app(settings):
    from linea_directa.app import create_app

    app = create_app(dataclasses.replace(settings, ivr_prompt_mode="play"))
    yield app
    app.extensions["bank"].engine.dispose()


def run_cli(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env or {})


# -- the committed files ---------------------------------------------------------
def test_ivr_audio_check_passes_on_the_committed_files():
    result = run_cli("audio", "check")
    assert result.exit_code == 0, result.output
    assert "es-MX: audio complete" in result.output


def test_every_committed_file_is_telephony_audio_with_no_long_silence_at_its_ends():
    manifest = load_manifest(ES_MX)
    assert len(manifest.entries) > 150
    for key, entry in manifest.entries.items():
        wav = read_wav((ES_MX / entry.file).read_bytes())
        assert (wav.format_tag, wav.channels, wav.rate, wav.bits) == (7, 1, 8000, 8), entry
        samples = decode(wav.data)
        if entry.kind == "pause":
            assert set(samples) == {0} and 200 <= wav.milliseconds <= 400, entry
            continue
        head, tail = audio_check.edge_silences_ms(wav.data)
        # Besides the sentence pause a piece carries where it starts or ends one.
        lead, trail = pieces.edge_pauses_ms(entry.text) if entry.kind == "prompt" else (0, 0)
        assert lead <= head < lead + 300 and trail <= tail < trail + 300, entry
        assert max(abs(s) for s in samples) > 8000, entry  # speech, at a useful level
        assert abs(wav.milliseconds - entry.milliseconds) <= 5, entry


def test_pieces_are_levelled_to_one_loudness():
    # Played one after another, pieces must not jump in volume.
    levels = []
    for entry in load_manifest(ES_MX).entries.values():
        if entry.kind != "pause":
            samples = decode(read_wav((ES_MX / entry.file).read_bytes()).data)
            levels.append((sum(s * s for s in samples) / len(samples)) ** 0.5)
    assert max(levels) / min(levels) < 2.0  # within 6 dB


def test_a_value_read_back_and_the_next_sentence_are_a_sentence_pause_apart():
    # "…cincuenta centavos. Si es correcto…": the value is its own file; the
    # piece after it starts with the pause (on main: 13 ms, a run-on).
    entry = load_manifest(ES_MX).by_text()[". Si es correcto, marque 1; si no, marque 2."]
    head, tail = audio_check.edge_silences_ms(read_wav((ES_MX / entry.file).read_bytes()).data)
    assert head >= pieces.SENTENCE_PAUSE_MS and tail >= pieces.SENTENCE_PAUSE_MS
    # Between two prompts of one turn too: the first ends its sentence with a pause.
    entry = load_manifest(ES_MX).by_text()["No recibimos su respuesta."]
    assert audio_check.edge_silences_ms(
        read_wav((ES_MX / entry.file).read_bytes()).data)[1] >= pieces.SENTENCE_PAUSE_MS


def test_check_names_missing_and_orphan_files(tmp_path):
    copy = tmp_path / "es-MX"
    shutil.copytree(ES_MX, copy)
    manifest = load_manifest(copy)
    word = next(e for e in manifest.entries.values() if e.text == "veintidós")
    (copy / word.file).unlink()
    (copy / "0123456789abcdef.wav").write_bytes((copy / manifest.entries[
        next(iter(manifest.entries))].file).read_bytes())
    problems = audio_check.check(load_prompts(), copy)
    assert f"missing: {word.file} ('veintidós') is in the manifest, not on disk" in problems
    assert "orphan: 0123456789abcdef.wav is not in the manifest" in problems

    result = run_cli("audio", "check", env={"IVR_AUDIO_DIR": str(tmp_path)})
    assert result.exit_code != 0 and "veintidós" in result.output


def test_check_finds_a_prompt_without_audio_and_audio_without_a_prompt(tmp_path):
    catalog = load_prompts()
    changed = dataclasses.replace(catalog, prompts={
        **{k: v for k, v in catalog.prompts.items() if k != "goodbye"},
        "greeting": ("Bienvenida a Línea Directa.",)})
    problems = audio_check.check(changed, ES_MX)
    assert "missing: no recording of 'Bienvenida a Línea Directa.'" in problems
    assert any(p.startswith("orphan:") and "Hasta luego" in p for p in problems)
    assert any(p.startswith("orphan:") and "'Línea Directa, a sus órdenes.'" in p
               for p in problems)


def test_a_broken_manifest_is_one_clear_line(tmp_path):
    (tmp_path / "es-MX").mkdir()
    (tmp_path / "es-MX" / "manifest.json").write_text("{not json", encoding="utf-8")
    result = run_cli("audio", "check", env={"IVR_AUDIO_DIR": str(tmp_path)})
    assert result.exit_code != 0
    assert "manifest.json: unreadable" in result.output and "Traceback" not in result.output
    (tmp_path / "es-MX" / "manifest.json").write_text(json.dumps({"entries": {}}))
    assert "malformed" in audio_check.check(load_prompts(), tmp_path / "es-MX")[0]


def test_an_unknown_language_is_refused_by_name():
    result = run_cli("audio", "check", "--language", "xx-YY")
    assert result.exit_code != 0 and "unknown language 'xx-YY'" in result.output


# -- serving -------------------------------------------------------------------
def test_recordings_are_served_to_an_unsigned_get_as_immutable_audio_wav(client):
    entry = next(iter(load_manifest(ES_MX).entries.values()))
    response = client.get(f"/audio/es-MX/{entry.file}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "audio/wav"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.get_data() == (ES_MX / entry.file).read_bytes()


@pytest.mark.parametrize("path", [
    "/audio/es-MX/0000000000000000.wav", "/audio/es-MX/manifest.json",
    "/audio/es-MX/..%2F..%2Fsetup.cfg", "/audio/..%2Fsetup.cfg/x.wav", "/audio/xx-YY/a.wav",
    "/audio/es-MX/amount/12ab.wav", "/audio/es-MX/time/2460.wav", "/audio/es-MX/poem/1.wav",
    "/audio/es-MX/date/2025-02-30.wav",
])
def test_anything_but_a_listed_recording_or_a_readable_value_is_404(client, path):
    assert client.get(path).status_code == 404


def test_a_read_back_is_one_file_joined_from_its_words(client):
    library_version = load_manifest(ES_MX).version()
    response = client.get(f"/audio/es-MX/amount/65050.wav?v={library_version}")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    wav = read_wav(response.get_data())
    assert wav.is_telephony
    by_text = load_manifest(ES_MX).by_text()
    words = "seiscientos cincuenta pesos con cincuenta centavos".split()
    speech = sum(by_text[w].milliseconds for w in words)
    assert speech + 5 * pieces.WORD_GAP_MS - 5 <= wav.milliseconds <= speech + 5 * 50 + 5
    head, tail = audio_check.edge_silences_ms(wav.data)
    assert head < 300 and tail < 300
    stale = client.get("/audio/es-MX/amount/65050.wav?v=old")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"


# -- play mode -------------------------------------------------------------------
def test_play_mode_plays_prompts_and_says_only_what_cannot_be_recorded(play_app):
    player = play_app.extensions["ivr"].player
    spoken = load_prompts().render("confirm_service", {"service_key": "1411",
                                                       "service_name": "Agua potable"})

    class Verbs(list):
        def play(self, url):
            self.append(("play", url))

        def say(self, text, **options):
            self.append(("say", text, options))

    verbs = Verbs()
    player.speak(verbs, spoken, language="es-MX", voice="Polly.Mia")
    base = "http://127.0.0.1:5000/audio/es-MX"
    assert verbs[0] == ("play", f"{base}/{player.library.file_for('Servicio')}")
    assert verbs[1] == ("play", f"{base}/digits/1411.wav?v={player.library.version}")
    assert verbs[2][0] == "play" and player.library.text_for(verbs[2][1]) == ","
    assert verbs[3] == ("say", "Agua potable", {"language": "es-MX", "voice": "Polly.Mia"})
    assert [v[0] for v in verbs[4:]] == ["play"]


def test_play_mode_answers_the_first_turn_with_play_inside_the_gather(play_app):
    from qa.simulator import SimulatedCall, FlaskTransport

    settings = play_app.extensions["settings"]
    call = SimulatedCall(FlaskTransport(play_app.test_client()),
                         base_url=settings.public_base_url, auth_token=settings.twilio_auth_token)
    status, body = call.post(f"{call.base_url}/ivr/voice", call._params(status="ringing"))
    gather = ET.fromstring(body).find("Gather")
    # The greeting, its offer of English (in English), the log-in menu.
    assert status == 200 and [child.tag for child in gather] == ["Play", "Play", "Play"]
    assert [child.text.split("/")[4] for child in gather] == ["es-MX", "en-US", "es-MX"]
    assert all(child.text.startswith("http://127.0.0.1:5000/audio/") for child in gather)


def test_play_mode_refuses_to_start_without_every_recording(settings, tmp_path):
    from linea_directa.app import create_app

    copy = tmp_path / "audio" / "es-MX"
    shutil.copytree(ES_MX, copy)
    with pytest.raises(ConfigError, match=r"IVR_PROMPT_MODE: .*en-US/manifest.json: missing"):
        create_app(dataclasses.replace(settings, ivr_prompt_mode="play",
                                       audio_dir=tmp_path / "audio"))  # every language, or none
    shutil.copytree(AUDIO / "en-US", tmp_path / "audio" / "en-US")
    (copy / load_manifest(copy).by_text()["mil"].file).unlink()
    with pytest.raises(ConfigError, match=r"IVR_PROMPT_MODE: .*1 missing.*'mil'.*ivr audio build"):
        create_app(dataclasses.replace(settings, ivr_prompt_mode="play",
                                       audio_dir=tmp_path / "audio"))
    with pytest.raises(ConfigError, match="IVR_PROMPT_MODE: .*manifest.json: missing"):
        create_app(dataclasses.replace(settings, ivr_prompt_mode="play",
                                       audio_dir=tmp_path / "nothing"))


def test_the_prompt_mode_setting_is_validated_by_name():
    assert Settings.from_env({}).ivr_prompt_mode == "say"
    assert Settings.from_env({"IVR_PROMPT_MODE": "PLAY"}).ivr_prompt_mode == "play"
    with pytest.raises(ConfigError, match="IVR_PROMPT_MODE: must be say or play"):
        Settings.from_env({"IVR_PROMPT_MODE": "record"})


def test_the_last_recording_of_a_turn_ends_without_its_closing_pause(play_app):
    # Dead air before the caller's turn: the <Gather>'s timeout only starts
    # after it. The same recording mid-turn keeps its pause.
    client = play_app.test_client()
    library = play_app.extensions["ivr"].player.library
    name = library.file_for("Marque la clave de servicio y gato.")
    whole = read_wav(client.get(f"/audio/es-MX/{name}").data)
    last = read_wav(client.get(f"/audio/es-MX/{name}?end=turn").data)
    assert audio_check.edge_silences_ms(whole.data)[1] >= pieces.SENTENCE_PAUSE_MS
    assert audio_check.edge_silences_ms(last.data)[1] < 100
    assert whole.milliseconds - last.milliseconds == pieces.SENTENCE_PAUSE_MS
    assert client.get("/audio/es-MX/0000000000000000.wav?end=turn").status_code == 404
