"""``ConsoleTreeExporter``: prints each finished trace as an indented tree, for people."""

from __future__ import annotations

import sys
import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Optional, TextIO

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from azure_core_tracing.http.conventions import KEY_ATTRIBUTES as HTTP_KEY_ATTRIBUTES

KEY_ATTRIBUTES = (*HTTP_KEY_ATTRIBUTES, "az.namespace")
"""What each line shows by default: the key HTTP attributes, under every convention's names."""


class ConsoleTreeExporter(SpanExporter):
    """Prints a trace once its local root span ends: one line per span, under its parent.

    Each line shows name, kind, duration in ms, status, the ``attributes`` named (by default
    the key HTTP and Azure ones) and the type of any exception recorded. Spans that never
    see their root end are printed at shutdown, or when more than ``max_pending_spans`` wait.
    """

    def __init__(
        self,
        out: Optional[TextIO] = None,
        *,
        attributes: Sequence[str] = KEY_ATTRIBUTES,
        max_pending_spans: int = 10_000,
    ) -> None:
        if isinstance(max_pending_spans, bool) or not isinstance(max_pending_spans, int):
            raise TypeError(
                f"max_pending_spans must be an int, got {type(max_pending_spans).__name__}"
            )
        if max_pending_spans < 1:
            raise ValueError(f"max_pending_spans must be at least 1, got {max_pending_spans}")
        if isinstance(attributes, str) or not all(isinstance(name, str) for name in attributes):
            raise TypeError("attributes must be a sequence of attribute names (str)")
        if out is not None and not callable(getattr(out, "write", None)):
            raise TypeError(f"out must be a text stream or None, got {type(out).__name__}")
        self._out = out
        self._attributes = tuple(attributes)
        self._max_pending = max_pending_spans
        self._pending: dict[int, list[ReadableSpan]] = {}
        self._pending_count = 0
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ready: list[list[ReadableSpan]] = []
        with self._lock:
            for span in spans:
                if span.context is None:
                    continue
                trace = self._pending.setdefault(span.context.trace_id, [])
                trace.append(span)
                self._pending_count += 1
                if span.parent is None or span.parent.is_remote:
                    ready.append(self._take(span.context.trace_id))
            while self._pending_count > self._max_pending:
                ready.append(self._take(next(iter(self._pending))))
        for trace in ready:
            self._write(format_trace(trace, self._attributes))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Print what is still waiting for its root span."""
        with self._lock:
            leftovers = [self._take(trace_id) for trace_id in list(self._pending)]
        for trace in leftovers:
            self._write(format_trace(trace, self._attributes))

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Nothing is buffered that can be written whole before its root ends."""
        return True

    def _take(self, trace_id: int) -> list[ReadableSpan]:
        trace = self._pending.pop(trace_id)
        self._pending_count -= len(trace)
        return trace

    def _write(self, text: str) -> None:
        out = self._out or sys.stdout
        out.write(text)
        out.flush()


def format_trace(spans: Sequence[ReadableSpan], attributes: Sequence[str] = KEY_ATTRIBUTES) -> str:
    """Render the spans of one trace as a tree, children in start order."""
    ordered = sorted(spans, key=lambda s: s.start_time or 0)
    present = {s.context.span_id for s in ordered if s.context is not None}
    children: dict[int, list[ReadableSpan]] = defaultdict(list)
    roots: list[ReadableSpan] = []
    for span in ordered:
        parent = span.parent
        if parent is not None and not parent.is_remote and parent.span_id in present:
            children[parent.span_id].append(span)
        else:
            roots.append(span)
    trace_id = ordered[0].context.trace_id if ordered and ordered[0].context else 0
    lines = [f"trace {trace_id:032x}"]

    def walk(span: ReadableSpan, parent: Optional[ReadableSpan], prefix: str, last: bool) -> None:
        line = describe_span(span, attributes, parent)
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{line}")
        below = children.get(span.context.span_id, []) if span.context else []
        for index, child in enumerate(below):
            walk(child, span, prefix + ("   " if last else "│  "), index == len(below) - 1)

    for index, root in enumerate(roots):
        walk(root, None, "", index == len(roots) - 1)
    return "\n".join(lines) + "\n"


def describe_span(
    span: ReadableSpan,
    attributes: Sequence[str] = KEY_ATTRIBUTES,
    parent: Optional[ReadableSpan] = None,
) -> str:
    """One line: name, kind, duration, status, chosen attributes, exception types.

    An attribute with the same value as on ``parent`` is left out, to keep lines short."""
    duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    parts = [
        span.name,
        f"[{span.kind.name}]",
        f"{duration_ms:.1f} ms",
        span.status.status_code.name,
    ]
    values = span.attributes or {}
    inherited = (parent.attributes or {}) if parent is not None else {}
    parts.extend(
        f"{name}={values[name]!s}"
        for name in attributes
        if name in values and inherited.get(name) != values[name]
    )
    parts.extend(
        f"exception={event.attributes.get('exception.type')!s}"
        for event in span.events
        if event.name == "exception" and event.attributes
    )
    return "  ".join(parts)
