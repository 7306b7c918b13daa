"""``RequestsTransport``: the default ``HttpTransport``, over a pooled ``requests.Session``."""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, Optional, Union

import requests
import requests.auth
import requests.sessions
import urllib3.exceptions

from azure_core_tracing.checks import check_seconds, type_name
from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.exceptions import AzureError
from azure_core_tracing.headers import AUTHORIZATION
from azure_core_tracing.http import environment, urllib3_logging
from azure_core_tracing.http.error_redaction import FailureKind, transport_failure
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.sanitizer import HttpSanitizer
from azure_core_tracing.http.transport import (
    STREAM_CHUNK_SIZE,
    HttpTransport,
    transport_timeouts,
)
from azure_core_tracing.http.urls import may_hide_user_info


class RequestsTransport(HttpTransport):
    """Sends requests with ``requests``, keeping connections pooled across calls.

    Timeouts are float seconds; a context deadline shortens them. Redirects are not followed:
    the response of a redirect is returned as it is. Proxies, the CA bundle and netrc
    credentials come from the environment as ``requests`` finds them, but a request's own
    ``Authorization`` header is never replaced by netrc or URL credentials. Every failure
    becomes a ``ServiceRequestError`` (``ConnectTimeout``: ``ServiceRequestTimeoutError``) or
    a ``ServiceResponseError`` (``ReadTimeout``: ``ServiceResponseTimeoutError``) whose
    message, and whose ``__cause__`` and ``inner_exception`` (of the original type, with a
    redacted message and no chain), hold no secret of the URL. Once one is built, urllib3's
    own log records are redacted too. The errors, and urllib3's records while ``send`` runs,
    follow the calling client's ``LogOptions`` (the sanitizer its pipeline puts in the call's
    context), so clients sharing a transport each get their own rules; without a pipeline,
    and for urllib3's records outside any call, the default allow-lists apply.
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
        self.session = session if session is not None else _EnvironmentSession()
        urllib3_logging.install()

    def send(self, request: Request, context: Context) -> RawResponse:
        timeout = transport_timeouts(context, self.connection_timeout, self.read_timeout)
        url = request.url
        # urllib3 logs on this thread while it sends: its lines take the calling client's rules.
        token = urllib3_logging.enter_call(context, "@" in url and may_hide_user_info(url))
        try:
            return self._send(request, context, timeout)
        finally:
            urllib3_logging.leave_call(token)

    def _send(
        self, request: Request, context: Context, timeout: tuple[float, float]
    ) -> RawResponse:
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        deadline = context.deadline
        sent = False  # True once the response's status line and headers are in
        try:
            response = self.session.request(
                request.method,
                request.url,
                headers=request.header_dict(),
                data=body,
                timeout=timeout,
                # The body is read below, not by requests: an interim response must be
                # dropped before its connection goes back to the pool, and with a deadline
                # the body is read a read at a time, so a server that trickles it cannot
                # hold the call past the deadline.
                stream=True,
                allow_redirects=False,
                auth=self._auth(request),
            )
            sent = True
            headers = response.headers  # RawResponse takes its own case-insensitive copy
            if 101 < response.status_code < 200:
                # http.client skips only 100: the final response is still on the connection,
                # unread. Close it, so the pool never hands that to the next request.
                response.close()
                if not request.stream:
                    return RawResponse(response.status_code, response.reason or "", headers, b"")
            if request.stream:
                return RawResponse(
                    response.status_code,
                    response.reason or "",
                    headers,
                    chunks=_translated(request, context, _chunks(response, deadline)),
                    close=response.close,
                )
            if deadline is None:
                content = response.content
            else:
                content = b"".join(_chunks(response, deadline))
                response.raw.release_conn()  # read to the end: back to the pool
        except OperationCancelledError:
            raise
        except Exception as error:  # whatever requests, urllib3 or http.client raised
            failure, cause = _translate(request, error, HttpSanitizer.from_context(context), sent)
        else:
            return RawResponse(response.status_code, response.reason or "", headers, content)
        # Raised outside the except block, so the original is not kept as __context__ either.
        raise failure from cause

    def close(self) -> None:
        """Close the session if this transport created it."""
        if self._owns_session:
            self.session.close()

    def _auth(self, request: Request) -> Union[requests.auth.AuthBase, tuple[str, str], None]:
        """The ``auth`` to pass, so that requests neither looks for netrc credentials again nor
        lets them (or the URL's) replace the request's own ``Authorization`` header."""
        if AUTHORIZATION in request.headers:
            return _KEEP_HEADERS
        session = self.session
        if session.auth or not session.trust_env:
            return None  # requests' own rules: the session's auth, or the URL's
        # Both given here, netrc's first, as requests orders them: requests is then never left
        # to look netrc up itself, which before 2.32.4 it did for the wrong host.
        found = environment.netrc_credentials(request.url)
        return found or environment.user_info_credentials(request.url) or _KEEP_HEADERS


class _KeepHeaders(requests.auth.AuthBase):
    """No authentication of its own: the request's headers are sent as they are."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


_KEEP_HEADERS = _KeepHeaders()


class _EnvironmentSession(requests.Session):
    """A ``requests.Session`` that reads the environment's proxies and CA bundle through
    ``environment.settings_for``: requests' answers, without its scan of ``os.environ`` on
    every request."""

    def get_redirect_target(self, resp: requests.Response) -> Optional[str]:
        # The pipeline's RedirectPolicy follows redirects. Without this, requests prepares
        # the next request of every 3xx even when not following it (``Response.next``), and
        # that fails a 307 or 308 to a request whose stream cannot be rewound.
        return None

    def merge_environment_settings(  # type: ignore[override]
        self,
        url: str,
        proxies: Optional[dict[str, str]],
        stream: Optional[bool],
        verify: Any,
        cert: Any,
    ) -> Any:
        if not isinstance(url, str) or (proxies is not None and "no_proxy" in proxies):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.trust_env:
            found = environment.settings_for(url)
            if proxies is not None:
                for scheme, proxy in found.proxies.items():
                    proxies.setdefault(scheme, proxy)
            if verify is True or verify is None:
                verify = found.ca_bundle or verify
        return {
            "proxies": _merged(proxies, self.proxies),
            "stream": _merged(stream, self.stream),
            "verify": _merged(verify, self.verify),
            "cert": _merged(cert, self.cert),
        }


def _merged(setting: Any, session_setting: Any) -> Any:
    """``requests.sessions.merge_setting``, quicker where nothing is to be merged."""
    if isinstance(setting, Mapping) and isinstance(session_setting, Mapping):
        if not session_setting and None not in setting.values():
            return setting
        merge: Callable[[Any, Any], Any] = requests.sessions.merge_setting
        return merge(setting, session_setting)
    return session_setting if setting is None else setting


def _translated(request: Request, context: Context, chunks: Iterable[bytes]) -> Iterator[bytes]:
    iterator = iter(chunks)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except OperationCancelledError:
            raise
        except Exception as error:
            failure, cause = _translate(
                request, error, HttpSanitizer.from_context(context), sent=True
            )
        else:
            yield chunk
            continue
        raise failure from cause


def _chunks(response: requests.Response, deadline: Optional[datetime]) -> Iterator[bytes]:
    """The body in chunks; with a deadline, one read of the socket at a time, the deadline
    checked between them, so a server that trickles the body cannot hold the call past it."""
    if deadline is None:
        yield from response.iter_content(STREAM_CHUNK_SIZE)
        return
    raw = response.raw
    read1 = getattr(raw, "read1", None)  # urllib3 2: at most one read of the socket
    while True:
        if datetime.now(timezone.utc) >= deadline:
            response.close()
            raise OperationCancelledError(
                "the context's deadline passed while the response body was being read"
            )
        chunk = (
            read1(STREAM_CHUNK_SIZE, decode_content=True)
            if read1
            else raw.read(1024, decode_content=True)  # urllib3 1: requests turned decoding off
        )
        if not chunk:
            return
        yield chunk


def _is_timeout(error: BaseException) -> bool:
    if isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        return True
    # requests reports a read timeout while streaming as a ConnectionError around urllib3's.
    return any(isinstance(arg, urllib3.exceptions.TimeoutError) for arg in error.args)


def _kind(error: BaseException, sent: bool) -> FailureKind:
    """Whether the request reached the service, as requests says it (as azure-core reads it):
    ``ConnectTimeout`` never did; a ``ConnectionError`` before the response did not, unless
    it is urllib3's ``ProtocolError`` (the connection dropped after sending). Anything else,
    a ``ReadTimeout``, a body cut short or that cannot be decoded, may have."""
    if isinstance(error, (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)):
        return "request_timeout"
    if _is_timeout(error):
        return "response_timeout"
    if not sent and isinstance(error, _REFUSED_BEFORE_SENDING):
        return "request"  # a URL, proxy or header requests refuses before any byte goes
    if (
        not sent
        and isinstance(error, requests.ConnectionError)
        and not any(_dropped_after_sending(arg) for arg in error.args)
    ):
        return "request"
    return "response"


# What requests raises before it sends anything (a URL or proxy it cannot read, a header).
_REFUSED_BEFORE_SENDING = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
)


def _dropped_after_sending(arg: object) -> bool:
    """Whether ``arg`` (of a ConnectionError) is urllib3's word that the connection dropped
    after the request went; http.client refusing the URL first is wrapped so too (older
    urllib3), and was never sent."""
    if not isinstance(arg, urllib3.exceptions.ProtocolError):
        return False
    return not any(isinstance(inner, http.client.InvalidURL) for inner in arg.args)


def _translate(
    request: Request, error: BaseException, sanitizer: HttpSanitizer, sent: bool
) -> tuple[AzureError, BaseException]:
    return transport_failure(request, error, _kind(error, sent), sanitizer)
