"""Small helpers the test modules share."""

from __future__ import annotations

from typing import Any, Optional

from azure_core_tracing import ClientOptions, TelemetryOptions, TracerProvider


def wrong(value: object) -> Any:
    """``value`` as a caller that ignores the annotations would pass it."""
    return value


def options_for(provider: Optional[TracerProvider]) -> ClientOptions:
    """Client options traced by ``provider`` (None: untraced), retrying without a real wait."""
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
    options.retry.retry_delay = 0.001
    return options
