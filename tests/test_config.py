"""The service is configured by IVR_* variables, with a safe embedded default."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr.config import DEV_ACCOUNT_SID, Config, ConfigError, Tier


def test_defaults_need_no_setup_and_keep_secrets_private(tmp_path: Path) -> None:
    config = Config.from_env({}, root=tmp_path)
    assert config.database_url == f"sqlite:///{tmp_path / 'var' / 'ivr.sqlite3'}"
    assert (config.public_url, config.bind, config.flow) == (
        "http://127.0.0.1:8000",
        "127.0.0.1:8000",
        "hotline",
    )
    assert config.twilio_api_url == "https://api.twilio.com"
    assert config.twilio_account_sid == DEV_ACCOUNT_SID
    assert config.flow_path == tmp_path / "call_flows" / "hotline.yaml"
    assert config.tier is Tier.ALL
    assert config.console_secret_key != config.secret_key
    for name in ("secret-key", "console-secret-key", "dev-twilio-auth-token"):
        assert stat.S_IMODE((tmp_path / "var" / name).stat().st_mode) == 0o600
    # The same secrets are read back next time: state keys stay valid across restarts.
    assert Config.from_env({}, root=tmp_path).secret_key == config.secret_key


def test_every_variable_is_honoured(tmp_path: Path) -> None:
    env = {
        "IVR_DATABASE_URL": "postgresql+psycopg://ivr@db/ivr",
        "IVR_PUBLIC_URL": "https://hotline.example.org/",
        "IVR_TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
        "IVR_TWILIO_AUTH_TOKEN": "tok",
        "IVR_TWILIO_API_URL": "http://127.0.0.1:8010/",
        "IVR_BIND": "127.0.0.2:9000",
        "IVR_FLOW": "appeal",
        "IVR_SECRET_KEY": "s" * 40,
        "IVR_CONSOLE_SECRET_KEY": "c" * 40,
        "IVR_STORAGE_URL": "s3://bucket/reports",
        "IVR_S3_KMS_KEY_ID": "alias/at-rest",
        "IVR_METRICS_TOKEN": "scrape",
        "IVR_DATABASE_PASSWORD": "p@ss/word",
    }
    config = Config.from_env(env, root=tmp_path)
    # A password kept apart (a secret) is put into the URL, quoted.
    assert config.database_url == "postgresql+psycopg://ivr:p%40ss%2Fword@db/ivr"
    assert (config.s3_kms_key_id, config.metrics_token) == ("alias/at-rest", "scrape")
    assert config.public_base == "https://hotline.example.org"
    assert (config.bind_host, config.bind_port) == ("127.0.0.2", 9000)
    assert config.twilio_api_url == "http://127.0.0.1:8010"
    assert config.flow_path.name == "appeal.yaml"
    assert (config.twilio_auth_token, config.secret_key, config.storage_url) == (
        "tok",
        b"s" * 40,
        "s3://bucket/reports",
    )
    assert not (tmp_path / "var").exists()  # nothing generated when secrets are given


def test_a_malformed_setting_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="IVR_PUBLIC_URL must be an http"):
        Config.from_env({"IVR_PUBLIC_URL": "hotline.example.org"}, root=tmp_path)
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        Config.from_env({"IVR_SECRET_KEY": "short"}, root=tmp_path)


EDGE = {
    "IVR_TIER": "edge",
    "IVR_TWILIO_AUTH_TOKEN": "tok",
    "IVR_SECRET_KEY": "s" * 32,
}
CONSOLE = {"IVR_TIER": "console", "IVR_CONSOLE_SECRET_KEY": "c" * 32}


def test_each_tier_is_given_only_its_own_secrets(tmp_path: Path) -> None:
    edge = Config.from_env(EDGE, root=tmp_path)
    assert (edge.serves_webhooks, edge.serves_console) == (True, False)
    assert edge.console_secret_key == b""
    console = Config.from_env(CONSOLE, root=tmp_path)
    assert (console.serves_webhooks, console.serves_console) == (False, True)
    assert (console.secret_key, console.twilio_auth_token) == (b"", "")
    # A deployed tier makes no secrets of its own: it is given them.
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({**EDGE, "IVR_CONSOLE_SECRET_KEY": "c" * 32}, "IVR_CONSOLE_SECRET_KEY belong"),
        ({**EDGE, "IVR_SMTP_URL": "smtp://relay:25"}, "IVR_SMTP_URL belong"),
        ({**CONSOLE, "IVR_SECRET_KEY": "s" * 32}, "IVR_SECRET_KEY belong"),
        ({**CONSOLE, "IVR_TWILIO_AUTH_TOKEN": "tok"}, "IVR_TWILIO_AUTH_TOKEN belong"),
        ({"IVR_TIER": "edge", "IVR_TWILIO_AUTH_TOKEN": "tok"}, "IVR_SECRET_KEY is required"),
        ({"IVR_TIER": "console"}, "IVR_CONSOLE_SECRET_KEY is required"),
        ({"IVR_TIER": "middle"}, "IVR_TIER must be edge, console or all"),
        ({"IVR_CONSOLE": "off"}, "IVR_CONSOLE is replaced by IVR_TIER"),
    ],
)
def test_a_tier_refuses_the_other_tiers_settings_at_start_up(
    tmp_path: Path, env: dict[str, str], refusal: str
) -> None:
    with pytest.raises(ConfigError, match=refusal):
        Config.from_env(env, root=tmp_path)


def test_the_console_session_key_is_never_the_edge_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must differ"):
        Config.from_env(
            {"IVR_SECRET_KEY": "s" * 32, "IVR_CONSOLE_SECRET_KEY": "s" * 32}, root=tmp_path
        )
