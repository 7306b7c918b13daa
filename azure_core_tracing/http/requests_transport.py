"""``RequestsTransport``: the default ``HttpTransport``, over a pooled ``requests.Session``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Optional

import requests
import urllib3.exceptions

from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.transport import (
    HttpTransport,
    TransportConnectionError,
    TransportError,
    TransportTimeoutError,
)

_STREAM_CHUNK_SIZE = 64 * 1024
_MESSAGE_SANITIZER = HttpSanitizer()  # error messages show only default-safe URL parts


class RequestsTransport(HttpTransport):
    """Sends requests with ``requests``, keeping connections pooled across calls.

    Timeouts are float seconds; a context deadline shortens them. Redirects are not followed:
    the response of a redirect is returned as it is.
    """

    def __init__(
        self,
        session: Optional[requests.Session] = None,
        *,
        connection_timeout: float = 30.0,
        read_timeout: float = 300.0,
    ) -> None:
        if connection_timeout <= 0:
            raise ValueError(
                f"connection_timeout must be more than 0 seconds, got {connection_timeout}"
            )
        if read_timeout <= 0:
            raise ValueError(f"read_timeout must be more than 0 seconds, got {read_timeout}")
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.connection_timeout = connection_timeout
        self.read_timeout = read_timeout

    def send(self, request: Request, context: Context) -> RawResponse:
        timeout = self._timeout(context)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        try:
            response = self.session.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                data=body,
                timeout=timeout,
                stream=request.stream,
                allow_redirects=False,
            )
            headers = response.headers  # RawResponse takes its own case-insensitive copy
            if request.stream:
                return RawResponse(
                    response.status_code,
                    response.reason or "",
                    headers,
                    chunks=_translated(request, response.iter_content(_STREAM_CHUNK_SIZE)),
                    close=response.close,
                )
            return RawResponse(
                response.status_code, response.reason or "", headers, response.content
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise _translate(request, error) from error

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self.session.close()

    def _timeout(self, context: Context) -> tuple[float, float]:
        context.throw_if_cancelled()
        deadline = context.deadline
        if deadline is None:
            return (self.connection_timeout, self.read_timeout)
        remaining = (deadline - datetime.now(timezone.utc)).total_seconds()
        if remaining <= 0:
            raise OperationCancelledError(
                "the context's deadline passed before the request was sent"
            )
        return (min(self.connection_timeout, remaining), min(self.read_timeout, remaining))


def _translated(request: Request, chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
        raise _translate(request, error) from error


def _is_timeout(error: BaseException) -> bool:
    if isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        return True
    # requests reports a read timeout while streaming as a ConnectionError around urllib3's.
    return any(isinstance(arg, urllib3.exceptions.TimeoutError) for arg in error.args)


def _translate(request: Request, error: BaseException) -> TransportError:
    """The library's own error, whose message holds no secret of the URL."""
    where = f"{request.method} {_MESSAGE_SANITIZER.sanitize_url(request.url)}"
    cause = type(error).__name__
    if _is_timeout(error):
        return TransportTimeoutError(f"{where}: timed out ({cause})")
    if isinstance(error, (requests.ConnectionError, urllib3.exceptions.ProtocolError)):
        return TransportConnectionError(f"{where}: connection failed ({cause})")
    return TransportError(f"{where}: request failed ({cause})")
