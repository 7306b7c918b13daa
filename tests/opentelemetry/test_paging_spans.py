"""Traced list methods: ``@distributed_trace`` over a method that returns ``ItemPaged`` /
``AsyncItemPaged`` makes no span when called, and one API span per page fetch when iterated.

The real OpenTelemetry SDK (in-memory exporter, plus a processor that counts every span
started and ended), a real server on 127.0.0.1 serving the pages as JSON, and both pipelines.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Callable, Literal, Optional, Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context as OtelContext
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SdkSpan

from azure_core_tracing import (
    ClientOptions,
    Context,
    CreateSpanOptions,
    Span,
    SpanKind,
    TelemetryOptions,
    Tracer,
    TracerProvider,
    TracingContextFactory,
    distributed_trace,
)
from azure_core_tracing.exceptions import HttpResponseError
from azure_core_tracing.factory import ERROR_TYPE
from azure_core_tracing.http import AsyncHttpPipeline, HttpPipeline, RawResponse, Request
from azure_core_tracing.paging import AsyncItemPaged, ItemPaged
from tests.hostile import FAULTS, HostileProvider
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel

Kind = Literal["sync", "async"]
Pager = Union[ItemPaged[int], AsyncItemPaged[int]]


class Counting(SpanProcessor):
    """Counts every span the SDK starts and ends (a started span never ended is a leak)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []

    def on_start(self, span: SdkSpan, parent_context: Optional[OtelContext] = None) -> None:
        self.started.append(span.name)

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span.name)


@pytest.fixture
def counting(otel: Otel) -> Counting:
    processor = Counting()
    otel.sdk.add_span_processor(processor)
    return processor


def serve_pages(server: LocalServer, pages: list[list[int]], *, fail: Optional[int] = None) -> None:
    """Page n at ``/pages/<n>``: its items and the path of the next page (None on the last);
    page ``fail`` (0-based) answers 404."""
    for index, items in enumerate(pages):
        following = f"/pages/{index + 1}" if index + 1 < len(pages) else None
        body = json.dumps({"items": items, "next": following}).encode()
        server.script(f"/pages/{index}", Reply(404) if index == fail else Reply(200, body=body))


def _extract(response: RawResponse) -> tuple[Optional[str], list[int]]:
    data = json.loads(response.body)
    return data["next"], data["items"]


class Other:
    """Another client, called from inside a page fetch."""

    def __init__(self, server: LocalServer, options: ClientOptions) -> None:
        self._tracing_factory = TracingContextFactory(options, "Other.Svc", "1.0")
        self._pipeline = HttpPipeline(options, tracing_factory=self._tracing_factory)
        self._url = server.script("/other", Reply(200))

    @distributed_trace
    def ping(self, *, context: Optional[Context] = None) -> int:
        return self._pipeline.send(Request("GET", self._url), context).status_code


class ListClient:
    """A client with a list operation over the served pages, sync and async."""

    def __init__(self, server: LocalServer, options: ClientOptions) -> None:
        self._server = server
        self._tracing_factory = TracingContextFactory(options, "Test.Paging", "1.0")
        self._pipeline = HttpPipeline(options, tracing_factory=self._tracing_factory)
        self._async_pipeline = AsyncHttpPipeline(options, tracing_factory=self._tracing_factory)
        self.other: Optional[Other] = None  # called inside each page fetch, when set
        self.fetched_in: list[str] = []

    def _request(self, token: Optional[str]) -> Request:
        return Request("GET", self._server.url(token or "/pages/0"))

    def _checked(self, response: RawResponse) -> RawResponse:
        if response.status_code >= 400:
            raise HttpResponseError(response=response)
        return response

    @distributed_trace
    def list_items(self, *, context: Optional[Context] = None) -> ItemPaged[int]:
        def get_next(token: Optional[str]) -> RawResponse:
            self.fetched_in.append(threading.current_thread().name)
            if self.other is not None:
                self.other.ping()  # no context passed: found as the page's nested call
            return self._checked(self._pipeline.send(self._request(token), context))

        return ItemPaged(get_next, _extract)

    @distributed_trace
    def list_items_async(self, *, context: Optional[Context] = None) -> AsyncItemPaged[int]:
        async def get_next(token: Optional[str]) -> RawResponse:
            response = await self._async_pipeline.send(self._request(token), context)
            await response.read()
            return self._checked(response)

        async def extract(response: RawResponse) -> tuple[Optional[str], list[int]]:
            return _extract(response)

        return AsyncItemPaged(get_next, extract)

    @distributed_trace
    def list_after_a_request(self, *, context: Optional[Context] = None) -> ItemPaged[int]:
        """Sends one request before returning the pager: the call needs a span of its own."""
        self._pipeline.send(self._request("/pages/0"), context)
        return ItemPaged(lambda t: self._pipeline.send(self._request(t), context), _extract)

    def pager(self, kind: Kind, context: Optional[Context] = None) -> Pager:
        if kind == "sync":
            return self.list_items(context=context)
        return self.list_items_async(context=context)

    def close(self) -> None:
        self._pipeline.close()
        asyncio.run(self._async_pipeline.close())


