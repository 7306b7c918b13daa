"""What only the async pipeline has: awaiting cancellation, the kinds of transport and policy
each pipeline takes, and naming a client once through its factory."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Optional

import pytest

from azure_core_tracing import (
    ClientOptions,
    Context,
    OperationCancelledError,
    TracingContextFactory,
)
from azure_core_tracing.http import (
    AioHttpTransport,
    AsyncHttpPipeline,
    AsyncHttpPolicy,
    AsyncNextPolicy,
    HttpPipeline,
    HttpPolicy,
    NextPolicy,
    RawResponse,
    Request,
    RequestsTransport,
)
from tests.local_server import LocalServer, Reply
from tests.recording import RecordingTracerProvider


def _long_retry_after(server: LocalServer) -> str:
    return server.script("/busy", Reply(503, {"Retry-After": "30"}), Reply(200))


@pytest.mark.parametrize("canceller", ["task", "thread"])
def test_cancel_from_another_task_or_thread_stops_the_back_off_promptly(
    server: LocalServer, canceller: str
) -> None:
    url = _long_retry_after(server)

    async def main() -> float:
        context = Context()
        async with AsyncHttpPipeline(ClientOptions(), "svc", "1.0") as pipeline:
            if canceller == "task":

                async def cancel_soon() -> None:
                    await asyncio.sleep(0.3)
                    context.cancel()

                asyncio.get_running_loop().create_task(cancel_soon())
            else:
                threading.Timer(0.3, context.cancel).start()
            started = time.monotonic()
            with pytest.raises(OperationCancelledError, match="cancelled during back-off"):
                await pipeline.send(Request("GET", url), context)
            return time.monotonic() - started

    assert asyncio.run(main()) < 2.0  # not the 30 s the server asked for
    assert len(server.received) == 1


def test_each_pipeline_refuses_the_other_kind_of_transport() -> None:
    async def aio() -> AioHttpTransport:
        return AioHttpTransport()

    aio_transport = asyncio.run(aio())
    with pytest.raises(TypeError, match="transport must be an AsyncHttpTransport"):
        AsyncHttpPipeline(ClientOptions(), "svc", "1.0", transport=RequestsTransport())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"client_options\.transport must be an HttpTransport"):
        HttpPipeline(ClientOptions(transport=aio_transport), "svc", "1.0")
    with pytest.raises(TypeError, match="transport must be an HttpTransport"):
        HttpPipeline(ClientOptions(), "svc", "1.0", transport=aio_transport)  # type: ignore[arg-type]


class _SyncHeader(HttpPolicy):
    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        return next_policy.send(request, context)


class _AsyncHeader(AsyncHttpPolicy):
    """A policy that must await something of its own (as a token refresh would)."""

    async def send(
        self, request: Request, next_policy: AsyncNextPolicy, context: Context
    ) -> RawResponse:
        await asyncio.sleep(0)
        request.headers["x-token"] = "fresh"
        return await next_policy.send(request, context)


def test_each_pipeline_refuses_the_other_kind_of_policy_naming_the_list() -> None:
    with pytest.raises(TypeError, match="per_call_policies of an AsyncHttpPipeline"):
        AsyncHttpPipeline(ClientOptions(), "svc", "1.0", per_call_policies=[_SyncHeader()])
    with pytest.raises(TypeError, match="per_retry_policies of an HttpPipeline"):
        HttpPipeline(ClientOptions(), "svc", "1.0", per_retry_policies=[_AsyncHeader()])


def test_an_async_policy_awaits_inside_the_async_pipeline(server: LocalServer) -> None:
    url = server.script("/token", Reply(200))

    async def main() -> None:
        async with AsyncHttpPipeline(
            ClientOptions(), "svc", "1.0", per_retry_policies=[_AsyncHeader()]
        ) as pipeline:
            await pipeline.send(Request("GET", url))

    asyncio.run(main())
    assert server.received[0].headers["x-token"] == "fresh"


def test_a_pipeline_takes_the_clients_names_from_its_factory(
    server: LocalServer, recorder: RecordingTracerProvider
) -> None:
    url = server.script("/named", Reply(200))
    options = ClientOptions()
    options.telemetry.tracing_provider = recorder
    factory = TracingContextFactory(options, "Contoso.Widgets", "2.1.0", package_name="contoso")
    HttpPipeline(options, tracing_factory=factory).send(Request("GET", url))
    (span,) = recorder.finished
    assert span.attributes["az.namespace"] == "Contoso.Widgets"
    assert recorder.tracers == [("contoso", "2.1.0", None)]
    assert server.received[0].headers["user-agent"].startswith("azsdk-python-contoso/2.1.0 ")


@pytest.mark.parametrize("pipeline", [HttpPipeline, AsyncHttpPipeline])
def test_names_are_given_once(pipeline: type) -> None:
    factory = TracingContextFactory(ClientOptions(), "Svc", "1.0")
    with pytest.raises(ValueError, match="once"):
        pipeline(ClientOptions(), "svc", tracing_factory=factory)
    with pytest.raises(ValueError, match="package_version"):
        pipeline(ClientOptions(), tracing_factory=TracingContextFactory(ClientOptions(), "S", None))
    with pytest.raises(TypeError, match="tracing_factory"):
        pipeline(ClientOptions(), tracing_factory="Svc")
    with pytest.raises(TypeError, match="package_name"):
        pipeline(ClientOptions())


def test_a_streamed_response_is_retried_and_the_last_one_read_with_await(
    server: LocalServer,
) -> None:
    busy = Reply(503, body=b"busy")
    url = server.script("/stream", busy, busy, Reply(200, body=b"x" * 100_000))
    options = ClientOptions()
    options.retry.retry_delay = 0.001

    async def main() -> Optional[bytes]:
        async with AsyncHttpPipeline(options, "svc", "1.0") as pipeline:
            response = await pipeline.send(Request("GET", url, stream=True))
            with pytest.raises(RuntimeError, match=r"await response\.read"):
                _ = response.body
            async with response:
                return await response.read()

    assert asyncio.run(main()) == b"x" * 100_000
    assert len(server.received) == 3
