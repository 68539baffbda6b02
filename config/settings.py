"""Typed settings with defaults, each read from one environment variable."""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from limits import parse_many

from banking_core.digits import is_ascii_digits, parse_int
from banking_core.money import parse_pesos
from config import instance_secrets
from config.hours import parse_hours

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Banxico's Circular 1/2006 never allows more than five consecutive failed
# access attempts without an automatic block.
MAX_FAILED_ATTEMPTS_CEILING = 5

# Secrets have no default in the code: production must be given each one;
# elsewhere the instance draws its own (config/instance_secrets.py).
MIN_SECRET_LENGTH = {"SECRET_KEY": 32, "NIP_PEPPER": 32}


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _text(raw: str) -> str:
    return raw


def _integer(raw: str) -> int:
    # Digits 0-9 only: int() would also read "１２", "1_0" or "+5" (banking_core/digits.py).
    return parse_int(raw.strip())


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


def _pesos(raw: str) -> int:
    # Limits are written in pesos by operators ("20000" or "20000.50") and kept
    # as integer centavos; money never passes through a float.
    return parse_pesos(raw)


def _read(env: Mapping[str, str], name: str, parse: Callable[[str], object], default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except (ValueError, ArithmeticError) as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _check_public_base_url(url: str, *, production: bool) -> None:
    """Twilio signs each webhook over the URL it requested; we check it against
    this base, so a base without a scheme or with a query would refuse every
    webhook with 403."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"PUBLIC_BASE_URL: must be an absolute http(s) URL such as "
                          f"https://linea.example.mx, got {url!r}")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ConfigError("PUBLIC_BASE_URL: no query, fragment or credentials: only "
                          "scheme, host, port and path")
    if production and parts.scheme != "https":
        raise ConfigError("PUBLIC_BASE_URL: set the https URL Twilio reaches this app at "
                          f"(it signs every webhook with it), got {url!r}")


def _fill_secrets(values: dict) -> None:
    """Outside production, each secret not given is the instance's own (drawn
    on first run, kept under instance/). Production is never filled in."""
    if values["environment"] == "production":
        return
    fields = {"SECRET_KEY": "secret_key", "NIP_PEPPER": "nip_pepper",
              "TWILIO_AUTH_TOKEN": "twilio_auth_token"}
    if all(values.get(field) for field in fields.values()):
        return
    try:
        own = instance_secrets.load_or_create(values["instance_path"])
    except (OSError, instance_secrets.InstanceSecretsError) as exc:
        raise ConfigError(f"IVR_INSTANCE_PATH: cannot keep the instance's secrets: {exc}") \
            from None
    for name, field in fields.items():
        if not values.get(field):
            values[field] = own[name]


def _check_rate_limit(name: str, value: str) -> None:
    """One limit in the `limits` library's words, e.g. "5 per 15 minutes"."""
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if len(items) != 1 or items[0].amount < 1:
        raise ConfigError(f"{name}: one limit such as \"5 per 15 minutes\", got {value!r}")


