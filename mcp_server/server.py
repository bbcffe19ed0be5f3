"""Assembly: settings -> catalog, vault, authorization service, MCP server, and the app for each transport."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import uvicorn
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_server._http import httpx2
from mcp_server.approval import ApprovalPolicy, Approvals
from mcp_server.audit import AuditLog
from mcp_server.authorization import AuthorizationService
from mcp_server.calls import ToolEnvironment
from mcp_server.catalog import Catalog, bundled_toolkits, load_catalog
from mcp_server.config import Settings, is_loopback, package_version
from mcp_server.errors import ConfigError
from mcp_server.gate import AuthGate, gated_tools
from mcp_server.observability import Observability, open_observability
from mcp_server.identity import JwtVerifier, StaticTokenVerifier, TokenVerifier, VerifierChain
from mcp_server.instances import RunFile, new_instance_id
from mcp_server.providers import Provider, ProviderRegistry
from mcp_server.providers.registry import discover_endpoints
from mcp_server.readiness import log_unconfigured
from mcp_server.shared_pages import bind, claim_port, identity_route, instance_secret
from mcp_server.stdio import serve_pages_while_flows_wait, serve_stdio, uvicorn_config
from mcp_server.vault import Vault, open_vault
from mcp_server.web import HostCheck, allowed_hosts, create_api_routes, create_home_routes, create_web_routes
from mcp_server.web.approve import create_approval_routes

__all__ = ["Runtime", "bind", "create_http_app", "create_web_app", "keep_pages", "open_runtime", "serve"]

logger = logging.getLogger(__name__)

SERVER_NAME = "authmcp"


def toolkit_specs(settings: Settings, extra: Sequence[str] = ()) -> list[str]:
    base = settings.toolkits if settings.toolkits is not None else bundled_toolkits()
    return list(dict.fromkeys([*base, *extra]))


def load_tools(settings: Settings, extra: Sequence[str] = ()) -> tuple[ProviderRegistry, Catalog]:
    providers = ProviderRegistry(settings.providers)
    return providers, load_catalog(toolkit_specs(settings, extra), providers)


@dataclass
class Runtime:
    """Everything one authmcp process serves, opened together and closed together."""

    settings: Settings
    public_url: str
    catalog: Catalog
    vault: Vault
    service: AuthorizationService
    mcp: MCPServer[Any]
    multi_user: bool
    environment: ToolEnvironment
    observability: Observability = field(default_factory=Observability)


def _verifier(settings: Settings, public_url: str) -> tuple[TokenVerifier | None, AuthSettings | None]:
    auth = settings.mcp_auth
    if not auth.configured:
        return None, None
    resource = f"{public_url}/mcp"
    verifiers: list[TokenVerifier] = []
    if auth.tokens:
        verifiers.append(StaticTokenVerifier(auth.tokens, resource=resource))
    if auth.jwt_issuer:
        if not auth.jwks_url:
            raise ConfigError("[mcp_auth] jwt_issuer is set but jwks_url is not; give the issuer's JWKS URL.")
        verifiers.append(
            JwtVerifier(
                issuer=auth.jwt_issuer,
                jwks_url=auth.jwks_url,
                audience=auth.audience or resource,
                timeout=settings.http_timeout_seconds,
            )
        )
    return VerifierChain(verifiers), AuthSettings(
        issuer_url=auth.jwt_issuer or public_url,  # type: ignore[arg-type]
        resource_server_url=resource,  # type: ignore[arg-type]
        validate_token_resource=False,  # audience is checked by the verifier itself
    )


def several_users(settings: Settings) -> bool:
    """Several people can start flows: MCP callers are authenticated, or the `/v1` API is on."""
    return settings.mcp_auth.configured or bool(settings.api.keys)


async def _verification(settings: Settings) -> tuple[Literal["none", "custom", "idp"], Provider | None]:
    """How the person who finishes a flow is shown to be its user; safe by default when several users exist.

    Raises:
        ConfigError: Several users and no `[api] verification`, or `idp` without an issuer to sign in at.
    """
    mode = settings.api.verification
    if mode is None:
        if several_users(settings):
            raise ConfigError(
                "Several users can start authorizations here ([mcp_auth] or [api] keys is set), so authmcp must "
                "check that whoever finishes one is its user. Set [api] verification = \"custom\" (with "
                "verifier_url, a page of your app that confirms who is signed in) or verification = \"idp\" (the "
                "browser signs in at [mcp_auth] jwt_issuer, with idp_client_id and idp_client_secret). For "
                "development only, verification = \"none\" turns the check off."
            )
        return "none", None
    if mode != "idp":
        return mode, None
    issuer = settings.mcp_auth.jwt_issuer
    if not issuer:
        raise ConfigError('[api] verification = "idp" signs the browser in at [mcp_auth] jwt_issuer; set jwt_issuer.')
    secret = settings.api.idp_client_secret
    idp = Provider(
        id="sign-in", type="oauth2", name="your sign-in provider", authorize_url=None, token_url=None,
        issuer=issuer, client_id=settings.api.idp_client_id, client_secret=secret.get_secret_value() if secret else None,
        scopes=tuple(settings.api.idp_scopes), discover=True,
    )
    return mode, await discover_endpoints(idp, timeout=settings.http_timeout_seconds)


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings, *, public_url: str, toolkits: Sequence[str] = ()
) -> AsyncIterator[Runtime]:
    """Load the tools, open the vault, and build the MCP server; close the vault on exit.

    Raises:
        ConfigError: The configuration, a toolkit, or the keys cannot work.
    """
    providers, catalog = load_tools(settings, toolkits)
    verification, idp = await _verification(settings)
    await providers.discover(timeout=settings.http_timeout_seconds)
    vault = await open_vault(
        settings.resolved_database_url(), env_keys=settings.encryption_key_list(), key_file=settings.key_file()
    )
    stack = contextlib.AsyncExitStack()
    try:
        # this process, known to the others on the data directory while it lives (refresh leases, key rotation)
        run_dir = settings.data_dir / "run"
        run_file = RunFile(run_dir, new_instance_id(), {
            "key_source": "env" if settings.encryption_key_list() else "file",
            "primary_key_id": vault.keyring.primary_key_id,
        })
        stack.callback(run_file.close)
        await vault.notices.start()  # hear flows finished by other replicas (PostgreSQL); nothing on SQLite
        service = AuthorizationService(
            vault=vault,
            providers=providers,
            public_url=public_url,
            flow_ttl=settings.flow_ttl_seconds,
            http_timeout=settings.http_timeout_seconds,
            cache_seconds=settings.connection_cache_seconds,
            verification=verification,
            verifier_url=settings.api.verifier_url,
            idp=idp,
            revocation_retry_seconds=settings.revocation_retry_seconds,
            max_open_flows=settings.max_open_flows_per_user,
            flow_retention_seconds=settings.flow_retention_days * 86400,
            audit=AuditLog(
                vault.engine,
                digest_key=vault.keyring.derive("audit arguments digest"),
                queue_size=settings.audit.queue_size,
                retention_days=settings.audit.retention_days,
            ),
            instance_id=run_file.instance_id,
            run_dir=run_dir,
        )
        stack.push_async_callback(service.audit.aclose)  # write what is queued before the vault closes
        observability = await stack.enter_async_context(open_observability(settings, service.audit, vault.engine))
        policy = ApprovalPolicy(settings.approval)
        if policy.enabled:
            policy.check(catalog)
            service.approvals = Approvals(
                policy, service, digest_key=vault.keyring.derive("approval call digest"),
                wait_seconds=settings.approval.wait_seconds, ttl=settings.flow_ttl_seconds,
            )
        environment = ToolEnvironment(
            http=await stack.enter_async_context(httpx2.AsyncClient(timeout=settings.http_timeout_seconds)),
            toolkit_settings={name.lower(): values for name, values in settings.toolkit_settings.items()},
            providers=providers,
        )
        gate = AuthGate(
            catalog=catalog,
            service=service,
            local_user=settings.user_id,
            secrets={k: v.get_secret_value() for k, v in settings.secrets.items()},
            flow_wait_seconds=settings.flow_wait_seconds,
            environment=environment,
        )
        verifier, auth = _verifier(settings, public_url)
        mcp: MCPServer[Any] = MCPServer(
            SERVER_NAME,
            version=package_version(),
            instructions="Tools that act on the user's accounts. A tool may first answer with an authorization "
            "link for the user to open; after they grant access, call the tool again.",
            token_verifier=verifier,
            auth=auth,
            tools=gated_tools(catalog),
            extensions=[gate],
            log_level=settings.log_level,
            request_state_security=_request_state_security(settings),
        )
        if several_users(settings) and verification == "none":
            logger.warning(
                "user verification is OFF ([api] verification = \"none\"): whoever opens an authorization link "
                "connects their account to the user it was made for. For production set [api] verification = "
                "\"custom\" (and verifier_url) or \"idp\"."
            )
        yield Runtime(
            settings, public_url, catalog, vault, service, mcp, multi_user=verifier is not None, environment=environment,
            observability=observability,
        )
    finally:
        await stack.aclose()
        await vault.aclose()


def _request_state_security(settings: Settings) -> RequestStateSecurity | None:
    """Shared keys for sealing 2026-07-28 `requestState`, so any replica can open what another sealed."""
    keys = settings.request_state_key_list()
    if not keys:
        return None  # the SDK's per-process key: enough for one process
    # a round trip may wait for the user's consent: keep the state valid as long as the flow is
    return RequestStateSecurity(keys=keys, ttl=float(max(600, settings.flow_ttl_seconds)))


def create_web_app(runtime: Runtime) -> Starlette:
    """The browser routes (`/connect`, `/oauth/callback`, `/healthz`) and the `/v1` API, as served beside stdio."""
    hosts, origins = allowed_hosts(runtime.public_url, runtime.settings.allowed_hosts)
    return Starlette(
        routes=[
            *create_web_routes(runtime.service),
            *create_approval_routes(runtime.service),
            *_local_routes(runtime),
            *create_api_routes(runtime.catalog, runtime.service, runtime.settings, runtime.environment),
            *runtime.observability.routes(),
        ],
        middleware=[*runtime.observability.middleware(), Middleware(HostCheck, hosts=hosts, origins=origins)],
    )


def _local_routes(runtime: Runtime) -> list[BaseRoute]:
    """The data dir's identity (so stdio processes share one port) and, for the local user, their own pages."""
    routes: list[BaseRoute] = []
    with contextlib.suppress(ConfigError):  # e.g. a read-only data dir beside PostgreSQL: nobody to share with
        routes.append(identity_route(instance_secret(runtime.settings.data_dir)))
    # Multi-user: these pages need to know who is in the browser, a sign-in they do not have (yet).
    if not runtime.multi_user and not runtime.settings.api.keys:
        routes += create_home_routes(runtime.service, runtime.settings.user_id)
    return routes


