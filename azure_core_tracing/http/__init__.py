"""The HTTP pipeline on ``requests``: retry, request ids, user agent, logging and tracing."""

from azure_core_tracing.http.activity import RequestActivityPolicy
from azure_core_tracing.http.log import LogPolicy
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.pipeline import HttpPipeline
from azure_core_tracing.http.policy import HttpPolicy, NextPolicy
from azure_core_tracing.http.request_id import RequestIdPolicy
from azure_core_tracing.http.requests_transport import RequestsTransport
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.telemetry import TelemetryPolicy
from azure_core_tracing.http.transport import (
    HttpTransport,
    TransportConnectionError,
    TransportError,
    TransportPolicy,
    TransportTimeoutError,
)

__all__ = [
    "HttpPipeline",
    "HttpPolicy",
    "HttpSanitizer",
    "HttpTransport",
    "LogPolicy",
    "NextPolicy",
    "RawResponse",
    "Request",
    "RequestActivityPolicy",
    "RequestIdPolicy",
    "RequestsTransport",
    "RetryPolicy",
    "TelemetryPolicy",
    "TransportConnectionError",
    "TransportError",
    "TransportPolicy",
    "TransportTimeoutError",
]
