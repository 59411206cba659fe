"""The hand-written parts of the asyncio resources: a friendlier send, the resuming stream.

Everything else is generated (``_generated/resources_async.py``) from the contracts.
"""

# `timeout` is the gRPC deadline of each attempt, not an asyncio timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linktor.sdk import content as build
from linktor.sdk._generated import resources_async as generated
from linktor.sdk._generated import specs
from linktor.sdk._spec import build_request
from linktor.sdk.events_async import AsyncEventStream
from linktor.v1 import content_pb2, message_pb2


class AsyncMessages(generated.AsyncMessages):
    __doc__ = generated.AsyncMessages.__doc__

    async def send(
        self,
        *,
        to: str | None = None,
        channel: str | None = None,
        text: str | None = None,
        display_name: str | None = None,
        tenant: str | None = None,
        conversation: str | None = None,
        recipient: message_pb2.Recipient | Mapping[str, Any] | None = None,
        content: content_pb2.MessageContent | Mapping[str, Any] | None = None,
        reply_to: str | None = None,
        request_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        validate_only: bool | None = None,
        request: message_pb2.SendMessageRequest | None = None,
        timeout: float | None = None,
    ) -> message_pb2.Message:
        """Send a message; returns it stored with status ACCEPTED (delivery is asynchronous).

        Either into a ``conversation``, or to an address: ``to="+15551234567",
        channel="ch_..."`` (a channel id or name). ``text="..."`` is a shortcut for
        ``content=content.text("...")``; other content comes from
        :mod:`linktor.sdk.content` or a dict.

        A ``request_id`` (UUID4) is added when none is given and reused by every retry, so a
        retried call never sends twice; pass your own (a database key, a hash of a CSV row)
        to make a send safe to repeat across runs. The same id with a different request
        raises :class:`~linktor.sdk.errors.RequestIdReused`.

        Raises ReplyWindowClosed outside the conversation's reply window (send a template),
        InvalidArgument with ``field_violations`` for content the channel cannot take.
        """
        if to is not None or channel is not None:
            if to is None or channel is None:
                raise ValueError("send: `to` and `channel` go together")
            recipient = message_pb2.Recipient(
                channel=channel, address=to, display_name=display_name or ""
            )
        if text is not None:
            if content is not None:
                raise ValueError("send: give `text` or `content`, not both")
            content = build.text(text)
        return await super().send(
            tenant=tenant,
            conversation=conversation,
            recipient=recipient,
            content=content,
            reply_to=reply_to,
            request_id=request_id,
            metadata=metadata,
            validate_only=validate_only,
            request=request,
            timeout=timeout,
        )


class AsyncEvents(generated.AsyncEvents):
    __doc__ = generated.AsyncEvents.__doc__

    def stream(  # type: ignore[override]
        self,
        *,
        parent: str | None = None,
        after_sequence: int | None = None,
        types: Sequence[str] | None = None,
        conversation: str | None = None,
        include_ephemeral: bool | None = None,
        request: Any = None,
        max_reconnects: int | None = None,
        max_backoff: float = 30.0,
    ) -> AsyncEventStream:
        """Every event after ``after_sequence`` (0: live only), then live events, reconnecting
        and resuming on its own; see :class:`~linktor.sdk.events_async.AsyncEventStream`.

        Args:
            after_sequence: resume after this sequence (e.g. a ``last_sequence`` kept earlier).
            types: event types, with ``*`` per dot-separated segment (``message.*``).
            conversation: only events about this conversation.
            include_ephemeral: also typing indicators and read receipts (never resumed).
            max_reconnects: consecutive failed reconnects before raising (None: forever).
        """
        built = build_request(
            specs.EVENTS_STREAM_EVENTS,
            request,
            {
                "parent": parent,
                "after_sequence": after_sequence,
                "types": types,
                "conversation": conversation,
                "include_ephemeral": include_ephemeral,
            },
        )
        return AsyncEventStream(
            self._transport, built, max_reconnects=max_reconnects, max_backoff=max_backoff
        )
