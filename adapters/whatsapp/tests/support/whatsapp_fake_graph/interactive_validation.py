"""Meta's documented checks of interactive message objects (button, list, cta_url,
product, product_list)."""

from __future__ import annotations

from typing import Any

from whatsapp_fake_graph.media_validation import validate_media_object
from whatsapp_fake_graph.meta_errors import invalid_parameter


def _text(obj: Any, key: str, where: str, max_length: int) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, str) or not value:
        raise invalid_parameter(f"The parameter {where} is required.")
    if len(value) > max_length:
        raise invalid_parameter(f"Param {where} must be at most {max_length} characters long.")
    return value


def _list(obj: Any, key: str, where: str, low: int, high: int) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise invalid_parameter(f"Param {where} must have between {low} and {high} elements.")
    return value


def _header(header: Any, media_allowed: bool, known_media_ids: set[str]) -> None:
    if header is None:
        return
    kind = header.get("type") if isinstance(header, dict) else None
    if kind == "text":
        _text(header, "text", "interactive['header']['text']", 60)
    elif media_allowed and kind in ("image", "video", "document"):
        media = header.get(kind)
        if not isinstance(media, dict):
            raise invalid_parameter(f"The parameter interactive['header']['{kind}'] is required.")
        validate_media_object(kind, media, known_media_ids)
    else:
        raise invalid_parameter("Param interactive['header']['type'] is invalid.")


def validate_interactive(obj: dict[str, Any], known_media_ids: set[str]) -> None:
    kind = obj.get("type")
    action = obj.get("action")
    if not isinstance(action, dict):
        raise invalid_parameter("The parameter interactive['action'] is required.")
    if kind != "product":
        _text(obj.get("body"), "text", "interactive['body']['text']", 1024)
    if "footer" in obj:
        _text(obj.get("footer"), "text", "interactive['footer']['text']", 60)
    if kind == "button":
        _header(obj.get("header"), True, known_media_ids)
        buttons = _list(action, "buttons", "interactive['action']['buttons']", 1, 3)
        ids = []
        for i, button in enumerate(buttons):
            if not isinstance(button, dict) or button.get("type") != "reply":
                raise invalid_parameter(
                    f"Param interactive['action']['buttons'][{i}]['type'] must be reply."
                )
            reply = button.get("reply")
            ids.append(_text(reply, "id", f"buttons[{i}]['reply']['id']", 256))
            _text(reply, "title", f"buttons[{i}]['reply']['title']", 20)
        if len(set(ids)) != len(ids):
            raise invalid_parameter("Button ids must be unique.")
    elif kind == "list":
        _header(obj.get("header"), False, known_media_ids)
        _text(action, "button", "interactive['action']['button']", 20)
        sections = _list(action, "sections", "interactive['action']['sections']", 1, 10)
        rows = 0
        for s, section in enumerate(sections):
            if len(sections) > 1 or "title" in section:
                _text(section, "title", f"sections[{s}]['title']", 24)
            for r, row in enumerate(_list(section, "rows", f"sections[{s}]['rows']", 1, 10)):
                rows += 1
                _text(row, "id", f"sections[{s}]['rows'][{r}]['id']", 200)
                _text(row, "title", f"sections[{s}]['rows'][{r}]['title']", 24)
                if "description" in row:
                    _text(row, "description", f"sections[{s}]['rows'][{r}]['description']", 72)
        if rows > 10:
            raise invalid_parameter("Total row count exceed max allowed count: 10")
    elif kind == "cta_url":
        _header(obj.get("header"), True, known_media_ids)
        if action.get("name") != "cta_url":
            raise invalid_parameter("Param interactive['action']['name'] must be cta_url.")
        parameters = action.get("parameters")
        _text(parameters, "display_text", "action['parameters']['display_text']", 20)
        _text(parameters, "url", "action['parameters']['url']", 2000)
    elif kind == "product":
        if "header" in obj:
            raise invalid_parameter("Param interactive['header'] is not supported for product.")
        _text(action, "catalog_id", "action['catalog_id']", 100)
        _text(action, "product_retailer_id", "action['product_retailer_id']", 100)
    elif kind == "product_list":
        header = obj.get("header")
        if not isinstance(header, dict) or header.get("type") != "text":
            raise invalid_parameter("The parameter interactive['header'] of type text is required.")
        _header(header, False, known_media_ids)
        _text(action, "catalog_id", "action['catalog_id']", 100)
        products = 0
        for s, section in enumerate(_list(action, "sections", "action['sections']", 1, 10)):
            _text(section, "title", f"sections[{s}]['title']", 24)
            products += len(
                _list(section, "product_items", f"sections[{s}]['product_items']", 1, 30)
            )
        if products > 30:
            raise invalid_parameter("Total product count exceed max allowed count: 30")
    else:
        raise invalid_parameter("Param interactive['type'] is invalid.")
