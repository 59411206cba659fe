"""datetime <-> google.protobuf.Timestamp helpers for the api rings."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """The Timestamp of an aware datetime, None for None (leave the field unset)."""
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value.astimezone(UTC))
    return ts


def set_time(target: timestamp_pb2.Timestamp, value: datetime | None) -> None:
    """Set a Timestamp field in place when ``value`` is not None."""
    if value is not None:
        target.FromDatetime(value.astimezone(UTC))


def from_timestamp(ts: timestamp_pb2.Timestamp) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)
