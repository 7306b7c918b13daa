"""Client options: telemetry, retry and logging settings a service client is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from azure_core_tracing.tracing import TracerProvider

if TYPE_CHECKING:
    from azure_core_tracing.http.transport import HttpTransport

MAX_APPLICATION_ID_LENGTH = 24

DEFAULT_ALLOWED_HEADERS = frozenset(
    {
        "accept",
        "accept-ranges",
        "azure-deprecating",
        "cache-control",
        "connection",
        "content-length",
        "content-range",
        "content-type",
        "date",
        "etag",
        "expires",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "last-modified",
        "pragma",
        "range",
        "request-id",
        "retry-after",
        "server",
        "traceparent",
        "tracestate",
        "transfer-encoding",
        "user-agent",
        "www-authenticate",
        "x-ms-client-request-id",
        "x-ms-date",
        "x-ms-error-code",
        "x-ms-range",
        "x-ms-request-id",
        "x-ms-return-client-request-id",
        "x-ms-version",
    }
)

DEFAULT_ALLOWED_QUERY_PARAMETERS = frozenset({"api-version"})


def check_application_id(application_id: Optional[str]) -> None:
    """Raise ``ValueError`` unless ``application_id`` is None or a short id without white space."""
    if application_id is None:
        return
    if not isinstance(application_id, str):
        raise TypeError(f"application_id must be a str, got {type(application_id).__name__}")
    if len(application_id) > MAX_APPLICATION_ID_LENGTH:
        raise ValueError(
            f"application_id must be at most {MAX_APPLICATION_ID_LENGTH} characters, "
            f"got {len(application_id)}: {application_id!r}"
        )
    if any(ch.isspace() for ch in application_id):
        raise ValueError(f"application_id must not contain white space: {application_id!r}")


@dataclass
class TelemetryOptions:
    """Who is calling (``application_id``) and which tracer provider traces this client."""

    application_id: Optional[str] = None
    tracing_provider: Optional[TracerProvider] = None

    def __post_init__(self) -> None:
        check_application_id(self.application_id)


@dataclass
class RetryOptions:
    """How the retry policy retries: durations are float seconds."""

    max_retries: int = 3
    retry_delay: float = 0.8
    max_retry_delay: float = 60.0
    status_codes: set[int] = field(default_factory=lambda: {408, 429, 500, 502, 503, 504})

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")
        if self.retry_delay < 0:
            raise ValueError(f"retry_delay must be 0 or more seconds, got {self.retry_delay}")
        if self.max_retry_delay < 0:
            raise ValueError(
                f"max_retry_delay must be 0 or more seconds, got {self.max_retry_delay}"
            )


@dataclass
class LogOptions:
    """Which header names and query parameter names may appear unredacted in telemetry."""

    allowed_headers: set[str] = field(default_factory=lambda: set(DEFAULT_ALLOWED_HEADERS))
    allowed_query_parameters: set[str] = field(
        default_factory=lambda: set(DEFAULT_ALLOWED_QUERY_PARAMETERS)
    )


@dataclass
class ClientOptions:
    """Everything a service client is built from."""

    telemetry: TelemetryOptions = field(default_factory=TelemetryOptions)
    retry: RetryOptions = field(default_factory=RetryOptions)
    log: LogOptions = field(default_factory=LogOptions)
    transport: Optional[HttpTransport] = None