def items(pager: Pager) -> list[int]:
    if isinstance(pager, ItemPaged):
        return list(pager)
    return asyncio.run(_async_items(pager))


async def _async_items(pager: AsyncIterator[int]) -> list[int]:
    return [item async for item in pager]


@pytest.fixture
def client(otel: Otel, server: LocalServer) -> Iterator[ListClient]:
    made = ListClient(server, otel.options())
    yield made
    made.close()


def _by_id(otel: Otel) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in otel.spans() if span.context is not None}


def _parent(otel: Otel, span: ReadableSpan) -> Optional[str]:
    if span.parent is None:
        return None
    found = _by_id(otel).get(span.parent.span_id)
    return None if found is None else found.name


def _children(otel: Otel, span: ReadableSpan) -> list[str]:
    assert span.context is not None
    return sorted(
        s.name for s in otel.spans() if s.parent and s.parent.span_id == span.context.span_id
    )


KINDS: list[Kind] = ["sync", "async"]
_NAMES = {"sync": "ListClient.list_items", "async": "ListClient.list_items_async"}


@pytest.mark.parametrize("kind", KINDS)
def test_calling_a_list_method_starts_no_span(
    client: ListClient, server: LocalServer, counting: Counting, otel: Otel, kind: Kind
) -> None:
    serve_pages(server, [[1], [2]])
    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        pager = client.pager(kind)
    assert counting.started == ["app"]
    assert server.received == []
    del pager


@pytest.mark.parametrize("kind", KINDS)
def test_each_page_fetch_is_one_span_under_the_callers_span_parenting_its_http_spans(
    client: ListClient, server: LocalServer, counting: Counting, otel: Otel, kind: Kind
) -> None:
    serve_pages(server, [[1, 2], [3], [4, 5]])
    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        pager = client.pager(kind)
    assert items(pager) == [1, 2, 3, 4, 5]  # iterated where "app" is no longer current
    pages = otel.named(_NAMES[kind])
    assert len(pages) == 3
    for page in pages:
        assert _parent(otel, page) == "app"
        assert _children(otel, page) == ["HTTP GET #0"]
        assert page.status.status_code.name == "OK"
        assert (page.attributes or {})["az.namespace"] == "Test.Paging"
    traceparents = [received.headers["traceparent"] for received in server.received]
    assert traceparents == [
        f"00-{s.context.trace_id:032x}-{s.context.span_id:016x}-{s.context.trace_flags:02x}"
        for s in otel.named("HTTP GET #0")
        if s.context is not None
    ]
    assert sorted(counting.started) == sorted(counting.ended)
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN


@pytest.mark.parametrize("kind", KINDS)
def test_the_page_spans_go_under_the_span_of_a_context_argument(
    client: ListClient, server: LocalServer, otel: Otel, kind: Kind
) -> None:
    serve_pages(server, [[1], [2]])
    # A request come in (a SERVER span) is no API call: the list call is not nested in it.
    scope = otel.factory("App.Svc").create_span("caller", kind=SpanKind.SERVER)
    with otel.sdk.get_tracer("app").start_as_current_span("ambient"):
        pager = client.pager(kind, context=scope.context)
        assert items(pager) == [1, 2]
    scope.span.end()
    assert [_parent(otel, page) for page in otel.named(_NAMES[kind])] == ["caller", "caller"]


