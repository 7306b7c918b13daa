"""What tracing costs per call, as ratios against peers measured in the same run.

Peers: a plain method call, hand-wired OpenTelemetry (``start_as_current_span``) and, when
``azure-core`` is installed (``pip install azure-core``), its own ``distributed_trace``.
The pipeline rows send through an in-memory transport, so they measure the policies alone.

Run: ``python benchmarks/bench_tracing_overhead.py [--number N]``
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry import trace as otel_trace
from opentelemetry.propagate import inject
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from azure_core_tracing import ClientOptions, Context, TracingContextFactory, distributed_trace
from azure_core_tracing.http import HttpPipeline, HttpTransport, RawResponse, Request
from azure_core_tracing_opentelemetry import OpenTelemetryProvider


class _DropExporter(SpanExporter):
    """Keeps nothing, so the numbers are the SDK's span work and ours, not an exporter's."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _CannedTransport(HttpTransport):
    def send(self, request: Request, context: Context) -> RawResponse:
        return RawResponse(200, "OK", {"x-ms-request-id": "r"}, b"{}")


class _Client:
    def __init__(self) -> None:
        self._tracing_factory = TracingContextFactory(ClientOptions(), "Bench.Service", "1.0")

    def plain(self, value: int, *, context: Optional[Context] = None) -> int:
        return value + 1

    @distributed_trace
    def decorated(self, value: int, *, context: Optional[Context] = None) -> int:
        return value + 1

    def managed(self, value: int, *, context: Optional[Context] = None) -> int:
        with self._tracing_factory.create_span("Client.managed", context):
            return value + 1


def _azure_core_peer() -> Optional[Callable[[int], int]]:
    try:
        from azure.core.tracing.decorator import distributed_trace as azure_trace
    except ImportError:
        return None

    @azure_trace
    def operation(value: int) -> int:
        return value + 1

    return operation  # type: ignore[no-any-return]


def _per_call_ns(function: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e9


def _report(title: str, rows: list[tuple[str, float]], base: str) -> None:
    base_ns = dict(rows)[base]
    print(f"\n{title}")
    print(f"  {'scenario':44} {'ns/call':>10} {'ratio':>8}")
    for name, ns in rows:
        print(f"  {name:44} {ns:10.0f} {ns / base_ns:7.2f}x")
    print(f"  (ratio against: {base})")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000, help="calls per timing")
    number = parser.parse_args(argv).number
    client = _Client()
    azure_core = _azure_core_peer()
    request_url = "https://bench.example/items/1?api-version=1"
    pipeline = HttpPipeline(ClientOptions(), "bench", "1.0", transport=_CannedTransport())

    # Tracing off: nothing configured anywhere.
    off = [
        ("plain method call", _per_call_ns(lambda: client.plain(1), number)),
        (
            "ours: @distributed_trace, no provider",
            _per_call_ns(lambda: client.decorated(1), number),
        ),
        ("ours: with create_span(), no provider", _per_call_ns(lambda: client.managed(1), number)),
    ]
    if azure_core is not None:
        off.append(
            (
                "azure-core: @distributed_trace, tracing off",
                _per_call_ns(lambda: azure_core(1), number),
            )
        )
    _report("Service method, tracing off", off, "plain method call")

    # Tracing on: the same OpenTelemetry SDK provider for every peer.
    sdk = TracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(_DropExporter()))
    otel_trace.set_tracer_provider(sdk)
    tracer = sdk.get_tracer("bench")

    def hand_wired() -> int:
        with tracer.start_as_current_span(
            "Client.hand_wired", attributes={"az.namespace": "Bench.Service"}
        ):
            return 2

    Context.application_context.set_tracer_provider(OpenTelemetryProvider.create(sdk))
    on = [
        ("hand-wired OpenTelemetry span", _per_call_ns(hand_wired, number)),
        (
            "ours: @distributed_trace, OpenTelemetry",
            _per_call_ns(lambda: client.decorated(1), number),
        ),
        (
            "ours: with create_span(), OpenTelemetry",
            _per_call_ns(lambda: client.managed(1), number),
        ),
    ]
    if azure_core is not None:
        from azure.core.settings import settings

        settings.tracing_enabled = True
        on.append(
            (
                "azure-core: @distributed_trace, tracing on",
                _per_call_ns(lambda: azure_core(1), number),
            )
        )
        settings.tracing_enabled = False
    _report("Service method, tracing on", on, "hand-wired OpenTelemetry span")

    # The pipeline's own cost: retry, request id, user agent, tracing and logging policies.
    Context.application_context.set_tracer_provider(None)
    transport = _CannedTransport()
    pipe = [
        (
            "transport alone (no pipeline)",
            _per_call_ns(lambda: transport.send(Request("GET", request_url), Context()), number),
        ),
        (
            "pipeline, tracing off",
            _per_call_ns(lambda: pipeline.send(Request("GET", request_url)), number),
        ),
    ]

    def hand_wired_http() -> RawResponse:
        request = Request("GET", request_url)
        attributes = {
            "az.namespace": "Bench.Service",
            "http.method": "GET",
            "http.url": request_url,
            "http.user_agent": "bench",
            "requestId": "id",
        }
        with tracer.start_as_current_span(
            "HTTP GET #0", kind=otel_trace.SpanKind.CLIENT, attributes=attributes
        ) as span:
            inject(request.headers)
            response = transport.send(request, Context())
            span.set_attributes({"http.status_code": 200, "serviceRequestId": "r"})
            return response

    pipe.append(
        ("transport + hand-wired OpenTelemetry HTTP span", _per_call_ns(hand_wired_http, number))
    )
    Context.application_context.set_tracer_provider(OpenTelemetryProvider.create(sdk))
    pipe.append(
        (
            "pipeline, tracing on (one HTTP span)",
            _per_call_ns(lambda: pipeline.send(Request("GET", request_url)), number),
        )
    )
    _report(
        "HTTP pipeline per request (in-memory transport)", pipe, "transport alone (no pipeline)"
    )
    Context.application_context.set_tracer_provider(None)
    sdk.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
