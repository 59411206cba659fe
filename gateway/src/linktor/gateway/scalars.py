"""Text -> protobuf values, for path variables and query parameters.

URL text carries no JSON types, so each value is converted by the type of the field it
fills, with the same spellings the proto3 JSON mapping accepts (enum names or numbers,
RFC 3339 timestamps, ``1.5s`` durations, comma-separated field masks, base64 bytes).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import cast

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message


class FieldValueError(ValueError):
    """A text that does not fit the field it was given for."""


_F = FieldDescriptor
_INT_RANGES = {
    _F.TYPE_INT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    _F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    _F.TYPE_UINT32: (0, 2**32 - 1),
    _F.TYPE_FIXED32: (0, 2**32 - 1),
    _F.TYPE_INT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    _F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    _F.TYPE_UINT64: (0, 2**64 - 1),
    _F.TYPE_FIXED64: (0, 2**64 - 1),
}
_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_WRAPPERS = {
    "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue",
    "google.protobuf.Int64Value",
    "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value",
    "google.protobuf.UInt32Value",
    "google.protobuf.BoolValue",
    "google.protobuf.StringValue",
    "google.protobuf.BytesValue",
}
# Message types that have a single-string JSON form and so may appear in a URL.
TEXT_MESSAGES = {
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
    *_WRAPPERS,
}
_CAMEL = re.compile(r"[A-Z]")


def _parse_int(field: FieldDescriptor, text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        # proto3 JSON also accepts integral floats such as "1e3".
        try:
            as_float = float(text)
        except ValueError:
            raise FieldValueError(f"{text!r} is not an integer") from None
        if not as_float.is_integer():
            raise FieldValueError(f"{text!r} is not an integer") from None
        value = int(as_float)
    low, high = _INT_RANGES[field.type]
    if not low <= value <= high:
        raise FieldValueError(f"{text!r} is out of range for this integer field")
    return value


def _parse_float(text: str) -> float:
    if text in _FLOAT_WORDS:
        return _FLOAT_WORDS[text]
    try:
        return float(text)
    except ValueError:
        raise FieldValueError(f"{text!r} is not a number") from None


def _parse_bool(text: str) -> bool:
    if text in ("true", "True", "1"):
        return True
    if text in ("false", "False", "0"):
        return False
    raise FieldValueError(f"{text!r} is not a boolean (true or false)")


def _parse_bytes(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise FieldValueError(f"{text!r} is not base64") from None


def _parse_enum(field: FieldDescriptor, text: str) -> int:
    enum = field.enum_type
    assert enum is not None
    by_name = enum.values_by_name.get(text)
    if by_name is not None:
        return int(by_name.number)
    try:
        return int(text, 10)
    except ValueError:
        names = ", ".join(v.name for v in enum.values)
        raise FieldValueError(f"{text!r} is not a value of {enum.full_name} ({names})") from None


def parse_scalar(field: FieldDescriptor, text: str) -> object:
    """The Python value for a non-message field spelled as URL text."""
    kind = field.type
    if kind == _F.TYPE_STRING:
        return text
    if kind in _INT_RANGES:
        return _parse_int(field, text)
    if kind in (_F.TYPE_DOUBLE, _F.TYPE_FLOAT):
        return _parse_float(text)
    if kind == _F.TYPE_BOOL:
        return _parse_bool(text)
    if kind == _F.TYPE_ENUM:
        return _parse_enum(field, text)
    if kind == _F.TYPE_BYTES:
        return _parse_bytes(text)
    raise FieldValueError(f"fields of type {kind} cannot be set from text")


def _snake(path: str) -> str:
    return _CAMEL.sub(lambda m: "_" + m.group().lower(), path)


def parse_text_message(message: Message, text: str) -> None:
    """Fill a well-known type that has a one-string JSON form (see TEXT_MESSAGES)."""
    name = message.DESCRIPTOR.full_name
    try:
        if name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
            message.FromJsonString(text)  # type: ignore[attr-defined]
        elif name == "google.protobuf.FieldMask":
            # Accept both the JSON spelling (camelCase) and proto field names.
            paths = [_snake(p.strip()) for p in text.split(",") if p.strip()]
            message.Clear()
            message.paths.extend(paths)  # type: ignore[attr-defined]
        elif name in _WRAPPERS:
            inner = cast(FieldDescriptor, message.DESCRIPTOR.fields_by_name["value"])
            message.value = parse_scalar(inner, text)  # type: ignore[attr-defined]
        else:
            raise FieldValueError(f"{name} cannot be given as text")
    except FieldValueError:
        raise
    except ValueError as error:
        raise FieldValueError(f"{text!r} is not a valid {name}: {error}") from None


def set_from_text(parent: Message, field: FieldDescriptor, text: str) -> None:
    """Set (or, for a repeated field, append) ``parent.<field>`` from URL text."""
    if field.type == _F.TYPE_MESSAGE:
        target = getattr(parent, field.name)
        parse_text_message(target.add() if field.is_repeated else target, text)
        return
    value = parse_scalar(field, text)
    if field.is_repeated:
        getattr(parent, field.name).append(value)
    else:
        setattr(parent, field.name, value)
