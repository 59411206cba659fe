"""Provider media ids of uploaded attachments per channel, with row-level security.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
# The same policy as every tenant table (0002_identity, docs/adr/0006-tenant-isolation-and-
# authentication.md).
_VISIBLE = (
    "(current_setting('linktor.bypass_rls', true) = 'on'"
    " OR tenant_id = current_setting('linktor.tenant_id', true))"
)


def upgrade() -> None:
    op.create_table(
        "provider_media",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("attachment_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("provider_media_id", sa.String(length=512), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_provider_media_attachment_id_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_provider_media_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("channel_id", "attachment_id", name=op.f("pk_provider_media")),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE provider_media ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE provider_media FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {POLICY} ON provider_media USING {_VISIBLE} WITH CHECK {_VISIBLE}"
        )


def downgrade() -> None:
    op.drop_table("provider_media")
