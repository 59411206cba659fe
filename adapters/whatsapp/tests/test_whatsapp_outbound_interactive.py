"""Interactive messages: buttons, lists, CTA URL, product and product list, with their limits."""

from __future__ import annotations

from typing import Any

import pytest
from wa_support import body_of, content, violation_of

pytestmark = pytest.mark.unit


def buttons(n: int, title: str = "Yes") -> list[dict[str, str]]:
    return [{"id": f"b{i}", "title": title} for i in range(n)]


def test_reply_buttons_with_media_header_and_footer() -> None:
    body = body_of(
        content(
            interactive={
                "header": {"media": {"type": "MEDIA_TYPE_IMAGE", "providerMediaId": "123"}},
                "body": "Confirm your order?",
                "footer": "Reply within 24 h",
                "buttons": {
                    "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]
                },
            }
        )
    )
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "button",
        "header": {"type": "image", "image": {"id": "123"}},
        "body": {"text": "Confirm your order?"},
        "footer": {"text": "Reply within 24 h"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}},
            ]
        },
    }


def test_list_with_sections() -> None:
    body = body_of(
        content(
            interactive={
                "header": {"text": "Shipping"},
                "body": "Pick a speed",
                "list": {
                    "buttonText": "Options",
                    "sections": [
                        {
                            "title": "Fast",
                            "rows": [
                                {"id": "express", "title": "Express", "description": "Next day"}
                            ],
                        },
                        {"title": "Cheap", "rows": [{"id": "ground", "title": "Ground"}]},
                    ],
                },
            }
        )
    )
    assert body["interactive"] == {
        "type": "list",
        "header": {"type": "text", "text": "Shipping"},
        "body": {"text": "Pick a speed"},
        "action": {
            "button": "Options",
            "sections": [
                {
                    "title": "Fast",
                    "rows": [{"id": "express", "title": "Express", "description": "Next day"}],
                },
                {"title": "Cheap", "rows": [{"id": "ground", "title": "Ground"}]},
            ],
        },
    }


def test_cta_url_product_and_product_list() -> None:
    cta = body_of(
        content(
            interactive={
                "body": "Track it",
                "ctaUrl": {"displayText": "Track", "url": "https://t.example/1"},
            }
        )
    )
    assert cta["interactive"]["action"] == {
        "name": "cta_url",
        "parameters": {"display_text": "Track", "url": "https://t.example/1"},
    }
    product = body_of(
        content(
            interactive={"product": {"catalogId": "194836987003835", "productRetailerId": "sku-1"}}
        )
    )
    assert product["interactive"] == {
        "type": "product",
        "action": {"catalog_id": "194836987003835", "product_retailer_id": "sku-1"},
    }
    product_list = body_of(
        content(
            interactive={
                "header": {"text": "Our picks"},
                "body": "Summer sale",
                "productList": {
                    "catalogId": "194836987003835",
                    "sections": [{"title": "Shoes", "productRetailerIds": ["a", "b"]}],
                },
            }
        )
    )
    assert product_list["interactive"]["action"] == {
        "catalog_id": "194836987003835",
        "sections": [
            {
                "title": "Shoes",
                "product_items": [{"product_retailer_id": "a"}, {"product_retailer_id": "b"}],
            }
        ],
    }


def _list_action(rows_per_section: list[int], **overrides: Any) -> dict[str, Any]:
    sections = [
        {"title": f"S{s}", "rows": [{"id": f"r{s}-{r}", "title": "Row"} for r in range(n)]}
        for s, n in enumerate(rows_per_section)
    ]
    return {"body": "b", "list": {"buttonText": "Open", "sections": sections, **overrides}}


