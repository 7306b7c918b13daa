"""``TracingContextFactory``: the one object a service client holds to trace its methods,
and ``ContextAndSpan``: the one span lifecycle every traced operation goes through."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Iterable, Mapping, MutableMapping
from contextlib import suppress
from contextvars import ContextVar, Token
from datetime import datetime, timezone
from types import TracebackType
from typing import Callable, ContextManager, NamedTuple, Optional, Tuple, TypeVar, Union

from azure_core_tracing.call_options import call_options
from azure_core_tracing.checks import check_name, check_optional_str, type_name
from azure_core_tracing.context import Context, check_context
from azure_core_tracing.failures import report_tracing_failure
from azure_core_tracing.guard import GuardedSpan, checked_attributes
from azure_core_tracing.options import ClientOptions
from azure_core_tracing.propagation_headers import (
    DEFAULT_PROPAGATION_HEADERS,
    PropagationHeaders,
)
from azure_core_tracing.tracing import (
    NOOP_SPAN,
    AttributeSet,
    AttributeValue,
    CreateSpanOptions,
    Link,
    NoOpSpan,
    Span,
    SpanKind,
    SpanStatus,
    Tracer,
    TracerProvider,
    check_links,
)

_T = TypeVar("_T")

AZ_NAMESPACE = "az.namespace"
ERROR_TYPE = "error.type"
"""What an API span that raised records: the exception's fully qualified type name (HTTP spans
name it by ``http.conventions``, which takes the name from here)."""

_TRACING_KEY = object()  # context key whose value is a _Traced or a _Call
_NEW, _ENTERED, _DONE = range(3)
_NEVER_NESTED = (SpanKind.SERVER, SpanKind.CONSUMER)  # a new request or message: its own span
_RESOLVING = threading.RLock()  # one span a call, whichever thread needs it first; re-entrant:
# a provider that makes a traced call while making a span must not wait for itself
_UNKNOWN = object()  # a current span a tracer could not tell: equal to none


class _Traced(NamedTuple):
    """What a context carries for the operation under way."""

    span: Span  # what the operation's calls nest under
    factory: TracingContextFactory  # the client the operation belongs to
    api: bool  # a public API call's span (a call made inside it is a nested one)


class _Ambient(NamedTuple):
    """The API call under way in this thread or task, whatever context its callees pass."""

    traced: _Entry
    scope: Union[ContextAndSpan, _Call]  # under way while entered (a copied context can outlive it)


class _Fetch(NamedTuple):
    """A page fetch under way in this thread or task: what its call's context stands for."""

    call: _Call
    span: Span
    previous: Optional[_Fetch]  # a fetch of another call's pager this one runs inside


# The innermost API span entered in this thread or task (a context variable: copied into new
# tasks, not into new threads, as OpenTelemetry's own current span is).
_CURRENT_API: ContextVar[Optional[_Ambient]] = ContextVar("azure_core_tracing_api", default=None)
_FETCHING: ContextVar[Optional[_Fetch]] = ContextVar("azure_core_tracing_fetch", default=None)


_SPAN_TYPES: set[type] = set()  # Span subclasses seen: a set lookup, not an ABC's isinstance


def _is_span(value: object) -> bool:
    kind = type(value)
    if kind in _SPAN_TYPES:
        return True
    if not isinstance(value, Span):
        return False
    if len(_SPAN_TYPES) < 64:
        _SPAN_TYPES.add(kind)
    return True


def _same_span(tracer: Tracer, provider: TracerProvider, expected: object) -> bool:
    """Whether ``tracer``'s current span is ``expected`` (None: none is current); a tracer
    that fails to tell is reported, and taken as not."""
    if type(expected) is GuardedSpan:
        expected = expected.inner
    try:
        current = tracer.current_span()
        if expected is None:
            return current is None
        return current is not None and (current is expected or bool(current == expected))
    except Exception as error:
        report_tracing_failure(provider, "current_span", error)
        return False


