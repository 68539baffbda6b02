"""Every payment reaches its biller (banking_core/biller_notifications.py): a
signed webhook queued with the payment on every channel and both posting
paths, delivered to a real local HTTP server that is down, slow, failing and
then up, exactly once once it answers 2xx; dead letters and replays."""
import concurrent.futures
import datetime as dt
import json
import threading

import pytest
from sqlalchemy import delete, insert, select, update

from banking_core import biller_keys, biller_notifications, ledger, notifications, signing
from banking_core.models import Agent, Biller, OutboxMessage, Payment
from linea_directa.webhook_sender import HttpSender
from tests.integration.helpers import ana, pay
from tests.integration.receiver import Receiver

SECRET_1411 = "demo-runtime-wifi-1411-secreto-compartido"
# The worker's own timeouts (3 s, 10 s): a loaded test machine answers within them.
SENDER = HttpSender()
# For the slow biller only, which answers after 3 s: past this one's 1 s.
IMPATIENT = HttpSender(read_timeout=1.0)


@pytest.fixture
def receiver():
    receiver = Receiver(slow_seconds=3.0)
    yield receiver
    receiver.stop()


@pytest.fixture
def billed(demo, receiver):
    """The demo bank with 1411's notifications going to the test receiver."""
    biller_keys.set_addresses(demo, "1411", notification_url=receiver.url)
    return demo


def webhooks(bank, **where):
    with bank.unit_of_work() as uow:
        query = select(OutboxMessage).where(OutboxMessage.kind == "biller_webhook")
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(uow.session.scalars(query.order_by(OutboxMessage.id)))


def deliver(bank, sender=SENDER):
    return biller_notifications.deliver_due(bank, sender)


def agent_id(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(Agent.id).where(Agent.username == "agente1"))


def test_every_channel_queues_a_webhook_in_the_payments_transaction(billed, receiver):
    customer = ana(billed)
    receipts = [pay(billed, customer, channel="phone"),
                pay(billed, customer, channel="web", amount=150000),
                pay(billed, customer, channel="agent", agent_id=agent_id(billed)),
                pay(billed, customer, channel="web", key="checkout:1411:PED-2024-0077")]
    rows = webhooks(billed)
    assert len(rows) == 4
    assert {r.recipient for r in rows} == {receiver.url}
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
    assert billed.verify().ok

    receiver.start()
    assert deliver(billed).sent == 4
    bodies = {json.loads(r.body)["folio"]: json.loads(r.body) for r in receiver.received}
    assert set(bodies) == {r.folio for r in receipts}
    checkout = bodies[receipts[3].folio]
    assert checkout["order_id"] == "PED-2024-0077" and checkout["channel"] == "web"
    assert all("order_id" not in bodies[r.folio] for r in receipts[:3])
    web = bodies[receipts[1].folio]
    assert (web["event"], web["service_key"], web["references"], web["amount"],
            web["amount_centavos"], web["currency"]) == (
        "payment.posted", "1411", ["9876543217"], "1500.00", 150000, "MXN")
    assert web["posted_at"] == receipts[1].posted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [bodies[r.folio]["channel"] for r in receipts[:3]] == ["phone", "web", "agent"]


def test_a_payment_row_written_by_any_code_queues_its_webhook(billed, engine, clock):
    """The trigger, not the posting code, queues it: a channel added later
    (or a posting path nobody has written yet) cannot forget."""
    from banking_core.ledger import post_transfer

    customer = ana(billed)
    account = billed.find_account_by_last4(customer, "5671")
    with billed.unit_of_work() as uow:
        biller = uow.session.scalar(select(Biller).where(Biller.service_key == "1411"))
    with engine.begin() as connection:
        transfer = post_transfer(connection, kind="payment", memo="t", now=clock(),
                                 legs=[(account.id, -100), (biller.collection_account_id, 100)])
        payment_id = connection.execute(insert(Payment).values(
            folio="9999999999", channel="web", customer_id=customer.customer_id,
            account_id=account.id, biller_id=biller.id, reference1="9876543217",
            amount_centavos=100, idempotency_key="written-by-hand-1", request_hash="x" * 64,
            transfer_id=transfer, posted_at=clock()).returning(Payment.id)).scalar_one()
    (row,) = webhooks(billed)
    assert row.payment_id == payment_id and row.next_attempt_at == clock()


