from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Optional

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.propagate import get_global_textmap, set_global_textmap
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from azure_core_tracing import SpanKind
from azure_core_tracing.guard import GuardedSpan
from azure_core_tracing.tracecontext import TraceParent
from azure_core_tracing_opentelemetry import OpenTelemetrySpan, W3CTraceContextPropagator
from azure_core_tracing_opentelemetry.propagator import _Level2TraceState
from tests.opentelemetry.conftest import Otel
from tests.w3c_vectors import PARENT_ID, SAMPLED, TRACE_ID, UNSAMPLED, VECTORS, Vector

Lines = list[tuple[str, str]]
LEVEL_2_STATE = "foo@=1,foo@@bar=2," + "t" * 242 + "@v=3,1digit=4"


class LinesGetter(Getter[Lines]):
    """Header lines as an HTTP server has them: every line, names ASCII case-insensitive."""

    def get(self, carrier: Lines, key: str) -> Optional[list[str]]:
        values = [value for name, value in carrier if name.lower() == key]
        return values or None

    def keys(self, carrier: Lines) -> list[str]:
        return [name for name, _ in carrier]


LINES = LinesGetter()
PROPAGATOR = W3CTraceContextPropagator()


@pytest.fixture
def global_l2() -> Iterator[None]:
    """Our propagator as OpenTelemetry's global one, for the length of a test."""
    previous = get_global_textmap()
    set_global_textmap(PROPAGATOR)
    yield
    set_global_textmap(previous)


def _remote(context: otel_context.Context) -> otel_trace.SpanContext:
    return otel_trace.get_current_span(context).get_span_context()


def _injected(context: Optional[otel_context.Context] = None) -> dict[str, str]:
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, context)
    return carrier


# -- the W3C harness's header cases ------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.case)
def test_w3c_header_case_through_the_propagator(vector: Vector) -> None:
    extracted = PROPAGATOR.extract(list(vector.headers), getter=LINES)
    if vector.traceparent is None:
        assert not _remote(extracted).is_valid
        assert _injected(extracted) == {}
        return
    remote = _remote(extracted)
    assert remote.is_remote
    expected = TraceParent.parse(vector.traceparent)
    assert expected is not None
    assert (remote.trace_id, remote.span_id) == (
        int(expected.trace_id, 16),
        int(expected.parent_id, 16),
    )
    outgoing = _injected(extracted)
    assert outgoing.pop("traceparent") == vector.traceparent
    assert outgoing == ({"tracestate": vector.tracestate} if vector.tracestate else {})


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.case)
def test_w3c_header_case_server_span_to_client_span_to_outgoing_header(
    otel: Otel, global_l2: None, vector: Vector
) -> None:
    """The service's path: extract, SERVER span under it, CLIENT span under that, inject."""
    factory = otel.factory()
    token = otel_context.attach(PROPAGATOR.extract(list(vector.headers), getter=LINES))
    try:
        with factory.create_span("POST /test", kind=SpanKind.SERVER) as server:
            call = factory.create_span("HTTP POST #0", server.context, kind=SpanKind.CLIENT)
            with call:
                headers: dict[str, str] = {}
                call.span.propagate_to_http_headers(headers)
    finally:
        otel_context.detach(token)
    sent = TraceParent.parse(headers.pop("traceparent"))
    assert sent is not None
    span = call.span.inner if isinstance(call.span, GuardedSpan) else call.span
    assert isinstance(span, OpenTelemetrySpan)  # recording or not (unsampled)
    assert sent.parent_id == format(span.otel_span.get_span_context().span_id, "016x")
    expected = None if vector.traceparent is None else TraceParent.parse(vector.traceparent)
    if expected is None:
        assert sent.trace_id != TRACE_ID  # a new trace, with a new tracestate (none)
    else:
        assert sent.trace_id == expected.trace_id
        assert sent.random_trace_id == expected.random_trace_id
    assert headers == ({"tracestate": vector.tracestate} if vector.tracestate else {})


# -- extract -----------------------------------------------------------------------------


def test_the_default_getter_on_a_dict() -> None:
    extracted = PROPAGATOR.extract({"traceparent": SAMPLED, "tracestate": LEVEL_2_STATE})
    assert _injected(extracted) == {"traceparent": SAMPLED, "tracestate": LEVEL_2_STATE}


def test_a_list_of_two_traceparents_starts_a_new_trace_where_opentelemetry_keeps_the_first() -> (
    None
):
    carrier = {"traceparent": [SAMPLED, f"00-{'a' * 32}-{PARENT_ID}-01"]}
    assert not _remote(PROPAGATOR.extract(carrier)).is_valid
    assert _remote(TraceContextTextMapPropagator().extract(carrier)).trace_id == int(TRACE_ID, 16)


