"""A public method called inside another client's method is a nested call however its parent
is found: passed as ``context=``, or only as OpenTelemetry's current span.

The real OpenTelemetry SDK, two clients on one provider, a real server on 127.0.0.1. The
outer client calls the inner one without passing a context (the common case); the inner
call then makes no span of its own and its HTTP span goes under the outer call's span. An
application's own span is never taken for an API span.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import ReadableSpan

from azure_core_tracing import (
    ClientOptions,
    Context,
    CreateSpanOptions,
    Span,
    TelemetryOptions,
    Tracer,
    TracerProvider,
    TracingContextFactory,
    distributed_trace,
)
from azure_core_tracing.http import AsyncHttpPipeline, HttpPipeline, Request
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel
from tests.recording import RecordingTracerProvider


class Inner:
    """The client called from inside the other's methods; it sends one request."""

    def __init__(self, url: str, options: ClientOptions) -> None:
        self._tracing_factory = TracingContextFactory(options, "Inner.Svc", "1.0")
        self._pipeline = HttpPipeline(options, tracing_factory=self._tracing_factory)
        self._async = AsyncHttpPipeline(options, tracing_factory=self._tracing_factory)
        self._url = url

    @distributed_trace
    def get(self, *, context: Optional[Context] = None) -> int:
        return self._pipeline.send(Request("GET", self._url), context).status_code

    @distributed_trace
    async def get_async(self, *, context: Optional[Context] = None) -> int:
        response = await self._async.send(Request("GET", self._url), context)
        return response.status_code


class Outer:
    """Calls ``Inner`` from its own traced methods, passing no context on, or ``around``
    the call (an application's own code in between, say)."""

    def __init__(self, inner: Inner, options: ClientOptions) -> None:
        self._tracing_factory = TracingContextFactory(options, "Outer.Svc", "1.0")
        self.inner = inner

    @distributed_trace
    def run(self, around: Optional[Callable[[Callable[[], int]], int]] = None) -> int:
        call = self.inner.get
        return around(call) if around is not None else call()

    @distributed_trace
    def run_with_fresh_context(self) -> int:
        return self.inner.get(context=Context())

    @distributed_trace
    async def run_async(self) -> int:
        return await self.inner.get_async()

    @distributed_trace
    async def run_in_tasks(self) -> list[int]:
        return list(await asyncio.gather(*(self.inner.get_async() for _ in range(5))))

    @distributed_trace
    def fail(self) -> None:
        raise LookupError("the outer call's own error")


def _clients(otel: Otel, server: LocalServer, *, inner_suppress: bool = True) -> Outer:
    url = server.script("/i", Reply(200))
    return Outer(Inner(url, otel.options(suppress_nested_spans=inner_suppress)), otel.options())


def _parent_name(otel: Otel, span: ReadableSpan) -> Optional[str]:
    if span.parent is None:
        return None
    by_id = {s.context.span_id: s.name for s in otel.spans()}
    return by_id.get(span.parent.span_id)


def _http_span(otel: Otel) -> ReadableSpan:
    (http,) = otel.named("HTTP GET #0")
    return http


def test_a_call_inside_another_clients_method_is_nested_without_a_context(
    otel: Otel, server: LocalServer
) -> None:
    outer = _clients(otel, server)
    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        assert outer.run() == 200
    assert sorted(span.name for span in otel.spans()) == ["HTTP GET #0", "Outer.run", "app"]
    http = _http_span(otel)
    assert _parent_name(otel, http) == "Outer.run"
    assert (http.attributes or {})["az.namespace"] == "Inner.Svc"


def test_a_call_given_a_context_without_a_span_is_nested_too(
    otel: Otel, server: LocalServer
) -> None:
    outer = _clients(otel, server)
    assert outer.run_with_fresh_context() == 200
    assert sorted(span.name for span in otel.spans()) == [
        "HTTP GET #0",
        "Outer.run_with_fresh_context",
    ]
    assert _parent_name(otel, _http_span(otel)) == "Outer.run_with_fresh_context"


def test_an_async_call_inside_another_clients_method_is_nested_without_a_context(
    otel: Otel, server: LocalServer
) -> None:
    outer = _clients(otel, server)
    assert asyncio.run(outer.run_async()) == 200
    assert sorted(span.name for span in otel.spans()) == ["HTTP GET #0", "Outer.run_async"]
    assert _parent_name(otel, _http_span(otel)) == "Outer.run_async"


def test_calls_in_tasks_of_an_async_method_are_each_nested(otel: Otel, server: LocalServer) -> None:
    outer = _clients(otel, server)
    assert asyncio.run(outer.run_in_tasks()) == [200] * 5
    https = otel.named("HTTP GET #0")
    assert len(https) == 5
    assert {_parent_name(otel, http) for http in https} == {"Outer.run_in_tasks"}
    assert not otel.named("Inner.get_async")


