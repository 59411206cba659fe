"""What msgfy prints: Rich tables for people, JSON (proto3 JSON, one document) for scripts,
and errors as one line on stderr."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table

from linktor.sdk._spec import enum_label

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)

Column = tuple[str, Callable[[Any], object]]


def as_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def emit_json(value: Any) -> None:
    if isinstance(value, Message):
        value = as_dict(value)
    elif isinstance(value, list):
        value = [as_dict(v) if isinstance(v, Message) else v for v in value]
    print(json.dumps(value, indent=2, ensure_ascii=False))


def table(items: Iterable[Message], columns: Sequence[Column], as_json: bool) -> None:
    rows = list(items)
    if as_json:
        emit_json(rows)
        return
    grid = Table(show_edge=False, header_style="bold")
    for title, _ in columns:
        grid.add_column(title)
    for item in rows:
        grid.add_row(*(str(get(item)) for _, get in columns))
    stdout.print(grid)
    if not rows:
        stderr.print("(none)")


def details(item: Message, as_json: bool) -> None:
    if as_json:
        emit_json(item)
        return
    for key, value in as_dict(item).items():
        stdout.print(f"[bold]{key}[/bold]: {json.dumps(value, ensure_ascii=False)}")


def label(item: Message, field: str) -> str:
    """An enum field's short lower-case name (``active`` for CHANNEL_STATE_ACTIVE)."""
    descriptor = item.DESCRIPTOR.fields_by_name[field]
    return enum_label(descriptor.enum_type, getattr(item, field))


def short(name: str) -> str:
    """The last segment of a resource name: what users type back."""
    return name.rsplit("/", 1)[-1]


def fail(message: str) -> None:
    stderr.print(f"[red]error:[/red] {message}", highlight=False)