@dataclasses.dataclass(frozen=True)
class Settings:
    environment: str = "development"
    instance_path: Path = PROJECT_ROOT / "instance"
    database_url: str = ""
    redis_url: str = ""
    twilio_auth_token: str = ""
    agent_queue: str = "ejecutivos"
    ivr_language: str = "es-MX"
    ivr_voice: str = ""  # empty: the prompt file's voice
    ivr_prompt_mode: str = "say"  # say: Twilio's <Say>; play: our recordings (ivr/audio/)
    audio_dir: Path = PROJECT_ROOT / "audio"
    public_base_url: str = "http://127.0.0.1:5000"
    secret_key: str = ""
    nip_pepper: str = ""
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    max_failed_attempts: int = 3
    bank_timezone: str = "America/Mexico_City"
    clabe_bank_code: str = "999"
    clabe_plaza_code: str = "180"
    daily_limit_phone: int = 2_000_000
    daily_limit_web: int = 5_000_000
    daily_limit_agent: int = 2_000_000
    daily_limit_domiciliacion: int = 5_000_000
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Línea Directa <notificaciones@lineadirecta.example>"
    log_format: str = "console"
    log_level: str = "INFO"
    web_session_idle_minutes: int = 10
    agent_hours: str = "mon-sun 00:00-24:00"
    max_queue_minutes: int = 10
    hold_music_url: str = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
    twilio_account_sid: str = ""
    # The desk's softphone (agent_desk/phone.py): an API key and its secret sign
    # the agents' access tokens; the TwiML App routes the calls their browsers place.
    twilio_api_key: str = ""
    twilio_api_secret: str = ""
    twilio_twiml_app_sid: str = ""

    @property
    def softphone_configured(self) -> bool:
        """The desk's browser phone can get access tokens from Twilio."""
        return all(self._softphone_settings().values())

    def _softphone_settings(self) -> dict[str, str]:
        return {"TWILIO_ACCOUNT_SID": self.twilio_account_sid,
                "TWILIO_API_KEY": self.twilio_api_key,
                "TWILIO_API_SECRET": self.twilio_api_secret,
                "TWILIO_TWIML_APP_SID": self.twilio_twiml_app_sid}
    web_cookie_secure: bool = True
    # Failed log-ins allowed per window (limits' syntax, "5 per 15 minutes"),
    # counted per source IP (web and desk), per caller number (phone) and per
    # credential (access key, card, account, agent username) on every channel.
    login_limit_per_source: str = "10 per 15 minutes"
    login_limit_per_caller: str = "5 per 15 minutes"
    login_limit_per_credential: str = "5 per 15 minutes"
    rate_limit_prefix: str = "ld-limits"
    # Billers' API requests per source address (docs/biller-notifications.md);
    # refused ones (401) also count against LOGIN_LIMIT_PER_SOURCE.
    biller_api_limit: str = "120 per minute"
    # How many reverse proxies in front set X-Forwarded-For: none unless said,
    # or anyone could pick the address their tries are counted under.
    trusted_proxies: int = 0
    # /metrics asks for `Authorization: Bearer <this>`; unset, it answers only
    # requests made straight to the app from its own host (linea_directa/ops.py).
    metrics_token: str = ""
    # /readyz fails when more confirmation e-mails than this wait in the outbox.
    readyz_max_outbox_pending: int = 500

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def outbox_dir(self) -> Path:
        return self.instance_path / "outbox"

    def daily_limit(self, channel: str) -> int:
        return {
            "phone": self.daily_limit_phone,
            "web": self.daily_limit_web,
            "agent": self.daily_limit_agent,
            "domiciliacion": self.daily_limit_domiciliacion,
        }[channel]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        environment = _read(env, "IVR_ENV", _text, "development")
        if env.get("TASKROUTER_WORKFLOW_SID"):
            # Refused rather than ignored: an operator who set it expects it to work.
            raise ConfigError("TASKROUTER_WORKFLOW_SID: TaskRouter is not supported; callers "
                              "wait in AGENT_QUEUE and agents take them on the desk")
        instance_path = Path(_read(env, "IVR_INSTANCE_PATH", _text, str(cls.instance_path)))
        values = dict(
            environment=environment,
            instance_path=instance_path,
            database_url=_read(
                env, "DATABASE_URL", _text, f"sqlite:///{instance_path / 'linea_directa.db'}"
            ),
            redis_url=_read(env, "REDIS_URL", _text, ""),
            twilio_auth_token=_read(env, "TWILIO_AUTH_TOKEN", _text, ""),
            agent_queue=_read(env, "AGENT_QUEUE", _text, cls.agent_queue),
            ivr_language=_read(env, "IVR_LANGUAGE", _text, cls.ivr_language),
            ivr_voice=_read(env, "IVR_VOICE", _text, ""),
            ivr_prompt_mode=_read(env, "IVR_PROMPT_MODE", _text, cls.ivr_prompt_mode).lower(),
            audio_dir=Path(_read(env, "IVR_AUDIO_DIR", _text, str(cls.audio_dir))),
            public_base_url=_read(env, "PUBLIC_BASE_URL", _text, cls.public_base_url).rstrip("/"),
            secret_key=_read(env, "SECRET_KEY", _text, ""),
            nip_pepper=_read(env, "NIP_PEPPER", _text, ""),
            argon2_time_cost=_read(env, "ARGON2_TIME_COST", _integer, cls.argon2_time_cost),
            argon2_memory_kib=_read(env, "ARGON2_MEMORY_KIB", _integer, cls.argon2_memory_kib),
            max_failed_attempts=_read(
                env, "MAX_FAILED_ATTEMPTS", _integer, cls.max_failed_attempts
            ),
            bank_timezone=_read(env, "BANK_TIMEZONE", _text, cls.bank_timezone),
            clabe_bank_code=_read(env, "CLABE_BANK_CODE", _text, cls.clabe_bank_code),
            clabe_plaza_code=_read(env, "CLABE_PLAZA_CODE", _text, cls.clabe_plaza_code),
            daily_limit_phone=_read(env, "DAILY_LIMIT_PHONE", _pesos, cls.daily_limit_phone),
            daily_limit_web=_read(env, "DAILY_LIMIT_WEB", _pesos, cls.daily_limit_web),
            daily_limit_agent=_read(env, "DAILY_LIMIT_AGENT", _pesos, cls.daily_limit_agent),
            daily_limit_domiciliacion=_read(env, "DAILY_LIMIT_DOMICILIACION", _pesos,
                                            cls.daily_limit_domiciliacion),
            smtp_host=_read(env, "SMTP_HOST", _text, ""),
            smtp_port=_read(env, "SMTP_PORT", _integer, cls.smtp_port),
            smtp_username=_read(env, "SMTP_USERNAME", _text, ""),
            smtp_password=_read(env, "SMTP_PASSWORD", _text, ""),
            smtp_starttls=_read(env, "SMTP_STARTTLS", _boolean, False),
            mail_from=_read(env, "MAIL_FROM", _text, cls.mail_from),
            log_format=_read(
                env, "LOG_FORMAT", _text, "json" if environment == "production" else "console"
            ),
            log_level=_read(env, "LOG_LEVEL", _text, "INFO").upper(),
            agent_hours=_read(env, "AGENT_HOURS", _text, cls.agent_hours),
            max_queue_minutes=_read(env, "MAX_QUEUE_MINUTES", _integer, cls.max_queue_minutes),
            hold_music_url=_read(env, "HOLD_MUSIC_URL", _text, cls.hold_music_url),
            twilio_account_sid=_read(env, "TWILIO_ACCOUNT_SID", _text, ""),
            twilio_api_key=_read(env, "TWILIO_API_KEY", _text, ""),
            twilio_api_secret=_read(env, "TWILIO_API_SECRET", _text, ""),
            twilio_twiml_app_sid=_read(env, "TWILIO_TWIML_APP_SID", _text, ""),
            web_session_idle_minutes=_read(env, "WEB_SESSION_IDLE_MINUTES", _integer,
                                           cls.web_session_idle_minutes),
            # Session cookies go over HTTPS only, except on a developer's
            # plain-http localhost.
            web_cookie_secure=_read(env, "WEB_COOKIE_SECURE", _boolean,
                                    environment != "development"),
            login_limit_per_source=_read(env, "LOGIN_LIMIT_PER_SOURCE", _text,
                                         cls.login_limit_per_source),
            login_limit_per_caller=_read(env, "LOGIN_LIMIT_PER_CALLER", _text,
                                         cls.login_limit_per_caller),
            login_limit_per_credential=_read(env, "LOGIN_LIMIT_PER_CREDENTIAL", _text,
                                             cls.login_limit_per_credential),
            rate_limit_prefix=_read(env, "RATE_LIMIT_PREFIX", _text, cls.rate_limit_prefix),
            biller_api_limit=_read(env, "BILLER_API_LIMIT", _text, cls.biller_api_limit),
            trusted_proxies=_read(env, "TRUSTED_PROXIES", _integer, cls.trusted_proxies),
            metrics_token=_read(env, "METRICS_TOKEN", _text, ""),
            readyz_max_outbox_pending=_read(env, "READYZ_MAX_OUTBOX_PENDING", _integer,
                                            cls.readyz_max_outbox_pending),
        )
        values.update(overrides)
        _fill_secrets(values)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.environment not in {"development", "test", "production"}:
            raise ConfigError("IVR_ENV: must be development, test or production")
        if not 1 <= self.max_failed_attempts <= MAX_FAILED_ATTEMPTS_CEILING:
            raise ConfigError(
                "MAX_FAILED_ATTEMPTS: must be between 1 and "
                f"{MAX_FAILED_ATTEMPTS_CEILING} (Banxico Circular 1/2006)"
            )
        if self.argon2_time_cost < 1 or self.argon2_memory_kib < 8:
            raise ConfigError("ARGON2_TIME_COST / ARGON2_MEMORY_KIB: too small")
        for name, code in (("CLABE_BANK_CODE", self.clabe_bank_code),
                           ("CLABE_PLAZA_CODE", self.clabe_plaza_code)):
            if not is_ascii_digits(code, length=3):
                raise ConfigError(f"{name}: must be exactly 3 digits")
        if self.ivr_prompt_mode not in {"say", "play"}:
            raise ConfigError("IVR_PROMPT_MODE: must be say or play")
        if self.log_format not in {"json", "console"}:
            raise ConfigError("LOG_FORMAT: must be json or console")
        try:
            parse_hours(self.agent_hours)
        except ValueError as exc:
            raise ConfigError(f"AGENT_HOURS: {exc}") from None
        if not 1 <= self.max_queue_minutes <= 60:
            raise ConfigError("MAX_QUEUE_MINUTES: must be between 1 and 60")
        if self.twilio_account_sid and not re.fullmatch(r"AC[0-9a-f]{32}",
                                                        self.twilio_account_sid):
            raise ConfigError("TWILIO_ACCOUNT_SID: must look like AC followed by 32 hex digits")
        if self.twilio_api_key and not re.fullmatch(r"SK[0-9a-f]{32}", self.twilio_api_key):
            raise ConfigError("TWILIO_API_KEY: must look like SK followed by 32 hex digits")
        if self.twilio_twiml_app_sid and not re.fullmatch(r"AP[0-9a-f]{32}",
                                                          self.twilio_twiml_app_sid):
            raise ConfigError("TWILIO_TWIML_APP_SID: must look like AP followed by 32 hex digits")
        # The account SID alone has a use of its own (the desk's call control);
        # any of the phone's own three asks for all four, or the phone half-works.
        softphone = self._softphone_settings()
        missing = [name for name, value in softphone.items() if not value]
        if missing and any(softphone[name] for name in list(softphone)[1:]):
            raise ConfigError(f"{', '.join(missing)}: missing; the desk's phone needs "
                              f"{', '.join(softphone)} together")
        if not 1 <= self.web_session_idle_minutes <= 60:
            raise ConfigError("WEB_SESSION_IDLE_MINUTES: must be between 1 and 60")
        if self.is_production and not self.web_cookie_secure:
            raise ConfigError("WEB_COOKIE_SECURE: must stay on in production")
        for name in ("login_limit_per_source", "login_limit_per_caller",
                     "login_limit_per_credential", "biller_api_limit"):
            _check_rate_limit(name.upper(), getattr(self, name))
        if not self.rate_limit_prefix or not re.fullmatch(r"[A-Za-z0-9:_.-]+",
                                                          self.rate_limit_prefix):
            raise ConfigError("RATE_LIMIT_PREFIX: letters, digits and : _ . - only")
        if not 0 <= self.trusted_proxies <= 5:
            raise ConfigError("TRUSTED_PROXIES: must be between 0 (no proxy) and 5")
        if self.metrics_token and len(self.metrics_token) < 32:
            raise ConfigError("METRICS_TOKEN: set a random token of at least 32 characters")
        if self.readyz_max_outbox_pending < 1:
            raise ConfigError("READYZ_MAX_OUTBOX_PENDING: must be at least 1")
        for channel in ("phone", "web", "agent", "domiciliacion"):
            if self.daily_limit(channel) <= 0:
                raise ConfigError(f"DAILY_LIMIT_{channel.upper()}: must be positive")
        secrets = {"SECRET_KEY": self.secret_key, "NIP_PEPPER": self.nip_pepper,
                   "TWILIO_AUTH_TOKEN": self.twilio_auth_token}
        missing = [name for name, value in secrets.items() if not value]
        if missing:
            raise ConfigError(f"{', '.join(missing)}: missing; production needs each secret "
                              "set explicitly (e.g. `python -c 'import secrets; "
                              "print(secrets.token_hex(32))'`); elsewhere the instance "
                              "draws its own")
        for name, length in MIN_SECRET_LENGTH.items():
            if len(secrets[name]) < length:
                raise ConfigError(f"{name}: set a random secret of at least {length} characters")
        _check_public_base_url(self.public_base_url, production=self.is_production)
        try:

            ZoneInfo(self.bank_timezone)
        except Exception:
            raise ConfigError(f"BANK_TIMEZONE: unknown time zone {self.bank_timezone!r}") from None