def test_an_applications_own_span_inside_the_method_gets_the_call_its_own_span(
    otel: Otel, server: LocalServer
) -> None:
    """Before a sync method's span is needed it is not made, so an application's span started
    there goes under the caller's span, beside the method's (docs/sdk-authors.md)."""
    outer = _clients(otel, server)

    def in_own_span(call: Callable[[], int]) -> int:
        with otel.sdk.get_tracer("app").start_as_current_span("app step"):
            return call()

    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        assert outer.run(in_own_span) == 200
    (inner,) = otel.named("Inner.get")
    assert _parent_name(otel, inner) == "app step"
    assert _parent_name(otel, otel.named("app step")[0]) == "app"
    assert _parent_name(otel, otel.named("Outer.run")[0]) == "app"
    assert _parent_name(otel, _http_span(otel)) == "Inner.get"


def test_once_the_methods_span_is_made_an_applications_span_nests_under_it(
    otel: Otel, server: LocalServer
) -> None:
    outer = _clients(otel, server)

    def after_a_call(call: Callable[[], int]) -> int:
        status = call()  # nested: it needs the outer span, which is made and made current
        with otel.sdk.get_tracer("app").start_as_current_span("app step"):
            assert otel.named("Outer.run") == []  # still under way
        return status

    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        assert outer.run(after_a_call) == 200
    assert _parent_name(otel, otel.named("app step")[0]) == "Outer.run"
    assert _parent_name(otel, _http_span(otel)) == "Outer.run"
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN


def test_an_applications_own_span_is_never_taken_for_an_api_span(
    otel: Otel, server: LocalServer
) -> None:
    inner = _clients(otel, server).inner
    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        assert inner.get() == 200
    (span,) = otel.named("Inner.get")
    assert _parent_name(otel, span) == "app"


def test_a_client_that_does_not_suppress_nested_spans_keeps_its_span(
    otel: Otel, server: LocalServer
) -> None:
    outer = _clients(otel, server, inner_suppress=False)
    assert outer.run() == 200
    (inner,) = otel.named("Inner.get")
    assert _parent_name(otel, inner) == "Outer.run"


def test_a_call_after_the_outer_method_returned_or_raised_has_its_own_span(
    otel: Otel, server: LocalServer
) -> None:
    outer = _clients(otel, server)
    outer.run()
    with pytest.raises(LookupError):
        outer.fail()
    assert outer.inner.get() == 200
    (inner,) = otel.named("Inner.get")
    assert inner.parent is None


def test_a_call_on_another_thread_is_not_nested(otel: Otel, server: LocalServer) -> None:
    """A thread starts with no current span (OpenTelemetry's, and so ours)."""
    outer = _clients(otel, server)
    results: list[int] = []

    def on_a_thread(call: Callable[[], int]) -> int:
        thread = threading.Thread(target=lambda: results.append(call()))
        thread.start()
        thread.join()
        return results[0]

    assert outer.run(on_a_thread) == 200
    (inner,) = otel.named("Inner.get")
    assert inner.parent is None


# --- a tracer whose current_span misbehaves ------------------------------------------------


class _Tracer(Tracer):
    def __init__(self, otel: Otel, current: Callable[[], Any]) -> None:
        self._tracer = otel.provider.create_tracer("x")
        self._current = current

    def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
        return self._tracer.create_span(name, options)

    def current_span(self) -> Optional[Span]:
        current: Optional[Span] = self._current()
        return current


class _Provider(TracerProvider):
    def __init__(self, otel: Otel, current: Callable[[], Any]) -> None:
        self._otel, self._current = otel, current

    def create_tracer(
        self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
    ) -> Tracer:
        return _Tracer(self._otel, self._current)


class _Unequal:
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("an __eq__ that raises")

    __hash__ = object.__hash__


def _raise() -> Any:
    raise RuntimeError("current_span raises")


@pytest.mark.parametrize(
    ("current", "warns", "inner_spans"),
    [
        (_raise, True, 2),
        (_Unequal, True, 2),
        (lambda: "not a span", False, 2),
        # None is "nothing current", at the call and inside it alike: the inner call is made
        # in the outer method's body (the same thread, no other call between), so it nests.
        (lambda: None, False, 0),
    ],
    ids=["raises", "eq raises", "returns a str", "returns None"],
)
def test_a_tracer_whose_current_span_misbehaves_leaves_the_call_as_it_was(
    otel: Otel,
    server: LocalServer,
    caplog: pytest.LogCaptureFixture,
    current: Callable[[], Any],
    warns: bool,
    inner_spans: int,
) -> None:
    provider = _Provider(otel, current)
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
    outer = Outer(Inner(server.script("/i", Reply(200)), options), options)
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        assert outer.run() == 200
        assert outer.run() == 200
    assert len(otel.named("Inner.get")) == inner_spans  # 2: not known to be nested
    assert len(otel.named("Outer.run")) == 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "azure_core_tracing"]
    assert len(warnings) == (1 if warns else 0)
    assert all("in current_span of" in warning for warning in warnings)
    assert not any("current_span raises" in w or "an __eq__" in w for w in warnings)


