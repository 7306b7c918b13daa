"""``AioHttpTransport``: the default ``AsyncHttpTransport``, over a pooled ``aiohttp`` session.

aiohttp (the ``[aio]`` extra) is imported when a transport is built, not when this module is
imported, so the core stays importable without it.
"""

from __future__ import annotations

import asyncio
import functools
import io
import ssl
import stat
from collections.abc import AsyncIterable, AsyncIterator
from typing import IO, TYPE_CHECKING, Any, Optional, Union

import requests.utils
import urllib3.response

from azure_core_tracing.checks import check_seconds, type_name
from azure_core_tracing.context import Context
from azure_core_tracing.exceptions import AzureError
from azure_core_tracing.headers import AUTHORIZATION, CONTENT_TYPE, PROXY_AUTHORIZATION
from azure_core_tracing.http import environment
from azure_core_tracing.http.error_redaction import FailureKind, transport_failure
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.transport import (
    STREAM_CHUNK_SIZE,
    AsyncHttpTransport,
    transport_timeouts,
)

if TYPE_CHECKING:
    import aiohttp
    import yarl

_NO_CONTENT_TYPE = (CONTENT_TYPE,)


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

    It sends and reads as ``RequestsTransport`` does: timeouts in float seconds (connect, and
    each read) shortened by the context's deadline, which bounds the whole try; redirects
    returned, not followed; no ``Content-Type`` the caller did not set; a seekable body with
    its ``Content-Length``, another stream chunked; response headers and reason read as
    Latin-1; the content codings ``requests`` decodes (gzip and deflate, here) decoded and
    any other returned as it is; every failure a ``ServiceRequestError`` or
    ``ServiceResponseError`` of the same kind, holding no secret of the URL, whose cause (and
    ``inner_exception``) is a redacted copy. The session it makes reads the
    environment as ``requests`` does, not as aiohttp's ``trust_env`` would: the same proxy
    (``NO_PROXY`` CIDRs included), reached and refused as requests' ``HTTPAdapter`` does (a
    SOCKS proxy is refused), the same CA bundle (``REQUESTS_CA_BUNDLE``, else certifi's)
    checked as urllib3 checks it (TLS 1.2 at least, no common-name match), the same netrc and
    URL credentials, none of which replaces a request's own ``Authorization`` header. A session
    you pass is used as it is configured. A transport belongs to the event loop it first sends
    in: use one per loop.
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
        headers = request.header_dict()
        url = request.url
        proxy: Optional[yarl.URL] = None
        proxy_headers = None
        sent = False  # True once the response's status line and headers are in
        try:
            tls: Union[ssl.SSLContext, bool] = True
            if self._owns_session:  # the environment, read as requests reads it
                found = environment.settings_for(url)
                secure = url[:6].lower() == "https:"
                if found.proxy is not None:
                    route = environment.proxy_route(found.proxy)
                    proxy, authorization = _proxy_url(route), route.authorization
                    if authorization is not None and secure:  # on the CONNECT, as urllib3
                        proxy_headers = {PROXY_AUTHORIZATION: authorization}
                    elif authorization is not None:  # on the request, over the caller's own
                        headers[PROXY_AUTHORIZATION] = authorization
                if secure:
                    tls = _tls_context(found.ca_bundle)
                if AUTHORIZATION not in request.headers:
                    credentials = environment.netrc_credentials(
                        url
                    ) or environment.user_info_credentials(url)
                    if credentials is not None:
                        headers[AUTHORIZATION] = environment.basic_authorization(*credentials)
                url = environment.without_user_info(url)
            response = await session.request(
                request.method,
                url,
                headers=headers,
                proxy=proxy,
                proxy_headers=proxy_headers,
                ssl=tls,
                data=_body(request),
                timeout=aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read),
                allow_redirects=False,
                # requests adds no Content-Type; a signed request must get none either.
                skip_auto_headers=() if CONTENT_TYPE in request.headers else _NO_CONTENT_TYPE,
            )
            sent = True
            received, coding = _latin1_headers(response.raw_headers)
            reason = _latin1(response.reason or "")
            decoder = _decoder(coding)
            if request.stream:
                chunks = _decoded(decoder, response.content.iter_chunked(STREAM_CHUNK_SIZE))
                return RawResponse(
                    response.status,
                    reason,
                    received,
                    async_chunks=_translated(self, request, context, chunks),
                    async_close=_releaser(response),
                )
            content = await response.read()
            response.release()
            if decoder is not None:
                content = decoder.decompress(content) + decoder.flush()
        except Exception as error:  # whatever aiohttp, yarl, a decoder or the loop raised
            failure, cause = self._translate(request, error, context, sent)
        else:
            return RawResponse(response.status, reason, received, content)
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
            # Content codings are decoded here, as requests decodes them (see _decoder).
            # The environment is read in send, as requests reads it (see environment).
            created: aiohttp.ClientSession = self._aiohttp.ClientSession(
                trust_env=False, auto_decompress=False
            )
            # aiohttp sends an idempotent request again by itself when a kept-alive
            # connection drops (RFC 9112 §9.3.1.1), unseen by the pipeline: that second send
            # would have no span and the first try's traceparent. requests does not resend;
            # here the retry policy decides, and traces, every send. aiohttp has no public
            # switch for it (3.9 to 3.14 read this attribute).
            if hasattr(created, "_retry_connection"):
                created._retry_connection = False
            session = self.session = created
        return session

    def _translate(
        self, request: Request, error: BaseException, context: Context, sent: bool
    ) -> tuple[AzureError, BaseException]:
        """``error`` as the library's error, redacted by the calling client's sanitizer."""
        return transport_failure(
            request, error, _kind(self._aiohttp, error, sent), HttpSanitizer.from_context(context)
        )


