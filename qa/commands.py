"""`ivr replay`, `ivr transcripts …` and `ivr dial`: QA's tools on the command
line. Errors are one clear line and a non-zero exit, never a traceback; the
exit status of a replay is 0 only if every call passed."""
from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from banking_core import call_transcripts
from config.logging import configure_logging
from linea_directa.worker import finish_reported_calls, sweep_idle_calls
from qa import coverage
from qa.export import export_transcript
from qa.lines import LineError, LocalExchange, load_line_menu, remote_line
from qa.load import run_load
from qa.report import NO_BANK, junit_xml, result_text, summary_text
from qa.runner import run_transcript
from qa.softphone import run_softphone
from qa.transcript import TranscriptError, load_transcript, transcript_paths


def _settings():
    return current_app.extensions["settings"]


def _quiet_logs(settings) -> None:
    # The in-process app logs every turn (and every expected block or refusal
    # as a warning); a replay's own report is the output. Errors still show.
    configure_logging(dataclasses.replace(settings, log_level="ERROR"), force=True)


def _variables(pairs) -> dict:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"{pair!r}: write NAME=VALUE", param_hint="--var")
        values[name] = value
    return values


def _line_source(settings, target, auth_token, bank_url, bank_files):
    """(line_for_transcript, shared_line, closer)."""
    if target:
        if bank_files:
            raise click.UsageError("--bank-file loads the in-process bank; for a server, "
                                   "run `ivr bank load FILE` against its database")
        try:
            line = remote_line(settings, target, auth_token=auth_token, database_url=bank_url)
        except LineError as exc:
            raise click.ClickException(str(exc)) from None
        return (lambda: line), line, line.close
    if bank_url:
        raise click.UsageError("--bank-url is the bank of the server given with --target; "
                               "in-process replays make their own")
    try:
        exchange = LocalExchange(settings, bank_files=bank_files)
    except LineError as exc:
        raise click.ClickException(str(exc)) from None
    return exchange.line, None, exchange.close


@click.command("replay")
@click.argument("paths", nargs=-1, required=True)
@click.option("--target", metavar="URL",
              help="Replay over HTTP against this server (its PUBLIC_BASE_URL). "
                   "Default: in-process, on the demo bank in a temporary database.")
@click.option("--auth-token", metavar="TOKEN",
              help="Token to sign requests with (default: TWILIO_AUTH_TOKEN).")
@click.option("--bank-url", "--database-url", "bank_url", metavar="DATABASE_URL",
              help="With --target: the server's database (its DATABASE_URL), read for the "
                   "bank-side checks and coverage. Without it they are skipped, and said so.")
@click.option("--no-database", is_flag=True, hidden=True,
              help="Kept for old scripts: with --target, no bank is read unless --bank-url.")
@click.option("--bank-file", "bank_files", multiple=True, type=click.Path(dir_okay=False),
              help="In-process: a bank file loaded after the demo bank (repeatable).")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE",
              help="A value for {{NAME}} (repeatable); overrides the transcript's vars.")
@click.option("--junit", type=click.Path(dir_okay=False), help="Write JUnit XML here.")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 1000),
              help="Simultaneous calls (load mode when above 1 or with --repeat).")
