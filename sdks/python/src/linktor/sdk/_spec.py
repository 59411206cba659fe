"""What the generated layer knows about each RPC, and how a request is built from keywords.

The generated resources (``linktor.sdk._generated``) pass a :class:`MethodSpec` and the
caller's keyword arguments here; everything that is the same for every RPC (conversions, the
caller's tenant, short ids, request ids, update masks) lives in this one module.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from google.protobuf import (
    duration_pb2,
    field_mask_pb2,
    json_format,
    struct_pb2,
    timestamp_pb2,
)
from google.protobuf.message import Message

RequestT = TypeVar("RequestT", bound=Message)
ResponseT = TypeVar("ResponseT", bound=Message)


@dataclass(frozen=True)
class MethodSpec(Generic[RequestT, ResponseT]):
    """One RPC of linktor.v1 as the SDK calls it.

    Attributes:
        stub: the generated stub class (``MessageServiceStub``).
        rpc: the method name on the stub (``SendMessage``).
        service: the full service name, for errors (``linktor.v1.MessageService``).
        request_type / response_type: the generated message classes.
        idempotent: safe to repeat after UNAVAILABLE.
        tenant_field: a request field that takes the caller's tenant when left empty.
        short_names: dotted field paths whose value may be a bare id, and the collection that
            turns it into a name (``("recipient.channel", "channels")``).
        request_id: whether the request has a ``request_id`` the SDK fills in.
        update_field: for Update RPCs, the resource field whose keys make the update mask.
        items_field: for List RPCs, the repeated field of the response holding the items.
    """

    stub: type[Any]
    rpc: str
    service: str
    request_type: type[RequestT]
    response_type: type[ResponseT]
    idempotent: bool = True
    tenant_field: str = ""
    short_names: tuple[tuple[str, str], ...] = ()
    request_id: bool = False
    update_field: str = ""
    items_field: str = ""

    @property
    def method(self) -> str:
        return f"/{self.service}/{self.rpc}"

    @property
    def needs_tenant(self) -> bool:
        return bool(self.tenant_field or self.short_names)


def build_request(
    spec: MethodSpec[RequestT, Any], request: RequestT | None, fields: Mapping[str, Any]
) -> RequestT:
    """A new request: a copy of ``request`` with every keyword that is not None set on it."""
    built = spec.request_type()
    if request is not None:
        built.CopyFrom(request)
    for name, value in fields.items():
        if value is not None:
            set_field(built, name, value)
    if spec.update_field and "update_mask" not in _set_fields(built):
        resource = fields.get(spec.update_field)
        if isinstance(resource, Mapping):
            _infer_mask(built, spec.update_field, resource)
    if spec.request_id and not getattr(built, "request_id", ""):
        # Made once, before the first attempt: every retry of this call carries the same key,
        # so the server returns the first result instead of acting twice.
        built.request_id = str(uuid.uuid4())  # type: ignore[attr-defined]
    return built


def needs_tenant(spec: MethodSpec[Any, Any], request: Message) -> bool:
    """Whether filling ``request`` in needs the caller's tenant."""
    if spec.tenant_field and not getattr(request, spec.tenant_field):
        return True
    return any(_is_bare(_get_path(request, path)) for path, _ in spec.short_names)


def _is_bare(value: str) -> bool:
    return bool(value) and "/" not in value


def fill_tenant(spec: MethodSpec[Any, Any], request: Message, tenant: str) -> None:
    """Put the caller's tenant into an empty tenant field and expand bare ids into names."""
    if spec.tenant_field and not getattr(request, spec.tenant_field):
        setattr(request, spec.tenant_field, tenant)
    for path, collection in spec.short_names:
        value = _get_path(request, path)
        if _is_bare(value):
            _set_path(request, path, f"{tenant}/{collection}/{value}")


def _get_path(message: Message, path: str) -> str:
    *parents, leaf = path.split(".")
    for part in parents:
        if not message.HasField(part):
            return ""  # absent: nothing to expand
        message = getattr(message, part)
    return str(getattr(message, leaf))


def _set_path(message: Message, path: str, value: str) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        message = getattr(message, part)
    setattr(message, leaf, value)


def _set_fields(message: Message) -> set[str]:
    return {fd.name for fd, _ in message.ListFields()}


def set_field(message: Message, name: str, value: Any) -> None:
    """Set one field from a friendly Python value (see :func:`coerce`)."""
    field = message.DESCRIPTOR.fields_by_name[name]
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        target = getattr(message, name)
        target.clear()
        value_field = field.message_type.fields_by_name["value"]
        for key, item in dict(value).items():
            if value_field.message_type is not None:
                target[key].CopyFrom(coerce(value_field, item))
            else:
                target[key] = coerce(value_field, item)
    elif field.is_repeated:
        target = getattr(message, name)
        del target[:]
        items = [value] if isinstance(value, str | bytes | Mapping) else list(value)
        target.extend(coerce(field, item) for item in items)
    elif field.message_type is not None:
        getattr(message, name).CopyFrom(coerce(field, value))
    else:
        setattr(message, name, coerce(field, value))


