"""The number of the try under way, carried in the ``Context``: the retry policy writes it,
any policy reads it (through here, never through the retry policy)."""

from __future__ import annotations

from azure_core_tracing.context import Context

_TRY_KEY = object()


def try_number(context: Context) -> int:
    """The try under way: -1 outside any retry policy, 0 on the first try, then 1, 2, ..."""
    number: int = context.get_value(_TRY_KEY, -1)
    return number


def with_try_number(context: Context, number: int) -> Context:
    """A child of ``context`` for try ``number``."""
    return context.with_value(_TRY_KEY, number)
