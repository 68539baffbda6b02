"""`ivr`: the command line of operators, QA and developers, assembled here
(a Flask CLI group over the app factory): the bank's operator commands (added
by the factory), `serve`, the QA tools and the prompt-audio build. The running
system (wsgi.py) never imports this module, so never the tools."""
from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

import config
from config import ConfigError, Settings
from linea_directa.metrics import prepare_multiprocess_dir
from linea_directa.site import demo_logins, service_urls
from linea_directa.app import create_app, get_settings
from linea_directa.supervisor import Child, supervise
from linea_directa.worker import describe as describe_worker, worker_command
from qa.commands import dial_command, replay_command, transcripts_cli
from tools.audio.commands import audio_cli


def _make_app():
    return create_app()


# ---- ivr serve ------------------------------------------------------------
def server_layout(settings, workers: int) -> tuple[int, int, str]:
    """(processes, threads, why): without Redis, call state lives in the process,
    so every turn of a call must reach the same one: one process, with threads."""
    if settings.redis_url or workers <= 1:
        return workers, 1, ""
    return 1, workers * 2, (f"no REDIS_URL: call state is in-process, so 1 worker with "
                            f"{workers * 2} threads instead of {workers} workers")


def how_to_call(base: str) -> dict[str, str]:
    """The QA tools pointed at this server, as the banner shows them."""
    ivr = os.path.relpath(os.path.join(os.path.dirname(sys.executable), "ivr"))
    return {
        "Call it from this terminal (softphone)": f"{ivr} dial --target {base}",
        "Replay scripted calls (and load)":
            f"{ivr} replay tests/transcripts/load --target {base}",
    }


# gunicorn's graceful_timeout (config/gunicorn.conf.py) and a margin: past
# this, whatever has not stopped on Ctrl-C is killed.
STOP_TIMEOUT = 20.0
WORKER_SWEEP_EVERY = 60.0  # `ivr worker`'s default
GUNICORN_CONFIG = Path(config.__file__).resolve().parent / "gunicorn.conf.py"


def server_argv(host: str, port: int, workers: int, threads: int) -> list[str]:
    """gunicorn with the production settings (config/gunicorn.conf.py), on
    this address and layout."""
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) \
        or shutil.which("gunicorn")
    if gunicorn is None:
        raise click.ClickException("gunicorn is not installed")
    return [gunicorn, "--config", str(GUNICORN_CONFIG), "--workers", str(workers),
            "--threads", str(threads), "--bind", f"{host}:{port}",
            "linea_directa.app:serving_app()"]


def worker_argv(interval: float) -> list[str]:
    return [sys.executable, "-m", "linea_directa", "worker", "--interval", f"{interval:g}"]


BILLER_DEMO = "Sitio de ejemplo de un comercio (servicio 25)"


def biller_demo_child(settings, host: str, port: int, base: str) -> Child | None:
    """The example biller's site (example_biller/, docs/billers.md) beside the
    bank, for the demo: never in production, and not when its port is taken
    (said, the bank served anyway)."""
    if not port or settings.environment == "production":
        return None
    if _port_problem(host, port):
        click.echo(f"  ({BILLER_DEMO}: port {port} is in use, not started; "
                   "BILLER_DEMO_PORT chooses another, BILLER_DEMO_PORT=0 none)")
        return None
    argv = [sys.executable, "-m", "example_biller", "--host", host, "--port", str(port),
            "--bank-url", base, "--data", str(settings.instance_path / "example_biller.sqlite3")]
    return Child("example biller site", argv, restart=True,
                 while_down="The bank keeps serving; only the demo biller's pages are away.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--worker/--no-worker", "with_worker", default=True, show_default=True,
              help="Also run `ivr worker` (the outbox's e-mails, the transcripts sweep).")
@click.option("--mail-interval", default=1.0, show_default=True,
              type=click.FloatRange(0.1, 3600), help="Seconds between the worker's outbox rounds.")
@click.option("--biller-demo-port", envvar="BILLER_DEMO_PORT", default=5001, show_default=True,
              type=click.IntRange(0, 65535),
              help="Also serve the example biller's site here, outside production (0: not).")
