"""``AsyncHttpPipeline``: the asyncio twin of ``HttpPipeline``, with the same policies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from types import TracebackType
from typing import Callable, Optional

from azure_core_tracing.context import Context
from azure_core_tracing.http.aiohttp_transport import AioHttpTransport
from azure_core_tracing.http.order import PipelineBase, chain_async, check_send
from azure_core_tracing.http.policy import PipelinePolicy
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.transport import AsyncHttpTransport
from azure_core_tracing.options import ClientOptions

AsyncSleep = Callable[[float], Awaitable[None]]


class AsyncHttpPipeline(PipelineBase[AsyncHttpTransport, AsyncSleep]):
    """Sends a client's requests through its policies with ``await``, in the order of
    ``PIPELINE_ORDER``, over an ``AsyncHttpTransport`` (``AioHttpTransport`` by default, from
    the ``[aio]`` extra); waits with ``asyncio.sleep``. The constructor is ``HttpPipeline``'s.
    """

    _kind = "async"

    async def send(self, request: Request, context: Optional[Context] = None) -> RawResponse:
        """Send a copy of ``request`` through every policy (so the request itself never
        changes); ``context`` carries the operation's span, deadline and cancellation."""
        return await self._head.send(*check_send(request, context, self._sanitizer))

    async def close(self) -> None:
        """Close the transport's pooled connections."""
        await self.transport.close()

    async def __aenter__(self) -> AsyncHttpPipeline:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    def _default_transport(self) -> AsyncHttpTransport:
        return AioHttpTransport()

    def _retry_policy(self, options: ClientOptions, sleep: Optional[AsyncSleep]) -> RetryPolicy:
        return RetryPolicy(options.retry, async_sleep=sleep or asyncio.sleep)

    def _link(self, policies: tuple[PipelinePolicy, ...]) -> None:
        self._head = chain_async(policies)
