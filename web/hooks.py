"""App-wide request hooks that a few blueprints skip.

Flask runs an app-wide hook (`before_request`, `after_request`,
`teardown_request`) for every request; an extension's (Flask-Limiter's,
Flask-WTF's) runs even for a blueprint it was told to exempt, only to find
that it has nothing to do. Twilio's turns pay for that on every turn
(bench/README.md), so such a hook is wrapped to not run at all for the
blueprints named.
"""
from __future__ import annotations

from functools import wraps

from flask import request


def blueprint_of_request() -> str:
    """The current request's blueprint ("" for none, or before routing).
    Flask's `request.blueprint` is the same, read through two properties and
    the context-local proxy each time; this reads the matched rule once."""
    rule = request._get_current_object().url_rule
    return "" if rule is None else rule.endpoint.rpartition(".")[0]


def unless_blueprint(hook, skipped: set[str]):
    """`hook`, run for every request but those to a blueprint in `skipped`
    (a set the caller may still add names to)."""
    @wraps(hook)
    def run_unless_skipped(*args):
        if blueprint_of_request() in skipped:
            return args[0] if args else None  # an after-hook returns its response
        return hook(*args)
    return run_unless_skipped


def replace_app_hook(hooks: dict, owned, wrap, *, name: str) -> None:
    """Wrap the one app-wide function in `hooks` (e.g. app.before_request_funcs)
    for which `owned(function)` holds."""
    functions = hooks.setdefault(None, [])
    found = [i for i, f in enumerate(functions) if owned(f)]
    if len(found) != 1:
        raise RuntimeError(f"{name}'s request hooks are not where expected")
    functions[found[0]] = wrap(functions[found[0]])