def _iterated(pager: Pager, where: Literal["app span", "api span", "thread"], otel: Otel) -> None:
    """Iterate ``pager`` where another span is current: an application span, another client's
    API span, or an application span in another thread."""
    if where == "api span":
        with otel.factory("App.Svc").create_span("B"):
            assert items(pager) == [1, 2]
        return
    got: list[int] = []

    def iterate() -> None:
        with otel.sdk.get_tracer("app").start_as_current_span("B"):
            got.extend(items(pager))

    if where == "thread":
        thread = threading.Thread(target=iterate)
        thread.start()
        thread.join()
    else:
        iterate()
    assert got == [1, 2]


WHERE: list[Literal["app span", "api span", "thread"]] = ["app span", "api span", "thread"]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("kind", KINDS)
def test_pages_of_a_list_called_with_nothing_current_are_roots_wherever_iterated(
    client: ListClient, server: LocalServer, otel: Otel, kind: Kind, where: str
) -> None:
    """Parented to what was current at the call: nothing, so each page is a new trace's root,
    not a child of the span current where the pager is iterated."""
    serve_pages(server, [[1], [2]])
    pager = client.pager(kind)
    _iterated(pager, where, otel)  # type: ignore[arg-type]
    pages = otel.named(_NAMES[kind])
    assert len(pages) == 2
    assert all(page.parent is None for page in pages)
    (iterated_in,) = otel.named("B")
    traces = {page.context.trace_id for page in pages if page.context is not None}
    assert len(traces) == 2  # a trace of its own each
    assert iterated_in.context is not None and iterated_in.context.trace_id not in traces
    assert all(_children(otel, page) == ["HTTP GET #0"] for page in pages)
    assert _children(otel, iterated_in) == []


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("kind", KINDS)
def test_pages_go_under_the_span_current_at_the_call_not_the_one_where_iterated(
    client: ListClient, server: LocalServer, otel: Otel, kind: Kind, where: str
) -> None:
    serve_pages(server, [[1], [2]])
    with otel.sdk.get_tracer("app").start_as_current_span("A"):
        pager = client.pager(kind)
    _iterated(pager, where, otel)  # type: ignore[arg-type]
    assert [_parent(otel, page) for page in otel.named(_NAMES[kind])] == ["A", "A"]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("kind", KINDS)
def test_pages_go_under_a_context_arguments_span_not_the_one_where_iterated(
    client: ListClient, server: LocalServer, otel: Otel, kind: Kind, where: str
) -> None:
    serve_pages(server, [[1], [2]])
    scope = otel.factory("App.Svc").create_span("caller", kind=SpanKind.SERVER)
    pager = client.pager(kind, context=scope.context)  # nothing current: the context counts
    _iterated(pager, where, otel)  # type: ignore[arg-type]
    scope.span.end()
    assert [_parent(otel, page) for page in otel.named(_NAMES[kind])] == ["caller", "caller"]


@pytest.mark.parametrize("kind", KINDS)
def test_an_error_on_page_3_reaches_the_caller_and_marks_only_page_3s_span(
    client: ListClient, server: LocalServer, counting: Counting, otel: Otel, kind: Kind
) -> None:
    serve_pages(server, [[1], [2], [3], [4]], fail=2)
    pager = client.pager(kind)
    got: list[int] = []
    with pytest.raises(HttpResponseError) as raised:
        if isinstance(pager, ItemPaged):
            got.extend(pager)
        else:

            async def consume() -> None:
                async for item in pager:
                    got.append(item)

            asyncio.run(consume())
    assert got == [1, 2]
    assert raised.value.status_code == 404
    pages = sorted(otel.named(_NAMES[kind]), key=lambda s: s.start_time or 0)
    assert [page.status.status_code.name for page in pages] == ["OK", "OK", "ERROR"]
    failed = pages[2]
    error_type = "azure_core_tracing.exceptions.HttpResponseError"
    assert (failed.attributes or {})[ERROR_TYPE] == error_type
    assert [event.name for event in failed.events] == ["exception"]
    assert not any(ERROR_TYPE in (page.attributes or {}) for page in pages[:2])
    assert sorted(counting.started) == sorted(counting.ended)


def _abandon_by_break(pager: Pager) -> None:
    if isinstance(pager, ItemPaged):
        for _ in pager:
            break
    else:

        async def run() -> None:
            async for _ in pager:
                break

        asyncio.run(run())


