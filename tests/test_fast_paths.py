"""Review of the request-path fast paths (commits a04e4b1 and e5d7886).

Tests whose docstring starts "Fails:" show a defect: a fast path that disagrees with the
general path it stands in for, or breaks one of the guarantees (tracing never changes the
call; no secret reaches an output; bad input is refused alike on every path). The other
tests pin what the fast paths must keep agreeing on; they pass.

Everything is real: the OpenTelemetry SDK with its in-memory exporter, the library's own
pipeline policy and sanitizer. ``_Proxy`` is a forwarding proxy of the kind applications
and instrumentations use (``wrapt.ObjectProxy``, Django's ``SimpleLazyObject``, werkzeug's
``LocalProxy``): like them it forwards ``__class__``, so ``isinstance`` answers for the
object behind it, not for the proxy's own type.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import math
import threading
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from azure_core_tracing import (
    ClientOptions,
    Context,
    CreateSpanOptions,
    Link,
    Span,
    SpanKind,
    SpanStatus,
    TelemetryOptions,
    Tracer,
    TracerProvider,
    TracingContextFactory,
)
from azure_core_tracing.checks import check_header
from azure_core_tracing.guard import GuardedSpan
from azure_core_tracing.headers import MAX_PROPAGATED_VALUE_BYTES, MAX_TRACESTATE_BYTES
from azure_core_tracing.http import (
    HttpSanitizer,
    RawResponse,
    Request,
    RequestActivityPolicy,
    RequestsTransport,
)
from azure_core_tracing.http.conventions import Convention
from azure_core_tracing.tracing import NOOP_SPAN, AttributeValue, check_attribute
from azure_core_tracing_opentelemetry import OpenTelemetryProvider
from azure_core_tracing_opentelemetry.span import OpenTelemetrySpan
from tests.local_server import LocalServer, RawServer, Reply

# --- shared parts -------------------------------------------------------------------------


@dataclass
class _Otel:
    sdk: SdkTracerProvider
    exporter: InMemorySpanExporter
    provider: OpenTelemetryProvider

    def factory(self) -> TracingContextFactory:
        options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=self.provider))
        return TracingContextFactory(options, "Review.Service", "1.0.0", package_name="azure-x")

    def last(self) -> ReadableSpan:
        return self.exporter.get_finished_spans()[-1]

    def sdk_span(self, name: str = "s") -> otel_trace.Span:
        return self.sdk.get_tracer("review").start_span(name)


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


# --- defects --------------------------------------------------------------------------------


def test_a_convention_set_after_construction_names_every_attribute(otel: _Otel) -> None:
    """Fails: ``RequestActivityPolicy.convention`` is a public, documented attribute, but
    a04e4b1 reads the names from ``self._names``, a table copied from it once in
    ``__init__``, while ``start`` still tests ``self.convention``. Set it after construction
    (DEFAULT -> STABLE) and spans mix conventions: legacy ``http.method``/``http.url``, no
    ``server.address``/``server.port`` (the DEFAULT table has none) although the STABLE branch
    ran. Before a04e4b1 every name was read from ``self.convention`` on each try. Dashboards
    keyed on the stable names lose the policy's spans."""
    factory = otel.factory()
    url = "https://acct.example/p?sig=SECRET"
    changed = RequestActivityPolicy(factory, HttpSanitizer(), Convention.DEFAULT)
    changed.convention = Convention.STABLE
    built = RequestActivityPolicy(factory, HttpSanitizer(), Convention.STABLE)
    assert _policy_attributes(otel, changed, url) == _policy_attributes(otel, built, url)


def test_the_headers_check_asks_the_object_not_only_its_type(otel: _Otel) -> None:
    """Fails: ``check_headers_mapping`` caches ``type(headers)`` in ``_MUTABLE_MAPPINGS``
    once ``isinstance(headers, MutableMapping)`` is true, on the belief that the answer
    depends on the type alone. ``isinstance`` reads ``headers.__class__``, which a
    forwarding proxy takes from its target: once a proxy to a dict passed, a proxy to a
    tuple passes too. The no-op span then accepts it silently and a traced span fails later
    with "'tuple' object does not support item assignment", which names no argument: bad input
    is no longer a TypeError naming ``headers``, and tracing on and off disagree. Before
    a04e4b1 both raised "headers must be a mutable mapping"."""
    NOOP_SPAN.propagate_to_http_headers(cast(MutableMapping[str, str], _Proxy({})))
    not_a_mapping = cast(MutableMapping[str, str], _Proxy(("traceparent",)))
    with pytest.raises(TypeError, match="headers must be a mutable mapping"):
        NOOP_SPAN.propagate_to_http_headers(not_a_mapping)
    traced = GuardedSpan(OpenTelemetrySpan(otel.sdk_span()), owner=otel.provider)
    with pytest.raises(TypeError, match="headers must be a mutable mapping"):
        traced.propagate_to_http_headers(not_a_mapping)


