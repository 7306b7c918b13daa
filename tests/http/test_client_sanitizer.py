"""One sanitizer per client: what a client's ``LogOptions`` allow decides what its spans, its
log lines, its transport errors (message, ``repr``, ``args``, cause and traceback) and
urllib3's lines during its calls show, over both pipelines, for every kind of transport
failure, also when clients share one transport; a transport used without a pipeline, and
urllib3 outside any call, use the default allow-lists.

Servers are real, on 127.0.0.1; tracing is the real OpenTelemetry SDK's in-memory exporter.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional, Union

import pytest
import requests
import urllib3.exceptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from azure_core_tracing import ClientOptions, Context, LogOptions, TracingContextFactory
from azure_core_tracing.allowed_names import (
    DEFAULT_ALLOWED_HEADERS,
    DEFAULT_ALLOWED_QUERY_PARAMETERS,
)
from azure_core_tracing.http import (
    AioHttpTransport,
    AsyncHttpPipeline,
    HttpPipeline,
    HttpSanitizer,
    Request,
    RequestsTransport,
    TransportError,
)
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from tests.local_server import (
    LocalServer,
    RawServer,
    Reply,
    refused_url,
    self_signed_certificate,
    tls_server_context,
)
from tests.support import EveryRecord, every_record_at_debug, exception_texts

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]

SECRET = "Zq7SECRET"
COMP = "COMPvalueZq7"
VERSION = "VERSIONvalueZq7"
WIDGET = "WIDGETvalueZq7"
CONTENT_TYPE = "application/zq7-kind"
QUERY = f"?comp={COMP}&api-version={VERSION}&sig={SECRET}"
HEADERS = {"X-Widget": WIDGET, "Content-Type": CONTENT_TYPE, "Authorization": f"Bearer {SECRET}"}


@dataclass(frozen=True)
class Rules:
    """A client's allow-lists, and which of the values above its outputs show or hide."""

    name: str
    query: frozenset[str]
    headers: frozenset[str]
    shown: tuple[str, ...]
    hidden: tuple[str, ...]

    def options(self, provider: Optional[OpenTelemetryProvider] = None) -> ClientOptions:
        options = ClientOptions(
            log=LogOptions(
                allowed_headers=set(self.headers), allowed_query_parameters=set(self.query)
            )
        )
        options.retry.max_retries = 0
        options.telemetry.tracing_provider = provider
        return options

    def sanitized(self, url: str) -> str:
        return HttpSanitizer(self.query, self.headers).sanitize_url(url)


WIDER = Rules(
    "wider",
    DEFAULT_ALLOWED_QUERY_PARAMETERS | {"comp"},
    DEFAULT_ALLOWED_HEADERS | {"x-widget"},
    shown=(COMP, VERSION, WIDGET, CONTENT_TYPE),
    hidden=(SECRET,),
)
# api-version and Content-Type are allowed by default; this client removes them.
NARROWER = Rules(
    "narrower",
    frozenset(),
    DEFAULT_ALLOWED_HEADERS - {"content-type"},
    shown=(),
    hidden=(SECRET, COMP, VERSION, WIDGET, CONTENT_TYPE),
)
DEFAULTS = Rules(
    "defaults",
    DEFAULT_ALLOWED_QUERY_PARAMETERS,
    DEFAULT_ALLOWED_HEADERS,
    shown=(VERSION, CONTENT_TYPE),
    hidden=(SECRET, COMP, WIDGET),
)
CLIENTS = [WIDER, NARROWER]


@pytest.fixture
def everything() -> Iterator[EveryRecord]:
    """Every record of every logger, at DEBUG, formatted with its traceback."""
    with every_record_at_debug() as handler:
        yield handler


