"""Two app instances sharing one Redis serve alternate turns of one call, and
the same browser and call sessions."""
import dataclasses
import json

import pytest
import redis as redis_lib
from sqlalchemy import func, select

from banking_core import loader
from banking_core.models import Payment
from banking_core.sessions import RedisSessionStore
from linea_directa.app import create_app
from qa.simulator import FlaskTransport, SimulatedCall
from ivr.state import RedisCallStore
from tests import services
from tests.web.conftest import Browser


@pytest.fixture(params=["postgres"])
def database_url(request, postgres_database, database_url):
    return database_url


@pytest.fixture
def redis_client():
    client = services.redis_client(decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class Alternating:
    """Sends each request to the next app in turn, as a load balancer might."""

    def __init__(self, apps):
        self.clients = [app.test_client() for app in apps]
        self.count = 0

    def post(self, url, data, headers):
        from urllib.parse import urlsplit
        parts = urlsplit(url)
        client = self.clients[self.count % len(self.clients)]
        self.count += 1
        response = client.post(parts.path + (f"?{parts.query}" if parts.query else ""),
                               data=data, headers=headers)
        return response.status_code, response.get_data(as_text=True)


def test_alternate_turns_on_two_instances(settings, redis_client):
    apps = [create_app(settings, call_store=RedisCallStore(redis_client)) for _ in range(2)]
    loader.seed_demo(apps[0].extensions["bank"])
    transport = Alternating(apps)
    call = SimulatedCall(transport, base_url=settings.public_base_url,
                         auth_token=settings.twilio_auth_token)
    call.start()
    for keys in ["1", "10000001", "1357", "1", "2", "5", "2", "5671", "1", "1411#", "1",
                 "9876543217#", "1", "650#", "1", "1"]:
        heard = call.press(keys)
    assert "Pago realizado" in heard.text
    assert transport.count >= 17  # every turn crossed instances
    assert redis_client.exists(f"ivr:call:{call.call_sid}")
    raw = redis_client.get(f"ivr:call:{call.call_sid}")
    recorded = " ".join(redis_client.lrange(f"ivr:call:{call.call_sid}:rec", 0, -1))
    for secret in ("10000001", "1357"):
        assert secret not in raw and secret not in recorded
    bank = apps[1].extensions["bank"]
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert call.hang_up() == 204
    assert not redis_client.exists(f"ivr:call:{call.call_sid}")
    for app in apps:
        app.extensions["bank"].engine.dispose()


def test_concurrent_duplicate_deliveries_run_the_turn_once(settings, redis_client):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from qa.simulator import FlaskTransport

    apps = [create_app(settings, call_store=RedisCallStore(redis_client)) for _ in range(2)]
    loader.seed_demo(apps[0].extensions["bank"])
    call = SimulatedCall(FlaskTransport(apps[0].test_client()),
                         base_url=settings.public_base_url, auth_token=settings.twilio_auth_token)
    call.start()
    for keys in ["1", "10000001", "1357", "1", "2", "5", "2", "5671", "1", "1411#", "1",
                 "9876543217#", "1", "650#", "1"]:
        call.press(keys)
    action, params = call.last.gather["action"], call._params(Digits="1")
    barrier = threading.Barrier(6)
    transports = [FlaskTransport(apps[i % 2].test_client()) for i in range(6)]

    def deliver(i):
        barrier.wait()  # six copies of the confirmation, at once, on both instances
        twin = SimulatedCall(transports[i], base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token)
        twin.call_sid = call.call_sid
        return twin.post(action, params)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(deliver, range(6)))
    assert len(set(answers)) == 1 and answers[0][0] == 200
    assert "Pago realizado" in answers[0][1]
    bank = apps[0].extensions["bank"]
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)) == 1
    turns = RedisCallStore(redis_client).load_recording(call.call_sid)
    visited = [node for turn in turns for node in turn["visited"]]
    assert visited.count("pay") == 1  # the posting node ran once, in one recorded turn
    for app in apps:
        app.extensions["bank"].engine.dispose()


