"""The bank operators' commands: `ivr db …`, `ivr bank …`, `ivr notify …`,
`ivr calls …`. They call the core's functions (never SQL of their own), turn
errors into one line and a non-zero exit, never a traceback, and never print a
secret. The core knows nothing of Flask: whoever assembles the command line
says, with `register`, where the bank and the settings come from."""
from __future__ import annotations

import dataclasses
import sys
import time
from typing import Callable

import click

import datetime as dt

from banking_core import (
    accounts, biller_keys, biller_notifications, biller_requests, bills, collections,
    domiciliation_runs, domiciliations, errors, loader, migrate, notifications, payments,
)
from banking_core.money import format_mxn


@dataclasses.dataclass
class _Sources:
    bank: Callable[[], object] | None = None
    settings: Callable[[], object] | None = None


_sources = _Sources()


def register(cli: click.Group, *, bank: Callable[[], object],
             settings: Callable[[], object]) -> None:
    """Add the operators' groups to `cli`; each command asks `bank()` and
    `settings()` for what it acts on when it runs."""
    _sources.bank, _sources.settings = bank, settings
    for group in (db_cli, bank_cli, notify_cli, calls_cli):
        cli.add_command(group)


def _bank():
    return _sources.bank()


def _settings():
    return _sources.settings()


# ---- ivr db ---------------------------------------------------------------
db_cli = click.Group("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision):
    """Bring the schema up to REVISION."""
    migrate.upgrade(_settings().database_url, revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision):
    """Take the schema back to REVISION ('base' drops everything)."""
    migrate.downgrade(_settings().database_url, revision)
    click.echo(f"database at {revision}")


@db_cli.command("current")
def db_current():
    """Show the schema's revision."""
    migrate.current(_settings().database_url)


# ---- ivr bank -------------------------------------------------------------
bank_cli = click.Group("bank", help="Customers, accounts, billers, payments and the ledger.")


@bank_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing if customers already exist.")
def bank_seed_demo(if_empty):
    """Load the demo bank (README lists its records)."""
    bank = _bank()
    if if_empty and not loader.bank_is_empty(bank):
        click.echo("bank already has customers; demo not loaded")
        return
    _load(lambda: loader.seed_demo(bank))


@bank_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
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
def bank_accounts():
    """List every account with its balance as the ledger says it."""
    click.echo(f"{'number':<14}{'kind':<11}{'balance':>16}  {'CLABE':<19}owner")
    for a in accounts.ledger_accounts(_bank()):
        click.echo(f"{a.number:<14}{a.kind:<11}{format_mxn(a.balance_centavos):>16}  "
                   f"{a.clabe or '-':<19}{a.owner}")


@bank_cli.command("services")
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
def bank_payments(limit):
    """List the latest payments, newest first."""
    click.echo(f"{'folio':<12}{'posted (local)':<21}{'channel':<8}{'amount':>14}  "
               f"{'service':<8}{'account':<9}references")
    for p in payments.latest_payments(_bank(), limit=limit):
        local = p.local_posted_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{p.folio:<12}{local:<21}{p.channel:<8}{format_mxn(p.amount_centavos):>14}"
                   f"  {p.service_key:<8}*{p.account_last4:<8}{' '.join(p.references)}")


@bank_cli.command("verify")
def bank_verify():
    """Check every ledger invariant; exit 1 with a report if any is broken."""
    report = _bank().verify()
    click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@bank_cli.command("collections")
@click.option("--biller", "service_key", required=True, help="the biller's service key")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="the bank-local day (default: today)")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="write the CSV here (default: standard output)")
def bank_collections(service_key, day, output):
    """A biller's collection file for one day (CSV), reconciled with the
    ledger; exit 1 if its total differs from the collection account's."""
    bank = _bank()
    day = day.date() if day else bank.clock().astimezone(bank.policy.timezone).date()
    try:
        report = collections.collection_file(bank, service_key, day)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    text = collections.to_csv(report)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)
    verdict = "matches" if report.reconciled else "DOES NOT MATCH"
    click.echo(f"{report.service_key} {day.isoformat()}: {report.count} payment(s), "
               f"{format_mxn(report.total_centavos)}; ledger "
               f"{format_mxn(report.ledger_centavos)}: {verdict}", err=True)
    if not report.reconciled:
        sys.exit(1)


