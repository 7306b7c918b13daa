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
COOKIE = "Cookie"
AUTHORIZATION_AUXILIARY = "x-ms-authorization-auxiliary"
LOCATION = "Location"
HOST = "Host"

# What a redirect to another origin (scheme, host or port) removes from the request: the
# credentials a caller or a per-call policy may have put there (the built-in credential
# policies add nothing on such a hop, and each removes its own), and the Host it named.
CROSS_ORIGIN_REMOVED_HEADERS = (
    AUTHORIZATION,
    PROXY_AUTHORIZATION,
    COOKIE,
    AUTHORIZATION_AUXILIARY,
    HOST,
)
# What a redirect that drops the body (303, or 301/302 after POST) removes with it: the
# headers that described the body.
BODY_HEADER_PREFIX = "content-"
BODY_HEADERS = ("Transfer-Encoding", "Expect")

# The headers a span's propagation may write: the trace context and baggage headers of W3C
# Trace Context and Baggage, B3 (single and multi), Jaeger, AWS X-Ray and OpenTracing. Anything
# else a propagator writes (an OTEL_PROPAGATORS entry, a third-party or hostile one) is dropped:
# an allow-list, since no list of dangerous headers is ever complete. Lower-case.
PROPAGATION_HEADERS = frozenset(
    {
        TRACEPARENT,
        TRACESTATE,
        "baggage",
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-parentspanid",
        "x-b3-sampled",
        "x-b3-flags",
        "uber-trace-id",
        "ot-tracer-traceid",
        "ot-tracer-spanid",
        "ot-tracer-sampled",
        "x-amzn-trace-id",
    }
)
PROPAGATION_HEADER_PREFIXES = ("uberctx-", "ot-tracer-", "ot-baggage-")

# The request's own headers (framing, content, conditions, credentials, identity, and Azure's
# x-ms-*, which may be signed): an application cannot allow propagation to write them
# (TelemetryOptions.propagation_headers refuses them when set).
REQUEST_OWN_HEADERS = frozenset(
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
REQUEST_OWN_HEADER_PREFIXES = (
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
# Level 2 tracestate (32 members of 256 + 1 + 256 characters, 31 commas) for tracestate. The
# trace context headers (PROPAGATION_HEADERS) always fit; besides them, at most 64 headers
# (Jaeger's uberctx-* and OpenTracing's ot-baggage-* for 32 baggage entries each, or an
# application's own); past that, the extra headers are dropped. At most 1,024 headers of a
# carrier are looked at (OpenTelemetry's baggage holds up to 180 entries).
MAX_PROPAGATED_VALUE_BYTES = 8192
MAX_TRACESTATE_BYTES = 32 * (256 + 1 + 256) + 31
MAX_PROPAGATED_HEADERS = 64
MAX_PROPAGATION_CARRIER = 1024
