"""linktor.v1.ContactService."""
# ruff: noqa: N802 - gRPC method names are the proto's

from __future__ import annotations

from functools import partial
from typing import Any

import grpc
from google.protobuf import empty_pb2

from linktor.server.api.field_masks import update_paths
from linktor.server.contacts.api.mapping import (
    UPDATABLE,
    channel_type_from_proto,
    contact_fields_from_proto,
    contact_to_proto,
    identity_from_proto,
)
from linktor.server.contacts.app.contacts import ContactAdmin
from linktor.server.contacts.app.merge import ContactMerger
from linktor.server.contacts.app.ports import ContactFilter
from linktor.server.contacts.domain.fields import validate_fields
from linktor.server.shared import names
from linktor.server.shared.errors import InvalidArgument
from linktor.server.shared.idempotency import fingerprint
from linktor.server.shared.principal import current_principal
from linktor.server.shared.validation import Violations
from linktor.v1 import common_pb2, contact_pb2, contact_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]

MAX_REQUEST_ID = 128


def _contact_name(name: str, field: str = "name") -> tuple[str, str]:
    parts = names.CONTACT.parse(name, field)
    return parts["tenant"], parts["contact"]


class ContactServicer(contact_pb2_grpc.ContactServiceServicer):
    def __init__(self, contacts: ContactAdmin, merger: ContactMerger) -> None:
        self._contacts = contacts
        self._merger = merger

    async def CreateContact(
        self, request: contact_pb2.CreateContactRequest, context: Context
    ) -> contact_pb2.Contact:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        if not request.HasField("contact"):
            raise InvalidArgument.for_field("contact", "is required")
        if len(request.request_id) > MAX_REQUEST_ID:
            raise InvalidArgument.for_field(
                "request_id", f"must be at most {MAX_REQUEST_ID} characters"
            )
        found = Violations()
        identities = [
            found.check(partial(identity_from_proto, i, tenant_id, f"contact.identities[{n}]"))
            for n, i in enumerate(request.contact.identities)
        ]
        fields = contact_fields_from_proto(request.contact, set(UPDATABLE))
        found.check(lambda: validate_fields(fields))
        found.raise_any()
        contact = await self._contacts.create(
            current_principal(),
            tenant_id,
            fields,
            [i for i in identities if i is not None],
            request_id=request.request_id,
            request_hash=fingerprint(request),
        )
        return contact_to_proto(contact)

    async def GetContact(
        self, request: contact_pb2.GetContactRequest, context: Context
    ) -> contact_pb2.Contact:
        tenant_id, contact_id = _contact_name(request.name)
        contact = await self._contacts.get(current_principal(), tenant_id, contact_id)
        return contact_to_proto(contact)

    async def ListContacts(
        self, request: contact_pb2.ListContactsRequest, context: Context
    ) -> contact_pb2.ListContactsResponse:
        tenant_id = names.TENANT.parse(request.parent, "parent")["tenant"]
        channel_type = None
        if request.channel_type != common_pb2.CHANNEL_TYPE_UNSPECIFIED:
            channel_type = channel_type_from_proto(request.channel_type, "channel_type")
        where = ContactFilter(
            query=request.query, tags=tuple(request.tags), channel_type=channel_type
        )
        page = await self._contacts.list(
            current_principal(),
            tenant_id,
            where,
            size=request.page_size,
            token=request.page_token,
        )
        return contact_pb2.ListContactsResponse(
            contacts=[contact_to_proto(c) for c in page.contacts],
            next_page_token=page.next_page_token,
        )

    async def UpdateContact(
        self, request: contact_pb2.UpdateContactRequest, context: Context
    ) -> contact_pb2.Contact:
        tenant_id, contact_id = _contact_name(request.contact.name, "contact.name")
        paths = update_paths(request.update_mask, request.contact, UPDATABLE, "contact")
        contact = await self._contacts.update(
            current_principal(),
            tenant_id,
            contact_id,
            contact_fields_from_proto(request.contact, paths),
            etag=request.contact.etag,
        )
        return contact_to_proto(contact)

    async def DeleteContact(
        self, request: contact_pb2.DeleteContactRequest, context: Context
    ) -> empty_pb2.Empty:
        tenant_id, contact_id = _contact_name(request.name)
        await self._contacts.delete(current_principal(), tenant_id, contact_id, etag=request.etag)
        return empty_pb2.Empty()

    async def AddContactIdentity(
        self, request: contact_pb2.AddContactIdentityRequest, context: Context
    ) -> contact_pb2.Contact:
        tenant_id, contact_id = _contact_name(request.name)
        if not request.HasField("identity"):
            raise InvalidArgument.for_field("identity", "is required")
        identity = identity_from_proto(request.identity, tenant_id, "identity")
        contact = await self._contacts.add_identity(
            current_principal(), tenant_id, contact_id, identity
        )
        return contact_to_proto(contact)

    async def RemoveContactIdentity(
        self, request: contact_pb2.RemoveContactIdentityRequest, context: Context
    ) -> contact_pb2.Contact:
        tenant_id, contact_id = _contact_name(request.name)
        channel_type = channel_type_from_proto(request.channel_type, "channel_type")
        if not request.address.strip():
            raise InvalidArgument.for_field("address", "is required")
        contact = await self._contacts.remove_identity(
            current_principal(), tenant_id, contact_id, channel_type, request.address
        )
        return contact_to_proto(contact)

    async def MergeContacts(
        self, request: contact_pb2.MergeContactsRequest, context: Context
    ) -> contact_pb2.Contact:
        tenant_id, survivor_id = _contact_name(request.name)
        source_ids = []
        for index, name in enumerate(request.source_contacts):
            source_tenant, source_id = _contact_name(name, f"source_contacts[{index}]")
            if source_tenant != tenant_id:
                raise InvalidArgument.for_field(
                    f"source_contacts[{index}]", "must be a contact of the same tenant"
                )
            source_ids.append(source_id)
        contact = await self._merger.merge(current_principal(), tenant_id, survivor_id, source_ids)
        return contact_to_proto(contact)
