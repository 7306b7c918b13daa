"""``Request``: what the pipeline sends."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Optional

from azure_core_tracing.checks import is_token, type_name
from azure_core_tracing.http.body import RequestBody, check_body, rewind, start_position
from azure_core_tracing.http.request_headers import RequestHeaders
from azure_core_tracing.http.urls import check_url


def _check_method(method: object) -> str:
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type_name(method)}")
    if not is_token(method):
        raise ValueError(f"method must be an HTTP token such as GET, got {method!r}")
    return method.upper()


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
        self._headers = RequestHeaders(headers)
        self._body = check_body(body)
        self._body_start = start_position(self._body)
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
        self._headers = (
            headers.copy() if isinstance(headers, RequestHeaders) else RequestHeaders(headers)
        )

    @property
    def body(self) -> Optional[RequestBody]:
        """The body: None, bytes, str or a binary file-like object."""
        return self._body

    @body.setter
    def body(self, body: Optional[RequestBody]) -> None:
        self._body = check_body(body)
        self._body_start = start_position(self._body)
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
        if self._body_start >= 0:  # a stream that can be rewound
            rewind(self._body, self._body_start)

    def __repr__(self) -> str:
        return f"<Request {self._method}>"
