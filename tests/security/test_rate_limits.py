"""Finding 4 (no rate limits): one call tried 20 access keys, one web client 40
in 1.4 s. Failed log-ins are now counted per source address (web, desk), per
caller number (phone) and per credential (every channel)."""
import uuid

import pytest
import redis as redis_lib

from banking_core import loader
from config import ConfigError, Settings
from linea_directa.app import create_app
from tests import services
from tests.desk.conftest import (  # noqa: F401 - fixtures
    database_url, desk_app, desk_env, desk_settings, dial, twilio,
)
from tests.web.conftest import Browser, web_settings

LIMITED = "Demasiados intentos. Espere 15 minutos e intente de nuevo."


def web_client(app, address="198.51.100.7"):
    browser = Browser(app)
    browser.client.environ_base["REMOTE_ADDR"] = address
    browser.get("/conexion/entrar")
    return browser


def test_one_web_client_trying_40_keys_is_stopped_after_the_limit(desk_app):
    browser = web_client(desk_app)
    statuses = [browser.post("/conexion/entrar", {"clave": f"2{n:07d}", "contrasena": "1357"})
                .status_code for n in range(40)]
    assert statuses == [401] * 10 + [429] * 30  # LOGIN_LIMIT_PER_SOURCE: 10 per 15 minutes
    assert LIMITED in browser.errors() and "Conexión Personal" in browser.text
    assert browser.last.headers["Retry-After"].isdigit()
    # Refused before checking: even the right key and password wait.
    assert browser.log_in().status_code == 429


def test_one_key_tried_from_many_addresses_is_stopped_per_credential(desk_app):
    statuses = [web_client(desk_app, f"203.0.113.{n}").log_in(access_key="10000099")
                .status_code for n in range(1, 8)]
    assert statuses == [401] * 5 + [429] * 2  # LOGIN_LIMIT_PER_CREDENTIAL: 5 per 15 minutes


def test_a_customer_who_logs_in_is_not_counted(desk_app):
    browser = web_client(desk_app)
    for _ in range(12):
        assert browser.log_in().status_code == 302
        browser.post("/conexion/salir")


def test_the_desk_is_limited_per_address_and_per_username(desk_app):
    desk = Browser(desk_app)
    desk.get("/escritorio/entrar")
    statuses = [desk.post("/escritorio/entrar", {"usuario": f"nadie{n}", "contrasena": "x"})
                .status_code for n in range(12)]
    assert statuses == [401] * 10 + [429] * 2
    assert LIMITED in desk.errors() and "Escritorio de ejecutivos" in desk.text
    spread = []
    for n in range(7):
        other = Browser(desk_app)
        other.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{n + 10}"
        other.get("/escritorio/entrar")
        spread.append(other.post("/escritorio/entrar",
                                 {"usuario": "supervisor", "contrasena": "x"}).status_code)
    assert spread == [401] * 5 + [429] * 2


def test_one_call_trying_20_keys_is_told_and_hung_up_on(dial):
    call = dial()
    for n in range(20):
        if n:
            call.press("*")  # back to the log-in menu for another key
        call.press("1")
        call.press(f"2{n:07d}")
        heard = call.press("1111")
        if call.last.hung_up:
            break
    assert n == 5  # LOGIN_LIMIT_PER_CALLER: 5 failures per 15 minutes, the sixth refused
    assert "Demasiados intentos. Espere 15 minutos e intente de nuevo." in heard.text
    assert "Hasta luego" in heard.text
    again = dial()  # a new call from the same number is refused too
    again.press("1")
    again.press("10000001")
    assert "Demasiados intentos" in again.press("1357").text and again.last.hung_up
    other = dial(caller="+523311119999")  # another number is not
    other.press("1")
    other.press("10000001")
    assert "Le damos la bienvenida, Ana" in other.press("1357").text


def test_one_key_from_many_phones_is_stopped_per_credential(dial):
    for n in range(6):
        call = dial(caller=f"+5233111100{n:02d}")
        call.press("1")
        call.press("20000001")
        heard = call.press("1111")
    assert "Demasiados intentos" in heard.text and call.last.hung_up


