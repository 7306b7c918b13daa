from __future__ import annotations

import logging

import pytest

from azure_core_tracing import (
    AttributeSet,
    ClientOptions,
    Context,
    CreateSpanOptions,
    NoOpSpan,
    Span,
    SpanKind,
    SpanStatus,
    TelemetryOptions,
    Tracer,
    TracerProvider,
    TracingContextFactory,
)
from tests.recording import RecordingTracerProvider, recorded

SERVICE = "Azure.Core.OpenTelemetry.Test.Service"


def make_factory(
    provider: TracerProvider | None = None, *, nested: bool = False, **kwargs: object
) -> TracingContextFactory:
    """A factory over ``provider``; ``nested=True`` keeps the spans of nested calls."""
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
    options.telemetry.suppress_nested_spans = not nested
    return TracingContextFactory(options, SERVICE, "1.2.3", **kwargs)  # type: ignore[arg-type]


def test_per_client_provider_wins_over_the_application_provider(
    app_recorder: RecordingTracerProvider,
) -> None:
    client_provider = RecordingTracerProvider()
    make_factory(client_provider).create_span("Op").span.end()
    assert [s.name for s in client_provider.finished] == ["Op"]
    assert app_recorder.started == []


def test_application_provider_is_used_when_the_client_has_none(
    app_recorder: RecordingTracerProvider,
) -> None:
    make_factory().create_span("Op").span.end()
    assert [s.name for s in app_recorder.finished] == ["Op"]


def test_no_provider_anywhere_gives_a_noop_span_and_the_given_context() -> None:
    factory = make_factory()
    ctx = Context().with_value("k", 1)
    result = factory.create_span("Op", ctx)
    assert isinstance(result.span, NoOpSpan)
    assert result.context is ctx
    assert factory.is_tracing_enabled is False


def test_a_provider_set_after_the_factory_is_built_is_used(
    recorder: RecordingTracerProvider,
) -> None:
    factory = make_factory()
    assert factory.is_tracing_enabled is False
    Context.application_context.set_tracer_provider(recorder)
    assert factory.is_tracing_enabled is True
    factory.create_span("Later").span.end()
    assert [s.name for s in recorder.finished] == ["Later"]


def test_every_span_carries_az_namespace_and_the_given_attributes(
    recorder: RecordingTracerProvider,
) -> None:
    factory = make_factory(recorder)
    _, guarded = factory.create_span("Op", kind=SpanKind.CLIENT, attributes={"x": 1})
    span = recorded(guarded)
    assert span.attributes == {"az.namespace": SERVICE, "x": 1}
    assert span.kind is SpanKind.CLIENT


def test_invalid_span_arguments_raise_even_without_a_provider() -> None:
    factory = make_factory()
    with pytest.raises(TypeError, match="'bad'"):
        factory.create_span("Op", attributes={"bad": object()})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="name"):
        factory.create_span("")
    with pytest.raises(TypeError, match="kind"):
        factory.create_span("Op", kind="CLIENT")  # type: ignore[arg-type]


def test_tracer_is_named_after_the_package_and_cached_per_provider(
    recorder: RecordingTracerProvider,
) -> None:
    factory = make_factory(recorder, package_name="azure-sample", schema_url="https://schema/1")
    factory.create_span("A").span.end()
    factory.create_span("B").span.end()
    assert recorder.tracers == [("azure-sample", "1.2.3", "https://schema/1")]
    other = RecordingTracerProvider()
    Context.application_context.set_tracer_provider(other)
    make_factory(package_name="azure-sample").create_span("C").span.end()
    assert other.tracers == [("azure-sample", "1.2.3", None)]


def test_tracer_name_defaults_to_the_service_name(recorder: RecordingTracerProvider) -> None:
    make_factory(recorder).create_span("A")
    assert recorder.tracers[0][0] == SERVICE


def test_nested_create_span_calls_give_parent_links_through_the_context(
    recorder: RecordingTracerProvider,
) -> None:
    factory = make_factory(recorder, nested=True)
    outer_ctx, outer_span = factory.create_span("Outer")
    inner_ctx, inner_span = factory.create_span("Inner", outer_ctx)
    outer, inner = recorded(outer_span), recorded(inner_span)
    innermost = recorded(factory.create_span("Innermost", inner_ctx).span)
    sibling = recorded(factory.create_span("Sibling", outer_ctx).span)
    assert outer.parent is None
    assert inner.parent is outer
    assert innermost.parent is inner
    assert sibling.parent is outer
    assert innermost.trace_id == outer.trace_id


def test_returned_context_carries_the_span_and_the_factory(
    recorder: RecordingTracerProvider,
) -> None:
    factory = make_factory(recorder)
    base = Context().with_value("caller", "kept")
    ctx, span = factory.create_span("Op", base)
    assert TracingContextFactory.from_context(ctx) is factory
    assert TracingContextFactory.span_from_context(ctx) is span
    assert ctx.get_value("caller") == "kept"
    assert TracingContextFactory.from_context(base) is None
    assert TracingContextFactory.from_context(None) is None


