"""End to end: service call → OpenTelemetry SDK → OTLP/HTTP → a protobuf-decoding receiver."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from azure_core_tracing import ClientOptions, Context
from azure_core_tracing.http import Request
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from tests.http.conftest import SERVICE, TracedClient
from tests.local_server import LocalServer, Reply
from tests.otlp_receiver import OtlpReceiver


def test_service_and_http_spans_arrive_over_otlp_with_attributes_and_parents(
    server: LocalServer, otlp_receiver: OtlpReceiver
) -> None:
    url = server.script("/items/1", Reply(503), Reply(200, {"x-ms-request-id": "svc-9"}))
    sdk = TracerProvider(resource=Resource.create({"service.name": "otlp-test"}))
    sdk.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_receiver.endpoint)))
    Context.application_context.set_tracer_provider(OpenTelemetryProvider.create(sdk))
    options = ClientOptions()
    options.retry.retry_delay = 0.001
    try:
        TracedClient(options).call(Request("GET", f"{url}?api-version=1&sig=s3cr3t"))
        assert sdk.force_flush(10_000)
    finally:
        sdk.shutdown()

    spans = {s.name: s for s in otlp_receiver.wait_for(3)}
    assert set(spans) == {"TracedClient.call", "HTTP GET #0", "HTTP GET #1"}
    service, first, second = spans["TracedClient.call"], spans["HTTP GET #0"], spans["HTTP GET #1"]
    assert service.parent_span_id == ""
    assert first.parent_span_id == second.parent_span_id == service.span_id
    assert len({service.trace_id, first.trace_id, second.trace_id}) == 1
    assert first.kind == second.kind == ProtoSpan.SPAN_KIND_CLIENT
    assert service.kind == ProtoSpan.SPAN_KIND_INTERNAL
    assert service.attributes == {"az.namespace": SERVICE}
    assert first.attributes["http.status_code"] == 503
    assert first.status_code == 2  # STATUS_CODE_ERROR
    assert second.attributes["http.status_code"] == 200
    assert second.attributes["serviceRequestId"] == "svc-9"
    assert second.attributes["http.url"] == f"{url}?api-version=1&sig=REDACTED"
    assert second.attributes["http.method"] == "GET"
    assert first.attributes["requestId"] == second.attributes["requestId"]
    assert first.scope_name == "azure-test"
    assert service.resource["service.name"] == "otlp-test"
    received = [r.headers["traceparent"] for r in server.received]
    assert [tp.split("-")[2] for tp in received] == [first.span_id, second.span_id]
