"""The audit trail: one append-only row per event (see mcp_server/observability/audit.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("tool", sa.String(200), nullable=True),
        sa.Column("provider_id", sa.String(128), nullable=True),
        sa.Column("scopes", sa.Text, nullable=True),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("error_kind", sa.String(80), nullable=True),
        sa.Column("duration_ms", sa.Float, nullable=True),
        sa.Column("trace_id", sa.String(32), nullable=True),
        sa.Column("args_digest", sa.String(64), nullable=True),
        sa.Column("flow_ref", sa.String(12), nullable=True),
        sa.Column("actor", sa.String(20), nullable=True),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_audit_events_user_at", "audit_events", ["user_id", "at"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_at", "audit_events")
    op.drop_index("ix_audit_events_user_at", "audit_events")
    op.drop_table("audit_events")
