from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from azure_core_tracing import (
    ClientOptions,
    Context,
    SpanKind,
    SpanStatus,
    TelemetryOptions,
    TracingContextFactory,
    distributed_trace,
)
from tests.recording import RecordingTracerProvider, recorded
from tests.test_factory import _BrokenProvider, _BrokenSpanProvider


class Client:
    def __init__(self, provider: Any = None, *, nested: bool = False) -> None:
        options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
        options.telemetry.suppress_nested_spans = not nested
        self._tracing_factory = TracingContextFactory(options, "Test.Service", "1.0")
        self.seen: list[Context | None] = []

    @distributed_trace
    def get_thing(self, name: str, *, context: Context | None = None) -> str:
        self.seen.append(context)
        return name.upper()

    @distributed_trace(name="Client.Custom", kind=SpanKind.CLIENT)
    def custom(self, context: Context | None = None, suffix: str = "") -> str:
        self.seen.append(context)
        return "custom" + suffix

    @distributed_trace
    def fail(self, *, context: Context | None = None) -> None:
        raise LookupError("not found")

    @distributed_trace
    def no_context_parameter(self, value: int) -> int:
        return value * 2

    @distributed_trace
    def calls_nested(self, *, context: Context | None = None) -> str:
        return self.get_thing("inner", context=context)

    @distributed_trace
    async def get_async(self, *, context: Context | None = None) -> str:
        self.seen.append(context)
        await asyncio.sleep(0)
        return "async"

    @distributed_trace
    async def fail_async(self, *, context: Context | None = None) -> None:
        await asyncio.sleep(0)
        raise LookupError("async not found")


def test_bare_decorator_names_the_span_after_the_qualname_and_sets_ok(
    recorder: RecordingTracerProvider,
) -> None:
    client = Client(recorder)
    assert client.get_thing("x") == "X"
    (span,) = recorder.finished
    assert span.name == "Client.get_thing"
    assert span.status is SpanStatus.OK
    assert span.kind is SpanKind.INTERNAL
    assert span.attributes["az.namespace"] == "Test.Service"


def test_the_method_receives_the_new_context_holding_its_span(
    recorder: RecordingTracerProvider,
) -> None:
    client = Client(recorder)
    client.get_thing("x")
    (ctx,) = client.seen
    span = TracingContextFactory.span_from_context(ctx)
    assert span is not None and recorded(span) is recorder.finished[0]


def test_callers_context_is_the_parent_and_its_values_survive(
    recorder: RecordingTracerProvider,
) -> None:
    client = Client(recorder, nested=True)
    parent_ctx, parent = client._tracing_factory.create_span("Caller", Context().with_value("k", 1))
    client.get_thing("x", context=parent_ctx)
    span = recorder.named("Client.get_thing")[0]
    assert span.parent is recorded(parent)
    assert client.seen[0] is not None and client.seen[0].get_value("k") == 1


def test_named_decorator_sets_name_and_kind_and_handles_positional_context(
    recorder: RecordingTracerProvider,
) -> None:
    client = Client(recorder, nested=True)
    parent_ctx, parent = client._tracing_factory.create_span("Caller")
    assert client.custom(parent_ctx, "!") == "custom!"
    span = recorder.named("Client.Custom")[0]
    assert span.kind is SpanKind.CLIENT
    assert span.parent is recorded(parent)
    seen = TracingContextFactory.span_from_context(client.seen[0])
    assert seen is not None and recorded(seen) is span


def test_failure_records_the_exception_and_reraises(recorder: RecordingTracerProvider) -> None:
    client = Client(recorder)
    with pytest.raises(LookupError, match="not found"):
        client.fail()
    (span,) = recorder.finished
    assert span.status is SpanStatus.ERROR
    assert isinstance(span.events[0].exception, LookupError)
    assert span.end_calls == 1


def test_method_without_context_parameter_is_traced(recorder: RecordingTracerProvider) -> None:
    assert Client(recorder).no_context_parameter(4) == 8
    assert [s.name for s in recorder.finished] == ["Client.no_context_parameter"]


def test_nested_traced_methods_nest_their_spans(recorder: RecordingTracerProvider) -> None:
    Client(recorder, nested=True).calls_nested()
    outer = recorder.named("Client.calls_nested")[0]
    inner = recorder.named("Client.get_thing")[0]
    assert inner.parent is outer


def test_a_nested_traced_method_makes_no_span_of_its_own_by_default(
    recorder: RecordingTracerProvider,
) -> None:
    client = Client(recorder)
    assert client.calls_nested() == "INNER"
    assert [s.name for s in recorder.finished] == ["Client.calls_nested"]


def test_without_a_provider_the_method_gets_the_callers_own_context() -> None:
    client = Client()
    mine = Context().with_value("k", 1)
    assert client.get_thing("x") == "X"
    assert client.get_thing("y", context=mine) == "Y"
    assert client.custom(mine, "!") == "custom!"
    assert client.seen == [None, mine, mine]


def test_async_methods_are_traced(recorder: RecordingTracerProvider) -> None:
    client = Client(recorder, nested=True)
    assert asyncio.run(client.get_async()) == "async"
    with pytest.raises(LookupError):
        asyncio.run(client.fail_async())
    ok, failed = recorder.finished
    assert (ok.name, ok.status) == ("Client.get_async", SpanStatus.OK)
    assert (failed.name, failed.status) == ("Client.fail_async", SpanStatus.ERROR)


def test_decorated_methods_keep_their_metadata() -> None:
    assert Client.get_thing.__name__ == "get_thing"
    assert asyncio.iscoroutinefunction(Client.get_async)


def test_a_provider_whose_methods_raise_does_not_break_a_decorated_method(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        for provider in (_BrokenProvider(), _BrokenSpanProvider()):
            client = Client(provider)
            assert [client.get_thing("a"), client.get_thing("b")] == ["A", "B"]
            with pytest.raises(LookupError):
                client.fail()
    messages = [r.getMessage() for r in caplog.records if r.name == "azure_core_tracing"]
    assert sum("create_tracer of tests.test_factory._BrokenProvider" in m for m in messages) == 1
    assert sum("set_status of tests.test_factory._BrokenSpanProvider" in m for m in messages) == 1
    assert all(r.levelno == logging.WARNING for r in caplog.records)


def test_an_instance_without_factory_runs_untraced_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class NoFactory:
        @distributed_trace
        def method(self, *, context: Context | None = None) -> Context | None:
            return context

    ctx = Context()
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        assert NoFactory().method(context=ctx) is ctx
        assert NoFactory().method() is None
    assert sum("_tracing_factory" in r.getMessage() for r in caplog.records) == 1


def test_kind_must_be_a_span_kind() -> None:
    with pytest.raises(TypeError, match="kind"):
        distributed_trace(kind="CLIENT")  # type: ignore[call-overload]
