"""The bank's numbers for Prometheus, read from the database at scrape time.

The truth about payments, calls, log-ins, the outbox and hand-offs is in the
database, written by every process (web workers, the outbox worker, the
operators' CLI): counting rows when Prometheus asks is right whichever process
answers, survives restarts, and adds nothing to the payment path.

Counters are counts of append-only rows (payments, login_failures,
call_records never lose a row), so they only go up, as Prometheus counters
must. Every instance reports the same bank-wide values: aggregate them with
max(), never sum() (docs/runbook.md).

Each scrape is a handful of GROUP BY queries over whole tables; their cost
grows with the tables (measured in docs/runbook.md). A database that fails
mid-scrape gives `bank_metrics_up 0` and the process's own metrics still go out."""
from __future__ import annotations

import time

import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from banking_core.biller_notifications import KIND as WEBHOOK_KIND
from banking_core.models import (
    Agent, CallRecord, Credential, Handoff, LoginFailure, OutboxMessage, Payment,
)

log = structlog.get_logger("metrics")


class BankCollector(Collector):
    def __init__(self, engine_factory, clock):
        self.engine_factory = engine_factory  # the probe engine, made on first scrape
        self.clock = clock

    def collect(self):
        started = time.perf_counter()
        try:
            with self.engine_factory().connect() as connection:
                families = list(self._families(connection, self.clock()))
        except Exception as exc:  # noqa: BLE001 - the scrape goes on without the bank's part
            log.warning("bank_metrics_failed", error=type(getattr(exc, "orig", None)
                                                          or exc).__name__)
            families, up = [], 0
        else:
            up = 1
        yield from families
        yield GaugeMetricFamily("bank_metrics_up", "1 when the bank's metrics were read "
                                "from the database on this scrape", value=up)
        yield GaugeMetricFamily("bank_metrics_scrape_duration_seconds", "Time the bank's "
                                "metrics took to read", value=time.perf_counter() - started)

    def _families(self, db, now):
        payments = CounterMetricFamily("bank_payments", "Payments posted, by channel",
                                       labels=["channel"])
        for channel, n in db.execute(select(Payment.channel, func.count())
                                     .group_by(Payment.channel)):
            payments.add_metric([channel], n)
        yield payments

        failures = CounterMetricFamily(
            "bank_login_failures", "Failed customer log-ins, by credential kind and why "
            "(unknown, malformed, wrong_nip, blocked)", labels=["method", "reason"])
        for method, reason, n in db.execute(
                select(LoginFailure.method, LoginFailure.reason, func.count())
                .group_by(LoginFailure.method, LoginFailure.reason)):
            failures.add_metric([method, reason], n)
        yield failures

        blocked = GaugeMetricFamily("bank_credentials_blocked", "Customer credentials "
                                    "blocked now (too many wrong NIPs), by kind",
                                    labels=["kind"])
        for kind, n in db.execute(select(Credential.kind, func.count())
                                  .where(Credential.blocked_at.is_not(None))
                                  .group_by(Credential.kind)):
            blocked.add_metric([kind], n)
        yield blocked
        yield GaugeMetricFamily(
            "bank_agents_locked", "Agent accounts locked now after failed log-ins",
            value=db.scalar(select(func.count()).select_from(Agent)
                            .where(Agent.locked_until > now)))

        calls = CounterMetricFamily(
            "ivr_calls", "Phone calls ended, by outcome (ivr_hung_up, caller_hung_up, "
            "transferred) and transfer reason (empty unless transferred)",
            labels=["outcome", "transfer_reason"])
        for outcome, reason, n in db.execute(
                select(CallRecord.outcome, CallRecord.transfer_reason, func.count())
                .group_by(CallRecord.outcome, CallRecord.transfer_reason)):
            calls.add_metric([outcome, reason or ""], n)
        yield calls

        yield from self._outbox(db, now)
        yield from self._handoffs(db, now)

    def _outbox(self, db, now):
        # The outbox holds e-mails and billers' webhooks: counted apart (a
        # biller whose site is down is not a mail server refusing).
        mail = {"pending": 0, "oldest": None, "failures": 0}
        hooks = {"pending": 0, "oldest": None, "failures": 0, "failed": 0}
        # A sent message's last attempt succeeded; every other attempt failed.
        for kind, status, n, attempts, first in db.execute(
                select(OutboxMessage.kind, OutboxMessage.status, func.count(),
                       func.coalesce(func.sum(OutboxMessage.attempts), 0),
                       func.min(OutboxMessage.created_at))
                .group_by(OutboxMessage.kind, OutboxMessage.status)):
            stats = hooks if kind == WEBHOOK_KIND else mail
            stats["failures"] += attempts - (n if status == "sent" else 0)
            if status == "pending":
                stats["pending"] += n
                stats["oldest"] = first if stats["oldest"] is None else min(stats["oldest"],
                                                                            first)
            elif status == "failed":
                stats["failed"] = n
        yield GaugeMetricFamily("outbox_pending_messages", "Confirmation e-mails waiting "
                                "to be sent", value=mail["pending"])
        yield GaugeMetricFamily("outbox_oldest_pending_seconds", "Age of the oldest e-mail "
                                "waiting (0 when none)", value=_age(now, mail["oldest"]))
        yield CounterMetricFamily("outbox_delivery_failures", "Attempts to send an e-mail "
                                  "that failed (each is retried later)", value=mail["failures"])
        yield GaugeMetricFamily("bank_biller_webhooks_pending", "Billers' payment webhooks "
                                "waiting to be delivered", value=hooks["pending"])
        yield GaugeMetricFamily("bank_biller_webhooks_oldest_pending_seconds", "Age of the "
                                "oldest webhook waiting (0 when none)",
                                value=_age(now, hooks["oldest"]))
        yield GaugeMetricFamily("bank_biller_webhooks_failed", "Webhooks given up on after "
                                "days of retries (dead letters, to replay)",
                                value=hooks["failed"])
        yield CounterMetricFamily("bank_biller_webhook_delivery_failures", "Webhook attempts "
                                  "a biller did not take (refused, timeout, non-2xx)",
                                  value=hooks["failures"])

    def _handoffs(self, db, now):
        waiting = callbacks = 0
        oldest = None
        for status, n, first in db.execute(
                select(Handoff.status, func.count(),
                       func.min(case((Handoff.status == "waiting", Handoff.enqueued_at))))
                .where(Handoff.status.in_(("waiting", "callback")))
                .group_by(Handoff.status)):
            if status == "waiting":
                waiting, oldest = n, first
            else:
                callbacks = n
        yield GaugeMetricFamily("handoffs_waiting", "Callers in the agents' queue, not yet "
                                "taken", value=waiting)
        yield GaugeMetricFamily("handoffs_oldest_waiting_seconds", "How long the first "
                                "caller in line has waited (0 when none)",
                                value=_age(now, oldest))
        yield GaugeMetricFamily("handoffs_callbacks_pending", "Callers who asked to be "
                                "called back, not yet taken", value=callbacks)


def _age(now, since) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # SQLite hands back naive UTC through Core selects
        since = since.replace(tzinfo=now.tzinfo)
    return max((now - since).total_seconds(), 0.0)
