"""UTC timestamps as the diagnostics layers write them: ISO 8601, milliseconds, ``Z``."""

from __future__ import annotations

import time

# The last second formatted: records come in bursts, and strftime costs microseconds. One
# tuple, read and replaced whole, so threads racing on it only format a second twice.
_last_second: list[tuple[int, str]] = [(-1, "")]


def utc_iso_ms(epoch_ms: int) -> str:
    """``2024-05-01T12:00:00.123Z`` for milliseconds since the Unix epoch."""
    seconds, millis = divmod(epoch_ms, 1000)
    last = _last_second[0]
    if last[0] != seconds:
        last = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
        _last_second[0] = last
    return f"{last[1]}.{millis:03d}Z"


def ns_to_ms(epoch_ns: int) -> int:
    """Nanoseconds (OpenTelemetry's unit) to whole milliseconds, rounding down."""
    return epoch_ns // 1_000_000
