"""Message order and delivery: per-conversation sequence, recipient address, worker lease;
the outbox deletes what it relayed; events remember whether they reached the bus.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(
            sa.Column("message_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=False))
        batch.add_column(sa.Column("address", sa.String(255), server_default="", nullable=False))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_messages_conversation_id_seq"), ["conversation_id", "seq"]
        )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index(op.f("ix_outbox_published_id"))
        batch.drop_column("published")
        batch.drop_column("publish_time")
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index(
            op.f("ix_events_published_create_time"), ["published", "create_time"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_index(op.f("ix_events_published_create_time"))
        batch.drop_column("published")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("publish_time", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index(op.f("ix_outbox_published_id"), ["published", "id"], unique=False)
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("uq_messages_conversation_id_seq"), type_="unique")
        batch.drop_column("lease_until")
        batch.drop_column("address")
        batch.drop_column("seq")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("message_seq")
