"""The dashboard and the runbook speak of metrics /metrics really has: a
renamed metric would leave an empty panel and an alert that never fires."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.ops.helpers import scrape

DOCS = Path(__file__).resolve().parents[2] / "docs"
OURS = re.compile(r"\b(?:ivr|bank|outbox|handoffs)_[a-z_]+\b")
QUOTED = re.compile(r'"[^"]*"')  # label values (outcome="ivr_hung_up") are not metrics


def metric_names(text: str) -> set[str]:
    return set(OURS.findall(QUOTED.sub("", text)))
SUFFIXES = ("_bucket", "_count", "_sum")


@pytest.fixture(params=["sqlite"])
def database_url(request, database_url):
    return database_url


def family_names(client) -> set[str]:
    """Metric names as /metrics declares them (# TYPE lines), labelled series
    or not: a counter no call has moved yet has no sample."""
    text = client.get("/metrics").get_data(as_text=True)
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            names.add(name)
            if kind == "counter":
                names.add(name + "_total")
            if kind == "histogram":
                names.update(name + suffix for suffix in SUFFIXES)
    return names


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] and dashboard["schemaVersion"]
    for panel in dashboard["panels"]:
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
    return [target["expr"] for panel in dashboard["panels"]
            for target in panel.get("targets", ())]


def test_the_dashboard_plots_only_metrics_that_exist(client):
    expressions = dashboard_expressions()
    assert len(expressions) >= 15
    used = set().union(*(metric_names(expr) for expr in expressions))
    assert used - family_names(client) == set()


def test_the_runbook_alerts_on_metrics_that_exist(client):
    text = (DOCS / "runbook.md").read_text(encoding="utf-8")
    used = metric_names(text) - {"ivr_turn_failed"}  # a log event the runbook names
    assert "ivr_turns_total" in used and "outbox_oldest_pending_seconds" in used
    assert used - family_names(client) == set()