def test_a_comma_joined_traceparent_starts_a_new_trace() -> None:
    assert not _remote(PROPAGATOR.extract({"traceparent": f"{SAMPLED}, {SAMPLED}"})).is_valid


def test_extract_adds_to_the_given_context_and_returns_it_unchanged_when_invalid() -> None:
    base = otel_context.set_value("app-key", "app-value", otel_context.Context())
    assert PROPAGATOR.extract({"traceparent": "bogus"}, base) is base
    extracted = PROPAGATOR.extract({"traceparent": SAMPLED}, base)
    assert otel_context.get_value("app-key", extracted) == "app-value"
    assert _remote(extracted).is_valid


def test_extract_without_a_context_starts_from_an_empty_one_as_opentelemetry_does() -> None:
    token = otel_context.attach(otel_context.set_value("current", 1))
    try:
        extracted = PROPAGATOR.extract({"traceparent": SAMPLED})
    finally:
        otel_context.detach(token)
    assert otel_context.get_value("current", extracted) is None


@pytest.mark.parametrize(
    "tracestate",
    [None, [None], [b"foo=1"], 42, [["foo=1"]]],
)
def test_odd_getter_results_never_raise(tracestate: object) -> None:
    class OddGetter(Getter[object]):
        def get(self, carrier: object, key: str) -> Optional[list[str]]:
            return [SAMPLED] if key == "traceparent" else tracestate  # type: ignore[return-value]

        def keys(self, carrier: object) -> list[str]:
            return []

    extracted = PROPAGATOR.extract(None, getter=OddGetter())
    assert _remote(extracted).is_valid
    assert "tracestate" not in _injected(extracted)


# -- inject ------------------------------------------------------------------------------


def test_inject_without_a_valid_span_sets_nothing() -> None:
    assert _injected(otel_context.Context()) == {}
    assert _injected(otel_trace.set_span_in_context(otel_trace.INVALID_SPAN)) == {}


