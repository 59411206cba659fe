"""Alembic environment.

Migrations always run on a connection handed in by :mod:`linktor.server.infra.db.migrate`
(``config.attributes["connection"]``), inside the caller's event loop; there is no
alembic.ini and no offline mode.
"""

from __future__ import annotations

from alembic import context

from linktor.server.infra.db.schema import load_all_tables

target_metadata = load_all_tables()

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise SystemExit("run migrations with `linktor migrate`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    # SQLite cannot ALTER most things: batch mode recreates tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
