"""Canonical InteractiveContent -> WhatsApp interactive messages.

Reply buttons (``button``), lists (``list``), call-to-action URL buttons (``cta_url``),
single-product (``product``) and multi-product (``product_list``) messages. Quick
replies have no WhatsApp equivalent; the core degrades them to reply buttons or text
using the declared capabilities, and the adapter refuses any that reach it.
"""

from __future__ import annotations

from linktor.adapters.whatsapp import limits
from linktor.adapters.whatsapp.content_checks import (
    ContentViolation,
    JsonObject,
    optional_text,
    require_count,
    require_text,
    require_unique,
    require_web_url,
)
from linktor.adapters.whatsapp.outbound_media import media_object
from linktor.v1 import content_pb2

_FIELD = "content.interactive"
# Which header kinds each interactive type accepts, as Meta documents.
_MEDIA_HEADER_TYPES = ("image", "video", "document")


def interactive_message(interactive: content_pb2.InteractiveContent) -> JsonObject:
    """The ``interactive`` object of a WhatsApp message."""
    action = interactive.WhichOneof("action")
    if action == "buttons":
        return _reply_buttons(interactive)
    if action == "list":
        return _list(interactive)
    if action == "cta_url":
        return _cta_url(interactive)
    if action == "product":
        return _product(interactive)
    if action == "product_list":
        return _product_list(interactive)
    if action == "quick_replies":
        raise ContentViolation(
            f"{_FIELD}.quick_replies", "WhatsApp has no quick replies; use reply buttons"
        )
    raise ContentViolation(_FIELD, "needs an action (buttons, list, cta_url, product ...)")


def _header(interactive: content_pb2.InteractiveContent, *, media_allowed: bool) -> JsonObject:
    header = interactive.header
    kind = header.WhichOneof("kind")
    if kind == "text":
        text = require_text(
            f"{_FIELD}.header.text", header.text, limits.INTERACTIVE_HEADER_TEXT_MAX
        )
        return {"type": "text", "text": text}
    if kind == "media":
        if not media_allowed:
            raise ContentViolation(f"{_FIELD}.header.media", "this message type takes text only")
        wa_type, obj = media_object(f"{_FIELD}.header.media", header.media, with_caption=False)
        if wa_type not in _MEDIA_HEADER_TYPES:
            raise ContentViolation(
                f"{_FIELD}.header.media.type", "a header can be an image, a video or a document"
            )
        return {"type": wa_type, wa_type: obj}
    return {}


def _frame(
    interactive: content_pb2.InteractiveContent,
    wa_type: str,
    *,
    body_required: bool = True,
    header: JsonObject | None = None,
) -> JsonObject:
    """The parts every interactive type shares: type, header, body, footer."""
    message: JsonObject = {"type": wa_type}
    if header:
        message["header"] = header
    if body_required:
        body = require_text(f"{_FIELD}.body", interactive.body, limits.INTERACTIVE_BODY_MAX)
        message["body"] = {"text": body}
    elif interactive.body:
        body = optional_text(f"{_FIELD}.body", interactive.body, limits.INTERACTIVE_BODY_MAX)
        message["body"] = {"text": body}
    if interactive.footer:
        footer = optional_text(
            f"{_FIELD}.footer", interactive.footer, limits.INTERACTIVE_FOOTER_MAX
        )
        message["footer"] = {"text": footer}
    return message


def _reply_buttons(interactive: content_pb2.InteractiveContent) -> JsonObject:
    field = f"{_FIELD}.buttons.buttons"
    buttons = interactive.buttons.buttons
    require_count(field, len(buttons), 1, limits.REPLY_BUTTONS_MAX, "buttons")
    require_unique(field, [b.id for b in buttons], "button id")
    wa_buttons = [
        {
            "type": "reply",
            "reply": {
                "id": require_text(f"{field}[{i}].id", b.id, limits.REPLY_BUTTON_ID_MAX),
                "title": require_text(
                    f"{field}[{i}].title", b.title, limits.REPLY_BUTTON_TITLE_MAX
                ),
            },
        }
        for i, b in enumerate(buttons)
    ]
    message = _frame(interactive, "button", header=_header(interactive, media_allowed=True))
    message["action"] = {"buttons": wa_buttons}
    return message