def test_the_recording_lives_beside_the_state_so_the_state_stays_small(settings, redis_client):
    apps = [create_app(settings, call_store=RedisCallStore(redis_client)) for _ in range(2)]
    call = SimulatedCall(Alternating(apps), base_url=settings.public_base_url,
                         auth_token=settings.twilio_auth_token)
    loader.seed_demo(apps[0].extensions["bank"])
    call.start()
    for keys in ("1", "10000001", "1357"):  # to the main menu
        call.press(keys)
    sizes = []
    for _ in range(30):  # repeat the menu: the call goes on, its state does not grow
        call.press("*")
        sizes.append(len(redis_client.get(f"ivr:call:{call.call_sid}")))
    assert max(sizes) - min(sizes) < 50
    turns = RedisCallStore(redis_client).load_recording(call.call_sid)
    assert len(turns) == 34 and turns[-1]["keys"] == "*"
    assert turns[3]["keys"] == "****" and turns[3]["secret"] == "nip"
    assert redis_client.ttl(f"ivr:call:{call.call_sid}:rec") > 0
    assert call.hang_up() == 204
    assert not redis_client.exists(f"ivr:call:{call.call_sid}", f"ivr:call:{call.call_sid}:rec")
    for app in apps:
        app.extensions["bank"].engine.dispose()


def test_sessions_in_redis_are_one_across_instances_and_end_on_all(settings, redis_client):
    """With REDIS_URL, sessions live in Redis: a browser served by either
    instance is the same session, and a log-out on one ends it on the other,
    along with the same customer's call."""
    shared = dataclasses.replace(settings, redis_url=services.REDIS_URL)
    apps = [create_app(shared, call_store=RedisCallStore(redis_client)) for _ in range(2)]
    assert all(isinstance(app.extensions["bank"].sessions, RedisSessionStore) for app in apps)
    loader.seed_demo(apps[0].extensions["bank"])
    here, there = Browser(apps[0]), Browser(apps[1])
    assert here.log_in().status_code == 302
    token = here.client.get_cookie("conexion_sesion", path="/conexion").value
    there.client.set_cookie("conexion_sesion", token, domain="localhost", path="/conexion")
    assert there.get("/conexion/inicio").status_code == 200
    call = SimulatedCall(Alternating(apps), base_url=settings.public_base_url,
                         auth_token=settings.twilio_auth_token)
    call.start()
    for keys in ("1", "10000001", "1357"):
        call.press(keys)
    there.post("/conexion/salir")
    response = here.get("/conexion/inicio")
    assert response.status_code == 302 and "/conexion/entrar" in response.location
    assert "su acceso se cerró o fue bloqueado" in call.press("1").text
    left = [json.loads(redis_client.get(key)) for key in redis_client.scan_iter("linea:session:*")]
    assert left and all(session["principal"] is None for session in left)  # only the notices
    for app in apps:
        app.extensions["bank"].engine.dispose()


def test_a_logged_in_turn_is_two_round_trips_to_redis_its_session_read_with_its_state(
        settings, redis_client, monkeypatch):
    # The session every turn must find alive is read in the round trip that
    # takes the lease and loads the state (the call watches its key): a turn is
    # two trips, as a locked turn with no session check, not three.
    shared = dataclasses.replace(settings, redis_url=services.REDIS_URL)
    app = create_app(shared, call_store=RedisCallStore(redis_client))
    loader.seed_demo(app.extensions["bank"])
    call = SimulatedCall(FlaskTransport(app.test_client()), base_url=settings.public_base_url,
                         auth_token=settings.twilio_auth_token)
    call.start()
    for keys in ("1", "10000001", "1357"):
        call.press(keys)
    sent = []
    real = redis_lib.Redis.execute_command

    def counted(self, *args, **options):
        sent.append(args[0])
        return real(self, *args, **options)

    monkeypatch.setattr(redis_lib.Redis, "execute_command", counted)
    assert "Para sus cuentas" in call.press("*").text
    assert [command for command in sent if command != "PEXPIRE"] == ["EVALSHA", "EVALSHA"]
    monkeypatch.undo()
    # And it still sees a session ended elsewhere (gone from Redis) at the very
    # next turn.
    for key in redis_client.scan_iter("linea:session:*"):
        redis_client.delete(key)
    assert "su acceso se cerró o fue bloqueado" in call.press("*").text
    app.extensions["bank"].engine.dispose()
