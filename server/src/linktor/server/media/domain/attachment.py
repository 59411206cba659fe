"""The Attachment entity and the rules for what may be stored: media types and sizes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from linktor.server.shared.errors import InvalidArgument

MIB = 1024 * 1024
#: Largest file CreateAttachment takes inline (the RPC's bytes field).
MAX_INLINE_BYTES = 16 * MIB
MAX_FILENAME = 255

# Media types that may be stored, by family, with the family's size limit. Types a browser
# would run (HTML, SVG, JavaScript) are not here: downloads are served from the API's origin.
_IMAGE = ("jpeg", "png", "gif", "webp", "heic", "heif", "bmp", "tiff")
_VIDEO = ("mp4", "3gpp", "quicktime", "webm", "mpeg")
_AUDIO = ("aac", "amr", "mpeg", "mp4", "ogg", "opus", "wav", "webm", "x-m4a", "flac")
_DOCUMENTS = (
    "application/pdf",
    "application/zip",
    "application/json",
    "application/rtf",
    "application/octet-stream",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "text/plain",
    "text/csv",
    "text/calendar",
    "text/vcard",
    "text/x-vcard",
)
_DOCUMENT_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)
FAMILY_LIMITS = {"image": 16 * MIB, "video": 100 * MIB, "audio": 64 * MIB, "document": 100 * MIB}
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def normalize_mime(raw: str) -> str:
    """``Image/JPEG; charset=x`` -> ``image/jpeg``."""
    return raw.split(";", 1)[0].strip().lower()


def family_of(mime_type: str) -> str | None:
    """image, video, audio or document; None when the type may not be stored."""
    major, _, minor = mime_type.partition("/")
    if major == "image" and minor in _IMAGE:
        return "image"
    if major == "video" and minor in _VIDEO:
        return "video"
    if major == "audio" and minor in _AUDIO:
        return "audio"
    if mime_type in _DOCUMENTS or mime_type.startswith(_DOCUMENT_PREFIXES):
        return "document"
    return None


@dataclass(frozen=True)
class MediaPolicy:
    """What a tenant may store: allowed types and, per family, the size limit (never more
    than ``max_bytes``, the installation's cap)."""

    max_bytes: int = 100 * MIB

    def limit_for(self, mime_type: str) -> int:
        family = family_of(mime_type)
        if family is None:
            raise InvalidArgument.for_field(
                "attachment.mime_type",
                f"{mime_type[:80]!r} cannot be stored; allowed: images (jpeg, png, gif, webp ...),"
                " videos (mp4, 3gpp, quicktime, webm), audio (aac, amr, mpeg, mp4, ogg, opus,"
                " wav ...), documents (pdf, Office and OpenDocument files, text, csv, zip,"
                " application/octet-stream)",
            )
        return min(FAMILY_LIMITS[family], self.max_bytes)

    def check_type(self, raw_mime: str) -> tuple[str, int]:
        """The normalized type and its size limit; InvalidArgument naming the field."""
        mime = normalize_mime(raw_mime)
        if not mime:
            raise InvalidArgument.for_field("attachment.mime_type", "is required")
        if not _MIME.match(mime):
            raise InvalidArgument.for_field(
                "attachment.mime_type", f"{raw_mime[:80]!r} is not a media type like image/jpeg"
            )
        return mime, self.limit_for(mime)


def check_size(size: int, limit: int, mime_type: str) -> None:
    if size <= 0:
        raise InvalidArgument.for_field("data", "the file is empty")
    if size > limit:
        raise InvalidArgument.for_field(
            "data", f"{size} bytes is over the limit of {limit} bytes for {mime_type}"
        )


def clean_filename(raw: str) -> str:
    """A file name safe to show and to put in Content-Disposition: no directories, no
    control characters, at most 255 characters; empty stays empty."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    name = name.lstrip(".").strip()
    return name[:MAX_FILENAME]


@dataclass(frozen=True)
class Attachment:
    id: str
    tenant_id: str
    filename: str
    mime_type: str
    size_bytes: int
    sha256: str
    storage_key: str
    create_time: datetime

    @property
    def name(self) -> str:
        return f"tenants/{self.tenant_id}/attachments/{self.id}"


def storage_key(tenant_id: str, attachment_id: str) -> str:
    """Keys are tenant-scoped: one tenant's files never share a directory with another's."""
    return f"{tenant_id}/{attachment_id}"
