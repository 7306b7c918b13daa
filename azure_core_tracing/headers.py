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
AUTHORIZATION = "Authorization"
PROXY_AUTHORIZATION = "Proxy-Authorization"
CONTENT_TYPE = "Content-Type"

# What a span's propagation may never write, even where the request lacks it: the request's
# framing, content, conditions, credentials and identity belong to the application, whatever a
# tracing backend's propagator does (and Azure's x-ms-* headers may be signed).
PROTECTED_FROM_PROPAGATION = frozenset(
    {
        "api-key",
        AUTHORIZATION.lower(),
        "connection",
        "cookie",
        "expect",
        "forwarded",
        "host",
        "keep-alive",
        "max-forwards",
        "ocp-apim-subscription-key",
        "origin",
        "prefer",
        "range",
        "referer",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "x-api-key",
        USER_AGENT.lower(),
        CLIENT_REQUEST_ID,
    }
)
PROTECTED_PREFIXES_FROM_PROPAGATION = (
    "accept",
    "content-",
    "if-",
    "proxy-",
    "x-forwarded-",
    "x-ms-",
)
# The trace context propagation owns: a request's own copy (forwarded from an incoming
# request, or left by an earlier send) is replaced by the try's.
REPLACED_BY_PROPAGATION = frozenset({TRACEPARENT, TRACESTATE})
# Bounds on what propagation adds: W3C baggage's own limit per header, but the longest valid
# Level 2 tracestate (32 members of 256 + 1 + 256 characters, 31 commas) for tracestate; and
# a few headers.
MAX_PROPAGATED_VALUE_BYTES = 8192
MAX_TRACESTATE_BYTES = 32 * (256 + 1 + 256) + 31
MAX_PROPAGATED_HEADERS = 8
