"""``AioHttpTransport``: the default ``AsyncHttpTransport``, over a pooled ``aiohttp`` session.

aiohttp (the ``[aio]`` extra) is imported when a transport is built, not when this module is
imported, so the core stays importable without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator
from typing import IO, TYPE_CHECKING, Any, Optional, Union

from requests.structures import CaseInsensitiveDict

from azure_core_tracing.checks import check_seconds, type_name
from azure_core_tracing.context import Context
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.transport import (
    AsyncHttpTransport,
    TransportError,
    transport_failure,
    transport_timeouts,
)

if TYPE_CHECKING:
    import aiohttp

_STREAM_CHUNK_SIZE = 64 * 1024


def _import_aiohttp() -> Any:
    try:
        import aiohttp  # noqa: PLC0415 - imported on use: it is an optional dependency
    except ImportError as error:
        raise ImportError(
            "AioHttpTransport needs aiohttp: pip install 'azure-core-tracing[aio]'"
        ) from error
    return aiohttp


class AioHttpTransport(AsyncHttpTransport):
    """Sends requests with ``aiohttp``, keeping connections pooled across calls.

    Like ``RequestsTransport``: timeouts in float seconds (connect, and each read) shortened
    by the context's deadline; redirects returned, not followed; proxies and ``.netrc`` from
    the environment (``trust_env``); every failure a ``TransportError`` holding no secret of
    the URL, whose cause is a redacted copy. A transport belongs to the event loop it first
    sends in: use one per loop.
    """

    def __init__(
        self,
        session: Optional[aiohttp.ClientSession] = None,
        *,
        connection_timeout: float = 30.0,
        read_timeout: float = 300.0,
    ) -> None:
        self._aiohttp = _import_aiohttp()
        if session is not None and not isinstance(session, self._aiohttp.ClientSession):
            raise TypeError(
                f"session must be an aiohttp.ClientSession or None, got {type_name(session)}"
            )
        self.connection_timeout = check_seconds(
            connection_timeout, "connection_timeout", allow_zero=False
        )
        self.read_timeout = check_seconds(read_timeout, "read_timeout", allow_zero=False)
        self.session = session
        self._owns_session = session is None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    async def send(self, request: Request, context: Context) -> RawResponse:
        connect, read = transport_timeouts(context, self.connection_timeout, self.read_timeout)
        session = self._session()
        aiohttp = self._aiohttp
        # The deadline bounds the whole try, body included (a trickling server cannot hold it).
        total = None if context.deadline is None else max(connect, read)
        try:
            response = await session.request(
                request.method,
                request.url,
                headers=request.header_dict(),
                data=await _body(request),
                timeout=aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read),
                allow_redirects=False,
            )
            headers = _joined(response.headers)
            if request.stream:
                return RawResponse(
                    response.status,
                    response.reason or "",
                    headers,
                    async_chunks=_translated(
                        self, request, response.content.iter_chunked(_STREAM_CHUNK_SIZE)
                    ),
                    async_close=_releaser(response),
                )
            content = await response.read()
            response.release()
        except Exception as error:  # whatever aiohttp, yarl or the event loop raised
            failure, cause = self._translate(request, error)
        else:
            return RawResponse(response.status, response.reason or "", headers, content)
        # Raised outside the except block, so the original is not kept as __context__ either.
        raise failure from cause

    async def close(self) -> None:
        """Close the session if this transport created it."""
        session = self.session
        if self._owns_session and session is not None:
            self.session = None
            await session.close()

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError(
                "this AioHttpTransport belongs to the event loop it first sent in: "
                "make one transport (and pipeline) per event loop"
            )
        session = self.session
        if session is None:  # made here, inside the loop, as aiohttp requires
            created: aiohttp.ClientSession = self._aiohttp.ClientSession(trust_env=True)
            session = self.session = created
        return session

    def _translate(
        self, request: Request, error: BaseException
    ) -> tuple[TransportError, BaseException]:
        aiohttp = self._aiohttp
        if isinstance(error, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
            return transport_failure(request, error, "timeout")
        if isinstance(error, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
            return transport_failure(request, error, "connection")
        return transport_failure(request, error, "other")


async def _body(request: Request) -> Union[bytes, AsyncIterator[bytes], None]:
    body = request.body
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return _stream(body)


async def _stream(body: IO[bytes]) -> AsyncIterator[bytes]:
    """A file-like body, read in chunks off the event loop (sent chunked, as requests does)."""
    while True:
        chunk = await asyncio.to_thread(body.read, _STREAM_CHUNK_SIZE)
        if not chunk:
            return
        yield chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


def _joined(headers: Any) -> CaseInsensitiveDict[str]:
    """Response headers, repeated names joined with ", " as requests joins them."""
    joined: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for name, value in headers.items():
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def _releaser(response: aiohttp.ClientResponse) -> Any:
    async def release() -> None:
        response.release()

    return release


async def _translated(
    transport: AioHttpTransport, request: Request, chunks: AsyncIterable[bytes]
) -> AsyncIterator[bytes]:
    iterator = chunks.__aiter__()
    while True:
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        except Exception as error:
            failure, cause = transport._translate(request, error)
        else:
            yield chunk
            continue
        raise failure from cause
