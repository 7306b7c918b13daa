"""HTTP header names the library reads or writes, each defined once."""

from __future__ import annotations

CLIENT_REQUEST_ID = "x-ms-client-request-id"
SERVICE_REQUEST_ID = "x-ms-request-id"
USER_AGENT = "User-Agent"
RETRY_AFTER = "Retry-After"
RETRY_AFTER_MS = "retry-after-ms"
X_MS_RETRY_AFTER_MS = "x-ms-retry-after-ms"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

# What a span's propagation may never write: the request's framing, authentication and
# identity belong to the application, whatever a tracing backend's propagator does.
PROTECTED_FROM_PROPAGATION = frozenset(
    {
        "authorization",
        "connection",
        "content-encoding",
        "content-length",
        "content-type",
        "cookie",
        "expect",
        "host",
        "keep-alive",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        USER_AGENT.lower(),
        CLIENT_REQUEST_ID,
    }
)
