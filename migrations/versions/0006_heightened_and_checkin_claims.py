"""The heightened state after a crisis, shared by every replica; check-ins claimed with a lease.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Privacy: the one row kept even before consent, because it protects the person's life (PIPA's
    # vital-interests basis). It holds only whose it is and an expiry (no text, no label, no time of
    # the crisis), is deleted once expired (within 6 hours) and by /forget, and is in /export.
    op.create_table(
        "heightened",
        sa.Column("user_key", sa.String(96), primary_key=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )
    # Set by the scheduler that claimed today's check-in, until its lease runs out: two replicas on
    # one database never both send it, and a crashed one's claim expires.
    with op.batch_alter_table("checkins") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("claimed_until")
    op.drop_table("heightened")