def coerce(field: Any, value: Any) -> Any:
    """A Python value for a field: enum names, datetimes, timedeltas, dicts, lists of paths."""
    if field.enum_type is not None:
        return enum_number(field.enum_type, value)
    message_type = field.message_type
    if message_type is None:
        return value
    cls = _class_of(message_type)
    if isinstance(value, Message):
        return value
    full_name = message_type.full_name
    if full_name == "google.protobuf.Timestamp" and isinstance(value, datetime):
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(value)
        return stamp
    if full_name == "google.protobuf.Duration" and isinstance(value, timedelta | int | float):
        duration = duration_pb2.Duration()
        duration.FromTimedelta(value if isinstance(value, timedelta) else timedelta(seconds=value))
        return duration
    if full_name == "google.protobuf.FieldMask" and isinstance(value, Sequence | str):
        paths = [value] if isinstance(value, str) else list(value)
        return field_mask_pb2.FieldMask(paths=paths)
    if full_name == "google.protobuf.Struct" and isinstance(value, Mapping):
        struct = struct_pb2.Struct()
        struct.update(dict(value))
        return struct
    if isinstance(value, Mapping):
        return message_from_dict(cls, value)
    raise TypeError(f"{field.name}: expected {full_name} or a dict, got {type(value).__name__}")


MessageT = TypeVar("MessageT", bound=Message)


def message_from_dict(cls: type[MessageT], value: Mapping[str, Any]) -> MessageT:
    """A message from a dict in proto3 JSON form (camelCase or snake_case keys); enum values
    may be short (``"SMS"`` for ``CHANNEL_TYPE_SMS``)."""
    message = cls()
    json_format.ParseDict(_expand_enums(dict(value), cls.DESCRIPTOR), message)
    return message


def _class_of(message_type: Any) -> type[Message]:
    from google.protobuf import symbol_database

    found: type[Message] = symbol_database.Default().GetSymbol(message_type.full_name)
    return found


def _field_named(message_type: Any, key: str) -> Any:
    return message_type.fields_by_name.get(key) or message_type.fields_by_camelcase_name.get(key)


def _expand_enums(value: Any, message_type: Any) -> Any:
    if not isinstance(value, dict) or message_type.full_name.startswith("google.protobuf."):
        return value
    expanded: dict[str, Any] = {}
    for key, item in value.items():
        field = _field_named(message_type, key)
        if field is None:
            expanded[key] = item
        elif field.enum_type is not None:
            expanded[key] = (
                [_enum_name(field.enum_type, i) for i in item]
                if isinstance(item, list)
                else _enum_name(field.enum_type, item)
            )
        elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
            expanded[key] = (
                [_expand_enums(i, field.message_type) for i in item]
                if isinstance(item, list)
                else _expand_enums(item, field.message_type)
            )
        else:
            expanded[key] = item
    return expanded


def _enum_name(enum_type: Any, value: Any) -> Any:
    return enum_type.values_by_number[enum_number(enum_type, value)].name


def enum_number(enum_type: Any, value: Any) -> int:
    """``"sms"``, ``"SMS"``, ``"CHANNEL_TYPE_SMS"`` or ``3`` -> 3 (ValueError otherwise)."""
    if isinstance(value, int):
        return value
    text = str(value).strip().upper().replace("-", "_")
    prefix = _enum_prefix(enum_type)
    for candidate in (text, prefix + text):
        found = enum_type.values_by_name.get(candidate)
        if found is not None:
            return int(found.number)
    known = ", ".join(v.name.removeprefix(prefix).lower() for v in enum_type.values if v.number)
    raise ValueError(f"unknown {enum_type.name} {value!r}; known: {known}")


def _enum_prefix(enum_type: Any) -> str:
    first = enum_type.values[0].name
    return str(first).removesuffix("UNSPECIFIED") if first.endswith("_UNSPECIFIED") else ""


def enum_label(enum_type: Any, number: int) -> str:
    """``3`` -> ``"sms"``: the short lower-case name of an enum value, for people."""
    found = enum_type.values_by_number.get(number)
    if found is None:
        return str(number)
    return str(found.name).removeprefix(_enum_prefix(enum_type)).lower()


def _infer_mask(request: Message, field: str, resource: Mapping[str, Any]) -> None:
    """The update mask of an Update call given the resource as a dict: its keys."""
    message_type = request.DESCRIPTOR.fields_by_name[field].message_type
    paths = []
    for key in resource:
        found = _field_named(message_type, key)
        if found is not None and found.name not in ("name", "etag"):
            paths.append(found.name)
    request.update_mask.paths.extend(paths)  # type: ignore[attr-defined]