class _Transports:
    """Send legacy SSE paths to the SSE app and everything else to the Streamable HTTP app."""

    def __init__(self, streamable: ASGIApp, sse: ASGIApp) -> None:
        self.streamable = streamable
        self.sse = sse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if path == "/sse" or path.startswith("/messages/"):
            await self.sse(scope, receive, send)
        else:
            await self.streamable(scope, receive, send)


def create_http_app(runtime: Runtime, *, stateless: bool = False, json_response: bool = False) -> Starlette:
    """Streamable HTTP at `/mcp`, legacy SSE at `/sse` + `/messages/`, the web routes and `/v1`, on one app."""
    hosts, origins = allowed_hosts(runtime.public_url, runtime.settings.allowed_hosts)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )
    mcp = runtime.mcp
    streamable = mcp.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=stateless, json_response=json_response, transport_security=security
    )
    sse = mcp.sse_app(sse_path="/sse", message_path="/messages/", transport_security=security)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    return Starlette(
        routes=[
            *create_web_routes(runtime.service),
            *create_approval_routes(runtime.service),
            *_local_routes(runtime),
            *create_api_routes(runtime.catalog, runtime.service, runtime.settings, runtime.environment),
            *runtime.observability.routes(),
            Mount("", app=_Transports(streamable, sse)),
        ],
        middleware=[*runtime.observability.middleware(), Middleware(HostCheck, hosts=hosts, origins=origins)],
        lifespan=lifespan,
    )