@pytest.mark.parametrize("name, value", [
    ("LOGIN_LIMIT_PER_SOURCE", "muchos"), ("LOGIN_LIMIT_PER_CALLER", "0 per minute"),
    ("LOGIN_LIMIT_PER_CREDENTIAL", "5 per minute; 10 per hour"), ("TRUSTED_PROXIES", "-1"),
    ("RATE_LIMIT_PREFIX", "a b"),
])
def test_limits_are_validated_settings(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_forwarded_for_counts_only_behind_a_trusted_proxy(tmp_path, database_url):
    def failures_until_refused(app, rotate):
        browser = web_client(app)
        for n in range(30):
            headers = {"X-Forwarded-For": f"10.0.0.{n}"} if rotate else {}
            response = browser.post("/conexion/entrar", {"clave": f"3{n:07d}",
                                                         "contrasena": "1"}, headers=headers)
            if response.status_code == 429:
                return n
        return None

    untrusting = create_app(web_settings(tmp_path, database_url))
    assert failures_until_refused(untrusting, rotate=True) == 10  # the header is ignored
    behind_one = create_app(web_settings(tmp_path, database_url, TRUSTED_PROXIES="1"))
    assert failures_until_refused(behind_one, rotate=True) is None  # each its own address
    for app in (untrusting, behind_one):
        app.extensions["bank"].engine.dispose()


@pytest.fixture
def redis_url():
    client = services.redis_client()
    prefix = f"test-limits-{uuid.uuid4().hex[:12]}"  # this test's keys only
    yield services.REDIS_URL, prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


@pytest.mark.redis
def test_counts_live_in_redis_shared_by_every_worker(tmp_path, database_url, redis_url):
    url, prefix = redis_url
    apps = [create_app(web_settings(tmp_path, database_url, REDIS_URL=url,
                                    RATE_LIMIT_PREFIX=p)) for p in (prefix, prefix, prefix + "x")]
    loader.seed_demo(apps[0].extensions["bank"])
    statuses = [web_client(apps[n % 2], f"203.0.113.{n}").log_in(access_key="10000099")
                .status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]  # two workers, one count
    client = redis_lib.Redis.from_url(url)
    assert list(client.scan_iter(f"*{prefix}*"))  # kept under this test's prefix
    assert web_client(apps[2]).log_in(access_key="10000099").status_code == 401  # another prefix
    for app in apps:
        app.extensions["bank"].engine.dispose()


def test_flask_limiter_runs_for_people_and_never_for_twilios_signed_turns(desk_app, monkeypatch):
    """Its hooks are skipped for the machines' blueprints (web/login_limits.py),
    and only for them: the log-in pages keep their per-address limit above."""
    from tests.security.signed import post_signed_voice

    limiter = desk_app.extensions["login_limits"].limiter
    seen = []
    identify = limiter.identify_request
    monkeypatch.setattr(limiter, "identify_request", lambda: seen.append(1) or identify())
    client = desk_app.test_client()
    assert post_signed_voice(desk_app, client, "6")[0].status_code == 200
    assert seen == []
    assert client.get("/conexion/").status_code in (200, 302)
    assert seen, "the limiter no longer checks the people's pages"
    assert desk_app.extensions["login_limits.unlimited_blueprints"] >= {"ivr"}


def test_the_csrf_check_runs_for_people_and_never_for_twilios_signed_turns(desk_app,
                                                                            monkeypatch):
    """Flask-WTF's hook is skipped for the exempt blueprints (web/csrf.py): a
    signed turn never reaches it, a form of the people's pages still does."""
    from tests.security.signed import post_signed_voice
    from web.csrf import csrf

    checked = []
    protect = csrf.protect
    monkeypatch.setattr(csrf, "protect", lambda *a, **k: checked.append(1) or protect(*a, **k))
    client = desk_app.test_client()
    assert post_signed_voice(desk_app, client, "7")[0].status_code == 200
    assert checked == []
    # A people's form without its token: checked, and refused (the channel's
    # CSRF error answers with its log-in page again: web/errors.py).
    refused = client.post("/conexion/entrar", data={"access_key": "1"})
    assert refused.status_code in (303, 400)
    assert checked, "the CSRF check no longer runs for the people's pages"
    assert desk_app.extensions["csrf.exempt_blueprints"] == {"ivr"}
