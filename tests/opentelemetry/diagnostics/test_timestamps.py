from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from azure_core_tracing_opentelemetry.diagnostics.timestamps import utc_iso_ms, utc_iso_ns

# From the epoch to year 9999: what datetime can say, to check against.
NANOSECONDS = st.integers(min_value=0, max_value=253_402_300_796_999_999_999)


def expected(epoch_ns: int) -> str:
    seconds, remainder = divmod(epoch_ns, 10**9)
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{remainder // 10**6:03d}Z"


@settings(max_examples=300, deadline=None)
@given(epoch_ns=NANOSECONDS, later_ns=st.integers(0, 2 * 10**9))
def test_nanoseconds_are_iso_8601_utc_with_milliseconds_rounded_down(
    epoch_ns: int, later_ns: int
) -> None:
    # Two times close together: the second may reuse the second the first one formatted.
    assert utc_iso_ns(epoch_ns) == expected(epoch_ns)
    assert utc_iso_ns(epoch_ns + later_ns) == expected(epoch_ns + later_ns)


def test_milliseconds_give_the_same_text() -> None:
    assert utc_iso_ms(1_714_564_800_123) == "2024-05-01T12:00:00.123Z"
    assert utc_iso_ns(1_714_564_800_123_999_999) == "2024-05-01T12:00:00.123Z"
    assert utc_iso_ms(0) == "1970-01-01T00:00:00.000Z"
