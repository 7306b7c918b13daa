"""A public method called inside another's span makes no span of its own (by default): its
HTTP spans go under the outer method's span. Two clients, sync and async, on and off."""

from __future__ import annotations

import asyncio
from typing import Optional

import pytest

from azure_core_tracing import (
    ClientOptions,
    Context,
    SpanKind,
    TracingContextFactory,
    distributed_trace,
)
from azure_core_tracing.http import AsyncHttpPipeline, HttpPipeline, Request
from tests.local_server import LocalServer, Reply
from tests.recording import RecordedSpan, RecordingTracerProvider, recorded


def _options(suppress: bool) -> ClientOptions:
    options = ClientOptions()
    options.telemetry.suppress_nested_spans = suppress
    return options


class BlobClient:
    def __init__(self, base: str, suppress: bool = True) -> None:
        options = _options(suppress)
        self._tracing_factory = TracingContextFactory(
            options, "Contoso.Blobs", "1.0", package_name="contoso-blobs"
        )
        self._pipeline = HttpPipeline(options, tracing_factory=self._tracing_factory)
        self._async = AsyncHttpPipeline(options, tracing_factory=self._tracing_factory)
        self._base = base

    @distributed_trace
    def download(self, name: str, *, context: Optional[Context] = None) -> int:
        return self._pipeline.send(Request("GET", f"{self._base}/{name}"), context).status_code

    @distributed_trace
    async def download_async(self, name: str, *, context: Optional[Context] = None) -> int:
        response = await self._async.send(Request("GET", f"{self._base}/{name}"), context)
        return response.status_code


class ContainerClient:
    """Calls the blob client (another client) from inside its own traced methods."""

    def __init__(self, blobs: BlobClient, suppress: bool = True) -> None:
        self._tracing_factory = TracingContextFactory(
            _options(suppress), "Contoso.Containers", "1.0"
        )
        self._blobs = blobs

    @distributed_trace
    def download_all(self, names: list[str], *, context: Optional[Context] = None) -> list[int]:
        return [self._blobs.download(name, context=context) for name in names]

    @distributed_trace
    async def download_all_async(
        self, names: list[str], *, context: Optional[Context] = None
    ) -> list[int]:
        return [await self._blobs.download_async(name, context=context) for name in names]

    def run_async(self, names: list[str]) -> list[int]:
        async def run() -> list[int]:
            try:
                return await self.download_all_async(names)
            finally:
                await self._blobs._async.close()

        return asyncio.run(run())

    def download_all_with_create_span(self, names: list[str]) -> list[int]:
        with self._tracing_factory.create_span("ContainerClient.download_all") as scope:
            return [self._blobs.download(name, context=scope.context) for name in names]


def _named(recorder: RecordingTracerProvider, prefix: str) -> list[RecordedSpan]:
    return [span for span in recorder.finished if span.name.startswith(prefix)]


@pytest.fixture
def blobs(server: LocalServer) -> str:
    for name in ("a", "b"):
        server.script(f"/blobs/{name}", Reply(200))
    return server.url("/blobs")


@pytest.mark.parametrize("form", ["decorator", "create_span", "async"])
def test_the_inner_clients_spans_are_left_out_and_its_http_spans_nest_under_the_outer(
    blobs: str, app_recorder: RecordingTracerProvider, form: str
) -> None:
    container = ContainerClient(BlobClient(blobs))
    if form == "decorator":
        assert container.download_all(["a", "b"]) == [200, 200]
    elif form == "create_span":
        assert container.download_all_with_create_span(["a", "b"]) == [200, 200]
    else:
        assert container.run_async(["a", "b"]) == [200, 200]
    (outer,) = _named(app_recorder, "ContainerClient.download_all")
    assert _named(app_recorder, "BlobClient.") == []
    http = _named(app_recorder, "HTTP GET")
    assert len(http) == 2
    for span in http:
        assert span.parent is outer
        assert span.attributes["az.namespace"] == "Contoso.Blobs"  # the inner client's
        assert span.scope == "contoso-blobs"


@pytest.mark.parametrize("form", ["decorator", "async"])
def test_with_suppression_off_the_inner_client_has_its_own_spans(
    blobs: str, app_recorder: RecordingTracerProvider, form: str
) -> None:
    container = ContainerClient(BlobClient(blobs, suppress=False))
    if form == "decorator":
        container.download_all(["a", "b"])
    else:
        container.run_async(["a", "b"])
    (outer,) = _named(app_recorder, "ContainerClient.download_all")
    inner = _named(app_recorder, "BlobClient.download")
    assert len(inner) == 2 and all(span.parent is outer for span in inner)
    assert {span.parent for span in _named(app_recorder, "HTTP GET")} == set(inner)


def test_the_same_clients_nested_call_is_left_out_too(
    blobs: str, app_recorder: RecordingTracerProvider
) -> None:
    blob = BlobClient(blobs)
    with blob._tracing_factory.create_span("BlobClient.copy") as scope:
        blob.download("a", context=scope.context)
    assert [s.name for s in app_recorder.finished] == ["HTTP GET #0", "BlobClient.copy"]


@pytest.mark.parametrize("kind", [SpanKind.SERVER, SpanKind.CONSUMER])
def test_server_and_consumer_spans_are_never_suppressed_and_never_suppress(
    blobs: str, app_recorder: RecordingTracerProvider, kind: SpanKind
) -> None:
    blob = BlobClient(blobs)
    outer_ctx, outer = blob._tracing_factory.create_span("Outer", Context())
    with blob._tracing_factory.create_span("Handle", outer_ctx, kind=kind) as handling:
        blob.download("a", context=handling.context)
    outer.end()
    handle = recorded(handling.span)
    assert handle.parent is recorded(outer)  # made, though nested in an API span
    (download,) = _named(app_recorder, "BlobClient.download")
    assert download.parent is handle  # an API call while handling has its own span


def test_a_suppressed_call_still_propagates_the_outer_trace(
    app_recorder: RecordingTracerProvider,
) -> None:
    factory = TracingContextFactory(ClientOptions(), "Svc", "1.0")
    outer_ctx, outer = factory.create_span("Outer")
    inner_ctx, inner = factory.create_span("Inner", outer_ctx)
    assert not inner.is_recording
    headers: dict[str, str] = {}
    inner.propagate_to_http_headers(headers)
    assert headers == {"traceparent": recorded(outer).traceparent}
    assert TracingContextFactory.span_from_context(inner_ctx) is outer
    with pytest.raises(TypeError, match="attribute"):
        inner.add_attribute("", 1)  # still checks its arguments
