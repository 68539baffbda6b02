"""/metrics' exposition: this process's metrics (web/metrics.py) — or, under
gunicorn, every worker's — and the bank's, read from the database.

Multiprocess mode (prometheus_client's) is on when PROMETHEUS_MULTIPROC_DIR is
set before the process starts: each worker writes its counters and histograms
to files there and a scrape, answered by any worker, sums them all. The
directory must exist and be empty when the server starts (a previous run's
files would be counted again): `ivr serve` empties it (prepare_multiprocess_dir).
Without it, one process serves and its own registry is read."""
from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

import web.metrics  # noqa: F401 - the process's metrics exist before the first scrape

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition(bank_collector) -> bytes:
    """The text Prometheus scrapes. A fresh registry each time, as the client's
    multiprocess mode requires; the bank's collector is the app's own (each
    app has its database), so it is never added to the global registry."""
    registry = CollectorRegistry(auto_describe=False)
    directory = multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(bank_collector)
    return generate_latest(registry)


class _Forward:
    """Another registry's metrics, as one collector of this one."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self):
        return self.registry.collect()


def prepare_multiprocess_dir() -> None:
    """Before gunicorn starts its workers: the directory exists, and holds no
    file of an earlier run (their counts would be added to this run's)."""
    directory = multiprocess_dir()
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
