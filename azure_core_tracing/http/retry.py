"""``RetryPolicy``: exponential back-off with jitter, ``Retry-After``, bounded by the deadline."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Optional

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.headers import RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.policy import HttpPolicy, NextPolicy
from azure_core_tracing.http.transport import TransportError
from azure_core_tracing.options import RetryOptions

_TRY_KEY = object()  # context key: the number of the try under way (0 for the first)
_MAX_SLEEP_SLICE = 0.25  # seconds between looks at the context while backing off
JITTER_MIN, JITTER_MAX = 0.8, 1.3


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


class RetryPolicy(HttpPolicy):
    """Retries the configured status codes and transport errors, nothing else.

    Every try starts from the headers the request had when it reached this policy (so no
    per-try header leaks into the next try) and a rewound body. The context's cancellation
    and deadline bound it all: no back-off sleeps past the deadline. A response asking for a
    wait over ``options.max_retry_after`` is returned at once, not retried.
    """

    def __init__(
        self,
        options: RetryOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = lambda: random.uniform(JITTER_MIN, JITTER_MAX),
    ) -> None:
        if not isinstance(options, RetryOptions):
            raise TypeError(f"options must be a RetryOptions, got {type_name(options)}")
        if not callable(sleep):
            raise TypeError(f"sleep must be callable, got {type_name(sleep)}")
        if not callable(jitter):
            raise TypeError(f"jitter must be callable, got {type_name(jitter)}")
        self.options = options.snapshot()
        self._sleep = sleep
        self._jitter = jitter

    @staticmethod
    def get_retry_count(context: Context) -> int:
        """The try under way: -1 outside any retry policy, 0 on the first try, then 1, 2, ..."""
        count: int = context.get_value(_TRY_KEY, -1)
        return count

    def send(self, request: Request, next_policy: NextPolicy, context: Context) -> RawResponse:
        original = request.copy()  # its headers are what every try starts from
        try_number = 0
        while True:
            context.throw_if_cancelled()
            if try_number:
                request.headers = original.headers  # the setter takes a copy
                request.rewind_body()
            can_retry = try_number < self.options.max_retries and request.can_resend()
            try:
                response = next_policy.send(request, context.with_value(_TRY_KEY, try_number))
            except TransportError as error:
                if not can_retry:
                    raise
                self._back_off(self._delay(try_number), context, error)
            else:
                if not can_retry or response.status_code not in self.options.status_codes:
                    return response
                asked = retry_after_delay(response.headers, datetime.now(timezone.utc))
                if asked is not None and asked > self.options.max_retry_after:
                    return response  # the server asked for longer than we will wait
                delay = self._delay(try_number) if asked is None else asked
                response.close()
                self._back_off(delay, context, None)
            try_number += 1

    def _delay(self, try_number: int) -> float:
        return backoff_delay(try_number, self.options, self._jitter())

    def _back_off(self, delay: float, context: Context, error: Optional[BaseException]) -> None:
        deadline = context.deadline
        if deadline is not None:
            remaining = (deadline - datetime.now(timezone.utc)).total_seconds()
            if delay >= remaining:
                raise OperationCancelledError(
                    f"the context's deadline would pass during the {delay:.3f} s back-off "
                    "before the next try"
                ) from error
        while delay > 0:
            if context.is_cancelled():
                raise OperationCancelledError(
                    "the context was cancelled during back-off"
                ) from error
            step = min(delay, _MAX_SLEEP_SLICE)
            self._sleep(step)
            delay -= step
        if context.is_cancelled():
            raise OperationCancelledError("the context was cancelled during back-off") from error
