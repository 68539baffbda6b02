"""Command groups registered on the app: `ivr db …`, `ivr bank …`, `ivr notify …`,
`ivr serve`. Each turns errors into a one-line message and a non-zero exit,
never a traceback, and never prints a secret."""
from __future__ import annotations

import os
import shutil
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from banking_core import errors, ledger, loader, migrate, notifications
from banking_core.models import Account, Biller, Customer, Payment
from banking_core.money import format_mxn


def _bank():
    return current_app.extensions["bank"]


def _settings():
    return current_app.extensions["settings"]


# ---- ivr db ---------------------------------------------------------------
db_cli = click.Group("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision):
    """Bring the schema up to REVISION."""
    migrate.upgrade(_settings().database_url, revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision):
    """Take the schema back to REVISION ('base' drops everything)."""
    migrate.downgrade(_settings().database_url, revision)
    click.echo(f"database at {revision}")


@db_cli.command("current")
@with_appcontext
def db_current():
    """Show the schema's revision."""
    migrate.current(_settings().database_url)


# ---- ivr bank -------------------------------------------------------------
bank_cli = click.Group("bank", help="Customers, accounts, billers, payments and the ledger.")


@bank_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if customers already exist.")
@with_appcontext
def bank_seed_demo(if_empty):
    """Load the demo bank (README lists its records)."""
    bank = _bank()
    if if_empty and not loader.bank_is_empty(bank):
        click.echo("bank already has customers; demo not loaded")
        return
    _load(lambda: loader.seed_demo(bank))


@bank_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def bank_load(path):
    """Load customers, accounts, credentials, billers and agents from a YAML file
    (format: docs/bank-file.md). All or nothing."""
    _load(lambda: loader.load_file(_bank(), path))


def _load(run):
    try:
        counts = run()
    except loader.BankFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("loaded: " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@bank_cli.command("accounts")
@with_appcontext
def bank_accounts():
    """List every account with its balance as the ledger says it."""
    with _bank().unit_of_work() as uow:
        s = uow.session
        rows = s.execute(
            select(Account, Customer.name).outerjoin(Customer).order_by(Account.id)
        ).all()
        click.echo(f"{'number':<14}{'kind':<11}{'balance':>16}  {'CLABE':<19}owner")
        for account, owner in rows:
            balance = ledger.account_balance(s, account.id)
            click.echo(f"{account.number:<14}{account.kind:<11}{format_mxn(balance):>16}  "
                       f"{account.clabe or '-':<19}{owner or account.name or ''}")


@bank_cli.command("services")
@with_appcontext
def bank_services():
    """List the services (billers) and the references each needs."""
    for service in _bank().list_services():
        state = "" if service.active else "  (inactive)"
        refs = "; ".join(
            f"{r.position}: {r.label} {r.charset} {r.min_length}-{r.max_length} {r.check_digit}"
            for r in service.references)
        click.echo(f"{service.service_key:>6}  {service.name}{state}  [{refs}]")


@bank_cli.command("payments")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@with_appcontext
def bank_payments(limit):
    """List the latest payments, newest first."""
    bank = _bank()
    with bank.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Payment, Biller.service_key, Account.number)
            .join(Biller, Biller.id == Payment.biller_id)
            .join(Account, Account.id == Payment.account_id)
            .order_by(Payment.id.desc()).limit(limit)
        ).all()
        click.echo(f"{'folio':<12}{'posted (local)':<21}{'channel':<8}{'amount':>14}  "
                   f"{'service':<8}{'account':<9}references")
        for p, service_key, number in rows:
            local = p.posted_at.astimezone(bank.policy.timezone).strftime("%Y-%m-%d %H:%M:%S")
            click.echo(f"{p.folio:<12}{local:<21}{p.channel:<8}{format_mxn(p.amount_centavos):>14}"
                       f"  {service_key:<8}*{number[-4:]:<8}{' '.join(p.references)}")


