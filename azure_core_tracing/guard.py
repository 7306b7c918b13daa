"""``GuardedSpan``: a tracer provider's span behind the guard that keeps tracing from ever
changing the application's call.

Arguments are checked first, exactly as a no-op span checks them, so a programmer error
raises whether tracing is on or off. Then every call into the provider's code runs inside
the guard: an exception or a value of the wrong kind is reported once and ignored. Provider
code never gets the application's own mutable objects (an attribute mapping or list is
copied; an exception's state is put back after), and what it hands back is copied into
plain values before anything else looks at it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from datetime import datetime
from itertools import islice
from types import TracebackType
from typing import ContextManager, Optional, Union

from azure_core_tracing.checks import check_header, type_name
from azure_core_tracing.failures import report_tracing_failure
from azure_core_tracing.headers import (
    MAX_PROPAGATED_HEADERS,
    MAX_PROPAGATED_VALUE_BYTES,
    MAX_PROPAGATION_CARRIER,
    MAX_TRACESTATE_BYTES,
    PROPAGATION_HEADERS,
    REPLACED_BY_PROPAGATION,
    TRACEPARENT,
    TRACESTATE,
)
from azure_core_tracing.propagation_headers import (
    DEFAULT_PROPAGATION_HEADERS,
    PropagationHeaders,
)
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


class GuardedSpan(Span):
    """A provider's span (``inner``) whose failures never reach the caller; its propagation
    writes only the headers ``propagation`` allows (default: the built-in allow-list)."""

    __slots__ = ("_owner", "_propagation", "inner")

    def __init__(
        self,
        inner: Span,
        owner: object,
        propagation: PropagationHeaders = DEFAULT_PROPAGATION_HEADERS,
    ) -> None:
        self.inner = inner
        """The provider's own span: calls made on it directly are not guarded."""
        self._owner = owner
        self._propagation = propagation

    def end(self, end_time: Optional[datetime] = None) -> None:
        check_end_time(end_time)
        try:
            self.inner.end(end_time)
        except Exception as error:
            report_tracing_failure(self._owner, "end", error)

    def add_attribute(self, name: str, value: AttributeValue) -> None:
        check_attribute(name, value)
        try:
            self.inner.add_attribute(name, frozen_value(value))
        except Exception as error:
            report_tracing_failure(self._owner, "add_attribute", error)

    def add_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        copied = checked_attributes(attributes)
        if not copied:
            return
        try:
            self.inner.add_attributes(copied)
        except Exception as error:
            report_tracing_failure(self._owner, "add_attributes", error)

    def add_event(
        self,
        name_or_exception: Union[str, BaseException],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> None:
        check_event(name_or_exception, None)
        copied = None if attributes is None else checked_attributes(attributes)
        # The application will catch this very exception: whatever the provider does to it
        # while recording it is undone.
        state = (
            _ExceptionState(name_or_exception)
            if isinstance(name_or_exception, BaseException)
            else None
        )
        try:
            self.inner.add_event(name_or_exception, copied)
        except Exception as error:
            report_tracing_failure(self._owner, "add_event", error)
        finally:
            if state is not None:
                state.restore()

    def set_status(self, status: SpanStatus, description: Optional[str] = None) -> None:
        check_status(status)
        check_description(description)
        try:
            self.inner.set_status(status, description)
        except Exception as error:
            report_tracing_failure(self._owner, "set_status", error)

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        """Add the provider's propagation headers to ``headers`` (see ``propagate_into``)."""
        self.propagate_into(headers)

    def propagate_into(self, headers: MutableMapping[str, str]) -> list[tuple[str, Optional[str]]]:
        """Add the provider's propagation headers to ``headers``, keeping only what may be sent.

        Only propagation headers are written (``PropagationHeaders``: an allow-list), each a
        token name with a clean Latin-1 value of at most ``MAX_PROPAGATED_VALUE_BYTES`` (any
        valid ``tracestate``, which may be longer, passes whole), and only ones ``headers``
        does not have yet: the W3C ``traceparent`` and ``tracestate`` are replaced, since the
        try's own trace context is what must go (a ``tracestate`` left without its
        ``traceparent`` is removed). The trace context headers (``PROPAGATION_HEADERS``) always
        fit; of the others (``uberctx-*``, ``ot-baggage-*``, the application's names) at most
        ``MAX_PROPAGATED_HEADERS``. Anything else is dropped and reported, by name, never by
        value. A plain ``dict`` is matched by name in any case, as other mappings match.

        Returns what changed, in order: each header name written or removed and the value it
        had before (None: it had none), so a caller can put ``headers`` back as they were."""
        check_headers_mapping(headers)
        carrier: dict[str, str] = {}
        try:
            self.inner.propagate_to_http_headers(carrier)
            entries = list(islice(carrier.items(), MAX_PROPAGATION_CARRIER + 1))
        except Exception as error:
            report_tracing_failure(self._owner, "propagate_to_http_headers", error)
            return []
        if len(entries) > MAX_PROPAGATION_CARRIER:
            self._dropped(f"it wrote more than {MAX_PROPAGATION_CARRIER} headers; the rest")
            del entries[MAX_PROPAGATION_CARRIER:]
        admitted = self._admitted(entries)
        return self._write(headers, admitted) if admitted else []

    def _write(
        self, headers: MutableMapping[str, str], admitted: list[tuple[str, str, str]]
    ) -> list[tuple[str, Optional[str]]]:
        # A plain dict matches names as written: index it by lower-case name.
        existing = {str(n).lower(): n for n in headers} if type(headers) is dict else None
        changes: list[tuple[str, Optional[str]]] = []
        seen: set[str] = set()
        extra = 0
        for lowered, name, value in admitted:
            if lowered in seen:
                self._dropped(f"it wrote the {name!r} header twice; the second")
                continue
            seen.add(lowered)
            if lowered in REPLACED_BY_PROPAGATION:  # the try's own: replaces a forwarded one
                _take_out(headers, existing, lowered, changes)
            elif lowered in existing if existing is not None else name in headers:
                self._dropped(f"it wrote the {name!r} header, which the request already has; ours")
                continue
            elif lowered not in PROPAGATION_HEADERS:
                if extra == MAX_PROPAGATED_HEADERS:
                    self._dropped(
                        f"it wrote more than {MAX_PROPAGATED_HEADERS} propagation headers "
                        f"besides the trace context; the {name!r} header"
                    )
                    continue
                extra += 1
            changes.append((name, None))
            headers[name] = value
        if TRACEPARENT in seen and TRACESTATE not in seen:
            # A tracestate belongs to the traceparent it came with: a forwarded one goes.
            _take_out(headers, existing, TRACESTATE, changes)
        return changes

    def _admitted(self, entries: Sequence[tuple[object, object]]) -> list[tuple[str, str, str]]:
        """The carrier's entries that may be written, as (lower-case name, name, value): plain
        text of allowed names, the trace context headers first. The rest is reported."""
        names, prefixes = self._propagation.names, self._propagation.prefixes
        trace_context: list[tuple[str, str, str]] = []  # (lower-case name, name, value)
        others: list[tuple[str, str, str]] = []
        for raw_name, raw_value in entries:
            header = _plain_header(raw_name, raw_value)
            if header is None:
                self._dropped(
                    "it wrote a header that cannot be sent (a name or value that is not clean "
                    f"text, or a value over {MAX_PROPAGATED_VALUE_BYTES} bytes: "
                    f"{type_name(raw_name)}/{type_name(raw_value)}); that header"
                )
                continue
            name, value = header
            lowered = name.lower()
            if lowered not in names and not lowered.startswith(prefixes):
                self._dropped(
                    f"it wrote the {name[:64]!r} header, which is not a propagation header "
                    "(TelemetryOptions.propagation_headers names more), so that header"
                )
            elif lowered in PROPAGATION_HEADERS:
                trace_context.append((lowered, name, value))
            else:
                others.append((lowered, name, value))
        return trace_context + others

    def _dropped(self, problem: str) -> None:
        report_tracing_failure(
            self._owner,
            "propagate_to_http_headers",
            f"{problem} was dropped",
            "the request is sent without it",
        )

    @property
    def is_recording(self) -> bool:
        try:
            return bool(self.inner.is_recording)
        except Exception as error:
            report_tracing_failure(self._owner, "is_recording", error)
            return False

    def activate(self, *, suppress_http_instrumentation: bool = False) -> ContextManager[None]:
        return _GuardedActivation(self.inner, self._owner, suppress_http_instrumentation)


def _take_out(
    headers: MutableMapping[str, str],
    existing: Optional[dict[str, str]],
    lowered: str,
    changes: list[tuple[str, Optional[str]]],
) -> None:
    """Take the header ``lowered`` out of ``headers`` (in any case, from a plain dict, whose
    names ``existing`` indexes), noting its value in ``changes``."""
    name = lowered if existing is None else existing.get(lowered)
    previous = None if name is None else headers.get(name)
    if name is not None and previous is not None:
        changes.append((name, previous))
        del headers[name]


def _plain_header(name: object, value: object) -> Optional[tuple[str, str]]:
    """``name`` and ``value`` as plain ``str`` copies, if they may be sent; else None.

    A ``str`` subclass from provider code could lie from its own methods: only the copy is
    looked at, and only the copy is sent."""
    if not isinstance(name, str) or not isinstance(value, str):
        return None
    name, value = str.__str__(name), str.__str__(value)
    limit = MAX_TRACESTATE_BYTES if name.lower() == TRACESTATE else MAX_PROPAGATED_VALUE_BYTES
    if len(value) > limit:  # Latin-1: one byte a character
        return None
    try:
        check_header(name, value)
    except (TypeError, ValueError):
        return None
    return name, value


def frozen_value(value: AttributeValue) -> AttributeValue:
    """An attribute value provider code cannot change under the caller: a sequence as a tuple."""
    if isinstance(value, (str, bool, int, float)):
        return value
    return tuple(value)  # type: ignore[return-value]


def checked_attributes(attributes: object) -> dict[str, AttributeValue]:
    """A checked copy of ``attributes`` (None: empty) for provider code, in one pass: each
    attribute is checked as ``check_attributes`` checks it, and a sequence becomes a tuple."""
    if attributes is None:
        return {}
    if type(attributes) is not dict and not isinstance(attributes, Mapping):
        check_attributes(attributes)  # raises: a mapping is what it must be
    copied: dict[str, AttributeValue] = {}
    for name, value in attributes.items():  # type: ignore[attr-defined]
        if is_plain_attribute(name, value):
            copied[name] = value
        else:
            check_attribute(name, value)
            copied[name] = frozen_value(value)
    return copied


class _ExceptionState:
    """What provider code could change on an exception it records, to put back after."""

    __slots__ = ("_args", "_cause", "_context", "_error", "_notes", "_suppress", "_traceback")

    def __init__(self, error: BaseException) -> None:
        self._error = error
        self._args = error.args
        self._traceback = error.__traceback__
        self._cause = error.__cause__
        self._context = error.__context__
        self._suppress = error.__suppress_context__
        notes = getattr(error, "__notes__", None)
        self._notes = list(notes) if isinstance(notes, list) else notes

    def restore(self) -> None:
        error = self._error
        try:
            error.args = self._args
            error.__traceback__ = self._traceback
            error.__cause__ = self._cause
            error.__context__ = self._context
            error.__suppress_context__ = self._suppress
            if self._notes is None:
                if hasattr(error, "__notes__"):
                    del error.__notes__
            else:
                error.__notes__ = self._notes
        except Exception:  # an exception type that refuses: leave it as it is
            pass


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
