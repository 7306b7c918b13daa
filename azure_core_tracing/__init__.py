"""Distributed tracing core for Azure-style service clients; free of any tracing backend."""

from azure_core_tracing.call_options import TracingOptions, tracing_options
from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.credentials import (
    AccessToken,
    AccessTokenLike,
    AsyncTokenCredential,
    AzureKeyCredential,
    AzureNamedKey,
    AzureNamedKeyCredential,
    AzureSasCredential,
    TokenCredential,
)
from azure_core_tracing.decorator import distributed_trace
from azure_core_tracing.factory import ContextAndSpan, TracingContextFactory
from azure_core_tracing.options import (
    ClientOptions,
    LogOptions,
    RedirectOptions,
    RetryOptions,
    TelemetryOptions,
)
from azure_core_tracing.tracing import (
    AttributeSet,
    AttributeValue,
    CreateSpanOptions,
    Link,
    NoOpSpan,
    NoOpTracer,
    NoOpTracerProvider,
    Span,
    SpanKind,
    SpanStatus,
    Tracer,
    TracerProvider,
)

__version__ = "0.1.0"

__all__ = [
    "AccessToken",
    "AccessTokenLike",
    "AsyncTokenCredential",
    "AttributeSet",
    "AttributeValue",
    "AzureKeyCredential",
    "AzureNamedKey",
    "AzureNamedKeyCredential",
    "AzureSasCredential",
    "ClientOptions",
    "Context",
    "ContextAndSpan",
    "CreateSpanOptions",
    "Link",
    "LogOptions",
    "NoOpSpan",
    "NoOpTracer",
    "NoOpTracerProvider",
    "OperationCancelledError",
    "RedirectOptions",
    "RetryOptions",
    "Span",
    "SpanKind",
    "SpanStatus",
    "TelemetryOptions",
    "TokenCredential",
    "Tracer",
    "TracerProvider",
    "TracingContextFactory",
    "TracingOptions",
    "distributed_trace",
    "tracing_options",
]
