"""An API call that raises an ``HttpResponseError``, exported by the real OpenTelemetry SDK:
the exception event, ERROR and ``error.type``, with nothing of the body or URL but the
service's code and message."""

from __future__ import annotations

import json

import pytest
from opentelemetry.trace import StatusCode

from azure_core_tracing.exceptions import ResourceNotFoundError, map_error
from azure_core_tracing.http import HttpPipeline, Request
from tests.local_server import LocalServer, Reply
from tests.opentelemetry.conftest import Otel

SECRET = "s3cr3t-in-body"


def test_an_api_span_that_raises_exports_error_type(otel: Otel, server: LocalServer) -> None:
    body = json.dumps({"error": {"code": "NoWidget", "message": "No w1."}, "k": SECRET})
    url = server.script("/w/w1", Reply(404, {}, body.encode()))
    factory = otel.factory()
    with (
        HttpPipeline(otel.options(), tracing_factory=factory) as pipeline,
        pytest.raises(ResourceNotFoundError),
        factory.create_span("Client.get") as scope,
    ):
        response = pipeline.send(Request("GET", f"{url}?sig={SECRET}"), scope.context)
        map_error(response.status_code, response, {404: ResourceNotFoundError})
    (span,) = otel.named("Client.get")
    assert span.attributes is not None
    assert span.attributes["error.type"] == "azure_core_tracing.exceptions.ResourceNotFoundError"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == (
        "ResourceNotFoundError: (NoWidget) No w1. Status: 404 (Not Found)"
    )
    (event,) = span.events
    assert event.name == "exception"
    assert SECRET not in repr(dict(event.attributes or {}))
