"""``Request`` and ``RawResponse``: what the pipeline sends and what it gets back."""

from __future__ import annotations

import io
import ipaddress
import re
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping, MutableMapping
from types import TracebackType
from typing import IO, Callable, Optional, Union, cast
from urllib.parse import unquote, urlsplit

import idna
from requests.structures import CaseInsensitiveDict

from azure_core_tracing.checks import check_header, is_token, is_unicode, type_name
from azure_core_tracing.http.urls import authority_bounds

RequestBody = Union[bytes, str, IO[bytes]]

# Characters requests would percent-encode or http.client reject: never let one reach them.
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_url(url: object) -> str:
    """Return ``url`` as a plain ``str`` if it is an absolute http or https URL with a host and
    port that every transport reads alike (RFC 3986 and DNS rules; what ``requests`` and
    ``aiohttp`` send to).

    The error names what is wrong but never repeats the URL, which may hold a secret."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, got {type_name(url)}")
    # Its text, never a str subclass whose own methods could answer otherwise to the checks,
    # the sanitizer or a transport.
    url = str.__str__(url)
    if _URL_CONTROL.search(url):
        raise ValueError("url must not contain control characters (CR, LF, NUL, tab, ...)")
    if not is_unicode(url):
        raise ValueError("url must be text that can be written as UTF-8 (no lone surrogate)")
    problem = _url_problem(url)
    if problem:  # raised here, not where it was found, so no chained error repeats the URL
        raise ValueError(f"url: {problem}")
    return url


def _url_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return _UNREADABLE
    if parts.scheme not in ("http", "https"):
        shown = repr(parts.scheme) if parts.scheme.isalpha() and len(parts.scheme) < 16 else "none"
        return f"must be an absolute http or https URL, got the scheme {shown}"
    start, end = authority_bounds(url)
    if "\\" in url[start:end]:
        return "a '\\' in the host part is read differently by different libraries"
    host_port = parts.netloc.rpartition("@")[2]
    host, port = _split_port(host_port)
    if port is None:
        return f"the port must be a number from 0 to 65535 ({_ENCODE_USER_INFO})"
    if not _is_host(host):
        return (
            "must have a host: an IP address, or a DNS name whose labels are 1 to 63 letters, "
            "digits, '-' or '_' (or an IDNA name)"
        )
    try:
        for part in (parts.username, parts.password):
            if part:
                unquote(part).encode("latin-1")
    except UnicodeEncodeError:
        return "the user name and password must be Latin-1 text (sent as Basic authentication)"
    return ""


_ENCODE_USER_INFO = "a user name or password holding '/', '?', '#' or '@' must be percent-encoded"
_UNREADABLE = f"its host and port cannot be read; {_ENCODE_USER_INFO}"
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")


def _split_port(host_port: str) -> tuple[str, Optional[str]]:
    """The host and the port text ('' when absent); None for the port when it is no number."""
    if host_port.startswith("["):
        host, bracket, rest = host_port[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return "", None
        port = rest[1:]
        host = f"[{host}]"
    else:
        host, _, port = host_port.rpartition(":") if ":" in host_port else (host_port, "", "")
    if port and (not port.isascii() or not port.isdigit() or int(port) > 65535):
        return host, None
    return host, port


def _is_host(host: str) -> bool:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1].partition("%")[0])
        except ValueError:
            return False
        return True
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    if all(label.isdigit() for label in labels):  # what resolvers read as an IPv4 address
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return False
        return True
    if name.isascii() and "xn--" not in name.lower():
        return all(_LABEL.fullmatch(label) is not None for label in labels)
    try:
        # Strict IDNA 2008, as urllib3 (under requests) encodes a host; yarl also maps UTS 46
        # lookalikes (full-width letters, Roman numerals) that urllib3 refuses: refused here.
        idna.encode(name.lower(), strict=True, std3_rules=True)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return True


def _check_method(method: object) -> str:
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type_name(method)}")
    if not is_token(method):
        raise ValueError(f"method must be an HTTP token such as GET, got {method!r}")
    return method.upper()


def _check_body(body: object) -> Optional[RequestBody]:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        if not is_unicode(body):  # the message says where, never what: the body may be secret
            raise ValueError("body must be text that can be written as UTF-8 (no lone surrogate)")
        return body
    if callable(getattr(body, "read", None)) and not isinstance(body, io.TextIOBase):
        return cast(IO[bytes], body)
    raise TypeError(f"body must be bytes, str or a binary file-like object, got {type_name(body)}")


class _Headers(MutableMapping[str, str]):
    """Case-insensitive request headers; each name and value is checked as it is set.

    Its ``repr`` shows the names only: values may be secrets."""

    __slots__ = ("_store",)

    def __init__(self, headers: Optional[Mapping[str, str]] = None) -> None:
        self._store: dict[str, tuple[str, str]] = {}
        if headers is None:
            return
        if not isinstance(headers, Mapping):
            raise TypeError(f"headers must be a mapping of str to str, got {type_name(headers)}")
        for name, value in headers.items():
            self[name] = value

    def __setitem__(self, name: str, value: str) -> None:
        check_header(name, value)
        self._store[name.lower()] = (name, value)

    def __getitem__(self, name: str) -> str:
        if not isinstance(name, str):
            raise KeyError(name)
        return self._store[name.lower()][1]

    def __delitem__(self, name: str) -> None:
        if not isinstance(name, str):
            raise KeyError(name)
        del self._store[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._store

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:  # type: ignore[override]
        """The value of header ``name`` (any case), or ``default``."""
        entry = self._store.get(name.lower()) if isinstance(name, str) else None
        return default if entry is None else entry[1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def copy(self) -> _Headers:
        """A copy, without checking again what was checked when set."""
        copy = _Headers()
        copy._store = self._store.copy()
        return copy

    def as_dict(self) -> dict[str, str]:
        """A plain dict of name to value, as transports take it."""
        return dict(self._store.values())

    def __repr__(self) -> str:
        return f"<headers {', '.join(self)}>"


class Request:
    """An HTTP request: method, absolute URL, case-insensitive headers and an optional body.

    Every part is checked when it is set: the method must be an HTTP token (it is
    upper-cased), the URL absolute http or https with a host, every header a token name with
    a clean Latin-1 value. A body is bytes, str or a binary file-like object; a seekable one
    is rewound before each retry, a non-seekable one is sent once and never retried. With
    ``stream=True`` the response body is not read up front (see ``RawResponse.iter_bytes``).
    A pipeline sends a copy, so sending a request never changes it.
    """

    __slots__ = ("_body", "_body_start", "_body_taken", "_headers", "_method", "_url", "stream")

    def __init__(
        self,
        method: str,
        url: str,
        headers: Optional[Mapping[str, str]] = None,
        body: Optional[RequestBody] = None,
        *,
        stream: bool = False,
    ) -> None:
        self._method = _check_method(method)
        self._url = check_url(url)
        self._headers = _Headers(headers)
        self._body = _check_body(body)
        self._body_start = _start_position(self._body)
        self._body_taken = False
        if not isinstance(stream, bool):
            raise TypeError(f"stream must be a bool, got {type_name(stream)}")
        self.stream = stream

    @property
    def method(self) -> str:
        """The HTTP method, upper-case."""
        return self._method

    @method.setter
    def method(self, method: str) -> None:
        self._method = _check_method(method)

    @property
    def url(self) -> str:
        """The absolute URL."""
        return self._url

    @url.setter
    def url(self, url: str) -> None:
        self._url = check_url(url)

    @property
    def headers(self) -> MutableMapping[str, str]:
        """The headers, case-insensitive; setting one checks it."""
        return self._headers

    @headers.setter
    def headers(self, headers: Mapping[str, str]) -> None:
        self._headers = headers.copy() if isinstance(headers, _Headers) else _Headers(headers)

    @property
    def body(self) -> Optional[RequestBody]:
        """The body: None, bytes, str or a binary file-like object."""
        return self._body

    @body.setter
    def body(self, body: Optional[RequestBody]) -> None:
        self._body = _check_body(body)
        self._body_start = _start_position(self._body)
        self._body_taken = False

    def copy(self) -> Request:
        """A copy with headers of its own; the body is shared (a stream from where it started)."""
        copy = Request.__new__(Request)
        copy._method = self._method
        copy._url = self._url
        copy._headers = self._headers.copy()
        copy._body = self._body
        copy._body_start = self._body_start
        copy._body_taken = self._body_taken
        copy.stream = self.stream
        return copy

    def for_send(self) -> Request:
        """The copy a pipeline sends: its own headers, and the body from where it started.

        A stream that cannot be rewound can be sent once: a second send is a ``ValueError``
        (it would send whatever the first left, silently)."""
        if not self.can_resend():
            if self._body_taken:
                raise ValueError(
                    "body: this request's stream cannot be rewound and was already sent; "
                    "make a new Request (or give it a seekable body) to send it again"
                )
            self._body_taken = True
        else:
            self.rewind_body()
        return self.copy()

    def header_dict(self) -> dict[str, str]:
        """The headers as a plain dict, as a transport hands them on."""
        return self._headers.as_dict()

    def can_resend(self) -> bool:
        """Whether the body can be sent again: none, bytes, str or a seekable stream."""
        return self._body is None or isinstance(self._body, (bytes, str)) or self._body_start >= 0

    def rewind_body(self) -> None:
        """Seek a stream body back to where it started; other bodies need nothing."""
        body = self._body
        if self._body_start >= 0 and body is not None and not isinstance(body, (bytes, str)):
            body.seek(self._body_start)

    def __repr__(self) -> str:
        return f"<Request {self._method}>"


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
