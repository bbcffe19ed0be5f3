"""The front door: MCP clients, their grants, digests of their codes and tokens, pending requests, browser sessions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("client_metadata", sa.Text, nullable=False),
        sa.Column("client_secret", sa.Text, nullable=True),
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("registered_from", sa.String(64), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float, nullable=True),
    )
    op.create_index("ix_oauth_clients_created", "oauth_clients", ["created_at"])
    op.create_table(
        "oauth_grants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(2048), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("resource", sa.String(2048), nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("redirect_uri_explicit", sa.Integer, nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    op.create_index("ix_oauth_grants_user", "oauth_grants", ["user_id", "client_id"])
    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("grant_id", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float, nullable=True),
    )
    op.create_index("ix_oauth_tokens_grant", "oauth_tokens", ["grant_id"])
    op.create_index("ix_oauth_tokens_expires", "oauth_tokens", ["expires_at"])
    op.create_table(
        "front_door_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(2048), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("sign_in_state", sa.String(64), nullable=True, unique=True),
        sa.Column("secrets", sa.Text, nullable=True),
        sa.Column("key_id", sa.String(16), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "browser_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("browser_sessions")
    op.drop_table("front_door_requests")
    op.drop_index("ix_oauth_tokens_expires", "oauth_tokens")
    op.drop_index("ix_oauth_tokens_grant", "oauth_tokens")
    op.drop_table("oauth_tokens")
    op.drop_index("ix_oauth_grants_user", "oauth_grants")
    op.drop_table("oauth_grants")
    op.drop_index("ix_oauth_clients_created", "oauth_clients")
    op.drop_table("oauth_clients")
