"""UTC timestamps as the diagnostics layers write them: ISO 8601, milliseconds, ``Z``."""

from __future__ import annotations

import time

# The last second formatted: records come in bursts, and strftime costs microseconds. One
# tuple, read and replaced whole, so threads racing on it only format a second twice.
_last_second: list[tuple[int, str]] = [(-1, "")]
# Every millisecond's ending, made once: joining two strings costs less than formatting one.
_MILLIS = tuple(f".{millis:03d}Z" for millis in range(1000))


def utc_iso_ms(epoch_ms: int) -> str:
    """``2024-05-01T12:00:00.123Z`` for milliseconds since the Unix epoch."""
    return utc_iso_ns(epoch_ms * 1_000_000)


def utc_iso_ns(epoch_ns: int) -> str:
    """``utc_iso_ms`` for nanoseconds since the epoch (OpenTelemetry's unit), rounded down."""
    seconds, millis = divmod(epoch_ns // 1_000_000, 1000)
    last = _last_second[0]
    if last[0] != seconds:
        last = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
        _last_second[0] = last
    return last[1] + _MILLIS[millis]


def ns_to_ms(epoch_ns: int) -> int:
    """Nanoseconds (OpenTelemetry's unit) to whole milliseconds, rounding down."""
    return epoch_ns // 1_000_000
