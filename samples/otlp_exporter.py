"""Export Azure client spans over OTLP/HTTP to a collector (or Azure Monitor's OTLP endpoint).

Run: ``python samples/otlp_exporter.py [--endpoint http://localhost:4318/v1/traces]``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from local_server import DemoServer
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from service_client import SampleServiceClient

from azure_core_tracing import ClientOptions
from azure_core_tracing_opentelemetry import OpenTelemetryProvider


class CountingOTLPExporter(OTLPSpanExporter):
    """OpenTelemetry's OTLP/HTTP exporter, counting what was sent and what was not."""

    sent = 0
    failed = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = super().export(spans)
        if result is SpanExportResult.SUCCESS:
            self.sent += len(spans)
        else:
            self.failed += len(spans)
        return result

    def report(self, endpoint: Optional[str]) -> str:
        where = endpoint or "the endpoint OpenTelemetry's environment names"
        if self.failed:
            return f"OTLP: {self.failed} spans could not be sent to {where} (is a collector there?)"
        return f"OTLP: {self.sent} spans sent to {where}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="full OTLP/HTTP traces URL")
    args = parser.parse_args(argv)

    exporter = CountingOTLPExporter(endpoint=args.endpoint, timeout=5)
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": "otlp-sample"}))
    tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    options = ClientOptions()
    options.telemetry.tracing_provider = OpenTelemetryProvider.create(tracer_provider)

    with DemoServer() as server:
        client = SampleServiceClient(server.url, options)
        client.get_item("exported")
        client.delete_item("exported")
        client.close()
    tracer_provider.shutdown()  # flushes the batch processor before the process exits
    print(exporter.report(args.endpoint))
    return 0


if __name__ == "__main__":
    sys.exit(main())