def test_create_span_from_context_finds_the_factory(recorder: RecordingTracerProvider) -> None:
    factory = make_factory(recorder, nested=True)
    ctx, parent = factory.create_span("Method")
    child_ctx, child_span = TracingContextFactory.create_span_from_context(
        "Helper", ctx, kind=SpanKind.PRODUCER, attributes={"n": 2}
    )
    child = recorded(child_span)
    assert child.parent is recorded(parent)
    assert child.kind is SpanKind.PRODUCER
    assert child.attributes == {"az.namespace": SERVICE, "n": 2}
    assert TracingContextFactory.span_from_context(child_ctx) is child_span


def test_create_span_from_a_context_without_factory_is_a_noop() -> None:
    ctx = Context()
    result = TracingContextFactory.create_span_from_context("Helper", ctx)
    assert isinstance(result.span, NoOpSpan)
    assert result.context is ctx


def test_context_and_span_unpacks_and_ends_the_span_exactly_once(
    recorder: RecordingTracerProvider,
) -> None:
    factory = make_factory(recorder)
    result = factory.create_span("Op")
    ctx, span = result
    assert ctx is result.context and span is result.span
    with result as entered:
        assert entered is result
        entered.span.set_status(SpanStatus.OK)
    assert recorded(span).end_calls == 1
    assert recorded(span).status is SpanStatus.OK
    assert recorded(span).events == []


def test_unpacking_gives_a_context_and_a_span_with_their_own_types(
    recorder: RecordingTracerProvider,
) -> None:
    # mypy --strict checks this file: each name has its precise type, not a union of both.
    factory = make_factory(recorder, nested=True)
    ctx, span = factory.create_span("Outer")
    child_ctx, child = factory.create_span("Inner", ctx)
    assert child_ctx.get_value("missing") is None
    child.end()
    span.end()
    assert [s.name for s in recorder.finished] == ["Inner", "Outer"]


def test_context_manager_records_an_exception_and_lets_it_propagate(
    recorder: RecordingTracerProvider,
) -> None:
    factory = make_factory(recorder)
    with pytest.raises(KeyError, match="missing"), factory.create_span("Op"):
        raise KeyError("missing")
    (span,) = recorder.finished
    assert span.status is SpanStatus.ERROR
    assert [e.name for e in span.events] == ["exception"]
    assert isinstance(span.events[0].exception, KeyError)
    assert span.end_calls == 1


def test_status_stays_unset_unless_the_author_sets_it(recorder: RecordingTracerProvider) -> None:
    with make_factory(recorder).create_span("Op"):
        pass
    assert recorder.finished[0].status is SpanStatus.UNSET


def test_create_attribute_set() -> None:
    assert isinstance(make_factory().create_attribute_set(), AttributeSet)


def test_factory_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="client_options"):
        TracingContextFactory({}, SERVICE, "1.0")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="service_name or package_name"):
        TracingContextFactory(ClientOptions(), None, "1.0")


class _BrokenProvider(TracerProvider):
    def create_tracer(
        self, name: str, version: str | None = None, *, schema_url: str | None = None
    ) -> Tracer:
        raise RuntimeError("provider exploded")


class _BrokenSpan(Span):
    def end(self, end_time: object = None) -> None:
        raise RuntimeError("end exploded")

    def add_attribute(self, name: str, value: object) -> None:
        raise RuntimeError("attr exploded")

    def add_event(self, name_or_exception: object, attributes: object = None) -> None:
        raise RuntimeError("event exploded")

    def set_status(self, status: object, description: object = None) -> None:
        raise RuntimeError("status exploded")

    def propagate_to_http_headers(self, headers: object) -> None:
        raise RuntimeError("propagate exploded")

    @property
    def is_recording(self) -> bool:
        return True

    def activate(self, *, suppress_http_instrumentation: bool = False) -> object:  # type: ignore[override]
        raise RuntimeError("activate exploded")


class _BrokenSpanTracer(Tracer):
    def create_span(self, name: str, options: CreateSpanOptions | None = None) -> Span:
        return _BrokenSpan()


class _BrokenSpanProvider(TracerProvider):
    def create_tracer(
        self, name: str, version: str | None = None, *, schema_url: str | None = None
    ) -> Tracer:
        return _BrokenSpanTracer()


def test_a_provider_that_raises_gives_a_noop_span_and_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = make_factory(_BrokenProvider())
    ctx = Context()
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        first = factory.create_span("Op", ctx)
        second = factory.create_span("Op", ctx)
    assert isinstance(first.span, NoOpSpan) and isinstance(second.span, NoOpSpan)
    assert first.context is ctx
    warnings = [r for r in caplog.records if r.name == "azure_core_tracing"]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "create_tracer" in message and "RuntimeError" in message
    assert "_BrokenProvider" in message
    assert "exploded" not in message  # a provider's message can hold secrets: never copied
    assert warnings[0].levelno == logging.WARNING


def test_a_span_that_raises_does_not_break_the_with_block(
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = make_factory(_BrokenSpanProvider())
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        for _ in range(3):
            with pytest.raises(ValueError, match="app error"), factory.create_span("Op"):
                raise ValueError("app error")
            with factory.create_span("Op") as scope:
                result = "body ran"
            assert scope.span is not None
    assert result == "body ran"
    messages = [r.getMessage() for r in caplog.records if r.name == "azure_core_tracing"]
    assert sum("in activate of" in m for m in messages) == 1
    assert sum("in add_event of" in m for m in messages) == 1
    assert sum("in end of" in m for m in messages) == 1
    assert not any("exploded" in m for m in messages)