def _abandon_by_consumer_error(pager: Pager) -> None:
    with pytest.raises(KeyError):
        if isinstance(pager, ItemPaged):
            for item in pager:
                raise KeyError(item)
        else:

            async def run() -> None:
                async for item in pager:
                    raise KeyError(item)

            asyncio.run(run())


def _abandon_half_way_and_collect(pager: Pager) -> None:
    if isinstance(pager, ItemPaged):
        pages = pager.by_page()
        next(pages)
        del pages
    else:

        async def run(paged: AsyncItemPaged[int]) -> None:
            pages = paged.by_page()
            await pages.__anext__()

        asyncio.run(run(pager))
    del pager
    gc.collect()


def _abandon_a_never_awaited_fetch(pager: Pager) -> None:
    if isinstance(pager, ItemPaged):
        next(pager)
        return

    async def run() -> None:
        assert await pager.__anext__() == 1
        # A fetch begun and dropped while it waits: the coroutine is closed, never resumed.
        fetch = pager.by_page().__anext__()
        fetch.close()

    asyncio.run(run())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "abandon",
    [
        _abandon_by_break,
        _abandon_by_consumer_error,
        _abandon_half_way_and_collect,
        _abandon_a_never_awaited_fetch,
    ],
)
def test_an_abandoned_pager_leaves_no_span_open_and_nothing_current(
    client: ListClient,
    server: LocalServer,
    counting: Counting,
    otel: Otel,
    kind: Kind,
    abandon: Callable[[Pager], None],
) -> None:
    serve_pages(server, [[1, 2], [3], [4]])
    abandon(client.pager(kind))
    gc.collect()
    assert counting.started  # a page was fetched
    assert sorted(counting.started) == sorted(counting.ended)
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
    with otel.sdk.get_tracer("app").start_as_current_span("after"):
        pass
    assert otel.named("after")[0].parent is None


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(0, 3), min_size=1, max_size=5),
    stop=st.integers(0, 5),
    kind=st.sampled_from(KINDS),
)
def test_by_page_resumes_from_a_continuation_token_with_one_span_per_page_fetched(
    server: LocalServer, otel: Otel, sizes: list[int], stop: int, kind: Kind
) -> None:
    otel.exporter.clear()
    client = ListClient(server, otel.options())  # an async pipeline serves one event loop
    pages = [[10 * page + n for n in range(size)] for page, size in enumerate(sizes)]
    serve_pages(server, pages)
    stop = min(stop, len(pages))
    read: list[list[int]] = []
    token: Optional[str] = None
    if kind == "sync":
        first = client.list_items().by_page()
        read = [list(next(first)) for _ in range(stop)]
        token = first.continuation_token
        if stop < len(pages):
            read += [list(page) for page in client.list_items().by_page(token)]
    else:

        async def run() -> list[list[int]]:
            first = client.list_items_async().by_page()
            got = [await _async_items(await first.__anext__()) for _ in range(stop)]
            if stop < len(pages):
                resumed = client.list_items_async().by_page(first.continuation_token)
                got += [await _async_items(page) async for page in resumed]
            return got

        read = asyncio.run(run())
    client.close()
    assert read == pages
    fetches = otel.named(_NAMES[kind])
    assert len(fetches) == len(pages)
    assert len(otel.named("HTTP GET #0")) == len(pages)
    assert all(_children(otel, page) == ["HTTP GET #0"] for page in fetches)


def test_iterating_a_pager_again_and_two_page_iterators_each_fetch_under_their_own_span(
    client: ListClient, server: LocalServer, otel: Otel
) -> None:
    serve_pages(server, [[1], [2]])
    pager = client.list_items()
    assert next(pager) == 1
    assert list(pager) == [2]  # continues, as azure-core's does
    assert list(pager) == []
    one, two = pager.by_page(), pager.by_page()
    interleaved = [list(next(one)), list(next(two)), list(next(two)), list(next(one))]
    assert interleaved == [[1], [1], [2], [2]]
    fetches = otel.named("ListClient.list_items")
    assert len(fetches) == 6
    assert all(_children(otel, page) == ["HTTP GET #0"] for page in fetches)
    assert all(page.parent is None for page in fetches)


