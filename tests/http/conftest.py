"""Both pipelines under one suite: every test in the modules of ``BOTH`` runs once with
``HttpPipeline`` and once with ``AsyncHttpPipeline`` (each on its real transport, against a
real server on 127.0.0.1). Tests drive either through the same synchronous facade; the async
one runs every call as a task on an event loop of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, Literal, Optional, TypeVar

import pytest

from azure_core_tracing import ClientOptions, Context, TracingContextFactory
from azure_core_tracing.http import (
    AsyncHttpPipeline,
    AsyncHttpTransport,
    HttpPipeline,
    HttpTransport,
    RawResponse,
    Request,
)
from tests.http.transports import KINDS, Transport
from tests.opentelemetry.conftest import otel  # noqa: F401 - the real SDK, for these tests too

SERVICE = "Azure.Test.Service"
Kind = Literal["sync", "async"]
BOTH = {
    "test_activity",
    "test_conventions",
    "test_deadlines",
    "test_log",
    "test_pipeline",
    "test_redirect",
    "test_retry",
}
T = TypeVar("T")

_state: dict[str, Any] = {"kind": "sync", "open": []}


def current_kind() -> Kind:
    """The pipeline kind the running test was given."""
    kind: Kind = _state["kind"]
    return kind


class AsyncAdapter(AsyncHttpTransport):
    """A test's own sync transport offered to the async pipeline (a swap-in, not a mock)."""

    def __init__(self, transport: HttpTransport) -> None:
        self.transport = transport

    async def send(self, request: Request, context: Context) -> RawResponse:
        return self.transport.send(request, context)


class Driver:
    """A pipeline of the running test's kind (or of ``kind``), with a synchronous ``send``."""

    def __init__(self, *args: Any, kind: Optional[Kind] = None, **kwargs: Any) -> None:
        self.kind = kind or current_kind()
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        if self.kind == "sync":
            self.pipeline: Any = HttpPipeline(*args, **kwargs)
        else:
            self.loop = asyncio.new_event_loop()
            sleep = kwargs.get("sleep")
            if sleep is not None:
                kwargs["sleep"] = _async_sleep(sleep)
            transport = kwargs.get("transport")
            if isinstance(transport, HttpTransport):
                kwargs["transport"] = AsyncAdapter(transport)
            self.pipeline = AsyncHttpPipeline(*args, **kwargs)
        _state["open"].append(self)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` to its end on this driver's loop (async kind only)."""
        assert self.loop is not None
        return self.loop.run_until_complete(coroutine)

    @property
    def policies(self) -> tuple[Any, ...]:
        policies: tuple[Any, ...] = self.pipeline.policies
        return policies

    def run_all(self, coroutines: list[Coroutine[Any, Any, T]]) -> list[T]:
        """Run ``coroutines`` as concurrent tasks on this driver's loop; their results."""

        async def together() -> list[T]:
            return list(await asyncio.gather(*coroutines))

        return self.run(together())

    def send(self, request: Request, context: Optional[Context] = None) -> RawResponse:
        if self.loop is None:
            response: RawResponse = self.pipeline.send(request, context)
            return response
        sent: RawResponse = self.run(self.pipeline.send(request, context))
        return sent

    def traced_send(
        self,
        factory: TracingContextFactory,
        request: Request,
        name: str = "Client.call",
        context: Optional[Context] = None,
    ) -> RawResponse:
        """``request`` sent in an API span ``name`` of ``factory``, as a service method sends it."""
        if self.loop is not None:
            return self.run(self.traced_send_async(factory, request, name, context))
        with factory.create_span(name, context) as scope:
            response: RawResponse = self.pipeline.send(request, scope.context)
            return response

    async def traced_send_async(
        self,
        factory: TracingContextFactory,
        request: Request,
        name: str = "Client.call",
        context: Optional[Context] = None,
    ) -> RawResponse:
        """The same for an async pipeline, in a task: the span is entered across its awaits."""
        with factory.create_span(name, context) as scope:
            response: RawResponse = await self.pipeline.send(request, scope.context)
            return response

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.loop is None:
            self.pipeline.close()
            return
        if not self.loop.is_closed():
            self.loop.run_until_complete(self.pipeline.close())
            self.loop.close()


def _async_sleep(sleep: Callable[[float], None]) -> Callable[[float], Awaitable[None]]:
    async def recorded(seconds: float) -> None:
        sleep(seconds)

    return recorded


def for_kind(transport: HttpTransport) -> Any:
    """A test's own sync transport, as the running test's kind of pipeline takes it."""
    return transport if current_kind() == "sync" else AsyncAdapter(transport)


def make_pipeline(*args: Any, **kwargs: Any) -> Driver:
    """``HttpPipeline(...)`` or ``AsyncHttpPipeline(...)``, as the running test's kind says."""
    return Driver(*args, **kwargs)


class TracedClient:
    """Traces ``call`` as one service method span, whose requests go through the pipeline."""

    def __init__(self, options: Optional[ClientOptions] = None, **pipeline_args: Any) -> None:
        self.options = options or ClientOptions()
        self.sleeps: list[float] = []
        pipeline_args.setdefault("sleep", self.sleeps.append)
        self._tracing_factory = TracingContextFactory(
            self.options, SERVICE, "1.0.0", package_name="azure-test"
        )
        self.pipeline = make_pipeline(
            self.options, "azure-test", "1.0.0", service_name=SERVICE, **pipeline_args
        )

    def call(self, request: Request, context: Optional[Context] = None) -> RawResponse:
        factory = self._tracing_factory
        return self.pipeline.traced_send(factory, request, "TracedClient.call", context)

    def call_async(
        self, request: Request, context: Optional[Context] = None
    ) -> Coroutine[Any, Any, RawResponse]:
        """The same call for an async pipeline, to run in a task."""
        factory = self._tracing_factory
        return self.pipeline.traced_send_async(factory, request, "TracedClient.call", context)


@pytest.fixture(autouse=True)
def pipeline_kind(request: pytest.FixtureRequest) -> Iterator[Kind]:
    """The kind of pipeline this test drives (both, for the modules in ``BOTH``)."""
    kind: Kind = getattr(request, "param", "sync")
    _state["kind"] = kind
    yield kind
    opened, _state["open"] = _state["open"], []
    for driver in opened:
        driver.close()
    _state["kind"] = "sync"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.module.__name__.rpartition(".")[2] in BOTH:
        metafunc.parametrize("pipeline_kind", ["sync", "async"], indirect=True)


@pytest.fixture
def fast_options() -> ClientOptions:
    options = ClientOptions()
    options.retry.retry_delay = 0.001
    options.retry.max_retry_delay = 0.01
    return options


@pytest.fixture(params=KINDS)
def transport_kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def transports(transport_kind: str) -> Iterator[list[Transport]]:
    made: list[Transport] = []
    yield made
    for transport in made:
        transport.close()


@pytest.fixture
def make_transport(transport_kind: str, transports: list[Transport]) -> Any:
    def build(session: bool = False, **kwargs: Any) -> Transport:
        transport = Transport(transport_kind, session, **kwargs)
        transports.append(transport)
        return transport

    return build


def policy_client(kind: Kind, policy: Any, options: Optional[ClientOptions] = None) -> Driver:
    """A pipeline of ``kind`` with ``policy`` per retry, retrying without a real wait."""
    options = options or ClientOptions()
    options.retry.retry_delay = 0.001
    return Driver(
        options,
        "azure-test",
        "1.0.0",
        service_name="Test.Service",
        per_retry_policies=[policy],
        kind=kind,
    )