def _ambient_api_call(tracer: Tracer, provider: TracerProvider) -> Optional[_Entry]:
    """The API call under way whose span ``tracer`` reports as its current span, if any.

    An application's own span started inside the call is current instead: then there is
    none, and a call made there gets a span of its own. So too after the call ended (in a
    task or a copied context it started), or where ``tracer`` cannot see its span (another
    backend's, or a tracer without ``current_span``). A call whose span is not made yet
    (``_Call``) is current while the span that was current when it was called still is."""
    ambient = _CURRENT_API.get()
    if ambient is None or ambient.scope._state is not _ENTERED:
        return None
    traced = ambient.traced
    if type(traced) is _Call:
        if traced._making:  # a call made by provider code while it makes this call's span
            return None
        return traced if _same_span(tracer, provider, traced._standing_for()) else None
    return traced if _same_span(tracer, provider, traced.span) else None


class _NestedSpan(NoOpSpan):
    """Stands in for the span of a public call made inside another's: records nothing, but
    propagates the outer span's trace context (``outer`` is already the current span)."""

    __slots__ = ("_outer",)

    def __init__(self, outer: Span) -> None:
        self._outer = outer

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        self._outer.propagate_to_http_headers(headers)


def _check_span_arguments(
    name: object, kind: object, attributes: object
) -> dict[str, AttributeValue]:
    """Check a span's arguments; its attributes, checked and copied once for provider code."""
    check_name(name, "name")
    if not isinstance(kind, SpanKind):
        raise TypeError(f"kind must be a SpanKind, got {kind!r}")
    return checked_attributes(attributes)


class ContextAndSpan(Tuple[Context, Span]):
    """A new span and the context that carries it; unpacks as ``context, span``.

    Entered once with ``with``: the span is the backend's current span inside the block; on
    exit an ``Exception`` escaping the block is recorded (the exception, ERROR, and for all
    but an HTTP try's span ``error.type``), the span is deactivated, then ended.
    A span from anywhere but a factory is put behind the same guard.
    """

    provider: Optional[TracerProvider]
    """The tracer provider that made the span; None for a no-op span."""
    _suppress: bool
    _state: int
    _activation: Optional[ContextManager[None]]
    _ambient: Optional[_Ambient]  # an API call's: current while entered
    _token: Optional[Token[Optional[_Ambient]]]

    def __new__(
        cls,
        context: Context,
        span: Span,
        provider: Optional[TracerProvider] = None,
        *,
        suppress_http_instrumentation: bool = False,
    ) -> ContextAndSpan:
        if not isinstance(span, (GuardedSpan, NoOpSpan)):
            if not isinstance(span, Span):
                raise TypeError(f"span must be an azure_core_tracing.Span, got {type_name(span)}")
            span = GuardedSpan(span, provider if provider is not None else span)
        check_context(context)
        self = tuple.__new__(cls, (context, span))
        self.provider = provider
        self._suppress = suppress_http_instrumentation
        self._state = _NEW
        self._activation = None
        self._ambient = None
        self._token = None
        return self

    @property
    def context(self) -> Context:
        """The context to pass to the calls this operation makes; it carries the span."""
        return self[0]

    @property
    def span(self) -> Span:
        """The operation's span (a no-op span when tracing is off)."""
        return self[1]

    def __enter__(self) -> ContextAndSpan:
        if self._state is not _NEW:
            raise RuntimeError(
                "a ContextAndSpan can be entered only once: create a new span for each operation"
            )
        self._state = _ENTERED
        span = self[1]
        if span is not NOOP_SPAN:
            activation = span.activate(suppress_http_instrumentation=self._suppress)
            activation.__enter__()
            self._activation = activation
            if self._ambient is not None:
                self._token = _CURRENT_API.set(self._ambient)
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._state is not _ENTERED:
            return
        self._state = _DONE
        span = self[1]
        if span is NOOP_SPAN:
            return
        if isinstance(exc, Exception):  # a KeyboardInterrupt or a cancelled task is no error
            _record(span, exc, error_type=not self._suppress)
        token, self._token = self._token, None
        if token is not None:
            self._ambient = None  # no cycle left for the collector
            # Exited in another task's context than it was entered in: that one keeps it.
            with suppress(ValueError, RuntimeError):
                _CURRENT_API.reset(token)
        activation, self._activation = self._activation, None
        if activation is not None:
            # Deactivated before it ends, as OpenTelemetry's use_span does: what the span
            # processors do at the end runs with the parent as the current span.
            activation.__exit__(None, None, None)
        span.end()


def _record(span: Span, error: Exception, *, error_type: bool = True) -> None:
    """Record what an operation raised: ``error.type`` (for all but an HTTP try's span, which
    names it by its conventions), the exception and ERROR."""
    if error_type:
        kind = type(error)
        span.add_attribute(ERROR_TYPE, f"{kind.__module__}.{kind.__qualname__}")
    span.add_event(error)


