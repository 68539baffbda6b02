"""structlog, configured once, with a processor that keeps secrets out of logs.

PCI DSS and the bank's own rules: NIPs, full card numbers and access keys never
reach a log line, whatever key a caller of the logger happened to use.
"""
from __future__ import annotations

import logging
import re
import sys

import structlog

# Keys whose values are secret wherever they appear in an event.
SECRET_KEYS = frozenset({
    "nip", "pin", "password", "passwd", "secret", "token", "auth_token", "pepper",
    "card", "card_number", "access_key", "authorization", "smtp_password", "digits",
    "nip_hash", "secret_hash", "cookie",
})
REDACTED = "[redacted]"
# A run of 8 or more digits inside any string (card numbers, access keys, keyed
# digits) is masked but for its last four. Deliberately \d, not [0-9]: masking
# errs wide, so a number keyed in fullwidth digits is masked too.
_LONG_DIGITS = re.compile(r"\d{8,}")


def _mask_digits(match: re.Match) -> str:
    digits = match.group(0)
    return "*" * (len(digits) - 4) + digits[-4:]


def redact_value(value):
    if isinstance(value, str):
        return _LONG_DIGITS.sub(_mask_digits, value)
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in SECRET_KEYS else redact_value(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


def redact_secrets(logger, method_name, event_dict):
    """structlog processor: drop secret keys, mask long digit runs everywhere."""
    return {
        key: (REDACTED if key.lower() in SECRET_KEYS else redact_value(value))
        for key, value in event_dict.items()
    }


_configured = False


def configure_logging(settings, *, force: bool = False) -> None:
    global _configured
    if _configured and not force:
        return
    level = getattr(logging, settings.log_level, logging.INFO)
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Resolved at each use, so a redirected stderr (a test's capture, a
        # daemon's log file) is honoured.
        logger_factory=lambda *args: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _configured = True
