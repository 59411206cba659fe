"""Template messages: components and parameters in Meta's documented shape."""

from __future__ import annotations

import pytest
from wa_support import ORDER_UPDATE, body_of, content, violation_of

pytestmark = pytest.mark.unit


def test_template_with_header_body_and_button_parameters() -> None:
    body = body_of(content(template=ORDER_UPDATE))
    assert body["type"] == "template"
    assert body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "header",
                "parameters": [
                    {
                        "type": "document",
                        "document": {"link": "https://x.example/i.pdf", "filename": "invoice.pdf"},
                    }
                ],
            },
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Jessica"},
                    {
                        "type": "currency",
                        "currency": {
                            "fallback_value": "$100.99",
                            "code": "USD",
                            "amount_1000": 100990,
                        },
                    },
                    {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}},
                ],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "stop"}],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "1",
                "parameters": [{"type": "text", "text": "order/1234"}],
            },
            {
                "type": "button",
                "sub_type": "copy_code",
                "index": "2",
                "parameters": [{"type": "coupon_code", "coupon_code": "SUMMER25"}],
            },
        ],
    }


def test_named_parameters_carry_parameter_name() -> None:
    body = body_of(
        content(
            template={
                "name": "welcome",
                "language": "pt_BR",
                "components": [
                    {
                        "type": "TEMPLATE_COMPONENT_TYPE_BODY",
                        "parameters": [{"parameterName": "first_name", "text": "Ana"}],
                    }
                ],
            }
        )
    )
    assert body["template"]["components"] == [
        {
            "type": "body",
            "parameters": [{"type": "text", "text": "Ana", "parameter_name": "first_name"}],
        }
    ]


def test_a_template_without_parameters_has_no_components() -> None:
    assert body_of(content(template={"name": "hello_world", "language": "en_US"}))["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
    }


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ({"language": "en_US"}, "content.template.name"),
        ({"name": "x"}, "content.template.language"),
        (
            {
                "name": "x",
                "language": "en",
                "components": [{"type": "TEMPLATE_COMPONENT_TYPE_FOOTER"}],
            },
            "content.template.components[0].type",
        ),
        (
            {
                "name": "x",
                "language": "en",
                "components": [
                    {"type": "TEMPLATE_COMPONENT_TYPE_BODY", "parameters": [{"text": ""}]}
                ],
            },
            "content.template.components[0].parameters[0].text",
        ),
        (
            {
                "name": "x",
                "language": "en",
                "components": [
                    {
                        "type": "TEMPLATE_COMPONENT_TYPE_BODY",
                        "parameters": [{"parameterName": "a", "text": "1"}, {"text": "2"}],
                    }
                ],
            },
            "content.template.components[0].parameters",
        ),
        (
            {
                "name": "x",
                "language": "en",
                "components": [
                    {
                        "type": "TEMPLATE_COMPONENT_TYPE_BUTTON",
                        "buttonSubType": "teleport",
                        "parameters": [],
                    }
                ],
            },
            "content.template.components[0].button_sub_type",
        ),
        (
            {
                "name": "x",
                "language": "en",
                "components": [
                    {"type": "TEMPLATE_COMPONENT_TYPE_HEADER", "parameters": [{"text": "h" * 61}]}
                ],
            },
            "content.template.components[0].parameters[0].text",
        ),
        (
            {
                "name": "x",
                "language": "en",
                "components": [
                    {
                        "type": "TEMPLATE_COMPONENT_TYPE_BODY",
                        "parameters": [{"media": {"type": "MEDIA_TYPE_IMAGE", "url": "https://x"}}],
                    }
                ],
            },
            "content.template.components[0].parameters[0].media",
        ),
        (
            {
                "name": "x",
                "language": "en",
                "components": [
                    {
                        "type": "TEMPLATE_COMPONENT_TYPE_BODY",
                        "parameters": [{"currency": {"fallbackValue": "$1", "code": "dollars"}}],
                    }
                ],
            },
            "content.template.components[0].parameters[0].currency.code",
        ),
    ],
)
def test_template_mistakes_name_the_field(template: dict[str, object], field: str) -> None:
    assert violation_of(content(template=template)).field == field
