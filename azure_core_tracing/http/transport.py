"""The transport boundary: ``HttpTransport``, its errors, and the policy that calls it."""

from __future__ import annotations

from abc import ABC, abstractmethod

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.policy import HttpPolicy, NextPolicy


class TransportError(Exception):
    """Sending a request failed below HTTP; the original error is the ``__cause__``."""


class TransportConnectionError(TransportError, ConnectionError):
    """The connection could not be made or was lost."""


class TransportTimeoutError(TransportError, TimeoutError):
    """Connecting or reading took longer than the timeout (or the context's deadline)."""


class HttpTransport(ABC):
    """Moves bytes: the one method between what to send and how it is sent."""

    @abstractmethod
    def send(self, request: Request, context: Context) -> RawResponse:
        """Send ``request`` and return the response, raising ``TransportError`` on failure.

        The context's deadline bounds the time spent."""

    def close(self) -> None:
        """Release pooled connections; the default has none."""
        return


class TransportPolicy(HttpPolicy):
    """The last policy: hands the request to the transport."""

    def __init__(self, transport: HttpTransport) -> None:
        if not isinstance(transport, HttpTransport):
            raise TypeError(f"transport must be an HttpTransport, got {type_name(transport)}")
        self.transport = transport

    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        response = self.transport.send(request, context)
        if not isinstance(response, RawResponse):
            raise TypeError(
                f"{type_name(self.transport)}.send must return a RawResponse, "
                f"got {type_name(response)}"
            )
        return response
