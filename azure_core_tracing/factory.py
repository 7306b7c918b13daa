"""``TracingContextFactory``: the one object a service client holds to trace its methods."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import ContextManager, Optional, Union

from azure_core_tracing.context import Context
from azure_core_tracing.failures import call_guarded, report_tracing_failure
from azure_core_tracing.options import ClientOptions, check_application_id
from azure_core_tracing.tracing import (
    NOOP_SPAN,
    AttributeSet,
    AttributeValue,
    CreateSpanOptions,
    Span,
    SpanKind,
    Tracer,
    TracerProvider,
)

AZ_NAMESPACE = "az.namespace"

_TRACING_KEY = object()  # context key whose value is (span, factory)


class ContextAndSpan:
    """A new span and the context that carries it; unpacks as ``context, span``.

    Used with ``with``, the span is the backend's current span inside the block, is ended
    exactly once on exit, and records an exception that escapes the block.
    """

    __slots__ = ("_activation", "_ended", "context", "provider", "span")

    def __init__(
        self, context: Context, span: Span, provider: Optional[TracerProvider] = None
    ) -> None:
        self.context = context
        self.span = span
        self.provider = provider
        """The tracer provider that made the span; None for a no-op span."""
        self._activation: Optional[ContextManager[None]] = None
        self._ended = False

    def __iter__(self) -> Iterator[Union[Context, Span]]:
        yield self.context
        yield self.span

    def __enter__(self) -> ContextAndSpan:
        if self.span is not NOOP_SPAN:
            try:
                activation = self.span.activate()
                activation.__enter__()
                self._activation = activation
            except Exception as error:
                report_tracing_failure(self.provider, "activate", error)
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self.span is NOOP_SPAN or self._ended:
            return
        self._ended = True
        if isinstance(exc, Exception):
            call_guarded(self.provider, "add_event", self.span.add_event, exc)
        call_guarded(self.provider, "end", self.span.end)
        activation, self._activation = self._activation, None
        if activation is not None:
            call_guarded(self.provider, "deactivate", activation.__exit__, None, None, None)


class TracingContextFactory:
    """Creates one span per public API call of a service client, with ``az.namespace`` set.

    The tracer provider is the client options' one if set, else the application context's;
    it is looked up for every span, so a provider set after the client was built counts.
    """

    __slots__ = (
        "_client_provider",
        "_namespace",
        "_package_version",
        "_schema_url",
        "_tracer_name",
        "_tracers",
    )

    def __init__(
        self,
        client_options: ClientOptions,
        service_name: Optional[str],
        package_version: Optional[str],
        *,
        package_name: Optional[str] = None,
        schema_url: Optional[str] = None,
    ) -> None:
        if not isinstance(client_options, ClientOptions):
            raise TypeError(
                f"client_options must be a ClientOptions, got {type(client_options).__name__}"
            )
        check_application_id(client_options.telemetry.application_id)
        tracer_name = package_name or service_name
        if not isinstance(tracer_name, str) or not tracer_name:
            raise ValueError("service_name or package_name must be a non-empty str")
        self._client_provider = client_options.telemetry.tracing_provider
        self._namespace = service_name
        self._tracer_name = tracer_name
        self._package_version = package_version
        self._schema_url = schema_url
        self._tracers: dict[int, tuple[TracerProvider, Tracer]] = {}

    @property
    def is_tracing_enabled(self) -> bool:
        """Whether a tracer provider is configured for this client right now."""
        return self._provider() is not None

    def create_attribute_set(self) -> AttributeSet:
        """Return an empty ``AttributeSet``."""
        return AttributeSet()

    def create_span(
        self,
        name: str,
        context: Optional[Context] = None,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> ContextAndSpan:
        """Start a span named ``name`` whose parent is the nearest span in ``context``.

        The returned context carries the new span and this factory; use it for the calls
        the operation makes. With no provider, the span is a no-op and the context is as given.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        if not isinstance(kind, SpanKind):
            raise TypeError(f"kind must be a SpanKind, got {kind!r}")
        if attributes is not None and not isinstance(attributes, AttributeSet):
            attributes = AttributeSet(attributes)
        if context is None:
            context = Context()
        provider = self._provider()
        if provider is None:
            return ContextAndSpan(context, NOOP_SPAN)
        try:
            span = self._start_span(provider, name, context, kind, attributes)
        except Exception as error:
            report_tracing_failure(provider, "create_span", error)
            return ContextAndSpan(context, NOOP_SPAN)
        return ContextAndSpan(context.with_value(_TRACING_KEY, (span, self)), span, provider)

    @staticmethod
    def create_span_from_context(
        name: str,
        context: Context,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> ContextAndSpan:
        """Start a span with the factory stored nearest in ``context``; with none, a no-op span."""
        factory = TracingContextFactory.from_context(context)
        if factory is None:
            return ContextAndSpan(context, NOOP_SPAN)
        return factory.create_span(name, context, kind=kind, attributes=attributes)

    @staticmethod
    def from_context(context: Optional[Context]) -> Optional[TracingContextFactory]:
        """Return the factory of the span stored nearest in ``context``, or None."""
        if context is None:
            return None
        entry: Optional[tuple[Span, TracingContextFactory]] = context.get_value(_TRACING_KEY)
        return None if entry is None else entry[1]

    @staticmethod
    def span_from_context(context: Optional[Context]) -> Optional[Span]:
        """Return the span stored nearest in ``context``, or None."""
        if context is None:
            return None
        entry: Optional[tuple[Span, TracingContextFactory]] = context.get_value(_TRACING_KEY)
        return None if entry is None else entry[0]

    def _provider(self) -> Optional[TracerProvider]:
        provider = self._client_provider
        if provider is None:
            provider = Context.application_context.get_tracer_provider()
        return provider

    def _tracer(self, provider: TracerProvider) -> Tracer:
        cached = self._tracers.get(id(provider))
        if cached is not None and cached[0] is provider:
            return cached[1]
        tracer = provider.create_tracer(
            self._tracer_name, self._package_version, schema_url=self._schema_url
        )
        self._tracers[id(provider)] = (provider, tracer)
        return tracer

    def _start_span(
        self,
        provider: TracerProvider,
        name: str,
        context: Context,
        kind: SpanKind,
        attributes: Optional[Mapping[str, AttributeValue]],
    ) -> Span:
        # Already validated by create_span: a plain dict keeps the hot path short.
        span_attributes: dict[str, AttributeValue] = {}
        if self._namespace is not None:
            span_attributes[AZ_NAMESPACE] = self._namespace
        if attributes:
            span_attributes.update(attributes)
        parent = self.span_from_context(context)
        options = CreateSpanOptions(kind=kind, attributes=span_attributes, parent_span=parent)
        return self._tracer(provider).create_span(name, options)
