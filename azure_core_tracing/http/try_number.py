"""The numbers of the try under way, carried in the ``Context``; any policy reads them through
here, never through the policy that writes them.

- ``call_try_number``: the try within the whole call, counting every request the call sends
  (retries, redirect hops, a credential challenge's re-send): ``HTTP GET #n`` spans and log
  lines use it, so no two tries of one call share a name. The counter lives with the call:
  the pipeline puts it in the call's context (``with_call_tries``) and the activity policy
  takes the next number for each request that reaches it (``next_call_try``).
- ``try_number``: the retry count within the current request (a redirect hop starts again at
  0); the retry policy writes it, and ``RetryPolicy.get_retry_count`` reads it.
"""

from __future__ import annotations

from typing import Optional

from azure_core_tracing.context import Context

_TRY_KEY = object()
_CALL_TRIES_KEY = object()


class _CallTries:
    """The call's try counter: one per call, advanced by each request sent."""

    __slots__ = ("number",)

    def __init__(self) -> None:
        self.number = -1


def try_number(context: Context) -> int:
    """The retry count within the current request: -1 outside any retry policy, 0 on the
    first try, then 1, 2, ... (a redirect hop starts again at 0)."""
    number: int = context.get_value(_TRY_KEY, -1)
    return number


def with_try_number(context: Context, number: int) -> Context:
    """A child of ``context`` for try ``number``."""
    return context.with_value(_TRY_KEY, number)


def with_call_tries(context: Context) -> Context:
    """A child of ``context`` that counts the tries of one call (the pipeline makes it)."""
    return context.with_value(_CALL_TRIES_KEY, _CallTries())


def next_call_try(context: Context) -> int:
    """Count one more request sent by the context's call, and return its number (0 for the
    first); outside a pipeline's call, ``try_number`` (at least 0)."""
    tries: Optional[_CallTries] = context.get_value(_CALL_TRIES_KEY)
    if tries is None:
        return max(try_number(context), 0)
    tries.number += 1
    return tries.number


def call_try_number(context: Context) -> int:
    """The number of the call's request under way (from ``next_call_try``); outside a
    pipeline's call, ``try_number`` (at least 0)."""
    tries: Optional[_CallTries] = context.get_value(_CALL_TRIES_KEY)
    if tries is None:
        return max(try_number(context), 0)
    return max(tries.number, 0)
