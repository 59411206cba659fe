"""Template messages checked against the channel's synced definition."""

from __future__ import annotations

import pytest

from linktor.server.messaging.domain.template_check import (
    TemplateShape,
    TemplateSlot,
    check_template,
)
from linktor.server.shared.errors import InvalidArgument
from linktor.v1 import content_pb2

pytestmark = pytest.mark.unit

SHAPE = TemplateShape(
    "order_update",
    "en_US",
    "APPROVED",
    (TemplateSlot("BODY", 0, 2), TemplateSlot("BUTTON", 1, 1)),
)


def template(body: int, button: int | None = 1) -> content_pb2.TemplateContent:
    components = [
        content_pb2.TemplateComponent(
            type=content_pb2.TEMPLATE_COMPONENT_TYPE_BODY,
            parameters=[content_pb2.TemplateParameter(text=f"p{i}") for i in range(body)],
        )
    ]
    if button is not None:
        components.append(
            content_pb2.TemplateComponent(
                type=content_pb2.TEMPLATE_COMPONENT_TYPE_BUTTON,
                button_index=button,
                button_sub_type="url",
                parameters=[content_pb2.TemplateParameter(text="abc")],
            )
        )
    return content_pb2.TemplateContent(name="order_update", language="en_US", components=components)


def test_matching_parameters_pass() -> None:
    check_template(template(2), SHAPE, synced=True)


def test_wrong_count_names_the_component() -> None:
    with pytest.raises(InvalidArgument) as info:
        check_template(template(1), SHAPE, synced=True)
    (violation,) = info.value.violations
    assert violation.field == "content.template.components[0].parameters"
    assert "takes 2 parameters, got 1" in violation.description


def test_missing_button_parameters() -> None:
    with pytest.raises(InvalidArgument) as info:
        check_template(template(2, button=None), SHAPE, synced=True)
    assert info.value.violations[0].field == "content.template.components"
    assert "BUTTON 1" in info.value.violations[0].description


def test_parameters_for_a_component_without_placeholders() -> None:
    with pytest.raises(InvalidArgument) as info:
        check_template(template(2, button=0), SHAPE, synced=True)
    fields = [v.field for v in info.value.violations]
    assert "content.template.components[1].parameters" in fields


def test_unknown_template_only_refused_once_templates_were_synced() -> None:
    check_template(template(2), None, synced=False)
    with pytest.raises(InvalidArgument) as info:
        check_template(template(2), None, synced=True)
    assert info.value.violations[0].field == "content.template.name"


def test_a_template_not_approved_is_refused() -> None:
    pending = TemplateShape("order_update", "en_US", "PENDING", SHAPE.slots)
    with pytest.raises(InvalidArgument, match="PENDING"):
        check_template(template(2), pending, synced=True)