class _Call:
    """A traced method's call whose span is made when first needed: the entry of the context
    the method's body gets (it stands where a ``_Traced`` would).

    The span is made, back-dated to the call's start, when something needs it: a request sent
    or a traced call made with the context, ``span_from_context``, a call made inside the body
    with no context, or the body's end (it returned, or raised). Made in the body's own
    thread while nothing else became current, it is the current span until the body ends.
    When the body returns a pager having needed none, there is no span: the pager's page
    fetches get one each (``fetch``), and while one runs, the context stands for it."""

    __slots__ = (
        "_activation",
        "_ambient",
        "_attributes",
        "_caller",
        "_kind",
        "_links",
        "_making",
        "_name",
        "_outer",
        "_paged",
        "_parent",
        "_provider",
        "_span",
        "_start",
        "_state",
        "_thread",
        "_token",
        "_tracer",
        "factory",
    )
    api = True  # what a call made inside it is: a nested call

    def __init__(
        self,
        factory: TracingContextFactory,
        provider: TracerProvider,
        tracer: Tracer,
        name: str,
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
        links: tuple[Link, ...],
        parent: Optional[Span],
        outer: Optional[Span],
        caller: object,
    ) -> None:
        self.factory = factory
        self._provider = provider
        self._tracer = tracer
        self._name = name
        self._kind = kind
        self._attributes = attributes
        self._links = links
        self._parent = parent  # of the call's span and every page's
        self._outer = outer  # the span the caller's context carried
        self._caller = caller  # the tracer's current span when called (None: none)
        self._start = time.time_ns()
        self._span: Optional[Span] = None  # once made; NOOP_SPAN when the provider failed
        self._making = False  # the provider is making the span (its code may call back)
        self._activation: Optional[ContextManager[None]] = None
        self._state = _NEW
        self._paged = False
        self._thread = 0
        self._token: Optional[Token[Optional[_Ambient]]] = None
        self._ambient: Optional[_Ambient] = None  # while the body runs

    @property
    def span(self) -> Span:
        """The call's span (made now if need be), or during a page fetch that page's."""
        if self._paged:
            fetch = _FETCHING.get()
            while fetch is not None:
                if fetch.call is self:
                    return fetch.span
                fetch = fetch.previous
            # Outside a fetch: the call's span if it had one, else the caller's context's.
            span = self._span if self._span is not None else self._outer
            return NOOP_SPAN if span is None else span
        span = self._span
        return span if span is not None else self._resolve(activate=True)

    def _standing_for(self) -> object:
        """The span that must be current for a call made with no context to be inside this
        one: its own once active, else the one current when it was called."""
        span = self._span
        if self._activation is not None and type(span) is GuardedSpan:
            return span.inner
        return self._caller

    def _resolve(self, *, activate: bool) -> Span:
        with _RESOLVING:
            span = self._span
            if span is not None:
                return span
            if self._making:  # provider code making it called back: it is not there yet
                return NOOP_SPAN
            start = datetime.fromtimestamp(self._start / 1e9, timezone.utc)
            self._making = True
            try:
                made = self.factory._start_span(
                    self._provider,
                    self._name,
                    self._parent,
                    self._kind,
                    self._attributes,
                    self._links,
                    start,
                    root=self._parent is None and self._caller is None,
                )
            finally:
                self._making = False
            span = self._span = NOOP_SPAN if made is None else made
        if (
            activate
            and made is not None
            and self._state is _ENTERED
            and _CURRENT_API.get() is self._ambient
            and self._thread == threading.get_ident()
            # Made current only where nothing else became current since the call began:
            # activations must end in the order they began.
            and _same_span(self._tracer, self._provider, self._caller)
        ):
            activation = made.activate()
            activation.__enter__()
            self._activation = activation
        return span

    def enter(self, *, eager: bool) -> None:
        """The body starts (``eager``: with its span made and current, as an async def's is)."""
        self._state = _ENTERED
        self._thread = threading.get_ident()
        self._ambient = ambient = _Ambient(self, self)
        self._token = _CURRENT_API.set(ambient)
        if eager:
            span = self._resolve(activate=False)
            if span is not NOOP_SPAN:
                activation = span.activate()
                activation.__enter__()
                self._activation = activation

    def exit(self, error: Optional[BaseException], *, paged: bool) -> None:
        """The body ended: it raised ``error``, or returned (``paged``: a pager)."""
        span = self._span
        if span is None and not (paged and error is None):
            span = self._resolve(activate=False)
        if span is not None and span is not NOOP_SPAN:
            if isinstance(error, Exception):
                _record(span, error)
            elif error is None:
                span.set_status(SpanStatus.OK)
        self._state = _DONE
        self._paged = paged and error is None
        self._ambient = None  # no cycle left for the collector
        token, self._token = self._token, None
        if token is not None:
            with suppress(ValueError, RuntimeError):  # exited in another context than entered
                _CURRENT_API.reset(token)
        activation, self._activation = self._activation, None
        if activation is not None:
            activation.__exit__(None, None, None)
        if span is not None:
            span.end()

    def fetch(self, fetch: Callable[[], _T]) -> _T:
        """Run one page fetch of the pager the call returned inside the page's own span."""
        scope = self._page_scope()
        if scope is None:
            return fetch()
        with scope:
            token = _FETCHING.set(_Fetch(self, scope.span, _FETCHING.get()))
            try:
                result = fetch()
            finally:
                _FETCHING.reset(token)
            scope.span.set_status(SpanStatus.OK)
        return result

    async def fetch_async(self, fetch: Callable[[], Awaitable[_T]]) -> _T:
        """``fetch`` for an async pager: the span holds across the awaits."""
        scope = self._page_scope()
        if scope is None:
            return await fetch()
        with scope:
            token = _FETCHING.set(_Fetch(self, scope.span, _FETCHING.get()))
            try:
                result = await fetch()
            finally:
                with suppress(ValueError):  # resumed in another context (a pager handed on)
                    _FETCHING.reset(token)
            scope.span.set_status(SpanStatus.OK)
        return result

    def _page_scope(self) -> Optional[ContextAndSpan]:
        """A page's span, under the span the call was made under; None when untraced now."""
        factory = self.factory
        provider = factory._provider()
        if provider is None:
            return None
        # Nothing current when the call was made: each page is a new trace's root, not a
        # child of whatever is current where the pager is iterated.
        root = self._parent is None and self._caller is None
        span = factory._start_span(
            provider,
            self._name,
            self._parent,
            self._kind,
            self._attributes,
            self._links,
            root=root,
        )
        if span is None:
            return None
        traced = _Traced(span, factory, True)
        scope = ContextAndSpan(Context().with_value(_TRACING_KEY, traced), span, provider)
        scope._ambient = _Ambient(traced, scope)
        return scope


