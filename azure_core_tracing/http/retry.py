"""``RetryPolicy``: exponential back-off with jitter, ``Retry-After``, bounded by the deadline.

Every decision (retry this response or error? wait how long? may we wait that long?) is made
by ``Attempts``, which does no I/O; the sync and async runners at the bottom only send and
wait (``time.sleep`` or ``asyncio.sleep``, in slices, so a cancellation is seen promptly).
"""

from __future__ import annotations

import asyncio
import inspect
import math
import random
import time
from collections.abc import Awaitable, Iterator, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Optional, Union

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.exceptions import (
    HttpsRequiredError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure_core_tracing.headers import RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS
from azure_core_tracing.http.policy import AsyncNextPolicy, NextPolicy, PipelinePolicy
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.response import RawResponse
from azure_core_tracing.http.try_number import try_number, with_try_number
from azure_core_tracing.options import RetryOptions

_MAX_SLEEP_SLICE = 0.25  # seconds between looks at the context while backing off
JITTER_MIN, JITTER_MAX = 0.8, 1.3
# What a try that failed below HTTP raises (as azure-core's retry, both are retried).
TransportFailure = Union[ServiceRequestError, ServiceResponseError]


def backoff_delay(try_number: int, options: RetryOptions, jitter: float) -> float:
    """Seconds to wait after try ``try_number`` (0-based) failed: exponential, capped."""
    exponential = options.retry_delay * (2 ** min(try_number, 32)) * jitter
    return float(min(exponential, options.max_retry_delay))


def _seconds(value: object, scale: float) -> Optional[float]:
    """A finite, non-negative number of seconds from a header value; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    seconds = number / scale
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _date_delay(value: object, now: datetime) -> Optional[float]:
    if not isinstance(value, str):
        return None
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max((when - now).total_seconds(), 0.0)
    except Exception:  # the server's text: any failure to read a date means no date
        return None


def retry_after_delay(headers: Mapping[str, str], now: datetime) -> Optional[float]:
    """Seconds the server asked to wait, from ``retry-after-ms``, ``x-ms-retry-after-ms`` or
    ``Retry-After`` (seconds or an HTTP date); None when it asked for nothing readable."""
    for name in (RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS):
        delay = _seconds(headers.get(name), 1000.0)
        if delay is not None:
            return delay
    value = headers.get(RETRY_AFTER)
    if value is None:
        return None
    delay = _seconds(value, 1.0)
    return delay if delay is not None else _date_delay(value, now)


class RetryPolicy(PipelinePolicy):
    """Retries the configured status codes and transport errors (not ``HttpsRequiredError``),
    nothing else.

    Every try sends a copy of the request as it reached this policy, with a rewound body: no
    header, URL or method a per-retry policy changed leaks into the next try, or back to the
    policies above (the redirect policy builds its next hop from the request it sent). The
    context's cancellation and deadline bound it all: no back-off sleeps past the deadline.
    A response asking for a wait over ``options.max_retry_after`` is returned at once, not
    retried.
    """

    def __init__(
        self,
        options: RetryOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = lambda: random.uniform(JITTER_MIN, JITTER_MAX),
    ) -> None:
        if not isinstance(options, RetryOptions):
            raise TypeError(f"options must be a RetryOptions, got {type_name(options)}")
        for name, value in (("sleep", sleep), ("async_sleep", async_sleep), ("jitter", jitter)):
            if not callable(value):
                raise TypeError(f"{name} must be callable, got {type_name(value)}")
        if inspect.iscoroutinefunction(sleep):
            raise TypeError(
                "sleep must be a plain function (async_sleep awaits), got a coroutine one"
            )
        self.options = options.snapshot()
        self.sleep = sleep
        """How the sync pipeline waits (tests pass a recorder)."""
        self.async_sleep = async_sleep
        """How the async pipeline waits."""
        self._jitter = jitter

    @staticmethod
    def get_retry_count(context: Context) -> int:
        """The retry count within the current request: -1 outside any retry policy, 0 on the
        first try, then 1, 2, ... A redirect hop is a new request: it starts again at 0 (the
        try's span name counts every request of the call instead)."""
        return try_number(context)

    def begin(self, request: Request, context: Context) -> Attempts:
        """The decisions for sending ``request`` once, with all its tries."""
        return Attempts(self.options, self._jitter, request, context)

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        return _RetryLink(self, next_policy)

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        return _AsyncRetryLink(self, next_policy)


class Attempts:
    """The retry decisions for one send; it does no I/O, the runner sends and waits."""

    __slots__ = ("_context", "_error", "_jitter", "_options", "_request", "number")

    def __init__(
        self,
        options: RetryOptions,
        jitter: Callable[[], float],
        request: Request,
        context: Context,
    ) -> None:
        self._options = options
        self._jitter = jitter
        self._request = request  # never sent itself: every try starts from it
        self._context = context
        self._error: Optional[TransportFailure] = None
        self.number = -1
        """The try under way (0 for the first)."""

    def next_try(self) -> tuple[Request, Context]:
        """The next try's request (a copy of the one given, its body rewound) and the
        context to send it with."""
        self._context.throw_if_cancelled()
        self.number += 1
        if self.number:
            self._request.rewind_body()
        return self._request.copy(), with_try_number(self._context, self.number)

    def after_response(self, response: RawResponse) -> Optional[float]:
        """None: return ``response``. Else the seconds to wait before the next try."""
        if not self._can_retry() or response.status_code not in self._options.status_codes:
            return None
        asked = retry_after_delay(response.headers, datetime.now(timezone.utc))
        if asked is not None and asked > self._options.max_retry_after:
            return None  # the server asked for longer than we will wait
        self._error = None
        return self._backoff() if asked is None else asked

    def after_error(self, error: TransportFailure) -> Optional[float]:
        """None: raise ``error``. Else the seconds to wait before the next try."""
        if isinstance(error, HttpsRequiredError) or not self._can_retry():
            return None
        self._error = error
        return self._backoff()

    def waits(self, delay: float) -> Iterator[float]:
        """The slices of a wait of ``delay`` seconds; stops with ``OperationCancelledError``
        when the deadline would pass during the wait or the context is cancelled."""
        context, error = self._context, self._error
        deadline = context.deadline
        now = datetime.now(timezone.utc)
        if deadline is not None and delay >= (deadline - now).total_seconds():
            raise OperationCancelledError(
                f"the context's deadline would pass during the {delay:.3f} s back-off "
                "before the next try"
            ) from error
        cancelled = "the context was cancelled during back-off"
        while delay > 0:
            if context.is_cancelled():
                raise OperationCancelledError(cancelled) from error
            step = min(delay, _MAX_SLEEP_SLICE)
            yield step
            delay -= step
        if context.is_cancelled():
            raise OperationCancelledError(cancelled) from error

    def _can_retry(self) -> bool:
        return self.number < self._options.max_retries and self._request.can_resend()

    def _backoff(self) -> float:
        return backoff_delay(self.number, self._options, self._jitter())


# The runners: the same steps, one sending and waiting with ``await``, one without.
class _RetryLink(NextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: RetryPolicy, next_policy: NextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    def send(self, request: Request, context: Context) -> RawResponse:
        attempts = self._policy.begin(request, context)
        while True:
            try:
                response = self._next.send(*attempts.next_try())
            except (ServiceRequestError, ServiceResponseError) as error:
                delay = attempts.after_error(error)
                if delay is None:
                    raise
            else:
                delay = attempts.after_response(response)
                if delay is None:
                    return response
                response.close()
            for step in attempts.waits(delay):
                self._policy.sleep(step)


class _AsyncRetryLink(AsyncNextPolicy):
    __slots__ = ("_next", "_policy")

    def __init__(self, policy: RetryPolicy, next_policy: AsyncNextPolicy) -> None:
        self._policy, self._next = policy, next_policy

    async def send(self, request: Request, context: Context) -> RawResponse:
        attempts = self._policy.begin(request, context)
        while True:
            try:
                response = await self._next.send(*attempts.next_try())
            except (ServiceRequestError, ServiceResponseError) as error:
                delay = attempts.after_error(error)
                if delay is None:
                    raise
            else:
                delay = attempts.after_response(response)
                if delay is None:
                    return response
                await response.aclose()
            for step in attempts.waits(delay):
                waiting = self._policy.async_sleep(step)
                if not inspect.isawaitable(waiting):
                    raise TypeError(
                        "sleep must return an awaitable for an AsyncHttpPipeline, "
                        f"got {type(waiting).__name__}"
                    )
                await waiting