def _kind(aiohttp: Any, error: BaseException, sent: bool) -> FailureKind:
    """Whether the request reached the service, as aiohttp says it. aiohttp 3.10 and later
    raise ``ConnectionTimeoutError`` for connecting and ``SocketTimeoutError`` for reading;
    the total timeout (the context's deadline) and older aiohttp's ``ServerTimeoutError``
    do not say which, so they are read timeouts: never claim a request unsent that may not be.
    """
    connect_timeout = getattr(aiohttp, "ConnectionTimeoutError", None)
    if connect_timeout is not None and isinstance(error, connect_timeout) and not sent:
        return "request_timeout"
    if isinstance(error, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return "response_timeout"
    # requests reports a failed TLS set-up (a CA bundle OpenSSL cannot load, too) and a
    # proxy that refuses the tunnel as ConnectionErrors (SSLError, ProxyError) that never
    # reached the service.
    if not sent and isinstance(
        error,
        (
            aiohttp.ClientConnectorError,
            aiohttp.ClientHttpProxyError,
            ssl.SSLError,
            # A URL or proxy refused before any byte goes, as requests refuses it.
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            aiohttp.InvalidURL,
        ),
    ):
        return "request"
    return "response"


@functools.lru_cache(maxsize=64)
def _proxy_url(route: environment.ProxyRoute) -> yarl.URL:
    """The proxy's URL built from urllib3's reading, not parsed again: aiohttp connects where
    urllib3 would, and a host yarl would not parse fails to resolve, as it does in requests."""
    import yarl  # noqa: PLC0415 - aiohttp's own dependency, imported with it

    return yarl.URL.build(scheme=route.scheme, host=route.host, port=route.port, encoded=True)


_TLS_CONTEXTS: dict[tuple[object, ...], ssl.SSLContext] = {}
_CA_DIRECTORIES: dict[str, ssl.SSLContext] = {}


def _tls_context(ca_bundle: Optional[str]) -> ssl.SSLContext:
    """A context trusting ``ca_bundle`` (a file or a directory), else certifi's bundle, as
    ``requests`` does: a file's made again when the file changes; a directory is read
    afresh by every new connection, as urllib3's connections read it."""
    path = ca_bundle or requests.utils.DEFAULT_CA_BUNDLE_PATH
    version = environment.file_version(path)  # a path that does not exist: OSError, as requests
    if stat.S_ISDIR(version.mode):
        trust = _CA_DIRECTORIES.get(path)
        if trust is None:
            trust = _CA_DIRECTORIES[path] = _DirectoryTrust(path)
        return trust
    context = _TLS_CONTEXTS.get(version.stamp)
    if context is None:
        context = _trusting(cafile=path)
        if version.settled:  # else made again on each call until it is
            if len(_TLS_CONTEXTS) >= 8:
                _TLS_CONTEXTS.clear()
            _TLS_CONTEXTS[version.stamp] = context
    return context


def _trusting(cafile: Optional[str] = None, capath: Optional[str] = None) -> ssl.SSLContext:
    """The standard library's client context trusting ``cafile`` or ``capath``, with the two
    checks urllib3 2 adds for requests' connections: TLS 1.2 at least, and a host name matched
    only against the subjectAltName, never the subject's common name."""
    try:
        context = ssl.create_default_context(cafile=cafile, capath=capath)
    except ssl.SSLError:
        raise
    except OSError as error:  # as urllib3: a bundle that cannot be read fails the TLS set-up
        raise ssl.SSLError(error.errno, error.strerror) from error
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.hostname_checks_common_name = False
    return context


class _DirectoryTrust(ssl.SSLContext):
    """Stands for a CA directory in aiohttp's pool, whose connections are keyed by their
    context: one per path, as urllib3 pools by path. OpenSSL keeps a certificate it has read
    from the directory, so each new connection is given a context of its own, made as it
    opens: it reads the directory as it is then, as urllib3's connections do, and a pooled
    connection keeps the trust it was opened with, as there. Neither aiohttp nor ``ssl``
    offers this (one context pooled, each connection's trust read afresh): hence a subclass."""

    path: str

    def __new__(cls, path: str) -> _DirectoryTrust:
        made = super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)
        made.path = path
        return made

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: Optional[Union[str, bytes]] = None,
        session: Optional[ssl.SSLSession] = None,
    ) -> ssl.SSLObject:
        context = _trusting(capath=self.path)
        return context.wrap_bio(incoming, outgoing, server_side, server_hostname, session)


