"""In-process transports that answer a canned response without a socket.

They sit at the lowest layer every contender shares, so each pays the same HTTP library work
above it: a ``requests`` adapter (mounted on the session, as ``HTTPAdapter`` is) for the sync
contenders, and ``aiohttp.ClientSession.request`` for the async ones. A ``Recorder`` keeps the
``traceparent`` each request carried while the self-check looks; otherwise it is one attribute
check per request, the same for all.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Optional

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

BODY = b"{}"
SERVICE_REQUEST_ID = "3f6c0b5e-5d7a-4c39-9d4e-6a0f1b2c3d4e"
RETRY_STATUS = 503


def _headers(status: int) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(len(BODY)),
        "x-ms-request-id": SERVICE_REQUEST_ID,
    }
    if status == RETRY_STATUS:
        headers["Retry-After"] = "0"  # retry at once: sleeping would hide the work measured
    return headers


_REASONS = {200: "OK", RETRY_STATUS: "Service Unavailable"}


class Recorder:
    """The ``traceparent`` header of each request, in order, while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.seen: list[Optional[str]] = []

    def record(self, headers: Mapping[str, str]) -> None:
        """Note a request's ``traceparent`` (None when it had none), if recording."""
        if self.on:
            self.seen.append(headers.get("traceparent"))

    @contextmanager
    def recording(self) -> Iterator[list[Optional[str]]]:
        """Record within the block; yields the list it fills."""
        self.seen = []
        self.on = True
        try:
            yield self.seen
        finally:
            self.on = False


RECORDER = Recorder()


class CannedAdapter(BaseAdapter):
    """Answers every request with the next status of ``statuses`` (cycling), a JSON body of
    ``{}`` and an ``x-ms-request-id``, as ``HTTPAdapter.build_response`` shapes a response."""

    def __init__(self, statuses: Sequence[int] = (200,)) -> None:
        super().__init__()
        self._statuses = itertools.cycle(statuses)
        self._headers = {status: _headers(status) for status in set(statuses)}

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        RECORDER.record(request.headers)
        status = next(self._statuses)
        response = requests.Response()
        response.status_code = status
        response.reason = _REASONS[status]
        response.headers = CaseInsensitiveDict(self._headers[status])
        response.encoding = "utf-8"
        response.raw = io.BytesIO(BODY)  # read by iter_content, as a urllib3 response is
        response.url = request.url or ""
        response.request = request
        # requests' stubs say HTTPAdapter; requests sets whichever adapter answered.
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        return


Answers = Optional[Sequence[int]]
"""The statuses a session's ``CannedAdapter`` answers in turn; None: the network answers."""


def mount(session: requests.Session, statuses: Answers) -> requests.Session:
    """Route both schemes of ``session`` to a ``CannedAdapter`` answering ``statuses`` (unless
    None); returns the session."""
    if statuses is not None:
        adapter = CannedAdapter(statuses)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session


def bare_session(statuses: Answers = (200,)) -> requests.Session:
    """A plain ``requests.Session``, answered by a ``CannedAdapter`` unless ``statuses`` is
    None."""
    return mount(requests.Session(), statuses)


class _CannedAioResponse:
    """What both aiohttp transports read of an ``aiohttp.ClientResponse``, canned."""

    def __init__(self, status: int, headers: Any, raw_headers: tuple[tuple[bytes, bytes], ...]):
        self.status = status
        self.reason = _REASONS[status]
        self.headers = headers
        self.raw_headers = raw_headers
        self.content_type = "application/json"

    async def read(self) -> bytes:
        return BODY

    async def text(self, encoding: Optional[str] = None) -> str:
        return BODY.decode()

    def release(self) -> None:
        return

    def close(self) -> None:
        return


@contextmanager
def canned_aiohttp() -> Iterator[None]:
    """Within the block, every ``aiohttp.ClientSession.request`` answers a canned 200 without a
    connection: the transports above run their default configuration and neither pays
    aiohttp's HTTP work."""
    import aiohttp
    from multidict import CIMultiDict, CIMultiDictProxy

    headers = _headers(200)
    proxy = CIMultiDictProxy(CIMultiDict(headers))
    raw = tuple((name.encode(), value.encode()) for name, value in headers.items())

    async def request(
        session: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any
    ) -> _CannedAioResponse:
        RECORDER.record(kwargs.get("headers") or {})
        return _CannedAioResponse(200, proxy, raw)

    original = aiohttp.ClientSession.request
    aiohttp.ClientSession.request = request  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        aiohttp.ClientSession.request = original  # type: ignore[method-assign]