@dataclass
class Otel:
    sdk: SdkTracerProvider
    exporter: InMemorySpanExporter
    provider: OpenTelemetryProvider

    def texts(self) -> list[str]:
        texts: list[str] = []
        for span in self.exporter.get_finished_spans():
            texts += [span.name, repr(dict(span.attributes or {}))]
            texts += [span.status.description or ""]
            texts += [repr(dict(event.attributes or {})) for event in span.events]
        return texts

    def url_of_try(self) -> str:
        (span,) = [s for s in self.exporter.get_finished_spans() if s.name == "HTTP GET #0"]
        return str((span.attributes or {})["http.url"])

    def exception_messages(self) -> list[str]:
        return [
            str((event.attributes or {})["exception.message"])
            for span in self.exporter.get_finished_spans()
            for event in span.events
            if event.name == "exception"
        ]


@pytest.fixture
def otel() -> Iterator[Otel]:
    exporter = InMemorySpanExporter()
    sdk = SdkTracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    yield Otel(sdk, exporter, OpenTelemetryProvider.create(sdk))
    sdk.shutdown()


def _send_sync(pipeline: HttpPipeline, factory: TracingContextFactory, request: Request) -> None:
    with factory.create_span("Client.call") as scope:
        assert pipeline.send(request, scope.context).body is not None  # a stream is read


async def _send_async(
    pipeline: AsyncHttpPipeline, factory: TracingContextFactory, request: Request
) -> None:
    with factory.create_span("Client.call") as scope:
        response = await pipeline.send(request, scope.context)
        await response.read()


def _raised(kind: Kind, options: ClientOptions, request: Request) -> TransportError:
    """What one traced call of a client with ``options`` raises, on its own new transport."""
    factory = TracingContextFactory(options, "Client", "1.0", package_name="client")
    try:
        if kind == "sync":
            with HttpPipeline(
                options, tracing_factory=factory, transport=RequestsTransport(read_timeout=0.3)
            ) as pipeline:
                _send_sync(pipeline, factory, request)
        else:

            async def run() -> None:
                transport = AioHttpTransport(read_timeout=0.3)
                async with AsyncHttpPipeline(
                    options, tracing_factory=factory, transport=transport
                ) as pipeline:
                    await _send_async(pipeline, factory, request)

            asyncio.run(run())
    except TransportError as error:
        return error
    raise AssertionError("the call did not fail")


# --- every kind of failure, each output, both pipelines ---------------------------------------

FAILURES = ["refused", "dns", "tls", "timeout", "read", "read-streamed", "bad-response"]
_TRUNCATED = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nshort"


