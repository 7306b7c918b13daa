"""The one OpenTelemetry SDK provider every traced contender uses, and its configurations.

azure-core's native tracing and ``opentelemetry-instrumentation-requests`` take OpenTelemetry's
global provider, which can be set once per process; so one SDK ``TracerProvider`` is set
globally and given to ours too, and the configurations swap the span processors under it.
"No processor" is exactly the SDK's own empty list: the spans are made and dropped at the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Optional

from opentelemetry import trace
from opentelemetry.sdk.trace import (
    ReadableSpan,
    SpanProcessor,
    SynchronousMultiSpanProcessor,
    TracerProvider,
)
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class _Processors(SynchronousMultiSpanProcessor):
    """The SDK's own multi-processor, whose list can also be replaced (the SDK can only add):
    spans go through the SDK's unchanged loop, so an empty list costs what no processor does."""

    def replace(self, processors: Sequence[SpanProcessor]) -> None:
        with self._lock:
            self._span_processors = tuple(processors)


_PROCESSORS = _Processors()  # type: ignore[no-untyped-call]
PROVIDER = TracerProvider(active_span_processor=_PROCESSORS)
"""The global SDK provider (set by ``install``)."""


def install() -> TracerProvider:
    """Make ``PROVIDER`` OpenTelemetry's global provider (once per process)."""
    if trace.get_tracer_provider() is not PROVIDER:
        trace.set_tracer_provider(PROVIDER)
    if trace.get_tracer_provider() is not PROVIDER:
        raise RuntimeError("another OpenTelemetry tracer provider was set before the benchmark's")
    return PROVIDER


class DroppingExporter(SpanExporter):
    """Takes every batch and keeps nothing: the export path without an exporter's own work."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


@dataclass(frozen=True)
class Configuration:
    """A span processor set-up: ``label`` for the tables, ``settle`` to call between batches."""

    label: str
    settle: Callable[[], None]


def _nothing() -> None:
    return


NO_PROCESSOR = "SDK provider, no span processor"
BATCH = "SDK provider, BatchSpanProcessor + in-memory exporter"
CONFIGURATIONS = (NO_PROCESSOR, BATCH)


@contextmanager
def configured(label: str) -> Iterator[Configuration]:
    """Within the block, ``PROVIDER`` has the processors ``label`` names. With the batch
    processor, ``settle`` flushes it and empties the exporter, so memory does not grow and every
    batch starts with an empty queue."""
    if label == NO_PROCESSOR:
        _PROCESSORS.replace(())
        yield Configuration(label, _nothing)
        return
    if label != BATCH:
        raise ValueError(f"label must be one of {CONFIGURATIONS}, got {label!r}")
    exporter = InMemorySpanExporter()
    processor = BatchSpanProcessor(exporter)

    def settle() -> None:
        processor.force_flush()
        exporter.clear()

    _PROCESSORS.replace((processor,))
    try:
        yield Configuration(label, settle)
    finally:
        _PROCESSORS.replace(())
        processor.shutdown()  # type: ignore[no-untyped-call]


@contextmanager
def captured() -> Iterator[InMemorySpanExporter]:
    """Within the block, every span ``PROVIDER`` ends is kept, in order, by the exporter."""
    exporter = InMemorySpanExporter()
    _PROCESSORS.replace((SimpleSpanProcessor(exporter),))
    try:
        yield exporter
    finally:
        _PROCESSORS.replace(())


def own_provider(exporter: Optional[SpanExporter] = None) -> TracerProvider:
    """A separate SDK provider with a ``BatchSpanProcessor`` over ``exporter`` (default: one
    that drops), for the scenarios that trace through ours alone."""
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter or DroppingExporter()))
    return provider
