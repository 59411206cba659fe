"""Message order: a per-conversation message sequence; the outbox deletes what it relayed.

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
        batch.create_unique_constraint(
            op.f("uq_messages_conversation_id_seq"), ["conversation_id", "seq"]
        )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index(op.f("ix_outbox_published_id"))
        batch.drop_column("published")
        batch.drop_column("publish_time")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("publish_time", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index(op.f("ix_outbox_published_id"), ["published", "id"], unique=False)
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("uq_messages_conversation_id_seq"), type_="unique")
        batch.drop_column("seq")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("message_seq")
