"""``GuardedSpan``: a tracer provider's span behind the guard that keeps tracing from ever
changing the application's call.

Arguments are checked first, exactly as a no-op span checks them, so a programmer error
raises whether tracing is on or off. Then every call into the provider's code runs inside
the guard: an exception or a value of the wrong kind is reported once and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import datetime
from types import TracebackType
from typing import ContextManager, Optional, Union

from azure_core_tracing.checks import check_header, type_name
from azure_core_tracing.failures import report_tracing_failure
from azure_core_tracing.headers import PROTECTED_FROM_PROPAGATION
from azure_core_tracing.tracing import (
    AttributeValue,
    Span,
    SpanStatus,
    check_attribute,
    check_attributes,
    check_description,
    check_end_time,
    check_event,
    check_status,
)


class GuardedSpan(Span):
    """A provider's span (``inner``) whose failures never reach the caller."""

    __slots__ = ("_owner", "inner")

    def __init__(self, inner: Span, owner: object) -> None:
        self.inner = inner
        """The provider's own span: calls made on it directly are not guarded."""
        self._owner = owner

    def end(self, end_time: Optional[datetime] = None) -> None:
        check_end_time(end_time)
        try:
            self.inner.end(end_time)
        except Exception as error:
            report_tracing_failure(self._owner, "end", error)

    def add_attribute(self, name: str, value: AttributeValue) -> None:
        check_attribute(name, value)
        try:
            self.inner.add_attribute(name, value)
        except Exception as error:
            report_tracing_failure(self._owner, "add_attribute", error)

    def add_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        check_attributes(attributes)
        try:
            self.inner.add_attributes(attributes)
        except Exception as error:
            report_tracing_failure(self._owner, "add_attributes", error)

    def add_event(
        self,
        name_or_exception: Union[str, BaseException],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> None:
        check_event(name_or_exception, attributes)
        try:
            self.inner.add_event(name_or_exception, attributes)
        except Exception as error:
            report_tracing_failure(self._owner, "add_event", error)

    def set_status(self, status: SpanStatus, description: Optional[str] = None) -> None:
        check_status(status)
        check_description(description)
        try:
            self.inner.set_status(status, description)
        except Exception as error:
            report_tracing_failure(self._owner, "set_status", error)

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        """Write the provider's trace headers into ``headers``, keeping only what can be sent.

        A header that is not a valid name and clean Latin-1 value, or that would replace the
        request's framing, authentication or identity headers, is dropped and reported."""
        carrier: dict[str, str] = {}
        try:
            self.inner.propagate_to_http_headers(carrier)
            entries = list(carrier.items())
        except Exception as error:
            report_tracing_failure(self._owner, "propagate_to_http_headers", error)
            return
        for name, value in entries:
            try:
                check_header(name, value)
            except (TypeError, ValueError):
                report_tracing_failure(
                    self._owner,
                    "propagate_to_http_headers",
                    "it wrote a header that cannot be sent (a name or value that is not "
                    f"clean text: {type_name(name)}/{type_name(value)}); the header was dropped",
                )
                continue
            if name.lower() in PROTECTED_FROM_PROPAGATION:
                report_tracing_failure(
                    self._owner,
                    "propagate_to_http_headers",
                    f"it wrote the {name!r} header, which tracing never sets; it was dropped",
                )
                continue
            headers[name] = value

    @property
    def is_recording(self) -> bool:
        try:
            return bool(self.inner.is_recording)
        except Exception as error:
            report_tracing_failure(self._owner, "is_recording", error)
            return False

    def activate(self, *, suppress_http_instrumentation: bool = False) -> ContextManager[None]:
        return _GuardedActivation(self.inner, self._owner, suppress_http_instrumentation)


class _GuardedActivation:
    """Enters and exits the provider's activation; neither can raise into the caller."""

    __slots__ = ("_activation", "_inner", "_owner", "_suppress")

    def __init__(self, inner: Span, owner: object, suppress: bool) -> None:
        self._inner = inner
        self._owner = owner
        self._suppress = suppress
        self._activation: Optional[ContextManager[None]] = None

    def __enter__(self) -> None:
        try:
            activation = self._inner.activate(suppress_http_instrumentation=self._suppress)
            activation.__enter__()
        except Exception as error:
            report_tracing_failure(self._owner, "activate", error)
            return
        self._activation = activation

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        activation, self._activation = self._activation, None
        if activation is None:
            return
        try:
            # No exception is passed on: an activation that swallowed it would change the call.
            activation.__exit__(None, None, None)
        except Exception as error:
            report_tracing_failure(self._owner, "deactivate", error)
