"""Propagation writes only propagation headers, whatever propagator OpenTelemetry is given.

The propagators are real: OpenTelemetry's W3C, Baggage, B3, Jaeger, OpenTracing and AWS X-Ray
packages, and hostile ones written here that write other headers. Requests go through both
pipelines to a real server on 127.0.0.1, which records what arrives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Literal, Optional, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import baggage as otel_baggage
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.propagators.aws import AwsXRayPropagator
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.jaeger import JaegerPropagator
from opentelemetry.propagators.ot_trace import OTTracePropagator
from opentelemetry.propagators.textmap import Setter, TextMapPropagator, default_setter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from azure_core_tracing import (
    ClientOptions,
    Span,
    TelemetryOptions,
    TracingContextFactory,
)
from azure_core_tracing.checks import check_header
from azure_core_tracing.guard import GuardedSpan
from azure_core_tracing.headers import (
    MAX_PROPAGATED_HEADERS,
    MAX_PROPAGATED_VALUE_BYTES,
    MAX_TRACESTATE_BYTES,
    PROPAGATION_HEADER_PREFIXES,
    PROPAGATION_HEADERS,
)
from azure_core_tracing.http import AsyncHttpPipeline, HttpPipeline, Request
from azure_core_tracing.propagation_headers import PropagationHeaders
from azure_core_tracing.tracing import NoOpSpan
from azure_core_tracing_opentelemetry import OpenTelemetryProvider, OpenTelemetrySpan
from tests.local_server import LocalServer, Reply
from tests.support import wrong

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]
WARNINGS = "azure_core_tracing"


class _Writes(TextMapPropagator):
    """A propagator that writes the given headers (as a third-party or hostile one would)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = dict(headers)

    def inject(
        self, carrier: Any, context: Any = None, setter: Setter[Any] = default_setter
    ) -> None:
        for name, value in self.headers.items():
            setter.set(carrier, name, value)

    def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
        return context

    @property
    def fields(self) -> set[str]:
        return set(self.headers)


@pytest.fixture
def textmap() -> Iterator[list[TextMapPropagator]]:
    """Set the global propagator: a composite of W3C Trace Context and what the test appends."""
    previous = get_global_textmap()
    extra: list[TextMapPropagator] = []

    class _Late(TextMapPropagator):  # reads the list at injection time
        def inject(self, carrier: Any, context: Any = None, setter: Any = default_setter) -> None:
            CompositePropagator([TraceContextTextMapPropagator(), *extra]).inject(
                carrier, context, setter
            )

        def extract(self, carrier: Any, context: Any = None, getter: Any = None) -> Any:
            return context

        @property
        def fields(self) -> set[str]:
            return set()

    set_global_textmap(_Late())
    yield extra
    set_global_textmap(previous)


def _send(
    server: LocalServer,
    kind: Kind,
    *,
    caller_headers: Optional[dict[str, str]] = None,
    propagation_headers: frozenset[str] = frozenset(),
    baggage: Optional[dict[str, str]] = None,
) -> dict[str, str]:
    """Send one traced GET through a pipeline of ``kind``; the headers the server received."""
    url = server.script("/p", Reply(200))
    options = ClientOptions(
        telemetry=TelemetryOptions(
            tracing_provider=OpenTelemetryProvider.create(TracerProvider()),
            propagation_headers=set(propagation_headers),
        )
    )
    factory = TracingContextFactory(options, "Test.Svc", "1.0", package_name="azure-test")
    token = None
    if baggage:
        ctx = otel_context.get_current()
        for key, value in baggage.items():
            ctx = otel_baggage.set_baggage(key, value, ctx)
        token = otel_context.attach(ctx)
    try:
        before = len(server.received)
        if kind == "sync":
            pipeline = HttpPipeline(options, tracing_factory=factory)
            with pipeline, factory.create_span("Op") as scope:
                pipeline.send(Request("GET", url, caller_headers), scope.context)
        else:

            async def run() -> None:
                async with AsyncHttpPipeline(options, tracing_factory=factory) as pipeline:
                    with factory.create_span("Op") as scope:
                        await pipeline.send(Request("GET", url, caller_headers), scope.context)

            asyncio.run(run())
    finally:
        if token is not None:
            otel_context.detach(token)
    (received,) = server.received[before:]
    return received.headers


