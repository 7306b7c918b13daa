"""A request that a policy sends again goes out as the pipeline would send it the first time.

A policy that re-sends (a redirect or a re-authentication policy does) calls the next policy
again with the same ``Request``. Every header the pipeline's fixed policies write must then
appear once, with the value the pipeline gives a new send: ``User-Agent`` with one copy of the
SDK's string, the same ``x-ms-client-request-id``, and a fresh trace context per try from
every propagator (W3C and B3 here). Both pipelines, a real server, the real OpenTelemetry SDK.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Literal, Optional

import pytest
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from azure_core_tracing import ClientOptions, Context, TelemetryOptions, TracingContextFactory
from azure_core_tracing.http import (
    AsyncHttpPipeline,
    AsyncHttpPolicy,
    AsyncNextPolicy,
    HttpPipeline,
    HttpPolicy,
    NextPolicy,
    RawResponse,
    Request,
)
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from tests.local_server import LocalServer, Received, Reply

Kind = Literal["sync", "async"]
SENDS = 3
# What the pipeline's fixed policies and the propagators write.
WRITTEN = ("user-agent", "x-ms-client-request-id", "traceparent", "b3", "x-b3-traceid")


@pytest.fixture(autouse=True)
def _w3c_and_b3() -> Iterator[None]:
    previous = get_global_textmap()
    set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), B3MultiFormat(), B3SingleFormat()])
    )
    yield
    set_global_textmap(previous)


class _SendsAgain(HttpPolicy):
    """Sends the same request ``SENDS`` times; returns the last response."""

    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        for _ in range(SENDS - 1):
            next_policy.send(request, context).close()
        return next_policy.send(request, context)


class _AsyncSendsAgain(AsyncHttpPolicy):
    async def send(
        self, request: Request, next_policy: AsyncNextPolicy, context: Context
    ) -> RawResponse:
        for _ in range(SENDS - 1):
            await (await next_policy.send(request, context)).aclose()
        return await next_policy.send(request, context)


def _send(
    server: LocalServer, kind: Kind, where: str, *, user_agent: Optional[str] = None
) -> list[Received]:
    """One traced call whose request a ``where`` policy sends ``SENDS`` times."""
    url = server.script("/r", Reply(200))
    exporter = InMemorySpanExporter()
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    options = ClientOptions(
        telemetry=TelemetryOptions(tracing_provider=OpenTelemetryProvider.create(sdk))
    )
    factory = TracingContextFactory(options, "Test.Svc", "1.0", package_name="azure-test")
    policy = _SendsAgain() if kind == "sync" else _AsyncSendsAgain()
    custom = {f"{where}_policies": [policy]}
    request = Request("GET", url, {"User-Agent": user_agent} if user_agent else None)
    if kind == "sync":
        pipeline = HttpPipeline(options, tracing_factory=factory, **custom)  # type: ignore[arg-type]
        with pipeline, factory.create_span("Op") as scope:
            pipeline.send(request, scope.context)
    else:

        async def run() -> None:
            pipeline = AsyncHttpPipeline(options, tracing_factory=factory, **custom)  # type: ignore[arg-type]
            async with pipeline:
                with factory.create_span("Op") as scope:
                    await pipeline.send(request, scope.context)

        asyncio.run(run())
    sdk.shutdown()
    assert len(server.received) == SENDS
    return server.received


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("where", ["per_call", "per_retry"])
@pytest.mark.parametrize("user_agent", [None, "callers-app/2.0"])
def test_each_send_carries_each_header_once_as_a_first_send_would(
    server: LocalServer, kind: Kind, where: str, user_agent: Optional[str]
) -> None:
    sends = _send(server, kind, where, user_agent=user_agent)
    first = sends[0].headers
    for header in WRITTEN:
        assert header in first
    agent = first["user-agent"]
    assert agent.count("azsdk-python-azure-test/1.0") == 1
    assert agent.endswith(user_agent or ")")
    for later in sends[1:]:
        assert later.headers["user-agent"] == agent
        assert later.headers["x-ms-client-request-id"] == first["x-ms-client-request-id"]
        assert set(later.headers) == set(first)
    # A fresh trace context for every try, from every propagator, never the last try's.
    for header in ("traceparent", "b3", "x-b3-spanid"):
        values = [received.headers[header] for received in sends]
        assert len(set(values)) == SENDS, header
    for received in sends:
        span_id = received.headers["traceparent"].split("-")[2]
        assert received.headers["x-b3-spanid"] == span_id
        assert received.headers["b3"].split("-")[1] == span_id


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_request_sent_again_by_the_caller_gets_no_stale_trace_headers(
    server: LocalServer, kind: Kind
) -> None:
    """The caller's request is never changed by a send (the pipeline sends a copy)."""
    request = Request("GET", server.script("/c", Reply(200)))
    exporter = InMemorySpanExporter()
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    options = ClientOptions(
        telemetry=TelemetryOptions(tracing_provider=OpenTelemetryProvider.create(sdk))
    )
    factory = TracingContextFactory(options, "Test.Svc", "1.0", package_name="azure-test")
    for _ in range(2):
        if kind == "sync":
            with HttpPipeline(options, tracing_factory=factory) as pipeline:
                pipeline.send(request, factory.create_span("Op").context)
        else:

            async def run() -> None:
                async with AsyncHttpPipeline(options, tracing_factory=factory) as pipeline:
                    await pipeline.send(request, Context())

            asyncio.run(run())
    assert dict(request.headers) == {}
    first, second = server.received
    assert first.headers["user-agent"] == second.headers["user-agent"]
