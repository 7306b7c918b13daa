"""Abstract tracing interfaces (TracerProvider, Tracer, Span) and their no-op defaults."""

from __future__ import annotations

import contextlib
import enum
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ContextManager, Optional, Union

from azure_core_tracing.checks import check_optional_str, is_unicode, type_name
from azure_core_tracing.headers import TRACEPARENT, TRACESTATE
from azure_core_tracing.tracecontext import TraceParent, TraceState

AttributeScalar = Union[bool, int, float, str]
AttributeValue = Union[
    AttributeScalar, Sequence[bool], Sequence[int], Sequence[float], Sequence[str]
]

_SCALAR_TYPES = (bool, int, float, str)
_PLAIN_NUMBERS = frozenset({bool, int, float})


def is_plain_attribute(name: object, value: Any) -> bool:
    """Whether an attribute needs no further check: a non-empty ASCII ``str`` name and a
    ``bool``, ``int``, ``float`` or ASCII ``str`` value (exact types: no subclass)."""
    kind = type(value)
    return (
        type(name) is str
        and name.isascii()
        and name != ""
        and (kind in _PLAIN_NUMBERS or (kind is str and value.isascii()))
    )


class SpanKind(enum.Enum):
    """The role a span plays in a trace, as in OpenTelemetry."""

    INTERNAL = 0
    CLIENT = 1
    SERVER = 2
    PRODUCER = 3
    CONSUMER = 4


class SpanStatus(enum.Enum):
    """The outcome of the operation a span describes."""

    UNSET = 0
    OK = 1
    ERROR = 2


def check_attribute(name: object, value: object) -> None:
    """Raise ``TypeError`` naming the attribute unless ``name``/``value`` form a valid attribute."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"attribute name must be a non-empty str, got {name!r}")
    if not is_unicode(name):
        raise ValueError("attribute name must be text that can be written as UTF-8")
    if isinstance(value, _SCALAR_TYPES):
        if isinstance(value, str) and not is_unicode(value):
            raise ValueError(
                f"attribute {name!r}: the value must be text that can be written as UTF-8"
            )
        return
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        kinds = {bool if isinstance(item, bool) else type(item) for item in value}
        if len(kinds) <= 1 and kinds <= set(_SCALAR_TYPES):
            if kinds == {str} and not all(is_unicode(item) for item in value):
                raise ValueError(
                    f"attribute {name!r}: every item must be text that can be written as UTF-8"
                )
            return
        raise TypeError(
            f"attribute {name!r}: a sequence value must hold items of one type "
            f"(bool, int, float or str), got {sorted(k.__name__ for k in kinds)}"
        )
    raise TypeError(
        f"attribute {name!r}: value of type {type(value).__name__} is not "
        "bool, int, float, str or a sequence of one of those"
    )


def check_attributes(attributes: object, argument: str = "attributes") -> None:
    """Raise unless ``attributes`` is None or a mapping of valid attributes."""
    if attributes is None:
        return
    if type(attributes) is not dict and not isinstance(attributes, Mapping):
        raise TypeError(
            f"{argument} must be a mapping of name to value, got {type(attributes).__name__}"
        )
    for name, value in attributes.items():
        if not is_plain_attribute(name, value):
            check_attribute(name, value)


def check_headers_mapping(headers: object) -> None:
    """Raise ``TypeError`` unless ``headers`` is a mutable mapping to write headers into."""
    # isinstance asks the object (a proxy answers for its target) and keeps its cache weak.
    if type(headers) is not dict and not isinstance(headers, MutableMapping):
        raise TypeError(f"headers must be a mutable mapping, got {type(headers).__name__}")


def check_status(status: object) -> SpanStatus:
    """Return ``status`` as a ``SpanStatus`` or raise ``ValueError`` naming it."""
    if isinstance(status, SpanStatus):
        return status
    raise ValueError(f"status must be a SpanStatus (UNSET, OK or ERROR), got {status!r}")


def check_description(description: object) -> None:
    """Raise ``TypeError`` unless a status description is None or a str."""
    check_optional_str(description, "description")


def check_end_time(end_time: object, argument: str = "end_time") -> None:
    """Raise unless ``end_time`` (or the moment ``argument`` names) is None or a
    timezone-aware ``datetime``."""
    if end_time is None:
        return
    if not isinstance(end_time, datetime):
        raise TypeError(f"{argument} must be a datetime or None, got {type(end_time).__name__}")
    if end_time.tzinfo is None or end_time.utcoffset() is None:
        raise ValueError(
            f"{argument} must be timezone-aware (for example datetime.now(timezone.utc))"
        )


def check_event(name_or_exception: object, attributes: object) -> None:
    """Raise unless an event is a non-empty str or an exception, with valid attributes."""
    if not isinstance(name_or_exception, BaseException):
        if not isinstance(name_or_exception, str) or not name_or_exception:
            raise TypeError(
                "name_or_exception must be a non-empty str or an exception, "
                f"got {type(name_or_exception).__name__}"
            )
        if not is_unicode(name_or_exception):
            raise ValueError("name_or_exception must be text that can be written as UTF-8")
    check_attributes(attributes)


class AttributeSet(MutableMapping[str, AttributeValue]):
    """A validated mapping of attribute name to attribute value."""

    __slots__ = ("_items",)

    def __init__(self, attributes: Optional[Mapping[str, AttributeValue]] = None) -> None:
        self._items: dict[str, AttributeValue] = {}
        check_attributes(attributes)
        if attributes:
            self._items.update(attributes)

    def add_attribute(self, name: str, value: AttributeValue) -> None:
        """Add or replace one attribute; an invalid value is a ``TypeError`` naming it."""
        self[name] = value

    def __setitem__(self, name: str, value: AttributeValue) -> None:
        check_attribute(name, value)
        self._items[name] = value

    def __getitem__(self, name: str) -> AttributeValue:
        return self._items[name]

    def __delitem__(self, name: str) -> None:
        del self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"AttributeSet({self._items!r})"


class Span(ABC):
    """One traced operation: a name, a kind, attributes, events and a status."""

    @abstractmethod
    def end(self, end_time: Optional[datetime] = None) -> None:
        """End the span, at ``end_time`` (timezone-aware) or now.

        A second call does nothing."""

    @abstractmethod
    def add_attribute(self, name: str, value: AttributeValue) -> None:
        """Set one attribute on the span.

        An invalid value is a ``TypeError`` naming the attribute."""

    def add_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        """Set every attribute of an ``AttributeSet`` or mapping on the span."""
        for name, value in attributes.items():
            self.add_attribute(name, value)

    @abstractmethod
    def add_event(
        self,
        name_or_exception: Union[str, BaseException],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> None:
        """Record a named event, or an exception (which also sets status ERROR).

        Attributes describe the event."""

    @abstractmethod
    def set_status(self, status: SpanStatus, description: Optional[str] = None) -> None:
        """Set the span's status; anything but a ``SpanStatus`` is a ``ValueError``.

        The description is kept for ERROR only."""

    @abstractmethod
    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        """Write this span's trace context (W3C ``traceparent``) into ``headers``.

        A span that is not recording writes nothing. Behind the library's guard, only
        propagation headers (``headers.PROPAGATION_HEADERS`` and the client's
        ``TelemetryOptions.propagation_headers``) reach a request."""

    @property
    @abstractmethod
    def is_recording(self) -> bool:
        """Whether what is set on this span is kept."""

    def activate(self, *, suppress_http_instrumentation: bool = False) -> ContextManager[None]:
        """Make this span the tracing backend's current span inside a ``with`` block.

        With ``suppress_http_instrumentation``, the backend's HTTP instrumentation stays quiet."""
        return contextlib.nullcontext()