def test_a_biller_without_a_notification_url_gets_no_webhook(billed):
    pay(billed, ana(billed), service_key="5005", references=("12345678", "0126"))
    assert webhooks(billed) == []
    biller_keys.set_addresses(billed, "1411", notification_url=None)
    pay(billed, ana(billed))
    assert webhooks(billed) == []
    assert billed.verify().ok


def test_down_slow_500_then_up_retries_on_schedule_and_delivers_once(billed, receiver, clock):
    receipt = pay(billed, ana(billed))

    # Down: nothing listens on the port.
    assert deliver(billed).failed == 1
    (row,) = webhooks(billed)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ConnectionError")
    assert row.next_attempt_at == clock() + dt.timedelta(seconds=30)
    clock.advance(seconds=29)
    receiver.start()
    assert deliver(billed).failed == 0 and receiver.received == []  # not due yet

    # Slow: past the read timeout, whatever it answers in the end.
    receiver.mode = "slow"
    clock.advance(seconds=1)
    assert deliver(billed, IMPATIENT).failed == 1
    (row,) = webhooks(billed)
    assert (row.attempts, row.last_error) == (2, "ReadTimeout")
    assert row.next_attempt_at == clock() + dt.timedelta(minutes=1)

    # 500, then a redirect: neither is a delivery.
    receiver.mode = "500"
    clock.advance(minutes=1)
    assert deliver(billed).failed == 1
    assert webhooks(billed)[0].last_error == "HTTP 500"
    receiver.mode = "redirect"
    clock.advance(minutes=2)
    assert deliver(billed).failed == 1
    (row,) = webhooks(billed)
    assert (row.attempts, row.last_error) == (4, "HTTP 302")
    assert row.next_attempt_at == clock() + dt.timedelta(minutes=4)

    # Up: delivered once, marked sent, never again.
    receiver.mode = "ok"
    clock.advance(minutes=4)
    assert deliver(billed).sent == 1
    clock.advance(days=1)
    assert deliver(billed).sent == 0
    (row,) = webhooks(billed)
    assert (row.status, row.attempts, row.last_error) == ("sent", 5, None)
    assert row.sent_at == clock() - dt.timedelta(days=1)
    (delivered,) = receiver.in_mode("ok")
    # The slow one arrived too, late: the biller drops it by its delivery_id.
    assert [r.mode for r in receiver.received] == ["slow", "500", "redirect", "ok"]

    # Every attempt carried the same delivery and the same bytes, each signed.
    assert {r.body for r in receiver.received} == {delivered.body}
    body = json.loads(delivered.body)
    assert body["folio"] == receipt.folio
    for request in receiver.received:
        headers = request.headers
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Delivery-Id"] == body["delivery_id"]
        assert headers["X-Signature-Key-Id"] == "1411-demo"
        assert signing.body_signature_ok(SECRET_1411, headers["X-Signature-Timestamp"],
                                         request.body, headers["X-Signature"])
        assert not signing.body_signature_ok("another-secret-of-thirty-two-characters",
                                             headers["X-Signature-Timestamp"], request.body,
                                             headers["X-Signature"])
    assert request.path == "/notificaciones/1411"


