"""Quickstart: trace a service call end to end and see the spans.

It starts an embedded HTTP server on 127.0.0.1 (it answers 503 once, then 200), sets an
application-wide tracer provider built from the OpenTelemetry SDK, calls a traced service
method, and prints the span tree and the ``traceparent`` headers the server received.

Run: ``python samples/quickstart.py [--exporter console|otlp] [--endpoint URL]``
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from local_server import DemoServer
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from service_client import SampleServiceClient

from azure_core_tracing import Context
from azure_core_tracing_opentelemetry import ConsoleTreeExporter, OpenTelemetryProvider


def _arguments(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--exporter",
        choices=("console", "otlp"),
        default="console",
        help="console: print the tree only; otlp: also export over OTLP/HTTP",
    )
    parser.add_argument(
        "--endpoint",
        help="full OTLP/HTTP traces URL (default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or "
        "OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318/v1/traces)",
    )
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = _arguments(argv)
    tracer_provider = TracerProvider(
        resource=Resource.create({"service.name": "azure-core-tracing-quickstart"})
    )
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleTreeExporter()))
    otlp = None
    if args.exporter == "otlp":
        from otlp_exporter import CountingOTLPExporter

        otlp = CountingOTLPExporter(endpoint=args.endpoint, timeout=5)
        tracer_provider.add_span_processor(BatchSpanProcessor(otlp))

    # One provider for every Azure client in the application.
    Context.application_context.set_tracer_provider(OpenTelemetryProvider.create(tracer_provider))

    with DemoServer() as server:
        print(f"Calling SampleServiceClient.get_item on the embedded server at {server.url}\n")
        client = SampleServiceClient(server.url)
        item = client.get_item("quickstart")
        client.close()
        print(f"\nThe call returned {item}")
        print("\ntraceparent headers the server received, one per try:")
        for number, received in enumerate(server.received):
            print(f"  {received.method} {received.path} (try {number}): {received.traceparent}")

    tracer_provider.shutdown()  # flushes the OTLP batch before the process exits
    if otlp is not None:
        print(f"\n{otlp.report(args.endpoint)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
