"""Message templates of channels (synced from the provider), with row-level security.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "message_templates"
POLICY = "tenant_isolation"
# The same policy as every tenant table (0002_identity, docs/adr/0005-tenant-isolation.md).
_VISIBLE = (
    "(current_setting('linktor.bypass_rls', true) = 'on'"
    " OR tenant_id = current_setting('linktor.tenant_id', true))"
)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("template_name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), server_default="", nullable=False),
        sa.Column("status", sa.String(length=32), server_default="", nullable=False),
        sa.Column("provider_template_id", sa.String(length=128), server_default="", nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("sync_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_message_templates_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_message_templates_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint(
            "channel_id",
            "template_name",
            "language",
            name=op.f("uq_message_templates_channel_id_template_name_language"),
        ),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {TABLE} USING {_VISIBLE} WITH CHECK {_VISIBLE}")


def downgrade() -> None:
    op.drop_table(TABLE)
