"""``Request`` and ``RawResponse``: what the pipeline sends and what it gets back."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import IO, Callable, Optional, Union
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

RequestBody = Union[bytes, str, IO[bytes]]


class Request:
    """An HTTP request: method, absolute URL, case-insensitive headers and an optional body.

    A body is bytes, str or a binary file-like object; a seekable one is rewound before each
    retry, a non-seekable one is sent once and never retried. With ``stream=True`` the
    response body is not read up front (see ``RawResponse.iter_bytes``).
    """

    __slots__ = ("_body_start", "body", "headers", "method", "stream", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: Optional[Mapping[str, str]] = None,
        body: Optional[RequestBody] = None,
        *,
        stream: bool = False,
    ) -> None:
        if not isinstance(method, str) or not method.strip():
            raise ValueError(f"method must be a non-empty str, got {method!r}")
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("url must be an absolute http or https URL")
        if body is not None and not isinstance(body, (bytes, str)) and not hasattr(body, "read"):
            raise TypeError(
                f"body must be bytes, str or a file-like object, got {type(body).__name__}"
            )
        self.method = method.strip().upper()
        self.url = url
        self.headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(headers or {})
        self.body = body
        self.stream = stream
        self._body_start = _start_position(body)

    def can_resend(self) -> bool:
        """Whether the body can be sent again: none, bytes, str or a seekable stream."""
        return self.body is None or isinstance(self.body, (bytes, str)) or self._body_start >= 0

    def rewind_body(self) -> None:
        """Seek a stream body back to where it started; other bodies need nothing."""
        body = self.body
        if self._body_start >= 0 and body is not None and not isinstance(body, (bytes, str)):
            body.seek(self._body_start)

    def __repr__(self) -> str:
        return f"<Request {self.method}>"


def _start_position(body: Optional[RequestBody]) -> int:
    """The stream position a body starts at, or -1 when it cannot be rewound."""
    if body is None or isinstance(body, (bytes, str)):
        return -1
    try:
        if body.seekable():
            return body.tell()
    except (AttributeError, OSError, ValueError):
        pass
    return -1


class RawResponse:
    """An HTTP response: status, reason, case-insensitive headers and the body.

    A streamed response reads its body only through ``iter_bytes`` (or ``body``, which reads
    what is left); close it, or use it with ``with``, to give the connection back.
    """

    __slots__ = ("_body", "_chunks", "_close", "headers", "reason", "status_code")

    def __init__(
        self,
        status_code: int,
        reason: str = "",
        headers: Optional[Mapping[str, str]] = None,
        body: bytes = b"",
        *,
        chunks: Optional[Iterator[bytes]] = None,
        close: Optional[Callable[[], None]] = None,
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(headers or {})
        self._body: Optional[bytes] = None if chunks is not None else body
        self._chunks = chunks
        self._close = close

    @property
    def body(self) -> bytes:
        """The whole body; for a streamed response, whatever ``iter_bytes`` has not consumed."""
        if self._body is None:
            buffer = io.BytesIO()
            for chunk in self.iter_bytes():
                buffer.write(chunk)
            self._body = buffer.getvalue()
        return self._body

    def iter_bytes(self) -> Iterator[bytes]:
        """Yield the body in chunks, reading from the network for a streamed response."""
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

    def __enter__(self) -> RawResponse:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RawResponse {self.status_code} {self.reason}>"
