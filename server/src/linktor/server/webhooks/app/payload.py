"""What a delivery sends: the JSON body and its webhook-id, made once per event.

The body is ``{"type", "timestamp", "data"}`` (Standard Webhooks): ``type`` is the event's
type, ``timestamp`` when it happened (RFC 3339, UTC) and ``data`` the linktor.v1.Event itself in
proto3 JSON (camelCase; int64 such as ``sequence`` as strings), the same object ListEvents
and StreamEvents return.

The ``webhook-id`` is the event's: ``evt_<tenant>_<sequence>`` for events of the log, so it is
the same for every endpoint, attempt and replay of an event and a receiver deduplicates on
it; test events get ``evt_<tenant>_test_<id>``.
"""

from __future__ import annotations

import json

from google.protobuf import json_format

from linktor.server.shared.ids import new_id
from linktor.v1 import event_pb2


def webhook_id_of(tenant_id: str, sequence: int) -> str:
    return f"evt_{tenant_id}_{sequence}"


def webhook_id_for_test(tenant_id: str) -> str:
    return f"evt_{tenant_id}_test_{new_id()}"


def render(event: event_pb2.Event) -> bytes:
    body = {
        "type": event.type,
        "timestamp": event.create_time.ToJsonString(),
        "data": json_format.MessageToDict(event),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
