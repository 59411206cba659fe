"""The Contact entity and its identities (channel type + address, unique per tenant)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from linktor.server.shared.channel_types import ChannelType
from linktor.server.shared.errors import AlreadyExists, InvalidArgument, NotFound


@dataclass(frozen=True)
class Identity:
    """An address of a contact on a channel type."""

    channel_type: ChannelType
    address: str
    channel_id: str | None = None
    display_name: str = ""
    create_time: datetime | None = None

    @property
    def key(self) -> tuple[ChannelType, str]:
        return (self.channel_type, self.address)


def normalize_address(channel_type: ChannelType, address: str) -> str:
    """The canonical spelling of an address: phone numbers as E.164 ("+" and digits)."""
    address = address.strip()
    if not address:
        raise InvalidArgument.for_field("address", "must not be empty")
    if channel_type in (ChannelType.WHATSAPP, ChannelType.SMS, ChannelType.VOICE):
        digits = "".join(ch for ch in address if ch.isdigit())
        if not 6 <= len(digits) <= 15:
            raise InvalidArgument.for_field(
                "address", f"{address!r} is not a phone number (E.164: + and 6 to 15 digits)"
            )
        return "+" + digits
    if len(address) > 255:
        raise InvalidArgument.for_field("address", "must be at most 255 characters")
    return address


@dataclass(frozen=True)
class Contact:
    id: str
    tenant_id: str
    display_name: str
    create_time: datetime
    update_time: datetime
    identities: tuple[Identity, ...] = ()
    email: str = ""
    phone_number: str = ""
    locale: str = ""
    avatar_url: str = ""
    tags: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    version: int = 1

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/contacts/{self.id}"

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    def identity(self, channel_type: ChannelType) -> Identity | None:
        """The contact's first identity on a channel type."""
        return next((i for i in self.identities if i.channel_type is channel_type), None)

    def add_identity(self, identity: Identity, now: datetime) -> Contact:
        if any(i.key == identity.key for i in self.identities):
            raise AlreadyExists(
                f"{self.name} already has the {identity.channel_type.value} identity "
                f"{identity.address}"
            )
        return replace(self, identities=(*self.identities, identity), update_time=now)

    def remove_identity(self, channel_type: ChannelType, address: str, now: datetime) -> Contact:
        kept = tuple(i for i in self.identities if i.key != (channel_type, address))
        if len(kept) == len(self.identities):
            raise NotFound(f"{self.name} has no {channel_type.value} identity {address}")
        return replace(self, identities=kept, update_time=now)