def test_an_opentelemetry_span_check_asks_the_object_not_only_its_type(otel: _Otel) -> None:
    """Fails: ``OpenTelemetrySpan.__init__`` caches ``type(otel_span)`` in ``_SPAN_TYPES``
    after one ``isinstance`` check. A proxy to a real span passes (rightly); from then on a
    proxy to anything (here ``object()``) passes too, and the failure comes later, from
    inside OpenTelemetry, as an AttributeError. The public constructor no longer raises the
    TypeError naming ``otel_span`` that it raised before a04e4b1."""
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
    """Fails: the factory caches ``type(span)`` in ``_SPAN_TYPES`` after one ``isinstance``
    check. A provider that hands out its spans behind a proxy passes once; when it then
    returns a proxy to None, the factory takes it for a Span and wraps it in the guard,
    instead of reporting "create_span ... not a Span" and going on untraced as it did before
    a04e4b1. The call still succeeds (every later use is guarded), but the log names other
    operations (activate, end, ...), which points the reader at the wrong fault."""
    provider = _ProxyingProvider(otel.provider)
    options = ClientOptions(telemetry=TelemetryOptions(tracing_provider=provider))
    factory = TracingContextFactory(options, "Review.Service", "1.0.0")
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
    with TracingContextFactory(options, "Review.Service", "1.0.0").create_span("s", Context()):
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
    ids=["tracing._MUTABLE_MAPPINGS", "factory._SPAN_TYPES", "span._SPAN_TYPES"],
)
def test_the_type_caches_keep_no_class_alive(use: Callable[[], weakref.ref[type]]) -> None:
    """Fails: the three type caches of a04e4b1 are plain module-level sets, so every class
    ever seen is kept alive for the life of the process, and they grow without bound where
    classes are made at run time (``unittest.mock`` makes one per Mock, frameworks make
    proxies and spans per request). The ``isinstance`` caches they replace are weak
    (ABCMeta keeps WeakSets), and the project already keeps its failure registry weak so
    it holds nothing alive."""
    cls = use()
    gc.collect()
    assert cls() is None


@pytest.mark.parametrize(
    "call",
    [
        lambda span: span.add_attributes({"k": "\ud800"}),
        lambda span: span.add_attributes({"\ud800": 1}),
        lambda span: span.add_attribute("k", "\ud800"),
        lambda span: span.add_attribute("\ud800", True),
    ],
    ids=["value-in-mapping", "name-in-mapping", "value", "name"],
)
def test_an_opentelemetry_span_refuses_a_lone_surrogate_as_the_no_op_span_does(
    otel: _Otel, call: Callable[[Span], None]
) -> None:
    """Fails: ``OpenTelemetrySpan``'s attribute fast path (in ``_otel_value``, and inlined
    again by a04e4b1 into ``to_otel_attributes``) passes any exact str name with any scalar
    value without the UTF-8 check the general path makes. A lone surrogate is refused with
    a ValueError by the no-op span, by the guard, and by ``OpenTelemetrySpan`` itself when it
    sits in a list, but set on the OpenTelemetry span when it is a scalar or a name; the
    OTLP exporter then fails to encode it ("surrogates not allowed") and drops it with an
    error log. (The ``_otel_value`` half predates a04e4b1; a04e4b1 copied it.)"""
    with pytest.raises(ValueError, match="UTF-8"):
        call(NOOP_SPAN)
    with pytest.raises(ValueError, match="UTF-8"):
        call(OpenTelemetrySpan(otel.sdk_span()))


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
    ids=["user-info-kept", "query-not-sanitized"],
)
def test_a_str_subclass_url_is_sanitized_as_its_text_is(
    otel: _Otel, url: str, expected: str
) -> None:
    """Fails: ``_sanitize_plain_url`` (a04e4b1) asks the URL object itself (``"@" in url``,
    ``url.find("?")``), so a str subclass's own methods decide what is redacted: a user-info
    token or a SAS signature goes into the ``http.url`` span attribute (and the log line and
    the TransportError message, which use the same sanitizer). ``Request`` keeps such a URL
    as it is. The general path reads exact-str copies (``urlsplit``) and redacted both before
    a04e4b1; the e5d7886 memo guards against a lying ``__eq__`` but the fast path behind it
    does not guard against the other methods."""
    assert HttpSanitizer().sanitize_url(url) == expected
    policy = RequestActivityPolicy(otel.factory(), HttpSanitizer(), Convention.DEFAULT)
    assert _policy_attributes(otel, policy, url)["http.url"] == expected


# --- agreement (these pass) -----------------------------------------------------------------


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


