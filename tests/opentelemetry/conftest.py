"""The real OpenTelemetry SDK with its in-memory exporter, wrapped for azure_core_tracing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from azure_core_tracing import ClientOptions, TelemetryOptions, TracingContextFactory
from azure_core_tracing_opentelemetry import OpenTelemetryProvider


@dataclass
class Otel:
    sdk: TracerProvider
    exporter: InMemorySpanExporter
    provider: OpenTelemetryProvider

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.name == name]

    def options(self, *, suppress_nested_spans: bool = True) -> ClientOptions:
        """Client options traced by this provider, retrying without a real wait."""
        options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=self.provider))
        options.retry.retry_delay = 0.001
        options.telemetry.suppress_nested_spans = suppress_nested_spans
        return options

    def factory(
        self, service: str = "Test.Service", *, suppress_nested_spans: bool = True
    ) -> TracingContextFactory:
        options = self.options(suppress_nested_spans=suppress_nested_spans)
        return TracingContextFactory(options, service, "1.0.0", package_name="azure-test")


@pytest.fixture
def otel() -> Iterator[Otel]:
    exporter = InMemorySpanExporter()
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    yield Otel(sdk, exporter, OpenTelemetryProvider.create(sdk))
    sdk.shutdown()
