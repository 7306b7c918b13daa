"""An async service client, traced end to end: ``async def`` methods and ``AsyncHttpPipeline``.

The async twin of ``service_client.py``, as an SDK's ``.aio`` client would be written: the same
factory and decorator, an ``AsyncHttpPipeline`` on aiohttp (the ``[aio]`` extra), and the same
spans. Three items are fetched by concurrent tasks; each call is its own trace, its HTTP spans
under its own method span, whatever the interleaving.

Run: ``python samples/async_client.py``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Optional

from service_client import (
    API_VERSION,
    PACKAGE_NAME,
    PACKAGE_VERSION,
    SERVICE_NAMESPACE,
    SampleServiceError,
)

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.http import AsyncHttpPipeline, Request


class AsyncSampleServiceClient:
    """The async client of the demo service."""

    def __init__(self, endpoint: str, options: Optional[ClientOptions] = None) -> None:
        options = options or ClientOptions()
        self._endpoint = endpoint.rstrip("/")
        self._tracing_factory = TracingContextFactory(
            options, SERVICE_NAMESPACE, PACKAGE_VERSION, package_name=PACKAGE_NAME
        )
        self._pipeline = AsyncHttpPipeline(options, tracing_factory=self._tracing_factory)

    @distributed_trace
    async def get_item(self, name: str, *, context: Optional[Context] = None) -> dict[str, Any]:
        """Span "AsyncSampleServiceClient.get_item"; its HTTP spans nest under it."""
        response = await self._pipeline.send(
            Request("GET", f"{self._endpoint}/items/{name}?api-version={API_VERSION}"), context
        )
        if response.status_code >= 400:
            raise SampleServiceError(response.status_code, response.body.decode())
        result: dict[str, Any] = json.loads(response.body)
        return result

    async def close(self) -> None:
        await self._pipeline.close()

    async def __aenter__(self) -> AsyncSampleServiceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def fetch_all(
    endpoint: str, options: ClientOptions, names: list[str]
) -> list[dict[str, Any]]:
    async with AsyncSampleServiceClient(endpoint, options) as client:
        return list(await asyncio.gather(*(client.get_item(name) for name in names)))


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
        print("Three get_item calls as concurrent tasks, each retried once:")
        items = asyncio.run(fetch_all(server.url, options, ["red", "green", "blue"]))
        print(f"\nitems: {[item['name'] for item in items]}")
    tracer_provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
