"""`ivr audio build` for real: espeak-ng, then pydub and ffmpeg.

Needs the speech engine and ffmpeg (`make test` installs them where it can).
Under CI (IVR_REQUIRE_SERVICES) their absence fails these tests; elsewhere
they are skipped and say why."""
import shutil

import pytest

from tools.audio import check as audio_check
from tools.audio.build import build
from ivr.audio.manifest import load_manifest
from ivr.audio.wavfile import read_wav
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
        assert audio_check.file_problems(blob, pause=pause) == []
        if not pause:
            head, tail = audio_check.edge_silences_ms(wav.data)
            assert head < 100 and tail < 100  # the engine leaves ~400 ms; trimmed
            assert 300 < wav.milliseconds < 3000


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
