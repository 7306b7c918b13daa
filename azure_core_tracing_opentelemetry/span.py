"""``OpenTelemetrySpan``: an ``azure_core_tracing.Span`` over an OpenTelemetry span."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, MutableMapping
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import ContextManager, Optional, Union, cast

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Status, StatusCode
from opentelemetry.util.types import Attributes

from azure_core_tracing.tracing import (
    AttributeValue,
    Span,
    SpanStatus,
    check_attribute,
    check_attributes,
    check_description,
    check_end_time,
    check_event,
    check_headers_mapping,
    check_status,
    is_plain_attribute,
)

_SUPPRESS_HTTP_KEY: Optional[str]
try:  # the key OpenTelemetry's HTTP instrumentations look at; private in the API package
    from opentelemetry.context import _SUPPRESS_HTTP_INSTRUMENTATION_KEY as _SUPPRESS_HTTP_KEY
except ImportError:  # pragma: no cover - an OpenTelemetry release without it
    _SUPPRESS_HTTP_KEY = None
    logging.getLogger(__name__).debug(
        "OpenTelemetry has no suppress-HTTP-instrumentation key: nested HTTP spans are possible"
    )

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# OpenTelemetry's code for each SpanStatus, indexed by its value (an enum's hash is a Python call).
_STATUS_CODES = tuple(
    StatusCode[status.name] for status in sorted(SpanStatus, key=lambda s: s.value)
)
# A status without a description, made once: Status is immutable, and every call sets one.
_PLAIN_STATUSES = tuple(Status(code) for code in _STATUS_CODES)


def _otel_value(name: str, value: AttributeValue) -> AttributeValue:
    """``value`` once checked; OpenTelemetry takes every valid value as it is."""
    if not is_plain_attribute(name, value):
        check_attribute(name, value)
    return value


def to_otel_attributes(attributes: Optional[Mapping[str, AttributeValue]]) -> Attributes:
    """Validate ``attributes`` and return them in the form OpenTelemetry takes."""
    if attributes is None:
        return None
    if type(attributes) is not dict and not isinstance(attributes, Mapping):
        check_attributes(attributes)  # raises: a mapping is what it must be
    if not attributes:
        return None
    return {name: _otel_value(name, value) for name, value in attributes.items()}


_MICROSECOND = timedelta(microseconds=1)


def nanoseconds(moment: datetime) -> int:
    """``moment`` (timezone-aware) as OpenTelemetry's nanoseconds since the epoch."""
    return (moment - _EPOCH) // _MICROSECOND * 1_000


class OpenTelemetrySpan(Span):
    """An OpenTelemetry span seen through the ``azure_core_tracing`` interface."""

    __slots__ = ("_ended", "otel_span")

    def __init__(self, otel_span: otel_trace.Span) -> None:
        if not isinstance(otel_span, otel_trace.Span):
            raise TypeError(
                f"otel_span must be an opentelemetry.trace.Span, got {type(otel_span).__name__}"
            )
        self.otel_span = otel_span
        """The OpenTelemetry span underneath."""
        self._ended = False

    def __eq__(self, other: object) -> bool:
        """Two ``OpenTelemetrySpan`` objects are equal when they show the same OpenTelemetry
        span (``OpenTelemetryTracer.current_span`` makes a new one for the current span)."""
        if isinstance(other, OpenTelemetrySpan):
            return other.otel_span is self.otel_span
        return NotImplemented

    def __hash__(self) -> int:
        return id(self.otel_span)

    def end(self, end_time: Optional[datetime] = None) -> None:
        check_end_time(end_time)
        if self._ended:
            return
        end_ns = None if end_time is None else nanoseconds(end_time)
        self._ended = True
        self.otel_span.end(end_time=end_ns)

    def add_attribute(self, name: str, value: AttributeValue) -> None:
        self.otel_span.set_attribute(name, _otel_value(name, value))

    def add_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        converted = to_otel_attributes(attributes)
        if converted:
            # One at a time: the SDK's set_attributes cleans the mapping as a whole first, which
            # costs more than setting a span's usual few attributes one by one.
            set_attribute = self.otel_span.set_attribute
            for name, value in converted.items():
                set_attribute(name, value)

    def add_event(
        self,
        name_or_exception: Union[str, BaseException],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> None:
        check_event(name_or_exception, attributes)
        converted = dict(to_otel_attributes(attributes) or {})
        if isinstance(name_or_exception, BaseException):
            error = name_or_exception
            # chain=False: a chained cause (a requests error, say) may repeat an unsanitized URL.
            converted["exception.stacktrace"] = "".join(
                traceback.format_exception(type(error), error, error.__traceback__, chain=False)
            )
            self.otel_span.record_exception(error, attributes=converted)
            self.otel_span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            return
        self.otel_span.add_event(name_or_exception, attributes=converted)

    def set_status(self, status: SpanStatus, description: Optional[str] = None) -> None:
        code = _STATUS_CODES[check_status(status).value]
        check_description(description)
        if code is StatusCode.ERROR and description is not None:
            self.otel_span.set_status(Status(code, description))
        else:
            self.otel_span.set_status(_PLAIN_STATUSES[code.value])

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        check_headers_mapping(headers)
        propagate.inject(headers, context=otel_trace.set_span_in_context(self.otel_span))

    @property
    def is_recording(self) -> bool:
        return self.otel_span.is_recording()

    def activate(self, *, suppress_http_instrumentation: bool = False) -> ContextManager[None]:
        return _Activation(self.otel_span, suppress_http_instrumentation)


class _Activation:
    """Makes a span OpenTelemetry's current span until exit (a class: cheaper than a generator)."""

    __slots__ = ("_span", "_suppress", "_token")

    def __init__(self, span: otel_trace.Span, suppress_http_instrumentation: bool) -> None:
        self._span = span
        self._suppress = suppress_http_instrumentation and _SUPPRESS_HTTP_KEY is not None
        self._token: Optional[object] = None

    def __enter__(self) -> None:
        current = otel_trace.set_span_in_context(self._span)
        if self._suppress:
            current = otel_context.set_value(cast(str, _SUPPRESS_HTTP_KEY), True, current)
        self._token = otel_context.attach(current)

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        token, self._token = self._token, None
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]


def unchecked_span(otel_span: otel_trace.Span) -> OpenTelemetrySpan:
    """An ``OpenTelemetrySpan`` over a span OpenTelemetry itself handed out, unchecked: the
    current span, looked up on every traced call (``OpenTelemetryTracer.current_span``)."""
    span = OpenTelemetrySpan.__new__(OpenTelemetrySpan)
    span.otel_span = otel_span
    span._ended = False
    return span
