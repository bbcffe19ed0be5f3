"""connections.token_extras: token-response fields a provider's catalogue entry keeps for tools (JSON).

Revision ID: 0005_token_extras
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_token_extras"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: rows written before this revision read as "no extras"
    op.add_column("connections", sa.Column("token_extras", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:  # SQLite cannot drop a column in place before 3.35
        batch.drop_column("token_extras")
