"""The fake adapter's behaviour knobs: environment defaults, overridable per channel config.

Every knob ``name`` is read from ``LINKTOR_FAKE_<NAME>`` at start and may be overridden by
``config.<name>`` of a channel (so one fake process can serve a fast channel and a flaky
one). Rates are probabilities per Send, drawn from a generator seeded by LINKTOR_FAKE_SEED.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from google.protobuf import struct_pb2

ENV_PREFIX = "LINKTOR_FAKE_"


@dataclass(frozen=True)
class Knobs:
    """How the fake provider behaves on Send."""

    #: Added to every Send, in milliseconds.
    latency_ms: float = 0.0
    #: Probability of a provider error (PROVIDER_ERROR).
    failure_rate: float = 0.0
    #: Whether those errors are retryable.
    failure_retryable: bool = True
    #: Probability of a 429 (RATE_LIMITED with retry_after).
    throttle_rate: float = 0.0
    #: The retry_after of a 429, in milliseconds.
    retry_after_ms: float = 1000.0
    #: Probability that the provider does not answer: the Send waits timeout_ms, then TIMEOUT.
    timeout_rate: float = 0.0
    #: How long an unanswered Send waits, in milliseconds.
    timeout_ms: float = 30000.0
    #: Exit the process (os._exit) on the Nth Send it receives; 0 = never.
    crash_after_sends: int = 0
    #: Answer DELIVERED instead of SENT (synchronous channels such as web chat).
    sync_delivery: bool = False


KNOB_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Knobs))
_TYPES: dict[str, type] = {f.name: type(getattr(Knobs(), f.name)) for f in fields(Knobs)}
RATE_KNOBS = ("failure_rate", "throttle_rate", "timeout_rate")


def _coerce(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    if kind is bool:
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    return kind(float(value)) if kind is int else float(value)


def knobs_from_env(env: Mapping[str, str]) -> Knobs:
    """Defaults from LINKTOR_FAKE_<NAME>; a bad value stops the process with its name."""
    values: dict[str, Any] = {}
    for name in KNOB_NAMES:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is None or raw == "":
            continue
        try:
            values[name] = _coerce(name, raw)
        except ValueError:
            raise SystemExit(f"{ENV_PREFIX}{name.upper()}: not a valid value: {raw!r}") from None
    return Knobs(**values)


def knobs_for(defaults: Knobs, config: struct_pb2.Struct) -> Knobs:
    """The defaults with a channel's overrides (fast path: no overrides, no work)."""
    if not config.fields:
        return defaults
    overrides: dict[str, Any] = {}
    for name in KNOB_NAMES:
        value = config.fields.get(name)
        if value is None:
            continue
        which = value.WhichOneof("kind")
        if which in ("number_value", "bool_value", "string_value"):
            try:
                overrides[name] = _coerce(name, getattr(value, which))
            except ValueError:
                continue  # ValidateConfig reports it; Send keeps the default
    return replace(defaults, **overrides) if overrides else defaults


def default_knobs() -> Knobs:
    return knobs_from_env(os.environ)
