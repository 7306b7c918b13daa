from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional, cast

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.propagators.textmap import DefaultSetter, TextMapPropagator
from opentelemetry.trace import StatusCode

from azure_core_tracing import CreateSpanOptions, Span, SpanKind, SpanStatus
from azure_core_tracing.tracing import NOOP_SPAN
from azure_core_tracing_opentelemetry import OpenTelemetrySpan
from tests.opentelemetry.conftest import Otel


def _span(otel: Otel, name: str = "op", **options: object) -> OpenTelemetrySpan:
    tracer = otel.provider.create_tracer("azure-test", "1.0.0")
    span = tracer.create_span(name, CreateSpanOptions(**options))  # type: ignore[arg-type]
    assert isinstance(span, OpenTelemetrySpan)
    return span


def _sdk_span(otel: Otel, name: str = "s") -> otel_trace.Span:
    """A span of the OpenTelemetry SDK itself, for an ``OpenTelemetrySpan`` to wrap."""
    return otel.sdk.get_tracer("azure-test").start_span(name)


@pytest.mark.parametrize("kind", list(SpanKind))
def test_kinds_map_one_to_one(otel: Otel, kind: SpanKind) -> None:
    _span(otel, kind=kind).end()
    assert otel.spans()[0].kind is getattr(otel_trace.SpanKind, kind.name)


@pytest.mark.parametrize("kind", list(SpanKind))
def test_each_span_kind_maps_to_its_opentelemetry_kind(otel: Otel, kind: SpanKind) -> None:
    """The kind table, indexed by value, gives each SpanKind OpenTelemetry's kind of that name."""
    tracer = otel.provider.create_tracer("azure-test")
    tracer.create_span("k", CreateSpanOptions(kind=kind)).end()
    assert otel.spans()[-1].kind is otel_trace.SpanKind[kind.name]


@pytest.mark.parametrize("kind", [1, "CLIENT", None, [], SpanKind.CLIENT.value])
def test_a_kind_that_is_not_a_span_kind_is_a_type_error_naming_it(otel: Otel, kind: object) -> None:
    tracer = otel.provider.create_tracer("azure-test")
    with pytest.raises(TypeError, match=r"options\.kind"):
        tracer.create_span("k", CreateSpanOptions(kind=cast(SpanKind, kind)))


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (SpanStatus.UNSET, StatusCode.UNSET),
        (SpanStatus.OK, StatusCode.OK),
        (SpanStatus.ERROR, StatusCode.ERROR),
    ],
)
def test_statuses_map_one_to_one(otel: Otel, status: SpanStatus, code: StatusCode) -> None:
    span = _span(otel)
    span.set_status(status, "why")
    span.end()
    recorded = otel.spans()[0].status
    assert recorded.status_code is code
    assert recorded.description == ("why" if code is StatusCode.ERROR else None)


@pytest.mark.parametrize("status", list(SpanStatus))
@pytest.mark.parametrize("description", [None, "", "boom"])
def test_cached_statuses_export_as_fresh_ones(
    otel: Otel, status: SpanStatus, description: Optional[str]
) -> None:
    """A status set without a description may be one ``Status`` object shared by every span;
    it exports as a fresh ``Status(code, description only for ERROR)`` would, an empty ERROR
    description included, and one span's status is never another's."""
    OpenTelemetrySpan(_sdk_span(otel, "a")).set_status(status, description)
    first = _sdk_span(otel, "b")
    OpenTelemetrySpan(first).set_status(status, description)
    first.end()
    exported = otel.spans()[-1].status
    code = StatusCode[status.name]
    assert exported.status_code is code
    assert exported.description == (description if code is StatusCode.ERROR else None)


def test_error_then_ok_gives_ok(otel: Otel) -> None:
    span = _span(otel)
    span.set_status(SpanStatus.ERROR, "first try failed")
    span.set_status(SpanStatus.OK)
    span.end()
    assert otel.spans()[0].status.status_code is StatusCode.OK


