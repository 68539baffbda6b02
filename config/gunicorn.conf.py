"""gunicorn's settings for Línea Directa, in production and under `ivr serve`
alike (docs/deploy.md):

    gunicorn -c config/gunicorn.conf.py

Each can be changed from the environment (GUNICORN_BIND, GUNICORN_WORKERS,
GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT) or on the
command line, which wins over this file (`ivr serve` gives bind, workers and
threads). This file imports nothing of the app: gunicorn reads it before the
app is loaded.
"""
import os
import sys

wsgi_app = "linea_directa.app:serving_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # the TLS proxy in front reaches it here

# Processes and threads: a turn mostly waits on Redis and PostgreSQL, so each
# process serves several at once with threads. Several processes need
# REDIS_URL, where every call's state lives (checked in on_starting below).
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"

# Twilio waits 15 s in all for a webhook's answer, connecting included, then
# fails the call over to the number's fallback URL. A worker silent for
# `timeout` seconds is killed and replaced well before that budget, so the
# turn Twilio retries finds a live one. (With threads this watches the
# process, not one request: each request's own waits are bounded in the app,
# e.g. a call's lease for 8 s behind a live turn, 1.5 s behind a dead one
# (ivr/leases.py), Twilio's REST API for 4 s.)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "10"))
# On SIGTERM (a deploy, `systemctl stop`) a worker stops taking requests and
# gets this long to finish the ones under way: longer than any turn can take
# inside Twilio's budget, so no caller's turn is cut by a deploy.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "15"))
# Behind the proxy: keep its connections open a little between requests.
keepalive = 5

# The app is built once, in the master, before forking: a bad setting or
# prompt file stops the start-up once with one message, and the workers share
# the loaded code. Each worker then drops the database connections it
# inherited (post_fork), as SQLAlchemy requires across a fork.
preload_app = True

# Access log on stdout, without query strings or referrers: the path, the
# status, the size and the milliseconds. What a request carried stays out of
# the log (the app logs what it needs, secrets masked: config/logging.py).
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"

# gunicorn's control socket (gunicornc) is one path per user, which every
# gunicorn of that user would fight over (a second checkout, the tests);
# systemd's signals do what is needed here.
control_socket_disable = True

# Behind a proxy, werkzeug's ProxyFix (TRUSTED_PROXIES) reads X-Forwarded-*;
# gunicorn itself trusts them only from the loopback (its default).


def on_starting(server):
    """Several processes without Redis would each keep their own call states:
    a caller's second turn reaching another process would find none."""
    if server.cfg.workers > 1 and not os.environ.get("REDIS_URL"):
        server.log.error("REDIS_URL is not set: call state would live in each worker "
                         "process. Set REDIS_URL, or run one worker with threads "
                         "(GUNICORN_WORKERS=1).")
        sys.exit(1)


def post_fork(server, worker):
    """The preloaded app's database pool belongs to the master: the worker
    forgets those connections (without closing them under the master) and
    opens its own."""
    app = getattr(worker.app, "callable", None)
    bank = getattr(app, "extensions", {}).get("bank") if app is not None else None
    if bank is not None:
        bank.engine.dispose(close=False)