@pytest.fixture(scope="module")
def failing_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A URL (no query) for each kind of failure, on servers that fail it that way."""
    cert, key = self_signed_certificate(Path(tmp_path_factory.mktemp("tls")))
    truncated, garbage = RawServer(_TRUNCATED), RawServer(b"garbage\r\n\r\n")
    with LocalServer(tls_server_context(cert, key)) as tls, LocalServer() as slow:
        yield {
            "refused": refused_url("/p"),
            "dns": "http://no-such-host.invalid/p",
            "tls": tls.url("/p"),  # a certificate nobody trusts
            "timeout": slow.script("/p", Reply(200, delay=2.0)),
            "read": truncated.url("/p"),  # the body ends before its Content-Length
            "read-streamed": truncated.url("/p"),
            "bad-response": garbage.url("/p"),
        }
    truncated.close()
    garbage.close()


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("rules", CLIENTS, ids=[rules.name for rules in CLIENTS])
@pytest.mark.parametrize("kind", KINDS)
def test_a_transport_failure_is_redacted_by_the_clients_rules_in_every_output(
    kind: Kind,
    rules: Rules,
    failure: str,
    failing_urls: dict[str, str],
    otel: Otel,
    everything: EveryRecord,
) -> None:
    url = failing_urls[failure] + QUERY
    request = Request("GET", url, HEADERS, stream=failure == "read-streamed")
    error = _raised(kind, rules.options(otel.provider), request)
    expected = rules.sanitized(url)
    cause = error.__cause__
    assert cause is not None
    for text in [str(error), repr(error), repr(error.args), str(cause), repr(cause)]:
        assert expected in text, (text, expected)
    assert expected in repr(cause.args)
    assert expected in exception_texts(error)[0]  # the formatted traceback, cause and all
    assert otel.url_of_try() == expected
    assert any(expected in message for message in otel.exception_messages())
    lines = everything.of("azure_core_tracing.http")
    assert any(f"HTTP request GET {expected} (try 0)" in line for line in lines)
    if failure != "read-streamed":  # the try itself failed, not the reading after it
        assert any("HTTP request failed" in line and expected in line for line in lines)
    texts = exception_texts(error) + everything.texts + otel.texts()
    for value in rules.hidden:
        assert not [text for text in texts if value in text], value
    for value in rules.shown:  # shown somewhere: the URL in the error, the headers logged
        assert any(value in text for text in texts), value


# --- a transport shared by clients ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_clients_sharing_a_transport_each_see_their_own_rules_and_a_direct_send_the_defaults(
    kind: Kind,
) -> None:
    url = refused_url("/p") + QUERY
    raised: dict[str, TransportError] = {}

    def keep(name: str, error: BaseException) -> None:
        assert isinstance(error, TransportError)
        raised[name] = error

    if kind == "sync":
        transport = RequestsTransport()
        for rules in CLIENTS:
            try:
                HttpPipeline(rules.options(), "client", "1.0", transport=transport).send(
                    Request("GET", url)
                )
            except TransportError as error:
                keep(rules.name, error)
        try:
            transport.send(Request("GET", url), Context())
        except TransportError as error:
            keep(DEFAULTS.name, error)
        transport.close()
    else:

        async def run() -> None:
            shared = AioHttpTransport()
            for rules in CLIENTS:
                pipeline = AsyncHttpPipeline(rules.options(), "client", "1.0", transport=shared)
                try:
                    await pipeline.send(Request("GET", url))
                except TransportError as error:
                    keep(rules.name, error)
            try:
                await shared.send(Request("GET", url), Context())
            except TransportError as error:
                keep(DEFAULTS.name, error)
            await shared.close()

        asyncio.run(run())
    for rules in [*CLIENTS, DEFAULTS]:
        failure = raised[rules.name]
        assert rules.sanitized(url) in str(failure)
        assert rules.sanitized(url) in str(failure.__cause__)
        texts = exception_texts(failure)
        assert not [value for value in rules.hidden if any(value in text for text in texts)]


def _check_lines(lines: list[str], path: str, rules: Rules) -> int:
    """The number of urllib3 request lines for ``path``; each shows ``rules``' query."""
    shown = [line for line in lines if f'"GET {path}?' in line]
    query = rules.sanitized("http://h" + path + QUERY).partition("?")[2]
    for line in shown:
        assert f'"GET {path}?{query} HTTP/1.1"' in line, (line, rules.name)
    return len(shown)