def test_backoff_doubles_from_30_seconds_to_an_hour():
    assert [biller_notifications.backoff(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert biller_notifications.backoff(500) == dt.timedelta(hours=1)


def test_a_webhook_nobody_takes_for_a_week_is_a_dead_letter_until_replayed(
        billed, receiver, clock):
    receipt = pay(billed, ana(billed))
    receiver.mode = "500"
    receiver.start()
    assert deliver(billed).failed == 1
    clock.advance(days=6, hours=23)
    assert deliver(billed).dead == 0
    assert webhooks(billed)[0].status == "pending"
    clock.advance(hours=1)
    result = deliver(billed)
    assert (result.failed, result.dead) == (1, 1)
    (row,) = webhooks(billed)
    assert (row.status, row.attempts) == ("failed", 3)
    clock.advance(days=30)
    assert deliver(billed).failed == 0  # a dead letter is not tried again by itself
    listed = biller_notifications.webhooks(billed, "1411", status="failed")
    assert [(r.folio, r.last_error) for r in listed] == [(receipt.folio, "HTTP 500")]

    receiver.mode = "ok"
    day = receipt.local_posted_at.date()
    result = biller_notifications.replay(billed, "1411", first_day=day, last_day=day)
    assert (result.queued, result.already_pending) == (1, 0)
    assert deliver(billed).sent == 1
    assert [r.status for r in webhooks(billed)] == ["failed", "sent"]
    ids = {json.loads(r.body)["delivery_id"] for r in receiver.received}
    assert len(ids) == 1  # the replay is the same delivery for the biller
    assert billed.verify().ok


def test_replay_queues_the_days_asked_for_and_nothing_twice(billed, receiver, clock):
    first = pay(billed, ana(billed))
    clock.advance(days=1)
    second = pay(billed, ana(billed))
    clock.advance(days=1)
    third = pay(billed, ana(billed))
    receiver.start()
    assert deliver(billed).sent == 3
    receiver.received.clear()

    result = biller_notifications.replay(billed, "1411", first_day=first.local_posted_at.date(),
                                         last_day=second.local_posted_at.date())
    assert (result.queued, result.already_pending) == (2, 0)
    again = biller_notifications.replay(billed, "1411", first_day=first.local_posted_at.date(),
                                        last_day=third.local_posted_at.date())
    assert (again.queued, again.already_pending) == (1, 2)  # the first two still wait
    assert deliver(billed).sent == 3
    assert sorted(json.loads(r.body)["folio"] for r in receiver.received) == sorted(
        [first.folio, second.folio, third.folio])
    with pytest.raises(ValueError):
        biller_notifications.replay(billed, "1411", first_day=third.local_posted_at.date(),
                                    last_day=first.local_posted_at.date())
    with pytest.raises(ValueError, match="no notification URL"):
        biller_notifications.replay(billed, "5005", first_day=first.local_posted_at.date(),
                                    last_day=first.local_posted_at.date())


def test_pending_webhooks_follow_the_billers_new_url_and_stop_without_one(
        billed, receiver, clock):
    pay(billed, ana(billed))
    moved = Receiver().start()
    try:
        biller_keys.set_addresses(billed, "1411", notification_url=moved.url)
        assert deliver(billed).sent == 1
        assert len(moved.received) == 1 and receiver.received == []
        assert webhooks(billed)[0].recipient == moved.url
    finally:
        moved.stop()
    pay(billed, ana(billed))
    biller_keys.set_addresses(billed, "1411", notification_url=None)
    assert deliver(billed).dead == 1
    assert webhooks(billed, status="failed")[0].last_error == "the biller has no notification URL"


def test_the_newest_active_key_signs(billed, receiver, clock):
    pay(billed, ana(billed))
    clock.advance(seconds=1)
    new = biller_keys.issue_key(billed, "1411")
    receiver.start()
    assert deliver(billed).sent == 1
    (request,) = receiver.received
    assert request.headers["X-Signature-Key-Id"] == new.key_id
    assert signing.body_signature_ok(new.secret, request.headers["X-Signature-Timestamp"],
                                     request.body, request.headers["X-Signature"])


def test_the_email_sender_and_the_webhook_sender_never_take_each_others_rows(
        billed, receiver):
    pay(billed, ana(billed))

    class Mail:
        sent = []

        def send(self, message):
            self.sent.append(message)

    mail = Mail()
    assert notifications.deliver_due(billed, mail, mail_from="ld@example.com").sent == 1
    assert [m.kind for m in notifications.pending_messages(billed)] == []
    assert webhooks(billed)[0].status == "pending"
    receiver.start()
    assert deliver(billed).sent == 1 and len(receiver.received) == 1
    assert len(mail.sent) == 1


def test_two_workers_at_once_deliver_each_webhook_once(billed, receiver):
    customer = ana(billed)
    folios = {pay(billed, customer, amount=1000 + n).folio for n in range(12)}
    receiver.delay = 0.02  # keep each POST open while the other worker looks
    receiver.start()
    start = threading.Barrier(2)

    def worker():
        start.wait()
        return biller_notifications.deliver_due(billed, SENDER, parallel=1)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: worker(), range(2)))
    assert sum(r.sent for r in results) == 12 and sum(r.failed for r in results) == 0
    delivered = [json.loads(r.body)["folio"] for r in receiver.received]
    assert sorted(delivered) == sorted(folios)  # each once
    assert {r.status for r in webhooks(billed)} == {"sent"}


