"""Flows bound to a browser and verified with a secret of their own: browser_hash, confirm_hash, tool.

Revision ID: 0006
Revises: 0005_token_extras
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005_token_extras"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flows") as batch:
        batch.add_column(sa.Column("browser_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("confirm_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("tool", sa.String(256), nullable=True))
        batch.create_unique_constraint("uq_flows_confirm_hash", ["confirm_hash"])


def downgrade() -> None:
    with op.batch_alter_table("flows") as batch:
        batch.drop_constraint("uq_flows_confirm_hash", type_="unique")
        batch.drop_column("tool")
        batch.drop_column("confirm_hash")
        batch.drop_column("browser_hash")