@click.option("--repeat", default=1, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Times each transcript is replayed.")
@click.option("--ramp-up", default=None, type=click.FloatRange(0, 3600),
              help="Seconds over which callers start (default: 0.1 s per caller, at most 10).")
@click.option("--coverage/--no-coverage", default=True, show_default=True,
              help="Report the menu nodes and exits visited and never visited.")
@click.option("-v", "--verbose", is_flag=True, help="Every turn's latency, also on success.")
@with_appcontext
def replay_command(paths, target, auth_token, bank_url, no_database, bank_files, var_pairs,
                   junit, concurrency, repeat, ramp_up, coverage, verbose):
    """Replay the transcripts in PATHS (files, or directories of *.yaml)."""
    settings = _settings()
    variables = _variables(var_pairs)
    try:
        transcripts = [load_transcript(p) for p in transcript_paths(paths)]
    except TranscriptError as exc:
        raise click.ClickException(str(exc)) from None
    if not transcripts:
        raise click.ClickException(f"no transcripts (*.yaml) in {', '.join(paths)}")
    _quiet_logs(settings)
    if no_database and bank_url:
        raise click.UsageError("--no-database and --bank-url contradict each other")
    new_line, shared, close = _line_source(settings, target, auth_token, bank_url, bank_files)
    if target and shared.bank is None:
        click.echo(f"note: bank-side checks will be skipped: {NO_BANK}")
    load = concurrency > 1 or repeat > 1
    recordings, results = [], []
    started = time.perf_counter()
    try:
        if load:

            # In-process, the callers share one app and bank, as a server's would be.
            line = shared or new_line()
            ramp = ramp_up if ramp_up is not None else min(10.0, 0.1 * concurrency)
            click.echo(f"load: {len(transcripts)} transcript(s) x {repeat}, {concurrency} "
                       f"concurrent, ramp-up {ramp:g} s, against "
                       f"{target or 'the in-process app'}")
            outcome = run_load(transcripts, lambda i: line, concurrency=concurrency,
                               repeat=repeat, ramp_up=ramp, variables=variables)
            results = outcome.results
            for result in outcome.failed[:20]:
                click.echo(result_text(result))
            if len(outcome.failed) > 20:
                click.echo(f"... and {len(outcome.failed) - 20} more failed calls")
            if coverage:
                recordings = _recordings(line, [r.call_sid for r in results])
            click.echo(outcome.text())
        else:
            for transcript in transcripts:
                line = shared or new_line()
                try:
                    result = _run_one(transcript, line, variables)
                    if coverage and shared is None:
                        recordings += _recordings(line, [result.call_sid])
                finally:
                    if shared is None:
                        line.close()
                results.append(result)
                click.echo(result_text(result, verbose=verbose))
            if coverage and shared is not None:
                recordings = _recordings(shared, [r.call_sid for r in results])
            click.echo(summary_text(results, time.perf_counter() - started))
        if coverage:
            _print_coverage(settings, shared, recordings, len(results))
    finally:
        close()
    if junit:
        Path(junit).write_text(junit_xml(results, time.perf_counter() - started),
                               encoding="utf-8")
        click.echo(f"JUnit XML written to {junit}")
    sys.exit(0 if all(r.passed for r in results) else 1)


def _run_one(transcript, line, variables):
    return run_transcript(transcript, line, variables)


def _recordings(line, call_sids):
    if line.bank is None:
        return None
    try:
        return call_transcripts.load_transcripts(line.bank, call_sids)
    except Exception as exc:  # noqa: BLE001 - coverage is a report, not the verdict
        click.echo(f"coverage unavailable: cannot read the recordings "
                   f"({type(exc).__name__})", err=True)
        return None


def _print_coverage(settings, shared, recordings, calls: int) -> None:

    if recordings is None:
        click.echo("coverage unavailable: over HTTP it is read from the server's recorded "
                   "calls; give --bank-url")
        return
    if len(recordings) < calls:
        click.echo(f"note: {calls - len(recordings)} call(s) had no recording in the database "
                   "(a server on another database?)")
    click.echo(coverage.compute(load_line_menu(settings), recordings).report())


# ---- ivr transcripts --------------------------------------------------------
transcripts_cli = click.Group("transcripts", help="Recorded calls (secrets masked).")


@transcripts_cli.command("export")
@click.argument("call_sid")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the transcript here (default: standard output).")
@with_appcontext
def transcripts_export(call_sid, output):
    """Turn a recorded call into a replayable transcript."""
    recording = call_transcripts.load_transcript(current_app.extensions["bank"], call_sid)
    if recording is None:
        raise click.ClickException(
            f"no recorded call {call_sid}: a call is saved when Twilio reports it over "
            "(status callback), or by `ivr transcripts sweep`")
    interpreter = current_app.extensions["ivr"].interpreter
    text = export_transcript(recording, interpreter.menu, list(interpreter.catalogs.values()))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"transcript of {call_sid} written to {output}")
    else:
        click.echo(text, nl=False)


@transcripts_cli.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@with_appcontext
def transcripts_list(limit):
    """The latest recorded calls, newest first."""
    click.echo(f"{'call':<36}{'saved (UTC)':<21}{'outcome':<16}{'turns':>6}")
    for r in call_transcripts.recent_transcripts(current_app.extensions["bank"], limit):
        outcome = r.outcome or "(live?)"
        click.echo(f"{r.call_sid:<36}{r.saved_at:%Y-%m-%d %H:%M:%S}  {outcome:<16}"
                   f"{len(r.turns):>6}")


@transcripts_cli.command("sweep")
@click.option("--idle", default=900, show_default=True, type=click.IntRange(1),
              help="Save calls whose state has been idle this many seconds.")
@with_appcontext
def transcripts_sweep(idle):
    """Finish the calls whose end was reported but not recorded, and save the
    recordings of calls whose status callback never came, before their state
    expires (`ivr worker` does it every minute; needs REDIS_URL)."""
    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("no REDIS_URL: call state lives inside the server process, "
                                   "out of reach of this command")
    store, bank = current_app.extensions["ivr"].store, current_app.extensions["bank"]
    finished = finish_reported_calls(store, bank)
    saved = sweep_idle_calls(store, bank, idle)
    click.echo(f"finished {finished} ended call(s); saved {saved} idle call(s)")


# ---- ivr dial ---------------------------------------------------------------
@click.command("dial")
@click.option("--target", metavar="URL",
              help="Call a running server (e.g. http://127.0.0.1:5000). Default: the app "
                   "in-process, on the demo bank in a temporary database.")
@click.option("--auth-token", metavar="TOKEN",
              help="Token to sign requests with (default: TWILIO_AUTH_TOKEN).")
@click.option("--caller", default="+523336693552", show_default=True,
              help="The caller's number (E.164).")
@with_appcontext
def dial_command(target, auth_token, caller):
    """A call in the terminal: see what the IVR says, type keys, s = silence,
    h = hang up."""
    settings = _settings()
    _quiet_logs(settings)
    new_line, shared, close = _line_source(settings, target, auth_token, None, ())
    stdin = sys.stdin

    def read(prompt: str):
        click.echo(prompt, nl=False)
        text = stdin.readline()
        if not text:
            click.echo()
            return None
        if not stdin.isatty():
            click.echo(text.rstrip("\n"))  # piped keys: show them as if typed
        return text

    try:
        line = shared or new_line()
        code = run_softphone(line.place_call(caller=caller), read=read, echo=click.echo)
        if shared is None:
            line.close()
    finally:
        close()
    sys.exit(code)
