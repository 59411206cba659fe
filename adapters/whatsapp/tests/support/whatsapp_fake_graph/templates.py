"""The fake WABA's message templates and Meta's checks of template messages.

A template message must name an APPROVED template in the given language (else #132001)
and give each component as many parameters as the template has placeholders (else
#132000); named templates need ``parameter_name`` on every value.
"""

from __future__ import annotations

import re
from typing import Any

from whatsapp_fake_graph.media_validation import validate_media_object
from whatsapp_fake_graph.meta_errors import GraphError, invalid_parameter

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def template(
    name: str,
    *,
    language: str = "en_US",
    category: str = "UTILITY",
    status: str = "APPROVED",
    body: str = "Hello {{1}}",
    header: dict[str, Any] | None = None,
    footer: str = "",
    buttons: list[dict[str, Any]] | None = None,
    template_id: str = "",
    parameter_format: str = "POSITIONAL",
) -> dict[str, Any]:
    """A template as GET /{waba-id}/message_templates returns it."""
    components: list[dict[str, Any]] = []
    if header:
        components.append({"type": "HEADER", **header})
    components.append({"type": "BODY", "text": body})
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    if buttons:
        components.append({"type": "BUTTONS", "buttons": buttons})
    return {
        "name": name,
        "parameter_format": parameter_format,
        "components": components,
        "language": language,
        "status": status,
        "category": category,
        "id": template_id or str(abs(hash((name, language))) % 10**15),
    }


def _placeholders(text: str) -> list[str]:
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def _expected_parameters(definition: dict[str, Any]) -> dict[tuple[str, int], int]:
    """(component type, button index) -> number of parameters the template needs."""
    expected: dict[tuple[str, int], int] = {}
    for component in definition.get("components", []):
        kind = str(component.get("type", "")).lower()
        if kind == "header":
            fmt = str(component.get("format", "TEXT")).upper()
            count = (
                1
                if fmt in ("IMAGE", "VIDEO", "DOCUMENT")
                else len(_placeholders(component.get("text", "")))
            )
            expected[("header", 0)] = count
        elif kind == "body":
            expected[("body", 0)] = len(_placeholders(component.get("text", "")))
        elif kind == "buttons":
            for index, button in enumerate(component.get("buttons", [])):
                kind_name = str(button.get("type", "")).upper()
                if kind_name == "URL":
                    expected[("button", index)] = len(_placeholders(button.get("url", "")))
                elif kind_name == "COPY_CODE":
                    expected[("button", index)] = 1
    return expected


def validate_template_message(
    obj: dict[str, Any], templates: list[dict[str, Any]], known_media_ids: set[str]
) -> None:
    name = obj.get("name")
    language = obj.get("language")
    if not isinstance(name, str) or not name:
        raise invalid_parameter("The parameter template['name'] is required.")
    if not isinstance(language, dict) or not language.get("code"):
        raise invalid_parameter("The parameter template['language']['code'] is required.")
    definition = next(
        (
            t
            for t in templates
            if t["name"] == name and t["language"] == language["code"] and t["status"] == "APPROVED"
        ),
        None,
    )
    if definition is None:
        raise GraphError(132001, f"template name ({name}) does not exist in {language['code']}")
    given: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for component in obj.get("components", []):
        kind = component.get("type")
        if kind not in ("header", "body", "button"):
            raise invalid_parameter("Param template['components'][]['type'] is invalid.")
        index = int(component.get("index", 0)) if kind == "button" else 0
        if kind == "button" and component.get("sub_type") not in (
            "quick_reply",
            "url",
            "copy_code",
            "catalog",
            "flow",
            "mpm",
            "voice_call",
        ):
            raise invalid_parameter("Param template['components'][]['sub_type'] is invalid.")
        parameters = component.get("parameters", [])
        for parameter in parameters:
            _validate_parameter(parameter, known_media_ids, definition)
        given[(kind, index)] = parameters
    for key, count in _expected_parameters(definition).items():
        if count and len(given.get(key, [])) != count:
            raise GraphError(
                132000,
                f"body: number of localizable_params ({len(given.get(key, []))}) does not match the expected number of params ({count})",
            )


def _validate_parameter(
    parameter: Any, known_media_ids: set[str], definition: dict[str, Any]
) -> None:
    if not isinstance(parameter, dict):
        raise invalid_parameter("Param template parameters must be objects.")
    kind = parameter.get("type")
    if kind not in (
        "text",
        "currency",
        "date_time",
        "image",
        "video",
        "document",
        "payload",
        "coupon_code",
    ):
        raise invalid_parameter(f"Param parameter type {kind} is invalid.")
    if not isinstance(parameter.get(kind), (str, dict)) or not parameter.get(kind):
        raise invalid_parameter(f"The parameter {kind} is required.")
    if kind == "currency":
        currency = parameter["currency"]
        if not all(k in currency for k in ("fallback_value", "code", "amount_1000")):
            raise invalid_parameter("Param currency requires fallback_value, code and amount_1000.")
    if kind == "date_time" and "fallback_value" not in parameter["date_time"]:
        raise invalid_parameter("Param date_time requires fallback_value.")
    if kind in ("image", "video", "document"):
        validate_media_object(kind, parameter[kind], known_media_ids)
    named = definition.get("parameter_format") == "NAMED"
    if named and kind in ("text", "currency", "date_time") and not parameter.get("parameter_name"):
        raise invalid_parameter(
            "Param parameter_name is required for templates with named parameters."
        )
