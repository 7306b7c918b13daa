"""``Transport``: either real transport, ``RequestsTransport`` or ``AioHttpTransport``, driven
through one synchronous ``send`` (the async one on an event loop of its own)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Optional, TypeVar

import aiohttp
import requests

from azure_core_tracing import Context
from azure_core_tracing.http import (
    AioHttpTransport,
    RawResponse,
    Request,
    RequestsTransport,
    TransportError,
)

T = TypeVar("T")

KINDS = ["requests", "aiohttp"]


class Transport:
    """A transport of one kind with a synchronous ``send`` (the async one on its own loop)."""

    def __init__(self, kind: str, session: bool = False, **kwargs: Any) -> None:
        self.kind = kind
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.session: Any = None
        if kind == "requests":
            self.session = requests.Session() if session else None
            self.transport: Any = RequestsTransport(self.session, **kwargs)
            self.connection_error: type[BaseException] = requests.ConnectionError
            self.timeout_error: tuple[type[BaseException], ...] = (requests.Timeout,)
            return
        self.loop = asyncio.new_event_loop()
        if session:
            self.session = self.run(self._new_session())
        self.transport = AioHttpTransport(self.session, **kwargs)
        self.connection_error = aiohttp.ClientConnectorError
        self.timeout_error = (asyncio.TimeoutError, aiohttp.ServerTimeoutError)

    @staticmethod
    async def _new_session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        assert self.loop is not None
        return self.loop.run_until_complete(coroutine)

    def send(self, request: Request, context: Optional[Context] = None) -> RawResponse:
        context = context or Context()
        if self.loop is None:
            response: RawResponse = self.transport.send(request, context)
            return response
        sent: RawResponse = self.run(self.transport.send(request, context))
        return sent

    def chunks(self, response: RawResponse) -> list[bytes]:
        if self.loop is None:
            return list(response.iter_bytes())

        async def collect() -> list[bytes]:
            return [chunk async for chunk in response.aiter_bytes()]

        return self.run(collect())

    def close(self) -> None:
        if self.loop is None:
            self.transport.close()
            return
        self.run(self.transport.close())
        if self.session is not None:
            self.run(self.session.close())
        self.loop.close()


def failure_types(url: str) -> list[type[BaseException]]:
    """The type of ``TransportError`` each kind of transport (``KINDS``, in order) raises for a
    GET of ``url``; fails the test if one does not raise."""
    raised: list[type[BaseException]] = []
    for kind in KINDS:
        transport = Transport(kind)
        try:
            transport.send(Request("GET", url))
        except TransportError as error:
            raised.append(type(error))
        else:
            raise AssertionError(f"the {kind} transport did not raise")
        finally:
            transport.close()
    return raised
