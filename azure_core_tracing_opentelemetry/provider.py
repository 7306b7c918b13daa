"""``OpenTelemetryProvider``: an ``azure_core_tracing.TracerProvider`` over OpenTelemetry."""

from __future__ import annotations

from typing import Optional

from opentelemetry import trace as otel_trace
from opentelemetry.context import Context as OtelContext

from azure_core_tracing.tracing import CreateSpanOptions, Span, SpanKind, Tracer, TracerProvider
from azure_core_tracing_opentelemetry.propagator import remote_span_context
from azure_core_tracing_opentelemetry.span import (
    OpenTelemetrySpan,
    nanoseconds,
    to_otel_attributes,
    unchecked_span,
)

# OpenTelemetry's kind for each SpanKind, indexed by its value (an enum's hash is a Python call).
_EMPTY = OtelContext()  # no current span in it: a span started in it is a root
_KINDS = tuple(otel_trace.SpanKind[kind.name] for kind in sorted(SpanKind, key=lambda k: k.value))


class OpenTelemetryTracer(Tracer):
    """Creates OpenTelemetry spans for one instrumentation scope."""

    __slots__ = ("otel_tracer",)

    def __init__(self, otel_tracer: otel_trace.Tracer) -> None:
        if not isinstance(otel_tracer, otel_trace.Tracer):
            raise TypeError(
                "otel_tracer must be an opentelemetry.trace.Tracer, "
                f"got {type(otel_tracer).__name__}"
            )
        self.otel_tracer = otel_tracer
        """The OpenTelemetry tracer underneath."""

    def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
        """Start a span under ``options.parent_span``, else (``options.root``: a new trace's
        root) under OpenTelemetry's current span, at ``options.start_time`` (None: now)."""
        options = options or CreateSpanOptions()
        if type(options.kind) is not SpanKind:
            raise TypeError(f"options.kind must be a SpanKind, got {options.kind!r}")
        kind = _KINDS[options.kind.value]
        parent = options.parent_span
        parent_context: Optional[OtelContext]
        if parent is not None and isinstance(parent, OpenTelemetrySpan):
            parent_context = otel_trace.set_span_in_context(parent.otel_span)
        else:
            # A root: started in an empty context, not under OpenTelemetry's current span.
            parent_context = _EMPTY if options.root else None
        otel_span = self.otel_tracer.start_span(
            name,
            context=parent_context,
            kind=kind,
            attributes=to_otel_attributes(options.attributes),
            links=[
                otel_trace.Link(
                    remote_span_context(link.traceparent, link.tracestate),
                    to_otel_attributes(link.attributes),
                )
                for link in options.links
            ]
            if options.links
            else None,
            start_time=None if options.start_time is None else nanoseconds(options.start_time),
        )
        return OpenTelemetrySpan(otel_span)

    def current_span(self) -> Optional[Span]:
        """OpenTelemetry's current span, equal to the ``OpenTelemetrySpan`` made for it."""
        otel_span = otel_trace.get_current_span()
        if otel_span is otel_trace.INVALID_SPAN:
            return None
        return unchecked_span(otel_span)


class OpenTelemetryProvider(TracerProvider):
    """Wraps an OpenTelemetry ``TracerProvider`` (or the global one) for Azure service clients."""

    __slots__ = ("otel_provider",)

    def __init__(self, tracer_provider: Optional[otel_trace.TracerProvider] = None) -> None:
        if tracer_provider is not None and not isinstance(
            tracer_provider, otel_trace.TracerProvider
        ):
            raise TypeError(
                "tracer_provider must be an opentelemetry.trace.TracerProvider or None, "
                f"got {type(tracer_provider).__name__}"
            )
        self.otel_provider = tracer_provider
        """The OpenTelemetry provider, or None for OpenTelemetry's global one."""

    @classmethod
    def create(
        cls, tracer_provider: Optional[otel_trace.TracerProvider] = None
    ) -> OpenTelemetryProvider:
        """Return a provider over ``tracer_provider``; None means OpenTelemetry's global provider,
        looked up when spans are made (so one set later still counts)."""
        return cls(tracer_provider)

    def create_tracer(
        self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
    ) -> Tracer:
        if self.otel_provider is None:
            # The global getter hands out a proxy until a real provider is set, then delegates.
            tracer = otel_trace.get_tracer(name, version, schema_url=schema_url)
        else:
            tracer = self.otel_provider.get_tracer(name, version, schema_url=schema_url)
        return OpenTelemetryTracer(tracer)
