"""The KVP layer: span events and log records become KVP records as they happen, spans as they end.

Values, times in UTC with milliseconds:

- span: ``Start: <time> | End: <time> | Status: <UNSET|OK|ERROR> | TraceId: <32 hex> |
  SpanId: <16 hex>`` (on one line)
- event: ``Time: <time> | Event: message=<text>[, <name>=<value>…] | TraceId: … | SpanId: …``,
  the ids of the span it happened in (zeros for a log record made outside any span).

The event text (the message, field names and values) is escaped as ``escape.one_line`` says,
so a value is one line, free of controls, for any reader that splits on them; so is the name in
a key. An event or log record carrying ``health_report`` is written as the ``PROVISIONING_REPORT``
record instead, whatever the filter says. On the caller's thread there is only a filter look-up
and a queue append; records are rendered on the writer's thread.

A span event is queued when it is added, so it is in the pool within the writer's ``max_delay``
even if its span never ends: ``KvpSpanProcessor.on_start`` makes the SDK span's event list (an
``opentelemetry.sdk.util.BoundedList``) one that also queues what is appended to it. The SDK
appends under the span's lock and only while the span is open, so exactly the events the span
keeps are queued. A span this cannot be done for (an SDK whose spans keep events otherwise, a
span started before the processor was added) has its events written when it ends, as before.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Optional, Union, cast

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, StatusCode

from azure_core_tracing.failures import report_tracing_failure
from azure_core_tracing_opentelemetry.diagnostics.escape import one_line
from azure_core_tracing_opentelemetry.diagnostics.filter import EnvFilter, Level, span_target
from azure_core_tracing_opentelemetry.diagnostics.kvp_key import (
    KvpKey,
    event_key_head,
    new_event_key,
    new_record_id,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_record import (
    KEY_MAX_BYTES,
    VALUE_CHUNK_MAX_BYTES,
)
from azure_core_tracing_opentelemetry.diagnostics.kvp_writer import KvpWriter
from azure_core_tracing_opentelemetry.diagnostics.report import (
    HEALTH_REPORT_FIELD,
    PROVISIONING_REPORT_KEY,
)
from azure_core_tracing_opentelemetry.diagnostics.timestamps import utc_iso_ms, utc_iso_ns
from azure_core_tracing_opentelemetry.diagnostics.utf8 import utf8_boundary

Pair = tuple[Union[str, KvpKey], str]
_EXCEPTION_EVENT = "exception"
_LEVEL_ATTRIBUTE = "level"
_STANDARD_RECORD_FIELDS = frozenset(
    [*logging.LogRecord("", 0, "", 0, "", (), None).__dict__, "message", "asctime", "taskName"]
)
# An enum's .name is a descriptor call; these run for every record.
_LEVEL_NAMES = {level: level.name for level in Level}
_STATUS_NAMES = {code: code.name for code in StatusCode}
# %-formatting: a third of the time f-strings take for the two hex ids.
_IDS = "TraceId: %032x | SpanId: %016x"
_SPAN_VALUE = "Start: %s | End: %s | Status: %s | " + _IDS
_log = logging.getLogger(__name__)
_report_cut_warned = threading.Event()


# The span itself is held weakly (no cycle through its own event list), for span directives.
_Sink = tuple[
    "KvpSpanProcessor", SpanContext, Optional[InstrumentationScope], Optional["weakref.ref[Span]"]
]


class _LiveEvents(BoundedList):  # type: ignore[type-arg]  # generic to mypy, not at run time
    """A span's event list that also queues each event appended for the KVP processors."""

    _kvp_sinks: tuple[_Sink, ...]

    def append(self, item: Event) -> None:
        BoundedList.append(self, item)
        # Written out, not a call per sink: this runs on the application's thread for every
        # event, inside the SDK's add_event, which it must never make raise.
        for processor, context, scope, span in self._kvp_sinks:
            try:
                live = None if span is None else span()  # alive: it is adding the event
                processor._submit(processor._render_live, (context, scope, live, (item,)))
            except Exception as error:
                processor._lost_event(error)

    def extend(self, seq: Sequence[Event]) -> None:
        BoundedList.extend(self, seq)
        for processor, context, scope, span in self._kvp_sinks:
            processor._queue_events(context, scope, span, tuple(seq))