def _uvicorn(app: ASGIApp, log_level: str) -> uvicorn.Server:
    return uvicorn.Server(uvicorn_config(app, log_level))


async def serve(
    settings: Settings,
    *,
    transport: str,
    host: str,
    port: int,
    toolkits: Sequence[str] = (),
    stateless: bool = False,
    config_file: Path | None = None,
) -> None:
    """Run authmcp until stdin closes (stdio) or the process is interrupted (http).

    With stdio, the authorization pages on host:port are shared by every process on the same data dir, and
    outlive a client that goes while flows wait for a browser (see stdio.py and shared_pages.py).

    Raises:
        ConfigError: The configuration cannot work; nothing was started.
    """
    if transport not in ("stdio", "http", "sse"):
        raise ConfigError(f"Unknown transport {transport!r}; use stdio, http or sse.")
    if not 0 <= port <= 65535:
        raise ConfigError(f"Port {port} is not a port number; choose one from 0 to 65535.")
    # stdio: None when an authmcp on the same data dir already serves the pages on that port
    sock = await claim_port(host, port, settings.data_dir) if transport == "stdio" else bind(host, port)
    try:
        actual_port = sock.getsockname()[1] if sock is not None else port
        public_url = settings.resolved_public_url(host, actual_port)
        async with open_runtime(settings, public_url=public_url, toolkits=toolkits) as runtime:
            logger.info("%d tools from %s", len(runtime.catalog), ", ".join(toolkit_specs(settings, toolkits)) or "no toolkits")
            log_unconfigured(runtime.catalog, runtime.service.providers)
            if transport == "stdio":
                await serve_stdio(runtime, create_web_app(runtime), sock, host, port, config_file=config_file)
            else:
                assert sock is not None
                if not runtime.multi_user:
                    if not is_loopback(host):
                        raise ConfigError(
                            f"Refusing to serve HTTP on {host} without authentication: configure [mcp_auth] tokens "
                            f"or jwt_issuer, or bind to 127.0.0.1."
                        )
                    logger.warning(
                        "no [mcp_auth] configured: serving on loopback only, every caller acts as the local user %r",
                        settings.user_id,
                    )
                logger.info("MCP over Streamable HTTP at %s/mcp and SSE at %s/sse", public_url, public_url)
                if stateless and not settings.request_state_keys:
                    logger.warning(
                        "--stateless without request_state_keys: a 2026-07-28 round trip must come back to this "
                        "process. Behind a load balancer give every replica the same request_state_keys."
                    )
                server = _uvicorn(create_http_app(runtime, stateless=stateless), settings.log_level)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(runtime.service.maintain)
                    tg.start_soon(runtime.observability.run)
                    await server.serve(sockets=[sock])
                    tg.cancel_scope.cancel()
    finally:
        if sock is not None:
            sock.close()


async def keep_pages(settings: Settings, sock: socket.socket) -> None:
    """`authmcp keep-pages`: serve the pages on a socket a stdio process handed over, while flows wait."""
    host, port = sock.getsockname()[:2]
    public_url = settings.resolved_public_url(host, port)
    async with open_runtime(settings.model_copy(update={"toolkits": []}), public_url=public_url) as runtime:
        await serve_pages_while_flows_wait(runtime, create_web_app(runtime), sock)
