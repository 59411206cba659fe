"""Case-insensitive substring search that means the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with LIKE's wildcards taken literally."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def icontains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, ignoring case (ILIKE on PostgreSQL, lower() LIKE lower()
    on SQLite, where only ASCII letters fold)."""
    result: ColumnElement[bool] = column.ilike(contains_pattern(text), escape=ESCAPE)
    return result
