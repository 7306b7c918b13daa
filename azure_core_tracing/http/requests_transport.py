"""``RequestsTransport``: the default ``HttpTransport``, over a pooled ``requests.Session``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Optional

import requests
import urllib3.exceptions

from azure_core_tracing.checks import check_seconds, type_name
from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.http import urllib3_logging
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.sanitizer import may_hide_user_info
from azure_core_tracing.http.transport import (
    HttpTransport,
    TransportError,
    transport_failure,
    transport_timeouts,
)

_STREAM_CHUNK_SIZE = 64 * 1024


class RequestsTransport(HttpTransport):
    """Sends requests with ``requests``, keeping connections pooled across calls.

    Timeouts are float seconds; a context deadline shortens them. Redirects are not followed:
    the response of a redirect is returned as it is. Every failure becomes a
    ``TransportError`` whose message, and whose ``__cause__`` (of the original type, with a
    redacted message and no chain), hold no secret of the URL. Once one is built, urllib3's
    own log records are redacted too.
    """

    def __init__(
        self,
        session: Optional[requests.Session] = None,
        *,
        connection_timeout: float = 30.0,
        read_timeout: float = 300.0,
    ) -> None:
        if session is not None and not isinstance(session, requests.Session):
            raise TypeError(f"session must be a requests.Session or None, got {type_name(session)}")
        self.connection_timeout = check_seconds(
            connection_timeout, "connection_timeout", allow_zero=False
        )
        self.read_timeout = check_seconds(read_timeout, "read_timeout", allow_zero=False)
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        urllib3_logging.install()

    def send(self, request: Request, context: Context) -> RawResponse:
        timeout = transport_timeouts(context, self.connection_timeout, self.read_timeout)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        url = request.url
        hiding = "@" in url and may_hide_user_info(url)
        deadline = context.deadline
        try:
            with urllib3_logging.hiding_targets() if hiding else nullcontext():
                response = self.session.request(
                    request.method,
                    url,
                    headers=request.header_dict(),
                    data=body,
                    timeout=timeout,
                    # With a deadline the body is read here, a read at a time, so a server
                    # that trickles it cannot hold the call past the deadline.
                    stream=request.stream or deadline is not None,
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
            content = response.content if deadline is None else _read_by(deadline, response)
        except OperationCancelledError:
            raise
        except Exception as error:  # whatever requests, urllib3 or http.client raised
            failure, cause = _translate(request, error)
        else:
            return RawResponse(response.status_code, response.reason or "", headers, content)
        # Raised outside the except block, so the original is not kept as __context__ either.
        raise failure from cause

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self.session.close()


def _translated(request: Request, chunks: Iterable[bytes]) -> Iterator[bytes]:
    iterator = iter(chunks)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except Exception as error:
            failure, cause = _translate(request, error)
        else:
            yield chunk
            continue
        raise failure from cause


def _read_by(deadline: datetime, response: requests.Response) -> bytes:
    """The whole body, read one system call at a time until ``deadline``."""
    raw = response.raw
    read1 = getattr(raw, "read1", None)  # urllib3 2: at most one read of the socket
    parts: list[bytes] = []
    while True:
        if datetime.now(timezone.utc) >= deadline:
            response.close()
            raise OperationCancelledError(
                "the context's deadline passed while the response body was being read"
            )
        chunk = read1(_STREAM_CHUNK_SIZE, decode_content=True) if read1 else raw.read(1024)
        if not chunk:
            break
        parts.append(chunk)
    raw.release_conn()  # read to the end: the connection goes back to the pool
    return b"".join(parts)


def _is_timeout(error: BaseException) -> bool:
    if isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        return True
    # requests reports a read timeout while streaming as a ConnectionError around urllib3's.
    return any(isinstance(arg, urllib3.exceptions.TimeoutError) for arg in error.args)


def _translate(request: Request, error: BaseException) -> tuple[TransportError, BaseException]:
    if _is_timeout(error):
        return transport_failure(request, error, "timeout")
    if isinstance(error, (requests.ConnectionError, urllib3.exceptions.ProtocolError)):
        return transport_failure(request, error, "connection")
    return transport_failure(request, error, "other")
