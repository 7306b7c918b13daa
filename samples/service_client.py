"""How an SDK author traces a service client: one span per public method.

1. Give the client a ``TracingContextFactory`` (as ``self._tracing_factory``) and a pipeline.
2. In each service method: create the span, pass its context to the pipeline, set OK on
   success; an exception is recorded on the span (event + ERROR) and re-raised.

Run: ``python samples/service_client.py``
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional

from azure_core_tracing import (
    ClientOptions,
    Context,
    SpanStatus,
    TracingContextFactory,
    distributed_trace,
)
from azure_core_tracing.http import HttpPipeline, Request

SERVICE_NAMESPACE = "Contoso.Sample"
PACKAGE_NAME = "contoso-sample"
PACKAGE_VERSION = "1.0.0"
API_VERSION = "2024-01-01"


class SampleServiceError(Exception):
    """The service answered with an error status."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code


class SampleServiceClient:
    """A small Azure-style client of the demo service."""

    def __init__(self, endpoint: str, options: Optional[ClientOptions] = None) -> None:
        options = options or ClientOptions()
        self._endpoint = endpoint.rstrip("/")
        self._tracing_factory = TracingContextFactory(
            options, SERVICE_NAMESPACE, PACKAGE_VERSION, package_name=PACKAGE_NAME
        )
        # The pipeline takes the client's names from its factory: they are given once.
        self._pipeline = HttpPipeline(options, tracing_factory=self._tracing_factory)

    def get_item(self, name: str, *, context: Optional[Context] = None) -> dict[str, Any]:
        """Context-manager form: the span ends when the block does."""
        with self._tracing_factory.create_span("SampleServiceClient.get_item", context) as scope:
            response = self._pipeline.send(
                Request("GET", f"{self._endpoint}/items/{name}?api-version={API_VERSION}"),
                scope.context,
            )
            if response.status_code >= 400:
                raise SampleServiceError(response.status_code, response.body.decode())
            scope.span.set_status(SpanStatus.OK)
            result: dict[str, Any] = json.loads(response.body)
            return result

    @distributed_trace
    def delete_item(self, name: str, *, context: Optional[Context] = None) -> None:
        """Decorator form: span "SampleServiceClient.delete_item", OK on return."""
        response = self._pipeline.send(
            Request("DELETE", f"{self._endpoint}/items/{name}?api-version={API_VERSION}"),
            context,
        )
        if response.status_code >= 400:
            raise SampleServiceError(response.status_code, response.body.decode())

    def close(self) -> None:
        self._pipeline.close()


def main(argv: Optional[list[str]] = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    from local_server import DemoServer
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from azure_core_tracing_opentelemetry import ConsoleTreeExporter, OpenTelemetryProvider

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleTreeExporter()))
    options = ClientOptions()
    options.telemetry.tracing_provider = OpenTelemetryProvider.create(tracer_provider)

    with DemoServer() as server:
        client = SampleServiceClient(server.url, options)
        print("get_item (context-manager form), retried once:")
        client.get_item("widget")
        print("\ndelete_item (decorator form):")
        client.delete_item("widget")
        print("\nget_item on a missing item: the span records the exception and ERROR:")
        try:
            client.get_item("missing")
        except SampleServiceError as error:
            print(f"(the caller still gets the error: {error})")
        client.close()
    tracer_provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
