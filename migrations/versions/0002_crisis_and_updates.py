"""Crisis events (counted, never with text) and processed platform updates (handled once).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
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
        "crisis_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("category", sa.String(32), nullable=True),
    )
    op.create_index("ix_crisis_events_time", "crisis_events", ["occurred_at"])
    op.create_table(
        "processed_updates",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("update_id", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_processed_updates_time", "processed_updates", ["processed_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_updates_time", table_name="processed_updates")
    op.drop_table("processed_updates")
    op.drop_index("ix_crisis_events_time", table_name="crisis_events")
    op.drop_table("crisis_events")