@bank_cli.command("verify")
@with_appcontext
def bank_verify():
    """Check every ledger invariant; exit 1 with a report if any is broken."""
    report = _bank().verify()
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@bank_cli.command("unblock")
@click.option("--access-key", "access_key", help="8-digit access key")
@click.option("--card", help="16-digit card number")
@click.option("--account", help="10-digit account number")
@with_appcontext
def bank_unblock(access_key, card, account):
    """Clear a blocked credential's block and failure count."""
    given = [(m, v) for m, v in (("access_key", access_key), ("card", card),
                                 ("account", account)) if v]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --access-key, --card, --account")
    method, identifier = given[0]
    try:
        found = _bank().unblock(method=method, identifier=identifier)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    if not found:
        raise click.ClickException(f"no such {method.replace('_', ' ')}")
    click.echo(f"{method.replace('_', ' ')} ending {identifier[-4:]} unblocked")


@bank_cli.command("agent-password")
@click.argument("username")
@with_appcontext
def bank_agent_password(username):
    """Give an agent a new password (asked for twice, never echoed). Every
    desk session the agent has open ends."""
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        agent = _bank().set_agent_password(username, password)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"password changed for {agent.username}; their sessions ended")


# ---- ivr notify -----------------------------------------------------------
notify_cli = click.Group("notify", help="Confirmation e-mails queued in the outbox.")


@notify_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running as a worker.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
@with_appcontext
def notify_send(loop, interval):
    """Send every due message (SMTP, or .eml files with no SMTP_HOST)."""
    settings = _settings()
    sender = notifications.sender_from_settings(settings)
    while True:
        result = notifications.deliver_due(_bank(), sender, mail_from=settings.mail_from)
        if result.sent or result.failed or not loop:
            click.echo(f"sent {result.sent}, failed {result.failed} (will retry)")
        if not loop:
            sys.exit(1 if result.failed else 0)
        time.sleep(interval)


@notify_cli.command("pending")
@with_appcontext
def notify_pending():
    """List messages not yet sent, with their attempts and last error."""
    for m in notifications.pending_messages(_bank()):
        click.echo(f"{m.id:>6}  {m.kind}  folio {m.payload.get('folio')}  attempts {m.attempts}"
                   f"  next {m.next_attempt_at:%Y-%m-%d %H:%M:%S}Z  {m.last_error or ''}")


# ---- ivr calls ------------------------------------------------------------
calls_cli = click.Group("calls", help="How phone calls ended.")


@calls_cli.command("report")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Only calls that ended on or after this day (bank's local time).")
@with_appcontext
def calls_report(since):
    """Outcomes, transfer reasons and the menu nodes where callers hang up."""
    bank = _bank()
    start = None
    if since is not None:
        start = since.replace(tzinfo=bank.policy.timezone)
    report = bank.call_report(since=start)
    click.echo(f"calls {report.total}, with a payment {report.calls_with_payment}")
    for title, counts in (("outcome", report.by_outcome),
                          ("transferred, by reason", report.transfers_by_reason),
                          ("caller hung up, at node", report.hang_ups_by_node)):
        click.echo(f"{title}:")
        for key, n in counts.items():
            click.echo(f"  {key:<32}{n:>8}")


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


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@with_appcontext
def serve_command(host, port, workers):
    """Serve every channel with gunicorn, after printing where each answers."""
    from ivr.site import demo_logins, service_urls

    base = f"http://{host}:{port}"
    # Twilio signs the URL it calls: unless a public URL is configured (a
    # tunnel, a load balancer), the one we serve on is it, for the workers too.
    if not os.environ.get("PUBLIC_BASE_URL"):
        os.environ["PUBLIC_BASE_URL"] = base
    click.echo(f"Línea Directa serving on {base}")
    for name, url in service_urls(base, demo_logins(current_app)).items():
        click.echo(f"  {name:<40} {url}")
    for name, command in how_to_call(base).items():
        click.echo(f"  {name:<40} {command}")
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) \
        or shutil.which("gunicorn")
    if gunicorn is None:
        raise click.ClickException("gunicorn is not installed")
    workers, threads, note = server_layout(_settings(), workers)
    if note:
        click.echo(f"  ({note})")
    sys.stdout.flush()
    os.execv(gunicorn, [gunicorn, "--workers", str(workers), "--threads", str(threads),
                        "--bind", f"{host}:{port}", "--access-logfile", "-",
                        "ivr.app:create_app()"])
