"""Who may read /metrics: with METRICS_TOKEN, a bearer of it; without, only a
request made straight to the app from its own host. A refusal says nothing."""
from __future__ import annotations

import dataclasses

import pytest

from config import ConfigError, Settings
from linea_directa.app import create_app
from tests.ops.helpers import closed_port, scrape

TOKEN = "m" * 16 + "0123456789abcdef"  # 32 characters, as METRICS_TOKEN asks
OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture(params=["sqlite"])
def database_url(request, database_url):
    return database_url


@pytest.fixture
def token_client(settings):
    app = create_app(dataclasses.replace(settings, metrics_token=TOKEN))
    return app.test_client()


def test_without_a_token_only_this_host_may_read(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    refused = client.get("/metrics", environ_base=OUTSIDE)
    assert refused.status_code == 403 and refused.get_data() == b""


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_without_a_token_a_request_through_a_proxy_is_refused(client, header):
    """A reverse proxy on the same host connects from 127.0.0.1: its forwarding
    header is what tells an Internet request from a local one."""
    response = client.get("/metrics", headers={header: "198.51.100.4"})
    assert response.status_code == 403 and response.get_data() == b""


def test_with_a_token_it_is_asked_for_wherever_the_request_comes_from(token_client):
    missing = token_client.get("/metrics")
    assert missing.status_code == 401 and missing.get_data() == b""
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    for wrong in ("Bearer nope", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"):
        response = token_client.get("/metrics", headers={"Authorization": wrong})
        assert response.status_code == 403 and response.get_data() == b"", wrong
    good = {"Authorization": f"Bearer {TOKEN}"}
    samples = scrape(token_client, headers=good, environ_base=OUTSIDE)
    assert samples.get_value("bank_metrics_up") == 1
    body = token_client.get("/metrics", headers=good).get_data(as_text=True)
    assert TOKEN not in body


def test_health_and_readiness_need_no_token(token_client):
    assert token_client.get("/healthz", environ_base=OUTSIDE).status_code == 200
    assert token_client.get("/readyz", environ_base=OUTSIDE).status_code == 200


def test_a_short_token_is_refused_at_start():
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Settings.from_env({"IVR_ENV": "test", "METRICS_TOKEN": "short",
                           "SECRET_KEY": "k" * 32, "NIP_PEPPER": "p" * 32,
                           "TWILIO_AUTH_TOKEN": "t"})


def test_the_scrape_goes_on_when_the_database_is_down(settings):
    """The process's own metrics still go out; the bank's part says it is missing."""
    url = f"postgresql://probe:s3cret-pass@127.0.0.1:{closed_port()}/bank"
    app = create_app(dataclasses.replace(settings, database_url=url))
    response = app.test_client().get("/metrics")
    samples = scrape(app.test_client())
    assert samples.get_value("bank_metrics_up") == 0
    assert ("ivr_turn_duration_seconds_count", ()) in samples
    assert "s3cret-pass" not in response.get_data(as_text=True)
