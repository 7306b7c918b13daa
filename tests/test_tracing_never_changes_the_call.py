"""Promise 1: whatever a tracer provider does, the application's call returns or raises
exactly what it would untraced. Each surface is run untraced, then with a provider that
misbehaves at one point (``tests.hostile``), and the two outcomes must be equal."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import IO, Any, Optional, Union, cast

import pytest

from azure_core_tracing import (
    AttributeValue,
    ClientOptions,
    Context,
    NoOpSpan,
    SpanStatus,
    TracerProvider,
    TracingContextFactory,
    distributed_trace,
)
from azure_core_tracing.http import HttpPipeline, LogPolicy, Request
from tests.hostile import (
    FAULTS,
    SECRET,
    HostileProvider,
    OneThingProvider,
    write_traceparent,
)
from tests.http.conftest import Driver, Kind
from tests.local_server import LocalServer, Reply, refused_url
from tests.recording import RecordingTracerProvider
from tests.support import options_for, wrong

Outcome = tuple[Any, ...]
REPO = Path(__file__).resolve().parent.parent
TRACE_HEADERS = {"traceparent", "tracestate", "x-ms-client-request-id"}


def outcome(call: Callable[[], Any]) -> Outcome:
    """What a call did: its result, or the type and message of what it raised."""
    try:
        return ("returned", call())
    except Exception as error:
        return ("raised", type(error), str(error))


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


def _send(
    server: LocalServer,
    provider: Optional[TracerProvider],
    path: str,
    headers: dict[str, str],
    kind: Kind,
) -> tuple[object, dict[str, str]]:
    """What one send returned (status or error type) and the non-trace headers the server got."""
    url = server.script(path, Reply(200))
    before = len(server.received)
    with Driver(options_for(provider), "svc", "1.0", sleep=lambda _: None, kind=kind) as pipeline:
        try:
            result: object = pipeline.send(Request("PUT", url, headers)).status_code
        except Exception as error:
            result = type(error)
    received = server.received[before:]
    sent = received[-1].headers if received else {}
    return result, {k: v for k, v in sent.items() if k not in {"traceparent", "tracestate"}}


CALLER_HEADERS = {
    "If-Match": '"etag-1"',
    "api-key": "the-callers-key",
    "x-ms-date": "Mon, 01 Jan 2024 00:00:00 GMT",
    "Authorization": "Bearer the-callers-token",
    "x-ms-client-request-id": "caller-id",
}


# --- propagation adds trace headers and nothing else -----------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("If-Match", "*"),  # turns a conditional write into an unconditional one
        ("api-key", "a-propagators-key"),  # Azure OpenAI / Cognitive Search authentication
        ("x-ms-date", "Tue, 02 Jan 2024 00:00:00 GMT"),  # part of a SharedKey signature
    ],
)
def test_propagation_never_replaces_a_header_the_caller_set(
    server: LocalServer, name: str, value: str, kind: Kind
) -> None:
    """A propagator never replaces a header the caller set, whatever its name: the request
    arrives as it does untraced. No list of protected names could be complete
    (``If-Match: *`` turns a conditional write into an unconditional one; ``api-key`` and
    ``x-ms-date`` authenticate the call): propagation writes only propagation headers, and
    none the caller set but the trace context it owns."""

    def write(headers: MutableMapping[str, str]) -> None:
        write_traceparent(headers)
        headers[name] = value

    expected = _send(server, None, "/untraced", CALLER_HEADERS, kind)
    assert _send(server, OneThingProvider(write), "/traced", CALLER_HEADERS, kind) == expected


class _RaisingLower(str):
    def lower(self) -> str:
        raise RuntimeError("a str subclass from provider code")


class _LyingLower(str):
    def lower(self) -> str:
        return "x-harmless"


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("name_type", [_RaisingLower, _LyingLower])
def test_a_str_subclass_header_name_from_a_propagator_cannot_change_the_call(
    server: LocalServer, name_type: type[str], kind: Kind
) -> None:
    """A header name a propagator writes as a ``str`` subclass cannot change the call: the
    guard keeps a plain copy of the name it checked, so the subclass's own ``lower()`` never
    runs outside the guard. One that raises would make the call raise; one that lies would
    slip ``Authorization`` past the checks and replace the caller's token."""

    def write(headers: MutableMapping[str, str]) -> None:
        headers[name_type("Authorization")] = "Bearer a-propagators-token"

    expected = _send(server, None, "/untraced", CALLER_HEADERS, kind)
    assert _send(server, OneThingProvider(write), "/traced", CALLER_HEADERS, kind) == expected


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_oversized_propagated_header_does_not_change_the_response(
    server: LocalServer, kind: Kind
) -> None:
    """What propagation adds is bounded (W3C recommends at most 512 bytes of tracestate;
    baggage is capped at 8 KiB): a 70 KB ``tracestate`` from a provider never reaches the
    request, so the server answers the 200 it gives untraced, not a 431."""

    def write(headers: MutableMapping[str, str]) -> None:
        write_traceparent(headers)
        headers["tracestate"] = "vendor=" + "x" * 70_000

    expected = _send(server, None, "/untraced", {}, kind)
    assert expected[0] == 200
    assert _send(server, OneThingProvider(write), "/traced", {}, kind)[0] == expected[0]


