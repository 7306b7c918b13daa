"""Promise 3: every bad argument is a ``TypeError`` or ``ValueError`` naming it, raised where
the object is built (or the field set), whether tracing is on or off."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, Optional

import pytest
import requests
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

from azure_core_tracing import (
    AttributeSet,
    ClientOptions,
    Context,
    LogOptions,
    NoOpSpan,
    RetryOptions,
    Span,
    SpanStatus,
    TelemetryOptions,
    TracingContextFactory,
    distributed_trace,
)
from azure_core_tracing.http import (
    HttpPipeline,
    HttpSanitizer,
    RawResponse,
    Request,
    RequestActivityPolicy,
    RequestsTransport,
    RetryPolicy,
)
from azure_core_tracing_opentelemetry import (
    ConsoleTreeExporter,
    OpenTelemetryProvider,
    OpenTelemetrySpan,
    OpenTelemetryTracer,
)
from tests.local_server import LocalServer, Reply
from tests.recording import RecordingTracerProvider
from tests.support import wrong

URL = "https://example.test/p"
Case = tuple[str, Callable[[], object], type[Exception], str]


def _set(target: object, name: str, value: object) -> Callable[[], None]:
    return lambda: setattr(target, name, value)


def _factory(**kwargs: Any) -> Callable[[], object]:
    args: dict[str, Any] = {"service_name": "Svc", "package_version": "1.0"}
    args.update(kwargs)
    return lambda: TracingContextFactory(
        ClientOptions(), args["service_name"], args["package_version"], **args.get("more", {})
    )


def _pipeline(**kwargs: Any) -> Callable[[], object]:
    args: dict[str, Any] = {"client_options": ClientOptions(), "package_name": "svc"}
    args.update(kwargs)
    version = args.pop("package_version", "1.0")
    options, name = args.pop("client_options"), args.pop("package_name")
    return lambda: HttpPipeline(options, name, version, **args)


def _create_span(name: Any = "Op", **kwargs: Any) -> Callable[[], object]:
    return lambda: TracingContextFactory(ClientOptions(), "Svc", "1.0").create_span(name, **kwargs)


OPTIONS: list[Case] = [
    ("negative retries", lambda: RetryOptions(max_retries=-1), ValueError, "max_retries"),
    ("str retries", lambda: RetryOptions(max_retries=wrong("3")), TypeError, "max_retries"),
    ("None retries", lambda: RetryOptions(max_retries=wrong(None)), TypeError, "max_retries"),
    ("bool retries", lambda: RetryOptions(max_retries=True), TypeError, "max_retries"),
    ("float retries", lambda: RetryOptions(max_retries=wrong(1.5)), TypeError, "max_retries"),
    ("negative delay", lambda: RetryOptions(retry_delay=-0.1), ValueError, "retry_delay"),
    ("NaN delay", lambda: RetryOptions(retry_delay=math.nan), ValueError, "retry_delay"),
    (
        "inf max delay",
        lambda: RetryOptions(max_retry_delay=math.inf),
        ValueError,
        "max_retry_delay",
    ),
    ("None delay", lambda: RetryOptions(retry_delay=wrong(None)), TypeError, "retry_delay"),
    ("str delay", lambda: RetryOptions(max_retry_delay=wrong("1")), TypeError, "max_retry_delay"),
    (
        "NaN retry-after",
        lambda: RetryOptions(max_retry_after=math.nan),
        ValueError,
        "max_retry_after",
    ),
    (
        "None status codes",
        lambda: RetryOptions(status_codes=wrong(None)),
        TypeError,
        "status_codes",
    ),
    (
        "str status codes",
        lambda: RetryOptions(status_codes=wrong("503")),
        TypeError,
        "status_codes",
    ),
    (
        "str in status codes",
        lambda: RetryOptions(status_codes=wrong({"503"})),
        TypeError,
        "status_codes",
    ),
    ("status code 42", lambda: RetryOptions(status_codes={42}), ValueError, "status_codes"),
    ("None telemetry", lambda: ClientOptions(telemetry=wrong(None)), TypeError, "telemetry"),
    ("None retry", lambda: ClientOptions(retry=wrong(None)), TypeError, "retry"),
    ("None log", lambda: ClientOptions(log=wrong(None)), TypeError, "log"),
    ("int transport", lambda: ClientOptions(transport=wrong(42)), TypeError, "transport"),
    (
        "a requests.Session as transport",
        lambda: ClientOptions(transport=wrong(requests.Session())),
        TypeError,
        "transport",
    ),
    (
        "int header name",
        lambda: LogOptions(allowed_headers=wrong([1])),
        TypeError,
        "allowed_headers",
    ),
    (
        "one str of names",
        lambda: LogOptions(allowed_headers=wrong("a")),
        TypeError,
        "allowed_headers",
    ),
    (
        "None query names",
        lambda: LogOptions(allowed_query_parameters=wrong(None)),
        TypeError,
        "allowed_query_parameters",
    ),
    (
        "object as provider",
        lambda: TelemetryOptions(tracing_provider=wrong(object())),
        TypeError,
        "tracing_provider",
    ),
    (
        "an unwrapped OpenTelemetry provider",
        lambda: TelemetryOptions(tracing_provider=wrong(SdkTracerProvider())),
        TypeError,
        "OpenTelemetryProvider.create",
    ),
    (
        "an unwrapped OpenTelemetry provider, application-wide",
        lambda: Context.application_context.set_tracer_provider(wrong(SdkTracerProvider())),
        TypeError,
        "OpenTelemetryProvider.create",
    ),
    (
        "object application-wide",
        lambda: Context.application_context.set_tracer_provider(wrong("provider")),
        TypeError,
        "provider",
    ),
    (
        "int application id",
        lambda: TelemetryOptions(application_id=wrong(7)),
        TypeError,
        "application_id",
    ),
    (
        "NUL in application id",
        lambda: TelemetryOptions(application_id="a\x00"),
        ValueError,
        "application_id",
    ),
    ("assigned later", _set(RetryOptions(), "max_retries", -2), ValueError, "max_retries"),
    ("assigned None later", _set(ClientOptions(), "telemetry", None), TypeError, "telemetry"),
]

FACTORY: list[Case] = [
    ("int version", _factory(package_version=1), TypeError, "package_version"),
    ("bytes service", _factory(service_name=b"Svc"), TypeError, "service_name"),
    ("int package name", _factory(more={"package_name": 3}), TypeError, "package_name"),
    ("int schema", _factory(more={"schema_url": 3}), TypeError, "schema_url"),
    ("no name at all", _factory(service_name=None), ValueError, "service_name"),
    (
        "None options",
        lambda: TracingContextFactory(wrong(None), "S", "1"),
        TypeError,
        "client_options",
    ),
    ("dict context", _create_span(context={}), TypeError, "context"),
    ("None name", _create_span(None), TypeError, "name"),
    ("empty name", _create_span(""), ValueError, "name"),
    ("str kind", _create_span(kind="CLIENT"), TypeError, "kind"),
    ("list attributes", _create_span(attributes=[("a", 1)]), TypeError, "attributes"),
    ("object attribute", _create_span(attributes={"a": object()}), TypeError, "'a'"),
    (
        "from context: int name",
        lambda: TracingContextFactory.create_span_from_context(wrong(1), Context()),
        TypeError,
        "name",
    ),
    (
        "from context: None context",
        lambda: TracingContextFactory.create_span_from_context("x", wrong(None)),
        TypeError,
        "context",
    ),
    (
        "from context: dict context",
        lambda: TracingContextFactory.create_span_from_context("x", wrong({})),
        TypeError,
        "context",
    ),
]

REQUESTS: list[Case] = [
    ("empty method", lambda: Request("", URL), ValueError, "method"),
    ("method with a space", lambda: Request("GE T", URL), ValueError, "method"),
    ("method with CR LF", lambda: Request("GET\r\n", URL), ValueError, "method"),
    ("bytes method", lambda: Request(wrong(b"GET"), URL), TypeError, "method"),
    ("relative url", lambda: Request("GET", "/relative"), ValueError, "url"),
    ("ftp url", lambda: Request("GET", "ftp://h/"), ValueError, "url"),
    ("url without host", lambda: Request("GET", "http:///p"), ValueError, "url"),
    ("empty url", lambda: Request("GET", ""), ValueError, "url"),
    ("port out of range", lambda: Request("GET", "https://h:99999/"), ValueError, "url"),
    ("port not a number", lambda: Request("GET", "https://h:https/"), ValueError, "url"),
    ("url with LF", lambda: Request("GET", "https://h/p\nX: 1"), ValueError, "url"),
    ("url with NUL", lambda: Request("GET", "https://h/p\x00"), ValueError, "url"),
    ("bytes url", lambda: Request("GET", wrong(b"https://h/")), TypeError, "url"),
    ("int header name", lambda: Request("GET", URL, wrong({1: "v"})), TypeError, "header"),
    ("header name with a space", lambda: Request("GET", URL, {"a b": "v"}), ValueError, "'a b'"),
    ("int header value", lambda: Request("GET", URL, wrong({"X-A": 1})), TypeError, "'X-A'"),
    ("bytes header value", lambda: Request("GET", URL, wrong({"X-A": b"v"})), TypeError, "'X-A'"),
    ("non-Latin-1 value", lambda: Request("GET", URL, {"X-A": "\u20ac"}), ValueError, "'X-A'"),
    ("CR LF value", lambda: Request("GET", URL, {"X-A": "a\r\nB: c"}), ValueError, "'X-A'"),
    ("NUL value", lambda: Request("GET", URL, {"X-A": "a\x00"}), ValueError, "'X-A'"),
    ("leading space", lambda: Request("GET", URL, {"X-A": " v"}), ValueError, "'X-A'"),
    ("headers as a list", lambda: Request("GET", URL, wrong([("a", "b")])), TypeError, "headers"),
    ("int body", lambda: Request("PUT", URL, body=wrong(42)), TypeError, "body"),
    ("dict body", lambda: Request("PUT", URL, body=wrong({"a": 1})), TypeError, "body"),
    ("bytearray body", lambda: Request("PUT", URL, body=wrong(bytearray(b"x"))), TypeError, "body"),
    (
        "text stream body",
        lambda: Request("PUT", URL, body=wrong(io.StringIO("x"))),
        TypeError,
        "body",
    ),
    ("list body", lambda: Request("PUT", URL, body=wrong([b"x"])), TypeError, "body"),
    ("str stream flag", lambda: Request("GET", URL, stream=wrong("yes")), TypeError, "stream"),
    ("url set later", _set(Request("GET", URL), "url", "/x"), ValueError, "url"),
    ("method set later", _set(Request("GET", URL), "method", "G T"), ValueError, "method"),
    ("headers set later", _set(Request("GET", URL), "headers", {"X": 1}), TypeError, "'X'"),
    ("str status", lambda: RawResponse(wrong("200")), TypeError, "status_code"),
    ("status 42", lambda: RawResponse(42), ValueError, "status_code"),
    ("bool status", lambda: RawResponse(wrong(True)), TypeError, "status_code"),
    ("None reason", lambda: RawResponse(200, wrong(None)), TypeError, "reason"),
    ("str body", lambda: RawResponse(200, "OK", None, wrong("x")), TypeError, "body"),
]

PIPELINE: list[Case] = [
    ("None options", _pipeline(client_options=None), TypeError, "client_options"),
    ("int version", _pipeline(package_version=1), TypeError, "package_version"),
    ("empty package name", _pipeline(package_name=""), ValueError, "package_name"),
    ("None per-call", _pipeline(per_call_policies=None), TypeError, "per_call_policies"),
    ("str per-retry", _pipeline(per_retry_policies="x"), TypeError, "per_retry_policies"),
    ("object transport", _pipeline(transport=object()), TypeError, "transport"),
    (
        "send a str",
        lambda: HttpPipeline(ClientOptions(), "s", "1").send(wrong("GET")),
        TypeError,
        "request",
    ),
    (
        "send with a dict context",
        lambda: HttpPipeline(ClientOptions(), "s", "1").send(Request("GET", URL), wrong({})),
        TypeError,
        "context",
    ),
    (
        "int sanitizer header",
        lambda: HttpSanitizer(allowed_headers=wrong([1])),
        TypeError,
        "allowed_headers",
    ),
    (
        "None sanitizer query name",
        lambda: HttpSanitizer(allowed_query_parameters=wrong([None])),
        TypeError,
        "allowed_query_parameters",
    ),
    (
        "NaN connect timeout",
        lambda: RequestsTransport(connection_timeout=math.nan),
        ValueError,
        "connection_timeout",
    ),
    ("zero read timeout", lambda: RequestsTransport(read_timeout=0), ValueError, "read_timeout"),
    (
        "negative read timeout",
        lambda: RequestsTransport(read_timeout=-1),
        ValueError,
        "read_timeout",
    ),
    (
        "inf read timeout",
        lambda: RequestsTransport(read_timeout=math.inf),
        ValueError,
        "read_timeout",
    ),
    (
        "str connect timeout",
        lambda: RequestsTransport(connection_timeout=wrong("5")),
        TypeError,
        "connection_timeout",
    ),
    ("object session", lambda: RequestsTransport(wrong(object())), TypeError, "session"),
    ("object retry options", lambda: RetryPolicy(wrong(object())), TypeError, "options"),
    (
        "console: str max pending",
        lambda: ConsoleTreeExporter(max_pending_spans=wrong("9")),
        TypeError,
        "max_pending_spans",
    ),
    (
        "console: one str of attributes",
        lambda: ConsoleTreeExporter(attributes="http.url"),
        TypeError,
        "attributes",
    ),
    (
        "adapter: object provider",
        lambda: OpenTelemetryProvider(wrong(object())),
        TypeError,
        "tracer_provider",
    ),
]


def _decorate(target: Callable[..., Any], **kwargs: Any) -> Callable[[], object]:
    return lambda: distributed_trace(**kwargs)(target)


def _generator(self: object) -> Iterator[int]:
    yield 1


def _no_self() -> None:
    pass


def _only_keywords(*, context: Optional[Context] = None) -> None:
    pass


DECORATOR: list[Case] = [
    ("int name", _decorate(_no_self, name=123), TypeError, "name"),
    ("empty name", _decorate(_no_self, name=""), ValueError, "name"),
    ("str kind", _decorate(_no_self, kind="CLIENT"), TypeError, "kind"),
    ("a generator", lambda: distributed_trace(_generator), TypeError, "generator"),
    ("not callable", lambda: distributed_trace(wrong(42)), TypeError, "distributed_trace"),
    ("a function without self", lambda: distributed_trace(_no_self), TypeError, "self"),
    ("keywords only", lambda: distributed_trace(_only_keywords), TypeError, "self"),
]


@pytest.mark.parametrize(
    ("label", "call", "error", "names"),
    OPTIONS + FACTORY + REQUESTS + PIPELINE + DECORATOR,
    ids=[case[0] for case in OPTIONS + FACTORY + REQUESTS + PIPELINE + DECORATOR],
)
def test_a_bad_argument_is_a_clear_error_naming_it(
    label: str, call: Callable[[], object], error: type[Exception], names: str
) -> None:
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error, f"{label}: {caught.value!r}"
    assert names in str(caught.value), f"{label}: {caught.value}"


class _Client:
    def __init__(self, provider: Optional[RecordingTracerProvider]) -> None:
        options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
        self._tracing_factory = TracingContextFactory(options, "Svc", "1.0")

    @distributed_trace
    def method(self, *, context: Optional[Context] = None) -> str:
        return "ran"


@pytest.mark.parametrize("traced", [False, True])
def test_a_context_that_is_not_a_context_is_an_error_traced_or_not(traced: bool) -> None:
    client = _Client(RecordingTracerProvider() if traced else None)
    with pytest.raises(TypeError, match="context"):
        client.method(context=wrong("not a context"))
    assert client.method(context=None) == "ran"


def _spans() -> Iterator[tuple[str, Span]]:
    sdk = SdkTracerProvider()
    factory = TracingContextFactory(
        ClientOptions(telemetry=TelemetryOptions(tracing_provider=OpenTelemetryProvider(sdk))),
        "Svc",
        "1.0",
    )
    guarded = factory.create_span("guarded").span
    assert not isinstance(guarded, NoOpSpan)
    yield "no-op", NoOpSpan()
    yield "guarded OpenTelemetry", guarded
    yield "OpenTelemetry", guarded.inner  # type: ignore[attr-defined]


SPAN_CALLS: list[tuple[str, Callable[[Span], object], type[Exception], str]] = [
    ("naive end time", lambda s: s.end(datetime(2030, 1, 1)), ValueError, "end_time"),
    ("str end time", lambda s: s.end(wrong("now")), TypeError, "end_time"),
    ("empty event", lambda s: s.add_event(""), TypeError, "name_or_exception"),
    ("int event", lambda s: s.add_event(wrong(42)), TypeError, "name_or_exception"),
    ("bad event attribute", lambda s: s.add_event("e", {"a": wrong(object())}), TypeError, "'a'"),
    ("str status", lambda s: s.set_status(wrong("OK")), ValueError, "status"),
    (
        "int description",
        lambda s: s.set_status(SpanStatus.ERROR, wrong(5)),
        TypeError,
        "description",
    ),
    ("empty attribute name", lambda s: s.add_attribute("", 1), TypeError, "attribute name"),
    ("None attribute", lambda s: s.add_attribute("a", wrong(None)), TypeError, "'a'"),
    ("mixed list attribute", lambda s: s.add_attribute("a", wrong([1, "x"])), TypeError, "'a'"),
    (
        "attributes as a list",
        lambda s: s.add_attributes(wrong([("a", 1)])),
        TypeError,
        "attributes",
    ),
]


@pytest.mark.parametrize(
    ("label", "call", "error", "names"), SPAN_CALLS, ids=[c[0] for c in SPAN_CALLS]
)
def test_every_span_checks_its_arguments_alike_traced_or_not(
    label: str, call: Callable[[Span], object], error: type[Exception], names: str
) -> None:
    for kind, span in _spans():
        with pytest.raises(error) as caught:
            call(span)
        assert type(caught.value) is error and names in str(caught.value), (kind, caught.value)
    for _, span in _spans():  # and what is valid passes everywhere
        span.add_event(ValueError("x"))
        span.end(datetime.now(timezone.utc))


def test_the_options_a_pipeline_was_built_from_can_change_without_changing_it(
    server: LocalServer,
) -> None:
    url = server.script("/snapshot", Reply(503))
    options = ClientOptions()
    options.retry.max_retries = 2
    pipeline = HttpPipeline(options, "svc", "1.0", sleep=lambda _: None)
    options.retry.max_retries = 0
    options.retry.status_codes.clear()
    assert pipeline.send(Request("GET", url)).status_code == 503
    assert len(server.received) == 3


def test_a_client_provider_set_after_the_factory_was_built_changes_nothing() -> None:
    options = ClientOptions()
    factory = TracingContextFactory(options, "Svc", "1.0")
    options.telemetry.tracing_provider = RecordingTracerProvider()
    assert factory.is_tracing_enabled is False


def test_a_set_changed_in_place_is_checked_when_a_pipeline_is_built() -> None:
    options = ClientOptions()
    options.retry.status_codes.add(wrong("503"))
    with pytest.raises(TypeError, match="status_codes"):
        HttpPipeline(options, "svc", "1.0")
    options = ClientOptions()
    options.log.allowed_headers.add(wrong(1))
    with pytest.raises(TypeError, match="allowed_headers"):
        TracingContextFactory(options, "Svc", "1.0")


def test_a_snapshot_is_read_only() -> None:
    snapshot = ClientOptions().snapshot()
    with pytest.raises(AttributeError, match="snapshot"):
        snapshot.retry.max_retries = 1
    assert isinstance(snapshot.retry.status_codes, frozenset)


# --- more public callables, each checked ----------------------------------------------------


def _untraced_factory() -> TracingContextFactory:
    return TracingContextFactory(ClientOptions(), "Svc", "1.0")


BAD_INPUT: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    (
        "RequestActivityPolicy(None, ...)",
        lambda: RequestActivityPolicy(wrong(None), HttpSanitizer()),
        TypeError,
        "factory",
    ),
    (
        "sanitize_headers(None)",
        lambda: HttpSanitizer().sanitize_headers(wrong(None)),
        TypeError,
        "headers",
    ),
    (
        "sanitize_headers({1: 'v'})",
        lambda: HttpSanitizer().sanitize_headers(wrong({1: "v"})),
        TypeError,
        "headers",
    ),
    ("sanitize_text(None)", lambda: HttpSanitizer().sanitize_text(wrong(None)), TypeError, "text"),
    ("sanitize_query(5)", lambda: HttpSanitizer().sanitize_query(wrong(5)), TypeError, "query"),
    (
        "sanitize_header_lines(None)",
        lambda: HttpSanitizer().sanitize_header_lines(wrong(None)),
        TypeError,
        "text",
    ),
    (
        "HttpSanitizer.from_context('ctx')",
        lambda: HttpSanitizer.from_context(wrong("ctx")),
        TypeError,
        "context",
    ),
    (
        "from_context('ctx')",
        lambda: TracingContextFactory.from_context(wrong("ctx")),
        TypeError,
        "context",
    ),
    (
        "span_from_context('ctx')",
        lambda: TracingContextFactory.span_from_context(wrong("ctx")),
        TypeError,
        "context",
    ),
    ("AttributeSet(list)", lambda: AttributeSet(wrong([("a", 1)])), TypeError, "attributes"),
    (
        "create_span(links='x')",
        lambda: _untraced_factory().create_span("Op", links=wrong("x")),
        TypeError,
        "links",
    ),
    (
        "create_span(links=[object()])",
        lambda: _untraced_factory().create_span("Op", links=wrong([object()])),
        TypeError,
        "links",
    ),
    (
        "retry_delay=10**400",
        lambda: RetryOptions(retry_delay=10**400),
        ValueError,
        "retry_delay",
    ),
    (
        "read_timeout=10**400",
        lambda: RequestsTransport(read_timeout=10**400),
        ValueError,
        "read_timeout",
    ),
    (
        "OpenTelemetryTracer(object())",
        lambda: OpenTelemetryTracer(wrong(object())),
        TypeError,
        "otel_tracer",
    ),
    ("OpenTelemetrySpan(object())", lambda: OpenTelemetrySpan(wrong(object())), TypeError, "span"),
    ("RawResponse(close=42)", lambda: RawResponse(200, close=wrong(42)), TypeError, "close"),
    ("RawResponse(chunks=42)", lambda: RawResponse(200, chunks=wrong(42)), TypeError, "chunks"),
]


@pytest.mark.parametrize(
    ("label", "call", "error", "names"), BAD_INPUT, ids=[case[0] for case in BAD_INPUT]
)
def test_a_bad_argument_to_a_public_callable_is_a_clear_error_naming_it(
    label: str, call: Callable[[], object], error: type[Exception], names: str
) -> None:
    """Each bad argument is a TypeError or ValueError naming it, raised by the call that
    takes it: never accepted to fail later, never an AttributeError or OverflowError from
    deep inside."""
    with pytest.raises(Exception) as caught:
        call()
    assert type(caught.value) is error and names in str(caught.value), (label, caught.value)
