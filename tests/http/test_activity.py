"""RequestActivityPolicy against a real server: one CLIENT span per try, its own traceparent."""

from __future__ import annotations

import logging
import re

import pytest

from azure_core_tracing import ClientOptions, Context, SpanKind, SpanStatus, TelemetryOptions
from azure_core_tracing.http import Request, TransportConnectionError, TransportError
from tests.http.conftest import SERVICE, TracedClient, make_pipeline
from tests.local_server import LocalServer, Reply, refused_url
from tests.recording import RecordingTracerProvider, recorded
from tests.test_factory import _BrokenSpanProvider

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$")


def test_503_then_200_gives_one_span_per_try_each_with_its_own_traceparent(
    server: LocalServer, app_recorder: RecordingTracerProvider, fast_options: ClientOptions
) -> None:
    url = server.script("/flaky", Reply(503), Reply(200, {"x-ms-request-id": "svc-42"}))
    response = TracedClient(fast_options).call(Request("GET", url))
    assert response.status_code == 200

    (service,) = app_recorder.named("TracedClient.call")
    first, second = app_recorder.named("HTTP GET #0")[0], app_recorder.named("HTTP GET #1")[0]
    for span in (first, second):
        assert span.kind is SpanKind.CLIENT
        assert span.parent is service
        assert span.end_calls == 1
        assert span.attributes["az.namespace"] == SERVICE
        assert span.attributes["http.method"] == "GET"
        assert span.attributes["http.url"] == url
        assert str(span.attributes["http.user_agent"]).startswith("azsdk-python-azure-test/1.0.0")
    assert first.attributes["http.status_code"] == 503
    assert first.status is SpanStatus.ERROR
    assert first.description is None
    assert second.attributes["http.status_code"] == 200
    assert second.status is SpanStatus.UNSET
    assert second.attributes["serviceRequestId"] == "svc-42"
    assert "serviceRequestId" not in first.attributes

    seen = [r.headers for r in server.received]
    assert len(seen) == 2
    assert seen[0]["traceparent"] != seen[1]["traceparent"]
    assert seen[0]["traceparent"] == first.traceparent
    assert seen[1]["traceparent"] == second.traceparent
    assert all(TRACEPARENT.match(h["traceparent"]) for h in seen)
    request_ids = {h["x-ms-client-request-id"] for h in seen}
    assert len(request_ids) == 1
    assert first.attributes["requestId"] == second.attributes["requestId"] == request_ids.pop()


def test_refused_connection_gives_a_span_per_try_with_the_exception(
    app_recorder: RecordingTracerProvider, fast_options: ClientOptions
) -> None:
    fast_options.retry.max_retries = 2
    with pytest.raises(TransportConnectionError) as caught:
        TracedClient(fast_options).call(Request("GET", refused_url("/nothing")))
    assert isinstance(caught.value, TransportError)
    assert caught.value.__cause__ is not None
    spans = [s for s in app_recorder.finished if s.name.startswith("HTTP GET")]
    assert [s.name for s in spans] == ["HTTP GET #0", "HTTP GET #1", "HTTP GET #2"]
    for span in spans:
        assert span.status is SpanStatus.ERROR
        assert [e.name for e in span.events] == ["exception"]
        assert isinstance(span.events[0].exception, TransportConnectionError)
        assert "http.status_code" not in span.attributes
    (service,) = app_recorder.named("TracedClient.call")
    assert service.status is SpanStatus.ERROR


def test_no_provider_anywhere_means_no_spans_and_no_traceparent(
    server: LocalServer, recorder: RecordingTracerProvider
) -> None:
    url = server.script("/plain", Reply(200))
    assert TracedClient().call(Request("GET", url)).status_code == 200
    assert recorder.started == []
    assert "traceparent" not in server.received[0].headers
    assert "x-ms-client-request-id" in server.received[0].headers


def test_without_a_service_span_the_pipelines_own_factory_traces_the_request(
    server: LocalServer, recorder: RecordingTracerProvider
) -> None:
    url = server.script("/direct", Reply(204, body=b""))
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=recorder))
    with make_pipeline(options, "azure-direct", "2.0", service_name="Direct.Service") as pipeline:
        pipeline.send(Request("DELETE", url))
    (span,) = recorder.finished
    assert span.name == "HTTP DELETE #0"
    assert span.parent is None
    assert span.attributes["az.namespace"] == "Direct.Service"
    assert span.attributes["http.status_code"] == 204
    assert recorder.tracers == [("azure-direct", "2.0", None)]


def test_a_provider_set_on_the_client_traces_its_http_calls_too(
    server: LocalServer, recorder: RecordingTracerProvider
) -> None:
    url = server.script("/client", Reply(200))
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=recorder))
    TracedClient(options).call(Request("GET", url))
    assert [s.name for s in recorder.finished] == ["HTTP GET #0", "TracedClient.call"]


def test_a_4xx_status_is_error_without_description_and_is_not_retried(
    server: LocalServer, app_recorder: RecordingTracerProvider
) -> None:
    url = server.script("/missing", Reply(404))
    assert TracedClient().call(Request("GET", url)).status_code == 404
    (span,) = app_recorder.named("HTTP GET #0")
    assert span.status is SpanStatus.ERROR
    assert span.description is None
    assert len(server.received) == 1


def test_spans_nest_under_the_callers_context(
    server: LocalServer, app_recorder: RecordingTracerProvider
) -> None:
    url = server.script("/nested", Reply(200))
    options = ClientOptions()
    options.telemetry.suppress_nested_spans = False
    client = TracedClient(options)
    outer_ctx, outer = client._tracing_factory.create_span("Outer", Context())
    client.call(Request("GET", url), outer_ctx)
    (service,) = app_recorder.named("TracedClient.call")
    assert service.parent is recorded(outer)
    assert app_recorder.named("HTTP GET #0")[0].parent is service


def test_a_call_inside_another_calls_span_is_not_a_span_of_its_own(
    server: LocalServer, app_recorder: RecordingTracerProvider
) -> None:
    url = server.script("/nested", Reply(200))
    client = TracedClient()
    outer_ctx, outer = client._tracing_factory.create_span("Outer", Context())
    client.call(Request("GET", url), outer_ctx)
    assert app_recorder.named("TracedClient.call") == []
    assert app_recorder.named("HTTP GET #0")[0].parent is recorded(outer)


def test_a_broken_span_never_breaks_the_request(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.script("/broken", Reply(200, body=b"payload"))
    Context.application_context.set_tracer_provider(_BrokenSpanProvider())
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        for _ in range(2):
            response = TracedClient().call(Request("GET", url))
            assert response.body == b"payload"
    messages = [r.getMessage() for r in caplog.records if r.name == "azure_core_tracing"]
    assert sum("in propagate_to_http_headers of" in m for m in messages) == 1
    assert sum("in activate of" in m for m in messages) == 1
