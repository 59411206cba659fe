"""Collecting the violations of several checks into one INVALID_ARGUMENT, so a client learns
about every bad field of a request at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from linktor.server.shared.errors import FieldViolation, InvalidArgument

T = TypeVar("T")


class Violations:
    def __init__(self) -> None:
        self.found: list[FieldViolation] = []

    def check(self, run: Callable[[], T]) -> T | None:
        """``run()``'s result, or None after noting its violations."""
        try:
            return run()
        except InvalidArgument as error:
            self.found += error.violations or [FieldViolation("", error.message)]
            return None

    def raise_any(self) -> None:
        if self.found:
            summary = "; ".join(f"{v.field}: {v.description}" for v in self.found)
            raise InvalidArgument(f"invalid request: {summary}", self.found)
