"""`ivr worker`: the background jobs, in a process of their own beside the web
server (`ivr serve` starts one; in production it is its own service,
docs/deploy.md).

- Every `--interval` seconds it delivers the outbox's due e-mails (the
  confirmations the IVR and the web promise), so a payment's e-mail leaves
  within about that long. A round is one indexed query when nothing is due.
- Every `--due-every` seconds it charges the domiciliations that are due
  (`ivr bank run-due`; banking_core/domiciliation_runs.py): each date once,
  however many workers or cron jobs run it too.
- Every `--interval` seconds too, on a thread of its own (a slow biller's
  site never holds up the e-mails), it delivers the billers' due payment
  webhooks (banking_core/biller_notifications.py).
- Every `--sweep-every` seconds, with REDIS_URL, it records the calls whose
  end Twilio reported while the database could not take their records
  (ivr/call_end.py), and saves the recordings of calls idle for
  `--sweep-idle` seconds whose status callback never came (what
  `ivr transcripts sweep` does by hand), before their state expires. Without
  Redis the call states live inside the server's process, out of its reach.

A round that fails (the database restarting, a bug) is logged and the next one
runs: the worker outlives a fault it can wait out. SIGINT and SIGTERM let the
round under way finish (an e-mail half-sent would be sent again, the outbox
being at-least-once) and then end it with status 0.
"""
from __future__ import annotations

import dataclasses
import signal
import threading
import time
from typing import Callable

import click
import structlog
from flask import current_app
from flask.cli import with_appcontext

from banking_core import biller_notifications, call_transcripts, domiciliation_runs, notifications
from ivr import recording
from linea_directa.webhook_sender import CONNECT_TIMEOUT, READ_TIMEOUT, HttpSender
from ivr.call_end import finish_reported

log = structlog.get_logger("worker")

# Short slices of sleep, so a stop request is honoured within this long even
# when rounds are minutes apart.
NAP = 0.2


def finish_reported_calls(store, bank) -> int:
    """Record the calls Twilio reported over whose records the database could
    not take then (ivr/call_end.py), whatever their idle time."""
    return sum(finish_reported(bank, store, state) for state in store.idle_states(0))


def sweep_idle_calls(store, bank, min_idle: float) -> int:
    """Save, as incomplete, the recording of every call whose state has been
    idle `min_idle` seconds (its status callback never came); a finished
    recording is never overwritten (banking_core/call_transcripts.py)."""
    saved = 0
    for state in store.idle_states(min_idle):
        call_transcripts.save_transcript(bank, recording.recording_of(
            state, store.load_recording(state.call_sid), outcome=None, complete=False))
        saved += 1
    return saved


@dataclasses.dataclass
class Job:
    """A named piece of work run every `every` seconds (first at once)."""
    name: str
    every: float
    run: Callable[[], dict]
    due: float = 0.0


class Worker:
    def __init__(self, jobs: list[Job], *, clock=time.monotonic, sleep=time.sleep):
        self.jobs, self.clock, self.sleep = jobs, clock, sleep
        self.stopping = False

    def stop(self, *_signal) -> None:
        self.stopping = True

    def run_once(self) -> None:
        """Every job that is due, each failure logged (by its type only: an
        exception's message may hold a connection string) and left behind."""
        for job in self.jobs:
            if self.stopping or self.clock() < job.due:
                continue
            job.due = self.clock() + job.every
            try:
                done = job.run()
            except Exception as exc:  # noqa: BLE001 - the next round tries again
                log.error("worker_job_failed", job=job.name, error=type(exc).__name__)
                continue
            if any(done.values()):
                log.info("worker_job_done", job=job.name, **done)

    def run(self) -> None:
        while not self.stopping:
            self.run_once()
            wake = min(job.due for job in self.jobs)
            while not self.stopping and self.clock() < wake:
                self.sleep(min(NAP, max(wake - self.clock(), 0)))


DUE_EVERY = 60.0  # seconds between domiciliation rounds, by default


