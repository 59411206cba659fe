"""Conversations: an index for the snooze waker (snoozed conversations by snooze time).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.create_index(
            op.f("ix_conversations_status_snooze_time"), ["status", "snooze_time"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index(op.f("ix_conversations_status_snooze_time"))
