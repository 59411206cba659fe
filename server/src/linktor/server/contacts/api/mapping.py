"""Contact domain objects <-> linktor.v1 protos."""

from __future__ import annotations

from linktor.server.contacts.domain.contact import Contact, Identity
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