_TRACE_NAMES = st.sampled_from(
    ["traceparent", "tracestate", "Traceparent", "TRACESTATE", _Name("traceparent")]
)
_TRACE_VALUES = st.one_of(
    st.lists(
        st.sampled_from(["0", "a", "-", "=", ",", " ", "\t", "\x7f", "\x80", "\xff", "Ā", "\n"]),
        max_size=10,
    ).map("".join),
    st.sampled_from([1, None, b"00-ab", _Text("00-ab"), _Text(" leading")]),
    st.sampled_from(
        [
            MAX_PROPAGATED_VALUE_BYTES - 1,
            MAX_PROPAGATED_VALUE_BYTES,
            MAX_PROPAGATED_VALUE_BYTES + 1,
            MAX_TRACESTATE_BYTES,
            MAX_TRACESTATE_BYTES + 1,
        ]
    ).map(lambda size: "a" * size),
)


class _WritingSpan(OpenTelemetrySpan):
    """A real OpenTelemetry span whose propagation writes one given header."""

    def __init__(self, otel_span: otel_trace.Span, name: object, value: object) -> None:
        super().__init__(otel_span)
        self.header = (name, value)

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        cast(MutableMapping[object, object], headers)[self.header[0]] = self.header[1]


def _general_propagation(name: object, value: object) -> dict[str, str]:
    """What the general path keeps of a W3C header a provider wrote."""
    if not isinstance(name, str) or not isinstance(value, str):
        return {}
    name, value = str.__str__(name), str.__str__(value)
    limit = MAX_TRACESTATE_BYTES if name.lower() == "tracestate" else MAX_PROPAGATED_VALUE_BYTES
    if len(value) > limit or _outcome(lambda: check_header(name, value))[0] != "ok":
        return {}
    return {name: value}


@settings(max_examples=300)
@given(name=_TRACE_NAMES, value=_TRACE_VALUES)
def test_the_propagation_fast_path_keeps_what_the_general_path_keeps(
    shared_otel: _Otel, name: object, value: object
) -> None:
    """A ``traceparent``/``tracestate`` a provider writes is sent exactly when the general
    checks pass (token name, clean Latin-1 value without leading white space, within its
    limit), as an exact str; the fast path's regex neither lets more through nor fewer."""
    otel = shared_otel
    span = GuardedSpan(_WritingSpan(otel.sdk_span(), name, value), owner=otel.provider)
    headers: dict[str, str] = {}
    span.propagate_to_http_headers(headers)
    assert headers == _general_propagation(name, value)
    assert all(type(key) is str and type(item) is str for key, item in headers.items())


def test_the_last_url_memo_answers_right_under_many_threads() -> None:
    """One sanitizer shared by many threads, each alternating between URLs (secrets, str
    subclasses, URLs the fast path leaves to the general one): every answer is the one a
    fresh sanitizer gives."""
    urls = [
        "https://acct.example/p?sig=ONE&api-version=1",
        "https://acct.example/p?sig=TWO&api-version=1",
        "https://user:pass@acct.example/p?x=1",
        "HTTPS://acct.example/p?se=2024#frag",
        "http://[::1]:8080/?token=abc",
        _Text("https://acct.example/p?sig=THREE"),
        "",
    ]
    expected = [HttpSanitizer().sanitize_url(url) for url in urls]
    shared = HttpSanitizer()
    wrong: list[tuple[str, str]] = []

    def work(offset: int) -> None:
        for step in range(2000):
            index = (offset + step * (offset + 1)) % len(urls)
            answer = shared.sanitize_url(urls[index])
            if answer != expected[index]:
                wrong.append((urls[index], answer))

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


@pytest.mark.parametrize("status", list(SpanStatus))
@pytest.mark.parametrize("description", [None, "", "boom"])
def test_cached_statuses_export_as_fresh_ones(
    otel: _Otel, status: SpanStatus, description: Optional[str]
) -> None:
    """The shared description-less ``Status`` objects export as ``Status(code, description
    only for ERROR)`` did, an empty ERROR description included; and a span's status is not
    another span's."""
    OpenTelemetrySpan(otel.sdk_span("a")).set_status(status, description)
    first = otel.sdk_span("b")
    OpenTelemetrySpan(first).set_status(status, description)
    first.end()
    exported = otel.last().status
    code = StatusCode[status.name]
    assert exported.status_code is code
    assert exported.description == (description if code is StatusCode.ERROR else None)


@dataclass(frozen=True)
class _GeneratedOptions:
    """CreateSpanOptions as it was before a04e4b1: a generated ``__init__``."""

    kind: SpanKind = SpanKind.INTERNAL
    attributes: Optional[Mapping[str, AttributeValue]] = None
    parent_span: Optional[Span] = None
    links: tuple[Link, ...] = ()