class KvpSpanProcessor(SpanProcessor):
    """Writes each span event as it is added, and each span when it ends, through ``writer``."""

    def __init__(self, writer: KvpWriter, filter: Optional[EnvFilter] = None) -> None:
        if not isinstance(writer, KvpWriter):
            raise TypeError(f"writer must be a KvpWriter, got {type(writer).__name__}")
        if filter is not None and not isinstance(filter, EnvFilter):
            raise TypeError(f"filter must be an EnvFilter or None, got {type(filter).__name__}")
        self._writer = writer
        self._filter = filter
        self._submit = writer.submit  # bound once: these run for every span and event
        self._render_live = self._render_events

    def on_start(self, span: Span, parent_context: Optional[otel_context.Context] = None) -> None:
        try:
            selected = self._filter
            if selected is not None:
                selected.span_started(span, parent_context)
            held = (
                weakref.ref(span) if selected is not None and selected.has_span_directives else None
            )
            events: Any = getattr(span, "_events", None)
            if type(events) is BoundedList:
                # Same layout, two methods more: the list the span (and its ReadableSpan)
                # holds becomes live in place, with no copy and nothing for the span to know.
                events.__class__ = _LiveEvents
                sink = (self, span.get_span_context(), span.instrumentation_scope, held)
                cast(_LiveEvents, events)._kvp_sinks = (sink,)
            elif type(events) is _LiveEvents:  # another KVP processor on the same provider
                sink = (self, span.get_span_context(), span.instrumentation_scope, held)
                events._kvp_sinks += (sink,)
            else:
                return  # not an SDK list we know: its events are written when it ends
            if events._dq:  # given when the span was made: they happened before it started
                self._queue_events(sink[1], sink[2], held, tuple(events))
        except Exception as error:  # an SDK we do not know: never in the application's way
            report_tracing_failure(
                self, "watch a span's events", error, "they are written when it ends, if at all"
            )

    def on_end(self, span: ReadableSpan) -> None:
        selected = self._filter
        enabled = selected is None or selected.enabled(
            span_target(span), _span_level(span.status.status_code), span
        )
        events = getattr(span, "_events", None)
        if type(events) is _LiveEvents and (
            events._kvp_sinks[0][0] is self or any(s[0] is self for s in events._kvp_sinks)
        ):
            if enabled:  # its events are queued already
                self._submit(self._render, span)
        # A span the filter drops may still hold a health report (which passes any filter) or
        # an event it lets through: those spans go too, and their events are sorted out later.
        elif enabled or span.events:
            self._submit(self._render_with_events, span)

    def shutdown(self) -> None:
        """Write what this processor queued; the writer itself stays up (its owner stops it)."""
        self._writer.flush(self._writer.exit_timeout)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._writer.flush(timeout_millis / 1000)

    def _queue_events(
        self,
        context: SpanContext,
        scope: Optional[InstrumentationScope],
        span: Optional[weakref.ref[Span]],
        events: Sequence[Event],
    ) -> None:
        # On the application's thread, inside the SDK's add_event: never raise into it.
        try:
            live = None if span is None else span()
            self._submit(self._render_live, (context, scope, live, events))
        except Exception as error:
            self._lost_event(error)

    def _lost_event(self, error: Exception) -> None:
        report_tracing_failure(self, "queue a span event", error, "the event is not written")

    def _render_events(
        self,
        item: tuple[
            SpanContext,
            Optional[InstrumentationScope],
            Optional[Span],
            Sequence[Event],
        ],
    ) -> list[Pair]:
        context, scope, span, events = item
        ids = _IDS % (context.trace_id, context.span_id)
        target = scope.name if scope is not None else ""
        return _event_pairs(self._writer, self._filter, span, target, events, ids)

    def _render_with_events(self, span: ReadableSpan) -> list[Pair]:
        context = span.context
        trace_id, span_id = (context.trace_id, context.span_id) if context else (0, 0)
        events = span.events
        ids = _IDS % (trace_id, span_id)
        target = span_target(span)
        pairs = (
            _event_pairs(self._writer, self._filter, span, target, events, ids) if events else []
        )
        return pairs + self._render(span)

    def _render(self, span: ReadableSpan) -> list[Pair]:
        writer, selected = self._writer, self._filter
        target = span_target(span)
        context = span.context
        trace_id, span_id = (context.trace_id, context.span_id) if context else (0, 0)
        pairs: list[Pair] = []
        code = span.status.status_code
        level = _span_level(code)
        if selected is None or selected.enabled(target, level, span):
            # A span's value is short and ASCII, always one record: its key is a cached head
            # and an id, with no KvpKey to make and fit per span.
            head = event_key_head(
                writer.event_prefix,
                writer.vm_id,
                _LEVEL_NAMES[level],
                f"{target}:{span.name}",
                KEY_MAX_BYTES,
            )
            # Most spans are UNSET: an enum member as a dict key costs a Python-level __hash__.
            status = "UNSET" if code is StatusCode.UNSET else _STATUS_NAMES[code]
            start, end = utc_iso_ns(span.start_time or 0), utc_iso_ns(span.end_time or 0)
            value = _SPAN_VALUE % (start, end, status, trace_id, span_id)
            pairs.append((head + new_record_id(), value))
        return pairs


