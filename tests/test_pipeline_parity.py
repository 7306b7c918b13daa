"""The two pipelines put the same thing on the wire and read the same thing back, whatever a
server sends (from a review of issues 9 and 10; each test failed on f7de319).

Servers are raw sockets on 127.0.0.1 (they can send anything); tracing is the real
OpenTelemetry SDK. ``Kind`` parametrizes a test over ``HttpPipeline`` and
``AsyncHttpPipeline``: a behaviour that differs between the two is a bug unless the README
says why.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal, Optional, Union
from urllib.parse import urlsplit

import pytest
from opentelemetry import context as otel_context
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from azure_core_tracing import ClientOptions, Context, SpanKind, TracingContextFactory
from azure_core_tracing.http import (
    AsyncHttpPipeline,
    HttpPipeline,
    NextPolicy,
    RawResponse,
    Request,
    RequestsTransport,
    SansIOHttpPolicy,
    TransportConnectionError,
    TransportError,
)
from azure_core_tracing_opentelemetry import OpenTelemetryProvider, W3CTraceContextPropagator
from tests.local_server import LocalServer, RawServer, Reply

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]
ROOT = Path(__file__).resolve().parent.parent
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
        with HttpPipeline(options, "review", "1.0", **pipeline_args) as pipeline:  # type: ignore[arg-type]
            response = pipeline.send(request, context)
            _ = response.body
            return response

    async def main() -> RawResponse:
        async with AsyncHttpPipeline(options, "review", "1.0", **pipeline_args) as pipeline:  # type: ignore[arg-type]
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
# Issue 9 / promise 1: server input makes a traced async call fail where untraced succeeds.


def test_a_non_utf8_service_request_id_does_not_break_a_traced_async_call(
    raw_server: list[RawServer],
) -> None:
    """Fails: aiohttp decodes header bytes as UTF-8 with surrogateescape, so
    ``x-ms-request-id: \\xff`` becomes ``'\\udcff'``; ``RequestActivityPolicy.finish`` hands it
    to ``GuardedSpan.add_attributes``, whose ``check_attributes`` raises ``ValueError``
    outside the guard. Untraced the call returns 200; traced it raises, and the response
    (and, when streamed, its connection) is lost."""
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
    """Fails: ``RequestsTransport`` (http.client) decodes header bytes as Latin-1
    (``cafÃ©``), ``AioHttpTransport`` as UTF-8 (``café``, lone surrogates for invalid
    bytes); the README says nothing of it. Same for the reason phrase."""
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
# Issue 9: what each pipeline puts on the wire for the same Request.


@pytest.mark.parametrize("body", [b"abc", "abc", None], ids=["bytes", "str", "none"])
def test_both_pipelines_send_the_same_headers_for_a_post(
    raw_server: list[RawServer], body: Optional[Union[bytes, str]]
) -> None:
    """Fails: aiohttp adds ``Content-Type: application/octet-stream`` to every POST the
    caller gave no Content-Type (even with no body); requests adds none. A Shared Key
    signature computed over an empty Content-Type (Azure Storage) no longer matches."""
    server = _server(raw_server, OK_REPLY)
    for kind in KINDS:
        _send(kind, Request("POST", server.url(), body=body))
    sync_headers, async_headers = server.request_headers(0), server.request_headers(1)
    assert sync_headers.get("content-type") == async_headers.get("content-type")
    assert sync_headers.get("content-length") == async_headers.get("content-length")


def test_a_seekable_file_body_is_sent_with_a_content_length_by_both_pipelines(
    raw_server: list[RawServer],
) -> None:
    """Fails: ``AioHttpTransport`` turns every file-like body into an async generator, so a
    ``BytesIO`` (length known) goes out ``Transfer-Encoding: chunked``; requests sends
    ``Content-Length: 3``. Services that refuse chunked uploads (Azure Blob Put Blob
    requires Content-Length) fail only on the async client."""
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
    """Fails: with ``NO_PROXY=127.0.0.0/8`` requests connects directly, while aiohttp's
    ``trust_env`` (urllib's ``proxy_bypass``) knows no CIDR and sends the request, headers
    and all, to ``HTTP_PROXY``. NO_PROXY CIDRs are common (10.0.0.0/8, 169.254.0.0/16)."""
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
    """Fails: requests returns the body of a response with a content coding it cannot
    decode as it is; aiohttp raises, so the async pipeline raises ``TransportError`` (and
    retries it). Azure Blob Storage returns a blob's stored Content-Encoding on GET."""
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
    with HttpPipeline(_options(), "review", "1.0", transport=transport) as pipeline:
        first = pipeline.send(Request("GET", server.url("/first")))
        second = pipeline.send(Request("GET", server.url("/second")))
    assert first.status_code == 103
    assert (second.status_code, second.body) == (103, b"")  # its own answer, not the 200 left
    assert len(server.received) == 3  # each sync request had a connection of its own


# ---------------------------------------------------------------------------------------
# Issue 9: the same failure gets a different TransportError type by pipeline and by whether
# a deadline is set.


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
    expected = TransportError if b"gzip" in reply else TransportConnectionError
    """A body cut short is a lost connection (``TransportConnectionError``) and a body that
    cannot be decoded is a plain ``TransportError``, on both pipelines, deadline or not
    (requests says ``ChunkedEncodingError``/``ContentDecodingError``, urllib3
    ``ProtocolError``/``DecodeError``, aiohttp ``ClientPayloadError``)."""
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
    """Fails for sync: with ``stream=True`` ``RequestsTransport`` hands back
    ``iter_content`` with no deadline check, so a server trickling a byte every 50 ms holds
    ``iter_bytes()`` long past a 0.5 s deadline (forever, here); the async pipeline's total
    timeout ends it at the deadline. The README says the sync pipeline checks the deadline
    between reads of the body."""
    server = _server(
        raw_server, b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", trickle=b"x"
    )
    outcome: list[object] = []

    def read() -> None:
        context = Context().with_deadline(datetime.now(timezone.utc) + timedelta(seconds=0.5))
        request = Request("GET", server.url(), stream=True)
        try:
            if kind == "sync":
                with HttpPipeline(_options(), "review", "1.0") as pipeline:
                    response = pipeline.send(request, context)
                    outcome.append(sum(len(chunk) for chunk in response.iter_bytes()))
                return

            async def main() -> int:
                async with AsyncHttpPipeline(_options(), "review", "1.0") as pipeline:
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


# ---------------------------------------------------------------------------------------
# Promise 3 / issue 9: a Request host that a transport refuses as an invalid URL.


@pytest.mark.parametrize(
    "host",
    ["\u2603.invalid", "\u2168.invalid", "\uff45\uff58.invalid", "xn--zz.invalid", "1.2.3.256"],
    ids=["snowman", "roman-numeral", "fullwidth", "bad-punycode", "octet-256"],
)
def test_a_host_request_accepts_is_read_alike_by_both_transports(host: str) -> None:
    """Fails: ``Request`` accepts these hosts (the README: "a host every transport reads
    alike"), then requests refuses some as ``InvalidURL`` and aiohttp/yarl others as
    ``InvalidUrlClientError``/``UnicodeError``: a plain ``TransportError`` on one pipeline,
    a DNS ``TransportConnectionError`` on the other, and by default each is retried 3 times
    with back-off. Either ``Request`` refuses the host with ``ValueError`` or both
    pipelines fail the same way."""
    url = f"http://{host}/x"
    try:
        Request("GET", url)
    except ValueError:
        return
    outcomes = {kind: _outcome(kind, Request("GET", url)) for kind in KINDS}
    assert outcomes["sync"] is outcomes["async"], outcomes


# ---------------------------------------------------------------------------------------
# Promise 3 / issue 9: policies and hooks of the wrong kind are accepted, then misbehave.


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
    """Fails: the pipeline accepts the policy; its ``on_response`` coroutine is created and
    dropped on every response ("coroutine was never awaited"), so the hook silently never
    runs (an ``async def on_request`` instead breaks every call with an ``AttributeError``
    on a coroutine). A ``TypeError`` naming the policy belongs at construction."""
    with pytest.raises(TypeError, match="_AsyncHooks"):
        pipeline_type(ClientOptions(), "review", "1.0", per_call_policies=[_AsyncHooks()])


class _ReturnsRequest(SansIOHttpPolicy):
    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        request.headers["x-extra"] = "1"
        return request  # type: ignore[return-value]  # the mistake under test


@pytest.mark.parametrize("kind", KINDS)
def test_on_request_returning_a_non_context_is_a_type_error_naming_the_policy(
    raw_server: list[RawServer], kind: Kind
) -> None:
    """Fails: ``_SansIOLink`` passes whatever ``on_request`` returned down as the context;
    as a per-call policy the retry policy then fails with ``AttributeError: 'Request'
    object has no attribute 'throw_if_cancelled'``, naming neither the policy nor the hook."""
    server = _server(raw_server, OK_REPLY)
    with pytest.raises(TypeError, match=r"_ReturnsRequest|on_request"):
        _send(kind, Request("GET", server.url()), per_call_policies=[_ReturnsRequest()])


def test_the_sync_pipeline_refuses_a_coroutine_sleep() -> None:
    """Fails: ``HttpPipeline(sleep=asyncio.sleep)`` is accepted; every back-off then calls
    it, drops the coroutine and retries at once: 4 tries in milliseconds against a server
    asking to slow down (and a RuntimeWarning per try). ``sleep`` is not checked for the
    pipeline's kind."""
    with pytest.raises(TypeError, match="sleep"):
        HttpPipeline(ClientOptions(), "review", "1.0", sleep=asyncio.sleep)  # type: ignore[arg-type]


def test_the_redacted_cause_of_an_aiohttp_response_error_has_a_working_repr(
    raw_server: list[RawServer],
) -> None:
    """Fails: for a malformed response aiohttp raises ``ClientResponseError`` (also the base
    of ``ClientHttpProxyError``, a proxy's 407); ``_redacted_copy`` builds the copy with
    ``cls.__new__`` and a subclass whose ``__str__`` is fixed, but aiohttp's ``__repr__``
    reads ``self.request_info``, which the copy lacks: ``repr(error.__cause__)`` raises
    ``AttributeError`` (in a logging ``%r``, a debugger, an error reporter)."""
    server = _server(raw_server, b"garbage\r\n\r\n")
    with pytest.raises(TransportError) as raised:
        _send("async", Request("GET", server.url() + "?sig=SECRET"))
    cause = raised.value.__cause__
    assert cause is not None
    assert "SECRET" not in repr(cause)


# ---------------------------------------------------------------------------------------
# Issue 10: propagation.


def test_a_valid_tracestate_over_8_kib_is_passed_on_by_the_pipeline(
    raw_server: list[RawServer],
) -> None:
    """Fails: a Level 2 ``tracestate`` may hold 32 members of 513 characters (16,447 with
    commas); the README says it "is passed on whole". The guard drops any propagated value
    over ``MAX_PROPAGATED_VALUE_BYTES`` (8,192), so from 17 such members on the outgoing
    request carries no ``tracestate`` at all, and the WARNING says the call "goes on
    untraced". The spec allows truncating whole entries, never dropping the header."""
    server = _server(raw_server, OK_REPLY)
    options = _options(TracerProvider())
    factory = TracingContextFactory(options, "Review", "1.0", package_name="review")
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
    """Fails: an outgoing ``Request`` that already has a ``traceparent`` (a gateway that
    forwards the incoming headers) is sent with that stale value; the guard drops the try
    span's own header ("which the request already has") and logs that the call goes on
    untraced, though its CLIENT span was recorded. The server's parent is then not the span
    that made the call, and the trace is broken at this hop. The README's pipeline section
    says propagation may "add or update" trace headers."""
    server = _server(raw_server, OK_REPLY)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    stale = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    _send(kind, Request("GET", server.url(), {"traceparent": stale}), _options(provider))
    (span,) = exporter.get_finished_spans()
    sent = server.request_headers()["traceparent"]
    assert sent == f"00-{span.context.trace_id:032x}-{span.context.span_id:016x}-{sent[-2:]}"


@pytest.fixture(scope="module")
def w3c_service_url() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "samples/w3c_test_service.py", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("arguments", [{}, 0, "", False], ids=["object", "zero", "str", "false"])
def test_the_w3c_test_service_posts_each_elements_arguments_as_given(
    w3c_service_url: str, arguments: object
) -> None:
    """Fails: ``_actions`` takes ``element.get("arguments") or []``, so any falsy JSON
    value (``{}``, ``0``, ``""``, ``false``) is POSTed as ``[]``; issue 10 says the service
    POSTs ``arguments`` as JSON to ``url``."""
    with LocalServer() as callback:
        url = callback.script("/cb", Reply(200, body=b"null"))
        parts = urlsplit(w3c_service_url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        body = json.dumps([{"url": url, "arguments": arguments}]).encode()
        try:
            connection.request("POST", parts.path, body, {"Content-Type": "application/json"})
            assert connection.getresponse().status == 200
        finally:
            connection.close()
        deadline = time.monotonic() + 10
        while not callback.received and time.monotonic() < deadline:
            time.sleep(0.01)
        (received,) = callback.received
        assert json.loads(received.body) == arguments


def test_coroutine_hooks_are_refused_wherever_the_policy_is_linked() -> None:
    """The check sits where a sans-I/O policy is linked, so a policy chained by hand (not
    through a pipeline's policy lists) is refused too."""

    class _Last(NextPolicy):
        def send(self, request: Request, context: Context) -> RawResponse:
            return RawResponse(200)

    with pytest.raises(TypeError, match="_AsyncHooks"):
        _AsyncHooks().chain(_Last())
