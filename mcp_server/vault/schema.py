"""The storage schema (SQLAlchemy Core), the same for SQLite and PostgreSQL.

Token columns hold ciphertext only (see keyring.py); `key_id` records which key wrote a row so that start-up
can refuse a missing key and rotation can find the rows still on an old one. Times are Unix seconds.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

connections = Table(
    "connections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(255), nullable=False),
    Column("provider_id", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # active | needs_reauth
    Column("scopes", Text, nullable=False),  # space-separated, as granted
    Column("access_token", Text, nullable=False),  # ciphertext
    Column("refresh_token", Text, nullable=True),  # ciphertext
    Column("token_type", String(40), nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("user_info", Text, nullable=False),  # JSON from the provider's userinfo endpoint
    Column("token_extras", Text, nullable=True),  # JSON: the provider's `token_extras` (never tokens)
    Column("key_id", String(16), nullable=False),
    Column("version", Integer, nullable=False),  # +1 on every change, so other processes can tell
    # a refresh lease: the one process (and task) allowed to use the refresh token until lease_until
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=True),
    UniqueConstraint("user_id", "provider_id", name="uq_connections_user_provider"),
)

flows = Table(
    "flows",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),  # oauth: a provider's consent | secret: the user types a secret
    Column("user_id", String(255), nullable=False),
    Column("provider_id", String(100), nullable=False),  # for kind "secret": the secret's name
    Column("scopes", Text, nullable=False),
    # pending -> exchanging -> completed | failed; with user verification, exchanging -> awaiting_verification
    # -> (idp sign-in) exchanging -> completed, or (custom: confirm_user) awaiting_browser -> (the consenting
    # browser back at next_uri) exchanging -> completed
    Column("status", String(24), nullable=False),
    Column("state_hash", String(64), nullable=True, unique=True),  # sha256 of the state sent to the provider
    Column("code_verifier", Text, nullable=True),  # ciphertext
    Column("held_tokens", Text, nullable=True),  # ciphertext: tokens waiting for the user to be verified
    Column("key_id", String(16), nullable=True),
    Column("error", Text, nullable=True),  # our own words, never the provider's
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("completed_at", Float, nullable=True),
    # when the code exchange began (status exchanging): a flow stuck there past a bound was orphaned by a crash
    Column("claimed_at", Float, nullable=True),
    Column("browser_hash", String(64), nullable=True),  # sha256 of the cookie of the browser that opened it
    Column("confirm_hash", String(64), nullable=True),  # sha256 of its verification secret
    Column("tool", String(256), nullable=True),  # the tool that asked, shown on the pages
)

Index("ix_flows_user_provider", flows.c.user_id, flows.c.provider_id, flows.c.status)
UniqueConstraint(flows.c.confirm_hash, name="uq_flows_confirm_hash")

revocations = Table(
    "revocations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(255), nullable=False),
    Column("provider_id", String(100), nullable=False),
    Column("token", Text, nullable=False),  # ciphertext: the token to revoke at the provider
    Column("token_type_hint", String(20), nullable=False),  # RFC 7009 §2.1
    Column("key_id", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_error", Text, nullable=True),  # our own words
    Column("created_at", Float, nullable=False),
)

user_secrets = Table(
    "user_secrets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(255), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", Text, nullable=False),  # ciphertext
    Column("key_id", String(16), nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("user_id", "name", name="uq_user_secrets_user_name"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("event", String(40), nullable=False),
    Column("user_id", String(255), nullable=True),
    Column("tool", String(200), nullable=True),
    Column("provider_id", String(128), nullable=True),
    Column("scopes", Text, nullable=True),
    Column("outcome", String(40), nullable=True),
    Column("error_kind", String(80), nullable=True),
    Column("duration_ms", Float, nullable=True),
    Column("trace_id", String(32), nullable=True),
    Column("args_digest", String(64), nullable=True),
    Column("flow_ref", String(12), nullable=True),
    Column("actor", String(20), nullable=True),
    Column("detail", Text, nullable=True),  # our own words, never a value from a user or a provider
)

Index("ix_audit_events_user_at", audit_events.c.user_id, audit_events.c.at)
Index("ix_audit_events_at", audit_events.c.at)

webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("msg_id", String(40), nullable=False),  # the webhook-id header: the same on every attempt
    Column("url_digest", String(64), nullable=False),  # sha256 of the endpoint URL, which may hold a secret
    Column("event", String(40), nullable=False),
    Column("body", Text, nullable=False),  # the JSON sent: names and outcomes, never a value
    Column("status", String(12), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_until", Float, nullable=True),  # a process is delivering it until then
    Column("last_error", String(200), nullable=True),  # our own words
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # failed attempts since its endpoint last took a delivery: the back-off step (reset when the receiver is back)
    Column("failures", Integer, nullable=False, server_default="0"),
)

Index("ix_webhook_outbox_due", webhook_outbox.c.status, webhook_outbox.c.next_attempt_at)

# keys of keyed digests (audit argument digests, approval call digests), one row per purpose: kept here,
# encrypted like any column, so that a key rotation re-encrypts them instead of changing them
digest_keys = Table(
    "digest_keys",
    metadata,
    Column("id", String(64), primary_key=True),  # the purpose
    Column("value", Text, nullable=False),  # ciphertext
    Column("key_id", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
)

# The front door (mcp_server/authorization/front_door.py): authmcp as the authorization server of MCP clients.
# Codes and tokens are kept as SHA-256 digests only; a client's secret is sealed like any token.
oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("id", String(64), primary_key=True),  # the client_id handed out at registration
    Column("client_metadata", Text, nullable=False),  # JSON (RFC 7591), without the secret
    Column("client_secret", Text, nullable=True),  # ciphertext
    Column("key_id", String(16), nullable=True),
    Column("registered_from", String(64), nullable=True),  # sha256 of the address that registered it
    Column("created_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),  # its first approval: a registration never used expires
)

Index("ix_oauth_clients_created", oauth_clients.c.created_at)

# a grant: one person's approval of one client, from its authorization code to its last refresh token
oauth_grants = Table(
    "oauth_grants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("client_id", String(2048), nullable=False),  # a registered id, or a metadata document's URL
    Column("user_id", String(255), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("resource", String(2048), nullable=False),  # the audience its access tokens are bound to
    Column("redirect_uri", Text, nullable=False),
    Column("redirect_uri_explicit", Integer, nullable=False),
    Column("code_challenge", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

Index("ix_oauth_grants_user", oauth_grants.c.user_id, oauth_grants.c.client_id)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 hex of the code or token
    Column("kind", String(10), nullable=False),  # code | access | refresh
    Column("grant_id", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),  # a code exchanged, a refresh token rotated: its reuse revokes the grant
)

Index("ix_oauth_tokens_grant", oauth_tokens.c.grant_id)
Index("ix_oauth_tokens_expires", oauth_tokens.c.expires_at)

# an /authorize request waiting for the browser to sign in and approve; a browser session after sign-in
front_door_requests = Table(
    "front_door_requests",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 hex of the value in the browser's URL
    Column("client_id", String(2048), nullable=False),
    Column("params", Text, nullable=False),  # JSON: redirect_uri, state, scopes, code_challenge, resource
    Column("sign_in_state", String(64), nullable=True, unique=True),  # sha256 of the state sent to sign_in
    Column("secrets", Text, nullable=True),  # ciphertext: the sign-in's PKCE verifier and nonce
    Column("key_id", String(16), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

browser_sessions = Table(
    "browser_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 hex of the session cookie
    Column("user_id", String(255), nullable=False),
    Column("email", String(320), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)
