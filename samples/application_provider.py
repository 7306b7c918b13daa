"""One tracer provider for the whole application: every Azure client is traced by it.

Run: ``python samples/application_provider.py``
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from local_server import DemoServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from service_client import SampleServiceClient

from azure_core_tracing import Context
from azure_core_tracing_opentelemetry import ConsoleTreeExporter, OpenTelemetryProvider


def main(argv: Optional[list[str]] = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleTreeExporter()))

    with DemoServer() as server:
        # Clients built before the provider is set are traced too: it is looked up per span.
        first = SampleServiceClient(server.url)
        Context.application_context.set_tracer_provider(
            OpenTelemetryProvider.create(tracer_provider)
        )
        second = SampleServiceClient(server.url)

        # The application's own OpenTelemetry span is the parent of both service calls.
        app_tracer = tracer_provider.get_tracer("my-application")
        with app_tracer.start_as_current_span("checkout"):
            first.get_item("cart")
            second.delete_item("cart")
        first.close()
        second.close()

    Context.application_context.set_tracer_provider(None)
    tracer_provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