def _list(interactive: content_pb2.InteractiveContent) -> JsonObject:
    field = f"{_FIELD}.list"
    sections = interactive.list.sections
    require_count(f"{field}.sections", len(sections), 1, limits.LIST_SECTIONS_MAX, "sections")
    rows = [row for section in sections for row in section.rows]
    require_count(f"{field}.sections", len(rows), 1, limits.LIST_ROWS_MAX, "rows in all")
    require_unique(f"{field}.sections", [row.id for row in rows], "row id")
    wa_sections: list[JsonObject] = []
    for s, section in enumerate(sections):
        section_field = f"{field}.sections[{s}]"
        require_count(f"{section_field}.rows", len(section.rows), 1, limits.LIST_ROWS_MAX, "rows")
        wa_section: JsonObject = {}
        if len(sections) > 1 or section.title:
            # Meta requires a title on every section once there are several.
            wa_section["title"] = require_text(
                f"{section_field}.title", section.title, limits.LIST_SECTION_TITLE_MAX
            )
        wa_rows: list[JsonObject] = []
        for r, row in enumerate(section.rows):
            row_field = f"{section_field}.rows[{r}]"
            wa_row: JsonObject = {
                "id": require_text(f"{row_field}.id", row.id, limits.LIST_ROW_ID_MAX),
                "title": require_text(f"{row_field}.title", row.title, limits.LIST_ROW_TITLE_MAX),
            }
            if row.description:
                wa_row["description"] = optional_text(
                    f"{row_field}.description", row.description, limits.LIST_ROW_DESCRIPTION_MAX
                )
            wa_rows.append(wa_row)
        wa_section["rows"] = wa_rows
        wa_sections.append(wa_section)
    button = require_text(
        f"{field}.button_text", interactive.list.button_text, limits.LIST_BUTTON_TEXT_MAX
    )
    message = _frame(interactive, "list", header=_header(interactive, media_allowed=False))
    message["action"] = {"button": button, "sections": wa_sections}
    return message


def _cta_url(interactive: content_pb2.InteractiveContent) -> JsonObject:
    field = f"{_FIELD}.cta_url"
    cta = interactive.cta_url
    display_text = require_text(
        f"{field}.display_text", cta.display_text, limits.CTA_URL_DISPLAY_TEXT_MAX
    )
    url = require_web_url(f"{field}.url", cta.url)
    message = _frame(interactive, "cta_url", header=_header(interactive, media_allowed=True))
    message["action"] = {
        "name": "cta_url",
        "parameters": {"display_text": display_text, "url": url},
    }
    return message


def _product(interactive: content_pb2.InteractiveContent) -> JsonObject:
    field = f"{_FIELD}.product"
    product = interactive.product
    if interactive.HasField("header"):
        raise ContentViolation(f"{_FIELD}.header", "single-product messages take no header")
    message = _frame(interactive, "product", body_required=False)
    message["action"] = {
        "catalog_id": require_text(f"{field}.catalog_id", product.catalog_id, 100),
        "product_retailer_id": require_text(
            f"{field}.product_retailer_id", product.product_retailer_id, 100
        ),
    }
    return message


def _product_list(interactive: content_pb2.InteractiveContent) -> JsonObject:
    field = f"{_FIELD}.product_list"
    product_list = interactive.product_list
    sections = product_list.sections
    require_count(
        f"{field}.sections", len(sections), 1, limits.PRODUCT_LIST_SECTIONS_MAX, "sections"
    )
    total = sum(len(section.product_retailer_ids) for section in sections)
    require_count(
        f"{field}.sections", total, 1, limits.PRODUCT_LIST_PRODUCTS_MAX, "products in all"
    )
    if interactive.header.WhichOneof("kind") != "text":
        raise ContentViolation(f"{_FIELD}.header.text", "multi-product messages need a text header")
    wa_sections = []
    for s, section in enumerate(sections):
        section_field = f"{field}.sections[{s}]"
        require_count(
            f"{section_field}.product_retailer_ids",
            len(section.product_retailer_ids),
            1,
            limits.PRODUCT_LIST_PRODUCTS_MAX,
            "products",
        )
        wa_sections.append(
            {
                "title": require_text(
                    f"{section_field}.title", section.title, limits.LIST_SECTION_TITLE_MAX
                ),
                "product_items": [
                    {"product_retailer_id": retailer_id}
                    for retailer_id in section.product_retailer_ids
                ],
            }
        )
    message = _frame(interactive, "product_list", header=_header(interactive, media_allowed=False))
    message["action"] = {
        "catalog_id": require_text(f"{field}.catalog_id", product_list.catalog_id, 100),
        "sections": wa_sections,
    }
    return message