def test_pages_fetched_on_another_thread_go_under_the_callers_span(
    client: ListClient, server: LocalServer, otel: Otel
) -> None:
    serve_pages(server, [[1], [2], [3]])
    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        pager = client.list_items()
    got: list[int] = []
    thread = threading.Thread(target=lambda: got.extend(pager), name="fetcher")
    thread.start()
    thread.join()
    assert got == [1, 2, 3]
    assert client.fetched_in == ["fetcher"] * 3
    fetches = otel.named("ListClient.list_items")
    assert [_parent(otel, page) for page in fetches] == ["app"] * 3
    assert all(_children(otel, page) == ["HTTP GET #0"] for page in fetches)


def test_pages_fetched_in_other_tasks_each_go_under_their_own_span(
    client: ListClient, server: LocalServer, otel: Otel
) -> None:
    serve_pages(server, [[1], [2]])

    async def main() -> list[list[int]]:
        with otel.sdk.get_tracer("app").start_as_current_span("app"):
            pagers = [client.list_items_async() for _ in range(4)]
        return list(await asyncio.gather(*(_async_items(p) for p in pagers)))

    assert asyncio.run(main()) == [[1, 2]] * 4
    fetches = otel.named("ListClient.list_items_async")
    assert len(fetches) == 8
    assert {_parent(otel, page) for page in fetches} == {"app"}
    assert all(_children(otel, page) == ["HTTP GET #0"] for page in fetches)


def test_a_client_call_inside_a_page_fetch_is_nested_under_the_pages_span(
    client: ListClient, server: LocalServer, otel: Otel
) -> None:
    serve_pages(server, [[1], [2]])
    client.other = Other(server, otel.options())
    assert list(client.list_items()) == [1, 2]
    assert not otel.named("Other.ping")
    fetches = otel.named("ListClient.list_items")
    assert [_children(otel, page) for page in fetches] == [["HTTP GET #0", "HTTP GET #0"]] * 2


def test_a_list_method_that_sends_before_returning_has_its_own_span_beside_the_pages(
    client: ListClient, server: LocalServer, otel: Otel
) -> None:
    serve_pages(server, [[1], [2]])
    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        pager = client.list_after_a_request()
        assert otel_trace.get_current_span().name == "app"  # type: ignore[attr-defined]
    assert list(pager) == [1, 2]
    spans = otel.named("ListClient.list_after_a_request")
    assert len(spans) == 3  # the call's, then one per page
    assert [_parent(otel, span) for span in spans] == ["app"] * 3
    assert all(_children(otel, span) == ["HTTP GET #0"] for span in spans)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_misbehaving_provider_never_changes_what_a_pager_yields_or_raises(
    server: LocalServer, fault: str
) -> None:
    serve_pages(server, [[1], [2], [3]], fail=2)
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=HostileProvider(fault)))
    options.retry.retry_delay = 0.001
    client = ListClient(server, options)
    try:
        for kind in KINDS:
            got: list[int] = []
            pager = client.pager(kind)
            with pytest.raises(HttpResponseError):
                if isinstance(pager, ItemPaged):
                    got.extend(pager)
                else:

                    async def consume(
                        p: AsyncItemPaged[int] = pager, into: list[int] = got
                    ) -> None:
                        async for item in p:
                            into.append(item)

                    asyncio.run(consume())
            assert got == [1, 2]
    finally:
        client.close()


@pytest.mark.parametrize("caller", [None, "A"])
def test_a_methods_span_made_inside_an_application_span_of_its_body_is_beside_it(
    otel: Otel, server: LocalServer, caller: Optional[str]
) -> None:
    """A plain def's span is made when first needed: made while an application span its body
    started is current, it still goes under what was current at the call (A, or nothing: a
    root), beside that span, not under it."""
    url = server.script("/inside", Reply(200))

    class Inside:
        def __init__(self) -> None:
            self._tracing_factory = otel.factory()
            self._pipeline = HttpPipeline(otel.options(), tracing_factory=self._tracing_factory)

        @distributed_trace(name="Inside.get")
        def get(self, *, context: Optional[Context] = None) -> int:
            with otel.sdk.get_tracer("app").start_as_current_span("callback"):
                return self._pipeline.send(Request("GET", url), context).status_code

    tracer = otel.sdk.get_tracer("app")
    if caller is None:
        assert Inside().get() == 200
    else:
        with tracer.start_as_current_span(caller):
            assert Inside().get() == 200
    (span,) = otel.named("Inside.get")
    (callback,) = otel.named("callback")
    assert _parent(otel, span) == caller and _parent(otel, callback) == caller
    assert _children(otel, span) == ["HTTP GET #0"]
    if caller is None:
        assert span.context is not None and callback.context is not None
        assert span.context.trace_id != callback.context.trace_id


