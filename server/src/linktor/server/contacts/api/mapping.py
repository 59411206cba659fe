"""Contact domain objects <-> linktor.v1 protos."""

from __future__ import annotations

from linktor.server.contacts.domain.contact import Contact, Identity, normalize_address
from linktor.server.contacts.domain.fields import ContactFields
from linktor.server.shared import names
from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.proto_time import set_time
from linktor.v1 import common_pb2, contact_pb2


def identity_to_proto(identity: Identity, tenant_id: str) -> contact_pb2.ContactIdentity:
    proto = contact_pb2.ContactIdentity(
        channel_type=common_pb2.ChannelType.Value(f"CHANNEL_TYPE_{identity.channel_type.value}"),
        address=identity.address,
        display_name=identity.display_name,
    )
    if identity.channel_id:
        proto.channel = f"tenants/{tenant_id}/channels/{identity.channel_id}"
    set_time(proto.create_time, identity.create_time)
    return proto


def contact_to_proto(contact: Contact) -> contact_pb2.Contact:
    proto = contact_pb2.Contact(
        name=contact.name,
        display_name=contact.display_name,
        identities=[identity_to_proto(i, contact.tenant_id) for i in contact.identities],
        email=contact.email,
        phone_number=contact.phone_number,
        locale=contact.locale,
        avatar_url=contact.avatar_url,
        tags=list(contact.tags),
        attributes=contact.attributes,
        etag=contact.etag,
    )
    set_time(proto.create_time, contact.create_time)
    set_time(proto.update_time, contact.update_time)
    return proto


def channel_type_from_proto(value: int, field_path: str) -> ChannelType:
    """A required channel type; INVALID_ARGUMENT naming ``field_path`` when unset or unknown."""
    if value == common_pb2.CHANNEL_TYPE_UNSPECIFIED:
        raise InvalidArgument.for_field(field_path, "is required")
    try:
        name = common_pb2.ChannelType.Name(common_pb2.ChannelType.ValueType(value))
        return ChannelType(name.removeprefix("CHANNEL_TYPE_"))
    except ValueError as exc:
        raise InvalidArgument.for_field(field_path, f"unknown channel type {value}") from exc


def identity_from_proto(
    proto: contact_pb2.ContactIdentity, tenant_id: str, field_path: str
) -> Identity:
    channel_id = None
    if proto.channel:
        parts = names.CHANNEL.parse(proto.channel, f"{field_path}.channel")
        if parts["tenant"] != tenant_id:
            raise InvalidArgument.for_field(f"{field_path}.channel", "is not a channel of yours")
        channel_id = parts["channel"]
    channel_type = channel_type_from_proto(proto.channel_type, f"{field_path}.channel_type")
    try:
        address = normalize_address(channel_type, proto.address)
    except InvalidArgument as exc:
        raise InvalidArgument.for_field(f"{field_path}.address", exc.message) from exc
    return Identity(
        channel_type=channel_type,
        address=address,
        channel_id=channel_id,
        display_name=proto.display_name.strip()[:200],
    )


UPDATABLE = ("display_name", "email", "phone_number", "locale", "avatar_url", "tags", "attributes")


def contact_fields_from_proto(proto: contact_pb2.Contact, paths: set[str]) -> ContactFields:
    """The values of the named fields (all others None: unchanged)."""
    return ContactFields(
        display_name=proto.display_name if "display_name" in paths else None,
        email=proto.email if "email" in paths else None,
        phone_number=proto.phone_number if "phone_number" in paths else None,
        locale=proto.locale if "locale" in paths else None,
        avatar_url=proto.avatar_url if "avatar_url" in paths else None,
        tags=tuple(proto.tags) if "tags" in paths else None,
        attributes=dict(proto.attributes) if "attributes" in paths else None,
    )
