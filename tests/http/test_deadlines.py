"""The context's deadline bounds a whole send, on both pipelines, whatever the server does."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from azure_core_tracing import ClientOptions, Context, OperationCancelledError
from azure_core_tracing.http import Request, TransportError
from tests.http.conftest import Driver, Kind
from tests.local_server import RawServer


@pytest.fixture(params=["chunked", "content-length"])
def trickle(request: pytest.FixtureRequest) -> str:
    framing: str = request.param
    return framing


def _trickling_server(chunked: bool) -> RawServer:
    """Answers every request with a body that never ends, one byte every 50 ms (chunked, or
    under a Content-Length it never reaches)."""
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: 9999999"
    return RawServer(
        b"HTTP/1.1 200 OK\r\n" + framing + b"\r\n\r\n",
        trickle=b"1\r\nx\r\n" if chunked else b"x",
    )


def test_a_deadline_bounds_a_send_even_when_the_server_trickles_the_body(
    trickle: str, pipeline_kind: Kind
) -> None:
    """A deadline bounds the whole send, not only each socket read: a server that keeps
    sending a byte now and then cannot hold ``send()`` (and its memory) past it, and the
    send ends with ``OperationCancelledError`` or a ``TransportError``."""
    server = _trickling_server(chunked=trickle == "chunked")
    outcome: list[object] = []
    context = Context().with_deadline(datetime.now(timezone.utc) + timedelta(seconds=0.5))

    def call() -> None:
        try:
            with Driver(ClientOptions(), "svc", "1.0", kind=pipeline_kind) as pipeline:
                outcome.append(
                    pipeline.send(Request("GET", server.url("/download")), context).status_code
                )
        except Exception as error:
            outcome.append(type(error))

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(15)
    still_running = caller.is_alive()
    server.close()  # lets the stuck call end, so the test leaves nothing behind
    caller.join(5)
    assert not still_running, "send() was still reading 15 s after a 0.5 s deadline"
    (raised,) = outcome
    assert raised is OperationCancelledError or (
        isinstance(raised, type) and issubclass(raised, TransportError)
    ), raised
