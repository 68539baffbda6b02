"""Helpers for the operations endpoints' tests: a port nothing listens on,
/metrics parsed with prometheus_client's own parser."""
from __future__ import annotations

import socket

from prometheus_client.parser import text_string_to_metric_families


def closed_port() -> int:
    """A local port that refuses connections: bound once to get a free one,
    then released (nothing listens there during the test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Samples(dict):
    """A scrape's samples by (name, labels)."""

    def get_value(self, name: str, **labels) -> float:
        return self.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name: str, **labels) -> float:
        """Every sample of `name` whose labels include `labels`, summed."""
        wanted = set(labels.items())
        return sum(value for (sample, found), value in self.items()
                   if sample == name and wanted <= set(found))


def parse(text: str) -> Samples:
    samples = Samples()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def scrape(client, **request) -> Samples:
    response = client.get("/metrics", **request)
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))
