"""Canonical TemplateContent -> a WhatsApp template message.

Components carry the values of the template's placeholders: header (text or media),
body (text, currency, date_time), and buttons addressed by ``sub_type`` and ``index``
(quick_reply payloads, url suffixes, copy_code coupons). Templates with named
placeholders (``{{first_name}}``) get ``parameter_name`` on each value.
"""

from __future__ import annotations

from linktor.adapters.whatsapp import limits
from linktor.adapters.whatsapp.content_checks import (
    ContentViolation,
    JsonObject,
    require_text,
)
from linktor.adapters.whatsapp.outbound_media import media_object
from linktor.v1 import content_pb2

_FIELD = "content.template"
_COMPONENT_TYPES = {
    content_pb2.TEMPLATE_COMPONENT_TYPE_HEADER: "header",
    content_pb2.TEMPLATE_COMPONENT_TYPE_BODY: "body",
    content_pb2.TEMPLATE_COMPONENT_TYPE_BUTTON: "button",
}
_BUTTON_SUB_TYPES = ("quick_reply", "url", "copy_code", "catalog", "flow", "mpm", "voice_call")


def template_message(template: content_pb2.TemplateContent) -> JsonObject:
    """The ``template`` object of a WhatsApp message."""
    message: JsonObject = {
        "name": require_text(f"{_FIELD}.name", template.name, limits.TEMPLATE_NAME_MAX),
        "language": {"code": require_text(f"{_FIELD}.language", template.language, 15)},
    }
    components = [_component(i, c) for i, c in enumerate(template.components)]
    if components:
        message["components"] = components
    return message


def _component(index: int, component: content_pb2.TemplateComponent) -> JsonObject:
    field = f"{_FIELD}.components[{index}]"
    wa_type = _COMPONENT_TYPES.get(component.type)
    if wa_type is None:
        if component.type == content_pb2.TEMPLATE_COMPONENT_TYPE_FOOTER:
            raise ContentViolation(f"{field}.type", "footers have no parameters; leave them out")
        raise ContentViolation(f"{field}.type", "must be HEADER, BODY or BUTTON")
    named = [bool(p.parameter_name) for p in component.parameters]
    if any(named) and not all(named):
        raise ContentViolation(
            f"{field}.parameters", "mixes named and positional parameters; use one kind"
        )
    result: JsonObject = {"type": wa_type}
    if wa_type == "button":
        sub_type = component.button_sub_type.strip().lower()
        if sub_type not in _BUTTON_SUB_TYPES:
            raise ContentViolation(
                f"{field}.button_sub_type", f"must be one of {', '.join(_BUTTON_SUB_TYPES)}"
            )
        if not 0 <= component.button_index < 10:
            raise ContentViolation(f"{field}.button_index", "must be 0 to 9")
        result["sub_type"] = sub_type
        # Meta documents the index as a string.
        result["index"] = str(component.button_index)
    result["parameters"] = [
        _parameter(f"{field}.parameters[{i}]", wa_type, p)
        for i, p in enumerate(component.parameters)
    ]
    return result


def _parameter(
    field: str, component_type: str, parameter: content_pb2.TemplateParameter
) -> JsonObject:
    value = parameter.WhichOneof("value")
    result: JsonObject
    if value == "text":
        limit = (
            limits.TEMPLATE_HEADER_TEXT_PARAMETER_MAX
            if component_type == "header"
            else limits.TEMPLATE_TEXT_PARAMETER_MAX
        )
        result = {"type": "text", "text": require_text(f"{field}.text", parameter.text, limit)}
    elif value == "currency":
        currency = parameter.currency
        code = currency.code.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ContentViolation(f"{field}.currency.code", "must be an ISO 4217 code like USD")
        result = {
            "type": "currency",
            "currency": {
                "fallback_value": require_text(
                    f"{field}.currency.fallback_value", currency.fallback_value, 1024
                ),
                "code": code,
                "amount_1000": currency.amount_1000,
            },
        }
    elif value == "date_time":
        # Meta renders date_time parameters from the fallback value only.
        fallback = require_text(
            f"{field}.date_time.fallback_value", parameter.date_time.fallback_value, 1024
        )
        result = {"type": "date_time", "date_time": {"fallback_value": fallback}}
    elif value == "media":
        if component_type != "header":
            raise ContentViolation(f"{field}.media", "media parameters belong in the header")
        wa_type, obj = media_object(f"{field}.media", parameter.media, with_caption=False)
        if wa_type not in ("image", "video", "document"):
            raise ContentViolation(
                f"{field}.media.type", "a header can be an image, video or document"
            )
        result = {"type": wa_type, wa_type: obj}
    elif value == "payload":
        result = {
            "type": "payload",
            "payload": require_text(f"{field}.payload", parameter.payload, 128),
        }
    elif value == "coupon_code":
        result = {
            "type": "coupon_code",
            "coupon_code": require_text(f"{field}.coupon_code", parameter.coupon_code, 15),
        }
    else:
        raise ContentViolation(field, "needs a value (text, currency, date_time, media ...)")
    if parameter.parameter_name:
        result["parameter_name"] = parameter.parameter_name
    return result
