"""JSON Schemas (OpenAPI 3.1 dialect) for messages and enums, as the proto3 JSON mapping
writes them: lowerCamelCase names, 64-bit integers as strings, enums by name, and the
special JSON forms of the well-known types."""

from __future__ import annotations

from typing import Any

from google.api import field_behavior_pb2  # type: ignore[import-untyped, unused-ignore]
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

Schema = dict[str, Any]
_F = FieldDescriptor
_INT64_PATTERN = r"^-?[0-9]+$"

_SCALARS: dict[int, Schema] = {
    _F.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _F.TYPE_FLOAT: {"type": "number", "format": "float"},
    _F.TYPE_INT32: {"type": "integer", "format": "int32"},
    _F.TYPE_SINT32: {"type": "integer", "format": "int32"},
    _F.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    _F.TYPE_UINT32: {"type": "integer", "format": "uint32", "minimum": 0},
    _F.TYPE_FIXED32: {"type": "integer", "format": "uint32", "minimum": 0},
    _F.TYPE_INT64: {"type": "string", "format": "int64", "pattern": _INT64_PATTERN},
    _F.TYPE_SINT64: {"type": "string", "format": "int64", "pattern": _INT64_PATTERN},
    _F.TYPE_SFIXED64: {"type": "string", "format": "int64", "pattern": _INT64_PATTERN},
    _F.TYPE_UINT64: {"type": "string", "format": "uint64", "pattern": r"^[0-9]+$"},
    _F.TYPE_FIXED64: {"type": "string", "format": "uint64", "pattern": r"^[0-9]+$"},
    _F.TYPE_BOOL: {"type": "boolean"},
    _F.TYPE_STRING: {"type": "string"},
    _F.TYPE_BYTES: {"type": "string", "format": "byte", "contentEncoding": "base64"},
}


def _wrapper(kind: str, **extra: str) -> Schema:
    return {"type": [kind, "null"], **extra}


# Well-known types are inlined with their JSON form instead of being object schemas.
WELL_KNOWN: dict[str, Schema] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {
        "type": "string",
        "description": "Comma-separated field paths (lowerCamelCase), e.g. `displayName,labels`.",
    },
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    "google.protobuf.DoubleValue": _wrapper("number", format="double"),
    "google.protobuf.FloatValue": _wrapper("number", format="float"),
    "google.protobuf.Int64Value": _wrapper("string", format="int64"),
    "google.protobuf.UInt64Value": _wrapper("string", format="uint64"),
    "google.protobuf.Int32Value": _wrapper("integer", format="int32"),
    "google.protobuf.UInt32Value": _wrapper("integer", format="uint32"),
    "google.protobuf.BoolValue": _wrapper("boolean"),
    "google.protobuf.StringValue": _wrapper("string"),
    "google.protobuf.BytesValue": _wrapper("string", format="byte"),
}


def ref(full_name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{full_name}"}


def field_behaviors(field: FieldDescriptor) -> set[int]:
    # Re-parse through the generated FieldOptions so the extension resolves whatever pool
    # the field comes from.
    options = descriptor_pb2.FieldOptions.FromString(field.GetOptions().SerializeToString())
    return set(options.Extensions[field_behavior_pb2.field_behavior])


class SchemaBuilder:
    """Collects component schemas; ``comments`` maps full names to descriptions."""

    def __init__(self, comments: dict[str, str]) -> None:
        self.comments = comments
        self.schemas: dict[str, Schema] = {}

    def _describe(self, schema: Schema, full_name: str) -> Schema:
        text = self.comments.get(full_name)
        if text:
            schema["description"] = text
        return schema

    def enum(self, enum: EnumDescriptor) -> Schema:
        if enum.full_name == "google.protobuf.NullValue":
            return {"type": "null"}
        if enum.full_name not in self.schemas:
            lines = [
                f"- `{v.name}`: {self.comments.get(f'{enum.full_name}.{v.name}', '')}".rstrip(": ")
                for v in enum.values
            ]
            schema: Schema = {"type": "string", "enum": [v.name for v in enum.values]}
            self._describe(schema, enum.full_name)
            schema["description"] = (
                schema.get("description", "") + "\n\n" + "\n".join(lines)
            ).strip()
            self.schemas[enum.full_name] = schema
        return ref(enum.full_name)

    def message(self, message: Descriptor) -> Schema:
        if message.full_name in WELL_KNOWN:
            return dict(WELL_KNOWN[message.full_name])
        if message.full_name not in self.schemas:
            self.schemas[message.full_name] = {}  # placeholder: recursive types terminate
            self.schemas[message.full_name] = self.object_schema(message)
        return ref(message.full_name)

    def object_schema(self, message: Descriptor, exclude: frozenset[str] = frozenset()) -> Schema:
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for field in message.fields:
            if field.name in exclude:
                continue
            properties[field.json_name] = self.property(field)
            if field_behavior_pb2.REQUIRED in field_behaviors(field):
                required.append(field.json_name)
        schema: Schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        self._describe(schema, message.full_name)
        oneofs = [o for o in message.oneofs if not (len(o.fields) == 1 and o.name.startswith("_"))]
        for oneof in oneofs:
            names = ", ".join(f"`{f.json_name}`" for f in oneof.fields)
            note = f"At most one of {names} is set (oneof `{oneof.name}`)."
            schema["description"] = (schema.get("description", "") + "\n\n" + note).strip()
        return schema

    def value(self, field: FieldDescriptor) -> Schema:
        """The schema of one value of the field (an element, for a repeated field)."""
        if field.message_type is not None:
            return self.message(field.message_type)
        if field.enum_type is not None:
            return self.enum(field.enum_type)
        return dict(_SCALARS[field.type])

    def property(self, field: FieldDescriptor) -> Schema:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            schema: Schema = {"type": "object", "additionalProperties": self.value(value_field)}
        elif field.is_repeated:
            schema = {"type": "array", "items": self.value(field)}
        else:
            schema = self.value(field)
        behaviors = field_behaviors(field)
        if field_behavior_pb2.OUTPUT_ONLY in behaviors:
            schema["readOnly"] = True
        if field_behavior_pb2.INPUT_ONLY in behaviors:
            schema["writeOnly"] = True
        notes = []
        if field_behavior_pb2.IMMUTABLE in behaviors:
            notes.append("Immutable: can be set on create only.")
        if field_behavior_pb2.IDENTIFIER in behaviors:
            notes.append("The resource name (identifier).")
        text = self.comments.get(field.full_name, "")
        description = "\n\n".join(t for t in (text, *notes) if t)
        if description:
            schema["description"] = description
        return schema