def test_an_invalid_status_is_a_value_error(otel: Otel) -> None:
    with pytest.raises(ValueError, match="status"):
        _span(otel).set_status(StatusCode.OK)  # type: ignore[arg-type]


def test_attributes_of_every_allowed_type(otel: Otel) -> None:
    span = _span(otel, attributes={"start": "yes"})
    span.add_attribute("s", "text")
    span.add_attribute("b", False)
    span.add_attribute("i", 7)
    span.add_attribute("f", 2.5)
    span.add_attributes({"ss": ["a", "b"], "bs": (True, False), "is": [1, 2], "fs": [0.5]})
    span.end()
    attrs = dict(otel.spans()[0].attributes or {})
    assert attrs == {
        "start": "yes",
        "s": "text",
        "b": False,
        "i": 7,
        "f": 2.5,
        "ss": ("a", "b"),
        "bs": (True, False),
        "is": (1, 2),
        "fs": (0.5,),
    }


def test_invalid_attributes_are_a_type_error_naming_them(otel: Otel) -> None:
    span = _span(otel)
    with pytest.raises(TypeError, match="'bad'"):
        span.add_attribute("bad", {"no": "dicts"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'mixed'"):
        span.add_attributes({"mixed": [1, "a"]})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="'early'"):
        _span(otel, attributes={"early": None})


@pytest.mark.parametrize(
    "call",
    [
        lambda span: span.add_attributes({"k": "\ud800"}),
        lambda span: span.add_attributes({"\ud800": 1}),
        lambda span: span.add_attribute("k", "\ud800"),
        lambda span: span.add_attribute("\ud800", True),
    ],
    ids=["value-in-mapping", "name-in-mapping", "value", "name"],
)
def test_an_opentelemetry_span_refuses_a_lone_surrogate_as_the_no_op_span_does(
    otel: Otel, call: Callable[[Span], None]
) -> None:
    """A lone surrogate, as a name or a scalar value, alone or in a mapping, is a ValueError
    from ``OpenTelemetrySpan`` itself, as from the no-op span and the guard: the quick path
    for a plain str name and scalar value makes the same UTF-8 check as the general one.
    Set on the OpenTelemetry span, it would make the OTLP exporter fail to encode it
    ("surrogates not allowed") and drop it with an error log."""
    with pytest.raises(ValueError, match="UTF-8"):
        call(NOOP_SPAN)
    with pytest.raises(ValueError, match="UTF-8"):
        call(OpenTelemetrySpan(_sdk_span(otel)))


def test_events_with_attributes(otel: Otel) -> None:
    span = _span(otel)
    span.add_event("cache.miss", {"key": "k1", "size": 3})
    span.add_event("done")
    span.end()
    events = otel.spans()[0].events
    assert [(e.name, dict(e.attributes or {})) for e in events] == [
        ("cache.miss", {"key": "k1", "size": 3}),
        ("done", {}),
    ]
    with pytest.raises(TypeError, match="name_or_exception"):
        span.add_event("")


def test_exceptions_become_opentelemetry_exception_events_and_error(otel: Otel) -> None:
    span = _span(otel)
    try:
        try:
            raise OSError("inner cause with https://h/?sig=SECRET")
        except OSError as inner:
            raise LookupError("widget 7 not found") from inner
    except LookupError as error:
        span.add_event(error, {"extra": 1})
    span.end()
    recorded = otel.spans()[0]
    assert recorded.status.status_code is StatusCode.ERROR
    assert recorded.status.description == "LookupError: widget 7 not found"
    (event,) = recorded.events
    attrs = dict(event.attributes or {})
    assert event.name == "exception"
    assert attrs["exception.type"] == "LookupError"
    assert attrs["exception.message"] == "widget 7 not found"
    assert 'raise LookupError("widget 7 not found") from inner' in str(
        attrs["exception.stacktrace"]
    )
    assert "SECRET" not in str(attrs["exception.stacktrace"])  # the chained cause is left out
    assert attrs["extra"] == 1


def test_explicit_end_time_and_end_is_idempotent(
    otel: Otel, caplog: pytest.LogCaptureFixture
) -> None:
    start = datetime.now(timezone.utc)
    span = _span(otel)
    end = start + timedelta(seconds=2, microseconds=5)
    with caplog.at_level(logging.WARNING):
        span.end(end)
        span.end(end + timedelta(seconds=5))
    (recorded,) = otel.spans()
    assert (
        recorded.end_time
        == (end - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1) * 1000
    )
    assert caplog.records == []
    assert span.is_recording is False


def test_a_naive_end_time_is_a_value_error(otel: Otel) -> None:
    with pytest.raises(ValueError, match="end_time"):
        _span(otel).end(datetime.now())


def test_propagate_to_http_headers_writes_a_w3c_traceparent(otel: Otel) -> None:
    span = _span(otel)
    headers: dict[str, str] = {}
    span.propagate_to_http_headers(headers)
    ctx = span.otel_span.get_span_context()
    assert (
        headers["traceparent"] == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"
    )
    assert int(headers["traceparent"][-2:], 16) & 0x01  # sampled


_SETTER: DefaultSetter = DefaultSetter()


class _CustomPropagator(TextMapPropagator):
    def inject(self, carrier, context=None, setter=_SETTER):  # type: ignore[no-untyped-def]
        span = otel_trace.get_current_span(context)
        setter.set(carrier, "x-custom-trace", f"{span.get_span_context().span_id:x}")

    def extract(self, carrier, context=None, getter=None):  # type: ignore[no-untyped-def]
        return context

    @property
    def fields(self) -> set[str]:
        return {"x-custom-trace"}


def test_a_users_configured_propagator_is_honoured(otel: Otel) -> None:
    previous = get_global_textmap()
    set_global_textmap(_CustomPropagator())
    try:
        span = _span(otel)
        headers: dict[str, str] = {}
        span.propagate_to_http_headers(headers)
    finally:
        set_global_textmap(previous)
    assert headers == {"x-custom-trace": f"{span.otel_span.get_span_context().span_id:x}"}


def test_tracer_scope_names_the_sdk_package(otel: Otel) -> None:
    tracer = otel.provider.create_tracer("azure-widgets", "3.1.4", schema_url="https://s/1.0")
    tracer.create_span("op").end()
    scope = otel.spans()[0].instrumentation_scope
    assert scope is not None
    assert (scope.name, scope.version, scope.schema_url) == (
        "azure-widgets",
        "3.1.4",
        "https://s/1.0",
    )


def test_factory_uses_package_name_and_version_for_the_scope(otel: Otel) -> None:
    with otel.factory().create_span("op"):
        pass
    (span,) = otel.spans()
    assert span.instrumentation_scope is not None
    assert (span.instrumentation_scope.name, span.instrumentation_scope.version) == (
        "azure-test",
        "1.0.0",
    )
    assert dict(span.attributes or {}) == {"az.namespace": "Test.Service"}


def test_provider_must_wrap_an_opentelemetry_provider() -> None:
    from azure_core_tracing_opentelemetry import OpenTelemetryProvider

    with pytest.raises(TypeError, match="tracer_provider"):
        OpenTelemetryProvider.create(object())  # type: ignore[arg-type]


def test_a_root_span_starts_a_new_trace_even_under_a_current_span(otel: Otel) -> None:
    with otel.sdk.get_tracer("app").start_as_current_span("app") as app:
        _span(otel, "root", root=True).end()
        _span(otel, "child").end()
        parent = _span(otel, "parent")
        _span(otel, "under parent", root=True, parent_span=parent).end()
        parent.end()
    app_trace = app.get_span_context().trace_id
    (root,) = otel.named("root")
    assert root.parent is None and root.context is not None
    assert root.context.trace_id != app_trace
    (child,) = otel.named("child")
    assert child.parent is not None and child.parent.span_id == app.get_span_context().span_id
    (under,) = otel.named("under parent")  # a parent span given: root does not count
    assert (
        under.parent is not None
        and under.parent.span_id == parent.otel_span.get_span_context().span_id
    )
