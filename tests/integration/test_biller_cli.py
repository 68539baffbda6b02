"""The operators' commands for billers' webhooks and API, run as operators
would, and the webhooks' numbers on /metrics."""
import re

import pytest
from sqlalchemy import update

from banking_core.models import OutboxMessage
from tests.integration.helpers import ana, pay
from tests.ops.helpers import scrape


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, database_url):
    return database_url


@pytest.fixture
def bank(runner, app):
    assert runner.invoke(args=["bank", "seed-demo"]).exit_code == 0
    return app.extensions["bank"]


def test_notifications_are_listed_and_replayed_by_day(runner, bank):
    receipt = pay(bank, ana(bank))
    listed = runner.invoke(args=["bank", "biller", "notifications", "1411"])
    assert listed.exit_code == 0 and f"folio {receipt.folio}" in listed.output
    assert "pending" in listed.output and "attempts 0" in listed.output
    assert runner.invoke(args=["bank", "biller", "notifications", "1411", "--status", "failed"]
                         ).output == ""
    day = receipt.local_posted_at.date().isoformat()
    replay = runner.invoke(args=["bank", "biller", "replay-notifications", "1411",
                                 "--from", day, "--to", day])
    assert replay.exit_code == 0, replay.output
    assert "queued 0 webhook(s); 1 already waiting" in replay.output
    with bank.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.kind == "biller_webhook")
                            .values(status="failed"))
        uow.commit()
    replay = runner.invoke(args=["bank", "biller", "replay-notifications", "1411",
                                 "--from", day, "--to", day])
    assert "queued 1 webhook(s); 0 already waiting" in replay.output
    for bad in (["5005"], ["999"], ["1411", "--to", "2020-01-01"]):
        args = ["bank", "biller", "replay-notifications", *bad[:1], "--from", day,
                *(bad[1:] or ["--to", day])]
        refused = runner.invoke(args=args)
        assert refused.exit_code == 1 and "Error" in refused.output, args


def test_api_example_prints_a_request_the_api_accepts(runner, bank, client):
    receipt = pay(bank, ana(bank))
    printed = runner.invoke(args=["bank", "biller", "api-example", "1411", "--folio",
                                  receipt.folio])
    assert printed.exit_code == 0, printed.output
    assert "secreto" not in printed.output
    url = re.search(r"curl -s '([^']+)'", printed.output).group(1)
    headers = dict(re.findall(r"-H '([^:]+): ([^']+)'", printed.output))
    assert set(headers) == {"X-Signature-Key-Id", "X-Signature-Timestamp", "X-Signature"}
    response = client.get(url.replace("http://127.0.0.1:5000", ""), headers=headers)
    assert response.status_code == 200 and response.get_json()["folio"] == receipt.folio
    by_reference = runner.invoke(args=["bank", "biller", "api-example", "1411",
                                       "--reference", "9876543217"])
    assert "payments?reference=9876543217" in by_reference.output
    assert runner.invoke(args=["bank", "biller", "api-example", "1411"]).exit_code == 2
    assert runner.invoke(args=["bank", "biller", "api-example", "5005", "--folio", "1"]
                         ).exit_code == 1  # no key


def test_metrics_count_webhooks_apart_from_emails(runner, bank, client):
    pay(bank, ana(bank))
    pay(bank, ana(bank))
    with bank.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).where(OutboxMessage.kind == "biller_webhook",
                                                        OutboxMessage.id == 1)
                            .values(status="failed", attempts=3))
        uow.commit()
    samples = scrape(client)
    assert samples.get_value("outbox_pending_messages") == 2
    assert samples.get_value("bank_biller_webhooks_pending") == 1
    assert samples.get_value("bank_biller_webhooks_failed") == 1
    assert samples.get_value("bank_biller_webhook_delivery_failures_total") == 3
    assert samples.get_value("bank_biller_webhooks_oldest_pending_seconds") >= 0
