"""Per-call tracing options ride in the context, so every try of the call sees them: tracing
off, extra attributes, statuses that are no error. Links tie a span to another trace."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from azure_core_tracing import (
    ClientOptions,
    Context,
    Link,
    TracingContextFactory,
    distributed_trace,
    tracing_options,
)
from azure_core_tracing.http import Request
from azure_core_tracing.tracecontext import TraceParent, TraceState
from tests.http.conftest import TracedClient
from tests.local_server import LocalServer, Reply
from tests.recording import RecordingTracerProvider
from tests.support import options_for, wrong

TRACE_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
def fast_options() -> ClientOptions:
    return options_for(None)


def _three_tries(server: LocalServer) -> str:
    return server.script("/flaky", Reply(503), Reply(503), Reply(200))


def test_enabled_false_traces_nothing_and_sends_no_trace_headers_on_any_try(
    server: LocalServer, app_recorder: RecordingTracerProvider, fast_options: ClientOptions
) -> None:
    url = _three_tries(server)
    client = TracedClient(fast_options)
    response = client.call(Request("GET", url), tracing_options(Context(), enabled=False))
    assert response.status_code == 200
    assert len(server.received) == 3
    assert all("traceparent" not in r.headers for r in server.received)
    assert app_recorder.started == []


def test_per_call_attributes_are_on_the_api_span_and_every_http_span(
    server: LocalServer, app_recorder: RecordingTracerProvider, fast_options: ClientOptions
) -> None:
    url = _three_tries(server)
    context = tracing_options(Context(), attributes={"tenant": "contoso", "batch": 7})
    TracedClient(fast_options).call(Request("GET", url), context)
    spans = app_recorder.finished
    assert [s.name for s in spans] == [
        "HTTP GET #0",
        "HTTP GET #1",
        "HTTP GET #2",
        "TracedClient.call",
    ]
    for span in spans:
        assert (span.attributes["tenant"], span.attributes["batch"]) == ("contoso", 7)
        assert span.attributes["az.namespace"] == "Azure.Test.Service"  # the SDK's own stay


@pytest.mark.parametrize("mode", ["", "http"])
def test_an_expected_status_is_no_error_and_an_unexpected_one_still_is(
    server: LocalServer,
    app_recorder: RecordingTracerProvider,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", mode)
    missing = server.script("/missing", Reply(404))
    broken = server.script("/broken", Reply(500))
    options = ClientOptions()
    options.retry.max_retries = 0
    client = TracedClient(options)
    context = tracing_options(Context(), expected_status_codes={404})
    assert client.call(Request("GET", missing), context).status_code == 404
    assert client.call(Request("GET", broken), context).status_code == 500
    not_found, failed = (s for s in app_recorder.finished if s.name == "HTTP GET #0")
    assert not_found.status.name == "UNSET" and "error.type" not in not_found.attributes
    assert failed.status.name == "ERROR"
    if mode == "http":
        assert failed.attributes["error.type"] == "500"


def test_enabled_true_traces_with_the_application_provider_and_overrides_an_outer_false(
    server: LocalServer, app_recorder: RecordingTracerProvider
) -> None:
    url = server.script("/on", Reply(200))
    client = TracedClient()  # no provider of its own
    off = tracing_options(Context(), enabled=False)
    client.call(Request("GET", url), tracing_options(off, enabled=True))
    assert [s.name for s in app_recorder.finished] == ["HTTP GET #0", "TracedClient.call"]


def test_options_layer_over_the_ones_in_the_context() -> None:
    from azure_core_tracing.call_options import call_options

    first = tracing_options(Context(), attributes={"a": 1}, expected_status_codes=[404])
    second = tracing_options(first, attributes={"b": 2}, enabled=False)
    options = call_options(second)
    assert options.enabled is False
    assert dict(options.attributes) == {"a": 1, "b": 2}
    assert options.expected_status_codes == frozenset({404})
    assert call_options(first).enabled is None


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"enabled": "no"}, TypeError, "enabled"),
        ({"attributes": {"a": object()}}, TypeError, "'a'"),
        ({"attributes": [("a", 1)]}, TypeError, "attributes"),
        ({"expected_status_codes": {42}}, ValueError, "expected_status_codes"),
        ({"expected_status_codes": "404"}, TypeError, "expected_status_codes"),
    ],
)
def test_tracing_options_check_their_arguments(
    kwargs: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        tracing_options(Context(), **kwargs)
    with pytest.raises(TypeError, match="context"):
        tracing_options(wrong(None))


# --- links ------------------------------------------------------------------------------------


def test_a_link_comes_from_valid_headers_in_any_case_and_none_from_invalid_ones() -> None:
    link = Link.from_headers(
        {"TraceParent": TRACEPARENT, "tracestate": ["a=1", "foo@=2"]}, {"message.id": "m1"}
    )
    assert link is not None
    assert link.traceparent == TraceParent(TRACE_ID, PARENT_ID, 1)
    assert link.tracestate == TraceState((("a", "1"), ("foo@", "2")))
    assert dict(link.attributes) == {"message.id": "m1"}
    for headers in (
        {},
        {"traceparent": "00-nonsense"},
        {"traceparent": [TRACEPARENT, TRACEPARENT]},  # two values: invalid
        {"traceparent": TRACEPARENT.upper()},
        wrong(None),
        wrong({"traceparent": 42}),
        wrong({1: TRACEPARENT}),
    ):
        assert Link.from_headers(headers) is None
    bad_state = Link.from_headers({"traceparent": TRACEPARENT, "tracestate": "no spaces=1 2"})
    assert bad_state is not None and bad_state.tracestate is None  # only the state is dropped


def test_the_factory_and_the_decorator_take_links(
    recorder: RecordingTracerProvider, caplog: pytest.LogCaptureFixture
) -> None:
    link = Link.from_headers({"traceparent": TRACEPARENT})

    class Consumer:
        def __init__(self) -> None:
            self._tracing_factory = TracingContextFactory(options_for(recorder), "Svc", "1.0")

        @distributed_trace(links=[link, None])
        def fixed(self) -> None:
            pass

        @distributed_trace(links=lambda self, message: [Link.from_headers(message)])
        def process(self, message: dict[str, str]) -> str:
            return "processed"

        @distributed_trace(links=lambda self: 1 / 0)
        def broken(self) -> str:
            return "still runs"

    consumer = Consumer()
    consumer.fixed()
    assert consumer.process({"traceparent": TRACEPARENT}) == "processed"
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        assert consumer.broken() == "still runs"
    consumer._tracing_factory.create_span("Manual", links=[link]).span.end()
    by_name = {span.name.rpartition("<locals>.")[2]: span for span in recorder.finished}
    assert by_name["Consumer.fixed"].links == (link,)
    assert by_name["Consumer.process"].links == (link,)
    assert by_name["Consumer.broken"].links == ()
    assert by_name["Manual"].links == (link,)
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "links" in warning and "ZeroDivisionError" in warning and "without links" in warning


def test_links_are_checked() -> None:
    factory = TracingContextFactory(ClientOptions(), "Svc", "1.0")
    with pytest.raises(TypeError, match="links"):
        factory.create_span("Op", links=wrong([TRACEPARENT]))
    with pytest.raises(TypeError, match="links"):
        distributed_trace(links=wrong(42))
    with pytest.raises(TypeError, match="traceparent"):
        Link(wrong(TRACEPARENT))