def test_a_normal_methods_span_starts_when_it_was_called(otel: Otel, server: LocalServer) -> None:
    """The span of a sync method is made when first needed, dated back to the call."""
    url = server.script("/slow", Reply(200))

    class Slow:
        def __init__(self) -> None:
            self._tracing_factory = otel.factory()
            self._pipeline = HttpPipeline(otel.options(), tracing_factory=self._tracing_factory)

        @distributed_trace(name="Slow.get")
        def get(self, *, context: Optional[Context] = None) -> int:
            time.sleep(0.05)  # work before the first request
            return self._pipeline.send(Request("GET", url), context).status_code

    before = time.time_ns()
    assert Slow().get() == 200
    (span,) = otel.named("Slow.get")
    (http,) = otel.named("HTTP GET #0")
    assert span.start_time is not None and http.start_time is not None
    assert before - 1_000 <= span.start_time <= before + 20_000_000
    assert http.start_time - span.start_time >= 40_000_000
    assert _parent(otel, http) == "Slow.get"


def test_an_async_def_that_returns_a_pager_has_its_span_and_page_spans_too(
    otel: Otel, server: LocalServer
) -> None:
    serve_pages(server, [[1], [2]])
    client = ListClient(server, otel.options())

    class Lister:
        def __init__(self) -> None:
            self._tracing_factory = client._tracing_factory

        @distributed_trace(name="Lister.list_items")
        async def list_items(self) -> AsyncItemPaged[int]:
            return client.list_items_async.__wrapped__(client)  # type: ignore[attr-defined,no-any-return]

    async def main() -> list[int]:
        return await _async_items(await Lister().list_items())

    try:
        assert asyncio.run(main()) == [1, 2]
    finally:
        client.close()
    spans = otel.named("Lister.list_items")
    assert len(spans) == 3
    assert sorted(len(_children(otel, span)) for span in spans) == [0, 1, 1]


def test_a_pager_iterated_in_a_copied_context_after_the_call_still_goes_under_the_caller(
    client: ListClient, server: LocalServer, otel: Otel
) -> None:
    serve_pages(server, [[1]])
    with otel.sdk.get_tracer("app").start_as_current_span("app"):
        pager = client.list_items()
        copied = contextvars.copy_context()
    assert copied.run(lambda: list(pager)) == [1]
    (page,) = otel.named("ListClient.list_items")
    assert _parent(otel, page) == "app"
    assert _children(otel, page) == ["HTTP GET #0"]


def test_get_next_called_outside_any_page_fetch_sends_under_the_callers_span(
    otel: Otel, server: LocalServer
) -> None:
    """The context a list method's body got, used after it returned and outside a fetch,
    stands for the caller's context: its requests go under the caller's span."""
    serve_pages(server, [[1]])
    client = ListClient(server, otel.options())
    kept: list[Context] = []

    class Keeper:
        def __init__(self) -> None:
            self._tracing_factory = client._tracing_factory

        @distributed_trace(name="Keeper.list_items")
        def list_items(self, *, context: Optional[Context] = None) -> ItemPaged[int]:
            assert context is not None
            kept.append(context)
            return ItemPaged(lambda t: None, lambda r: (None, []))

    caller = otel.factory("App.Svc").create_span("caller", kind=SpanKind.SERVER)
    try:
        Keeper().list_items(context=caller.context)
        client._pipeline.send(client._request(None), kept[0])
    finally:
        client.close()
    caller.span.end()
    (http,) = otel.named("HTTP GET #0")
    assert _parent(otel, http) == "caller"
    assert not otel.named("Keeper.list_items")


def test_requests_sent_from_several_threads_of_a_body_share_one_span(
    otel: Otel, server: LocalServer
) -> None:
    """The span is made when first needed, once, whichever thread needs it first."""
    from concurrent.futures import ThreadPoolExecutor

    url = server.script("/fan", Reply(200))

    class Fan:
        def __init__(self) -> None:
            self._tracing_factory = otel.factory()
            self._pipeline = HttpPipeline(otel.options(), tracing_factory=self._tracing_factory)

        @distributed_trace(name="Fan.out")
        def out(self, *, context: Optional[Context] = None) -> list[int]:
            def send(_: int) -> int:
                return self._pipeline.send(Request("GET", url), context).status_code

            with ThreadPoolExecutor(4) as pool:
                return list(pool.map(send, range(8)))

    assert Fan().out() == [200] * 8
    (span,) = otel.named("Fan.out")
    assert _children(otel, span) == ["HTTP GET #0"] * 8


