"""Assembly: settings -> catalog, vault, authorization service, MCP server, opened and closed together as one
`Runtime` (serving it is `mcp_server.serving.run`; the HTTP apps are assembled in `mcp_server.serving.web_app`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateSecurity

from mcp_server._http import httpx2
from mcp_server.authorization.instances import RunFile, new_instance_id
from mcp_server.authorization.service import AuthorizationService, create_authorization_service
from mcp_server.calls.approval import ApprovalPolicy, Approvals
from mcp_server.calls.catalog import Catalog, bundled_toolkits, load_catalog
from mcp_server.calls.gate import AuthGate, gated_tools
from mcp_server.calls.identity import Identities, JwtVerifier, StaticTokenVerifier
from mcp_server.calls.orchestration import ToolCalls, ToolEnvironment
from mcp_server.config import Settings, package_version
from mcp_server.errors import ConfigError
from mcp_server.front_door.provider import FrontDoor
from mcp_server.front_door.sign_in import SignIn, sign_in_scopes
from mcp_server.observability.audit import AuditLog
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.providers.id_tokens import IdTokens, id_tokens_for
from mcp_server.providers.registry import discover_endpoints
from mcp_server.serving.observability import Observability, open_observability
from mcp_server.vault import Vault, open_vault
from mcp_server.vault.digest_keys import APPROVAL_CALL, AUDIT_ARGUMENTS, digest_key
from mcp_server.vault.front_door import FrontDoorStore

__all__ = ["Runtime", "load_tools", "open_runtime", "open_service", "several_users", "toolkit_specs"]

logger = logging.getLogger(__name__)

SERVER_NAME = "authmcp"


def toolkit_specs(settings: Settings, extra: Sequence[str] = ()) -> list[str]:
    base = settings.toolkits if settings.toolkits is not None else bundled_toolkits()
    return list(dict.fromkeys([*base, *extra]))


def load_tools(
    settings: Settings, extra: Sequence[str] = (), *, unknown_providers: bool = False, cache: bool = False
) -> tuple[ProviderRegistry, Catalog]:
    """The providers and the catalog; `cache`: keep the tools' schemas in the data dir between starts."""
    providers = ProviderRegistry(settings.providers)
    specs = toolkit_specs(settings, extra)
    cache_dir = settings.data_dir / "cache" if cache else None
    return providers, load_catalog(specs, providers, unknown_providers=unknown_providers, cache_dir=cache_dir)


@dataclass
class Runtime:
    """Everything one authmcp process serves, opened together and closed together."""

    settings: Settings
    public_url: str
    catalog: Catalog
    vault: Vault
    service: AuthorizationService
    mcp: MCPServer[Any]
    identities: Identities | None  # who calls over HTTP, when `[mcp_auth]` is configured
    environment: ToolEnvironment
    calls: ToolCalls  # the one orchestration, shared by the MCP gate and the /v1 API
    observability: Observability = field(default_factory=Observability)
    stopping: bool = False  # SIGTERM arrived: `/readyz` answers 503 while calls in flight finish
    front_door: tuple[FrontDoor, SignIn] | None = None  # with `[front_door]`: the authorization server, its sign-in

    @property
    def multi_user(self) -> bool:
        return self.identities is not None


def _identities(settings: Settings, public_url: str, door: FrontDoor | None = None) -> Identities | None:
    auth = settings.mcp_auth
    if not auth.configured and door is None:
        return None
    resource = f"{public_url}/mcp"
    jwt = None
    if auth.jwt_issuer:
        if not auth.jwks_url:
            raise ConfigError("[mcp_auth] jwt_issuer is set but jwks_url is not; give the issuer's JWKS URL.")
        jwt = JwtVerifier(
            issuer=auth.jwt_issuer,
            jwks_url=auth.jwks_url,
            audience=auth.audience or resource,
            timeout=settings.http_timeout_seconds,
        )
    return Identities(
        resource=resource,
        issuer=door.issuer if door is not None else auth.jwt_issuer,
        own=door,
        static=StaticTokenVerifier(auth.tokens, resource=resource) if auth.tokens else None,
        jwt=jwt,
    )


def several_users(settings: Settings) -> bool:
    """Several people can start flows: MCP callers are authenticated, or the `/v1` API is on."""
    return settings.mcp_auth.configured or bool(settings.api.keys) or settings.front_door is not None


