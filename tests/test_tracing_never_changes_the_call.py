"""Promise 1: whatever a tracer provider does, the application's call returns or raises
exactly what it would untraced. Each surface is run untraced, then with a provider that
misbehaves at one point (``tests.hostile``), and the two outcomes must be equal."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Optional

import pytest

from azure_core_tracing import (
    ClientOptions,
    Context,
    SpanStatus,
    TelemetryOptions,
    TracerProvider,
    TracingContextFactory,
    distributed_trace,
)
from azure_core_tracing.http import HttpPipeline, Request
from tests.hostile import FAULTS, SECRET, HostileProvider
from tests.local_server import LocalServer, Reply, refused_url
from tests.recording import RecordingTracerProvider

Outcome = tuple[Any, ...]
TRACE_HEADERS = {"traceparent", "tracestate", "x-ms-client-request-id"}


def outcome(call: Callable[[], Any]) -> Outcome:
    """What a call did: its result, or the type and message of what it raised."""
    try:
        return ("returned", call())
    except Exception as error:
        return ("raised", type(error), str(error))


def options_for(provider: Optional[TracerProvider]) -> ClientOptions:
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
    options.retry.retry_delay = 0.001
    return options


class Service:
    def __init__(self, provider: Optional[TracerProvider]) -> None:
        self._tracing_factory = TracingContextFactory(options_for(provider), "Svc", "1.0")

    @distributed_trace
    def compute(self, value: int, *, context: Optional[Context] = None) -> int:
        # Traced, ``context`` is the new span's context (by design); the result must not change.
        return value * 2

    @distributed_trace
    def explode(self, *, context: Optional[Context] = None) -> None:
        raise ValueError("the application's own error")

    @distributed_trace
    async def compute_async(self, value: int, *, context: Optional[Context] = None) -> int:
        await asyncio.sleep(0)
        return value + 1

    @distributed_trace
    async def explode_async(self, *, context: Optional[Context] = None) -> None:
        await asyncio.sleep(0)
        raise KeyError("async own error")

    @distributed_trace
    def dumps(self, value: object, **kwargs: Any) -> str:
        return json.dumps(value, **kwargs)  # a catch-all that hands its keywords on


def _factory_block(provider: Optional[TracerProvider], fail: bool) -> str:
    factory = TracingContextFactory(options_for(provider), "Svc", "1.0")
    with factory.create_span("Op") as scope:
        span = scope.span
        span.add_attribute("a", 1)
        span.add_attributes({"b": "two"})
        span.add_event("step", {"n": 3})
        headers: dict[str, str] = {}
        span.propagate_to_http_headers(headers)
        assert isinstance(span.is_recording, bool)
        span.set_status(SpanStatus.OK)
        if fail:
            raise LookupError("the block's own error")
        return "block result"


def _surfaces(provider: Optional[TracerProvider]) -> list[Outcome]:
    service = Service(provider)
    return [
        outcome(lambda: _factory_block(provider, fail=False)),
        outcome(lambda: _factory_block(provider, fail=True)),
        outcome(lambda: service.compute(21)),
        outcome(lambda: service.compute(21, context=Context())),
        outcome(service.explode),
        outcome(lambda: asyncio.run(service.compute_async(1))),
        outcome(lambda: asyncio.run(service.explode_async())),
        outcome(lambda: service.dumps({"a": 1}, sort_keys=True)),
    ]


@pytest.mark.parametrize("fault", FAULTS)
def test_factory_and_decorator_calls_are_unchanged_by_a_misbehaving_provider(
    fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    expected = _surfaces(None)
    with caplog.at_level(logging.DEBUG):
        assert _surfaces(HostileProvider(fault)) == expected
    assert not any(SECRET in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("fault", FAULTS)
def test_the_application_provider_misbehaving_changes_nothing_either(fault: str) -> None:
    expected = _surfaces(None)
    Context.application_context.set_tracer_provider(HostileProvider(fault))
    assert _surfaces(None) == expected


def _pipeline_call(
    server: LocalServer, provider: Optional[TracerProvider], path: str
) -> tuple[Outcome, list[dict[str, str]]]:
    url = server.script(path, Reply(503), Reply(200, {"x-ms-request-id": "srv-1"}, b"payload"))
    before = len(server.received)
    service_factory = TracingContextFactory(options_for(provider), "Svc", "1.0")
    pipeline = HttpPipeline(options_for(provider), "svc", "1.0", sleep=lambda _: None)
    request = Request("PUT", url, {"Content-Type": "text/plain"}, body=b"body")

    def call() -> tuple[int, bytes]:
        with service_factory.create_span("Svc.put") as scope:
            response = pipeline.send(request, scope.context)
            return response.status_code, response.body

    result = outcome(call)
    sent = [
        {k: v for k, v in r.headers.items() if k not in TRACE_HEADERS}
        for r in server.received[before:]
    ]
    return result, sent


@pytest.mark.parametrize("fault", FAULTS)
def test_http_calls_send_and_return_the_same_with_a_misbehaving_provider(
    fault: str, server: LocalServer
) -> None:
    expected = _pipeline_call(server, None, "/untraced")
    assert expected[0] == ("returned", (200, b"payload")) and len(expected[1]) == 2
    assert _pipeline_call(server, HostileProvider(fault), "/traced") == expected


@pytest.mark.parametrize("fault", FAULTS)
def test_a_transport_error_is_the_same_with_a_misbehaving_provider(fault: str) -> None:
    url = refused_url("/down?x=1")

    def call(provider: Optional[TracerProvider]) -> Outcome:
        options = options_for(provider)
        options.retry.max_retries = 1
        pipeline = HttpPipeline(options, "svc", "1.0", sleep=lambda _: None)
        return outcome(lambda: pipeline.send(Request("GET", url)))

    expected = call(None)
    assert expected[0] == "raised"
    assert call(HostileProvider(fault)) == expected


def test_a_decorated_catch_all_never_receives_a_context_it_did_not_declare(
    recorder: RecordingTracerProvider,
) -> None:
    # json.dumps(..., context=...) would raise TypeError: only a declared parameter gets it.
    assert Service(recorder).dumps([1, 2]) == "[1, 2]"
    assert [s.name for s in recorder.finished] == ["Service.dumps"]


def test_a_context_passed_to_a_catch_all_passes_through_untouched(
    recorder: RecordingTracerProvider,
) -> None:
    class Client:
        _tracing_factory = TracingContextFactory(options_for(recorder), "Svc", "1.0")

        @distributed_trace
        def method(self, **kwargs: Any) -> Any:
            return kwargs.get("context")

    mine = Context()
    assert Client().method(context=mine) is mine


def test_one_warning_per_provider_and_operation_without_the_providers_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = HostileProvider("end raises")
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        for _ in range(5):
            _surfaces(provider)
    warnings = [r.getMessage() for r in caplog.records if r.name == "azure_core_tracing"]
    assert len(warnings) == 1, warnings
    assert "in end of tests.hostile.HostileProvider" in warnings[0]
    assert "RuntimeError raised at" in warnings[0] and "hostile.py" in warnings[0]
    assert SECRET not in warnings[0] and "Bearer" not in warnings[0]


def test_a_value_of_the_wrong_kind_is_reported_by_what_it_was(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        _surfaces(HostileProvider("create_span returns None"))
        _surfaces(HostileProvider("propagate writes bytes"))
    messages = [r.getMessage() for r in caplog.records]
    assert any("create_span" in m and "returned NoneType, not a Span" in m for m in messages)
    assert any("propagate_to_http_headers" in m and "dropped" in m for m in messages)


def test_sending_a_request_never_changes_it(
    server: LocalServer, app_recorder: RecordingTracerProvider
) -> None:
    url = server.script("/again", Reply(200))
    request = Request("GET", url, {"User-Agent": "caller/1"})
    before = dict(request.headers)
    pipeline = HttpPipeline(ClientOptions(), "svc", "1.0")
    for _ in range(3):
        pipeline.send(request)
    assert dict(request.headers) == before
    agents = {r.headers["user-agent"] for r in server.received}
    assert len(agents) == 1 and next(iter(agents)).endswith(" caller/1")
    assert all("traceparent" in r.headers for r in server.received)


def test_an_untraced_send_after_a_traced_one_sends_no_trace_context(
    server: LocalServer, recorder: RecordingTracerProvider
) -> None:
    url = server.script("/mixed", Reply(200))
    request = Request("GET", url)
    HttpPipeline(options_for(recorder), "svc", "1.0").send(request)
    HttpPipeline(ClientOptions(), "svc", "1.0").send(request)
    traced, untraced = server.received
    assert "traceparent" in traced.headers
    assert "traceparent" not in untraced.headers


def test_a_context_and_span_entered_twice_is_an_error_traced_or_not(
    recorder: RecordingTracerProvider,
) -> None:
    for provider in (None, recorder):
        scope = TracingContextFactory(options_for(provider), "Svc", "1.0").create_span("Op")
        with scope:
            pass
        with pytest.raises(RuntimeError, match="entered only once"), scope:
            pass
    assert [s.end_calls for s in recorder.started] == [1]


def test_a_header_that_is_not_clean_text_fails_where_it_is_set() -> None:
    url = "https://example.test/"
    with pytest.raises(TypeError, match="x-ms-client-request-id"):
        Request("GET", url, {"x-ms-client-request-id": b"id"})  # type: ignore[dict-item]
    request = Request("GET", url)
    with pytest.raises(TypeError, match="x-ms-client-request-id"):
        request.headers["x-ms-client-request-id"] = b"id"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="X-A"):
        request.headers["X-A"] = "v\r\nInjected: 1"


def test_a_bad_span_name_fails_when_decorating_not_when_tracing() -> None:
    with pytest.raises(TypeError, match="name"):
        distributed_trace(name=123)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="name"):
        distributed_trace(name="")
