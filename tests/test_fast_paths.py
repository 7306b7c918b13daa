"""The fast paths of a traced call agree with the general paths they stand in for.

A fast path answers the common case cheaply: a type check that passes the common type at
once, a table of attribute names read once, the quick reading of a plain URL, the attribute
check that passes a plain name and value. Each must answer exactly as the general path does,
break none of the guarantees (tracing never changes the call; no secret reaches an output;
bad input is refused alike on every path), and ask the object itself, never only its type.

Everything is real: the OpenTelemetry SDK with its in-memory exporter, the library's own
pipeline policy and sanitizer. ``_Proxy`` is a forwarding proxy of the kind applications
and instrumentations use (``wrapt.ObjectProxy``, Django's ``SimpleLazyObject``, werkzeug's
``LocalProxy``): like them it forwards ``__class__``, so ``isinstance`` answers for the
object behind it, not for the proxy's own type.
"""

from __future__ import annotations

import gc
import logging
import math
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Callable, Optional, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from azure_core_tracing import (
    ClientOptions,
    Context,
    CreateSpanOptions,
    Span,
    TelemetryOptions,
    Tracer,
    TracerProvider,
    TracingContextFactory,
)
from azure_core_tracing.guard import GuardedSpan
from azure_core_tracing.http import HttpSanitizer, RawResponse, Request, RequestActivityPolicy
from azure_core_tracing.http.conventions import Convention
from azure_core_tracing.tracing import NOOP_SPAN, AttributeValue, check_attribute
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from azure_core_tracing_opentelemetry.span import OpenTelemetrySpan

# --- shared parts ---------------------------------------------------------------------------


@dataclass
class _Otel:
    sdk: SdkTracerProvider
    exporter: InMemorySpanExporter
    provider: OpenTelemetryProvider

    def factory(self) -> TracingContextFactory:
        options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=self.provider))
        return TracingContextFactory(options, "Test.Service", "1.0.0", package_name="azure-x")

    def last(self) -> ReadableSpan:
        return self.exporter.get_finished_spans()[-1]

    def sdk_span(self, name: str = "s") -> otel_trace.Span:
        return self.sdk.get_tracer("azure-test").start_span(name)


def _make_otel() -> Iterator[_Otel]:
    exporter = InMemorySpanExporter()
    sdk = SdkTracerProvider()
    sdk.add_span_processor(SimpleSpanProcessor(exporter))
    yield _Otel(sdk, exporter, OpenTelemetryProvider.create(sdk))
    sdk.shutdown()


otel = pytest.fixture(_make_otel)
# For property tests, which hypothesis runs many times in one call of the test.
shared_otel = pytest.fixture(scope="module")(_make_otel)


