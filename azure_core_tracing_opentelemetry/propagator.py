"""``W3CTraceContextPropagator``: OpenTelemetry's W3C propagator, at Level 2 and strict."""

from __future__ import annotations

import logging
from collections.abc import ItemsView, Iterator, KeysView, Sequence, ValuesView
from typing import Optional

from opentelemetry import trace as otel_trace
from opentelemetry.context import Context as OtelContext
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)
from opentelemetry.trace import format_span_id, format_trace_id

from azure_core_tracing.tracecontext import (
    RANDOM_TRACE_ID_FLAG,
    SAMPLED_FLAG,
    TRACEPARENT_HEADER,
    TRACESTATE_HEADER,
    TraceParent,
    TraceState,
)

_logger = logging.getLogger(__name__)
_KNOWN_FLAGS = SAMPLED_FLAG | RANDOM_TRACE_ID_FLAG


class _Level2TraceState(otel_trace.TraceState):
    """An OpenTelemetry ``TraceState`` that holds Level 2 keys.

    OpenTelemetry's constructor, ``add`` and ``update`` check keys with the Level 1 grammar
    and silently drop keys such as ``foo@`` or ``t``*242 + ``@v``. This subclass keeps its
    entries in a ``tracecontext.TraceState`` and overrides every public method, so none of
    OpenTelemetry's checks runs on them (tests/opentelemetry/test_propagator.py guards that
    list against new OpenTelemetry releases).
    """

    def __init__(self, entries: Optional[Sequence[tuple[str, str]]] = None) -> None:
        super().__init__()  # no entries: nothing for the Level 1 check to drop
        try:
            state = TraceState(tuple(entries or ()))
        except (TypeError, ValueError) as error:
            _logger.warning("tracestate entries discarded: %s", error)
            state = TraceState()
        self._init(state, 0)

    def _init(self, state: TraceState, random_trace_id: int) -> None:
        self._state = state
        # The trace whose incoming traceparent had the random-trace-id flag. OpenTelemetry SDK
        # releases before 1.45 drop that flag from child spans; the sampler hands this same
        # object to them, so inject can put the flag back (the spec says it MUST).
        self._random_trace_id = random_trace_id
        # OpenTelemetry's own storage, filled too, for any code that reads it directly.
        self._dict = dict(state.entries)

    @classmethod
    def _of(cls, state: TraceState, random_trace_id: int = 0) -> _Level2TraceState:
        made = cls.__new__(cls)
        made._init(state, random_trace_id)
        return made

    def _with(self, state: TraceState) -> _Level2TraceState:
        return self._of(state, self._random_trace_id)

    def __contains__(self, item: object) -> bool:
        return item in self._state

    def __getitem__(self, key: str) -> str:
        return self._state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._state.entries)!r})"

    def add(self, key: str, value: str) -> _Level2TraceState:
        """A copy with a new ``key`` first; an existing key or invalid pair changes nothing."""
        if key in self._state:
            _logger.warning("tracestate key %r already exists", key)
            return self
        return self.update(key, value)

    def update(self, key: str, value: str) -> _Level2TraceState:
        """A copy with ``key`` set and moved first, truncated per the spec."""
        try:
            return self._with(self._state.with_entry(key, value))
        except (TypeError, ValueError) as error:
            _logger.warning("tracestate entry ignored: %s", error)
            return self

    def delete(self, key: str) -> _Level2TraceState:
        """A copy without ``key``."""
        return self._with(self._state.without_entry(key))

    def to_header(self) -> str:
        """The ``tracestate`` header value."""
        return self._state.format()

    @classmethod
    def from_header(cls, header_list: list[str]) -> _Level2TraceState:
        """The Level 2 parse of the header lines; empty if invalid."""
        return cls._of(TraceState.parse(header_list) or TraceState())

    @classmethod
    def get_default(cls) -> _Level2TraceState:
        """An empty trace state."""
        return cls._of(TraceState())

    def keys(self) -> KeysView[str]:
        return self._state.keys()

    def items(self) -> ItemsView[str, str]:
        return self._state.items()

    def values(self) -> ValuesView[str]:
        return self._state.values()


def remote_span_context(
    traceparent: TraceParent, tracestate: Optional[TraceState]
) -> otel_trace.SpanContext:
    """OpenTelemetry's remote ``SpanContext`` for a parsed ``traceparent``/``tracestate``,
    Level 2 keys and the random-trace-id flag kept."""
    trace_id = int(traceparent.trace_id, 16)
    return otel_trace.SpanContext(
        trace_id=trace_id,
        span_id=int(traceparent.parent_id, 16),
        is_remote=True,
        trace_flags=otel_trace.TraceFlags(traceparent.trace_flags),
        trace_state=_Level2TraceState._of(
            tracestate or TraceState(), trace_id if traceparent.random_trace_id else 0
        ),
    )


class W3CTraceContextPropagator(TextMapPropagator):
    """W3C ``traceparent``/``tracestate`` at Level 2, strict; a drop-in for OpenTelemetry's
    ``TraceContextTextMapPropagator`` (select it with ``OTEL_PROPAGATORS=tracecontext-l2``).

    Extract reads every header line the getter returns: two ``traceparent`` lines start a new
    trace, ``tracestate`` lines are joined in order, Level 2 keys are kept end to end.
    """

    def extract(
        self,
        carrier: CarrierT,
        context: Optional[OtelContext] = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> OtelContext:
        """``context`` (default: a new empty one) with the remote parent from ``carrier``, if
        its headers hold a valid one."""
        if context is None:
            context = OtelContext()
        traceparent = TraceParent.parse(getter.get(carrier, TRACEPARENT_HEADER))
        if traceparent is None:
            return context  # and its tracestate, if any, is discarded with it
        state = TraceState.parse(getter.get(carrier, TRACESTATE_HEADER))
        span_context = remote_span_context(traceparent, state)
        return otel_trace.set_span_in_context(otel_trace.NonRecordingSpan(span_context), context)

    def inject(
        self,
        carrier: CarrierT,
        context: Optional[OtelContext] = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        """Write the current span's (or ``context``'s) ``traceparent`` and ``tracestate``."""
        span_context = otel_trace.get_current_span(context).get_span_context()
        if not span_context.is_valid:
            return
        flags = int(span_context.trace_flags) & _KNOWN_FLAGS  # other flags MUST be zero
        state = span_context.trace_state
        if isinstance(state, _Level2TraceState) and state._random_trace_id == span_context.trace_id:
            flags |= RANDOM_TRACE_ID_FLAG
        traceparent = TraceParent(
            format_trace_id(span_context.trace_id), format_span_id(span_context.span_id), flags
        )
        setter.set(carrier, TRACEPARENT_HEADER, traceparent.format())
        if state:
            setter.set(carrier, TRACESTATE_HEADER, state.to_header())

    @property
    def fields(self) -> set[str]:
        """The header names ``inject`` sets."""
        return {TRACEPARENT_HEADER, TRACESTATE_HEADER}
