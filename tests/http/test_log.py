"""No secret of a URL or header reaches a span attribute, a log line or an error message."""

from __future__ import annotations

import logging

import pytest

from azure_core_tracing import ClientOptions
from azure_core_tracing.http import Request, TransportError
from tests.http.conftest import TracedClient
from tests.local_server import LocalServer, Reply, refused_url
from tests.recording import RecordingTracerProvider

SIGNATURE = "sv2024SIGNATUREsecret"
TOKEN = "eyJhbGciOiJTOKENsecret"


def test_secrets_never_appear_in_span_attributes_or_log_lines(
    server: LocalServer, app_recorder: RecordingTracerProvider, caplog: pytest.LogCaptureFixture
) -> None:
    base = server.script("/blob", Reply(200, {"x-ms-request-id": "r1", "Set-Cookie": TOKEN}))
    url = f"{base}?sig={SIGNATURE}&api-version=2024-05-01"
    with caplog.at_level(logging.DEBUG, logger="azure_core_tracing"):
        TracedClient().call(Request("GET", url, {"Authorization": f"Bearer {TOKEN}"}))

    (span,) = app_recorder.named("HTTP GET #0")
    assert span.attributes["http.url"] == f"{base}?sig=REDACTED&api-version=2024-05-01"
    lines = [r.getMessage() for r in caplog.records if r.name == "azure_core_tracing.http"]
    assert any("HTTP request GET" in line and "(try 0)" in line for line in lines)
    assert any("HTTP response 200" in line and " ms " in line for line in lines)
    assert any("'Authorization': 'REDACTED'" in line for line in lines)
    everything = " ".join(lines) + repr(span.attributes)
    assert "api-version=2024-05-01" in everything
    assert SIGNATURE not in everything
    assert TOKEN not in everything
    # the real server did get the real values: only telemetry is redacted
    assert server.received[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert SIGNATURE in server.received[0].path


def test_transport_error_messages_and_their_log_lines_hold_no_secret(
    app_recorder: RecordingTracerProvider,
    caplog: pytest.LogCaptureFixture,
    fast_options: ClientOptions,
) -> None:
    fast_options.retry.max_retries = 0
    url = refused_url(f"/blob?sig={SIGNATURE}&api-version=1")
    with (
        caplog.at_level(logging.INFO, logger="azure_core_tracing"),
        pytest.raises(TransportError) as caught,
    ):
        TracedClient(fast_options).call(Request("GET", url.replace("://", f"://me:{TOKEN}@")))
    assert SIGNATURE not in str(caught.value) and TOKEN not in str(caught.value)
    assert "sig=REDACTED&api-version=1" in str(caught.value)
    lines = " ".join(r.getMessage() for r in caplog.records)
    assert "HTTP request failed" in lines
    assert SIGNATURE not in lines and TOKEN not in lines


def test_nothing_is_logged_or_formatted_when_info_is_off(
    server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.script("/quiet", Reply(200))
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        TracedClient().call(Request("GET", url))
    assert [r for r in caplog.records if r.name == "azure_core_tracing.http"] == []


def test_bodies_are_never_logged(server: LocalServer, caplog: pytest.LogCaptureFixture) -> None:
    url = server.script("/body", Reply(200, body=b"RESPONSE-BODY-SECRET"))
    with caplog.at_level(logging.DEBUG, logger="azure_core_tracing"):
        TracedClient().call(Request("PUT", url, body=b"REQUEST-BODY-SECRET"))
    lines = " ".join(r.getMessage() for r in caplog.records)
    assert "HTTP request PUT" in lines
    assert "BODY-SECRET" not in lines
