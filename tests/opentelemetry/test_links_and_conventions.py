"""Links become OpenTelemetry span links; the console shows the stable HTTP names too."""

from __future__ import annotations

import io

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from azure_core_tracing import ClientOptions, Link, TelemetryOptions
from azure_core_tracing.http import Request
from azure_core_tracing_opentelemetry import ConsoleTreeExporter, OpenTelemetryProvider
from tests.http.conftest import TracedClient
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel

TRACE_ID, PARENT_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def test_a_link_is_an_opentelemetry_span_link_with_its_level_2_tracestate(otel: Otel) -> None:
    link = Link.from_headers(
        {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-03", "tracestate": "foo@=1,a=2"},
        {"messaging.message.id": "m-1"},
    )
    otel.factory().create_span("Consume", links=[link, Link.from_headers({})]).span.end()
    (span,) = otel.named("Consume")
    (otel_link,) = span.links
    context = otel_link.context
    assert (format(context.trace_id, "032x"), format(context.span_id, "016x")) == (
        TRACE_ID,
        PARENT_ID,
    )
    assert context.is_remote and int(context.trace_flags) == 3
    assert list(context.trace_state.items()) == [("foo@", "1"), ("a", "2")]
    assert dict(otel_link.attributes or {}) == {"messaging.message.id": "m-1"}
    assert span.context is not None and span.context.trace_id != int(TRACE_ID, 16)


@pytest.mark.parametrize(
    ("mode", "shown", "hidden"),
    [
        ("", ["http.status_code=503", "http.url="], ["http.response.status_code"]),
        ("http", ["http.response.status_code=503", "url.full=", "error.type=503"], ["http.url="]),
    ],
)
def test_the_console_shows_the_key_attributes_of_either_convention(
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    shown: list[str],
    hidden: list[str],
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", mode)
    out = io.StringIO()
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(ConsoleTreeExporter(out)))
    options = ClientOptions(
        telemetry=TelemetryOptions(tracing_provider=OpenTelemetryProvider.create(sdk))
    )
    options.retry.retry_delay = 0.001
    TracedClient(options).call(Request("GET", server.script("/c", Reply(503), Reply(200))))
    first_try = next(line for line in out.getvalue().splitlines() if "HTTP GET #0" in line)
    assert all(text in first_try for text in shown), first_try
    assert not any(text in first_try for text in hidden), first_try
