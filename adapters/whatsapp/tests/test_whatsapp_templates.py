"""Template definitions -> MessageTemplate with parameter counts."""

from __future__ import annotations

import pytest
from google.protobuf import json_format, timestamp_pb2
from whatsapp_fake_graph import template

from linktor.adapters.whatsapp.templates import message_template, placeholders

pytestmark = pytest.mark.unit


def test_placeholders() -> None:
    assert placeholders("Hi {{1}}, order {{2}} ships {{ 2 }}") == (2, [])
    assert placeholders("Hi {{first_name}}, your {{order_id}}") == (2, ["first_name", "order_id"])
    assert placeholders("No parameters") == (0, [])


def test_components_with_counts_buttons_and_names() -> None:
    definition = template(
        "order_update",
        category="UTILITY",
        header={"format": "IMAGE", "example": {"header_handle": ["4::aW1h"]}},
        body="Hi {{1}}, order {{2}} is on its way.",
        footer="Reply STOP to opt out",
        buttons=[
            {"type": "QUICK_REPLY", "text": "Stop"},
            {"type": "URL", "text": "Track", "url": "https://t.example/{{1}}"},
            {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+15550783881"},
            {"type": "COPY_CODE", "example": "SUMMER25"},
        ],
        template_id="594425479261596",
    )
    result = json_format.MessageToDict(
        message_template(definition, timestamp_pb2.Timestamp(seconds=1))
    )
    assert result == {
        "templateName": "order_update",
        "language": "en_US",
        "category": "UTILITY",
        "status": "APPROVED",
        "providerTemplateId": "594425479261596",
        "syncTime": "1970-01-01T00:00:01Z",
        "components": [
            {"type": "TEMPLATE_COMPONENT_TYPE_HEADER", "format": "IMAGE", "parameterCount": 1},
            {
                "type": "TEMPLATE_COMPONENT_TYPE_BODY",
                "text": "Hi {{1}}, order {{2}} is on its way.",
                "parameterCount": 2,
            },
            {"type": "TEMPLATE_COMPONENT_TYPE_FOOTER", "text": "Reply STOP to opt out"},
            {
                "type": "TEMPLATE_COMPONENT_TYPE_BUTTON",
                "buttonSubType": "quick_reply",
                "buttonText": "Stop",
            },
            {
                "type": "TEMPLATE_COMPONENT_TYPE_BUTTON",
                "buttonSubType": "url",
                "buttonText": "Track",
                "text": "https://t.example/{{1}}",
                "parameterCount": 1,
            },
            {
                "type": "TEMPLATE_COMPONENT_TYPE_BUTTON",
                "buttonSubType": "phone_number",
                "buttonText": "Call",
                "text": "+15550783881",
            },
            {
                "type": "TEMPLATE_COMPONENT_TYPE_BUTTON",
                "buttonSubType": "copy_code",
                "parameterCount": 1,
            },
        ],
    }


def test_named_parameters() -> None:
    definition = template(
        "welcome", body="Olá {{first_name}}!", parameter_format="NAMED", language="pt_BR"
    )
    (body,) = message_template(definition, timestamp_pb2.Timestamp()).components
    assert (body.parameter_count, list(body.parameter_names)) == (1, ["first_name"])
