"""The transport boundary: ``HttpTransport`` and ``AsyncHttpTransport``, the errors they raise,
the policy that calls them, and the deadline-bounded timeouts every transport shares (its
failures become errors that hold no secret in ``error_redaction``)."""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime, timezone
from typing import Union

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context, OperationCancelledError

# The names of the release before, kept here for one release (see exceptions): each is the
# base of what the transports raise now, so ``except TransportError`` still catches them.
from azure_core_tracing.exceptions import (
    TransportConnectionError,
    TransportError,
    TransportTimeoutError,
)
from azure_core_tracing.http.policy import AsyncNextPolicy, NextPolicy, PipelinePolicy
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.transport_base import Transport

__all__ = [
    "STREAM_CHUNK_SIZE",
    "AsyncHttpTransport",
    "HttpTransport",
    "TransportConnectionError",
    "TransportError",
    "TransportPolicy",
    "TransportTimeoutError",
    "transport_timeouts",
]

# A body is read this much at a time when it is streamed.
STREAM_CHUNK_SIZE = 64 * 1024


class HttpTransport(Transport):
    """Moves bytes for ``HttpPipeline``: the one method between what to send and how."""

    @abstractmethod
    def send(self, request: Request, context: Context) -> RawResponse:
        """Send ``request`` and return the response, raising ``ServiceRequestError`` or
        ``ServiceResponseError`` (or their timeouts, from ``exceptions``) on failure.

        The context's deadline bounds the time spent."""

    def close(self) -> None:
        """Release pooled connections; the default has none."""
        return


class AsyncHttpTransport(Transport):
    """Moves bytes for ``AsyncHttpPipeline``: the one method between what to send and how."""

    @abstractmethod
    async def send(self, request: Request, context: Context) -> RawResponse:
        """Send ``request`` and return the response, raising ``ServiceRequestError`` or
        ``ServiceResponseError`` (or their timeouts, from ``exceptions``) on failure.

        The context's deadline bounds the time spent."""

    async def close(self) -> None:
        """Release pooled connections; the default has none."""
        return


class TransportPolicy(PipelinePolicy):
    """The last policy: hands the request to the transport, sync or async as the pipeline."""

    def __init__(self, transport: Union[HttpTransport, AsyncHttpTransport]) -> None:
        if not isinstance(transport, (HttpTransport, AsyncHttpTransport)):
            raise TypeError(
                "transport must be an HttpTransport or AsyncHttpTransport, "
                f"got {type_name(transport)}"
            )
        self.transport = transport

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        if not isinstance(self.transport, HttpTransport):
            raise _wrong_kind(self.transport, "HttpPipeline")
        return _TransportLink(self.transport)

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        if not isinstance(self.transport, AsyncHttpTransport):
            raise _wrong_kind(self.transport, "AsyncHttpPipeline")
        return _AsyncTransportLink(self.transport)


def _wrong_kind(transport: object, pipeline: str) -> TypeError:
    expected = "AsyncHttpTransport" if pipeline.startswith("Async") else "HttpTransport"
    return TypeError(
        f"transport must be an {expected} for an {pipeline}, got {type_name(transport)}"
    )


def _checked(transport: object, response: object) -> RawResponse:
    if not isinstance(response, RawResponse):
        raise TypeError(
            f"{type_name(transport)}.send must return a RawResponse, got {type_name(response)}"
        )
    return response


class _TransportLink(NextPolicy):
    __slots__ = ("_transport",)

    def __init__(self, transport: HttpTransport) -> None:
        self._transport = transport

    def send(self, request: Request, context: Context) -> RawResponse:
        return _checked(self._transport, self._transport.send(request, context))


class _AsyncTransportLink(AsyncNextPolicy):
    __slots__ = ("_transport",)

    def __init__(self, transport: AsyncHttpTransport) -> None:
        self._transport = transport

    async def send(self, request: Request, context: Context) -> RawResponse:
        return _checked(self._transport, await self._transport.send(request, context))


def transport_timeouts(context: Context, connect: float, read: float) -> tuple[float, float]:
    """The connect and read timeouts for one try, shortened to what is left of the deadline.

    Raises ``OperationCancelledError`` if the context is cancelled or its deadline passed."""
    context.throw_if_cancelled()
    deadline = context.deadline
    if deadline is None:
        return (connect, read)
    remaining = (deadline - datetime.now(timezone.utc)).total_seconds()
    if remaining <= 0:
        raise OperationCancelledError("the context's deadline passed before the request was sent")
    return (min(connect, remaining), min(read, remaining))
