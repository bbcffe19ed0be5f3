from __future__ import annotations

from pathlib import Path

import pytest

from mcp_server.config import load_settings
from mcp_server.errors import ConfigError


def test_toml_file_is_overlaid_by_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "authmcp.toml"
    config.write_text(
        'public_url = "https://mcp.example.com/"\nuser_id = "from-file"\n'
        '[providers.google]\nclient_id = "file-id"\nclient_secret = "file-secret"\n'
        '[secrets]\nSERPAPI_KEY = "k"\n'
    )
    monkeypatch.setenv("AUTHMCP_USER_ID", "from-env")
    monkeypatch.setenv("AUTHMCP_PROVIDERS__GOOGLE__CLIENT_ID", "env-id")
    settings = load_settings(config)
    assert settings.user_id == "from-env"
    assert settings.public_url == "https://mcp.example.com"
    google = settings.providers["google"]
    assert google.client_id == "env-id" and google.client_secret is not None
    assert google.client_secret.get_secret_value() == "file-secret"
    assert "file-secret" not in repr(settings) and settings.secrets["SERPAPI_KEY"].get_secret_value() == "k"


def test_authmcp_toml_in_the_working_directory_is_read_by_default(tmp_path: Path) -> None:
    (tmp_path / "authmcp.toml").write_text('user_id = "here"\n')  # the tests run in tmp_path
    assert load_settings().user_id == "here"


def test_defaults_need_no_file(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.resolved_database_url().startswith("sqlite:///")
    assert settings.resolved_public_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert not settings.mcp_auth.configured


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param('pubic_url = "x"\n', "pubic_url", id="misspelled-key"),
        pytest.param('[providers.acme]\nclient_idd = "x"\n', "providers.acme.client_idd", id="misspelled-nested"),
        pytest.param('public_url = "mcp.example.com"\n', "absolute http(s) URL", id="relative-url"),
        pytest.param("flow_ttl_seconds = 5\n", "AUTHMCP_FLOW_TTL_SECONDS", id="out-of-range"),
        pytest.param("this is not toml", "not valid TOML", id="bad-toml"),
    ],
)
def test_bad_configuration_names_the_setting(tmp_path: Path, text: str, fragment: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert fragment in str(info.value)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_encryption_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHMCP_ENCRYPTION_KEYS", " k1 , k2,")
    assert load_settings().encryption_key_list() == ["k1", "k2"]


_SIGN_IN = '[providers.google]\nclient_id = "c"\nclient_secret = "s"\n'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param(
            'public_url = "https://mcp.example.com"\n[front_door]\nsign_in = "okta"\n' + _SIGN_IN,
            "sign_in = 'okta' must name a configured [providers.<name>]",
            id="unknown-provider",
        ),
        pytest.param('[front_door]\nsign_in = "google"\n' + _SIGN_IN, "[front_door] needs public_url", id="no-url"),
        pytest.param(
            'public_url = "http://mcp.example.com"\n[front_door]\nsign_in = "google"\n' + _SIGN_IN,
            "http only on 127.0.0.1 or localhost",
            id="http-off-loopback",
        ),
        pytest.param(
            'public_url = "https://mcp.example.com"\n[front_door]\nsign_in = "google"\nuser_claim = "name"\n'
            + _SIGN_IN,
            "front_door.user_claim",
            id="bad-claim",
        ),
    ],
)
def test_front_door_settings_are_checked(tmp_path: Path, text: str, fragment: str) -> None:
    config = tmp_path / "door.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(config)
    assert fragment in str(info.value)


@pytest.mark.parametrize("url", ["https://mcp.example.com", "http://127.0.0.1:8000", "http://localhost:9000"])
def test_front_door_takes_https_or_loopback_http(tmp_path: Path, url: str) -> None:
    config = tmp_path / "door.toml"
    config.write_text(
        f'public_url = "{url}"\n[front_door]\nsign_in = "google"\nallowed_domains = ["example.com"]\n' + _SIGN_IN
    )
    door = load_settings(config).front_door
    assert door is not None
    assert (door.sign_in, door.user_claim, door.allowed_domains, door.access_token_ttl) == (
        "google",
        "sub",
        ["example.com"],
        3600,
    )
