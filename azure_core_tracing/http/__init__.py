"""The HTTP pipelines, sync on ``requests`` and async on ``aiohttp``: retry, request ids, user
agent, logging and tracing, in one fixed order (``PIPELINE_ORDER``)."""

from azure_core_tracing.http.activity import RequestActivityPolicy
from azure_core_tracing.http.aiohttp_transport import AioHttpTransport
from azure_core_tracing.http.async_pipeline import AsyncHttpPipeline
from azure_core_tracing.http.log import LogPolicy
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.order import PIPELINE_ORDER
from azure_core_tracing.http.pipeline import HttpPipeline
from azure_core_tracing.http.policy import (
    AsyncHttpPolicy,
    AsyncNextPolicy,
    HttpPolicy,
    NextPolicy,
    PipelinePolicy,
    SansIOHttpPolicy,
)
from azure_core_tracing.http.request_id import RequestIdPolicy
from azure_core_tracing.http.requests_transport import RequestsTransport
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.telemetry import TelemetryPolicy
from azure_core_tracing.http.transport import (
    AsyncHttpTransport,
    HttpTransport,
    TransportConnectionError,
    TransportError,
    TransportPolicy,
    TransportTimeoutError,
)

__all__ = [
    "PIPELINE_ORDER",
    "AioHttpTransport",
    "AsyncHttpPipeline",
    "AsyncHttpPolicy",
    "AsyncHttpTransport",
    "AsyncNextPolicy",
    "HttpPipeline",
    "HttpPolicy",
    "HttpSanitizer",
    "HttpTransport",
    "LogPolicy",
    "NextPolicy",
    "PipelinePolicy",
    "RawResponse",
    "Request",
    "RequestActivityPolicy",
    "RequestIdPolicy",
    "RequestsTransport",
    "RetryPolicy",
    "SansIOHttpPolicy",
    "TelemetryPolicy",
    "TransportConnectionError",
    "TransportError",
    "TransportPolicy",
    "TransportTimeoutError",
]
