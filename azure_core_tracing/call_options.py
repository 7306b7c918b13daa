"""Per-call tracing options, carried in the ``Context`` so every try of the call sees them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Optional

from azure_core_tracing.checks import check_status_codes, type_name
from azure_core_tracing.context import Context, check_context
from azure_core_tracing.guard import checked_attributes
from azure_core_tracing.tracing import AttributeValue

_KEY = object()  # context key: the TracingOptions of the call


@dataclass(frozen=True)
class TracingOptions:
    """How one call is traced (see ``tracing_options``); None: as the client would."""

    enabled: Optional[bool] = None
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    expected_status_codes: frozenset[int] = frozenset()


_DEFAULT = TracingOptions()


def tracing_options(
    context: Context,
    *,
    enabled: Optional[bool] = None,
    attributes: Optional[Mapping[str, AttributeValue]] = None,
    expected_status_codes: Optional[Iterable[int]] = None,
) -> Context:
    """A child of ``context`` that traces the call made with it as told, on every try.

    ``enabled=False``: no API span, no HTTP spans, no trace headers; ``enabled=True``: traced
    even where a nested API span would be suppressed (given a provider). ``attributes`` go on
    the API span and every HTTP span of the call. A response whose status is in
    ``expected_status_codes`` (``{404}`` for an ``exists()`` check) leaves its HTTP span UNSET,
    not ERROR. Options already in ``context`` are kept unless given again (attributes merge).
    """
    check_context(context)
    if enabled is not None and not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool or None, got {type_name(enabled)}")
    checked = checked_attributes(attributes)
    codes = (
        None
        if expected_status_codes is None
        else check_status_codes(expected_status_codes, "expected_status_codes")
    )
    before = call_options(context)
    merged = TracingOptions(
        before.enabled if enabled is None else enabled,
        {**before.attributes, **checked},
        before.expected_status_codes if codes is None else codes,
    )
    return context.with_value(_KEY, merged)


def call_options(context: Context) -> TracingOptions:
    """The tracing options of the call ``context`` belongs to (the defaults if none)."""
    options: TracingOptions = context.get_value(_KEY, _DEFAULT)
    return options