async def _verification(
    settings: Settings,
) -> tuple[Literal["none", "custom", "idp"], Provider | None, IdTokens | None]:
    """How the person who finishes a flow is shown to be its user; safe by default when several users exist.

    Raises:
        ConfigError: Several users and no `[api] verification`, or `idp` without an issuer to sign in at.
    """
    mode = settings.api.verification
    if mode is None:
        if several_users(settings) and settings.front_door is None:
            raise ConfigError(
                "Several users can start authorizations here ([mcp_auth] or [api] keys is set), so authmcp must "
                'check that whoever finishes one is its user. Set [api] verification = "custom" (with '
                'verifier_url, a page of your app that confirms who is signed in) or verification = "idp" (the '
                "browser signs in at [mcp_auth] jwt_issuer, with idp_client_id and idp_client_secret). For "
                'development only, verification = "none" turns the check off.'
            )
        return "none", None, None
    if mode != "idp":
        return mode, None, None
    issuer = settings.mcp_auth.jwt_issuer
    if not issuer:
        raise ConfigError('[api] verification = "idp" signs the browser in at [mcp_auth] jwt_issuer; set jwt_issuer.')
    secret = settings.api.idp_client_secret
    idp = Provider(
        id="sign-in",
        type="oauth2",
        name="your sign-in provider",
        authorize_url=None,
        token_url=None,
        issuer=issuer,
        client_id=settings.api.idp_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        scopes=tuple(settings.api.idp_scopes),
        discover=True,
    )
    idp = await discover_endpoints(idp, timeout=settings.http_timeout_seconds)
    # its ID tokens are signed with the keys its bearer JWTs are: [mcp_auth] jwks_url
    tokens = await id_tokens_for(
        idp, scopes=idp.scopes, timeout=settings.http_timeout_seconds, jwks_url=settings.mcp_auth.jwks_url
    )
    return mode, idp, tokens


