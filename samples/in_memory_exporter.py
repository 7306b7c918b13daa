"""Assert on the spans a service call makes, with OpenTelemetry's in-memory exporter.

This is how to test your own SDK's tracing. Run: ``python samples/in_memory_exporter.py``
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from local_server import DemoServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from service_client import SERVICE_NAMESPACE, SampleServiceClient

from azure_core_tracing import ClientOptions
from azure_core_tracing_opentelemetry import OpenTelemetryProvider


def main(argv: Optional[list[str]] = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    options = ClientOptions()
    options.telemetry.tracing_provider = OpenTelemetryProvider.create(tracer_provider)

    with DemoServer() as server:
        SampleServiceClient(server.url, options).get_item("tested")

    spans = {span.name: span for span in exporter.get_finished_spans()}
    method, first, retry = (
        spans["SampleServiceClient.get_item"],
        spans["HTTP GET #0"],
        spans["HTTP GET #1"],
    )
    assert method.status.status_code is StatusCode.OK
    assert (method.attributes or {})["az.namespace"] == SERVICE_NAMESPACE
    for http_span in (first, retry):
        assert http_span.kind is SpanKind.CLIENT
        assert http_span.parent is not None and method.context is not None
        assert http_span.parent.span_id == method.context.span_id
    assert (first.attributes or {})["http.status_code"] == 503
    assert first.status.status_code is StatusCode.ERROR
    assert (retry.attributes or {})["http.status_code"] == 200
    print(f"{len(spans)} spans checked: {', '.join(sorted(spans))}")
    tracer_provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