def _event_pairs(
    writer: KvpWriter,
    selected: Optional[EnvFilter],
    span: Optional[object],
    target: str,
    events: Sequence[Event],
    ids: str,
) -> list[Pair]:
    pairs: list[Pair] = []
    for event in events:
        attributes = event.attributes or {}
        report = attributes.get(HEALTH_REPORT_FIELD)
        if report is not None:
            pairs.append(_report_pair(report))
            continue
        level = _event_level(event)
        if selected is None or selected.enabled(target, level, span):
            key = new_event_key(
                writer.event_prefix, writer.vm_id, _LEVEL_NAMES[level], f"{target}:{event.name}"
            )
            fields = [item for item in attributes.items() if item[0] != _LEVEL_ATTRIBUTE]
            text = _message(event.name, fields)
            pairs.append((key, f"Time: {utc_iso_ns(event.timestamp)} | Event: {text} | {ids}"))
    return pairs


class KvpLogHandler(logging.Handler):
    """Writes ``logging`` records as KVP events, tied to the current span when there is one."""

    def __init__(
        self, writer: KvpWriter, filter: Optional[EnvFilter] = None, level: int = logging.NOTSET
    ) -> None:
        if not isinstance(writer, KvpWriter):
            raise TypeError(f"writer must be a KvpWriter, got {type(writer).__name__}")
        if filter is not None and not isinstance(filter, EnvFilter):
            raise TypeError(f"filter must be an EnvFilter or None, got {type(filter).__name__}")
        super().__init__(level)
        self._writer = writer
        self._directives = filter  # not self.filter: that is logging.Filterer's method

    def emit(self, record: logging.LogRecord) -> None:
        try:
            selected = self._directives
            current = otel_trace.get_current_span(otel_context.get_current())
            if (
                selected is not None
                and HEALTH_REPORT_FIELD not in record.__dict__
                and not selected.enabled(record.name, Level.from_logging(record.levelno), current)
            ):
                return
            context = current.get_span_context()
            # The message is made now, as logging's QueueHandler does: its arguments may change.
            message = record.getMessage()
            self._writer.submit(_render_record, (self._writer, record, message, context))
        except Exception:
            self.handleError(record)


def _render_record(item: tuple[KvpWriter, logging.LogRecord, str, Any]) -> Iterator[Pair]:
    writer, record, message, context = item
    report = record.__dict__.get(HEALTH_REPORT_FIELD)
    if report is not None:
        yield _report_pair(report)
        return
    level = Level.from_logging(record.levelno)
    fields = [
        (name, value)
        for name, value in record.__dict__.items()
        if name not in _STANDARD_RECORD_FIELDS
    ]
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        fields.append(("exception", f"{type(error).__name__}: {error}"))
    key = new_event_key(
        writer.event_prefix,
        writer.vm_id,
        _LEVEL_NAMES[level],
        f"{record.name}:{record.funcName or 'log'}",
    )
    ids = _ids(context.trace_id, context.span_id)
    time = utc_iso_ms(int(record.created * 1000))
    yield key, f"Time: {time} | Event: {_message(message, fields)} | {ids}"


def _report_pair(report: object) -> Pair:
    """The report as one record: the host reads only the key ``PROVISIONING_REPORT``."""
    text = str(report)
    encoded = text.encode("utf-8", "replace")
    if len(encoded) > VALUE_CHUNK_MAX_BYTES:
        text = encoded[: utf8_boundary(encoded, VALUE_CHUNK_MAX_BYTES)].decode("utf-8")
        if not _report_cut_warned.is_set():
            _report_cut_warned.set()
            _log.warning(
                "a health report of %d bytes was cut to the %d the host reads",
                len(encoded),
                VALUE_CHUNK_MAX_BYTES,
            )
    return PROVISIONING_REPORT_KEY, text


def _span_level(code: StatusCode) -> Level:
    return Level.ERROR if code is StatusCode.ERROR else Level.INFO


def _event_level(event: Event) -> Level:
    declared = (event.attributes or {}).get(_LEVEL_ATTRIBUTE)
    if isinstance(declared, str):
        try:
            level = Level.parse(declared)
        except ValueError:
            level = Level.OFF
        if level is not Level.OFF:
            return level
    return Level.ERROR if event.name == _EXCEPTION_EVENT else Level.INFO


def _message(text: str, fields: Iterable[tuple[str, Any]]) -> str:
    joined = ", ".join([f"message={text}", *(f"{name}={_text(value)}" for name, value in fields)])
    return one_line(joined)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_text(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _ids(trace_id: int, span_id: int) -> str:
    return _IDS % (trace_id, span_id)