def test_threads_calling_clients_that_share_a_transport_each_get_their_own_rules(
    server: LocalServer, everything: EveryRecord
) -> None:
    transport = RequestsTransport()
    pipelines = {
        rules.name: HttpPipeline(rules.options(), "client", "1.0", transport=transport)
        for rules in CLIENTS
    }
    for rules in [*CLIENTS, DEFAULTS]:
        server.script(f"/{rules.name}", Reply(200))
    refused = refused_url("/gone") + QUERY
    start = threading.Barrier(6)
    mistakes: list[str] = []

    def calls(rules: Rules) -> None:
        start.wait()
        for _ in range(8):
            request = Request("GET", server.url(f"/{rules.name}") + QUERY)
            try:
                if rules is DEFAULTS:
                    transport.send(request, Context())
                    transport.send(Request("GET", refused), Context())
                else:
                    pipelines[rules.name].send(request)
                    pipelines[rules.name].send(Request("GET", refused))
            except TransportError as error:
                if rules.sanitized(refused) not in str(error) or any(
                    value in text for value in rules.hidden for text in exception_texts(error)
                ):
                    mistakes.append(f"{rules.name}: {error}")
            else:
                mistakes.append(f"{rules.name}: the refused port answered")

    threads = [threading.Thread(target=calls, args=(rules,)) for rules in [*CLIENTS, DEFAULTS] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    transport.close()
    assert mistakes == []
    lines = everything.of("urllib3.connectionpool")
    for rules in [*CLIENTS, DEFAULTS]:
        assert _check_lines(lines, f"/{rules.name}", rules) == 16


def test_asyncio_tasks_calling_clients_that_share_a_transport_each_get_their_own_rules() -> None:
    url = refused_url("/p") + QUERY

    async def run() -> list[tuple[Rules, BaseException]]:
        shared = AioHttpTransport()
        pipelines = {
            rules.name: AsyncHttpPipeline(rules.options(), "client", "1.0", transport=shared)
            for rules in CLIENTS
        }

        async def call(rules: Rules) -> tuple[Rules, BaseException]:
            await asyncio.sleep(0)
            try:
                if rules is DEFAULTS:
                    await shared.send(Request("GET", url), Context())
                else:
                    await pipelines[rules.name].send(Request("GET", url))
            except TransportError as error:
                return rules, error
            raise AssertionError("the refused port answered")

        try:
            return list(await asyncio.gather(*[call(r) for r in [*CLIENTS, DEFAULTS] * 10]))
        finally:
            await shared.close()

    for rules, error in asyncio.run(run()):
        assert rules.sanitized(url) in str(error), rules.name
        texts = exception_texts(error)
        assert not [value for value in rules.hidden if any(value in text for text in texts)]


# --- urllib3's own lines -----------------------------------------------------------------------


def test_urllib3_lines_during_a_call_follow_the_client_and_outside_a_call_the_defaults(
    server: LocalServer, everything: EveryRecord
) -> None:
    transport = RequestsTransport()  # urllib3's records are redacted from here on
    for rules in CLIENTS:
        url = server.script(f"/{rules.name}", Reply(200)) + QUERY
        HttpPipeline(rules.options(), "client", "1.0", transport=transport).send(
            Request("GET", url)
        )
    url = server.script("/direct", Reply(200)) + QUERY
    transport.send(Request("GET", url), Context())  # a transport without a pipeline
    url = server.script("/outside", Reply(200)) + QUERY
    requests.get(url, timeout=10)  # urllib3 with none of this library around it
    transport.close()
    lines = everything.of("urllib3.connectionpool")
    assert _check_lines(lines, "/wider", WIDER) == 1
    assert _check_lines(lines, "/narrower", NARROWER) == 1
    assert _check_lines(lines, "/direct", DEFAULTS) == 1
    assert _check_lines(lines, "/outside", DEFAULTS) == 1
    assert not [line for line in lines if SECRET in line]


_BAD_HEADERS = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nnot a header " + SECRET.encode() + b"\r\n"
    b"X-Widget: " + WIDGET.encode() + b"\r\n"
    b"Set-Cookie: session=" + SECRET.encode() + b"\r\n"
    b"Content-Type: " + CONTENT_TYPE.encode() + b"\r\n"
    b"\tfolded " + CONTENT_TYPE.encode() + b"\r\n"
    b"Connection: close\r\n\r\nok"
)


@pytest.mark.parametrize("rules", [*CLIENTS, DEFAULTS], ids=lambda rules: rules.name)
def test_response_headers_urllib3_could_not_parse_are_redacted_by_the_clients_header_rules(
    rules: Rules, everything: EveryRecord
) -> None:
    """urllib3 logs a WARNING, with the URL, the rest of the header block and a traceback,
    for a response whose headers it cannot parse."""
    server = RawServer(_BAD_HEADERS)
    url = server.url("/p") + QUERY
    transport = RequestsTransport()
    try:
        if rules is DEFAULTS:
            transport.send(Request("GET", url), Context())
        else:
            HttpPipeline(rules.options(), "client", "1.0", transport=transport).send(
                Request("GET", url)
            )
    finally:
        transport.close()
        server.close()
    (line,) = [text for text in everything.of("urllib3.connection") if "Failed to parse" in text]
    assert rules.sanitized(url) in line
    assert "HeaderParsingError" in line  # the traceback is kept, redacted too
    assert not [value for value in rules.hidden if value in line]
    assert [value for value in rules.shown if value not in line] == []
    assert "Set-Cookie: REDACTED" in line


