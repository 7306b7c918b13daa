"""The async pipeline with the real OpenTelemetry SDK: parents across awaits and concurrent
tasks, cancellation, and no double spans with OpenTelemetry's aiohttp instrumentation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Optional

import aiohttp
import pytest
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.http import AsyncHttpPipeline, Request
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel


class AsyncWidgetClient:
    """An async service client as an SDK author writes one: names passed once."""

    def __init__(self, options: ClientOptions, base_url: str) -> None:
        self._tracing_factory = TracingContextFactory(
            options, "Contoso.Widgets", "1.0.0", package_name="contoso-widgets"
        )
        self._pipeline = AsyncHttpPipeline(options, tracing_factory=self._tracing_factory)
        self._base_url = base_url

    @distributed_trace
    async def get_widget(self, name: str, *, context: Optional[Context] = None) -> int:
        response = await self._pipeline.send(Request("GET", f"{self._base_url}/{name}"), context)
        return response.status_code

    async def close(self) -> None:
        await self._pipeline.close()


def _traceparent(span: ReadableSpan) -> str:
    assert span.context is not None
    ctx = span.context
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"


def test_50_tasks_of_20_calls_each_parent_their_http_spans_to_their_own_method_span(
    otel: Otel, server: LocalServer
) -> None:
    base = server.url("/widgets")
    for index in range(50):
        server.script(f"/widgets/w{index}", Reply(200))
    options = otel.options()

    async def main() -> None:
        client = AsyncWidgetClient(options, base)
        try:

            async def task(index: int) -> None:
                for _ in range(20):
                    assert await client.get_widget(f"w{index}") == 200

            await asyncio.gather(*(task(index) for index in range(50)))
        finally:
            await client.close()

    asyncio.run(main())
    spans = otel.spans()
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    methods = [s for s in spans if s.name == "AsyncWidgetClient.get_widget"]
    https = [s for s in spans if s.name == "HTTP GET #0"]
    assert len(methods) == 1000 and len(https) == 1000
    for http in https:
        assert http.parent is not None
        method = by_id[http.parent.span_id]
        assert method.name == "AsyncWidgetClient.get_widget"
        assert method.parent is None  # each call its own trace
        assert http.context is not None and method.context is not None
        assert http.context.trace_id == method.context.trace_id
        assert http.attributes is not None and method.attributes is not None
        assert http.kind is SpanKind.CLIENT
        # the HTTP span's URL is its own task's widget
        assert str(http.attributes["http.url"]).startswith(f"{base}/w")
    assert len({s.context.trace_id for s in methods if s.context}) == 1000
    received = sorted(r.headers["traceparent"] for r in server.received)
    assert received == sorted(_traceparent(s) for s in https)
    for request in server.received:  # each request carries its own span's context
        http = next(s for s in https if _traceparent(s) == request.headers["traceparent"])
        assert http.attributes is not None and str(http.attributes["http.url"]).endswith(
            request.path
        )


def test_a_task_cancelled_mid_request_ends_its_spans_not_as_errors(
    otel: Otel, server: LocalServer
) -> None:
    url = server.script("/slow", Reply(200, delay=2.0))
    options = otel.options()

    async def main() -> None:
        factory = TracingContextFactory(options, "Svc", "1.0")
        async with AsyncHttpPipeline(options, tracing_factory=factory) as pipeline:

            async def call() -> None:
                with factory.create_span("Svc.slow") as scope:
                    await pipeline.send(Request("GET", url), scope.context)

            task = asyncio.create_task(call())
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    (http,) = otel.named("HTTP GET #0")
    (method,) = otel.named("Svc.slow")
    for span in (http, method):
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.UNSET
        assert [e.name for e in span.events] == []


@pytest.fixture
def aiohttp_instrumented(otel: Otel) -> Iterator[Otel]:
    AioHttpClientInstrumentor().instrument(tracer_provider=otel.sdk)
    try:
        yield otel
    finally:
        AioHttpClientInstrumentor().uninstrument()


def test_no_double_http_spans_with_the_aiohttp_instrumentation_and_app_calls_keep_theirs(
    aiohttp_instrumented: Otel, server: LocalServer
) -> None:
    otel = aiohttp_instrumented
    flaky = server.script("/flaky", Reply(503), Reply(200))
    plain = server.script("/plain", Reply(200))
    options = otel.options()

    async def main() -> None:
        factory = TracingContextFactory(options, "Svc", "1.0", package_name="azure-test")
        async with AsyncHttpPipeline(options, tracing_factory=factory) as pipeline:
            with factory.create_span("Svc.call") as scope:
                await pipeline.send(Request("GET", flaky), scope.context)
        async with aiohttp.ClientSession() as session, session.get(plain) as response:
            assert response.status == 200

    asyncio.run(main())
    clients = [s for s in otel.spans() if s.kind is SpanKind.CLIENT]
    ours = [
        s
        for s in clients
        if s.instrumentation_scope and s.instrumentation_scope.name == "azure-test"
    ]
    theirs = [s for s in clients if s not in ours]
    assert [s.name for s in ours] == ["HTTP GET #0", "HTTP GET #1"]
    assert len(theirs) == 1  # the application's own aiohttp call, and only that one
    assert theirs[0].parent is None  # the suppression did not leak past the pipeline's send
