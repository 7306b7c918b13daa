"""Policies: one concern applied to every request, in the sync pipeline, the async one, or both.

- ``SansIOHttpPolicy``: hooks on the request, the response and the exception, with no I/O of
  their own, so the same object serves ``HttpPipeline`` and ``AsyncHttpPipeline``.
- ``HttpPolicy`` / ``AsyncHttpPolicy``: full control of one pipeline's ``send`` (a policy
  that must wait or send requests of its own, such as fetching a token).

A pipeline links its policies with ``chain`` (sync) or ``chain_async`` (async); a policy
that cannot serve one kind of pipeline refuses it there with a ``TypeError``.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Optional

from azure_core_tracing.context import Context
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse


class NextPolicy(ABC):
    """The rest of a sync pipeline below a policy."""

    @abstractmethod
    def send(self, request: Request, context: Context) -> RawResponse:
        """Send ``request`` through the remaining policies and the transport."""


class AsyncNextPolicy(ABC):
    """The rest of an async pipeline below a policy."""

    @abstractmethod
    async def send(self, request: Request, context: Context) -> RawResponse:
        """Send ``request`` through the remaining policies and the transport."""


class PipelinePolicy(ABC):
    """What a pipeline can link: every policy is one."""

    @abstractmethod
    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        """This policy in front of ``next_policy``, in a sync pipeline."""

    @abstractmethod
    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        """This policy in front of ``next_policy``, in an async pipeline."""


def _refuse(policy: PipelinePolicy, pipeline: str, needed: str) -> TypeError:
    return TypeError(
        f"{type(policy).__name__} cannot run in an {pipeline}: it needs {needed} "
        "(or a SansIOHttpPolicy, which runs in both)"
    )


class SansIOHttpPolicy(PipelinePolicy):
    """Acts on the request before it is sent and on its outcome; runs in both pipelines."""

    def on_request(self, request: Request, context: Context) -> Optional[Context]:
        """Change ``request`` before it goes on; return a child of ``context`` to pass down
        (and to the other hooks), or None to keep it."""
        return None

    def on_response(self, request: Request, response: RawResponse, context: Context) -> None:
        """Look at (or change) the response on its way back."""

    def on_exception(self, request: Request, error: Exception, context: Context) -> None:
        """Look at an error on its way back; it is raised on whatever this does."""

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        _check_hooks(self)
        return _SansIOLink(self, next_policy)

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        _check_hooks(self)
        return _AsyncSansIOLink(self, next_policy)


class HttpPolicy(PipelinePolicy):
    """Full control of a sync pipeline's send: act, call ``next_policy.send`` (or not)."""

    @abstractmethod
    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        """Act on ``request``, call ``next_policy.send`` (or not), and return the response.

        ``context`` carries the operation's span, deadline and cancellation."""

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        return _Link(self, next_policy)

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        raise _refuse(self, "AsyncHttpPipeline", "an AsyncHttpPolicy")


class AsyncHttpPolicy(PipelinePolicy):
    """Full control of an async pipeline's send: act, await ``next_policy.send`` (or not)."""

    @abstractmethod
    async def send(
        self, request: Request, next_policy: AsyncNextPolicy, context: Context
    ) -> RawResponse:
        """Act on ``request``, await ``next_policy.send`` (or not), and return the response."""

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        raise _refuse(self, "HttpPipeline", "an HttpPolicy")

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        return _AsyncLink(self, next_policy)


class _Link(NextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: HttpPolicy, next_policy: NextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    def send(self, request: Request, context: Context) -> RawResponse:
        return self._policy.send(request, self._next, context)


class _AsyncLink(AsyncNextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: AsyncHttpPolicy, next_policy: AsyncNextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    async def send(self, request: Request, context: Context) -> RawResponse:
        return await self._policy.send(request, self._next, context)


def _passed_down(policy: SansIOHttpPolicy, returned: object, context: Context) -> Context:
    if returned is None:
        return context
    if not isinstance(returned, Context):
        raise TypeError(
            f"{type(policy).__name__}.on_request must return a Context or None, "
            f"got {type(returned).__name__}"
        )
    return returned


def _check_hooks(policy: SansIOHttpPolicy) -> None:
    """Raise ``TypeError`` for a hook written ``async def``: a sans-I/O hook is called, not
    awaited, so it would never run."""
    for hook in ("on_request", "on_response", "on_exception"):
        if inspect.iscoroutinefunction(getattr(policy, hook)):
            raise TypeError(
                f"{type(policy).__name__}.{hook} is a coroutine function: a SansIOHttpPolicy's "
                "hooks run in both pipelines and are not awaited (await in an AsyncHttpPolicy)"
            )


# The two runners of a sans-I/O policy differ by one ``await``: the policy's logic is in its
# hooks, written once.
class _SansIOLink(NextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: SansIOHttpPolicy, next_policy: NextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    def send(self, request: Request, context: Context) -> RawResponse:
        policy = self._policy
        context = _passed_down(policy, policy.on_request(request, context), context)
        try:
            response = self._next.send(request, context)
        except Exception as error:
            policy.on_exception(request, error, context)
            raise
        policy.on_response(request, response, context)
        return response


class _AsyncSansIOLink(AsyncNextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: SansIOHttpPolicy, next_policy: AsyncNextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    async def send(self, request: Request, context: Context) -> RawResponse:
        policy = self._policy
        context = _passed_down(policy, policy.on_request(request, context), context)
        try:
            response = await self._next.send(request, context)
        except Exception as error:
            policy.on_exception(request, error, context)
            raise
        policy.on_response(request, response, context)
        return response
