"""Canonical MediaContent -> a WhatsApp media object, with Meta's type and size limits.

WhatsApp media objects carry either ``id`` (a media id from an upload) or ``link`` (a
URL Meta fetches). Linktor attachments must be uploaded first (UploadMedia) and sent by
``provider_media_id``: the adapter has no access to the platform's storage.
"""

from __future__ import annotations

from linktor.adapters.whatsapp import limits
from linktor.adapters.whatsapp.content_checks import (
    ContentViolation,
    JsonObject,
    optional_text,
    require_web_url,
)
from linktor.v1 import content_pb2


def check_media_limits(
    field: str, media_type: content_pb2.MediaType.ValueType, mime_type: str, size_bytes: int
) -> None:
    """Refuses media whose declared mime type or size WhatsApp does not accept."""
    rule = limits.media_rule(media_type)
    if rule is None:
        raise ContentViolation(f"{field}.type", "is required (image, video, audio ...)")
    if mime_type:
        base = limits.base_mime_type(mime_type)
        if base not in rule.mime_types:
            raise ContentViolation(
                f"{field}.mime_type",
                f"{base} is not accepted for {content_pb2.MediaType.Name(media_type)}; "
                f"WhatsApp accepts {', '.join(rule.mime_types)}",
            )
    largest = max(rule.max_size_bytes, rule.animated_max_size_bytes)
    if size_bytes > largest:
        raise ContentViolation(
            f"{field}.size_bytes",
            f"{size_bytes} bytes is over WhatsApp's limit of {largest} bytes "
            f"for {content_pb2.MediaType.Name(media_type)}",
        )


def media_object(
    field: str, media: content_pb2.MediaContent, *, with_caption: bool = True
) -> tuple[str, JsonObject]:
    """The WhatsApp message type and media object for canonical media.

    ``with_caption`` is False where WhatsApp has no place for a caption (template and
    interactive headers).
    """
    check_media_limits(field, media.type, media.mime_type, media.size_bytes)
    rule = limits.media_rule(media.type)
    assert rule is not None  # checked above
    source = media.WhichOneof("source")
    obj: JsonObject
    if source == "provider_media_id":
        obj = {"id": media.provider_media_id}
    elif source == "url":
        obj = {"link": require_web_url(f"{field}.url", media.url)}
    elif source == "attachment":
        raise ContentViolation(
            f"{field}.attachment",
            "WhatsApp cannot fetch Linktor attachments; upload it with UploadMedia and "
            "send the returned provider_media_id",
        )
    else:
        raise ContentViolation(field, "needs a source: url or provider_media_id")
    if media.caption:
        if not (with_caption and rule.supports_caption):
            raise ContentViolation(
                f"{field}.caption",
                f"WhatsApp shows no caption on {content_pb2.MediaType.Name(media.type)} here",
            )
        obj["caption"] = optional_text(f"{field}.caption", media.caption, limits.MEDIA_CAPTION_MAX)
    if media.filename and rule.supports_filename:
        obj["filename"] = optional_text(
            f"{field}.filename", media.filename, limits.DOCUMENT_FILENAME_MAX
        )
    if media.type == content_pb2.MEDIA_TYPE_VOICE:
        # Meta shows OGG/Opus audio sent with voice=true as a voice note (auto-download,
        # transcription, "played" status).
        obj["voice"] = True
    return rule.whatsapp_type, obj
