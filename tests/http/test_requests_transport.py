"""``RequestsTransport`` on its own: it sends every request with ``stream=True`` and reads a
body itself, so what requests promises for the bodies it reads must still hold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from azure_core_tracing import Context
from azure_core_tracing.http import Request, RequestsTransport
from tests.local_server import LocalServer, RawServer, Reply


@pytest.mark.parametrize("stream", [False, True], ids=["read", "streamed"])
@pytest.mark.parametrize("deadline", [False, True], ids=["no-deadline", "deadline"])
def test_an_interim_response_never_reaches_the_next_request_however_it_is_read(
    stream: bool, deadline: bool
) -> None:
    """A 103 is the answer (empty body) whether or not the request streams or has a deadline,
    and its connection, with the real 200 unread on it, is never handed to the next
    request."""
    reply = b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = RawServer(reply, hold=True)
    transport = RequestsTransport(read_timeout=2)
    context = Context()
    if deadline:
        context = context.with_deadline(datetime.now(timezone.utc) + timedelta(seconds=30))
    try:
        for path in ("/first", "/second"):
            response = transport.send(Request("GET", server.url(path), stream=stream), context)
            assert response.status_code == 103
            assert b"".join(response.iter_bytes()) == b""
            response.close()
        assert len(server.received) == 2  # a connection of its own for each
    finally:
        transport.close()
        server.close()


@pytest.mark.parametrize("deadline", [False, True], ids=["no-deadline", "deadline"])
def test_a_read_body_gives_its_connection_back_to_the_pool(
    server: LocalServer, deadline: bool
) -> None:
    """A body the transport reads itself gives its connection back to the pool once read, so
    requests in a row share one connection, as when requests reads the body."""
    url = server.script("/pooled", Reply(200, body=b"x" * 100_000))
    transport = RequestsTransport()
    context = Context()
    if deadline:
        context = context.with_deadline(datetime.now(timezone.utc) + timedelta(seconds=30))
    try:
        bodies = [transport.send(Request("GET", url), context).body for _ in range(3)]
    finally:
        transport.close()
    assert bodies == [b"x" * 100_000] * 3
    assert len({received.client_port for received in server.received}) == 1
