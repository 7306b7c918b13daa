"""``RawResponse``: what the pipeline gets back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from types import TracebackType
from typing import Callable, Optional

from requests.structures import CaseInsensitiveDict

from azure_core_tracing.checks import type_name


class RawResponse:
    """An HTTP response: status, reason, case-insensitive headers and the body.

    A streamed response reads its body only through ``iter_bytes`` (or ``body``, which reads
    what is left); close it, or use it with ``with``, to give the connection back. One
    streamed by an async transport reads through ``aiter_bytes`` (or ``await read()``) and
    closes with ``await aclose()`` or ``async with``; every response has those too.
    """

    __slots__ = (
        "_async_chunks",
        "_async_close",
        "_body",
        "_chunks",
        "_close",
        "headers",
        "reason",
        "status_code",
    )

    def __init__(
        self,
        status_code: int,
        reason: str = "",
        headers: Optional[Mapping[str, str]] = None,
        body: bytes = b"",
        *,
        chunks: Optional[Iterator[bytes]] = None,
        close: Optional[Callable[[], None]] = None,
        async_chunks: Optional[AsyncIterator[bytes]] = None,
        async_close: Optional[Callable[[], Awaitable[None]]] = None,
    ) -> None:
        if isinstance(status_code, bool) or not isinstance(status_code, int):
            raise TypeError(f"status_code must be an int, got {type_name(status_code)}")
        if not 100 <= status_code <= 999:
            raise ValueError(f"status_code must be from 100 to 999, got {status_code}")
        if not isinstance(reason, str):
            raise TypeError(f"reason must be a str, got {type_name(reason)}")
        if not isinstance(body, bytes):
            raise TypeError(f"body must be bytes, got {type_name(body)}")
        for name, given, expected in (
            ("chunks", chunks, Iterator),
            ("async_chunks", async_chunks, AsyncIterator),
        ):
            if given is not None and not isinstance(given, expected):
                raise TypeError(f"{name} must be an {expected.__name__} of bytes or None")
        for name, function in (("close", close), ("async_close", async_close)):
            if function is not None and not callable(function):
                raise TypeError(f"{name} must be callable or None, got {type_name(function)}")
        self.status_code = status_code
        self.reason = reason
        self.headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(headers or {})
        streamed = chunks is not None or async_chunks is not None
        self._body: Optional[bytes] = None if streamed else body
        self._chunks = chunks
        self._close = close
        self._async_chunks = async_chunks
        self._async_close = async_close

    @property
    def body(self) -> bytes:
        """The whole body; for a streamed response, whatever ``iter_bytes`` has not consumed."""
        if self._body is None:
            self._refuse_async_stream()
            self._body = b"".join(self.iter_bytes())
        return self._body

    @property
    def body_in_memory(self) -> Optional[bytes]:
        """The body if it is in memory (not streamed, or streamed and read), else None: what
        may be looked at without reading from the network (``HttpResponseError`` does)."""
        return self._body

    def iter_bytes(self) -> Iterator[bytes]:
        """Yield the body in chunks, reading from the network for a streamed response."""
        self._refuse_async_stream()
        if self._chunks is None:
            if self._body:
                yield self._body
            return
        chunks, self._chunks = self._chunks, None
        try:
            yield from chunks
        finally:
            self.close()

    def close(self) -> None:
        """Release the connection behind a streamed response; calling it again does nothing."""
        close, self._close = self._close, None
        if close is not None:
            close()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks, reading from the network for an async streamed response."""
        if self._async_chunks is None:
            for chunk in self.iter_bytes():
                yield chunk
            return
        chunks, self._async_chunks = self._async_chunks, None
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            await self.aclose()

    async def read(self) -> bytes:
        """The whole body, reading what is left of a streamed response (sync or async)."""
        if self._body is None and self._async_chunks is not None:
            self._body = b"".join([chunk async for chunk in self.aiter_bytes()])
        return self.body

    async def aclose(self) -> None:
        """Release the connection behind a streamed response, sync or async; again: nothing."""
        self.close()
        close, self._async_close = self._async_close, None
        if close is not None:
            await close()

    def _refuse_async_stream(self) -> None:
        if self._async_chunks is not None:
            raise RuntimeError(
                "this response is streamed by an async transport: read it with "
                "'await response.read()' or 'async for chunk in response.aiter_bytes()'"
            )

    def __enter__(self) -> RawResponse:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    async def __aenter__(self) -> RawResponse:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<RawResponse {self.status_code} {self.reason}>"
