"""Settings: a TOML file (`--config`, else `$AUTHMCP_CONFIG`, else `./authmcp.toml`) overlaid by `AUTHMCP_*`
environment variables."""

from __future__ import annotations

import difflib
import getpass
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mcp_server.config.sections import (
    WEBHOOK_EVENTS,
    ApiSettings,
    ApprovalMode,
    ApprovalSettings,
    AuditSettings,
    FrontDoorSettings,
    McpAuthSettings,
    MetricsSettings,
    ProviderSettings,
    WebhookSettings,
)
from mcp_server.errors import ConfigError

__all__ = [
    "WEBHOOK_EVENTS",
    "ApiSettings",
    "ApprovalMode",
    "ApprovalSettings",
    "AuditSettings",
    "FrontDoorSettings",
    "McpAuthSettings",
    "MetricsSettings",
    "ProviderSettings",
    "Settings",
    "WebhookSettings",
    "config_file_path",
    "load_settings",
]

DEFAULT_CONFIG_FILE = Path("authmcp.toml")
DEFAULT_HOST = "127.0.0.1"  # where `authmcp serve` listens unless told otherwise
DEFAULT_PORT = 8000
CONFIG_ENV = "AUTHMCP_CONFIG"  # for clients that own `--config` themselves, such as the MCP Inspector
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _default_user_id() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "local-user"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTHMCP_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    public_url: str | None = None  # default: http://<host>:<port> of `authmcp serve`
    data_dir: Path = Path("~/.local/share/authmcp")
    database_url: str | None = None  # default: sqlite:///<data_dir>/authmcp.db
    user_id: str = Field(default_factory=_default_user_id)  # the local user (stdio, unauthenticated loopback HTTP)
    encryption_keys: SecretStr | None = None  # comma-separated; the first encrypts, all decrypt
    # comma-separated, >= 32 bytes each; the first seals a 2026-07-28 requestState, all unseal. Give every replica
    # the same keys so a round trip may land on another one; unset: a per-process key (one process only)
    request_state_keys: SecretStr | None = None
    toolkits: list[str] | None = None  # default: every bundled toolkit
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    flow_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    max_open_flows_per_user: int = Field(default=20, ge=1, le=1000)  # past it, the oldest is replaced
    flow_retention_days: float = Field(default=7.0, gt=0, le=3650)  # finished flows are deleted after this
    flow_wait_seconds: float = Field(default=60.0, ge=0, le=600)  # how long a retried call waits for consent
    http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)  # every request to a provider
    # how often a connection held in memory is re-read (in the background: no call waits); changes are announced
    connection_cache_seconds: float = Field(default=60.0, ge=0, le=300)
    revocation_retry_seconds: float = Field(default=60.0, gt=0, le=3600)  # a down revocation endpoint
    # SIGTERM over HTTP: how long calls in flight may go on before they are cut (callers waiting on consent: at once)
    shutdown_grace: float = Field(default=20.0, ge=0, le=3600)
    # the schema at start: None creates it in an empty embedded SQLite database only (replicas on PostgreSQL never
    # migrate: `authmcp db upgrade` does); true creates or upgrades it at start; false never touches it
    migrate_on_start: bool | None = None
    allowed_hosts: list[str] = Field(default_factory=list)  # extra Host header values, e.g. behind a proxy
    mcp_auth: McpAuthSettings = Field(default_factory=McpAuthSettings)
    front_door: FrontDoorSettings | None = None
    api: ApiSettings = Field(default_factory=ApiSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # per-toolkit settings a tool reads with context.get_setting(name), e.g. [toolkit_settings.gmail] api_base_url
    toolkit_settings: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"public_url must be an absolute http(s) URL such as https://mcp.example.com, not {value!r}"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _front_door_needs_its_settings(self) -> Settings:
        door = self.front_door
        if door is None:
            return self
        if door.sign_in not in self.providers:
            raise ValueError(f"[front_door] sign_in = {door.sign_in!r} must name a configured [providers.<name>]")
        parts = urlsplit(self.public_url or "")
        if not self.public_url or (parts.scheme == "http" and not is_loopback(parts.hostname or "")):
            raise ValueError("[front_door] needs public_url, an https URL (http only on 127.0.0.1 or localhost)")
        return self

    def resolved_public_url(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
        """`public_url`, else the address `authmcp serve` listens on (its defaults unless given)."""
        if self.public_url:
            return self.public_url
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"http://{shown}:{port}"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'authmcp.db'}"

    def schema_at_start(self) -> tuple[bool, bool]:
        """(create the schema in an empty database, upgrade an older one) when a process opens the database."""
        if self.migrate_on_start is None:
            return self.resolved_database_url().startswith("sqlite"), False
        return self.migrate_on_start, self.migrate_on_start

    def key_file(self) -> Path:
        return self.data_dir / "keys"

    def encryption_key_list(self) -> list[str]:
        if self.encryption_keys is None:
            return []
        return [k.strip() for k in self.encryption_keys.get_secret_value().split(",") if k.strip()]

    def request_state_key_list(self) -> list[str]:
        if self.request_state_keys is None:
            return []
        return [k.strip() for k in self.request_state_keys.get_secret_value().split(",") if k.strip()]

    @field_validator("request_state_keys")
    @classmethod
    def _check_request_state_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
            if not keys or any(len(k.encode()) < 32 for k in keys):
                raise ValueError(
                    "each request-state key must be at least 32 characters of secret randomness; "
                    "make one with `authmcp keys generate`"
                )
        return value


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings once, in the entry point.

    Priority: `overrides` > `AUTHMCP_*` environment > the TOML file.

    Raises:
        ConfigError: The file is missing or malformed, or a value is invalid.
    """
    path = config_file_path(config_file)
    if path is not None:
        try:
            with path.open("rb") as f:
                tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Configuration file {path} is not valid TOML: {exc}.") from None
        except IsADirectoryError:
            raise ConfigError(f"Configuration file {path} is a directory; give the path of a .toml file.") from None
        except OSError as exc:
            raise ConfigError(f"Cannot read the configuration file {path} ({exc.strerror}).") from None

    class FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            if path is None:
                return (init_settings, env_settings)
            return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=path))

    try:
        return FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None


def config_file_path(config_file: Path | None = None) -> Path | None:
    """The configuration file in use: `--config`, else `$AUTHMCP_CONFIG`, else `./authmcp.toml` if present.

    Raises:
        ConfigError: A file named by `--config` or `$AUTHMCP_CONFIG` does not exist.
    """
    if config_file is not None:
        if not config_file.exists():
            raise ConfigError(f"Configuration file {config_file} does not exist; check the --config path.")
        return config_file
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.exists():
            raise ConfigError(f"Configuration file {path} (from {CONFIG_ENV}) does not exist; check the variable.")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = f" in {path} or the AUTHMCP_* environment" if path else " in the AUTHMCP_* environment"
    lines = [f"Invalid configuration{where}:"]
    for error in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        if error["type"] == "extra_forbidden":  # a key written in the file: no variable to name
            known = _keys_beside(error["loc"])
            guess = difflib.get_close_matches(str(error["loc"][-1]), known, n=1, cutoff=0.6)
            hint = (
                f"did you mean {'.'.join([*map(str, error['loc'][:-1]), guess[0]])}?"
                if guess
                else ("docs/configuration.md lists the settings")
            )
            lines.append(f"  {key}: not a setting authmcp knows; {hint}")
            continue
        env = "AUTHMCP_" + "__".join(str(part).upper() for part in error["loc"])
        lines.append(f"  {key} (env {env}): {error['msg']}")
    # one mistake, one line; several, a line each under the heading
    return "\n".join(lines) if len(lines) > 2 else f"{lines[0]} {lines[1].strip()}"


def _keys_beside(loc: tuple[int | str, ...]) -> list[str]:
    """The settings that may stand where `loc`'s last key does (a table's keys; a dict's values' keys)."""
    annotation: Any = Settings
    for part in loc[:-1]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]  # `part` is a key of the dict: its values' model
        else:
            return []
        # `X | None`: the model in it
        models = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        if typing.get_origin(annotation) in (typing.Union, types.UnionType) and models:
            annotation = models[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("authmcp")
    except PackageNotFoundError:
        return "0"


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS
