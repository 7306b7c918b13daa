"""A per-client tracer provider overrides the application-wide one for that client only.

Run: ``python samples/client_options_provider.py``
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from local_server import DemoServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from service_client import SampleServiceClient

from azure_core_tracing import ClientOptions, Context
from azure_core_tracing_opentelemetry import OpenTelemetryProvider


def _provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def main(argv: Optional[list[str]] = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    app_provider, app_spans = _provider()
    client_provider, client_spans = _provider()
    Context.application_context.set_tracer_provider(OpenTelemetryProvider.create(app_provider))

    options = ClientOptions()
    options.telemetry.tracing_provider = OpenTelemetryProvider.create(client_provider)
    options.telemetry.application_id = "MyApplication"  # leads the User-Agent header

    with DemoServer() as server:
        SampleServiceClient(server.url, options).get_item("special")  # client's provider
        SampleServiceClient(server.url).get_item("ordinary")  # application provider

    def items(exporter: InMemorySpanExporter) -> list[str]:
        urls = [
            str((s.attributes or {}).get("http.url", "")) for s in exporter.get_finished_spans()
        ]
        return sorted({url.split("?")[0].rsplit("/", 1)[-1] for url in urls if url})

    print(f"per-client provider traced the calls for:  {items(client_spans)}")
    print(f"application provider traced the calls for: {items(app_spans)}")
    agent = next(
        s for s in client_spans.get_finished_spans() if s.name.startswith("HTTP")
    ).attributes
    print(f"User-Agent sent by the client: {(agent or {}).get('http.user_agent')}")

    Context.application_context.set_tracer_provider(None)
    app_provider.shutdown()
    client_provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