def test_create_span_options_behave_as_the_generated_dataclass_did() -> None:
    """The hand-written ``__init__`` keeps the generated one's defaults, positional order,
    keywords, repr, equality, frozenness, ``dataclasses.replace`` and its TypeErrors."""
    cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((), {}),
        ((SpanKind.CLIENT,), {}),
        ((SpanKind.SERVER, {"a": 1}, None, ()), {}),
        ((), {"links": (), "kind": SpanKind.PRODUCER, "attributes": {"b": "x"}}),
    ]
    for args, kwargs in cases:
        made = CreateSpanOptions(*args, **kwargs)
        generated = _GeneratedOptions(*args, **kwargs)
        assert dataclasses.astuple(made) == dataclasses.astuple(generated)
        assert repr(made).partition("(")[2] == repr(generated).partition("(")[2]
        assert made == CreateSpanOptions(*args, **kwargs)
        replaced = dataclasses.replace(made, kind=SpanKind.CONSUMER)
        assert type(replaced) is CreateSpanOptions and replaced.kind is SpanKind.CONSUMER
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.kind = SpanKind.CLIENT  # type: ignore[misc]
    with pytest.raises(TypeError):
        CreateSpanOptions(SpanKind.CLIENT, None, None, (), "extra")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        CreateSpanOptions(kinds=SpanKind.CLIENT)  # type: ignore[call-arg]


@pytest.mark.parametrize("kind", list(SpanKind))
def test_each_span_kind_maps_to_its_opentelemetry_kind(otel: _Otel, kind: SpanKind) -> None:
    """The kind table indexed by value gives each SpanKind OpenTelemetry's kind of that name."""
    tracer = otel.provider.create_tracer("review")
    tracer.create_span("k", CreateSpanOptions(kind=kind)).end()
    assert otel.last().kind is otel_trace.SpanKind[kind.name]


@pytest.mark.parametrize("kind", [1, "CLIENT", None, [], SpanKind.CLIENT.value])
def test_a_kind_that_is_not_a_span_kind_is_a_type_error_naming_it(
    otel: _Otel, kind: object
) -> None:
    tracer = otel.provider.create_tracer("review")
    with pytest.raises(TypeError, match=r"options\.kind"):
        tracer.create_span("k", CreateSpanOptions(kind=cast(SpanKind, kind)))


@pytest.mark.parametrize(
    "name",
    [
        "X-Ms-Client-Request-Id",
        "x-ms-client-request-id",
        _Name("X-MS-CLIENT-REQUEST-ID"),
        "missing",
        "",
        1,
        None,
        b"x-ms-client-request-id",
    ],
)
def test_the_headers_get_agrees_with_the_mapping_get(name: Any) -> None:
    """``_Headers.get`` (a04e4b1) answers as ``Mapping.get`` did for any key and default."""
    headers = Request("GET", "https://h/", headers={"x-ms-client-request-id": "id-1"}).headers
    for default in (None, "fallback"):
        assert headers.get(name, default) == Mapping.get(headers, name, default)
    assert headers.get(name) == Mapping.get(headers, name)


@pytest.mark.parametrize("stream", [False, True], ids=["read", "streamed"])
@pytest.mark.parametrize("deadline", [False, True], ids=["no-deadline", "deadline"])
def test_an_interim_response_never_reaches_the_next_request_however_it_is_read(
    stream: bool, deadline: bool
) -> None:
    """Every request now goes out with ``stream=True``: a 103 is the answer (empty body)
    whether or not the request streams or has a deadline, and its connection, with the
    real 200 unread on it, is never handed to the next request."""
    reply = b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = RawServer(reply, hold=True)
    transport = RequestsTransport(read_timeout=2)
    context = Context()
    if deadline:
        context = context.with_deadline(datetime.now(timezone.utc) + timedelta(seconds=30))
    try:
        for path in ("/first", "/second"):
            response = transport.send(Request("GET", server.url(path), stream=stream), context)
            assert response.status_code == 103
            assert b"".join(response.iter_bytes()) == b""
            response.close()
        assert len(server.received) == 2  # a connection of its own for each
    finally:
        transport.close()
        server.close()


@pytest.mark.parametrize("deadline", [False, True], ids=["no-deadline", "deadline"])
def test_read_bodies_still_give_their_connection_back_to_the_pool(
    server: LocalServer, deadline: bool
) -> None:
    """With ``stream=True`` the transport reads a body itself: once read, the connection
    goes back to the pool, so requests in a row share one connection, as with requests'
    own read before a04e4b1."""
    url = server.script("/pooled", Reply(200, body=b"x" * 100_000))
    transport = RequestsTransport()
    context = Context()
    if deadline:
        context = context.with_deadline(datetime.now(timezone.utc) + timedelta(seconds=30))
    try:
        bodies = [transport.send(Request("GET", url), context).body for _ in range(3)]
    finally:
        transport.close()
    assert bodies == [b"x" * 100_000] * 3
    assert len({received.client_port for received in server.received}) == 1
