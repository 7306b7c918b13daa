"""The two pipelines put the same thing on the wire and read the same thing back, whatever a
server sends.

Servers are raw sockets on 127.0.0.1 (they can send anything); tracing is the real
OpenTelemetry SDK. ``Kind`` parametrizes a test over ``HttpPipeline`` and
``AsyncHttpPipeline``: a behaviour that differs between the two is a bug unless the README
says why.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Literal, Optional, Union

import pytest
from opentelemetry import context as otel_context
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from azure_core_tracing import ClientOptions, Context, SpanKind, TracingContextFactory
from azure_core_tracing.exceptions import ServiceResponseError
from azure_core_tracing.http import (
    AsyncHttpPipeline,
    HttpPipeline,
    NextPolicy,
    RawResponse,
    Request,
    RequestsTransport,
    SansIOHttpPolicy,
    TransportError,
)
from azure_core_tracing_opentelemetry import OpenTelemetryProvider, W3CTraceContextPropagator
from tests.local_server import RawServer

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]
OK_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@pytest.fixture
def raw_server() -> Iterator[list[RawServer]]:
    """Servers a test makes; closed afterwards."""
    made: list[RawServer] = []
    yield made
    for server in made:
        server.close()


def _server(
    made: list[RawServer], reply: bytes, *, trickle: bytes = b"", hold: bool = False
) -> RawServer:
    server = RawServer(reply, trickle=trickle, hold=hold)
    made.append(server)
    return server


def _options(
    provider: Optional[TracerProvider] = None, retries: int = 0, delay: float = 0.001
) -> ClientOptions:
    options = ClientOptions()
    options.retry.max_retries = retries
    options.retry.retry_delay = delay
    options.retry.max_retry_delay = delay
    if provider is not None:
        options.telemetry.tracing_provider = OpenTelemetryProvider.create(provider)
    return options


def _send(
    kind: Kind,
    request: Request,
    options: Optional[ClientOptions] = None,
    context: Optional[Context] = None,
    **pipeline_args: object,
) -> RawResponse:
    """Send ``request`` once through a fresh pipeline of ``kind``; the response, body read."""
    options = options or _options()
    if kind == "sync":
        with HttpPipeline(options, "azure-test", "1.0", **pipeline_args) as pipeline:  # type: ignore[arg-type]
            response = pipeline.send(request, context)
            _ = response.body
            return response

    async def main() -> RawResponse:
        async with AsyncHttpPipeline(options, "azure-test", "1.0", **pipeline_args) as pipeline:  # type: ignore[arg-type]
            response = await pipeline.send(request, context)
            await response.read()
            return response

    return asyncio.run(main())


def _outcome(
    kind: Kind, request: Request, context: Optional[Context] = None
) -> Union[int, type[BaseException]]:
    """The status code, or the type of what the send raised."""
    try:
        return _send(kind, request, context=context).status_code
    except Exception as error:
        return type(error)


# ---------------------------------------------------------------------------------------
# What a server sends back: read alike by both pipelines, traced or not.


def test_a_non_utf8_service_request_id_does_not_break_a_traced_async_call(
    raw_server: list[RawServer],
) -> None:
    """A response header that is not UTF-8 (``x-ms-request-id: \\xff\\xfe``) never makes a
    traced call fail where the untraced one succeeds. aiohttp decodes header bytes as UTF-8
    with surrogateescape, so the value reaches ``RequestActivityPolicy.finish`` as
    ``'\\udcff...'``, which no span attribute may hold; the traced async call still returns
    the status and body the untraced one does, and the response (and, when streamed, its
    connection) is not lost."""
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-ms-request-id: \xff\xfe\r\n"
        b"Connection: close\r\n\r\nok"
    )
    server = _server(raw_server, reply)
    untraced = _send("async", Request("GET", server.url()))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced = _send("async", Request("GET", server.url()), _options(provider))
    assert (traced.status_code, traced.body) == (untraced.status_code, untraced.body)


def test_both_pipelines_read_non_ascii_response_header_values_alike(
    raw_server: list[RawServer],
) -> None:
    """Both pipelines read a non-ASCII response header value, and the reason phrase, alike,
    though http.client (under ``RequestsTransport``) decodes header bytes as Latin-1
    (``cafÃ©``) and aiohttp as UTF-8 (``café``, lone surrogates for invalid bytes)."""
    reply = (
        b"HTTP/1.1 200 Caf\xc3\xa9\r\nContent-Length: 2\r\nx-ms-meta-name: caf\xc3\xa9\r\n"
        b"Connection: close\r\n\r\nok"
    )
    server = _server(raw_server, reply)
    seen = {
        kind: (response.reason, response.headers["x-ms-meta-name"])
        for kind in KINDS
        for response in [_send(kind, Request("GET", server.url()))]
    }
    assert seen["sync"] == seen["async"], seen


# ---------------------------------------------------------------------------------------
# What each pipeline puts on the wire for the same Request.


@pytest.mark.parametrize("body", [b"abc", "abc", None], ids=["bytes", "str", "none"])
def test_both_pipelines_send_the_same_headers_for_a_post(
    raw_server: list[RawServer], body: Optional[Union[bytes, str]]
) -> None:
    """Both pipelines send the same ``Content-Type`` and ``Content-Length`` for a POST,
    whatever its body. Left to itself aiohttp adds
    ``Content-Type: application/octet-stream`` to every POST the caller gave no Content-Type
    (even with no body) and requests adds none; a Shared Key signature computed over an
    empty Content-Type (Azure Storage) would then not match on the async client."""
    server = _server(raw_server, OK_REPLY)
    for kind in KINDS:
        _send(kind, Request("POST", server.url(), body=body))
    sync_headers, async_headers = server.request_headers(0), server.request_headers(1)
    assert sync_headers.get("content-type") == async_headers.get("content-type")
    assert sync_headers.get("content-length") == async_headers.get("content-length")


def test_a_seekable_file_body_is_sent_with_a_content_length_by_both_pipelines(
    raw_server: list[RawServer],
) -> None:
    """A seekable file body (a ``BytesIO``, its length known) goes out with
    ``Content-Length: 3`` from both pipelines, never ``Transfer-Encoding: chunked``, which
    aiohttp makes of any body it reads as an async generator. Services that refuse chunked
    uploads (Azure Blob Put Blob requires Content-Length) would otherwise fail only on the
    async client."""
    server = _server(raw_server, OK_REPLY)
    for kind in KINDS:
        _send(kind, Request("PUT", server.url(), body=io.BytesIO(b"abc")))
    framing = [
        (headers.get("content-length"), headers.get("transfer-encoding"))
        for headers in (server.request_headers(0), server.request_headers(1))
    ]
    assert framing == [("3", None), ("3", None)], framing


def test_no_proxy_cidr_is_honoured_by_both_pipelines(
    raw_server: list[RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``NO_PROXY=127.0.0.0/8`` both pipelines connect directly, as requests does;
    aiohttp's own ``trust_env`` (urllib's ``proxy_bypass``) knows no CIDR and would send the
    request, headers and all, to ``HTTP_PROXY``. NO_PROXY CIDRs are common (10.0.0.0/8,
    169.254.0.0/16)."""
    origin = _server(raw_server, OK_REPLY)
    proxy = _server(
        raw_server, b"HTTP/1.1 299 Proxy\r\nContent-Length: 2\r\nConnection: close\r\n\r\npx"
    )
    monkeypatch.setenv("HTTP_PROXY", proxy.url("").rstrip("/"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.0/8")
    statuses = {kind: _send(kind, Request("GET", origin.url())).status_code for kind in KINDS}
    assert statuses == {"sync": 200, "async": 200}
    assert proxy.received == []


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_an_unknown_content_encoding_is_returned_as_is_by_both_pipelines(
    raw_server: list[RawServer], coding: str
) -> None:
    """A response body in a content coding the client cannot decode is returned as it is by
    both pipelines, as requests returns it; aiohttp raises for it, which would make the
    async pipeline raise ``TransportError`` (and retry it). Azure Blob Storage returns a
    blob's stored Content-Encoding on GET."""
    reply = (
        f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: 5\r\n"
        "Connection: close\r\n\r\nhello"
    ).encode()
    server = _server(raw_server, reply)
    outcomes = {kind: _outcome(kind, Request("GET", server.url())) for kind in KINDS}
    assert outcomes == {"sync": 200, "async": 200}, outcomes


def test_an_interim_103_response_is_the_async_response_and_never_poisons_a_sync_pool(
    raw_server: list[RawServer],
) -> None:
    """http.client skips only ``100 Continue``: ``RequestsTransport`` returns an interim
    ``103 Early Hints`` as the response, as requests does (the README says so), while aiohttp
    skips it. What must not happen is the real ``200``, left unread on the connection, being
    read as the answer to the next request: the sync transport drops that connection.

    The server holds every connection open (it answers one request on each), so a reused
    connection shows as a read timeout, whatever the timing of the server's close."""
    reply = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    server = _server(raw_server, reply, hold=True)
    response = _send("async", Request("GET", server.url()))
    assert (response.status_code, response.body) == (200, b"ok")
    transport = RequestsTransport(read_timeout=2)
    with HttpPipeline(_options(), "azure-test", "1.0", transport=transport) as pipeline:
        first = pipeline.send(Request("GET", server.url("/first")))
        second = pipeline.send(Request("GET", server.url("/second")))
    assert first.status_code == 103
    assert (second.status_code, second.body) == (103, b"")  # its own answer, not the 200 left
    assert len(server.received) == 3  # each sync request had a connection of its own


# ---------------------------------------------------------------------------------------
# A broken or endless response: the same TransportError type on both pipelines, deadline or
# not, and a deadline that holds.


@pytest.mark.parametrize("deadline", [False, True], ids=["no-deadline", "deadline"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n"
        b"Connection: close\r\n\r\nhello",
    ],
    ids=["body-cut-short", "corrupt-gzip"],
)
def test_a_broken_response_body_is_the_same_error_type_everywhere(
    raw_server: list[RawServer], kind: Kind, deadline: bool, reply: bytes
) -> None:
    """A body cut short and a body that cannot be decoded are each a ``ServiceResponseError``
    (the request was sent, then reading failed), on both pipelines, deadline or not
    (requests says ``ChunkedEncodingError``/``ContentDecodingError``, urllib3
    ``ProtocolError``/``DecodeError``, aiohttp ``ClientPayloadError``)."""
    expected = ServiceResponseError
    server = _server(raw_server, reply)
    context = (
        Context().with_deadline(datetime.now(timezone.utc) + timedelta(seconds=30))
        if deadline
        else None
    )
    assert _outcome(kind, Request("GET", server.url()), context) is expected


@pytest.mark.parametrize("kind", KINDS)
def test_a_deadline_bounds_reading_a_streamed_body_in_both_pipelines(
    raw_server: list[RawServer], kind: Kind
) -> None:
    """A deadline bounds iterating a streamed body in both pipelines: a server trickling a
    byte every 50 ms cannot hold ``iter_bytes()`` long past a 0.5 s deadline. The sync
    pipeline checks the deadline between reads of the body (the README says so); the async
    pipeline's total timeout ends it at the deadline."""
    server = _server(
        raw_server, b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", trickle=b"x"
    )
    outcome: list[object] = []

    def read() -> None:
        context = Context().with_deadline(datetime.now(timezone.utc) + timedelta(seconds=0.5))
        request = Request("GET", server.url(), stream=True)
        try:
            if kind == "sync":
                with HttpPipeline(_options(), "azure-test", "1.0") as pipeline:
                    response = pipeline.send(request, context)
                    outcome.append(sum(len(chunk) for chunk in response.iter_bytes()))
                return

            async def main() -> int:
                async with AsyncHttpPipeline(_options(), "azure-test", "1.0") as pipeline:
                    response = await pipeline.send(request, context)
                    return sum([len(chunk) async for chunk in response.aiter_bytes()])

            outcome.append(asyncio.run(main()))
        except Exception as error:
            outcome.append(type(error))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(15)
    still_reading = reader.is_alive()
    server.close()
    reader.join(5)
    assert not still_reading, "iterating a streamed body ran 15 s past a 0.5 s deadline"


def test_the_redacted_cause_of_an_aiohttp_response_error_has_a_working_repr(
    raw_server: list[RawServer],
) -> None:
    """The redacted copy of aiohttp's ``ClientResponseError`` kept as a ``TransportError``'s
    ``__cause__`` has a working ``repr`` that repeats no secret. aiohttp raises it for a
    malformed response (it is also the base of ``ClientHttpProxyError``, a proxy's 407), and
    its ``__repr__`` reads ``self.request_info``: a copy without it would raise
    ``AttributeError`` in a logging ``%r``, a debugger or an error reporter."""
    server = _server(raw_server, b"garbage\r\n\r\n")
    with pytest.raises(TransportError) as raised:
        _send("async", Request("GET", server.url() + "?sig=SECRET"))
    cause = raised.value.__cause__
    assert cause is not None
    assert "SECRET" not in repr(cause)


# ---------------------------------------------------------------------------------------
# A Request host: accepted only if both transports read it alike.


@pytest.mark.parametrize(
    "host",
    ["\u2603.invalid", "\u2168.invalid", "\uff45\uff58.invalid", "xn--zz.invalid", "1.2.3.256"],
    ids=["snowman", "roman-numeral", "fullwidth", "bad-punycode", "octet-256"],
)
def test_a_host_request_accepts_is_read_alike_by_both_transports(host: str) -> None:
    """A host ``Request`` accepts is read alike by both transports (the README: "a host
    every transport reads alike"): either ``Request`` refuses it with ``ValueError``, or
    both pipelines fail the same way. requests refuses some of these hosts as ``InvalidURL``
    and aiohttp/yarl others as ``InvalidUrlClientError``/``UnicodeError``; accepted and left
    to them, that would be a plain ``TransportError`` on one pipeline and a DNS
    ``TransportConnectionError`` on the other, each retried 3 times with back-off by
    default."""
    url = f"http://{host}/x"
    try:
        Request("GET", url)
    except ValueError:
        return
    outcomes = {kind: _outcome(kind, Request("GET", url)) for kind in KINDS}
    assert outcomes["sync"] is outcomes["async"], outcomes


# ---------------------------------------------------------------------------------------
# Policies, hooks and sleeps of the wrong kind: refused, naming what is wrong.


class _AsyncHooks(SansIOHttpPolicy):
    """azure-core's idiom for an async pipeline: coroutine hooks on a sans-I/O policy."""

    async def on_response(  # type: ignore[override]
        self, request: Request, response: RawResponse, context: Context
    ) -> None:
        raise AssertionError("never awaited, so never run")


@pytest.mark.parametrize("pipeline_type", [HttpPipeline, AsyncHttpPipeline])
def test_coroutine_hooks_on_a_sans_io_policy_are_refused_when_the_pipeline_is_built(
    pipeline_type: type[Union[HttpPipeline, AsyncHttpPipeline]],
) -> None:
    """A sans-I/O policy with coroutine hooks is a ``TypeError`` naming the policy when the
    pipeline is built. Accepted, its ``on_response`` coroutine would be created and dropped
    on every response ("coroutine was never awaited"), so the hook would silently never run
    (and an ``async def on_request`` would break every call with an ``AttributeError`` on a
    coroutine)."""
    with pytest.raises(TypeError, match="_AsyncHooks"):
        pipeline_type(ClientOptions(), "azure-test", "1.0", per_call_policies=[_AsyncHooks()])


def test_coroutine_hooks_are_refused_wherever_the_policy_is_linked() -> None:
    """The check sits where a sans-I/O policy is linked, so a policy chained by hand (not
    through a pipeline's policy lists) is refused too."""

    class _Last(NextPolicy):
        def send(self, request: Request, context: Context) -> RawResponse:
            return RawResponse(200)

    with pytest.raises(TypeError, match="_AsyncHooks"):
        _AsyncHooks().chain(_Last())


class _ReturnsRequest(SansIOHttpPolicy):
    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        request.headers["x-extra"] = "1"
        return request  # type: ignore[return-value]  # the mistake under test


@pytest.mark.parametrize("kind", KINDS)
def test_on_request_returning_a_non_context_is_a_type_error_naming_the_policy(
    raw_server: list[RawServer], kind: Kind
) -> None:
    """An ``on_request`` that returns something other than a ``Context`` or None is a
    ``TypeError`` naming the policy or the hook, on both pipelines. Passed down as the
    context, it would make the retry policy fail with
    ``AttributeError: 'Request' object has no attribute 'throw_if_cancelled'``, naming
    neither."""
    server = _server(raw_server, OK_REPLY)
    with pytest.raises(TypeError, match=r"_ReturnsRequest|on_request"):
        _send(kind, Request("GET", server.url()), per_call_policies=[_ReturnsRequest()])


def test_the_sync_pipeline_refuses_a_coroutine_sleep() -> None:
    """``HttpPipeline(sleep=asyncio.sleep)`` is a ``TypeError`` naming ``sleep``: ``sleep``
    is checked for the pipeline's kind. Accepted, every back-off would call it, drop the
    coroutine and retry at once: 4 tries in milliseconds against a server asking to slow
    down (and a RuntimeWarning per try)."""
    with pytest.raises(TypeError, match="sleep"):
        HttpPipeline(ClientOptions(), "azure-test", "1.0", sleep=asyncio.sleep)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Trace context on the wire.


def test_a_valid_tracestate_over_8_kib_is_passed_on_by_the_pipeline(
    raw_server: list[RawServer],
) -> None:
    """A valid Level 2 ``tracestate`` over 8 KiB is passed on whole by the pipeline (the
    README: it "is passed on whole"). It may hold 32 members of 513 characters (16,447 with
    commas), past ``MAX_PROPAGATED_VALUE_BYTES`` (8,192), the limit of every other
    propagated value; here 17 such members. The spec allows truncating whole entries, never
    dropping the header."""
    server = _server(raw_server, OK_REPLY)
    options = _options(TracerProvider())
    factory = TracingContextFactory(options, "Test.Service", "1.0", package_name="azure-test")
    propagator = W3CTraceContextPropagator()
    state = ",".join(f"k{n:02d}{'k' * 250}={'v' * 256}" for n in range(17))
    incoming = propagator.extract(
        {
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "tracestate": state,
        }
    )
    previous = get_global_textmap()
    set_global_textmap(propagator)
    token = otel_context.attach(incoming)
    try:
        pipeline = HttpPipeline(options, tracing_factory=factory)
        with pipeline, factory.create_span("POST /in", kind=SpanKind.SERVER) as scope:
            pipeline.send(Request("GET", server.url()), scope.context)
    finally:
        otel_context.detach(token)
        set_global_textmap(previous)
    assert server.request_headers().get("tracestate") == state


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_that_carries_a_traceparent_is_sent_with_its_try_span(
    raw_server: list[RawServer], kind: Kind
) -> None:
    """A ``Request`` that already carries a ``traceparent`` (a gateway that forwards the
    incoming headers) is sent with its try span's own, on both pipelines, so the server's
    parent is the CLIENT span that made the call and the trace goes on at this hop. The
    README's pipeline section says propagation may "add or update" trace headers."""
    server = _server(raw_server, OK_REPLY)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stale = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    _send(kind, Request("GET", server.url(), {"traceparent": stale}), _options(provider))
    (span,) = exporter.get_finished_spans()
    sent = server.request_headers()["traceparent"]
    assert sent == f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{sent[-2:]}"
