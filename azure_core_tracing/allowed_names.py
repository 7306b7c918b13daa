"""The header and query parameter names whose values telemetry shows by default
(``LogOptions`` starts from them, ``HttpSanitizer`` falls back to them); every other value is
redacted."""

from __future__ import annotations

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
