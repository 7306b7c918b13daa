from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from azure_core_tracing import Context, OperationCancelledError
from azure_core_tracing.http import (
    Request,
    RequestsTransport,
    TransportConnectionError,
    TransportTimeoutError,
)
from tests.local_server import LocalServer, Reply, refused_url


def test_sends_method_headers_and_body_and_reads_the_response(server: LocalServer) -> None:
    url = server.script("/echo", Reply(201, {"X-Reply": "yes"}, b"created"))
    transport = RequestsTransport()
    response = transport.send(Request("post", url, {"X-Sent": "1"}, "héllo"), Context())
    assert (response.status_code, response.reason, response.body) == (201, "Created", b"created")
    assert response.headers["x-reply"] == "yes"
    (received,) = server.received
    assert (received.method, received.headers["x-sent"]) == ("POST", "1")
    assert received.body == "héllo".encode()


def test_connections_are_pooled_across_calls(server: LocalServer) -> None:
    url = server.script("/pool", Reply(200))
    session = requests.Session()
    transport = RequestsTransport(session)
    for _ in range(3):
        transport.send(Request("GET", url), Context())
    assert transport.session is session
    assert len({r.client_port for r in server.received}) == 1  # one kept-alive connection
    transport.close()
    transport.send(Request("GET", url), Context())  # a caller's session is not closed by us


def test_refused_connection_is_a_transport_connection_error() -> None:
    with pytest.raises(TransportConnectionError) as caught:
        RequestsTransport().send(Request("GET", refused_url()), Context())
    assert isinstance(caught.value, ConnectionError)
    assert isinstance(caught.value.__cause__, requests.ConnectionError)


def test_read_timeout_is_a_transport_timeout_error(server: LocalServer) -> None:
    url = server.script("/slow", Reply(200, delay=1.0))
    with pytest.raises(TransportTimeoutError) as caught:
        RequestsTransport(read_timeout=0.1).send(Request("GET", url), Context())
    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value.__cause__, requests.Timeout)


def test_a_deadline_shortens_the_timeout(server: LocalServer) -> None:
    url = server.script("/slow", Reply(200, delay=1.0))
    ctx = Context().with_deadline(datetime.now(timezone.utc) + timedelta(milliseconds=150))
    started = datetime.now(timezone.utc)
    with pytest.raises(TransportTimeoutError):
        RequestsTransport(read_timeout=30).send(Request("GET", url), ctx)
    assert datetime.now(timezone.utc) - started < timedelta(seconds=0.9)


def test_a_cancelled_context_sends_nothing(server: LocalServer) -> None:
    url = server.script("/x", Reply(200))
    ctx = Context()
    ctx.cancel()
    with pytest.raises(OperationCancelledError):
        RequestsTransport().send(Request("GET", url), ctx)
    assert server.received == []


def test_streaming_reads_the_body_in_chunks(server: LocalServer) -> None:
    payload = bytes(range(256)) * 1024
    url = server.script("/big", Reply(200, body=payload))
    with RequestsTransport().send(Request("GET", url, stream=True), Context()) as response:
        chunks = list(response.iter_bytes())
    assert b"".join(chunks) == payload
    assert len(chunks) >= 4


def test_redirects_are_returned_not_followed(server: LocalServer) -> None:
    url = server.script("/moved", Reply(302, {"Location": "/elsewhere"}))
    response = RequestsTransport().send(Request("GET", url), Context())
    assert response.status_code == 302
    assert [r.path for r in server.received] == ["/moved"]


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="connection_timeout"):
        RequestsTransport(connection_timeout=0)
    with pytest.raises(ValueError, match="read_timeout"):
        RequestsTransport(read_timeout=-1)