@pytest.mark.parametrize(
    ("interactive", "field", "words"),
    [
        (
            {"body": "b", "buttons": {"buttons": buttons(4)}},
            "content.interactive.buttons.buttons",
            "at most 3",
        ),
        (
            {"body": "b", "buttons": {"buttons": buttons(1, "x" * 21)}},
            "content.interactive.buttons.buttons[0].title",
            "20",
        ),
        (
            {
                "body": "b",
                "buttons": {"buttons": [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]},
            },
            "content.interactive.buttons.buttons",
            "unique",
        ),
        ({"buttons": {"buttons": buttons(1)}}, "content.interactive.body", "required"),
        (
            {"body": "x" * 1025, "buttons": {"buttons": buttons(1)}},
            "content.interactive.body",
            "1024",
        ),
        (
            {"body": "b", "footer": "f" * 61, "buttons": {"buttons": buttons(1)}},
            "content.interactive.footer",
            "60",
        ),
        (
            {"header": {"text": "h" * 61}, "body": "b", "buttons": {"buttons": buttons(1)}},
            "content.interactive.header.text",
            "60",
        ),
        (_list_action([6, 5]), "content.interactive.list.sections", "at most 10"),
        (_list_action([1] * 11), "content.interactive.list.sections", "at most 10"),
        (
            {
                "body": "b",
                "list": {
                    "buttonText": "Open",
                    "sections": [{"title": "t" * 25, "rows": [{"id": "a", "title": "A"}]}],
                },
            },
            "content.interactive.list.sections[0].title",
            "24",
        ),
        (
            {
                "body": "b",
                "list": {
                    "buttonText": "Open",
                    "sections": [
                        {"rows": [{"id": "a", "title": "A"}]},
                        {"title": "T", "rows": [{"id": "b", "title": "B"}]},
                    ],
                },
            },
            "content.interactive.list.sections[0].title",
            "required",
        ),
        (
            {
                "body": "b",
                "list": {
                    "buttonText": "Open",
                    "sections": [{"rows": [{"id": "a", "title": "t" * 25}]}],
                },
            },
            "content.interactive.list.sections[0].rows[0].title",
            "24",
        ),
        (
            {
                "body": "b",
                "list": {
                    "buttonText": "Open",
                    "sections": [{"rows": [{"id": "a", "title": "A", "description": "d" * 73}]}],
                },
            },
            "content.interactive.list.sections[0].rows[0].description",
            "72",
        ),
        (
            {
                "body": "b",
                "list": {
                    "buttonText": "b" * 21,
                    "sections": [{"rows": [{"id": "a", "title": "A"}]}],
                },
            },
            "content.interactive.list.button_text",
            "20",
        ),
        (
            {
                "header": {"media": {"type": "MEDIA_TYPE_IMAGE", "url": "https://x/a.jpg"}},
                **_list_action([1]),
            },
            "content.interactive.header.media",
            "text only",
        ),
        (
            {"body": "b", "ctaUrl": {"displayText": "d" * 21, "url": "https://x"}},
            "content.interactive.cta_url.display_text",
            "20",
        ),
        (
            {"body": "b", "ctaUrl": {"displayText": "Go", "url": "javascript:alert(1)"}},
            "content.interactive.cta_url.url",
            "http",
        ),
        (
            {
                "body": "b",
                "productList": {
                    "catalogId": "c",
                    "sections": [{"title": "S", "productRetailerIds": ["p"]}],
                },
            },
            "content.interactive.header.text",
            "text header",
        ),
        (
            {
                "header": {"text": "H"},
                "body": "b",
                "productList": {
                    "catalogId": "c",
                    "sections": [{"title": "S", "productRetailerIds": [str(i) for i in range(31)]}],
                },
            },
            "content.interactive.product_list.sections",
            "at most 30",
        ),
        (
            {"body": "b", "quickReplies": {"replies": [{"id": "a", "title": "A"}]}},
            "content.interactive.quick_replies",
            "no quick replies",
        ),
        ({"body": "b"}, "content.interactive", "action"),
    ],
)
def test_interactive_limits(interactive: dict[str, Any], field: str, words: str) -> None:
    violation = violation_of(content(interactive=interactive))
    assert violation.field == field
    assert words in violation.problem