@dataclass(frozen=True)
class Link:
    """A link from a span to a span of another trace: the one a queue message was sent in, say.

    ``from_headers`` reads it from the W3C ``traceparent``/``tracestate`` the message carries."""

    traceparent: TraceParent
    tracestate: Optional[TraceState] = None
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.traceparent, TraceParent):
            raise TypeError(
                f"traceparent must be a TraceParent, got {type(self.traceparent).__name__}"
            )
        if self.tracestate is not None and not isinstance(self.tracestate, TraceState):
            raise TypeError(
                f"tracestate must be a TraceState or None, got {type(self.tracestate).__name__}"
            )
        check_attributes(self.attributes)
        object.__setattr__(self, "attributes", dict(self.attributes))

    @classmethod
    def from_headers(
        cls,
        headers: Mapping[str, Union[str, Sequence[str]]],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> Optional[Link]:
        """The link to the span whose ``traceparent`` (and ``tracestate``) ``headers`` carry.

        Header names match case-insensitively and a value may be one line or a list of
        lines. Missing, invalid or unreadable headers give None: this never raises for them
        (``attributes`` is checked as everywhere; an invalid one is a ``TypeError``)."""
        check_attributes(attributes)
        try:
            lines: dict[str, list[str]] = {TRACEPARENT: [], TRACESTATE: []}
            for name, value in headers.items():
                found = lines.get(name.lower()) if isinstance(name, str) else None
                if found is not None:
                    found.extend([value] if isinstance(value, str) else list(value))
            traceparent = TraceParent.parse(lines[TRACEPARENT])
            if traceparent is None:
                return None
            tracestate = TraceState.parse(lines[TRACESTATE])  # an invalid one is dropped
            return cls(traceparent, tracestate or None, attributes or {})
        except Exception:  # whatever the carrier holds: no link
            return None


@dataclass(frozen=True, init=False)
class CreateSpanOptions:
    """How to create a span: its kind, starting attributes, parent, links, start time
    (timezone-aware; None: now), and ``root``: with no ``parent_span``, start a new trace
    rather than go under the backend's current span."""

    kind: SpanKind
    attributes: Optional[Mapping[str, AttributeValue]]
    parent_span: Optional[Span]
    links: tuple[Link, ...]
    start_time: Optional[datetime]
    root: bool

    def __init__(
        self,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Optional[Mapping[str, AttributeValue]] = None,
        parent_span: Optional[Span] = None,
        links: tuple[Link, ...] = (),
        start_time: Optional[datetime] = None,
        root: bool = False,
    ) -> None:
        if start_time is not None and (
            type(start_time) is not datetime or start_time.utcoffset() is None
        ):
            check_end_time(start_time, "start_time")  # raises: an aware datetime it must be
        if root is not False and root is not True:
            raise TypeError(f"root must be a bool, got {type_name(root)}")
        # One step, not the generated one call per field of a frozen dataclass: every traced
        # call builds two.
        self.__dict__.update(
            kind=kind,
            attributes=attributes,
            parent_span=parent_span,
            links=links,
            start_time=start_time,
            root=root,
        )


class Tracer(ABC):
    """A factory of spans for one instrumentation scope (an SDK package)."""

    @abstractmethod
    def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
        """Start and return a new span named ``name``.

        Its parent is ``options.parent_span``, else the backend's current span; with
        ``options.root`` (and no parent span) it is a new trace's root instead: asked for when
        ``current_span`` reported none where the span's call was made. A tracer that ignores
        ``root`` puts such a span under its current span."""

    def create_attribute_set(self) -> AttributeSet:
        """Return an empty ``AttributeSet`` to fill and pass to ``create_span``."""
        return AttributeSet()

    def current_span(self) -> Optional[Span]:
        """The backend's current span here (this thread or task); None when it cannot tell.

        Optional: a span this tracer made must compare equal (``==``) to the object its
        ``create_span`` returned. It lets a public method called inside another's span,
        with no ``context`` passed, be left out as a nested call (``suppress_nested_spans``);
        a tracer without it leaves that to a passed ``context``, except inside a method whose
        span is not made yet, where None (at the call and inside) counts as unchanged."""
        return None


class TracerProvider(ABC):
    """A factory of tracers; an application usually has one."""

    @abstractmethod
    def create_tracer(
        self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
    ) -> Tracer:
        """Return a tracer for the instrumentation scope ``name`` at ``version``.

        ``schema_url`` names the semantic conventions the spans follow."""


def check_links(links: object) -> tuple[Link, ...]:
    """``links`` as a tuple of ``Link`` (None items, which ``Link.from_headers`` gives for an
    invalid carrier, left out); anything else is a ``TypeError`` naming ``links``."""
    if links is None or (type(links) is tuple and not links):
        return ()
    if type(links) is not tuple and (
        isinstance(links, (str, bytes, Mapping)) or not isinstance(links, Iterable)
    ):
        raise TypeError(f"links must be a sequence of Link, got {type(links).__name__}")
    checked = tuple(link for link in links if link is not None)
    for link in checked:
        if not isinstance(link, Link):
            raise TypeError(f"links must hold Link objects (or None), got {type(link).__name__}")
    return checked


def check_tracer_provider(provider: object, argument: str) -> Optional[TracerProvider]:
    """Return ``provider`` if it is None or a ``TracerProvider``; else a ``TypeError`` naming
    ``argument`` (which says how to wrap an OpenTelemetry provider)."""
    if provider is None or isinstance(provider, TracerProvider):
        return provider
    if any(cls.__module__.split(".")[0] == "opentelemetry" for cls in type(provider).__mro__):
        raise TypeError(
            f"{argument} must be an azure_core_tracing.TracerProvider, got the OpenTelemetry "
            f"{type(provider).__name__}: wrap it with "
            "azure_core_tracing_opentelemetry.OpenTelemetryProvider.create(provider)"
        )
    raise TypeError(
        f"{argument} must be an azure_core_tracing.TracerProvider or None, "
        f"got {type(provider).__name__}"
    )


class NoOpSpan(Span):
    """A span that keeps nothing; it still rejects invalid arguments."""

    __slots__ = ()

    def end(self, end_time: Optional[datetime] = None) -> None:
        check_end_time(end_time)

    def add_attribute(self, name: str, value: AttributeValue) -> None:
        check_attribute(name, value)

    def add_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        check_attributes(attributes)

    def add_event(
        self,
        name_or_exception: Union[str, BaseException],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> None:
        check_event(name_or_exception, attributes)

    def set_status(self, status: SpanStatus, description: Optional[str] = None) -> None:
        check_status(status)
        check_description(description)

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        check_headers_mapping(headers)

    @property
    def is_recording(self) -> bool:
        return False


NOOP_SPAN = NoOpSpan()


class NoOpTracer(Tracer):
    """A tracer whose spans keep nothing."""

    def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
        return NOOP_SPAN


class NoOpTracerProvider(TracerProvider):
    """A provider whose tracers keep nothing."""

    def create_tracer(
        self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
    ) -> Tracer:
        return NoOpTracer()
