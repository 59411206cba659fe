"""Password setup tokens (invitations and resets, UserService.IssuePasswordSetup), with
row-level security on the issuing tenant like refresh tokens.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
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
        "password_setups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("creator", sa.String(length=200), server_default="", nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("use_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_time", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_password_setups_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_setups_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_setups")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_setups_token_hash")),
    )
    with op.batch_alter_table("password_setups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_setups_user_id"), ["user_id"], unique=False)
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE password_setups ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE password_setups FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {POLICY} ON password_setups USING {_VISIBLE} WITH CHECK {_VISIBLE}"
        )


def downgrade() -> None:
    with op.batch_alter_table("password_setups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_setups_user_id"))
    op.drop_table("password_setups")
