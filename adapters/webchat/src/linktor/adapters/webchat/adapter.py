"""The Web Chat ChannelAdapter.

There is no provider to call: a web chat message is "sent" once the core has it, and the
core's visitor endpoint pushes it to the visitor's socket when the message reaches SENT (the
status this adapter answers). Delivery and reads come back from the visitor's browser as
status updates, through the core. So Send checks the content against what the widget can
show and names the message for status reports; the provider message id is derived from the
Linktor message id, so a retried Send after a crash answers with the same id.
"""

from __future__ import annotations

import hashlib

from linktor.adapter.v1 import adapter_pb2
from linktor.adapterkit import BaseAdapter, Code, failed
from linktor.adapters.webchat.capabilities import capabilities_response
from linktor.adapters.webchat.config import check_config
from linktor.adapters.webchat.content import content_problem
from linktor.v1 import message_pb2

PROVIDER_ID_PREFIX = "wc_"


def provider_message_id(message_id: str) -> str:
    """``tenants/t/conversations/c/messages/01h...`` -> ``wc_01h...`` (stable across retries)."""
    last = message_id.rsplit("/", 1)[-1]
    if last and len(last) <= 64 and last.isalnum():
        return PROVIDER_ID_PREFIX + last
    return PROVIDER_ID_PREFIX + hashlib.sha256(message_id.encode()).hexdigest()[:26]


class WebchatAdapter(BaseAdapter):
    def capabilities(self) -> adapter_pb2.GetCapabilitiesResponse:
        return capabilities_response()

    async def validate_config(
        self, channel: adapter_pb2.ChannelConfig
    ) -> adapter_pb2.ValidateConfigResponse:
        return check_config(channel)

    async def send(self, request: adapter_pb2.SendRequest) -> adapter_pb2.SendResponse:
        problem = content_problem(request.content)
        if problem is not None:
            return failed(Code.INVALID_CONTENT, problem)
        return adapter_pb2.SendResponse(
            provider_message_id=provider_message_id(request.message_id),
            status=message_pb2.MESSAGE_STATUS_SENT,
        )

    async def mark_read(self, request: adapter_pb2.MarkReadRequest) -> adapter_pb2.MarkReadResponse:
        # The core shows the agent's read receipt to the visitor from its event stream.
        return adapter_pb2.MarkReadResponse()

    async def send_typing(
        self, request: adapter_pb2.SendTypingRequest
    ) -> adapter_pb2.SendTypingResponse:
        # Likewise: typing reaches the visitor's socket from the event stream.
        return adapter_pb2.SendTypingResponse()
