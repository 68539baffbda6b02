import pytest

from config import ConfigError, Settings


def test_defaults_need_nothing_installed(tmp_path):
    settings = Settings.from_env({"IVR_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'linea_directa.db'}"
    assert settings.redis_url == ""
    assert settings.max_failed_attempts == 3
    assert settings.log_format == "console"


def test_values_are_typed():
    settings = Settings.from_env({
        "MAX_FAILED_ATTEMPTS": "5", "SMTP_PORT": "2525", "SMTP_STARTTLS": "yes",
        "DAILY_LIMIT_PHONE": "15000.50", "PUBLIC_BASE_URL": "https://ivr.example/",
    })
    assert settings.max_failed_attempts == 5
    assert settings.smtp_port == 2525 and settings.smtp_starttls is True
    assert settings.daily_limit("phone") == 1_500_050
    assert settings.public_base_url == "https://ivr.example"


@pytest.mark.parametrize("value", ["6", "0", "-1"])
def test_the_block_threshold_never_exceeds_five(value):
    with pytest.raises(ConfigError, match="MAX_FAILED_ATTEMPTS"):
        Settings.from_env({"MAX_FAILED_ATTEMPTS": value})


@pytest.mark.parametrize("name, value", [
    ("SMTP_PORT", "twenty"), ("SMTP_STARTTLS", "maybe"), ("DAILY_LIMIT_WEB", "1.234"),
    ("BANK_TIMEZONE", "Mars/Olympus"), ("LOG_FORMAT", "xml"), ("CLABE_BANK_CODE", "12"),
    ("WEB_SESSION_IDLE_MINUTES", "0"), ("WEB_SESSION_IDLE_MINUTES", "ten"),
    ("WEB_COOKIE_SECURE", "perhaps"), ("AGENT_HOURS", "siempre"), ("MAX_QUEUE_MINUTES", "0"),
    ("TWILIO_ACCOUNT_SID", "not-a-sid"),
])
def test_a_malformed_setting_names_its_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_production_refuses_development_secrets():
    with pytest.raises(ConfigError, match="NIP_PEPPER"):
        Settings.from_env({"IVR_ENV": "production"})
    ok = Settings.from_env({
        "IVR_ENV": "production", "NIP_PEPPER": "x" * 40, "SECRET_KEY": "s" * 40,
        "TWILIO_AUTH_TOKEN": "t" * 32, "PUBLIC_BASE_URL": "https://linea.example.mx",
    })
    assert ok.is_production and ok.log_format == "json"


def test_serving_without_redis_keeps_every_turn_in_one_process():
    from linea_directa.cli import server_layout

    assert server_layout(Settings.from_env({}), 2)[:2] == (1, 4)
    assert server_layout(Settings.from_env({"REDIS_URL": "redis://127.0.0.1:6379/0"}), 2) \
        == (2, 1, "")


def test_session_cookies_are_secure_except_on_a_developers_localhost():
    assert Settings.from_env({}).web_cookie_secure is False  # development: plain http
    assert Settings.from_env({"IVR_ENV": "test"}).web_cookie_secure is True
    production = {"IVR_ENV": "production", "NIP_PEPPER": "x" * 40, "SECRET_KEY": "s" * 40,
                  "TWILIO_AUTH_TOKEN": "t" * 32, "PUBLIC_BASE_URL": "https://linea.example.mx"}
    assert Settings.from_env(production).web_cookie_secure is True
    with pytest.raises(ConfigError, match="WEB_COOKIE_SECURE"):
        Settings.from_env({**production, "WEB_COOKIE_SECURE": "0"})


PRODUCTION = {"IVR_ENV": "production", "NIP_PEPPER": "x" * 40, "SECRET_KEY": "s" * 40,
              "TWILIO_AUTH_TOKEN": "t" * 32}


@pytest.mark.parametrize("url", ["linea.example.mx", "ftp://linea.example.mx", "https://",
                                 "https://linea.example.mx/?a=1", "https://u:p@linea.example.mx"])
def test_a_public_base_url_twilio_could_not_sign_is_refused(url):
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"PUBLIC_BASE_URL": url})


def test_production_needs_its_https_public_base_url():
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL: set the https URL"):
        Settings.from_env(PRODUCTION)  # the development default would 403 every webhook
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        Settings.from_env({**PRODUCTION, "PUBLIC_BASE_URL": "http://linea.example.mx"})
    ok = Settings.from_env({**PRODUCTION, "PUBLIC_BASE_URL": "https://linea.example.mx/"})
    assert ok.public_base_url == "https://linea.example.mx"


def test_taskrouter_mode_is_refused_by_name_not_ignored():
    with pytest.raises(ConfigError, match="TASKROUTER_WORKFLOW_SID"):
        Settings.from_env({"TASKROUTER_WORKFLOW_SID": "WW" + "a" * 32})


# ---- the desk's softphone -----------------------------------------------------
SOFTPHONE = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_API_KEY": "SK" + "2a" * 16,
             "TWILIO_API_SECRET": "ApiKeySecret0123456789abcdefGHIJ",
             "TWILIO_TWIML_APP_SID": "AP" + "3b" * 16}


def test_the_softphone_is_configured_only_with_all_four_settings():
    settings = Settings.from_env(SOFTPHONE)
    assert settings.softphone_configured
    assert (settings.twilio_api_key, settings.twilio_api_secret, settings.twilio_twiml_app_sid) \
        == ("SK" + "2a" * 16, "ApiKeySecret0123456789abcdefGHIJ", "AP" + "3b" * 16)
    assert not Settings.from_env({}).softphone_configured
    # The account SID alone serves the desk's call control: no phone, and no error.
    alone = Settings.from_env({"TWILIO_ACCOUNT_SID": SOFTPHONE["TWILIO_ACCOUNT_SID"]})
    assert not alone.softphone_configured


@pytest.mark.parametrize("left_out", [
    ("TWILIO_API_SECRET",), ("TWILIO_ACCOUNT_SID",), ("TWILIO_API_KEY", "TWILIO_TWIML_APP_SID"),
    ("TWILIO_ACCOUNT_SID", "TWILIO_API_KEY", "TWILIO_API_SECRET"),
])
def test_a_half_configured_softphone_names_the_missing_settings(left_out):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({k: v for k, v in SOFTPHONE.items() if k not in left_out})
    named, _, explanation = str(refused.value).partition(": ")
    assert named.split(", ") == list(left_out)
    assert "together" in explanation


@pytest.mark.parametrize("name, value", [
    ("TWILIO_API_KEY", "SK" + "g" * 32), ("TWILIO_API_KEY", "AC" + "2" * 32),
    ("TWILIO_TWIML_APP_SID", "AP123"), ("TWILIO_TWIML_APP_SID", "SK" + "3" * 32),
])
def test_a_malformed_softphone_sid_names_its_variable(name, value):
    with pytest.raises(ConfigError, match=f"^{name}: must look like"):
        Settings.from_env(dict(SOFTPHONE, **{name: value}))
