"""Identity: refresh tokens, audit entries, operator keys, usage counters; row-level security
on every tenant table (PostgreSQL).

Each table holding tenant data gets ENABLE + FORCE ROW LEVEL SECURITY (FORCE: the application
role owns the tables, and owners bypass RLS otherwise) and one policy: a row is visible and
writable only when its tenant is the transaction's ``linktor.tenant_id`` setting, or when an
explicitly privileged unit of work set ``linktor.bypass_rls`` to ``on``. See
docs/adr/0006-tenant-isolation-and-authentication.md.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen at this revision: a later migration that adds a tenant table adds its own policy
# (tests/integration/test_row_level_security.py fails on a tenant table without one).
TENANT_TABLES = (
    "api_keys",
    "attachments",
    "audit_entries",
    "channels",
    "contact_identities",
    "contacts",
    "conversations",
    "delivery_attempts",
    "event_sequences",
    "events",
    "idempotency_keys",
    "memberships",
    "messages",
    "outbox",
    "refresh_tokens",
    "usage_counters",
)
POLICY = "tenant_isolation"
_VISIBLE = (
    "(current_setting('linktor.bypass_rls', true) = 'on'"
    " OR {column} = current_setting('linktor.tenant_id', true))"
)


def _enable_rls(table: str, column: str) -> None:
    condition = _VISIBLE.format(column=column)
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON {table} USING {condition} WITH CHECK {condition}")


def _disable_rls(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.create_table(
        "operator_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoke_time", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_operator_keys_prefix")),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("use_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_time", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_refresh_tokens_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_family_id"), ["family_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_tenant_id_user_id"),
            ["tenant_id", "user_id"],
            unique=False,
        )

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("resource", sa.String(length=512), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("client_address", sa.String(length=128), server_default="", nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_entries_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_entries_tenant_id_create_time_id"),
            ["tenant_id", "create_time", "id"],
            unique=False,
        )

    op.create_table(
        "usage_counters",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("value", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_usage_counters_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "metric", "period", name=op.f("pk_usage_counters")),
    )

    if op.get_context().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            _enable_rls(table, "tenant_id")
        _enable_rls("tenants", "id")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _disable_rls("tenants")
        for table in TENANT_TABLES:
            _disable_rls(table)
    op.drop_table("usage_counters")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_tenant_id_create_time_id"))
    op.drop_table("audit_entries")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_tenant_id_user_id"))
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_family_id"))
    op.drop_table("refresh_tokens")
    op.drop_table("operator_keys")