def test_inject_matches_opentelemetry_for_a_span_of_the_sdk(otel: Otel) -> None:
    tracer = otel.sdk.get_tracer("t")
    remote = TraceContextTextMapPropagator().extract(
        {"traceparent": SAMPLED, "tracestate": "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}
    )
    with tracer.start_as_current_span("op", context=remote):
        ours, theirs = _injected(), dict[str, str]()
        TraceContextTextMapPropagator().inject(theirs)
    assert ours == theirs
    assert (
        PROPAGATOR.fields
        == TraceContextTextMapPropagator().fields
        == {
            "traceparent",
            "tracestate",
        }
    )


def test_inject_sets_flags_this_level_does_not_define_to_zero() -> None:
    span_context = otel_trace.SpanContext(
        int(TRACE_ID, 16), int(PARENT_ID, 16), False, otel_trace.TraceFlags(0xFF)
    )
    context = otel_trace.set_span_in_context(otel_trace.NonRecordingSpan(span_context))
    assert _injected(context)["traceparent"].endswith("-03")


def test_the_random_flag_is_put_back_for_its_trace_only() -> None:
    """OpenTelemetry SDKs before 1.45 drop the flag from child spans: the state carries it."""
    state = _Level2TraceState._of(_Level2TraceState.from_header(["a=1"])._state, int(TRACE_ID, 16))
    for trace_id, flags in [(TRACE_ID, "-03"), ("a" * 32, "-01")]:
        span_context = otel_trace.SpanContext(
            int(trace_id, 16),
            int(PARENT_ID, 16),
            False,
            otel_trace.TraceFlags(0x01),
            state.update("b", "2"),  # a new state from an update still knows
        )
        context = otel_trace.set_span_in_context(otel_trace.NonRecordingSpan(span_context))
        assert _injected(context) == {
            "traceparent": f"00-{trace_id}-{PARENT_ID}{flags}",
            "tracestate": "b=2,a=1",
        }


# -- Level 2 keys survive OpenTelemetry --------------------------------------------------


def test_opentelemetrys_own_trace_state_still_drops_level_2_keys() -> None:
    """Why ``_Level2TraceState`` exists. If this fails, OpenTelemetry now keeps Level 2 keys
    and the subclass may be unnecessary: check the tests below and decide."""
    entries = [("foo@", "1"), ("foo@@bar", "2"), ("t" * 242 + "@v", "3"), ("ok", "4")]
    assert list(otel_trace.TraceState(entries)) == ["ok"]
    assert otel_trace.TraceState().add("foo@", "1").to_header() == ""


def test_every_public_method_of_opentelemetrys_trace_state_is_overridden() -> None:
    """A method OpenTelemetry adds would read its own storage and re-check keys: override it."""
    theirs = {
        name
        for name, member in vars(otel_trace.TraceState).items()
        if callable(member) or isinstance(member, (classmethod, staticmethod, property))
    }
    ours = set(vars(_Level2TraceState))
    assert theirs - ours == set()


def test_level_2_trace_state_keeps_level_2_keys_through_every_method() -> None:
    state = _Level2TraceState.from_header([LEVEL_2_STATE])
    assert isinstance(state, otel_trace.TraceState)
    assert state.to_header() == LEVEL_2_STATE
    assert list(state) == list(state.keys()) == ["foo@", "foo@@bar", "t" * 242 + "@v", "1digit"]
    assert list(state.values()) == ["1", "2", "3", "4"]
    assert dict(state.items())["foo@"] == "1" and state["foo@@bar"] == "2"
    assert "foo@" in state and len(state) == 4 and state.get("nope") is None
    assert state.update("new@x", "5").to_header() == "new@x=5," + LEVEL_2_STATE
    assert state.update("foo@@bar", "9").to_header().startswith("foo@@bar=9,foo@=1,t")
    assert state.add("x@", "6").to_header() == "x@=6," + LEVEL_2_STATE
    assert state.add("foo@", "7") is state  # OpenTelemetry's add never replaces
    assert state.delete("foo@").to_header() == LEVEL_2_STATE[len("foo@=1,") :]
    assert state == _Level2TraceState.from_header([LEVEL_2_STATE])
    assert dict(state) == dict(_Level2TraceState(list(state.items())))
    assert "foo@" in repr(state)
    assert _Level2TraceState.get_default().to_header() == ""
    assert state._dict == dict(state.items())  # what OpenTelemetry's own code would read


def test_level_2_trace_state_refuses_invalid_entries_as_opentelemetry_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = _Level2TraceState([("a", "1")])
    with caplog.at_level(logging.WARNING, "azure_core_tracing_opentelemetry.propagator"):
        assert state.update("@bad", "1") is state
        assert state.add("a", "x,y") is state
        assert state.update("a", "x,y") is state
        assert len(_Level2TraceState([("a", "1"), ("a", "2")])) == 0
        assert len(_Level2TraceState([(f"k{n}", "v") for n in range(33)])) == 0
    assert len(caplog.records) == 5
    assert _Level2TraceState.from_header(["a=1,@b=2"]).to_header() == ""


@pytest.mark.parametrize(
    "sampler", [None, ParentBased(TraceIdRatioBased(1.0))], ids=["default", "ratio"]
)
def test_level_2_keys_go_from_a_server_span_to_a_child_client_span_to_the_header(
    sampler: Optional[ParentBased],
) -> None:
    """Guards the SDK's behaviour we rely on: a child span gets its parent's state object."""
    sdk = TracerProvider() if sampler is None else TracerProvider(sampler=sampler)
    tracer = sdk.get_tracer("t")
    remote = PROPAGATOR.extract(
        [("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-03"), ("tracestate", LEVEL_2_STATE)],
        getter=LINES,
    )
    server = tracer.start_span("server", remote, kind=otel_trace.SpanKind.SERVER)
    under_server = otel_trace.set_span_in_context(server)
    with tracer.start_as_current_span("client", under_server, otel_trace.SpanKind.CLIENT) as client:
        outgoing = _injected()
    assert outgoing["tracestate"] == LEVEL_2_STATE
    assert outgoing["traceparent"] == (
        f"00-{TRACE_ID}-{format(client.get_span_context().span_id, '016x')}-03"
    )
    sdk.shutdown()


# -- selected by name --------------------------------------------------------------------


def test_otel_propagators_tracecontext_l2_selects_it() -> None:
    script = textwrap.dedent(
        f"""
        import json
        from opentelemetry import propagate
        carrier = {{"traceparent": "{UNSAMPLED}", "tracestate": "foo@=1,bar=2"}}
        kept = {{}}
        propagate.inject(kept, propagate.extract(carrier))
        duplicated = {{}}
        propagate.inject(duplicated, propagate.extract({{"traceparent": ["{SAMPLED}"] * 2}}))
        print(json.dumps([kept, duplicated]))
        """
    )
    env = {**os.environ, "OTEL_PROPAGATORS": "tracecontext-l2"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    kept, duplicated = json.loads(result.stdout)
    assert kept == {"traceparent": UNSAMPLED, "tracestate": "foo@=1,bar=2"}
    assert duplicated == {}
