"""``HttpPolicy``: one step of the pipeline, and ``NextPolicy``, the rest of it."""

from __future__ import annotations

from abc import ABC, abstractmethod

from azure_core_tracing.context import Context
from azure_core_tracing.http.messages import RawResponse, Request


class NextPolicy(ABC):
    """The rest of the pipeline below a policy."""

    @abstractmethod
    def send(self, request: Request, context: Context) -> RawResponse:
        """Send ``request`` through the remaining policies and the transport."""


class HttpPolicy(ABC):
    """One concern applied to every request, which then hands it on to ``next_policy``."""

    @abstractmethod
    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        """Act on ``request``, call ``next_policy.send`` (or not), and return the response.

        ``context`` carries the operation's span, deadline and cancellation."""
