"""Alembic migrations of the platform's schema (run with `linktor migrate`)."""
