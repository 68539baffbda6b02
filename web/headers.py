"""Security headers every response carries, whichever part of the app answers
(pages, JSON, static files, TwiML, errors).

The Content-Security-Policy allows our own files only and nothing inline:
an injected `<script>` or `onclick=` is refused by the browser even if some
escaping is ever missed. A page that needs more (the desk's phone reaches
Twilio) builds its own policy with `content_security_policy(...)` and sets it
in the view; the defaults here never overwrite a header a view set."""
from __future__ import annotations

from collections.abc import Iterable

# Directive -> sources. `img-src data:` is for the small inline images browsers
# themselves use (form controls, favicons); no script or style may be inline.
BASE_POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'", "data:"),
    "object-src": ("'none'",),
    "base-uri": ("'none'",),
    "frame-ancestors": ("'none'",),
    "form-action": ("'self'",),
}


def content_security_policy(extra: dict[str, Iterable[str]] | None = None) -> str:
    """The base policy, with `extra` sources added to (or directives added after)
    the base ones; a directive absent from both falls back to default-src."""
    directives = {name: list(sources) for name, sources in BASE_POLICY.items()}
    for name, sources in (extra or {}).items():
        have = directives.setdefault(name, ["'self'"])
        have.extend(source for source in sources if source not in have)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": content_security_policy(),
    # same-origin, not no-referrer: Flask-WTF's CSRF check over HTTPS requires
    # our own pages' form posts to carry a same-origin Referer; other sites are
    # never told which of our pages (with a folio in its path) linked to them.
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
}


_BY_LOWER_NAME = tuple((name.lower(), name, value) for name, value in SECURITY_HEADERS.items())
if any("\r" in value or "\n" in value for value in SECURITY_HEADERS.values()):
    raise ValueError("a security header's value holds a newline")


def add_security_headers(response):
    # One pass over the response's few headers, not one setdefault (a scan
    # each) per default: this runs on every Twilio turn too (bench/README.md).
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    missing = [(name, value) for lower, name, value in _BY_LOWER_NAME if lower not in present]
    stored = getattr(headers, "_list", None)
    if isinstance(stored, list):
        # werkzeug's Headers keeps its (name, value) pairs in `_list`; its
        # extend() checks every value for newlines again, each time (about
        # 4% of a Twilio turn's instructions). These are our constants,
        # checked once, above.
        stored.extend(missing)
    else:
        headers.extend(missing)
    return response


def init_app(app) -> None:
    # App-level after_request runs after every blueprint's, so a view's or a
    # blueprint's own header (the phone's policy) is already there and kept.
    app.after_request(add_security_headers)
