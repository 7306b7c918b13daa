"""With OpenTelemetry's requests instrumentation on, each try still has exactly one CLIENT span."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.trace import SpanKind

from azure_core_tracing.http import Request
from tests.http.conftest import TracedClient
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel


@pytest.fixture
def instrumented(otel: Otel) -> Iterator[Otel]:
    RequestsInstrumentor().instrument(tracer_provider=otel.sdk)
    try:
        yield otel
    finally:
        RequestsInstrumentor().uninstrument()


def test_one_client_span_per_try_inside_a_traced_call_and_plain_requests_still_traced(
    instrumented: Otel, server: LocalServer
) -> None:
    url = server.script("/flaky", Reply(503), Reply(200))
    assert TracedClient(instrumented.options()).call(Request("GET", url)).status_code == 200

    client_spans = [s for s in instrumented.spans() if s.kind is SpanKind.CLIENT]
    assert [s.name for s in client_spans] == ["HTTP GET #0", "HTTP GET #1"]
    assert [s.instrumentation_scope.name for s in client_spans if s.instrumentation_scope] == [
        "azure-test",
        "azure-test",
    ]

    plain = server.script("/plain", Reply(200))
    assert requests.get(plain, timeout=5).status_code == 200
    instrumentation_spans = [
        s
        for s in instrumented.spans()
        if s.instrumentation_scope
        and s.instrumentation_scope.name == "opentelemetry.instrumentation.requests"
    ]
    assert len(instrumentation_spans) == 1
    assert instrumentation_spans[0].kind is SpanKind.CLIENT
    assert instrumentation_spans[0].parent is None  # the suppression did not leak past the send