def test_the_adapters_current_span_equals_the_span_it_made(otel: Otel) -> None:
    tracer = otel.provider.create_tracer("t")
    span = tracer.create_span("s")
    assert tracer.current_span() != span
    with span.activate():
        current = tracer.current_span()
        assert current == span
        assert hash(current) == hash(span)
    assert tracer.current_span() is None or tracer.current_span() != span
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
    span.end()


# --- when the outer call is no longer under way, or not visible -------------------------


def _two_clients(traced: Otel) -> tuple[TracingContextFactory, TracingContextFactory]:
    return traced.factory("Outer.Svc"), traced.factory("Inner.Svc")


def test_a_task_started_in_an_api_call_that_calls_a_client_after_it_returned_gets_a_span(
    otel: Otel,
) -> None:
    """A background task started inside client A's method (it copies the context) calls
    client B after A's method has returned and A's span has ended. B's call is not made
    inside A's method: it must get its own span, not be suppressed
    as nested under a span that has already ended."""
    outer, inner = _two_clients(otel)

    async def main() -> None:
        go = asyncio.Event()

        async def background() -> None:
            await go.wait()
            with inner.create_span("Inner.get"):
                pass

        with outer.create_span("Outer.start"):
            task = asyncio.create_task(background())
        go.set()
        await task

    asyncio.run(main())
    assert sorted(span.name for span in otel.spans()) == ["Inner.get", "Outer.start"]


def test_work_run_in_a_copied_context_after_the_api_call_returned_gets_a_span(
    otel: Otel,
) -> None:
    """``contextvars.copy_context()`` taken inside client A's method and run later (as
    ``asyncio.to_thread``, a poller thread or an executor that carries context does): client
    B's call made there after A's span ended must get its own span."""
    outer, inner = _two_clients(otel)
    with outer.create_span("Outer.start"):
        copied = contextvars.copy_context()

    def later() -> None:
        with inner.create_span("Inner.get"):
            pass

    copied.run(later)
    assert sorted(span.name for span in otel.spans()) == ["Inner.get", "Outer.start"]


def test_a_scope_exited_in_another_task_leaves_no_api_call_behind(
    otel: Otel,
) -> None:
    """A ``ContextAndSpan`` entered in one task and exited in another (a span handed to a
    callback task). Once it has exited, its span has ended: a later call in the task that
    entered it is not inside that API call and must get its own span."""
    outer, inner = _two_clients(otel)

    async def main() -> None:
        scope = outer.create_span("Outer.start")
        scope.__enter__()

        async def finish() -> None:
            scope.__exit__(None, None, None)

        await asyncio.create_task(finish())
        with inner.create_span("Inner.get"):
            pass

    asyncio.run(main())
    assert sorted(span.name for span in otel.spans()) == ["Inner.get", "Outer.start"]


def test_a_client_traced_by_another_provider_is_not_nested_into_a_span_it_cannot_see(
    otel: Otel,
) -> None:
    """Client A is traced by OpenTelemetry, client B by another provider (its own
    ``tracing_provider``). B's call inside A's method has no context from B's provider to
    nest under: suppressing it loses B's API span, and B's provider never sees a parent for
    B's HTTP spans. B's call must keep its own span in B's provider (as with no ambient
    lookup; a passed ``context=`` is the caller's explicit choice)."""
    recorder = RecordingTracerProvider()
    outer = otel.factory("Outer.Svc")
    inner = TracingContextFactory(
        ClientOptions(telemetry=TelemetryOptions(tracing_provider=recorder)), "Inner.Svc", "1.0"
    )
    with outer.create_span("Outer.run"), inner.create_span("Inner.get") as scope:
        http = inner.create_http_span("HTTP GET #0", scope.context)
        with http:
            pass
    assert sorted(span.name for span in recorder.finished) == ["HTTP GET #0", "Inner.get"]


def test_a_generator_holding_an_api_span_across_yields_nests_its_consumers_calls(
    otel: Otel,
) -> None:
    """A generator that keeps an API span entered across its yields makes it the current span
    of the code consuming it (OpenTelemetry's own current span works so too): a client call
    made there is a nested call. Page fetches should hold their span only while fetching."""
    outer, inner = _two_clients(otel)

    def pages() -> Iterator[int]:
        with outer.create_span("Outer.list"):
            yield 1
            yield 2

    for _ in pages():
        with inner.create_span("Inner.get"):
            pass
    assert [span.name for span in otel.spans()] == ["Outer.list"]