class _Client:
    def __init__(self, provider: Optional[TracerProvider]) -> None:
        self._tracing_factory = TracingContextFactory(options_for(provider), "Svc", "1.0")

    @distributed_trace
    def fail(self) -> None:
        raise ValueError("the application's own message")


def test_a_span_cannot_change_the_exception_the_application_catches() -> None:
    """The exception the application catches is the one it raised, as it raised it: provider
    code never gets the application's own exception object to rewrite (args, notes,
    traceback) before the application catches it."""

    def rewrite(event: Union[str, BaseException]) -> None:
        if isinstance(event, BaseException):
            event.args = ("rewritten by the tracing backend",)

    with pytest.raises(ValueError) as untraced:
        _Client(None).fail()
    with pytest.raises(ValueError) as traced:
        _Client(OneThingProvider(on_event=rewrite)).fail()
    assert traced.value.args == untraced.value.args


def test_a_span_cannot_change_the_callers_attribute_mapping() -> None:
    """``add_attributes`` never hands the caller's own mapping to provider code: a provider
    that clears what it is given leaves the caller's dict as it was."""

    def clear(attributes: Mapping[str, AttributeValue]) -> None:
        if isinstance(attributes, dict):
            attributes.clear()

    factory = TracingContextFactory(options_for(OneThingProvider(on_attributes=clear)), "S", "1")
    mine: dict[str, AttributeValue] = {"a": 1}
    factory.create_span("Op").span.add_attributes(mine)
    assert mine == {"a": 1}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_sending_a_request_with_a_stream_body_twice_sends_the_body_twice(
    server: LocalServer, kind: Kind
) -> None:
    """Sending the same Request with a seekable body twice sends the body twice: the body is
    rewound before every send, not only before a retry, so the second PUT is never an empty
    body answered with a 200 (silent data loss)."""
    url = server.script("/blob", Reply(200))
    request = Request("PUT", url, body=io.BytesIO(b"payload"))
    with Driver(ClientOptions(), "svc", "1.0", kind=kind) as pipeline:
        pipeline.send(request)
        pipeline.send(request)
    assert [r.body for r in server.received] == [b"payload", b"payload"]


def test_a_stream_that_cannot_be_rewound_is_sent_once_then_refused(server: LocalServer) -> None:
    url = server.script("/once", Reply(200))

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = [b"payload"]

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            return self.data.pop() if self.data else b""

    request = Request("PUT", url, body=cast(IO[bytes], Pipe()))
    with HttpPipeline(ClientOptions(), "svc", "1.0") as pipeline:
        pipeline.send(request)
        with pytest.raises(ValueError, match="body: this request's stream cannot be rewound"):
            pipeline.send(request)
    assert [r.body for r in server.received] == [b"payload"]


