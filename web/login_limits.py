"""Rate limits on logging in, on every channel.

The database already blocks a real credential after a few wrong NIPs (and
locks an agent after five wrong passwords); that stops guessing one NIP, not
trying many keys or usernames. So failed log-ins are also counted:

- per source address on each browser channel's log-in POST (Flask-Limiter,
  wrapped around the view each channel names with `limit_per_address`);
- per caller number on the phone (the IVR answers every turn on one route, so
  the log-in operation asks `check` itself, keyed by Twilio's `From`);
- per credential on every channel (the keyed hash of the access key, card or
  account number, or the agent's username), so an attacker spreading tries over
  many addresses or phones is still slowed — and counted the same whether or
  not the credential exists, so being refused says nothing about it either.

Only failures count (a customer who logs in many times a day from an office's
one address is never stopped); while a count is exhausted even the right
password is refused. The counts live in Redis when `REDIS_URL` is set (shared
by every worker), in the process otherwise (each worker then counts on its
own), under `RATE_LIMIT_PREFIX`. Windows are moving: a refusal names how long
until the oldest counted failure leaves it.
"""
from __future__ import annotations

import dataclasses
import math
import time
from functools import partial

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from web.hooks import replace_app_hook, unless_blueprint

WITHHELD = "withheld"  # all callers who hide their number share one count


class TooManyAttempts(TooManyRequests):
    """A per-credential or per-caller count is exhausted; `seconds` until a try
    is allowed again."""

    def __init__(self, seconds: int):
        super().__init__()
        self.seconds = seconds


Bucket = tuple[RateLimitItem, tuple[str, ...]]


@dataclasses.dataclass
class LoginLimits:
    limiter: Limiter
    per_caller: RateLimitItem
    per_credential: RateLimitItem
    prefix: str

    # -- the buckets a try is counted in --------------------------------------
    def caller(self, number: str | None) -> Bucket:
        return self.per_caller, ("caller", number or WITHHELD)

    def credential(self, bank, method: str, identifier: str) -> Bucket:
        # Keyed by the same keyed hash the database looks the credential up by
        # (never the number in clear), also for keys that are malformed or
        # exist nowhere: those are counted exactly like real ones.
        value = "".join(str(identifier).split())[:40]
        return self.per_credential, ("credential", str(method)[:16],
                                     bank.hasher.lookup_hash(str(method), value))

    def agent(self, username: str) -> Bucket:
        return self.per_credential, ("agent", str(username).strip().lower()[:40])

    # -- checking and counting ------------------------------------------------
    def wait(self, *buckets: Bucket) -> int | None:
        """Seconds until a try is allowed, if any of the buckets is exhausted."""
        strategy = self.limiter.limiter
        for item, key in buckets:
            if not strategy.test(item, self.prefix, *key):
                reset = strategy.get_window_stats(item, self.prefix, *key).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None

    def check(self, *buckets: Bucket) -> None:
        seconds = self.wait(*buckets)
        if seconds is not None:
            raise TooManyAttempts(seconds)

    def failed(self, *buckets: Bucket) -> None:
        for item, key in buckets:
            self.limiter.limiter.hit(item, self.prefix, *key)


def login_limits() -> LoginLimits:
    return login_limits_of(current_app)


def minutes_to_wait(seconds: float) -> int:
    # Rounded, not ceiled: the counters keep whole-second timestamps, so a
    # fresh 15-minute window reads 900-901 s and must still say 15.
    return max(1, round(seconds / 60))


def init_app(app, settings) -> LoginLimits:
    """Before the channels: the IVR's operations are handed these limits, and
    each browser channel wraps its log-in view in the per-address one."""
    if settings.trusted_proxies:
        # Only as many X-Forwarded-For hops as proxies we were told about: the
        # address counted is the one our own outermost proxy saw.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)
    limiter = Limiter(
        key_func=get_remote_address, app=app, strategy="moving-window",
        storage_uri=settings.redis_url or "memory://", key_prefix=settings.rate_limit_prefix)
    limits = LoginLimits(limiter=limiter, per_caller=parse(settings.login_limit_per_caller),
                         per_credential=parse(settings.login_limit_per_credential),
                         prefix=settings.rate_limit_prefix)
    app.extensions["login_limits"] = limits
    _skip_unlimited_blueprints(app, limiter)
    return limits


# Blueprints no per-address limit applies to (`web.exempt`), per app.
UNLIMITED = "login_limits.unlimited_blueprints"


def not_limited(app, blueprint_name: str) -> None:
    """No request to this blueprint goes through Flask-Limiter's check."""
    app.extensions[UNLIMITED].add(blueprint_name)


def _skip_unlimited_blueprints(app, limiter: Limiter) -> None:
    """Flask-Limiter hooks every request app-wide (a check before, deductions
    and headers after, a context reset at teardown), even one to a blueprint
    it was told to exempt: about a tenth of a Twilio turn's CPU spent finding
    that no limit applies (bench/README.md). Every other request keeps all
    three; for the blueprints `not_limited` names they do not run. Skipping
    them is exact: such a request's limiter context stays empty, so the
    after-hook would deduct nothing and add no header."""
    unlimited = app.extensions[UNLIMITED] = set()

    def owned(function) -> bool:
        # The check and the reset are bound methods; the after-hook a partial.
        return getattr(function, "__self__", None) is limiter or \
            (isinstance(function, partial) and function.args[:1] == (limiter,))

    for hooks in (app.before_request_funcs, app.after_request_funcs,
                  app.teardown_request_funcs):
        replace_app_hook(hooks, owned, lambda hook: unless_blueprint(hook, unlimited),
                         name="Flask-Limiter")


def limit_per_address(app, endpoint: str) -> None:
    """A channel's log-in view (its POSTs only), once registered: failed
    log-ins (a 401) from one address are counted, LOGIN_LIMIT_PER_SOURCE."""
    per_source = login_limits_of(app).limiter.limit(
        app.extensions["settings"].login_limit_per_source, methods=["POST"],
        deduct_when=lambda response: response.status_code == 401)
    app.view_functions[endpoint] = per_source(app.view_functions[endpoint])


def login_limits_of(app) -> LoginLimits:
    return app.extensions["login_limits"]


def retry_after(exc: TooManyRequests) -> int:
    """Whole seconds until a refused log-in may be tried again (the 429 page
    says it in minutes, its Retry-After header in seconds)."""
    if isinstance(exc, TooManyAttempts):
        seconds = exc.seconds
    elif isinstance(exc, RateLimitExceeded) and login_limits().limiter.current_limit:
        seconds = login_limits().limiter.current_limit.reset_at - time.time()
    else:
        seconds = 60
    return max(1, math.ceil(seconds))