@bank_cli.command("unblock")
@click.option("--access-key", "access_key", help="8-digit access key")
@click.option("--card", help="16-digit card number")
@click.option("--account", help="10-digit account number")
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
def bank_agent_password(username):
    """Give an agent a new password (asked for twice, never echoed). Every
    desk session the agent has open ends."""
    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        agent = _bank().set_agent_password(username, password)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"password changed for {agent.username}; their sessions ended")


# ---- ivr bank biller … ------------------------------------------------------
biller_cli = click.Group("biller", help="A biller's keys and addresses (docs/billers.md).")
bank_cli.add_command(biller_cli)


@biller_cli.command("keys")
@click.argument("service_key")
def biller_keys_list(service_key):
    """List a biller's key ids and whether each is active; never a secret."""
    try:
        keys = biller_keys.list_keys(_bank(), service_key)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    for key in keys:
        retired = f"  retired {key['retired_at']:%Y-%m-%d %H:%M} UTC" if key["retired_at"] else ""
        click.echo(f"{key['key_id']:<42}{key['status']:<8}"
                   f"issued {key['created_at']:%Y-%m-%d %H:%M} UTC{retired}")


@biller_cli.command("issue-key")
@click.argument("service_key")
@click.option("--key-id", help="the key's name (default: <service key>-<8 hex digits>)")
def biller_issue_key(service_key, key_id):
    """Issue a new signing key; its secret is printed this once, for the
    biller, and is never shown again."""
    try:
        key = biller_keys.issue_key(_bank(), service_key, key_id=key_id)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"key id: {key.key_id}\nsecret: {key.secret}\n"
               "Give the secret to the biller over a secure channel; it is not shown again.")


@biller_cli.command("retire-key")
@click.argument("key_id")
def biller_retire_key(key_id):
    """Stop accepting and signing with a key (after the biller moved to a newer one)."""
    if not biller_keys.retire_key(_bank(), key_id):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(f"key {key_id} retired")


@biller_cli.command("addresses")
@click.argument("service_key")
@click.option("--notification-url", help="where each payment is announced")
@click.option("--no-notifications", is_flag=True, help="stop announcing payments")
@click.option("--return-origin", "return_origins", multiple=True,
              help="an origin its checkout may return to (repeat; replaces the list)")
def biller_addresses(service_key, notification_url, no_notifications, return_origins):
    """Show, or change, where a biller's payments are announced and where its
    checkout may send customers back to."""
    if notification_url and no_notifications:
        raise click.UsageError("give --notification-url or --no-notifications, not both")
    url = None if no_notifications else (notification_url or ...)
    try:
        found = biller_keys.set_addresses(_bank(), service_key, notification_url=url,
                                          return_origins=list(return_origins) or None)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{found.service_key}  {found.name}\n"
               f"  notification URL: {found.notification_url or '(none)'}\n"
               f"  return origins:   {', '.join(found.return_origins) or '(none)'}")


@biller_cli.command("notifications")
@click.argument("service_key")
@click.option("--status", type=click.Choice(["pending", "sent", "failed"]),
              help="only webhooks in this state (failed: given up on, to replay)")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def biller_notifications_list(service_key, status, limit):
    """List a biller's payment webhooks, newest first."""
    try:
        rows = biller_notifications.webhooks(_bank(), service_key, status=status, limit=limit)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    for r in rows:
        when = (f"sent {r.sent_at:%Y-%m-%d %H:%M:%S}Z" if r.sent_at
                else f"next {r.next_attempt_at:%Y-%m-%d %H:%M:%S}Z")
        click.echo(f"{r.outbox_id:>8}  folio {r.folio:<12}{r.status:<8}attempts {r.attempts:<4}"
                   f"{when}  {r.last_error or ''}")


@biller_cli.command("replay-notifications")
@click.argument("service_key")
@click.option("--from", "first", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="first bank-local day")
@click.option("--to", "last", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="last bank-local day (included)")
def biller_replay_notifications(service_key, first, last):
    """Send again the webhooks of a biller's payments in a range of days
    (same delivery_id: the biller drops those it already had)."""
    try:
        result = biller_notifications.replay(_bank(), service_key, first_day=first.date(),
                                             last_day=last.date())
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"queued {result.queued} webhook(s); {result.already_pending} already waiting")


