"""What operations and their machines ask of the app: /healthz (the process is
alive), /readyz (it can serve: database, Redis, migrations, outbox) and
/metrics (Prometheus). docs/runbook.md says what to do when they fail.

/healthz and /readyz say nothing secret and answer anyone (load balancers
probe them). /metrics tells the bank's volumes: with METRICS_TOKEN set it asks
for `Authorization: Bearer <token>`; without, it answers only a request made
straight to the app from its own host (loopback, and no proxy's forwarding
header: a reverse proxy on the same host would otherwise make every Internet
request look local)."""
from __future__ import annotations

import hmac
import ipaddress
import threading

import structlog
from flask import Blueprint, Response, current_app, jsonify, request

from linea_directa import metrics, readiness
from linea_directa.bank_metrics import BankCollector
from linea_directa.probe_engine import TIMEOUT_SECONDS, probe_engine

bp = Blueprint("ops", __name__)
log = structlog.get_logger("ops")
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")
# The bank's counts read whole tables (about 0.2 s per million rows each, see
# docs/runbook.md): more time than a readiness query, under a 15 s scrape timeout.
METRICS_STATEMENT_SECONDS = 5


class Probes:
    """The app's connections for probes, made on first use: after gunicorn's
    fork, never in the parent."""

    def __init__(self, app):
        self.bank = app.extensions["bank"]
        self.settings = app.extensions["settings"]
        self._lock = threading.Lock()
        self._engines = {}
        self._redis = None
        self.collector = BankCollector(self.metrics_engine, clock=self.bank.clock)

    def readiness_engine(self):
        return self._engine(TIMEOUT_SECONDS)

    def metrics_engine(self):
        return self._engine(METRICS_STATEMENT_SECONDS)

    def _engine(self, statement_seconds: int):
        with self._lock:
            if statement_seconds not in self._engines:
                self._engines[statement_seconds] = probe_engine(
                    self.bank.engine.url, statement_seconds=statement_seconds)
            return self._engines[statement_seconds]

    def redis(self):
        if not self.settings.redis_url:
            return None
        with self._lock:
            if self._redis is None:
                self._redis = readiness.redis_client(self.settings.redis_url)
            return self._redis


def init_app(app) -> None:
    app.extensions["ops"] = Probes(app)
    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz():
    """Alive: the process answers. Nothing else is touched, so a database
    outage never has every instance restarted by its supervisor."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    probes: Probes = current_app.extensions["ops"]
    checks = readiness.check_database(
        probes.readiness_engine(), max_outbox_pending=probes.settings.readyz_max_outbox_pending)
    checks["redis"] = readiness.check_redis(probes.redis())
    failed = [name for name, check in checks.items() if not check.ok]
    if failed:
        log.warning("not_ready", failed=failed,
                    errors={name: checks[name].error for name in failed})
    body = {"status": "fail" if failed else "ok", "failed": failed,
            "checks": {name: check.as_dict() for name, check in checks.items()}}
    return jsonify(body), 503 if failed else 200


@bp.get("/metrics")
def metrics_endpoint():
    probes: Probes = current_app.extensions["ops"]
    refused = _refusal(probes.settings.metrics_token)
    if refused is not None:
        return refused
    return Response(metrics.exposition(probes.collector), content_type=metrics.CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})


def _refusal(token: str) -> Response | None:
    """None when the request may read /metrics; otherwise an empty 401 or 403
    (what was wrong is not said)."""
    if token:
        given = request.headers.get("Authorization", "")
        if not given:
            return Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                              token.encode()):
            return None
        return Response(status=403)
    if _from_this_host():
        return None
    return Response(status=403)


def _from_this_host() -> bool:
    if any(request.headers.get(name) for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback
