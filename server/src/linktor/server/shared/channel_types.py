"""Channel types as the domain names them (linktor.v1.ChannelType without its prefix)."""

from __future__ import annotations

from enum import StrEnum


class ChannelType(StrEnum):
    WEBCHAT = "WEBCHAT"
    WHATSAPP = "WHATSAPP"
    SMS = "SMS"
    TELEGRAM = "TELEGRAM"
    RCS = "RCS"
    INSTAGRAM = "INSTAGRAM"
    MESSENGER = "MESSENGER"
    VOICE = "VOICE"
