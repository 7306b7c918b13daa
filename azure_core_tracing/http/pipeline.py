"""``HttpPipeline``: sends a client's requests through its policies, in the fixed order."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Callable, Optional

from azure_core_tracing.context import Context
from azure_core_tracing.http.order import PipelineBase, chain, check_send
from azure_core_tracing.http.policy import PipelinePolicy
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.requests_transport import RequestsTransport
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.retry import RetryPolicy
from azure_core_tracing.http.transport import HttpTransport
from azure_core_tracing.options import ClientOptions


class HttpPipeline(PipelineBase[HttpTransport, Callable[[float], None]]):
    """Sends a client's requests through its policies, in the order of ``PIPELINE_ORDER``,
    over an ``HttpTransport`` (``RequestsTransport`` by default); waits with ``time.sleep``."""

    _kind = "sync"

    def send(self, request: Request, context: Optional[Context] = None) -> RawResponse:
        """Send a copy of ``request`` through every policy (so the request itself never
        changes); ``context`` carries the operation's span, deadline and cancellation."""
        return self._head.send(*check_send(request, context, self._sanitizer))

    def close(self) -> None:
        """Close the transport's pooled connections."""
        self.transport.close()

    def __enter__(self) -> HttpPipeline:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def _default_transport(self) -> HttpTransport:
        return RequestsTransport()

    def _retry_policy(
        self, options: ClientOptions, sleep: Optional[Callable[[float], None]]
    ) -> RetryPolicy:
        return RetryPolicy(options.retry, sleep=sleep or time.sleep)

    def _link(self, policies: tuple[PipelinePolicy, ...]) -> None:
        self._head = chain(policies)
