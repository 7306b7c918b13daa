"""Both transports, ``RequestsTransport`` and ``AioHttpTransport``, against a real server on
127.0.0.1, through one parametrized suite: they must behave alike."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest

from azure_core_tracing import Context, OperationCancelledError
from azure_core_tracing.http import (
    AioHttpTransport,
    Request,
    RequestsTransport,
    TransportConnectionError,
    TransportTimeoutError,
)
from tests.local_server import LocalServer, Reply, refused_url

T = TypeVar("T")


def test_sends_method_headers_and_body_and_reads_the_response(
    server: LocalServer, make_transport: Any
) -> None:
    url = server.script("/echo", Reply(201, {"X-Reply": "yes"}, b"created"))
    response = make_transport().send(Request("post", url, {"X-Sent": "1"}, "héllo"))
    assert (response.status_code, response.reason, response.body) == (201, "Created", b"created")
    assert response.headers["x-reply"] == "yes"
    (received,) = server.received
    assert (received.method, received.headers["x-sent"]) == ("POST", "1")
    assert received.body == "héllo".encode()


def test_connections_are_pooled_across_calls(server: LocalServer, make_transport: Any) -> None:
    url = server.script("/pool", Reply(200))
    transport = make_transport(session=True)
    for _ in range(3):
        transport.send(Request("GET", url))
    assert transport.transport.session is transport.session
    assert len({r.client_port for r in server.received}) == 1  # one kept-alive connection
    if transport.loop is None:
        transport.transport.close()
    else:
        transport.run(transport.transport.close())
    transport.send(Request("GET", url))  # a caller's session is not closed by us


def test_refused_connection_is_a_transport_connection_error(make_transport: Any) -> None:
    transport = make_transport()
    with pytest.raises(TransportConnectionError) as caught:
        transport.send(Request("GET", refused_url()))
    assert isinstance(caught.value, ConnectionError)
    assert isinstance(caught.value.__cause__, transport.connection_error)
    assert "Connection refused" in str(caught.value)


def test_read_timeout_is_a_transport_timeout_error(
    server: LocalServer, make_transport: Any
) -> None:
    url = server.script("/slow", Reply(200, delay=1.0))
    transport = make_transport(read_timeout=0.1)
    with pytest.raises(TransportTimeoutError) as caught:
        transport.send(Request("GET", url))
    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value.__cause__, transport.timeout_error)


def test_a_deadline_shortens_the_timeout(server: LocalServer, make_transport: Any) -> None:
    url = server.script("/slow", Reply(200, delay=1.0))
    ctx = Context().with_deadline(datetime.now(timezone.utc) + timedelta(milliseconds=150))
    started = datetime.now(timezone.utc)
    with pytest.raises(TransportTimeoutError):
        make_transport(read_timeout=30).send(Request("GET", url), ctx)
    assert datetime.now(timezone.utc) - started < timedelta(seconds=0.9)


def test_a_cancelled_context_sends_nothing(server: LocalServer, make_transport: Any) -> None:
    url = server.script("/x", Reply(200))
    ctx = Context()
    ctx.cancel()
    with pytest.raises(OperationCancelledError):
        make_transport().send(Request("GET", url), ctx)
    assert server.received == []


def test_streaming_reads_the_body_in_chunks(server: LocalServer, make_transport: Any) -> None:
    payload = bytes(range(256)) * 1024
    url = server.script("/big", Reply(200, body=payload))
    transport = make_transport()
    response = transport.send(Request("GET", url, stream=True))
    chunks = transport.chunks(response)
    assert b"".join(chunks) == payload
    assert len(chunks) >= 4


def test_redirects_are_returned_not_followed(server: LocalServer, make_transport: Any) -> None:
    url = server.script("/moved", Reply(302, {"Location": "/elsewhere"}))
    response = make_transport().send(Request("GET", url))
    assert response.status_code == 302
    assert response.headers["location"] == "/elsewhere"
    assert [r.path for r in server.received] == ["/moved"]


def test_a_repeated_response_header_is_joined_as_requests_joins_it(
    server: LocalServer, make_transport: Any
) -> None:
    url = server.script("/twice", Reply(200, {"X-A": "1"}))
    server.script("/twice", Reply(200, {"X-A": "1", "x-a": "2"}))
    assert make_transport().send(Request("GET", url)).headers["X-A"] == "1, 2"


def test_timeouts_must_be_positive(transport_kind: str) -> None:
    cls: Any = RequestsTransport if transport_kind == "requests" else AioHttpTransport
    with pytest.raises(ValueError, match="connection_timeout"):
        cls(connection_timeout=0)
    with pytest.raises(ValueError, match="read_timeout"):
        cls(read_timeout=-1)


def test_an_aiohttp_transport_belongs_to_the_loop_it_first_sent_in(server: LocalServer) -> None:
    url = server.script("/loop", Reply(200))
    transport = AioHttpTransport()

    async def send() -> int:
        return (await transport.send(Request("GET", url), Context())).status_code

    first = asyncio.new_event_loop()
    assert first.run_until_complete(send()) == 200
    second = asyncio.new_event_loop()
    with pytest.raises(RuntimeError, match="one transport"):
        second.run_until_complete(send())
    first.run_until_complete(transport.close())
    first.close()
    second.close()


def test_the_core_imports_without_aiohttp_and_says_how_to_get_it() -> None:
    script = textwrap.dedent(
        """
        import sys
        sys.modules["aiohttp"] = None  # as if it were not installed
        import azure_core_tracing.http as http
        try:
            http.AioHttpTransport()
        except ImportError as error:
            print(error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "pip install 'azure-core-tracing[aio]'" in result.stdout
