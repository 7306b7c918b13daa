"""A test service for the W3C Trace Context harness (``test/test.py`` of w3c/trace-context).

It listens on 127.0.0.1. For each POST, the harness's JSON body is an array of
``{"url": ..., "arguments": ...}``. The service extracts the incoming trace context with
``W3CTraceContextPropagator`` from every ``traceparent``/``tracestate`` header line as
received, opens a SERVER span under it through ``TracingContextFactory``, and POSTs each
element's ``arguments`` as JSON to its ``url`` through ``HttpPipeline``, in order, so
``RequestActivityPolicy`` makes a CLIENT span per call and injects its headers.

Run: ``python samples/w3c_test_service.py --port 5000`` (``--port 0``: any free port). It
prints ``W3C test service ready on http://127.0.0.1:PORT/test`` once it accepts requests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

from opentelemetry import context as otel_context
from opentelemetry.propagate import set_global_textmap
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.trace import TracerProvider

from azure_core_tracing import ClientOptions, Context, SpanKind, SpanStatus, TracingContextFactory
from azure_core_tracing.exceptions import AzureError
from azure_core_tracing.http import HttpPipeline, Request
from azure_core_tracing_opentelemetry import OpenTelemetryProvider, W3CTraceContextPropagator

PACKAGE = "w3c-test-service"
VERSION = "1.0.0"
MAX_BODY = 1024 * 1024


class HeaderLines(Getter[Message]):
    """Every line of a header as ``http.server`` received it: not joined, in order."""

    def get(self, carrier: Message, key: str) -> Optional[list[str]]:
        lines = carrier.get_all(key)
        return None if lines is None else [str(line) for line in lines]

    def keys(self, carrier: Message) -> list[str]:
        return list(carrier.keys())


def _actions(payload: Any) -> list[tuple[str, Any]]:
    """The harness's (url, arguments) pairs; ValueError when the body is not that shape."""
    if not isinstance(payload, list):
        raise ValueError("the body must be a JSON array")
    actions = []
    for element in payload:
        if not isinstance(element, dict) or not isinstance(element.get("url"), str):
            raise ValueError("each element must be an object with a string url")
        actions.append((element["url"], element.get("arguments", [])))
    return actions


class W3CTestService:
    """The HTTP server, its tracing factory and the pipeline it calls the harness back with."""

    def __init__(self, port: int) -> None:
        options = ClientOptions()
        options.retry.max_retries = 0  # a retry would call the harness back twice
        self.factory = TracingContextFactory(
            options, "W3C.TestService", VERSION, package_name=PACKAGE
        )
        self.pipeline = HttpPipeline(options, tracing_factory=self.factory)
        self.propagator = W3CTraceContextPropagator()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    if not 0 <= length <= MAX_BODY:
                        raise ValueError("body too large")
                    actions = _actions(json.loads(self.rfile.read(length) or b"[]"))
                except ValueError as error:  # json.JSONDecodeError is a ValueError
                    self._reply(400, {"error": str(error)})
                    return
                self._reply(200, service.handle(self.headers, actions))

            def _reply(self, status: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/test"

    def handle(self, headers: Message, actions: list[tuple[str, Any]]) -> list[Any]:
        """Call every url in order under a SERVER span whose parent is the incoming context."""
        incoming = self.propagator.extract(headers, getter=HeaderLines())
        # With no parent span in the azure Context, the adapter's tracer uses OpenTelemetry's
        # current context: attached here, the extracted remote parent is that context.
        token = otel_context.attach(incoming)
        try:
            with self.factory.create_span("POST /test", kind=SpanKind.SERVER) as scope:
                results = [self._call(url, arguments, scope.context) for url, arguments in actions]
                scope.span.set_status(SpanStatus.OK)
        finally:
            otel_context.detach(token)
        return results

    def _call(self, url: str, arguments: Any, context: Context) -> Any:
        body = json.dumps(arguments).encode()
        try:
            request = Request("POST", url, {"Content-Type": "application/json"}, body)
            return self.pipeline.send(request, context).status_code
        except (ValueError, AzureError) as error:
            return f"{type(error).__name__}: {error}"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5000, help="port on 127.0.0.1 (0: any)")
    args = parser.parse_args(argv)

    # Inject (RequestActivityPolicy, through OpenTelemetry's global propagator) at Level 2 too.
    set_global_textmap(W3CTraceContextPropagator())
    tracer_provider = TracerProvider()
    Context.application_context.set_tracer_provider(OpenTelemetryProvider.create(tracer_provider))

    service = W3CTestService(args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"W3C test service ready on {service.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        service.httpd.serve_forever(poll_interval=0.1)
    service.httpd.server_close()
    service.pipeline.close()
    tracer_provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