@biller_cli.command("api-example")
@click.argument("service_key")
@click.option("--folio")
@click.option("--reference")
@click.option("--order-id")
def biller_api_example(service_key, folio, reference, order_id):
    """Print a curl command asking the billers' API, signed as the biller
    would (with its newest key; valid for 5 minutes; the secret is not shown)."""
    from urllib.parse import urlencode

    if sum(bool(v) for v in (folio, reference, order_id)) != 1:
        raise click.UsageError("give exactly one of --folio, --reference, --order-id")
    bank = _bank()
    try:
        service = bank.find_service(service_key, include_inactive=True)
    except errors.DomainError as exc:
        raise click.ClickException(exc.message) from None
    key = biller_keys.key_for_signing(bank, service.id)
    if key is None:
        raise click.ClickException(f"biller {service.service_key} has no active key")
    target = "/api/billers/v1/payments" + (
        f"/{folio}" if folio else "?" + urlencode(
            {"reference": reference} if reference else {"order_id": order_id}))
    timestamp = str(int(time.time()))
    signature = biller_requests.sign_request(key.secret, timestamp, "GET", target)
    base = _settings().public_base_url.rstrip("/")
    click.echo(f"curl -s '{base}{target}' \\\n  -H 'X-Signature-Key-Id: {key.key_id}' \\\n"
               f"  -H 'X-Signature-Timestamp: {timestamp}' \\\n  -H 'X-Signature: {signature}'")


# ---- ivr bank run-due, domiciliations, bills (docs/domiciliacion.md) -------------
def _moment(text: str | None):
    """--now: an ISO date-time; without an offset, in the bank's time zone."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO date-time such as 2027-01-05T09:00",
                                 param_hint="--now") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_bank().policy.timezone)
    return moment.astimezone(dt.timezone.utc)


@bank_cli.command("run-due")
@click.option("--now", "now_text", metavar="ISO",
              help="Run as of this moment (default: now), e.g. 2027-01-05T09:00 (bank time).")
def bank_run_due(now_text):
    """Charge every domiciliation due (safe to run every minute, from several
    places at once: each date is charged once). Exit 1 if an attempt broke."""
    report = domiciliation_runs.run_due(_bank(), _moment(now_text))
    for o in report.outcomes:
        amount = format_mxn(o.amount_centavos) if o.amount_centavos else "-"
        said = {"posted": f"posted   folio {o.folio}", "retry": f"retry    ({o.code})",
                "failed": f"failed   ({o.code}); customer e-mailed",
                "skipped": f"skipped  ({o.code})", "cancelled": f"dropped  ({o.code})"}
        click.echo(f"domiciliation {o.domiciliation_id:>5}  {o.due_date:%Y-%m-%d}"
                   f"{amount:>14}  {said[o.result]}")
    click.echo(", ".join(f"{n} {k}" for k, n in report.counts().items()))
    if report.errors:
        sys.exit(1)


@bank_cli.command("domiciliations")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10000))
def bank_domiciliations(limit):
    """List the domiciliations, newest first, with their latest charge."""
    click.echo(f"{'id':>5}  {'status':<10}{'customer':>9}  {'service':<8}{'account':<9}"
               f"{'amount':<24}{'day':>4}  {'next':<12}last")
    for d in domiciliations.list_all(_bank(), limit=limit):
        amount = format_mxn(d.amount_centavos) if d.amount_mode == "fixed" \
            else f"billed, up to {format_mxn(d.ceiling_centavos)}"
        last = "" if d.last is None else \
            f"{d.last.due_date:%Y-%m-%d} {d.last.status}" + \
            (f" {d.last.folio}" if d.last.folio else "") + \
            (f" ({d.last.last_error})" if d.last.last_error else "")
        next_date = f"{d.next_date:%Y-%m-%d}" if d.next_date else "-"
        click.echo(f"{d.id:>5}  {d.status:<10}{d.customer_id:>9}  {d.service_key:<8}"
                   f"*{d.account_last4:<8}{amount:<24}{d.day_of_month:>4}  {next_date:<12}{last}")


bills_cli = click.Group("bills", help="Billers' bills: what a domiciliation 'for the amount "
                                      "billed' pays.")
bank_cli.add_command(bills_cli)


@bills_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
def bills_load(path):
    """Load billers' bills from a CSV file (format: docs/domiciliacion.md).
    All or nothing."""
    try:
        counts = bills.load_file(_bank(), path)
    except bills.BillFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"bills: {counts['created']} loaded, {counts['replaced']} replaced")


@bills_cli.command("list")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10000))
def bills_list(limit):
    """List the bills, latest period first."""
    for bill in bills.list_bills(_bank(), limit=limit):
        click.echo(bills.describe(bill))


# ---- ivr notify -----------------------------------------------------------
notify_cli = click.Group("notify", help="Confirmation e-mails queued in the outbox.")


@notify_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep running as a worker.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
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
