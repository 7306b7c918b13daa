"""What each transport raises: ``ServiceRequestError`` when the request never reached the
service, ``ServiceResponseError`` when reading the response failed, their timeouts, and the
old names still catching them; ``inner_exception`` is the redacted cause, never the original."""

from __future__ import annotations

from typing import Any, NoReturn

import aiohttp
import pytest
import requests

from azure_core_tracing.exceptions import (
    AzureError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure_core_tracing.http import (
    Request,
    TransportConnectionError,
    TransportError,
    TransportTimeoutError,
)
from tests.http.transports import Transport
from tests.local_server import LocalServer, RawServer, Reply, refused_url

SECRET = "s3cr3t-sig"


def _raised(transport: Transport, url: str) -> AzureError:
    with pytest.raises(AzureError) as caught:
        transport.send(Request("GET", f"{url}?sig={SECRET}"))
    error = caught.value
    assert error.inner_exception is error.__cause__ is not None
    for text in (str(error), repr(error), str(error.inner_exception), repr(error.inner_exception)):
        assert SECRET not in text
    return error


def test_a_refused_connection_is_a_service_request_error(make_transport: Any) -> None:
    error = _raised(make_transport(), refused_url("/x"))
    assert type(error) is ServiceRequestError
    assert isinstance(error, (TransportConnectionError, TransportError, ConnectionError))
    assert not isinstance(error, TimeoutError)


def test_a_read_timeout_is_a_service_response_timeout_error(
    server: LocalServer, make_transport: Any
) -> None:
    url = server.script("/slow", Reply(200, delay=1.0))
    error = _raised(make_transport(read_timeout=0.1), url)
    assert type(error) is ServiceResponseTimeoutError
    assert isinstance(error, (TransportTimeoutError, TransportError, TimeoutError))
    assert not isinstance(error, ServiceRequestError)


def test_a_connection_closed_without_a_response_is_a_service_response_error(
    make_transport: Any,
) -> None:
    """The request was sent: it may have reached the service, so it is never called unsent."""
    server = RawServer(b"")
    try:
        error = _raised(make_transport(), server.url())
    finally:
        server.close()
    assert type(error) is ServiceResponseError


def test_a_connect_timeout_is_a_service_request_timeout_error(
    transport_kind: str, make_transport: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests' ``ConnectTimeout`` and aiohttp's ``ConnectionTimeoutError`` (3.10 and later)
    say the connection was never made; each repeats the raw URL, which no output shows."""

    def connect_timeout(*args: Any, **kwargs: Any) -> NoReturn:
        raise requests.ConnectTimeout(f"connect to http://127.0.0.1:9/x?sig={SECRET} timed out")

    async def aiohttp_connect_timeout(*args: Any, **kwargs: Any) -> NoReturn:
        raise aiohttp.ConnectionTimeoutError(f"Connection timeout to host ?sig={SECRET}")

    if transport_kind == "requests":
        monkeypatch.setattr(requests.Session, "request", connect_timeout)
    else:
        monkeypatch.setattr(aiohttp.ClientSession, "request", aiohttp_connect_timeout)
    error = _raised(make_transport(), "http://127.0.0.1:9/x")
    assert type(error) is ServiceRequestTimeoutError
    assert isinstance(error, (ServiceRequestError, TransportTimeoutError, TimeoutError))
