"""The async contenders, the twins of ``peers``: ours on ``AsyncHttpPipeline`` and
``AioHttpTransport``, azure-core's ``AsyncPipelineClient`` on its ``AioHttpTransport``, bare
aiohttp, and the hand-wired floor over bare aiohttp. Each transport makes its own session (the
default); ``canned.canned_aiohttp`` answers below them all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, Callable, Optional

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.http import AioHttpTransport, AsyncHttpPipeline, Request
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from benchmarks import otel
from benchmarks.harness import Contender, async_contender, unavailable
from benchmarks.peers import (
    FIXED_URL,
    HOST,
    INSTRUMENTATION,
    NAMESPACE,
    PACKAGE,
    REQUEST_ID,
    VERSION,
    azure_core_installed,
    azure_policies,
    azure_tracing,
)

AsyncGet = Callable[[str], Awaitable[int]]
Closer = Callable[[], Awaitable[None]]


class OursAsyncClient:
    """An async service client on this library."""

    def __init__(self, tracer_provider: Optional[trace.TracerProvider]) -> None:
        options = ClientOptions()
        if tracer_provider is not None:
            options.telemetry.tracing_provider = OpenTelemetryProvider.create(tracer_provider)
        self._tracing_factory = TracingContextFactory(
            options, NAMESPACE, VERSION, package_name=PACKAGE
        )
        self._pipeline = AsyncHttpPipeline(
            options, tracing_factory=self._tracing_factory, transport=AioHttpTransport()
        )

    @distributed_trace
    async def get(self, url: str, *, context: Optional[Context] = None) -> int:
        """One service call: a GET of ``url``."""
        return (await self._pipeline.send(Request("GET", url), context)).status_code

    async def close(self) -> None:
        await self._pipeline.close()


def _azure_client() -> tuple[AsyncGet, Closer]:
    from azure.core import AsyncPipelineClient
    from azure.core.pipeline.transport import AioHttpTransport as AzureAioHttpTransport
    from azure.core.rest import HttpRequest
    from azure.core.tracing.decorator_async import distributed_trace_async

    class AzureCoreAsyncClient:
        _instrumentation_config = INSTRUMENTATION

        def __init__(self) -> None:
            self._client: Any = AsyncPipelineClient(
                HOST, policies=azure_policies(True, None), transport=AzureAioHttpTransport()
            )

        @distributed_trace_async
        async def get(self, url: str, **kwargs: Any) -> int:
            response = await self._client.send_request(HttpRequest("GET", url), **kwargs)
            status: int = response.status_code
            return status

        async def close(self) -> None:
            await self._client.close()

    client = AzureCoreAsyncClient()
    return client.get, client.close


class _BareAiohttp:
    """``session.request`` and ``read``, on a session made inside the loop on first use."""

    def __init__(self) -> None:
        self._session: Any = None

    async def fetch(self, url: str, headers: Optional[dict[str, str]] = None) -> tuple[int, str]:
        """The status and the ``x-ms-request-id`` of a GET of ``url``."""
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession()
        response = await self._session.request("GET", url, headers=headers)
        await response.read()
        response.release()
        return response.status, response.headers.get("x-ms-request-id", "")

    async def get(self, url: str) -> int:
        """The status of a GET of ``url``."""
        return (await self.fetch(url))[0]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _floor() -> tuple[AsyncGet, Closer]:
    bare = _BareAiohttp()
    tracer = otel.PROVIDER.get_tracer(PACKAGE, VERSION)
    api_attributes = {"az.namespace": NAMESPACE}
    user_agent = _aiohttp_user_agent()

    async def get(url: str) -> int:
        with tracer.start_as_current_span("FloorClient.get", attributes=api_attributes) as api:
            headers: dict[str, str] = {}
            with tracer.start_as_current_span(
                "HTTP GET #0",
                kind=SpanKind.CLIENT,
                attributes={
                    "az.namespace": NAMESPACE,
                    "http.method": "GET",
                    "http.url": url,
                    "http.user_agent": user_agent,
                    "requestId": REQUEST_ID,
                },
            ) as span:
                propagate.inject(headers)
                status, service_request_id = await bare.fetch(url, headers)
                span.set_attribute("http.status_code", status)
                span.set_attribute("serviceRequestId", service_request_id)
                if status >= 400:
                    span.set_status(Status(StatusCode.ERROR))
            api.set_status(Status(StatusCode.OK))
        return status

    return get, bare.close


def _aiohttp_user_agent() -> str:
    from aiohttp.http import SERVER_SOFTWARE

    return SERVER_SOFTWARE


def _off() -> None:
    return


def contenders(loop: asyncio.AbstractEventLoop) -> tuple[list[Contender], list[Closer]]:
    """Every async contender, traced and not, and what closes their sessions."""

    def timed(
        name: str, get: AsyncGet, enter: Callable[[], None] = _off, leave: Callable[[], None] = _off
    ) -> Contender:
        return async_contender(name, loop, lambda: get(FIXED_URL), enter, leave)

    bare = _BareAiohttp()
    ours_off, ours_on = OursAsyncClient(None), OursAsyncClient(otel.PROVIDER)
    floor_get, floor_close = _floor()
    made = [
        timed("bare aiohttp", bare.get),
        timed("ours: tracing off", ours_off.get),
        timed("ours: traced", ours_on.get),
        timed("floor: traced", floor_get),
    ]
    closers: list[Closer] = [bare.close, ours_off.close, ours_on.close, floor_close]
    if azure_core_installed():
        off_get, off_close = _azure_client()
        on_get, on_close = _azure_client()
        made += [
            timed("azure-core: tracing off", off_get),
            timed("azure-core: traced", on_get, azure_tracing(True), azure_tracing(False)),
        ]
        closers += [off_close, on_close]
    else:
        made += [unavailable("azure-core: tracing off"), unavailable("azure-core: traced")]
    return made, closers