HOSTILE = {
    "X-HTTP-Method-Override": "DELETE",
    "X-Original-URL": "/admin",
    "X-Rewrite-URL": "/admin",
    "X-Real-IP": "10.0.0.1",
    "x-functions-key": "a-propagators-key",
    "X-Forwarded-For": "10.0.0.1",
    "Cookie": "session=a-propagators-cookie",
    "Authorization": "Bearer a-propagators-token",
    "Content-Length": "0",
    "Host": "elsewhere.test",
    "x-ms-version": "2099-01-01",
    "x-arbitrary": "anything",
    "Via": "1.1 proxy",
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_propagator_cannot_add_a_header_that_is_not_a_propagation_header(
    server: LocalServer,
    textmap: list[TextMapPropagator],
    caplog: pytest.LogCaptureFixture,
    kind: Kind,
    name: str,
) -> None:
    textmap.append(_Writes({name: HOSTILE[name]}))
    with caplog.at_level(logging.WARNING, logger=WARNINGS):
        received = _send(server, kind)
    assert "traceparent" in received
    if name.lower() == "host":
        assert received["host"].startswith("127.0.0.1")
    else:
        assert name.lower() not in received
    warnings = [r.getMessage() for r in caplog.records if r.name == WARNINGS]
    assert len(warnings) == 1
    assert repr(name) in warnings[0]
    assert HOSTILE[name] not in warnings[0]


def _all_formats() -> list[TextMapPropagator]:
    return [
        W3CBaggagePropagator(),
        B3MultiFormat(),
        B3SingleFormat(),
        JaegerPropagator(),
        OTTracePropagator(),
        AwsXRayPropagator(),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_every_built_in_format_with_baggage_reaches_the_server_whole(
    server: LocalServer,
    textmap: list[TextMapPropagator],
    caplog: pytest.LogCaptureFixture,
    kind: Kind,
) -> None:
    """W3C, Baggage, B3 single and multi, Jaeger, OpenTracing and X-Ray together, with enough
    baggage that Jaeger and OpenTracing write 25 headers each: all of it is sent."""
    textmap.extend(_all_formats())
    baggage = {f"k{n:02d}": f"v{n}" for n in range(25)}
    with caplog.at_level(logging.WARNING, logger=WARNINGS):
        received = _send(server, kind, baggage=baggage)
    expected = {
        "traceparent",
        "baggage",
        "b3",
        "x-b3-traceid",
        "x-b3-spanid",
        "x-b3-sampled",
        "uber-trace-id",
        "ot-tracer-traceid",
        "ot-tracer-spanid",
        "ot-tracer-sampled",
        "x-amzn-trace-id",
    }
    expected |= {f"uberctx-{key}" for key in baggage} | {f"ot-baggage-{key}" for key in baggage}
    assert expected <= set(received)
    assert len(expected) <= MAX_PROPAGATED_HEADERS
    assert [r.getMessage() for r in caplog.records if r.name == WARNINGS] == []
    trace_id = received["traceparent"].split("-")[1]
    assert received["x-b3-traceid"] == trace_id
    assert received["ot-tracer-traceid"] == trace_id[16:] or received["ot-tracer-traceid"].endswith(
        trace_id[16:]
    )


@pytest.mark.parametrize("kind", KINDS)
def test_past_the_cap_only_the_extra_headers_are_dropped(
    server: LocalServer,
    textmap: list[TextMapPropagator],
    caplog: pytest.LogCaptureFixture,
    kind: Kind,
) -> None:
    """Disallowed headers and the trace context do not count; of the others, the first 64
    are sent."""
    junk = {f"x-junk-{n}": "j" for n in range(100)}
    allowed = {f"uberctx-{n:03d}": "v" for n in range(MAX_PROPAGATED_HEADERS + 10)}
    textmap.append(_Writes({**junk, **allowed}))
    with caplog.at_level(logging.WARNING, logger=WARNINGS):
        received = _send(server, kind)
    assert "traceparent" in received
    sent = sorted(name for name in received if name.startswith("uberctx-"))
    assert sent == sorted(allowed)[:MAX_PROPAGATED_HEADERS]
    assert not any(name.startswith("x-junk-") for name in received)


@pytest.mark.parametrize("kind", KINDS)
def test_the_application_can_allow_more_propagation_headers(
    server: LocalServer, textmap: list[TextMapPropagator], kind: Kind
) -> None:
    textmap.append(
        _Writes({"X-Custom-Trace": "c1", "x-vendor-a": "a", "X-VENDOR-B": "b", "x-other": "o"})
    )
    received = _send(server, kind, propagation_headers=frozenset({"x-custom-TRACE", "X-Vendor-*"}))
    assert received["x-custom-trace"] == "c1"
    assert (received["x-vendor-a"], received["x-vendor-b"]) == ("a", "b")
    assert "x-other" not in received


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["b3", "uberctx-user", "baggage", "x-amzn-trace-id"])
def test_a_propagator_never_replaces_a_propagation_header_the_caller_set(
    server: LocalServer, textmap: list[TextMapPropagator], kind: Kind, name: str
) -> None:
    textmap.append(_Writes({name: "the-propagators"}))
    received = _send(server, kind, caller_headers={name: "the-callers"})
    assert received[name] == "the-callers"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\x00b", "a\x1bb", "a\x7fb"])
def test_a_propagation_header_with_a_control_character_is_dropped(
    server: LocalServer, textmap: list[TextMapPropagator], kind: Kind, value: str
) -> None:
    textmap.append(_Writes({"b3": value, "x-b3-sampled": "1"}))
    received = _send(server, kind)
    assert "b3" not in received
    assert "x-injected" not in received
    assert received["x-b3-sampled"] == "1"


FORWARDED_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize("kind", KINDS)
def test_a_forwarded_tracestate_never_goes_out_with_the_trys_new_traceparent(
    server: LocalServer, kind: Kind
) -> None:
    """A forwarded ``tracestate`` belongs to the forwarded trace: when the try's span has no
    tracestate of its own, none is sent with the try's ``traceparent``."""
    forwarded = {"traceparent": FORWARDED_TRACEPARENT, "tracestate": "forwarded=stale"}
    received = _send(server, kind, caller_headers=forwarded)
    assert received["traceparent"] != FORWARDED_TRACEPARENT
    assert "tracestate" not in received


@pytest.mark.parametrize("kind", KINDS)
def test_baggage_never_crowds_the_trace_context_out_of_the_request(
    server: LocalServer, kind: Kind
) -> None:
    """``OTEL_PROPAGATORS=jaeger,tracecontext`` with 80 baggage entries: Jaeger writes its
    ``uberctx-*`` headers before the W3C propagator runs; the cap drops baggage headers,
    never the trace context."""
    previous = get_global_textmap()
    set_global_textmap(CompositePropagator([JaegerPropagator(), TraceContextTextMapPropagator()]))
    try:
        received = _send(server, kind, baggage={f"k{n:03d}": "v" for n in range(80)})
    finally:
        set_global_textmap(previous)
    assert "uber-trace-id" in received
    assert "traceparent" in received
    assert sum(name.startswith("uberctx-") for name in received) == MAX_PROPAGATED_HEADERS


def test_a_plain_dict_carrier_gets_each_propagation_header_once_whatever_its_case(
    textmap: list[TextMapPropagator],
) -> None:
    """A plain ``dict`` (an SDK author's message properties, say) is matched by name in any
    case: no second ``traceparent`` or B3 trace id under another case."""
    textmap.append(B3MultiFormat())
    options = ClientOptions(
        telemetry=TelemetryOptions(tracing_provider=OpenTelemetryProvider.create(TracerProvider()))
    )
    factory = TracingContextFactory(options, "Test.Svc", "1.0")
    headers = {"Traceparent": FORWARDED_TRACEPARENT, "X-B3-TraceId": "0af7651916cd43dd"}
    with factory.create_span("Op") as scope:
        scope.span.propagate_to_http_headers(headers)
    lowered = [name.lower() for name in headers]
    assert len(lowered) == len(set(lowered)), sorted(headers)
    assert headers["traceparent"] != FORWARDED_TRACEPARENT
    assert headers["X-B3-TraceId"] == "0af7651916cd43dd"  # the caller's own, kept


def test_propagation_headers_keeps_what_it_checked_not_a_str_subclass_that_changes() -> None:
    """A ``str`` subclass that answers one name while checked and another later cannot get
    ``Authorization`` allowed: the option checks and keeps plain copies."""

    class Shifty(str):
        checked = False

        def lower(self) -> str:
            if not Shifty.checked:
                Shifty.checked = True
                return "x-innocent"
            return str.lower(self)

        def endswith(self, suffix: Any, *args: Any) -> bool:
            return False

    with pytest.raises(ValueError, match="propagation_headers"):
        TelemetryOptions(propagation_headers={Shifty("Authorization")})


@pytest.mark.parametrize(
    "entries",
    [{"Authorization"}, {"cookie"}, {"Content-*"}, {"x-ms-foo"}, {"X-*"}, {"*"}, {"ho*"}],
)
def test_propagation_headers_refuses_the_requests_own_headers(entries: set[str]) -> None:
    with pytest.raises(ValueError, match="propagation_headers"):
        TelemetryOptions(propagation_headers=entries)


@pytest.mark.parametrize("entries", [{"bad name"}, {""}, {"a*b"}, {"x\r\n"}, {"tr*ce*"}])
def test_propagation_headers_refuses_what_is_not_a_header_name(entries: set[str]) -> None:
    with pytest.raises(ValueError, match="propagation_headers"):
        TelemetryOptions(propagation_headers=entries)


@pytest.mark.parametrize("value", ["x-custom", b"x", 3, None, {1}, [b"x"]])
def test_propagation_headers_refuses_what_is_not_a_collection_of_str(value: object) -> None:
    options = TelemetryOptions()
    with pytest.raises(TypeError, match="propagation_headers"):
        options.propagation_headers = wrong(value)


def test_propagation_headers_is_checked_again_when_changed_in_place() -> None:
    options = ClientOptions()
    options.telemetry.propagation_headers.add("Authorization")
    with pytest.raises(ValueError, match="propagation_headers"):
        options.snapshot()


# --- the rule, for any header a span's propagation writes ----------------------------------


class _WritingSpan(NoOpSpan):
    __slots__ = ("written",)

    def __init__(self, written: Mapping[str, str]) -> None:
        self.written = dict(written)

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        headers.update(self.written)


_TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_names = st.one_of(
    st.text(_TOKEN_CHARS, min_size=1, max_size=24),
    st.sampled_from(sorted(PROPAGATION_HEADERS) + sorted(HOSTILE)).map(
        lambda name: "".join(c.upper() if i % 2 else c for i, c in enumerate(name))
    ),
    st.builds(lambda p, s: p + s, st.sampled_from(PROPAGATION_HEADER_PREFIXES), st.text("ab-")),
    st.text(max_size=12),
)
_values = st.one_of(st.text(max_size=20), st.text("abc-=,;0123456789", max_size=20))
_caller = {"Authorization": "Bearer token", "b3": "the-callers", "traceparent": "stale"}


@given(written=st.dictionaries(_names, _values, max_size=80))
def test_propagation_adds_only_allowed_clean_headers_and_keeps_the_callers(
    written: dict[str, str],
) -> None:
    request = Request("GET", "https://example.test/", _caller)
    span: Span = GuardedSpan(_WritingSpan(written), object())
    span.propagate_to_http_headers(request.headers)
    rule = PropagationHeaders()
    added = {name: value for name, value in request.headers.items() if name not in _caller}
    assert len(added) + ("traceparent" in {n.lower() for n in written}) <= MAX_PROPAGATED_HEADERS
    for name, value in added.items():
        assert rule.allows(name)
        assert written[name] == value
        assert not any((ord(c) < 0x20 and c != "\t") or c == "\x7f" for c in value)
    assert request.headers["Authorization"] == "Bearer token"
    assert request.headers["b3"] == "the-callers"


@given(
    extra=st.frozensets(st.text("bgjkq3-", min_size=1, max_size=8), max_size=4),
    name=st.text("bgjkq3-", min_size=1, max_size=10),
)
def test_an_allowed_name_or_prefix_matches_in_any_case(extra: frozenset[str], name: str) -> None:
    prefixes = {e + "*" for e in extra if e.startswith("b")}
    exact = {e for e in extra if not e.startswith("b")}
    rule = PropagationHeaders(prefixes | exact)
    expected = (
        name.lower() in exact
        or name.lower() in PROPAGATION_HEADERS
        or name.lower().startswith(PROPAGATION_HEADER_PREFIXES)
        or any(name.lower().startswith(p[:-1]) for p in prefixes)
    )
    assert rule.allows(name) is expected
    assert rule.allows(name.upper()) is expected


class _Name(str):
    """A str subclass name (its methods are str's own)."""


class _Text(str):
    """A str subclass value."""


@pytest.fixture(scope="module")
def sdk() -> Iterator[TracerProvider]:
    """The OpenTelemetry SDK, once for the module: hypothesis runs a test many times per call."""
    provider = TracerProvider()
    yield provider
    provider.shutdown()


_TRACE_NAMES = st.sampled_from(
    ["traceparent", "tracestate", "Traceparent", "TRACESTATE", _Name("traceparent")]
)
_TRACE_VALUES = st.one_of(
    st.lists(
        st.sampled_from(["0", "a", "-", "=", ",", " ", "\t", "\x7f", "\x80", "\xff", "Ā", "\n"]),
        max_size=10,
    ).map("".join),
    st.sampled_from([1, None, b"00-ab", _Text("00-ab"), _Text(" leading")]),
    st.sampled_from(
        [
            MAX_PROPAGATED_VALUE_BYTES - 1,
            MAX_PROPAGATED_VALUE_BYTES,
            MAX_PROPAGATED_VALUE_BYTES + 1,
            MAX_TRACESTATE_BYTES,
            MAX_TRACESTATE_BYTES + 1,
        ]
    ).map(lambda size: "a" * size),
)


class _WritingOtelSpan(OpenTelemetrySpan):
    """A real OpenTelemetry span whose propagation writes one given header."""

    def __init__(self, otel_span: otel_trace.Span, name: object, value: object) -> None:
        super().__init__(otel_span)
        self.header = (name, value)

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        cast(MutableMapping[object, object], headers)[self.header[0]] = self.header[1]


def _general_propagation(name: object, value: object) -> dict[str, str]:
    """What the header checks keep of a W3C header a provider wrote."""
    if not isinstance(name, str) or not isinstance(value, str):
        return {}
    name, value = str.__str__(name), str.__str__(value)
    limit = MAX_TRACESTATE_BYTES if name.lower() == "tracestate" else MAX_PROPAGATED_VALUE_BYTES
    try:
        check_header(name, value)
    except (TypeError, ValueError):
        return {}
    return {} if len(value) > limit else {name: value}


@settings(max_examples=300)
@given(name=_TRACE_NAMES, value=_TRACE_VALUES)
def test_a_trace_context_header_is_kept_exactly_when_it_passes_the_header_checks(
    sdk: TracerProvider, name: object, value: object
) -> None:
    """A ``traceparent``/``tracestate`` a provider writes is sent exactly when the header
    checks pass (token name, clean Latin-1 value without leading white space, within its
    limit: 8 KiB, a ``tracestate`` the longest valid Level 2 value), as an exact str,
    whatever the case of its name or the str subclass it comes as."""
    writing = _WritingOtelSpan(sdk.get_tracer("azure-test").start_span("s"), name, value)
    span = GuardedSpan(writing, owner=OpenTelemetryProvider.create(sdk))
    headers: dict[str, str] = {}
    span.propagate_to_http_headers(headers)
    assert headers == _general_propagation(name, value)
    assert all(type(key) is str and type(item) is str for key, item in headers.items())
