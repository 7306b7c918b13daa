"""OpenTelemetry adapter for ``azure_core_tracing``: provider, span, propagator, console tree."""

from azure_core_tracing_opentelemetry.console import ConsoleTreeExporter
from azure_core_tracing_opentelemetry.propagator import W3CTraceContextPropagator
from azure_core_tracing_opentelemetry.provider import OpenTelemetryProvider, OpenTelemetryTracer
from azure_core_tracing_opentelemetry.span import OpenTelemetrySpan

__all__ = [
    "ConsoleTreeExporter",
    "OpenTelemetryProvider",
    "OpenTelemetrySpan",
    "OpenTelemetryTracer",
    "W3CTraceContextPropagator",
]