def _log_header_parsing_error(unparsed: Union[str, bytes]) -> None:
    """Log as urllib3 does when it cannot parse a response's headers: the error's text
    holds the rest of the header block, in the message and in the traceback."""
    RequestsTransport().close()  # urllib3's records are redacted from the first one on
    error = urllib3.exceptions.HeaderParsingError(defects=[], unparsed_data=unparsed)
    try:
        raise error
    except urllib3.exceptions.HeaderParsingError:
        logging.getLogger("urllib3.connection").warning(
            "Failed to parse headers (url=%s): %s", "http://h/p", error, exc_info=True
        )


@pytest.mark.parametrize(
    "unparsed",
    [
        f"Set-Cookie: id={SECRET}\r\nContent-Type: {CONTENT_TYPE}\r\n",
        f"Set-Cookie: id={SECRET}\r\nContent-Type: {CONTENT_TYPE}\r\n".encode(),
        f'X-Quote: it\'s "{SECRET}" \\ \r\nContent-Type: {CONTENT_TYPE}',
    ],
    ids=["str", "bytes", "quotes"],
)
def test_urllib3s_unparsed_header_data_shows_no_value_the_rules_do_not_allow(
    everything: EveryRecord, unparsed: Union[str, bytes]
) -> None:
    _log_header_parsing_error(unparsed)
    (line,) = everything.of("urllib3.connection")
    assert line.count("unparsed data: ") == 2  # the message and the traceback's last line
    assert SECRET not in line
    assert line.count(CONTENT_TYPE) == 2


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["Content-Type", "Set-Cookie", "X-Other", "not a header"]),
            st.text(alphabet="ab '\"\\:;\t", max_size=6),
        ),
        min_size=1,
        max_size=5,
    ),
    as_bytes=st.booleans(),
)
def test_urllib3s_unparsed_header_data_is_read_back_whatever_it_holds(
    everything: EveryRecord, lines: list[tuple[str, str]], as_bytes: bool
) -> None:
    everything.texts.clear()
    block = "".join(
        f"{name}: {value}V{index}x\r\n" if name != "not a header" else f"{value}V{index}x\r\n"
        for index, (name, value) in enumerate(lines)
    )
    _log_header_parsing_error(block.encode("latin-1") if as_bytes else block)
    (line,) = everything.of("urllib3.connection")
    allowed = False
    for index, (name, value) in enumerate(lines):
        if name != "not a header":
            allowed = name == "Content-Type"
        elif not value.startswith((" ", "\t")):  # else it continues the header above
            allowed = False
        assert line.count(f"V{index}x") == (2 if allowed else 0), (block, line)


# --- the property: any allow-lists, any query, through both pipelines -------------------------

_NAMES = ["api-version", "comp", "sig", "restype", "se", "timeout", "Comp", "API-Version"]
_name = st.one_of(
    st.sampled_from(_NAMES),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_.", min_size=1, max_size=8),
)