def test_verify_expects_the_webhook_of_every_payment_since_the_billers_first(billed, engine):
    pay(billed, ana(billed))
    second = pay(billed, ana(billed))
    assert billed.verify().ok
    with engine.begin() as connection:
        payment_id = connection.scalar(select(Payment.id).where(Payment.folio == second.folio))
        connection.execute(delete(OutboxMessage).where(
            OutboxMessage.payment_id == payment_id, OutboxMessage.kind == "biller_webhook"))
    report = billed.verify()
    assert report.problems == [f"payment {second.folio}: its biller's webhook was not queued "
                               "(`ivr bank biller replay-notifications` queues it)"]
    day = second.local_posted_at.date()
    biller_notifications.replay(billed, "1411", first_day=day, last_day=day)
    assert billed.verify().ok

    # Its e-mail is expected apart from the webhook: a webhook is not a confirmation.
    with engine.begin() as connection:
        connection.execute(update(OutboxMessage).where(
            OutboxMessage.payment_id == payment_id,
            OutboxMessage.kind == "payment_confirmation").values(kind="biller_webhook"))
    problems = billed.verify().problems
    assert problems == [f"payment {second.folio}: no confirmation was queued"]


def test_payments_made_before_a_url_was_set_are_not_expected_to_have_webhooks(demo):
    biller_keys.set_addresses(demo, "1411", notification_url=None)
    pay(demo, ana(demo))
    biller_keys.set_addresses(demo, "1411", notification_url="http://127.0.0.1:9/x")
    pay(demo, ana(demo))
    assert len(webhooks(demo)) == 1
    report = demo.verify()
    assert report.ok, report.summary()
    with demo.unit_of_work() as uow:
        assert ledger.verify(uow.session).ok


def test_a_stuck_biller_never_holds_up_the_emails(billed):
    """The worker runs the webhooks on a thread of their own."""
    from types import SimpleNamespace

    from linea_directa.worker import Job, Worker, run_beside, webhook_jobs_for

    pay(billed, ana(billed))
    release = threading.Event()

    class Stuck:
        def post(self, url, body, headers):
            release.wait(10)
            return 204

    class Mail:
        def __init__(self):
            self.sent = []

        def send(self, message):
            self.sent.append(message)

    hooks = Worker(webhook_jobs_for(SimpleNamespace(extensions={"bank": billed}),
                                    interval=0.05, sender=Stuck()))
    beside = run_beside(hooks)
    mail = Mail()
    emails = Worker([Job("outbox", 0.05, lambda: {"sent": notifications.deliver_due(
        billed, mail, mail_from="ld@example.com").sent})])
    try:
        for _ in range(100):
            emails.run_once()
            if mail.sent:
                break
            release.wait(0.05)
        assert len(mail.sent) == 1
        assert webhooks(billed)[0].status == "pending"  # still in the stuck biller's hands
    finally:
        release.set()
        hooks.stop()
        beside.join(30)
    assert webhooks(billed)[0].status == "sent"
