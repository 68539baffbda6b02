"""What a web process counts itself for Prometheus: the IVR's turns and their
latency, and the webhooks that failed. Only what happens inside a request is
here; what the bank holds (payments, calls, log-in failures, the outbox,
hand-offs) is read from the database when /metrics is scraped
(linea_directa/bank_metrics.py), so it is right across processes.

The metrics are module-level, as prometheus_client expects. Under gunicorn,
PROMETHEUS_MULTIPROC_DIR (set before the process starts) makes each worker
write its values to files there, summed at scrape time (linea_directa/metrics.py).
The channels call the functions below, never prometheus_client itself."""
from __future__ import annotations

import os

from prometheus_client import Counter, Histogram, disable_created_metrics

# In multiprocess mode the client opens its file there as the first metric is
# made, at import: a directory not made yet would stop every `ivr` command.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# No `*_created` series: Prometheus' rate() needs none, and they would double
# what every scrape carries.
disable_created_metrics()

TURNS = Counter(
    "ivr_turns", "IVR turns that ran the menu, by the node the caller was left at and "
    "how the turn ended (continue, transfer, closed, hangup)", ["node", "outcome"])
# Twilio gives a turn 15 s; the buckets are finest where turns live (tens of ms).
TURN_SECONDS = Histogram(
    "ivr_turn_duration_seconds", "Time to answer an IVR turn, from the webhook's start "
    "to its TwiML", buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15))
WEBHOOK_ERRORS = Counter(
    "ivr_webhook_errors", "IVR webhooks that failed and were answered with the technical-"
    "problem path, by endpoint", ["endpoint"])


def observe_turn(*, node: str | None, ended: str | None, seconds: float) -> None:
    """One turn answered. `ended` is the call state's end mark: None while the
    call goes on, "transfer:<reason>", "closed:<reason>" (agents off shift) or
    "hangup"; the reason stays out of the labels (the call records carry it,
    ivr_calls_total{transfer_reason}), keeping the series few."""
    labels = (node or "none", (ended or "continue").partition(":")[0])
    counter = _turn_counters.get(labels)
    if counter is None:
        counter = _turn_counters[labels] = TURNS.labels(*labels)
    counter.inc()
    TURN_SECONDS.observe(seconds)


# Each turn's counter, by its labels: `labels()` checks and looks them up
# under a lock on every call, and every turn of every call counts one. The
# series are few (the menu's nodes by four outcomes), so all are kept.
_turn_counters: dict[tuple[str, str], Counter] = {}


def webhook_failed(endpoint: str | None) -> None:
    WEBHOOK_ERRORS.labels(endpoint=endpoint or "unknown").inc()
