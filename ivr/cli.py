"""`ivr`: the operators' command line (a Flask CLI group over the app factory)."""
from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from config import ConfigError, Settings
from ivr.app import create_app
from ivr.audio.commands import audio_cli


def _make_app():
    return create_app()


cli = FlaskGroup(create_app=_make_app, load_dotenv=False,
                 help="Línea Directa: database, bank, notifications and serving.")
cli.add_command(audio_cli)  # needs no app: see ivr/audio/commands.py


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL we cannot parse is shown as nothing
        return "(unparseable DATABASE_URL)"


def main() -> None:
    # An operator gets one clear line, never a traceback with a connection string.
    try:
        cli.main(prog_name="ivr", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"Error: configuration: {exc}", err=True)
        sys.exit(2)
    except (OperationalError, ProgrammingError) as exc:
        url = _safe_url(Settings.from_env().database_url)
        hint = " (run `ivr db upgrade`?)" if isinstance(exc, ProgrammingError) or \
            "no such table" in str(exc.orig) else ""
        click.echo(f"Error: database {url}: {type(exc.orig).__name__}: "
                   f"{str(exc.orig).strip().splitlines()[0]}{hint}", err=True)
        sys.exit(1)
