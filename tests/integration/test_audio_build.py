"""`ivr audio build` for real: espeak-ng, then pydub and ffmpeg.

Needs the speech engine and ffmpeg (`make test` installs them where it can).
Under CI (IVR_REQUIRE_SERVICES) their absence fails these tests; elsewhere
they are skipped and say why."""
import shutil

import pytest

from config import Settings
from tools.audio import check as audio_check, loudness
from tools.audio.build import build
from ivr.audio import pieces
from ivr.audio.library import AudioLibrary
from ivr.audio.manifest import load_manifest
from ivr.audio.wavfile import decode, mulaw_wav, read_wav
from tests import services

TEXTS = {"Bienvenido a Línea Directa.": "prompt", ", referencia": "prompt",
         "veintidós": "word", ".": "pause"}


@pytest.fixture(scope="module")
def engine_available():
    missing = [tool for tool in ("espeak-ng", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        message = f"speech engine unavailable: {' and '.join(missing)} not installed"
        if services.services_required():
            pytest.fail(f"{message} (CI requires it; `make test` installs espeak-ng and ffmpeg)",
                        pytrace=False)
        pytest.skip(message)


def test_a_build_records_each_text_as_trimmed_telephony_audio(engine_available, tmp_path):
    report = build("es-MX", TEXTS, tmp_path)
    assert (report.rendered, report.kept, report.removed, report.files) == (4, 0, 0, 4)
    manifest = load_manifest(tmp_path)
    assert {e.text: e.kind for e in manifest.entries.values()} == TEXTS
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == \
        sorted(e.file for e in manifest.entries.values())
    for entry in manifest.entries.values():
        blob = (tmp_path / entry.file).read_bytes()
        wav = read_wav(blob)
        assert wav.is_telephony and blob[20:22] == b"\x07\x00"  # format tag 7: mu-law
        pause = entry.kind == "pause"
        assert audio_check.file_problems(blob, pause=pause, pauses=pauses(entry)) == []
        if not pause:
            head, tail = audio_check.edge_silences_ms(wav.data)
            lead, trail = pauses(entry)  # the sentence pause a piece carries, on purpose
            assert head - lead < 100 and tail - trail < 100  # the engine leaves ~400 ms
            assert 300 < wav.milliseconds - lead - trail < 3000


def test_a_rebuild_renders_only_what_changed_and_removes_what_is_stale(engine_available,
                                                                        tmp_path):
    build("es-MX", TEXTS, tmp_path)
    before = {e.text: (tmp_path / e.file).read_bytes()
              for e in load_manifest(tmp_path).entries.values()}
    again = build("es-MX", TEXTS, tmp_path)
    assert (again.rendered, again.kept, again.removed) == (0, 4, 0)

    changed = {**{t: k for t, k in TEXTS.items() if t != "veintidós"}, "veintitrés": "word"}
    report = build("es-MX", changed, tmp_path)
    assert (report.rendered, report.kept, report.removed) == (1, 3, 1)
    after = {e.text: (tmp_path / e.file).read_bytes()
             for e in load_manifest(tmp_path).entries.values()}
    assert set(after) == set(changed)
    assert after["Bienvenido a Línea Directa."] == before["Bienvenido a Línea Directa."]

    forced = build("es-MX", changed, tmp_path, force=True)
    assert forced.rendered == 4
    # Deterministic: the same text rebuilt is the same bytes, so it never
    # shows up as a change in the committed audio.
    assert {e.text: (tmp_path / e.file).read_bytes()
            for e in load_manifest(tmp_path).entries.values()} == after


def test_a_broken_manifest_stops_the_build_unless_forced(engine_available, tmp_path):
    from tools.audio.build import BuildError

    (tmp_path / "manifest.json").write_text("[]", encoding="utf-8")
    with pytest.raises(BuildError, match="malformed.*--force"):
        build("es-MX", TEXTS, tmp_path)
    assert build("es-MX", {"veintidós": "word"}, tmp_path, force=True).files == 1


def test_an_unknown_language_has_no_voice(tmp_path):
    from tools.audio.tts import EngineError

    with pytest.raises(EngineError, match="no espeak-ng voice known for language 'tlh'"):
        build("tlh", TEXTS, tmp_path)


def pauses(entry):
    return pieces.edge_pauses_ms(entry.text) if entry.kind == "prompt" else (0, 0)


def test_a_build_pads_sentence_ends_and_levels_every_piece_to_one_loudness(engine_available,
                                                                            tmp_path):
    build("es-MX", TEXTS, tmp_path)
    manifest = load_manifest(tmp_path).by_text()
    welcome = read_wav((tmp_path / manifest["Bienvenido a Línea Directa."].file).read_bytes())
    assert audio_check.edge_silences_ms(welcome.data)[1] >= pieces.SENTENCE_PAUSE_MS
    spoken = [(tmp_path / e.file, pauses(e)) for e in manifest.values() if e.kind != "pause"]
    assert len(spoken) == 3 and audio_check.loudness_problems(spoken) == []


def test_a_long_menu_and_a_read_back_are_heard_at_one_loudness(engine_available, tmp_path):
    # On main: the main menu at -22.0 LUFS, "trescientos cuarenta y nueve pesos
    # con cincuenta centavos" joined from words at -18.9 LUFS (3 LU louder).
    audio = Settings().audio_dir
    library = AudioLibrary(audio, "es-MX")
    menu = audio / "es-MX" / library.file_for(
        "Si tiene clave de acceso, marque 1; tarjeta de débito, 2; cuenta de ahorro o nómina, 3. "
        "Para un ejecutivo, marque 0.")
    (tmp_path / "amount.wav").write_bytes(library.joined("amount", "34950"))
    (tmp_path / "time.wav").write_bytes(library.joined("time", "1301"))
    levels = [m.integrated for m in loudness.measure_many(
        [menu, tmp_path / "amount.wav", tmp_path / "time.wav"])]
    assert max(levels) - min(levels) <= 1.0, levels


def test_check_finds_a_recording_off_the_one_loudness(engine_available, tmp_path):
    build("es-MX", {"veintidós": "word"}, tmp_path)
    entry = next(iter(load_manifest(tmp_path).entries.values()))
    path = tmp_path / entry.file
    samples = decode(read_wav(path.read_bytes()).data)
    # 12 dB quieter, re-encoded: the file is still well-formed telephony audio.
    quieter = bytes(_mulaw(s // 4) for s in samples)
    path.write_bytes(mulaw_wav(quieter))
    problems = audio_check.loudness_problems([(path, (0, 0))])
    assert len(problems) == 1 and f"expected {loudness.TARGET_LUFS}" in problems[0]


def _mulaw(sample: int) -> int:
    """G.711 mu-law encoding of a 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(magnitude.bit_length() - 8, 0)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF
