"""Content sniffing: the declared media type must match the file's leading bytes for the
types that have a signature (a caller cannot pass an HTML page off as a PNG)."""

from __future__ import annotations

_PREFIXES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/bmp": (b"BM",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "audio/ogg": (b"OggS",),
    "audio/opus": (b"OggS",),
    "audio/flac": (b"fLaC",),
    "audio/amr": (b"#!AMR",),
    "video/webm": (b"\x1a\x45\xdf\xa3",),
    "audio/webm": (b"\x1a\x45\xdf\xa3",),
}
# RIFF containers: bytes 8..12 name the format.
_RIFF = {"image/webp": b"WEBP", "audio/wav": b"WAVE"}
# ISO base media files (mp4, 3gp, mov, heic): "ftyp" at byte 4.
_ISO_BMFF = frozenset(
    {"video/mp4", "video/3gpp", "video/quicktime", "audio/mp4", "audio/x-m4a", "image/heic",
     "image/heif"}
)  # fmt: skip
# Office Open XML and OpenDocument files are zip archives.
_ZIPPED_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)

#: Bytes needed to decide.
SNIFF_BYTES = 16


def content_matches(mime_type: str, head: bytes) -> bool:
    """Whether ``head`` (the first bytes) can be a ``mime_type`` file; types without a known
    signature always match."""
    if mime_type in _RIFF:
        return head[:4] == b"RIFF" and head[8:12] == _RIFF[mime_type]
    if mime_type in _ISO_BMFF:
        return head[4:8] == b"ftyp"
    if mime_type.startswith(_ZIPPED_PREFIXES):
        return head.startswith(b"PK\x03\x04")
    prefixes = _PREFIXES.get(mime_type)
    return prefixes is None or any(head.startswith(p) for p in prefixes)
