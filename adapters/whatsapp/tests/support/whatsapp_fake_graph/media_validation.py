"""The media object check shared by plain media, interactive headers and templates."""

from __future__ import annotations

from typing import Any

from whatsapp_fake_graph.meta_errors import invalid_parameter


def validate_media_object(wa_type: str, obj: dict[str, Any], known_media_ids: set[str]) -> None:
    """A media object: exactly one of id and link; the id must have been uploaded."""
    has_id, has_link = "id" in obj, "link" in obj
    if has_id == has_link:
        raise invalid_parameter(f"Param {wa_type} must have exactly one of id or link.")
    if has_id and obj["id"] not in known_media_ids:
        raise invalid_parameter(f"Param {wa_type}['id'] is not a valid media id.")
    if has_link and not str(obj["link"]).startswith(("http://", "https://")):
        raise invalid_parameter(f"Param {wa_type}['link'] must be a valid URL.")
