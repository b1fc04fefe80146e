"""The only place that asks for the current time, so tests can fix it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system_now


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _source()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the time source (tests); None restores the system clock."""
    global _source
    _source = source if source is not None else _system_now
