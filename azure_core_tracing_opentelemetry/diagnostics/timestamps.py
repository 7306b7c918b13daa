"""UTC timestamps as the diagnostics layers write them: ISO 8601, milliseconds, ``Z``."""

from __future__ import annotations

import time


def utc_iso_ms(epoch_ms: int) -> str:
    """``2024-05-01T12:00:00.123Z`` for milliseconds since the Unix epoch."""
    seconds, millis = divmod(epoch_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def ns_to_ms(epoch_ns: int) -> int:
    """Nanoseconds (OpenTelemetry's unit) to whole milliseconds, rounding down."""
    return epoch_ns // 1_000_000