def jobs_for(app, *, interval: float, sweep_every: float, sweep_idle: float,
             due_every: float = DUE_EVERY) -> list[Job]:
    settings, bank = app.extensions["settings"], app.extensions["bank"]
    sender = notifications.sender_from_settings(settings)

    def deliver() -> dict:
        result = notifications.deliver_due(bank, sender, mail_from=settings.mail_from)
        return {"sent": result.sent, "failed": result.failed}

    def charge_due() -> dict:
        return domiciliation_runs.run_due(bank).counts()

    jobs = [Job("outbox", interval, deliver)]
    if due_every > 0:
        jobs.append(Job("domiciliations", due_every, charge_due))
    if settings.redis_url and sweep_every > 0:
        store = app.extensions["ivr"].store
        jobs.append(Job("transcripts_sweep", sweep_every,
                        lambda: {"finished": finish_reported_calls(store, bank),
                                 "saved": sweep_idle_calls(store, bank, sweep_idle)}))
    return jobs


def webhook_jobs_for(app, *, interval: float, sender=None) -> list[Job]:
    """The billers' webhooks: their own Worker, run on its own thread."""
    bank = app.extensions["bank"]
    sender = sender or HttpSender()

    def deliver() -> dict:
        result = biller_notifications.deliver_due(bank, sender)
        return {"sent": result.sent, "failed": result.failed, "gave_up": result.dead}

    return [Job("biller_webhooks", interval, deliver)]


def run_beside(worker: Worker) -> threading.Thread:
    """`worker` on a daemon thread; stop it with worker.stop(), then join."""
    thread = threading.Thread(target=worker.run, name="biller-webhooks", daemon=True)
    thread.start()
    return thread


def describe(settings, interval: float, sweep_every: float,
             due_every: float = DUE_EVERY) -> str:
    """What the worker does, as the banner and the worker's log say it."""
    where = (f"SMTP {settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host
             else f"files in {settings.outbox_dir}/")
    sweep = (f"; transcripts sweep every {sweep_every:g} s"
             if settings.redis_url and sweep_every > 0 else "")
    due = f"; domiciliations every {due_every:g} s" if due_every > 0 else ""
    return f"e-mails every {interval:g} s as {where}{due}{sweep}"


@click.command("worker")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between outbox rounds (how long a confirmation may wait).")
@click.option("--due-every", default=DUE_EVERY, show_default=True,
              type=click.FloatRange(0),
              help="Seconds between domiciliation rounds (0: never; then run "
                   "`ivr bank run-due` from cron).")
@click.option("--sweep-every", default=60.0, show_default=True, type=click.FloatRange(0),
              help="Seconds between transcript sweeps (with REDIS_URL; 0: never).")
@click.option("--sweep-idle", default=900, show_default=True, type=click.IntRange(1),
              help="A call idle this many seconds has its recording saved by the sweep.")
@with_appcontext
def worker_command(interval, due_every, sweep_every, sweep_idle):
    """Deliver queued e-mails and billers' webhooks, charge due domiciliations
    and sweep abandoned calls' recordings, until stopped (Ctrl-C or SIGTERM)."""
    app = current_app._get_current_object()
    worker = Worker(jobs_for(app, interval=interval, sweep_every=sweep_every,
                             sweep_idle=sweep_idle, due_every=due_every))
    webhooks = Worker(webhook_jobs_for(app, interval=interval))

    def stop(*_signal) -> None:
        worker.stop()
        webhooks.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    settings = app.extensions["settings"]
    log.info("worker_started", jobs=[job.name for job in worker.jobs + webhooks.jobs],
             does=describe(settings, interval, sweep_every, due_every))
    if not settings.redis_url:
        log.info("worker_no_sweep", why="no REDIS_URL: call state lives in the server process")
    beside = run_beside(webhooks)
    worker.run()
    webhooks.stop()
    # A webhook under way finishes (at most its timeouts); one cut short is
    # sent again after its lease, with the same delivery_id.
    beside.join(timeout=CONNECT_TIMEOUT + READ_TIMEOUT + 5)
    log.info("worker_stopped")
