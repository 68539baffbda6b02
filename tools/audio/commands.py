"""`ivr audio build` and `ivr audio check`.

Registered on the `ivr` command group itself, not through the app: they need
neither the database nor the app, and a deployment in play mode whose audio is
missing refuses to start — the command that fixes that must still run."""
from __future__ import annotations

import click

from config import Settings
from ivr.audio import pieces
from ivr.prompts import PROMPT_DIR, PromptError, load_catalogs, load_prompts
from tools.audio.build import BuildError, build
from tools.audio.check import check
from tools.audio.tts import EngineError


def _audio_dir():
    return Settings.from_env().audio_dir


def _catalogs(language: str | None):
    try:
        catalogs = load_catalogs()  # checked against each other, as the app loads them
        return [catalogs[language]] if language in catalogs else \
            [load_prompts(language)] if language else list(catalogs.values())
    except PromptError as exc:
        if language and not (PROMPT_DIR / f"{language}.yaml").exists():
            raise click.ClickException(f"unknown language {language!r}: no "
                                       f"{PROMPT_DIR / (language + '.yaml')}") from None
        raise click.ClickException(str(exc)) from None


audio_cli = click.Group("audio", help="Recorded prompts for play mode (IVR_PROMPT_MODE=play).")


@audio_cli.command("build")
@click.option("--language", help="Only this language (default: every file in ivr/prompts/).")
@click.option("--force", is_flag=True, help="Render every text again, ignoring the manifest.")
def audio_build(language, force):
    """Record every prompt and the words for reading values, into audio/<language>/.
    Needs espeak-ng and ffmpeg; only new texts are rendered."""
    root = _audio_dir()
    for catalog in _catalogs(language):
        try:
            report = build(catalog.language, pieces.recordings(catalog),
                           root / catalog.language, force=force,
                           voice=catalog.recording_voice)
        except (BuildError, EngineError) as exc:
            raise click.ClickException(f"{catalog.language}: {exc}") from None
        click.echo(f"{catalog.language}: {report.files} files ({report.total_bytes // 1024} KiB)"
                   f", {report.rendered} rendered, {report.kept} kept, {report.removed} removed"
                   f" in {report.seconds} s")


@audio_cli.command("check")
@click.option("--language", help="Only this language (default: every file in ivr/prompts/).")
def audio_check(language):
    """Every prompt has its audio and every file a prompt; exit 1 naming the rest."""
    root, failed = _audio_dir(), False
    for catalog in _catalogs(language):
        problems = check(catalog, root / catalog.language)
        for problem in problems:
            click.echo(f"{catalog.language}: {problem}", err=True)
        failed = failed or bool(problems)
        if not problems:
            click.echo(f"{catalog.language}: audio complete")
    if failed:
        raise click.ClickException("audio does not match the prompts (run `ivr audio build`)")
