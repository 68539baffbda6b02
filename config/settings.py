"""Typed settings with defaults, each read from one environment variable."""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit

from banking_core.digits import is_ascii_digits, parse_int
from config.hours import parse_hours

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Banxico's Circular 1/2006 never allows more than five consecutive failed
# access attempts without an automatic block.
MAX_FAILED_ATTEMPTS_CEILING = 5

_DEV_PEPPER = "development-pepper-not-for-production"
_DEV_TWILIO_TOKEN = "development-twilio-token"


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
    from banking_core.money import parse_pesos

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
    secret_key: str = "development-secret-key"
    nip_pepper: str = _DEV_PEPPER
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    max_failed_attempts: int = 3
    bank_timezone: str = "America/Mexico_City"
    clabe_bank_code: str = "999"
    clabe_plaza_code: str = "180"
    daily_limit_phone: int = 2_000_000
    daily_limit_web: int = 5_000_000
    daily_limit_agent: int = 2_000_000
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
            # Outside production a fixed token lets local tools (tests, the
            # softphone) sign requests; production must set the real one.
            twilio_auth_token=_read(env, "TWILIO_AUTH_TOKEN", _text,
                                    "" if environment == "production" else _DEV_TWILIO_TOKEN),
            agent_queue=_read(env, "AGENT_QUEUE", _text, cls.agent_queue),
            ivr_language=_read(env, "IVR_LANGUAGE", _text, cls.ivr_language),
            ivr_voice=_read(env, "IVR_VOICE", _text, ""),
            ivr_prompt_mode=_read(env, "IVR_PROMPT_MODE", _text, cls.ivr_prompt_mode).lower(),
            audio_dir=Path(_read(env, "IVR_AUDIO_DIR", _text, str(cls.audio_dir))),
            public_base_url=_read(env, "PUBLIC_BASE_URL", _text, cls.public_base_url).rstrip("/"),
            secret_key=_read(env, "SECRET_KEY", _text, cls.secret_key),
            nip_pepper=_read(env, "NIP_PEPPER", _text, _DEV_PEPPER),
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
        )
        values.update(overrides)
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
        for channel in ("phone", "web", "agent"):
            if self.daily_limit(channel) <= 0:
                raise ConfigError(f"DAILY_LIMIT_{channel.upper()}: must be positive")
        if self.is_production:
            if self.nip_pepper == _DEV_PEPPER or len(self.nip_pepper) < 32:
                raise ConfigError("NIP_PEPPER: set a random secret of at least 32 characters")
            if self.secret_key == Settings.secret_key:
                raise ConfigError("SECRET_KEY: set a random secret in production")
            if not self.twilio_auth_token:
                raise ConfigError("TWILIO_AUTH_TOKEN: required in production")
        _check_public_base_url(self.public_base_url, production=self.is_production)
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.bank_timezone)
        except Exception:
            raise ConfigError(f"BANK_TIMEZONE: unknown time zone {self.bank_timezone!r}") from None
