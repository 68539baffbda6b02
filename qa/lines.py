"""Where a replay's calls go: a `line` places calls and, when it can, reads the
bank behind them (for checks, coverage and recordings).

- `LocalExchange` (the default of `ivr replay` and `ivr dial`): the app built
  from the settings in this process, on a bank of its own — a temporary SQLite
  database with the demo bank (banking_core/demo_bank.yaml) plus any bank
  files given, call state in memory, outbox e-mails under a temporary
  instance folder. It touches no real data and is deleted afterwards. Each
  line is a fresh copy of that database, so every transcript starts from the
  same bank whatever the one before it did (blocked a credential, spent a
  balance).
- `RemoteLine` (`--target URL`): signed posts over HTTP to a running server
  (`make run`, or a deployed one) whose PUBLIC_BASE_URL is that URL and whose
  TWILIO_AUTH_TOKEN is the one given. Its bank, for checks and coverage, is
  read only through the database URL given (`--bank-url`): never this
  checkout's DATABASE_URL by default, which may be another bank than the
  server's (a false FAIL, or worse a false PASS). Transcripts share that bank,
  and what they change stays changed.
"""
from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from banking_core import loader, migrate
from banking_core.bank import build_bank
from banking_core.models import Payment
from ivr.audio.library import AudioLibrary
from ivr.audio.manifest import ManifestError
from ivr.audio.player import Player
from ivr.menu_schema import load_menu
from ivr.operations import OPERATIONS
from ivr.prompts import available_languages, load_prompts
from ivr.state import MemoryCallStore
from ivr.webhooks import MENU_FILE
from linea_directa.app import create_app
from qa.simulator import FlaskTransport, HttpTransport, SimulatedCall


class LineError(RuntimeError):
    """The line cannot be set up (a bad bank file, an unreachable database)."""


@dataclasses.dataclass
class InProcessLine:
    app: object
    play_to_text: object = None

    @property
    def bank(self):
        return self.app.extensions["bank"]

    @property
    def menu(self):
        return self.app.extensions["ivr"].interpreter.menu

    def place_call(self, caller: str | None = None) -> SimulatedCall:
        settings = self.app.extensions["settings"]
        options = {"caller": caller} if caller else {}
        player = self.app.extensions["ivr"].player  # play mode: <Play> heard as its text
        return SimulatedCall(FlaskTransport(self.app.test_client()),
                             base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token,
                             play_to_text=self.play_to_text or (
                                 player.text_for if player else None), **options)

    def close(self) -> None:
        self.app.extensions["bank"].engine.dispose()


class LocalExchange:
    def __init__(self, settings, *, bank_files=(), play_to_text=None):
        self.folder = Path(tempfile.mkdtemp(prefix="ivr-replay-"))
        self.template = self.folder / "template.db"
        self.settings = self._settings(settings, self.template)
        self.play_to_text = play_to_text
        self._count = 0
        self._lock = threading.Lock()
        try:
            migrate.upgrade(self.settings.database_url)
            bank = build_bank(self.settings)
            try:
                loader.seed_demo(bank)
                for path in bank_files:
                    loader.load_file(bank, path)
            finally:
                bank.engine.dispose()
        except loader.BankFileError as exc:
            self.close()
            raise LineError(str(exc)) from None
        except Exception:
            self.close()
            raise

    def _settings(self, settings, database: Path):
        return dataclasses.replace(settings, database_url=f"sqlite:///{database}",
                                   redis_url="", instance_path=self.folder / "instance")

    def line(self) -> InProcessLine:
        """A fresh copy of the prepared bank, with its own app."""
        with self._lock:
            self._count += 1
            database = self.folder / f"line-{self._count}.db"
        shutil.copyfile(self.template, database)
        app = create_app(self._settings(self.settings, database), call_store=MemoryCallStore())
        return InProcessLine(app=app, play_to_text=self.play_to_text)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclasses.dataclass
class RemoteLine:
    url: str
    auth_token: str
    bank: object = None  # a Bank over the server's database, when reachable
    play_to_text: object = None
    transport: HttpTransport = dataclasses.field(default_factory=HttpTransport)
    menu: object = None

    def place_call(self, caller: str | None = None) -> SimulatedCall:
        options = {"caller": caller} if caller else {}
        return SimulatedCall(self.transport, base_url=self.url, auth_token=self.auth_token,
                             play_to_text=self.play_to_text, **options)

    def close(self) -> None:
        if self.bank is not None:
            self.bank.engine.dispose()


def remote_line(settings, url: str, *, auth_token: str | None = None,
                database_url: str | None = None, play_to_text=None) -> RemoteLine:
    """A line to the server at `url`; its bank read through `database_url`
    when one is given (no checks, no coverage otherwise)."""
    bank = open_bank(settings, database_url) if database_url else None
    return RemoteLine(url=url.rstrip("/"), auth_token=auth_token or settings.twilio_auth_token,
                      bank=bank, play_to_text=play_to_text or local_recordings(settings),
                      menu=load_line_menu(settings))


def open_bank(settings, database_url: str):
    """The bank behind `database_url`, checked to be one: a SQLite file that
    does not exist is refused (connecting would create an empty one), and so
    is a database without the bank's tables."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise LineError("--bank-url: not a database URL (e.g. postgresql://user@host/db "
                        "or sqlite:///path/to/bank.db)") from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).is_file():
        raise LineError(f"--bank-url: no SQLite database at {url.database}")
    bank = build_bank(dataclasses.replace(settings, database_url=database_url))
    try:
        with bank.unit_of_work() as uow:
            uow.session.execute(select(Payment.id).limit(1))
    except Exception as exc:  # noqa: BLE001 - said in one line, the URL's password hidden
        bank.engine.dispose()
        raise LineError(f"--bank-url: cannot read a bank at "
                        f"{url.render_as_string(hide_password=True)} "
                        f"({type(exc).__name__}; is it the server's migrated database?)") \
            from None
    return bank


def local_recordings(settings):
    """A server in play mode answers <Play>: heard through this checkout's audio
    manifests, one per language (assumed the server's too, like the menu).
    None without the configured language's."""
    libraries = {}
    for language in available_languages():
        try:
            libraries[language] = AudioLibrary(settings.audio_dir, language)
        except ManifestError:
            continue
    if settings.ivr_language not in libraries:
        return None
    return Player(libraries, base_url=settings.public_base_url,
                  default=settings.ivr_language).text_for


def load_line_menu(settings):
    """The menu as this checkout has it (over HTTP: assumed the server's too)."""
    prompts = load_prompts(settings.ivr_language)
    return load_menu(MENU_FILE, prompts=prompts.keys(), operations=set(OPERATIONS))