class _Proxy:
    """Forwards attributes, items and ``__class__`` to ``target``, as ``wrapt.ObjectProxy``,
    Django's ``SimpleLazyObject`` and werkzeug's ``LocalProxy`` do."""

    def __init__(self, target: object) -> None:
        object.__setattr__(self, "_target", target)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(object.__getattribute__(self, "_target"))

    def _get(self) -> Any:
        return object.__getattribute__(self, "_target")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __getitem__(self, key: Any) -> Any:
        return self._get()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._get()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._get()[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __contains__(self, key: object) -> bool:
        return key in self._get()


def _outcome(call: Callable[[], object]) -> tuple[str, str]:
    """What a call did: ("ok", "") or the type and message of the TypeError/ValueError."""
    try:
        call()
    except (TypeError, ValueError) as error:
        return type(error).__name__, str(error)
    return "ok", ""


def _policy_attributes(otel: _Otel, policy: RequestActivityPolicy, url: str) -> dict[str, Any]:
    """The attributes of one try's span: started by ``policy`` for GET ``url``, answered 200."""
    scope = policy.start(Request("GET", url), Context())
    assert scope is not None
    with scope:
        policy.finish(scope, RawResponse(200, "OK", {}, b""))
    return dict(otel.last().attributes or {})


# --- a table read once follows what it was read from ----------------------------------------


def test_a_convention_set_after_construction_names_every_attribute(otel: _Otel) -> None:
    """``RequestActivityPolicy.convention`` is a public, documented attribute, and the policy
    keeps the names it reads from it in a table. Set after construction (DEFAULT -> STABLE),
    every name follows it: the spans are exactly those of a policy built with STABLE, never
    a mix of the legacy ``http.method``/``http.url`` with no ``server.address``/
    ``server.port`` (the DEFAULT table has none). Dashboards keyed on the stable names would
    otherwise lose the policy's spans."""
    factory = otel.factory()
    url = "https://acct.example/p?sig=SECRET"
    changed = RequestActivityPolicy(factory, HttpSanitizer(), Convention.DEFAULT)
    changed.convention = Convention.STABLE
    built = RequestActivityPolicy(factory, HttpSanitizer(), Convention.STABLE)
    assert _policy_attributes(otel, changed, url) == _policy_attributes(otel, built, url)


# --- a type check asks the object, not only its type ----------------------------------------


def test_the_headers_check_asks_the_object_not_only_its_type(otel: _Otel) -> None:
    """``check_headers_mapping`` may pass a plain ``dict`` at once, but for anything else it
    asks ``isinstance`` of the object itself: a forwarding proxy takes ``__class__`` from its
    target, so a proxy to a tuple is refused even after a proxy to a dict passed. The no-op
    span and a traced span both raise "headers must be a mutable mapping", a TypeError
    naming ``headers``, never a later "'tuple' object does not support item assignment"
    that names no argument and appears only with tracing on."""
    NOOP_SPAN.propagate_to_http_headers(cast(MutableMapping[str, str], _Proxy({})))
    not_a_mapping = cast(MutableMapping[str, str], _Proxy(("traceparent",)))
    with pytest.raises(TypeError, match="headers must be a mutable mapping"):
        NOOP_SPAN.propagate_to_http_headers(not_a_mapping)
    traced = GuardedSpan(OpenTelemetrySpan(otel.sdk_span()), owner=otel.provider)
    with pytest.raises(TypeError, match="headers must be a mutable mapping"):
        traced.propagate_to_http_headers(not_a_mapping)


def test_an_opentelemetry_span_check_asks_the_object_not_only_its_type(otel: _Otel) -> None:
    """``OpenTelemetrySpan(otel_span)`` checks each object it is given: a proxy to a real span
    passes (rightly), and a proxy to anything else (here ``object()``) is the TypeError
    naming ``otel_span`` even after one passed, never an AttributeError from inside
    OpenTelemetry later."""
    OpenTelemetrySpan(cast(otel_trace.Span, _Proxy(otel.sdk_span())))
    with pytest.raises(TypeError, match=r"otel_span must be an opentelemetry\.trace\.Span"):
        OpenTelemetrySpan(cast(otel_trace.Span, _Proxy(object())))


class _ProxyingProvider(TracerProvider):
    """Hands out OpenTelemetry spans behind a forwarding proxy; from the second span on, a
    proxy to None (garbage a faulty provider returns)."""

    def __init__(self, inner: OpenTelemetryProvider) -> None:
        self.inner = inner
        self.spans = 0

    def create_tracer(
        self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
    ) -> Tracer:
        return _ProxyingTracer(self, self.inner.create_tracer(name, version, schema_url=schema_url))


class _ProxyingTracer(Tracer):
    def __init__(self, owner: _ProxyingProvider, inner: Tracer) -> None:
        self.owner = owner
        self.inner = inner

    def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
        self.owner.spans += 1
        target = self.inner.create_span(name, options) if self.owner.spans == 1 else None
        return cast(Span, _Proxy(target))


def test_a_provider_returning_a_non_span_is_reported_as_such(
    otel: _Otel, caplog: pytest.LogCaptureFixture
) -> None:
    """The factory checks every span a provider returns: a provider that hands out its spans
    behind a proxy passes once, and when it then returns a proxy to None, that is reported
    as "create_span ... not a Span" and the call goes on untraced. Taken for a Span, it
    would be wrapped in the guard and the call would still succeed, but the log would name
    other operations (activate, end, ...) and point the reader at the wrong fault."""
    provider = _ProxyingProvider(otel.provider)
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
    factory = TracingContextFactory(options, "Test.Service", "1.0.0")
    with factory.create_span("first", Context()):
        pass
    caplog.set_level(logging.WARNING, logger="azure_core_tracing")
    with factory.create_span("second", Context()) as (_, span):
        span.add_attribute("k", 1)
    reports = [record.getMessage() for record in caplog.records]
    assert any("create_span" in report and "not a Span" in report for report in reports), reports


def _headers_type_once_used() -> weakref.ref[type]:
    class LocalHeaders(dict[str, str]):
        pass

    NOOP_SPAN.propagate_to_http_headers(LocalHeaders())
    return weakref.ref(LocalHeaders)


def _span_type_once_created() -> weakref.ref[type]:
    class LocalSpan(OpenTelemetrySpan):
        pass

    class LocalTracer(Tracer):
        def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
            sdk_span = otel_trace.NonRecordingSpan(otel_trace.INVALID_SPAN_CONTEXT)
            return LocalSpan(sdk_span)

    class LocalProvider(TracerProvider):
        def create_tracer(
            self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
        ) -> Tracer:
            return LocalTracer()

    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=LocalProvider()))
    with TracingContextFactory(options, "Test.Service", "1.0.0").create_span("s", Context()):
        pass
    return weakref.ref(LocalSpan)


def _otel_span_type_once_wrapped() -> weakref.ref[type]:
    class LocalOtelSpan(otel_trace.NonRecordingSpan):
        pass

    OpenTelemetrySpan(LocalOtelSpan(otel_trace.INVALID_SPAN_CONTEXT))
    return weakref.ref(LocalOtelSpan)