@pytest.fixture(scope="module")
def shared_transports() -> Iterator[dict[str, Any]]:
    """One transport of each kind, shared by every client the property builds."""
    loop = asyncio.new_event_loop()
    made: dict[str, Any] = {"sync": RequestsTransport(), "async": AioHttpTransport(), "loop": loop}
    yield made
    made["sync"].close()
    loop.run_until_complete(made["async"].close())
    loop.close()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    allowed=st.lists(_name, max_size=4),
    names=st.lists(_name, min_size=1, max_size=6),
    kind=st.sampled_from(KINDS),
)
def test_any_client_rules_hold_alike_in_its_span_its_log_lines_and_its_error(
    shared_transports: dict[str, Any],
    everything: EveryRecord,
    allowed: list[str],
    names: list[str],
    kind: Kind,
) -> None:
    values = [f"V{index}x{SECRET}" for index in range(len(names))]
    url = refused_url("/p") + "?" + "&".join(f"{n}={v}" for n, v in zip(names, values))
    lowered = {name.lower() for name in allowed}
    rules = Rules("drawn", frozenset(allowed), DEFAULT_ALLOWED_HEADERS, (), ())
    expected = rules.sanitized(url)
    everything.texts.clear()
    exporter = InMemorySpanExporter()
    sdk = SdkTracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    otel = Otel(sdk, exporter, OpenTelemetryProvider.create(sdk))
    options = rules.options(otel.provider)
    factory = TracingContextFactory(options, "Client", "1.0", package_name="client")
    request = Request("GET", url)
    try:
        if kind == "sync":
            pipeline = HttpPipeline(
                options, tracing_factory=factory, transport=shared_transports["sync"]
            )
            _send_sync(pipeline, factory, request)
        else:
            pipeline_async = AsyncHttpPipeline(
                options, tracing_factory=factory, transport=shared_transports["async"]
            )
            shared_transports["loop"].run_until_complete(
                _send_async(pipeline_async, factory, request)
            )
    except TransportError as error:
        raised = error
    else:
        raise AssertionError("the refused port answered")
    finally:
        sdk.shutdown()
    assert otel.url_of_try() == expected
    assert expected in str(raised) and expected in str(raised.__cause__)
    assert any(expected in line for line in everything.of("azure_core_tracing.http"))
    texts = exception_texts(raised) + everything.texts + otel.texts()
    for name, value in zip(names, values):
        shown = [text for text in texts if value in text]
        if name.lower() in lowered:
            assert shown, (name, allowed)
        else:
            assert not shown, (name, allowed, shown[:2])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shown", [True, False])
def test_span_attributes_from_headers_follow_the_clients_header_rules(
    server: LocalServer, otel: Otel, kind: Kind, shown: bool
) -> None:
    """``http.user_agent``, ``requestId`` and ``serviceRequestId`` show a header's value only
    where the client's ``allowed_headers`` do, as its log lines do."""
    url = server.script("/ids", Reply(200, headers={"x-ms-request-id": "service-id-1"}))
    names = {"user-agent", "x-ms-client-request-id", "x-ms-request-id"}
    allowed = (
        set(DEFAULT_ALLOWED_HEADERS) | names if shown else set(DEFAULT_ALLOWED_HEADERS) - names
    )
    options = ClientOptions(log=LogOptions(allowed_headers=allowed))
    options.telemetry.tracing_provider = otel.provider
    factory = TracingContextFactory(options, "Test.Svc", "1.0", package_name="azure-test")
    request = Request("GET", url, {"x-ms-client-request-id": "client-id-1"})
    if kind == "sync":
        with HttpPipeline(options, tracing_factory=factory) as pipeline:
            _send_sync(pipeline, factory, request)
    else:

        async def run() -> None:
            async with AsyncHttpPipeline(options, tracing_factory=factory) as pipeline:
                await _send_async(pipeline, factory, request)

        asyncio.run(run())
    (span,) = [s for s in otel.exporter.get_finished_spans() if s.name == "HTTP GET #0"]
    attributes = dict(span.attributes or {})
    values = (
        attributes["http.user_agent"],
        attributes["requestId"],
        attributes["serviceRequestId"],
    )
    if shown:
        assert str(values[0]).startswith("azsdk-python-azure-test/1.0")
        assert values[1:] == ("client-id-1", "service-id-1")
    else:
        assert values == ("REDACTED", "REDACTED", "REDACTED")
