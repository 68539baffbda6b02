"""The confirmation e-mail goes out through the outbox: sent, retried, never lost."""
import email
import smtplib
import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from banking_core import notifications
from banking_core.models import OutboxMessage
from tests.integration.helpers import ana, pay

MAIL_FROM = "Línea Directa <notificaciones@lineadirecta.example>"


class MemorySender:
    """A fake sender that fails the first `failures` times."""

    def __init__(self, failures=0):
        self.failures, self.sent = failures, []

    def send(self, message):
        if self.failures:
            self.failures -= 1
            raise smtplib.SMTPServerDisconnected("connection lost")
        self.sent.append(message)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:  # a free port for the real SMTP server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


def outbox(bank):
    """The confirmation e-mails (a payment to 1411 also queues its biller's
    webhook, which this sender never touches: tests/integration/test_biller_webhooks.py)."""
    with bank.unit_of_work() as uow:
        return list(uow.session.scalars(select(OutboxMessage)
                                        .where(OutboxMessage.kind == "payment_confirmation")
                                        .order_by(OutboxMessage.id)))


def test_the_confirmation_says_folio_amount_date_time_service_and_account(demo):
    receipt = pay(demo, ana(demo), amount=65000)
    sender = MemorySender()
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).sent == 1
    (mail,) = sender.sent
    body = mail.get_content()
    assert mail["To"] == "ana@example.com"
    assert receipt.folio in mail["Subject"]
    local = receipt.local_posted_at
    for fact in (receipt.folio, "$650.00", local.strftime("%d/%m/%Y"), local.strftime("%H:%M"),
                 "1411 Runtime WiFi Internet residencial", "terminación 5671", "9876543217"):
        assert fact in body
    assert outbox(demo)[0].status == "sent"
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).sent == 0


def test_a_failed_delivery_is_kept_and_retried_later(demo, clock):
    pay(demo, ana(demo))
    sender = MemorySender(failures=2)
    result = notifications.deliver_due(demo, sender, mail_from=MAIL_FROM)
    assert (result.sent, result.failed) == (0, 1)
    (message,) = outbox(demo)
    assert message.status == "pending" and message.attempts == 1
    assert "SMTPServerDisconnected" in message.last_error
    # Not due again until its backoff has passed.
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).failed == 0
    clock.advance(seconds=31)
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).failed == 1
    assert outbox(demo)[0].attempts == 2
    clock.advance(seconds=61)
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).sent == 1
    (message,) = outbox(demo)
    assert message.status == "sent" and message.attempts == 3 and message.last_error is None


def test_backoff_grows_and_is_capped():
    assert [notifications.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert notifications.backoff(50) == notifications.MAX_BACKOFF


def test_a_message_claimed_by_another_worker_is_not_sent_twice(demo):
    pay(demo, ana(demo))
    (message,) = outbox(demo)
    assert notifications._claim(demo, message.id) is not None
    sender = MemorySender()
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).sent == 0
    assert sender.sent == []


def test_delivery_over_real_smtp(demo, smtp_server):
    controller, inbox = smtp_server
    receipt = pay(demo, ana(demo))
    sender = notifications.SmtpSender(host="127.0.0.1", port=controller.port)
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).sent == 1
    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == ["ana@example.com"]
    parsed = email.message_from_bytes(envelope.content)
    assert receipt.folio in parsed["Subject"]


def test_an_unreachable_smtp_server_loses_nothing(demo):
    pay(demo, ana(demo))
    sender = notifications.SmtpSender(host="127.0.0.1", port=1, timeout=2)
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).failed == 1
    (message,) = outbox(demo)
    assert message.status == "pending" and message.last_error


def test_without_smtp_messages_become_eml_files(demo, tmp_path):
    receipt = pay(demo, ana(demo))
    sender = notifications.EmlFileSender(tmp_path / "outbox")
    assert notifications.deliver_due(demo, sender, mail_from=MAIL_FROM).sent == 1
    (path,) = (tmp_path / "outbox").glob("*.eml")
    assert receipt.folio in path.name
    parsed = email.message_from_bytes(path.read_bytes())
    assert parsed["To"] == "ana@example.com"
    assert not list((tmp_path / "outbox").glob("*.tmp"))
