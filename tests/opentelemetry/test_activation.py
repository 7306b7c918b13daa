"""Parents and the current span: azure Context first, then OpenTelemetry's own context."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import ReadableSpan

from azure_core_tracing import ClientOptions, Context
from azure_core_tracing.guard import GuardedSpan
from azure_core_tracing.http import Request
from azure_core_tracing_opentelemetry import OpenTelemetrySpan
from tests.http.conftest import TracedClient
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel


def _parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    span_id: int = span.context.span_id
    return span_id


def test_nesting_through_the_azure_context(otel: Otel) -> None:
    factory = otel.factory(suppress_nested_spans=False)
    with factory.create_span("outer") as outer, factory.create_span("inner", outer.context):
        pass
    outer_span, inner_span = otel.named("outer")[0], otel.named("inner")[0]
    assert _parent_id(inner_span) == _id(outer_span)
    assert _parent_id(outer_span) is None


def test_a_span_in_the_azure_context_wins_over_the_ambient_one(otel: Otel) -> None:
    factory = otel.factory(suppress_nested_spans=False)
    ctx, azure_parent = factory.create_span("azure-parent")
    app_tracer = otel.sdk.get_tracer("app")
    with app_tracer.start_as_current_span("ambient"):
        factory.create_span("child", ctx).span.end()
    azure_parent.end()
    assert _parent_id(otel.named("child")[0]) == _id(otel.named("azure-parent")[0])


def test_nesting_under_an_ambient_opentelemetry_span(otel: Otel) -> None:
    app_tracer = otel.sdk.get_tracer("app")
    with app_tracer.start_as_current_span("app-operation"), otel.factory().create_span("Svc.call"):
        pass
    assert _parent_id(otel.named("Svc.call")[0]) == _id(otel.named("app-operation")[0])


def test_while_entered_the_span_is_current_and_app_spans_nest_under_it(otel: Otel) -> None:
    app_tracer = otel.sdk.get_tracer("app")
    with otel.factory().create_span("Svc.call") as scope:
        current = otel_trace.get_current_span()
        span = scope.span
        assert isinstance(span, GuardedSpan) and isinstance(span.inner, OpenTelemetrySpan)
        assert current is span.inner.otel_span
        with app_tracer.start_as_current_span("app-inner"):
            pass
    assert _parent_id(otel.named("app-inner")[0]) == _id(otel.named("Svc.call")[0])
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN


def test_the_previous_current_span_is_restored_after_an_exception(otel: Otel) -> None:
    app_tracer = otel.sdk.get_tracer("app")
    with app_tracer.start_as_current_span("app-outer") as outer:
        with pytest.raises(RuntimeError), otel.factory().create_span("Svc.fails"):
            assert otel_trace.get_current_span() is not outer
            raise RuntimeError("boom")
        assert otel_trace.get_current_span() is outer
    assert otel.named("Svc.fails")[0].status.status_code.name == "ERROR"


def test_parenting_is_correct_under_8_threads_each_making_service_calls(
    otel: Otel, server: LocalServer
) -> None:
    url = server.script("/work", Reply(503), Reply(200))
    client = TracedClient(otel.options())
    app_tracer = otel.sdk.get_tracer("app")
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            with app_tracer.start_as_current_span(f"thread-{index}"):
                for _ in range(3):
                    client.call(Request("GET", url))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    spans = otel.spans()
    by_id = {_id(s): s for s in spans}
    roots = [s for s in spans if s.name.startswith("thread-")]
    assert len(roots) == 8
    calls = [s for s in spans if s.name == "TracedClient.call"]
    assert len(calls) == 24
    for call in calls:
        parent = by_id[_parent_id(call)]  # type: ignore[index]
        assert parent.name.startswith("thread-")
        assert call.context is not None and parent.context is not None
        assert call.context.trace_id == parent.context.trace_id
    http_spans = [s for s in spans if s.name.startswith("HTTP GET")]
    assert len(http_spans) >= 24
    for span in http_spans:
        parent = by_id[_parent_id(span)]  # type: ignore[index]
        assert parent.name == "TracedClient.call"
        assert span.context is not None and parent.context is not None
        assert span.context.trace_id == parent.context.trace_id
    traceparents = [r.headers["traceparent"] for r in server.received]
    assert sorted(traceparents) == sorted(
        f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}-{s.context.trace_flags:02x}"
        for s in http_spans
        if s.context is not None
    )


def test_parenting_in_asyncio_tasks(otel: Otel) -> None:
    factory = otel.factory()
    app_tracer = otel.sdk.get_tracer("app")

    async def operation(index: int) -> None:
        with app_tracer.start_as_current_span(f"task-{index}"):
            with factory.create_span(f"Svc.op{index}"):
                await asyncio.sleep(0.001)
                with app_tracer.start_as_current_span(f"inner-{index}"):
                    await asyncio.sleep(0.001)
            assert otel_trace.get_current_span().name == f"task-{index}"  # type: ignore[attr-defined]

    async def main() -> None:
        await asyncio.gather(*(operation(i) for i in range(10)))

    asyncio.run(main())
    spans = {s.name: s for s in otel.spans()}
    for index in range(10):
        assert _parent_id(spans[f"Svc.op{index}"]) == _id(spans[f"task-{index}"])
        assert _parent_id(spans[f"inner-{index}"]) == _id(spans[f"Svc.op{index}"])


def test_no_provider_leaves_opentelemetrys_context_alone() -> None:
    from azure_core_tracing import TracingContextFactory

    factory = TracingContextFactory(ClientOptions(), "Svc", "1")
    with factory.create_span("op"):
        assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
    assert Context.application_context.get_tracer_provider() is None


def test_create_with_none_uses_the_global_provider_even_when_set_later() -> None:
    """Run in a fresh interpreter: OpenTelemetry lets the global provider be set only once."""
    script = textwrap.dedent(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from azure_core_tracing import ClientOptions, Context, TracingContextFactory
        from azure_core_tracing_opentelemetry import OpenTelemetryProvider

        Context.application_context.set_tracer_provider(OpenTelemetryProvider.create())
        factory = TracingContextFactory(ClientOptions(), "Svc", "1.0", package_name="pkg")
        factory.create_span("before").span.end()     # global not set yet: a no-op proxy

        exporter = InMemorySpanExporter()
        sdk = TracerProvider()
        sdk.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(sdk)
        factory.create_span("after").span.end()
        print([s.name for s in exporter.get_finished_spans()])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "['after']"


def test_entering_a_scope_twice_never_leaves_its_ended_span_current(otel: Otel) -> None:
    scope = otel.factory().create_span("Svc.once")
    with scope:
        pass
    with pytest.raises(RuntimeError, match="entered only once"), scope:
        pass
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
    with otel.sdk.get_tracer("app").start_as_current_span("later"):
        pass
    assert otel.named("later")[0].parent is None