@pytest.mark.parametrize(
    "use",
    [_headers_type_once_used, _span_type_once_created, _otel_span_type_once_wrapped],
    ids=["headers-check", "factory-span-check", "opentelemetry-span-check"],
)
def test_a_type_check_keeps_no_class_alive(use: Callable[[], weakref.ref[type]]) -> None:
    """A type check keeps no class it has seen alive: a class made at run time
    (``unittest.mock`` makes one per Mock, frameworks make proxies and spans per request) is
    collected once unused, as it is after ``isinstance`` (ABCMeta keeps WeakSets). A plain
    module-level set of types seen would keep every one alive for the life of the process
    and grow without bound; the failure registry is weak for the same reason."""
    cls = use()
    gc.collect()
    assert cls() is None


# --- the quick reading of a plain URL -------------------------------------------------------


class _UrlAnsweringInWrongly(str):
    """A str subclass whose ``in`` says it holds nothing."""

    def __contains__(self, item: object) -> bool:
        return False


class _UrlFindingNothing(str):
    """A str subclass whose ``find`` finds nothing."""

    def find(self, *args: Any) -> int:
        return -1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (_UrlAnsweringInWrongly("https://TOKEN@acct.example/p"), "https://acct.example/p"),
        (
            _UrlFindingNothing("https://acct.example/p?sig=SECRET"),
            "https://acct.example/p?sig=REDACTED",
        ),
    ],
    ids=["user-info", "query"],
)
def test_a_str_subclass_url_is_sanitized_as_its_text_is(
    otel: _Otel, url: str, expected: str
) -> None:
    """The quick reading of a plain URL reads its exact text, as the general path
    (``urlsplit``) does: a str subclass's own ``in`` or ``find`` never decides what is
    redacted, so no user-info token or SAS signature reaches the ``http.url`` span attribute
    (nor the log line or the TransportError message, which use the same sanitizer).
    ``Request`` keeps such a URL as it is, so the sanitizer is where it must be read right."""
    assert HttpSanitizer().sanitize_url(url) == expected
    policy = RequestActivityPolicy(otel.factory(), HttpSanitizer(), Convention.DEFAULT)
    assert _policy_attributes(otel, policy, url)["http.url"] == expected


# --- the attribute check --------------------------------------------------------------------


class _Name(str):
    """A str subclass name (its methods are str's own)."""


class _Text(str):
    """A str subclass value."""


class _Number(int):
    """An int subclass value."""


class _DictSubclass(dict[Any, Any]):
    pass


class _ReadOnlyMapping(Mapping[Any, Any]):
    def __init__(self, items: dict[Any, Any]) -> None:
        self._items = items

    def __getitem__(self, key: Any) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


_SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**300), max_value=2**300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from(["\ud800", "é", "", " "]),
    st.builds(_Text, st.text(max_size=3)),
    st.builds(_Number, st.integers()),
)
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.lists(_SCALARS, max_size=3).map(tuple),
    st.sampled_from([b"bytes", None, object(), {"a": 1}, bytearray(b"x")]),
)
_NAMES = st.one_of(
    st.text(max_size=4),
    st.sampled_from(["", "\ud800", "é", "k", "http.url"]),
    st.builds(_Name, st.text(max_size=3)),
    st.integers(-2, 2),
    st.none(),
)
_MAPPINGS = st.tuples(
    st.dictionaries(_NAMES, _VALUES, max_size=4),
    st.sampled_from([dict, _DictSubclass, _ReadOnlyMapping]),
).map(lambda pair: pair[1](pair[0]))


def _general_check(attributes: Mapping[Any, Any]) -> None:
    """The general path: ``check_attribute`` on every item, in order."""
    for name, value in attributes.items():
        check_attribute(name, value)


def _same(left: object, right: object) -> bool:
    """Equal, NaN equal to NaN, a list equal to the tuple of its items."""
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (math.isnan(left) and math.isnan(right))
    return type(left) is type(right) and left == right


@settings(max_examples=400)
@given(attributes=_MAPPINGS)
def test_attribute_fast_paths_agree_with_the_general_check(
    shared_otel: _Otel, attributes: Mapping[str, AttributeValue]
) -> None:
    """``check_attributes`` (the no-op span) and ``checked_attributes`` (the guard) refuse
    exactly what ``check_attribute`` item by item refuses, with the same error; what they
    accept reaches the OpenTelemetry span whole, a sequence as a tuple."""
    otel = shared_otel
    expected = _outcome(lambda: _general_check(attributes))
    assert _outcome(lambda: NOOP_SPAN.add_attributes(attributes)) == expected
    sdk_span = otel.sdk_span()
    guarded = GuardedSpan(OpenTelemetrySpan(sdk_span), owner=otel.provider)
    assert _outcome(lambda: guarded.add_attributes(attributes)) == expected
    sdk_span.end()
    if expected[0] == "ok":
        recorded = dict(otel.last().attributes or {})
        assert len(recorded) == len(attributes)
        for name, value in attributes.items():
            assert _same(recorded[name], value), (name, recorded[name], value)
