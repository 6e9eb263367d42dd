"""The service is configured by IVR_* variables, with a safe embedded default."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr.config import DEV_ACCOUNT_SID, Config, ConfigError


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
    for name in ("secret-key", "dev-twilio-auth-token"):
        assert stat.S_IMODE((tmp_path / "var" / name).stat().st_mode) == 0o600
    # The same secrets are read back next time: state keys stay valid across restarts.
    assert Config.from_env({}, root=tmp_path).secret_key == config.secret_key


def test_every_variable_is_honoured(tmp_path: Path) -> None:
    env = {
        "IVR_DATABASE_URL": "postgresql+psycopg://db/ivr",
        "IVR_PUBLIC_URL": "https://hotline.example.org/",
        "IVR_TWILIO_ACCOUNT_SID": "AC" + "2" * 32,
        "IVR_TWILIO_AUTH_TOKEN": "tok",
        "IVR_TWILIO_API_URL": "http://127.0.0.1:8010/",
        "IVR_BIND": "127.0.0.2:9000",
        "IVR_FLOW": "appeal",
        "IVR_SECRET_KEY": "s" * 40,
        "IVR_STORAGE_URL": "s3://bucket/reports",
    }
    config = Config.from_env(env, root=tmp_path)
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
