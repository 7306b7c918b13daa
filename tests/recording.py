"""An in-memory TracerProvider for the core tests: it records every span it makes."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional, Union

from azure_core_tracing import (
    AttributeValue,
    CreateSpanOptions,
    Span,
    SpanKind,
    SpanStatus,
    Tracer,
    TracerProvider,
)
from azure_core_tracing.guard import GuardedSpan
from azure_core_tracing.tracing import check_attribute, check_status


@dataclass
class RecordedEvent:
    name: str
    attributes: dict[str, AttributeValue]
    exception: Optional[BaseException] = None


class RecordedSpan(Span):
    def __init__(
        self, provider: RecordingTracerProvider, scope: str, name: str, options: CreateSpanOptions
    ) -> None:
        self.provider = provider
        self.scope = scope
        self.name = name
        self.kind = options.kind
        self.parent = options.parent_span if isinstance(options.parent_span, RecordedSpan) else None
        self.links = options.links
        self.trace_id: str = self.parent.trace_id if self.parent else secrets.token_hex(16)
        self.span_id = secrets.token_hex(8)
        self.attributes: dict[str, AttributeValue] = {}
        for key, value in (options.attributes or {}).items():
            self.add_attribute(key, value)
        self.events: list[RecordedEvent] = []
        self.status = SpanStatus.UNSET
        self.description: Optional[str] = None
        self.end_calls = 0
        self.end_time: Optional[datetime] = None

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"

    def end(self, end_time: Optional[datetime] = None) -> None:
        self.end_calls += 1
        if self.end_calls == 1:
            self.end_time = end_time
            self.provider.finished.append(self)

    def add_attribute(self, name: str, value: AttributeValue) -> None:
        check_attribute(name, value)
        self.attributes[name] = value

    def add_event(
        self,
        name_or_exception: Union[str, BaseException],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> None:
        if isinstance(name_or_exception, BaseException):
            self.events.append(
                RecordedEvent("exception", dict(attributes or {}), name_or_exception)
            )
            self.set_status(SpanStatus.ERROR, type(name_or_exception).__name__)
        else:
            self.events.append(RecordedEvent(name_or_exception, dict(attributes or {})))

    def set_status(self, status: SpanStatus, description: Optional[str] = None) -> None:
        self.status = check_status(status)
        self.description = description if status is SpanStatus.ERROR else None

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        headers["traceparent"] = self.traceparent

    @property
    def is_recording(self) -> bool:
        return self.end_calls == 0


class RecordingTracer(Tracer):
    def __init__(self, provider: RecordingTracerProvider, name: str) -> None:
        self.provider = provider
        self.name = name

    def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
        span = RecordedSpan(self.provider, self.name, name, options or CreateSpanOptions())
        with self.provider.lock:
            self.provider.started.append(span)
        return span


@dataclass
class RecordingTracerProvider(TracerProvider):
    """Keeps every span it starts (``started``) and every span ended (``finished``)."""

    started: list[RecordedSpan] = field(default_factory=list)
    finished: list[RecordedSpan] = field(default_factory=list)
    tracers: list[tuple[str, Optional[str], Optional[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    __hash__ = object.__hash__

    def create_tracer(
        self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
    ) -> Tracer:
        self.tracers.append((name, version, schema_url))
        return RecordingTracer(self, name)

    def named(self, name: str) -> list[RecordedSpan]:
        return [span for span in self.started if span.name == name]


def recorded(span: Span) -> RecordedSpan:
    """The recording provider's own span behind the guard the factory puts around it."""
    inner = span.inner if isinstance(span, GuardedSpan) else span
    assert isinstance(inner, RecordedSpan), inner
    return inner


__all__ = [
    "RecordedEvent",
    "RecordedSpan",
    "RecordingTracer",
    "RecordingTracerProvider",
    "SpanKind",
    "recorded",
]