@contextlib.asynccontextmanager
async def open_service(
    settings: Settings,
    *,
    public_url: str,
    providers: ProviderRegistry | None = None,
    verification: Literal["none", "custom", "idp"] = "none",
    idp: Provider | None = None,
    idp_tokens: IdTokens | None = None,
    serving: bool = False,
    pages_ready: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[AuthorizationService]:
    """The vault, its audit trail and the authorization service, as `serve` and every CLI command open them.

    `serving`: this process serves calls: it is known to the others on the data directory while it lives
    (refresh leases, key rotation) and hears flows finished elsewhere. `pages_ready`: checked before a link is
    handed out (`SharedPages.ready`, when another process may hold the pages' port).

    Raises:
        ConfigError: The database or the keys cannot be used.
    """
    vault = await open_vault(
        settings.resolved_database_url(),
        env_keys=settings.encryption_key_list(),
        key_file=settings.key_file(),
        schema=settings.schema_at_start(),
    )
    stack = contextlib.AsyncExitStack()
    stack.push_async_callback(vault.aclose)
    async with stack:
        run_dir = settings.data_dir / "run"
        instance_id = None
        if serving:
            run_file = RunFile(
                run_dir,
                new_instance_id(),
                {
                    "key_source": "env" if settings.encryption_key_list() else "file",
                    "primary_key_id": vault.keyring.primary_key_id,
                },
            )
            stack.callback(run_file.close)
            instance_id = run_file.instance_id
            await vault.notices.start()  # hear flows finished by other replicas (PostgreSQL); nothing on SQLite
        service = create_authorization_service(
            vault=vault,
            providers=providers or ProviderRegistry(settings.providers),
            public_url=public_url,
            flow_ttl=settings.flow_ttl_seconds,
            http_timeout=settings.http_timeout_seconds,
            cache_seconds=settings.connection_cache_seconds,
            verification=verification,
            verifier_url=settings.api.verifier_url,
            idp=idp,
            idp_tokens=idp_tokens,
            revocation_retry_seconds=settings.revocation_retry_seconds,
            max_open_flows=settings.max_open_flows_per_user,
            flow_retention_seconds=settings.flow_retention_days * 86400,
            audit=AuditLog(
                vault.engine,
                digest_key=await digest_key(vault, AUDIT_ARGUMENTS),
                queue_size=settings.audit.queue_size,
                retention_days=settings.audit.retention_days,
            ),
            instance_id=instance_id,
            run_dir=run_dir if serving else None,
            pages_ready=pages_ready,
        )
        stack.push_async_callback(service.audit.aclose)  # write what is queued before the vault closes
        stack.push_async_callback(service.connections.aclose)  # reads in flight end before the vault closes
        yield service


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    public_url: str,
    toolkits: Sequence[str] = (),
    pages_ready: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[Runtime]:
    """Load the tools, open the vault, and build the MCP server; close the vault on exit.

    Raises:
        ConfigError: The configuration, a toolkit, or the keys cannot work.
    """
    providers, catalog = load_tools(settings, toolkits, cache=True)
    verification, idp, idp_tokens = await _verification(settings)
    await providers.discover(timeout=settings.http_timeout_seconds)
    stack = contextlib.AsyncExitStack()
    try:
        service = await stack.enter_async_context(
            open_service(
                settings,
                public_url=public_url,
                providers=providers,
                verification=verification,
                idp=idp,
                idp_tokens=idp_tokens,
                serving=True,
                pages_ready=pages_ready,
            )
        )
        vault = service.vault
        observability = await stack.enter_async_context(open_observability(settings, service.audit, vault.engine))
        policy = ApprovalPolicy(settings.approval)
        approvals = None
        if policy.enabled:
            policy.check(catalog)
            approvals = Approvals(
                policy,
                service,
                digest_key=await digest_key(vault, APPROVAL_CALL),
                wait_seconds=settings.approval.wait_seconds,
                ttl=settings.flow_ttl_seconds,
                in_client=service.flows.verification == "none" and settings.front_door is None,
            )
        environment = ToolEnvironment(
            http=await stack.enter_async_context(httpx2.AsyncClient(timeout=settings.http_timeout_seconds)),
            toolkit_settings={name.lower(): values for name, values in settings.toolkit_settings.items()},
            providers=providers,
        )
        calls = ToolCalls(
            service=service,
            environment=environment,
            secrets={k: v.get_secret_value() for k, v in settings.secrets.items()},
            approvals=approvals,
        )
        gate = AuthGate(
            catalog=catalog, calls=calls, local_user=settings.user_id, flow_wait_seconds=settings.flow_wait_seconds
        )
        front_door = await _front_door(settings, public_url, vault, providers)
        identities = _identities(settings, public_url, front_door[0] if front_door else None)
        mcp: MCPServer[Any] = MCPServer(
            SERVER_NAME,
            version=package_version(),
            instructions="Tools that act on the user's accounts. A tool may first answer with an authorization "
            "link for the user to open; after they grant access, call the tool again.",
            tools=gated_tools(catalog),
            extensions=[gate],
            log_level=settings.log_level,
            request_state_security=_request_state_security(settings),
        )
        if several_users(settings) and verification == "none" and front_door is None:
            logger.warning(
                'user verification is OFF ([api] verification = "none"): whoever opens an authorization link '
                "connects their account to the user it was made for. For production set [api] verification = "
                '"custom" (and verifier_url) or "idp".'
            )
        yield Runtime(
            settings,
            public_url,
            catalog,
            vault,
            service,
            mcp,
            identities,
            environment=environment,
            calls=calls,
            observability=observability,
            front_door=front_door,
        )
    finally:
        await stack.aclose()


async def _front_door(
    settings: Settings, public_url: str, vault: Vault, providers: ProviderRegistry
) -> tuple[FrontDoor, SignIn] | None:
    door = settings.front_door
    if door is None:
        return None
    provider = providers.get(door.sign_in)
    if provider is None or provider.missing_settings():
        raise ConfigError(f"[front_door] sign_in = {door.sign_in!r}: that provider cannot sign anyone in yet.")
    store = FrontDoorStore(vault)
    sign_in = SignIn(
        provider,
        store,
        public_url=public_url,
        user_claim=door.user_claim,
        allowed_domains=door.allowed_domains,
        timeout=settings.http_timeout_seconds,
        id_tokens=await id_tokens_for(provider, scopes=sign_in_scopes(provider), timeout=settings.http_timeout_seconds),
    )
    return FrontDoor(store, public_url=public_url, access_token_ttl=door.access_token_ttl), sign_in


def _request_state_security(settings: Settings) -> RequestStateSecurity | None:
    """Shared keys for sealing 2026-07-28 `requestState`, so any replica can open what another sealed."""
    keys = settings.request_state_key_list()
    if not keys:
        return None  # the SDK's per-process key: enough for one process
    # a round trip may wait for the user's consent: keep the state valid as long as the flow is
    return RequestStateSecurity(keys=keys, ttl=float(max(600, settings.flow_ttl_seconds)))
