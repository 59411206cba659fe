"""NATS subject rules shared by both buses, so the embedded bus accepts exactly what NATS does.

A subject is dot-separated non-empty tokens without whitespace; a pattern may also use ``*``
(one token) and, as its last token, ``>`` (one or more tokens).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from linktor.server.infra.bus.port import BusError, StreamSpec

_BAD_TOKEN_CHARS = re.compile(r"[\s\x00]")
# JetStream consumer names: no dots, wildcards, whitespace or path separators; keep it short.
_DURABLE_OK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DURABLE_BAD_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def _tokens(text: str, what: str) -> list[str]:
    if not text:
        raise BusError(f"empty {what}")
    tokens = text.split(".")
    for part in tokens:
        if not part or _BAD_TOKEN_CHARS.search(part):
            raise BusError(f"invalid {what} {text!r}: empty token or whitespace")
    return tokens


def check_subject(subject: str) -> None:
    """A literal subject (what ``publish`` and ``broadcast`` take); BusError otherwise."""
    for part in _tokens(subject, "subject"):
        if part in ("*", ">"):
            raise BusError(f"invalid subject {subject!r}: wildcards are for patterns only")


def check_pattern(pattern: str) -> None:
    """A subject pattern (what ``consume`` and ``listen`` take); BusError otherwise."""
    tokens = _tokens(pattern, "subject pattern")
    for i, part in enumerate(tokens):
        if part == ">" and i != len(tokens) - 1:
            raise BusError(f"invalid subject pattern {pattern!r}: '>' must be the last token")


def matches(pattern: str, subject: str) -> bool:
    """Whether the literal ``subject`` matches ``pattern``."""
    pat, sub = pattern.split("."), subject.split(".")
    for i, part in enumerate(pat):
        if part == ">":
            return len(sub) > i
        if i >= len(sub) or (part != "*" and part != sub[i]):
            return False
    return len(pat) == len(sub)


def is_subset(inner: str, outer: str) -> bool:
    """Whether every subject matching pattern ``inner`` also matches pattern ``outer``."""
    a, b = inner.split("."), outer.split(".")
    for i, part in enumerate(b):
        if part == ">":
            return len(a) > i
        if i >= len(a) or a[i] == ">":
            return False
        if part != "*" and a[i] != part:
            return False
    return len(a) == len(b)


def overlap(first: str, second: str) -> bool:
    """Whether some subject matches both patterns."""
    a, b = first.split("."), second.split(".")
    for i in range(min(len(a), len(b))):
        if a[i] == ">" or b[i] == ">":
            return True
        if a[i] != "*" and b[i] != "*" and a[i] != b[i]:
            return False
    return len(a) == len(b)


def stream_of_subject(streams: Iterable[StreamSpec], subject: str) -> StreamSpec:
    """The stream storing ``subject``; BusError when none does."""
    for spec in streams:
        if any(matches(pattern, subject) for pattern in spec.subjects):
            return spec
    raise BusError(f"subject {subject!r} belongs to no stream")


def stream_of_pattern(streams: Iterable[StreamSpec], pattern: str) -> StreamSpec:
    """The stream holding every subject of ``pattern``; BusError when none does."""
    for spec in streams:
        if any(is_subset(pattern, stream_pattern) for stream_pattern in spec.subjects):
            return spec
    raise BusError(f"subject pattern {pattern!r} is not inside one stream")


def publish_stream(streams: Iterable[StreamSpec], subject: str) -> StreamSpec:
    """Check ``publish``'s subject; the stream that stores it."""
    check_subject(subject)
    return stream_of_subject(streams, subject)


def consume_stream(
    streams: Iterable[StreamSpec], pattern: str, *, max_in_flight: int, ack_wait_seconds: float
) -> StreamSpec:
    """Check ``consume``'s arguments; the stream holding every subject of ``pattern``."""
    check_pattern(pattern)
    if max_in_flight < 1 or not ack_wait_seconds > 0:
        raise BusError("max_in_flight must be >= 1 and ack_wait_seconds > 0")
    return stream_of_pattern(streams, pattern)


def durable_consumer_name(durable: str) -> str:
    """A JetStream-valid consumer name for the bus's ``durable`` name.

    Valid names are kept as they are (readable in `nats consumer ls`); others get their bad
    characters replaced and a hash of the original appended, so two different names never map
    to the same consumer.
    """
    if not durable:
        raise BusError("empty durable name")
    if _DURABLE_OK.match(durable):
        return durable
    digest = hashlib.sha256(durable.encode()).hexdigest()[:10]
    return f"{_DURABLE_BAD_CHARS.sub('_', durable)[:48]}_{digest}"
