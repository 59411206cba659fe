from __future__ import annotations

import pytest

from linktor.adapterkit import SENDABLE_KINDS, content_kind, kind_name
from linktor.adapterkit.conformance.samples import sample_content
from linktor.v1 import channel_pb2, content_pb2

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("kind", SENDABLE_KINDS)
def test_every_sendable_kind_has_a_sample_that_maps_back(kind: int) -> None:
    assert content_kind(sample_content(kind)) == kind


def test_inbound_only_and_empty_content_have_no_kind() -> None:
    assert content_kind(content_pb2.MessageContent()) == channel_pb2.CONTENT_KIND_UNSPECIFIED
    reply = content_pb2.MessageContent(
        interactive_reply=content_pb2.InteractiveReplyContent(id="b1")
    )
    assert content_kind(reply) == channel_pb2.CONTENT_KIND_UNSPECIFIED
    no_action = content_pb2.MessageContent(interactive=content_pb2.InteractiveContent(body="x"))
    assert content_kind(no_action) == channel_pb2.CONTENT_KIND_UNSPECIFIED


def test_kind_names() -> None:
    assert kind_name(channel_pb2.CONTENT_KIND_QUICK_REPLIES) == "quick_replies"
    assert kind_name(999) == "kind 999"
