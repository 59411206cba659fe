"""GET /{waba-id}/message_templates -> linktor.v1.MessageTemplate.

Each template's components are described with how many parameters they take, so the
core can check a TemplateContent before sending: ``{{1}}``-style placeholders
(positional) or ``{{name}}``-style ones (named, whose names are listed), a media header
takes one media parameter, URL buttons one suffix per placeholder, copy-code buttons one
coupon code.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf import timestamp_pb2

from linktor.adapters.whatsapp.content_checks import JsonObject
from linktor.adapters.whatsapp.graph_client import GraphClient
from linktor.v1 import channel_pb2, content_pb2

# Meta's page size for listing templates; a WABA has at most a few hundred.
PAGE_SIZE = 100
# Bounded paging: stop even if Meta kept returning cursors.
MAX_PAGES = 50

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
_COMPONENT_TYPES = {
    "HEADER": content_pb2.TEMPLATE_COMPONENT_TYPE_HEADER,
    "BODY": content_pb2.TEMPLATE_COMPONENT_TYPE_BODY,
    "FOOTER": content_pb2.TEMPLATE_COMPONENT_TYPE_FOOTER,
}


def _object(value: Any) -> JsonObject:
    return value if isinstance(value, dict) else {}


def placeholders(text: str) -> tuple[int, list[str]]:
    """(parameter count, names) of a template text; names empty for positional ones."""
    found = list(dict.fromkeys(_PLACEHOLDER.findall(text)))
    if all(name.isdigit() for name in found):
        return len(found), []
    return len(found), found


def _text_component(
    kind: content_pb2.TemplateComponentType.ValueType, component: JsonObject
) -> channel_pb2.MessageTemplateComponent:
    text = str(component.get("text", ""))
    count, names = placeholders(text)
    fmt = str(component.get("format", "")).upper()
    if kind == content_pb2.TEMPLATE_COMPONENT_TYPE_HEADER and fmt in _MEDIA_FORMATS:
        # A media or location header is filled by one parameter when sending.
        count, names = 1, []
    return channel_pb2.MessageTemplateComponent(
        type=kind, format=fmt, text=text, parameter_count=count, parameter_names=names
    )


def _button_components(component: JsonObject) -> list[channel_pb2.MessageTemplateComponent]:
    result = []
    for button in component.get("buttons") or []:
        if not isinstance(button, dict):
            continue
        sub_type = str(button.get("type", "")).lower()
        url = str(button.get("url", ""))
        count, names = placeholders(url) if sub_type == "url" else (0, [])
        if sub_type == "copy_code":
            count = 1
        result.append(
            channel_pb2.MessageTemplateComponent(
                type=content_pb2.TEMPLATE_COMPONENT_TYPE_BUTTON,
                text=url or str(button.get("phone_number", "")),
                button_sub_type=sub_type,
                button_text=str(button.get("text", "")),
                parameter_count=count,
                parameter_names=names,
            )
        )
    return result


def message_template(
    template: JsonObject, sync_time: timestamp_pb2.Timestamp
) -> channel_pb2.MessageTemplate:
    """One template as Linktor describes it (the resource name is left to the core)."""
    components: list[channel_pb2.MessageTemplateComponent] = []
    for component in template.get("components") or []:
        if not isinstance(component, dict):
            continue
        kind_name = str(component.get("type", "")).upper()
        if kind_name == "BUTTONS":
            components.extend(_button_components(component))
        elif kind_name in _COMPONENT_TYPES:
            components.append(_text_component(_COMPONENT_TYPES[kind_name], component))
    return channel_pb2.MessageTemplate(
        template_name=str(template.get("name", "")),
        language=str(template.get("language", "")),
        category=str(template.get("category", "")),
        status=str(template.get("status", "")),
        provider_template_id=str(template.get("id", "")),
        components=components,
        sync_time=sync_time,
    )


async def list_templates(client: GraphClient) -> list[channel_pb2.MessageTemplate]:
    """Every template of the WABA, following the ``after`` cursors page by page."""
    sync_time = timestamp_pb2.Timestamp()
    sync_time.GetCurrentTime()
    templates: list[channel_pb2.MessageTemplate] = []
    after = ""
    for _ in range(MAX_PAGES):
        page = await client.message_templates(after=after, limit=PAGE_SIZE)
        data: Any = page.get("data") or []
        templates.extend(message_template(t, sync_time) for t in data if isinstance(t, dict))
        paging = _object(page.get("paging"))
        cursors = _object(paging.get("cursors"))
        after = str(cursors.get("after", ""))
        # Meta omits `next` on the last page even when it still returns cursors.
        if not paging.get("next") or not after:
            break
    return templates