@with_appcontext
def serve_command(host, port, workers, with_worker, mail_interval, biller_demo_port):
    """Serve every channel with gunicorn and run the worker beside it, after
    printing where each answers. Ctrl-C stops both."""
    base = f"http://{host}:{port}"
    _check_port_free(host, port)
    prepare_multiprocess_dir()  # PROMETHEUS_MULTIPROC_DIR: this run's metrics only
    # Twilio signs the URL it calls: unless a public URL is configured (a
    # tunnel, a load balancer), the one we serve on is it, for the workers too.
    if not os.environ.get("PUBLIC_BASE_URL"):
        os.environ["PUBLIC_BASE_URL"] = base
    settings = get_settings(current_app)
    workers, threads, note = server_layout(settings, workers)
    children = [Child("web server", server_argv(host, port, workers, threads))]
    if with_worker:
        children.append(Child("worker", worker_argv(mail_interval), restart=True))

    click.echo(f"Línea Directa serving on {base}")
    for name, url in service_urls(base, demo_logins(current_app)).items():
        click.echo(f"  {name:<40} {url}")
    biller = biller_demo_child(settings, host, biller_demo_port,
                               base.replace("0.0.0.0", "127.0.0.1"))
    if biller is not None:
        children.append(biller)
        click.echo(f"  {BILLER_DEMO:<40} http://{host}:{biller_demo_port}/ "
                   "(its cart sends you here to pay; docs/billers.md)")
    for name, command in how_to_call(base).items():
        click.echo(f"  {name:<40} {command}")
    if note:
        click.echo(f"  ({note})")

    def started(running):
        label = "Worker (e-mails, transcripts sweep)"
        if with_worker:
            worker = next(child for child in running if child.name == "worker")
            click.echo(f"  {label:<40} running (pid {worker.pid}): "
                       f"{describe_worker(settings, mail_interval, WORKER_SWEEP_EVERY)}")
        else:
            click.echo(f"  {label:<40} not started (--no-worker): e-mails wait in the "
                       "outbox until `ivr notify send`")
        parts = ["the server"] + ["the worker"] * with_worker \
            + ["the example biller site"] * (biller is not None)
        click.echo("  Ctrl-C stops " + (", ".join(parts[:-1]) + " and " if len(parts) > 1
                                        else "") + parts[-1] + ".")
        sys.stdout.flush()

    sys.stdout.flush()
    status = supervise(children, on_started=started, stop_timeout=STOP_TIMEOUT,
                       echo=lambda line: click.echo(f"ivr serve: {line}", err=True))
    sys.exit(status)


def _port_problem(host: str, port: int) -> str | None:
    """Why nothing can listen on host:port (taken, not ours), or None."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _check_port_free(host: str, port: int) -> None:
    """Say so before the banner if the port is taken, instead of announcing a
    server that gunicorn then fails to start."""
    problem = _port_problem(host, port)
    if problem:
        raise click.ClickException(
            f"cannot serve on {host}:{port}: {problem}; another server may be "
            f"running there. Choose another port: `make run PORT={port + 1}` or "
            f"`ivr serve --port {port + 1}`")


class _Group(FlaskGroup):
    """Flask's group, less the commands extensions add that are not ours to
    offer: Flask-Limiter's `limiter` group (its limits are the log-in limits,
    set in the settings and counted in Redis; nothing for an operator to run)."""

    HIDDEN = frozenset({"limiter"})

    def list_commands(self, ctx):
        return [name for name in super().list_commands(ctx) if name not in self.HIDDEN]

    def get_command(self, ctx, name):
        return None if name in self.HIDDEN else super().get_command(ctx, name)


cli = _Group(create_app=_make_app, load_dotenv=False, add_default_commands=False,
                 add_version_option=False,
                 help="Línea Directa: database, bank, notifications, serving and QA. "
                      "Settings come from the environment (README, Settings).")
# Flask's own options would mislead here: the app is always this one, its
# settings come from IVR_* variables, and -e needs python-dotenv (not installed).
cli.params = [p for p in cli.params if p.name not in {"env_file", "app", "debug"}]
for command in (serve_command, worker_command, replay_command, transcripts_cli, dial_command):
    cli.add_command(command)
cli.add_command(audio_cli)  # needs no app: see tools/audio/commands.py


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