def _body(request: Request) -> Union[bytes, io.IOBase, AsyncIterator[bytes], None]:
    body = request.body
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, io.IOBase) and body.seekable():
        return body  # aiohttp reads it off the loop and sends its Content-Length
    return _stream(body)


async def _stream(body: IO[bytes]) -> AsyncIterator[bytes]:
    """A file-like body, read in chunks off the event loop (sent chunked, as requests does)."""
    while True:
        chunk = await asyncio.to_thread(body.read, STREAM_CHUNK_SIZE)
        if not chunk:
            return
        yield chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


def _latin1(text: str) -> str:
    """Text aiohttp decoded as UTF-8 (invalid bytes escaped), read again as http.client reads
    it: Latin-1, byte for byte."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _latin1_headers(raw: Any) -> tuple[dict[str, str], Optional[str]]:
    """Response headers decoded as Latin-1, repeated names (in any case) joined with ", ", as
    requests (http.client) reads them, each under the spelling it last came with; and the
    Content-Encoding among them."""
    joined: dict[str, tuple[str, str]] = {}  # by lower-case name
    for raw_name, raw_value in raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        held = joined.get(name.lower())
        joined[name.lower()] = (name, value if held is None else f"{held[1]}, {value}")
    coding = joined.get("content-encoding")
    return dict(joined.values()), None if coding is None else coding[1]


def _decoder(coding: Optional[str]) -> Any:
    """The decoder urllib3 would use for ``coding`` (None: returned as it is, as by requests).
    urllib3's, not aiohttp's auto_decompress, which decodes one coding only (not a list such
    as "deflate, gzip") and fails a br or zstd body where requests returns it as it is."""
    if not coding:
        return None
    coding = coding.strip().lower()
    known = urllib3.response.HTTPResponse.CONTENT_DECODERS
    if coding in known or ("," in coding and any(c.strip() in known for c in coding.split(","))):
        return urllib3.response.MultiDecoder(coding)
    return None


async def _decoded(decoder: Any, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield chunk if decoder is None else decoder.decompress(chunk)
    if decoder is not None:
        rest = decoder.flush()
        if rest:
            yield rest


def _releaser(response: aiohttp.ClientResponse) -> Any:
    async def release() -> None:
        response.release()

    return release


async def _translated(
    transport: AioHttpTransport,
    request: Request,
    context: Context,
    chunks: AsyncIterable[bytes],
) -> AsyncIterator[bytes]:
    iterator = chunks.__aiter__()
    while True:
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        except Exception as error:
            failure, cause = transport._translate(request, error, context, sent=True)
        else:
            yield chunk
            continue
        raise failure from cause
