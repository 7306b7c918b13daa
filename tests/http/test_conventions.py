"""``OTEL_SEMCONV_STABILITY_OPT_IN`` picks the HTTP spans' attribute names, on both pipelines:
the exact attribute sets of a 503-then-200 call and of a refused connection, in each mode."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from azure_core_tracing import ClientOptions, Context
from azure_core_tracing.exceptions import ServiceRequestError
from azure_core_tracing.http import (
    HttpTransport,
    RawResponse,
    Request,
)
from azure_core_tracing.http.conventions import Convention
from tests.http.conftest import SERVICE, TracedClient, make_pipeline
from tests.local_server import LocalServer, Reply, refused_url
from tests.recording import RecordedSpan, RecordingTracerProvider

MODES = {
    None: Convention.DEFAULT,
    "": Convention.DEFAULT,
    "http": Convention.STABLE,
    "http/dup": Convention.DUPLICATE,
    "database, http ": Convention.STABLE,
    "http,http/dup": Convention.DUPLICATE,
    "gen_ai/dup": Convention.DEFAULT,
}


@pytest.mark.parametrize(("value", "expected"), list(MODES.items()))
def test_the_opt_in_variable_is_read_as_opentelemetry_reads_it(
    value: Optional[str], expected: Convention
) -> None:
    environ = {} if value is None else {"OTEL_SEMCONV_STABILITY_OPT_IN": value}
    assert Convention.from_environment(environ) is expected


def _expected(
    mode: Convention,
    *,
    url: str,
    port: int,
    agent: str,
    request_id: str,
    try_number: int,
    status: Optional[int],
    service_id: Optional[str],
    error: Optional[str],
) -> dict[str, Any]:
    legacy: dict[str, Any] = {
        "http.method": "GET",
        "http.url": url,
        "http.user_agent": agent,
        "requestId": request_id,
    }
    stable: dict[str, Any] = {
        "http.request.method": "GET",
        "url.full": url,
        "server.address": "127.0.0.1",
        "server.port": port,
        "user_agent.original": agent,
        "az.client_request_id": request_id,
    }
    if try_number:
        stable["http.request.resend_count"] = try_number
    if status is not None:
        legacy["http.status_code"] = status
        stable["http.response.status_code"] = status
    if service_id is not None:
        legacy["serviceRequestId"] = service_id
        stable["az.service_request_id"] = service_id
    if error is not None:
        stable["error.type"] = error
    chosen = {
        Convention.DEFAULT: legacy,
        Convention.STABLE: stable,
        Convention.DUPLICATE: {**legacy, **stable},
    }[mode]
    return {"az.namespace": SERVICE, **chosen}


def _http_spans(recorder: RecordingTracerProvider) -> list[RecordedSpan]:
    return [s for s in recorder.finished if s.name.startswith("HTTP GET")]


@pytest.mark.parametrize("mode", list(Convention))
def test_a_retried_call_has_exactly_the_attributes_of_its_mode(
    server: LocalServer,
    app_recorder: RecordingTracerProvider,
    fast_options: ClientOptions,
    monkeypatch: pytest.MonkeyPatch,
    mode: Convention,
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", mode.value)
    url = server.script(
        "/item", Reply(503, {"x-ms-request-id": "s-0"}), Reply(200, {"x-ms-request-id": "s-1"})
    )
    TracedClient(fast_options).call(Request("GET", url))
    first, second = _http_spans(app_recorder)
    assert [first.name, second.name] == ["HTTP GET #0", "HTTP GET #1"]  # in every mode
    sent = server.received[0].headers
    common: dict[str, Any] = {
        "url": url,
        "port": int(url.split(":")[2].split("/")[0]),
        "agent": sent["user-agent"],
        "request_id": sent["x-ms-client-request-id"],
    }
    assert first.attributes == _expected(
        mode, **common, try_number=0, status=503, service_id="s-0", error="503"
    )
    assert second.attributes == _expected(
        mode, **common, try_number=1, status=200, service_id="s-1", error=None
    )


@pytest.mark.parametrize("mode", list(Convention))
def test_a_refused_connection_has_exactly_the_attributes_of_its_mode(
    app_recorder: RecordingTracerProvider, monkeypatch: pytest.MonkeyPatch, mode: Convention
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", mode.value)
    url = refused_url("/item")
    options = ClientOptions()
    options.retry.max_retries = 0
    with pytest.raises(ServiceRequestError):
        TracedClient(options).call(Request("GET", url, {"User-Agent": "app/1"}))
    (span,) = _http_spans(app_recorder)
    got = span.attributes
    request_id = str(got.get("requestId") or got.get("az.client_request_id"))
    agent = str(got.get("http.user_agent") or got.get("user_agent.original"))
    assert agent.endswith(" app/1") and len(request_id) == 36
    assert span.attributes == _expected(
        mode,
        url=url,
        port=int(url.split(":")[2].split("/")[0]),
        agent=agent,
        request_id=request_id,
        try_number=0,
        status=None,
        service_id=None,
        error="azure_core_tracing.exceptions.ServiceRequestError",
    )
    assert [e.name for e in span.events] == ["exception"]


def test_the_variable_is_read_when_the_pipeline_is_built(
    server: LocalServer, app_recorder: RecordingTracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.script("/built", Reply(200))
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    client = TracedClient()
    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN")
    client.call(Request("GET", url))
    (span,) = _http_spans(app_recorder)
    assert "http.response.status_code" in span.attributes
    assert "http.status_code" not in span.attributes


class _Canned(HttpTransport):
    """Answers 200 to everything, without a socket (a test's own transport)."""

    def send(self, request: Request, context: Context) -> RawResponse:
        return RawResponse(200)


def test_default_ports_are_written_and_a_redacted_host_stays_redacted(
    app_recorder: RecordingTracerProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    pipeline = make_pipeline(ClientOptions(), "svc", "1.0", transport=_Canned())
    for url in ("https://h.test/a", "http://h.test/a", "http://admin:123/pass@h.test/x"):
        pipeline.send(Request("GET", url))
    spans = app_recorder.finished
    ports = [(s.attributes["server.address"], s.attributes["server.port"]) for s in spans]
    assert ports == [("h.test", 443), ("h.test", 80), ("REDACTED", 80)]
