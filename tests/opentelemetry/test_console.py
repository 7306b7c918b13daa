from __future__ import annotations

import io
import re
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from azure_core_tracing import ClientOptions, TelemetryOptions, TracingContextFactory
from azure_core_tracing.http import Request
from azure_core_tracing_opentelemetry import ConsoleTreeExporter, OpenTelemetryProvider
from tests.http.conftest import TracedClient
from tests.local_server import LocalServer, Reply


def _provider(out: io.StringIO, **kwargs: Any) -> tuple[TracerProvider, OpenTelemetryProvider]:
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(ConsoleTreeExporter(out, **kwargs)))
    return sdk, OpenTelemetryProvider.create(sdk)


def test_prints_the_trace_as_a_tree_once_the_root_ends(server: LocalServer) -> None:
    out = io.StringIO()
    sdk, provider = _provider(out)
    url = server.script("/items/1", Reply(503), Reply(200, {"x-ms-request-id": "svc-1"}))
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
    options.retry.retry_delay = 0.001
    TracedClient(options).call(Request("GET", url))
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"trace [0-9a-f]{32}", lines[0])
    assert re.match(
        r"└─ TracedClient\.call  \[INTERNAL\]  \d+\.\d ms  UNSET  az\.namespace=", lines[1]
    )
    assert re.match(
        r"   ├─ HTTP GET #0  \[CLIENT\]  \d+\.\d ms  ERROR  http\.status_code=503  ", lines[2]
    )
    assert re.match(
        r"   └─ HTTP GET #1  \[CLIENT\]  \d+\.\d ms  UNSET  http\.status_code=200  ", lines[3]
    )
    assert "serviceRequestId=svc-1" in lines[3]
    assert "az.namespace" not in lines[2] + lines[3]  # same as the parent's: left out
    assert f"http.url={url}" in lines[3]
    assert len(lines) == 4
    sdk.shutdown()


def test_nothing_is_printed_until_the_root_ends_and_exceptions_are_shown() -> None:
    out = io.StringIO()
    sdk, provider = _provider(out)
    options = ClientOptions(
        telemetry=TelemetryOptions(tracing_provider=provider, suppress_nested_spans=False)
    )
    factory = TracingContextFactory(options, "Svc", "1")
    with pytest.raises(KeyError), factory.create_span("root") as root:
        with factory.create_span("child", root.context):
            pass
        assert out.getvalue() == ""
        raise KeyError("gone")
    text = out.getvalue()
    assert "root  [INTERNAL]" in text and "ERROR" in text and "exception=KeyError" in text
    assert text.index("root") < text.index("child")
    sdk.shutdown()


def test_spans_whose_root_never_ends_are_printed_at_shutdown() -> None:
    out = io.StringIO()
    sdk, provider = _provider(out)
    factory = TracingContextFactory(
        ClientOptions(
            telemetry=TelemetryOptions(tracing_provider=provider, suppress_nested_spans=False)
        ),
        "Svc",
        "1",
    )
    ctx, _root = factory.create_span("never-ends")
    factory.create_span("orphan", ctx).span.end()
    assert out.getvalue() == ""
    sdk.shutdown()
    assert "orphan" in out.getvalue()


def test_pending_spans_are_bounded() -> None:
    out = io.StringIO()
    sdk, provider = _provider(out, max_pending_spans=2)
    factory = TracingContextFactory(
        ClientOptions(
            telemetry=TelemetryOptions(tracing_provider=provider, suppress_nested_spans=False)
        ),
        "Svc",
        "1",
    )
    ctx, _root = factory.create_span("never-ends")
    for index in range(3):
        factory.create_span(f"child-{index}", ctx).span.end()
    assert "child-0" in out.getvalue()
    sdk.shutdown()


def test_max_pending_spans_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_pending_spans"):
        ConsoleTreeExporter(max_pending_spans=0)
