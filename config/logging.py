"""structlog, configured once, with a processor that keeps secrets out of logs.

PCI DSS and the bank's own rules: NIPs, full card numbers and access keys never
reach a log line, whatever key a caller of the logger happened to use.
"""
from __future__ import annotations

import logging
import re
import sys
import traceback

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
# Twilio's resource ids (CallSid "CA" + 32 hex digits, and the like) are
# left whole: a call must be traceable in the logs, and about a quarter of
# CallSids hold a run of 8 digits somewhere in their hex.
_LONG_DIGITS = re.compile(r"(?P<sid>\b[A-Z]{2}[0-9a-f]{32}\b)|\d{8,}")
# Most texts hold no run of 8 digits at all, which one quick scan tells;
# only they are left as they are, so the result is the same.
_EIGHT_DIGITS = re.compile(r"\d{8}")


def _mask_digits(match: re.Match) -> str:
    if match.group("sid"):
        return match.group("sid")
    digits = match.group(0)
    return "*" * (len(digits) - 4) + digits[-4:]


def redact_value(value):
    if isinstance(value, str):
        if not _EIGHT_DIGITS.search(value):
            return value
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


def safe_traceback(logger, method_name, event_dict):
    """structlog processor, in place of format_exc_info: the traceback's frames
    and exception types, never the exceptions' messages. A message often
    quotes the input that caused it (`invalid literal for int(): '1357'`), and
    no pattern can tell a NIP from any other four digits."""
    exc_info = event_dict.pop("exc_info", None)
    if not exc_info:
        return event_dict
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if exc_info[0] is not None:
        event_dict["exception"] = "".join(_frames_without_messages(exc_info[1]))
    return event_dict


def _frames_without_messages(exc: BaseException, seen=None) -> list[str]:
    seen = seen if seen is not None else set()
    seen.add(id(exc))
    lines: list[str] = []
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if cause is not None and id(cause) not in seen:
        lines += _frames_without_messages(cause, seen)
        lines.append("\nDuring handling of the above exception, another exception occurred:\n\n"
                     if exc.__cause__ is None else
                     "\nThe above exception was the direct cause of the following exception:\n\n")
    lines.append("Traceback (most recent call last):\n")
    lines += traceback.format_tb(exc.__traceback__)
    kind = type(exc)
    lines.append(f"{kind.__module__}.{kind.__qualname__}: [message withheld]\n")
    return lines


class _StderrHandler(logging.Handler):
    """The standard library's records (Flask's, werkzeug's, SQLAlchemy's),
    rendered by structlog with the same redaction, to whatever sys.stderr is
    now (a test's capture, a daemon's log file)."""

    def emit(self, record):
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


_configured = False
_level = logging.INFO  # the configured LOG_LEVEL (configure_logging)


def enabled(level: int) -> bool:
    """Whether an event at `level` is logged. structlog's filtering loggers
    drop it all the same; asking first spares a line on every IVR turn the
    cost of binding a logger only to drop the event (bench/README.md)."""
    return level >= _level


def configure_logging(settings, *, force: bool = False) -> None:
    global _configured, _level
    if _configured and not force:
        return
    level = _level = getattr(logging, settings.log_level, logging.INFO)
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        safe_traceback,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Resolved at each use, so a redirected stderr (a test's capture, a
        # daemon's log file) is honoured.
        logger_factory=lambda *args: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Flask's and werkzeug's own loggers go through the same processors: a
    # traceback Flask logs for a failed request is redacted like any event.
    handler = _StderrHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name,
                           structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    _configured = True
