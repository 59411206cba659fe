"""Which command serves which channel type: built-in adapters plus LINKTOR_ADAPTER_COMMANDS.

A command is a list of arguments, or a string split like a shell would (no shell runs it).
A leading ``python`` or ``python3`` means the server's own interpreter, so built-in Python
adapters need no PATH set-up.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping

from linktor.v1 import common_pb2

_PREFIX = "CHANNEL_TYPE_"

#: Adapters that ship with Linktor, by linktor.v1.ChannelType.
BUILTIN_ADAPTERS: Mapping[int, tuple[str, ...]] = {
    common_pb2.CHANNEL_TYPE_WHATSAPP: (sys.executable, "-m", "linktor.adapters.whatsapp"),
    common_pb2.CHANNEL_TYPE_WEBCHAT: (sys.executable, "-m", "linktor.adapters.webchat"),
}


def channel_type_name(channel_type: int) -> str:
    """``2`` -> ``WHATSAPP``."""
    try:
        return common_pb2.ChannelType.Name(channel_type).removeprefix(_PREFIX)  # type: ignore[arg-type]
    except ValueError:
        return f"CHANNEL_TYPE_{channel_type}"


def channel_type_from_name(name: str) -> int:
    """``whatsapp``, ``WHATSAPP`` or ``CHANNEL_TYPE_WHATSAPP`` -> 2; ValueError otherwise."""
    key = name.strip().upper()
    value = dict(common_pb2.ChannelType.items()).get(
        key if key.startswith(_PREFIX) else _PREFIX + key
    )
    if not value:
        known = ", ".join(
            n.removeprefix(_PREFIX).lower() for n, v in common_pb2.ChannelType.items() if v
        )
        raise ValueError(f"unknown channel type {name!r}; known: {known}")
    return value


def parse_command(raw: object, *, what: str) -> list[str]:
    """A command from JSON: a non-empty list of strings, or a string split shell-style."""
    if isinstance(raw, str):
        try:
            args = shlex.split(raw)
        except ValueError as exc:
            raise ValueError(f"{what}: cannot split {raw!r}: {exc}") from None
    elif isinstance(raw, list) and all(isinstance(a, str) for a in raw):
        args = list(raw)
    else:
        raise ValueError(f"{what}: a command is a string or a list of strings, got {raw!r}")
    if not args or not args[0]:
        raise ValueError(f"{what}: the command is empty")
    if args[0] in ("python", "python3"):
        args[0] = sys.executable
    return args


def parse_adapter_commands(raw: Mapping[str, object]) -> dict[str, list[str]]:
    """LINKTOR_ADAPTER_COMMANDS, checked: channel type names (normalized) -> argument lists."""
    commands: dict[str, list[str]] = {}
    for name, command in raw.items():
        channel_type = channel_type_from_name(name)
        commands[channel_type_name(channel_type)] = parse_command(command, what=name)
    return commands


def adapter_commands(overrides: Mapping[str, list[str]]) -> dict[int, list[str]]:
    """Built-in adapters with the configured ones added or replacing them."""
    commands = {channel_type: list(args) for channel_type, args in BUILTIN_ADAPTERS.items()}
    for name, args in overrides.items():
        commands[channel_type_from_name(name)] = list(args)
    return commands
