"""`ivr`: the operators' command line (a Flask CLI group over the app factory)."""
from __future__ import annotations

from flask.cli import FlaskGroup

from ivr.app import create_app


def _make_app():
    return create_app()


cli = FlaskGroup(create_app=_make_app, load_dotenv=False,
                 help="Línea Directa: database, bank, notifications and serving.")


def main() -> None:
    cli.main(prog_name="ivr")