_Entry = Union[_Traced, _Call]


class TracingContextFactory:
    """Creates one span per public API call of a service client, with ``az.namespace`` set.

    The tracer provider is the client options' one if set, else the application context's;
    it is looked up for every span, so a provider set after the client was built counts.
    """

    __slots__ = (
        "_client_provider",
        "_last_tracer",
        "_namespace",
        "_package_version",
        "_propagation",
        "_schema_url",
        "_suppress_nested",
        "_tracer_name",
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
                f"client_options must be a ClientOptions, got {type_name(client_options)}"
            )
        options = client_options.snapshot()
        service_name = check_optional_str(service_name, "service_name")
        package_name = check_optional_str(package_name, "package_name")
        self._package_version = check_optional_str(package_version, "package_version")
        self._schema_url = check_optional_str(schema_url, "schema_url")
        tracer_name = package_name or service_name
        if not tracer_name:
            raise ValueError("service_name or package_name must be a non-empty str")
        self._client_provider = options.telemetry.tracing_provider
        self._suppress_nested = options.telemetry.suppress_nested_spans
        extra = options.telemetry.propagation_headers
        self._propagation = PropagationHeaders(extra) if extra else DEFAULT_PROPAGATION_HEADERS
        self._namespace = service_name or None
        self._tracer_name = tracer_name
        # One (provider, tracer) pair: a bounded cache that keeps at most one provider alive.
        self._last_tracer: Optional[tuple[TracerProvider, Tracer]] = None

    @property
    def service_name(self) -> Optional[str]:
        """The service namespace every span carries as ``az.namespace``."""
        return self._namespace

    @property
    def package_name(self) -> str:
        """The SDK package: the instrumentation scope (``package_name`` or ``service_name``)."""
        return self._tracer_name

    @property
    def package_version(self) -> Optional[str]:
        """The SDK package's version."""
        return self._package_version

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
        links: Optional[Iterable[Optional[Link]]] = None,
    ) -> ContextAndSpan:
        """Start the span of a public API call, named ``name``, under the nearest span in
        ``context``.

        The returned context carries the new span and this factory; use it for the calls
        the operation makes. With no provider, or tracing turned off for the call
        (``tracing_options``), the span is a no-op and the context is as given. Called in the
        context of another API call's span, the span is not made (unless this client's
        ``suppress_nested_spans`` is False, or the span is a SERVER or CONSUMER span): a
        non-recording span stands in, and what the call does nests under the outer span.
        ``links`` (None items skipped) tie the span to spans of other traces."""
        checked = _check_span_arguments(name, kind, attributes)
        checked_links = check_links(links)
        if context is None:
            context = Context()
        else:
            check_context(context)
        return self._create(name, context, kind, checked, checked_links, api=True)

    def create_http_span(
        self,
        name: str,
        context: Context,
        *,
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> ContextAndSpan:
        """Start the CLIENT span of one HTTP try (``RequestActivityPolicy`` makes them).

        Never suppressed as a nested call; while it is entered, the backend's HTTP
        instrumentation stays quiet, so a request is not traced twice."""
        checked = _check_span_arguments(name, SpanKind.CLIENT, attributes)
        check_context(context)
        return self._create(name, context, SpanKind.CLIENT, checked, (), api=False)

    @staticmethod
    def create_span_from_context(
        name: str,
        context: Context,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Optional[Mapping[str, AttributeValue]] = None,
        links: Optional[Iterable[Optional[Link]]] = None,
    ) -> ContextAndSpan:
        """Start a span with the factory stored nearest in ``context``; with none, a no-op span."""
        check_context(context)
        factory = TracingContextFactory.from_context(context)
        if factory is None:
            _check_span_arguments(name, kind, attributes)
            check_links(links)
            return ContextAndSpan(context, NOOP_SPAN)
        return factory.create_span(name, context, kind=kind, attributes=attributes, links=links)

    @staticmethod
    def from_context(context: Optional[Context]) -> Optional[TracingContextFactory]:
        """Return the factory of the span stored nearest in ``context``, or None."""
        if context is None:
            return None
        check_context(context)
        entry: Optional[_Entry] = context.get_value(_TRACING_KEY)
        return None if entry is None else entry.factory

    @staticmethod
    def span_from_context(context: Optional[Context]) -> Optional[Span]:
        """Return the span stored nearest in ``context``, or None."""
        if context is None:
            return None
        check_context(context)
        entry: Optional[_Entry] = context.get_value(_TRACING_KEY)
        return None if entry is None else entry.span

    def _create(
        self,
        name: str,
        context: Context,
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
        links: tuple[Link, ...],
        *,
        api: bool,
    ) -> ContextAndSpan:
        placed = self._place(context, kind, attributes, api=api)
        if type(placed) is ContextAndSpan:
            return placed
        provider, parent, attributes = placed  # type: ignore[misc]
        span = self._start_span(provider, name, parent, kind, attributes, links)
        if span is None:
            return ContextAndSpan(context, NOOP_SPAN)
        # A SERVER or CONSUMER span is a request or message come in, not an API call: the API
        # calls made while handling it have spans of their own.
        traced = _Traced(span, self, api and kind not in _NEVER_NESTED)
        scope = ContextAndSpan(
            context.with_value(_TRACING_KEY, traced),
            span,
            provider,
            suppress_http_instrumentation=not api,
        )
        if traced.api:
            scope._ambient = _Ambient(traced, scope)
        return scope

    def _place(
        self,
        context: Context,
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
        *,
        api: bool,
    ) -> Union[ContextAndSpan, tuple[TracerProvider, Optional[Span], dict[str, AttributeValue]]]:
        """Where a new span goes: the scope to return when none is to be made (tracing off, or
        a nested call), else the provider, the parent and the attributes to make it with."""
        call = call_options(context)
        if call.enabled is False:
            return ContextAndSpan(context, NOOP_SPAN)
        provider = self._provider()
        if provider is None:
            return ContextAndSpan(context, NOOP_SPAN)
        outer: Optional[_Entry] = context.get_value(_TRACING_KEY)
        nests = api and self._suppress_nested and kind not in _NEVER_NESTED
        if outer is None:
            ambient = _CURRENT_API.get()
            # No span passed: the API call under way, if its span is the current one (or, for
            # a call whose span is not made yet, the one current when it began still is).
            if ambient is not None and (nests or type(ambient.traced) is _Call):
                tracer = self._tracer(provider)
                found = None if tracer is None else _ambient_api_call(tracer, provider)
                if nests or type(found) is _Call:
                    outer = found
        if nests and outer is not None and outer.api:
            # The outer call's span stays the parent of what this call does; this client's
            # factory names it (its HTTP spans carry this client's az.namespace).
            outer_span = outer.span
            return ContextAndSpan(
                context.with_value(_TRACING_KEY, _Traced(outer_span, self, True)),
                _NestedSpan(outer_span),
            )
        if call.attributes:
            attributes = {**call.attributes, **attributes}
        return provider, None if outer is None else outer.span, attributes

    def _provider(self) -> Optional[TracerProvider]:
        provider = self._client_provider
        if provider is None:
            provider = Context.application_context.get_tracer_provider()
        return provider

    def _tracer(self, provider: TracerProvider) -> Optional[Tracer]:
        last = self._last_tracer
        if last is not None and last[0] is provider:
            return last[1]
        try:
            tracer = provider.create_tracer(
                self._tracer_name, self._package_version, schema_url=self._schema_url
            )
        except Exception as error:
            report_tracing_failure(provider, "create_tracer", error)
            return None
        if not isinstance(tracer, Tracer):
            report_tracing_failure(
                provider, "create_tracer", f"it returned {type_name(tracer)}, not a Tracer"
            )
            return None
        self._last_tracer = (provider, tracer)
        return tracer

    def _start_span(
        self,
        provider: TracerProvider,
        name: str,
        parent: Optional[Span],
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
        links: tuple[Link, ...],
        start_time: Optional[datetime] = None,
        *,
        root: bool = False,
    ) -> Optional[GuardedSpan]:
        """The provider's new span behind the guard, or None when the provider failed
        (``root``: with no parent, a new trace's root, not the current span's child)."""
        tracer = self._tracer(provider)
        if tracer is None:
            return None
        # attributes is this call's own checked copy: provider code may keep it.
        span_attributes = (
            attributes if self._namespace is None else {AZ_NAMESPACE: self._namespace, **attributes}
        )
        if type(parent) is GuardedSpan:
            parent = parent.inner  # the provider knows its own spans, not the guard
        options = CreateSpanOptions(kind, span_attributes, parent, links, start_time, root)
        try:
            span = tracer.create_span(name, options)
        except Exception as error:
            report_tracing_failure(provider, "create_span", error)
            return None
        if not isinstance(span, Span):
            report_tracing_failure(
                provider, "create_span", f"it returned {type_name(span)}, not a Span"
            )
            return None
        if span is NOOP_SPAN:
            return None
        return GuardedSpan(span, provider, self._propagation)


def defer_call(
    factory: TracingContextFactory,
    name: str,
    context: Context,
    kind: SpanKind,
    links: tuple[Link, ...],
) -> Union[ContextAndSpan, tuple[Context, _Call]]:
    """A traced method's call, the seam ``distributed_trace`` starts one through: the scope
    when no span is to be made (tracing off, or a nested call), else the context for the
    method's body and the call it carries, whose span is made when first needed (``enter``,
    ``exit``; ``fetch`` / ``fetch_async`` for the pages of a pager it returned)."""
    placed = factory._place(context, kind, {}, api=True)
    if type(placed) is ContextAndSpan:
        return placed
    provider, parent, attributes = placed  # type: ignore[misc]
    tracer = factory._tracer(provider)
    if tracer is None:
        return ContextAndSpan(context, NOOP_SPAN)
    try:
        caller: object = tracer.current_span()
    except Exception as error:
        report_tracing_failure(provider, "current_span", error)
        caller = _UNKNOWN
    if caller is not None and not _is_span(caller):
        caller = _UNKNOWN  # what it returned cannot tell: no call made with no context nests
    outer_span = parent
    if parent is None and caller is not None and caller is not _UNKNOWN:
        parent = caller
    call = _Call(
        factory, provider, tracer, name, kind, attributes, links, parent, outer_span, caller
    )
    return context.with_value(_TRACING_KEY, call), call