def test_span_from_context_is_the_calls_span_in_the_body_and_the_pages_in_a_fetch(
    otel: Otel, server: LocalServer
) -> None:
    serve_pages(server, [[1], [2]])
    seen: list[Optional[str]] = []

    def name_of(context: Optional[Context]) -> Optional[str]:
        span = TracingContextFactory.span_from_context(context)
        inner = getattr(span, "inner", None)
        return getattr(getattr(inner, "otel_span", None), "name", None)

    class Lister:
        def __init__(self) -> None:
            self._tracing_factory = otel.factory()

        @distributed_trace(name="Lister.get")
        def get(self, *, context: Optional[Context] = None) -> None:
            seen.append(name_of(context))  # a need: the span is made here

        @distributed_trace(name="Lister.list")
        def list(self, *, context: Optional[Context] = None) -> ItemPaged[int]:
            def get_next(token: Optional[str]) -> Optional[str]:
                seen.append(name_of(context))
                return token

            return ItemPaged(get_next, lambda token: (None if token else "t", [1]))

    Lister().get()
    assert list(Lister().list()) == [1, 1]
    assert seen == ["Lister.get", "Lister.list", "Lister.list"]
    assert len(otel.named("Lister.get")) == 1
    assert len(otel.named("Lister.list")) == 2  # the page fetches' spans, no call span


def test_a_page_fetch_cancelled_while_it_waits_ends_its_span_without_an_error(
    client: ListClient, server: LocalServer, counting: Counting, otel: Otel
) -> None:
    body = json.dumps({"items": [1], "next": None}).encode()
    server.script("/pages/0", Reply(200, body=body, delay=0.3))

    async def main() -> None:
        task = asyncio.create_task(_async_items(client.list_items_async()))
        while not server.received:
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert sorted(counting.started) == sorted(counting.ended)
    (page,) = otel.named("ListClient.list_items_async")
    assert page.status.status_code.name == "UNSET"
    assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN


def test_a_provider_that_makes_a_traced_call_while_making_a_span_does_not_wait_for_itself(
    otel: Otel, server: LocalServer
) -> None:
    """Making a call's span runs provider code; if that code calls a traced client method
    (a span processor that reports somewhere, say), the call goes through, in time."""
    url = server.script("/report", Reply(200))
    reporting = threading.local()

    class Reporter:
        def __init__(self, options: ClientOptions) -> None:
            self._tracing_factory = TracingContextFactory(options, "Reporter", "1.0")
            self._pipeline = HttpPipeline(options, tracing_factory=self._tracing_factory)

        @distributed_trace(name="Reporter.report")
        def report(self, *, context: Optional[Context] = None) -> int:
            return self._pipeline.send(Request("GET", url), context).status_code

    class _ReportingTracer(Tracer):
        def __init__(self, inner: Tracer) -> None:
            self._inner = inner

        def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
            if name == "Slow.get" and not getattr(reporting, "busy", False):
                reporting.busy = True
                try:
                    assert reporter.report() == 200
                finally:
                    reporting.busy = False
            return self._inner.create_span(name, options)

    class _ReportingProvider(TracerProvider):
        def create_tracer(
            self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
        ) -> Tracer:
            return _ReportingTracer(otel.provider.create_tracer(name, version))

    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=_ReportingProvider()))
    reporter = Reporter(otel.options())

    class Slow:
        def __init__(self) -> None:
            self._tracing_factory = TracingContextFactory(options, "Slow", "1.0")
            self._pipeline = HttpPipeline(options, tracing_factory=self._tracing_factory)

        @distributed_trace(name="Slow.get")
        def get(self, *, context: Optional[Context] = None) -> int:
            return self._pipeline.send(Request("GET", url), context).status_code

    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(Slow().get()), daemon=True)
    thread.start()
    thread.join(10)
    assert results == [200]
    assert len(otel.named("Reporter.report")) == 1
    assert len(otel.named("Slow.get")) == 1