_DEADLOCK_SCRIPT = textwrap.dedent(
    """
    import gc, logging
    from typing import Optional
    from azure_core_tracing import (
        ClientOptions, CreateSpanOptions, TelemetryOptions, Tracer, TracerProvider,
        TracingContextFactory, distributed_trace,
    )
    logging.disable(logging.CRITICAL)

    class Client:  # its __init__ failed before the factory was set; __del__ closes it
        def __init__(self):
            self.me = self  # a reference cycle, as clients and pipelines often make
        @distributed_trace
        def close(self):
            pass
        def __del__(self):
            self.close()

    class BrokenTracer(Tracer):
        def create_span(self, name, options=None):
            raise RuntimeError("backend down")

    class BrokenProvider(TracerProvider):
        def create_tracer(self, name, version=None, *, schema_url=None):
            return BrokenTracer()

    # Garbage made when a collection starts stands in for the cycles other threads leave
    # behind; two threads (one making cycles, one tracing) hang the same way, less reliably.
    gc.callbacks.append(lambda phase, info: phase == "start" and Client() and None)
    gc.set_threshold(1)
    for _ in range(50):
        options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=BrokenProvider()))
        TracingContextFactory(options, "Svc", "1.0").create_span("Op")
    print("finished")
    """
)


def test_a_tracing_failure_reported_while_the_collector_runs_does_not_hang() -> None:
    """A tracing failure reported while the garbage collector runs never hangs the thread.
    ``failures.py`` registers a ``weakref.finalize`` as it reports; a collection there may
    run a finalizer that makes a traced call, and that call's own report must not wait, in
    the same thread, for the lock the first report holds (on Python 3.9, 3.11 and 3.13 that
    wait would be forever)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _DEADLOCK_SCRIPT],
            check=False,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the process hung: a report from a finalizer waited for its own lock")
    assert done.stdout.strip() == "finished", done.stderr[-2000:]


def test_propagate_to_http_headers_checks_its_argument_alike_traced_or_not() -> None:
    """``propagate_to_http_headers`` checks its argument alike traced or not: ``None`` is
    accepted by the no-op span and a traced span alike, or refused by both with a TypeError
    naming ``headers``, so the same call never fails only with tracing on."""
    traced = TracingContextFactory(options_for(RecordingTracerProvider()), "S", "1")
    outcomes: list[object] = []
    for span in (NoOpSpan(), traced.create_span("Op").span):
        try:
            span.propagate_to_http_headers(wrong(None))
            outcomes.append("returned")
        except TypeError as error:
            outcomes.append(("TypeError", "headers" in str(error)))
    assert outcomes[0] == outcomes[1], outcomes
    assert outcomes[0] in ("returned", ("TypeError", True))


def test_turning_on_info_logging_never_changes_the_call(server: LocalServer) -> None:
    """Turning INFO on for ``azure_core_tracing.http`` never changes the call:
    ``LogPolicy(None)`` is refused when built (a TypeError naming ``sanitizer``), or it
    sends the same with INFO on as with it off, never an AttributeError on every request."""
    url = server.script("/logged", Reply(200))
    try:
        policy = LogPolicy(wrong(None))
    except TypeError as error:  # refused when built: what the promise asks for
        assert "sanitizer" in str(error)
        return
    pipeline = HttpPipeline(ClientOptions(), "svc", "1.0", per_call_policies=[policy])
    assert pipeline.send(Request("GET", url)).status_code == 200
    logger = logging.getLogger("azure_core_tracing.http")
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        assert pipeline.send(Request("GET", url)).status_code == 200
    finally:
        logger.setLevel(level)
