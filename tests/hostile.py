"""A tracer provider that misbehaves at one chosen point, as a broken or buggy backend would.

Every fault raises or returns something wrong at exactly one place; the messages of what it
raises hold ``SECRET`` so tests can check that no failure text is copied anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from datetime import datetime
from types import TracebackType
from typing import Any, ContextManager, Optional, Union

from azure_core_tracing import (
    AttributeValue,
    CreateSpanOptions,
    Span,
    SpanStatus,
    Tracer,
    TracerProvider,
)

SECRET = "SECRET-7d1e"


FAULTS = (
    "create_tracer raises",
    "create_tracer returns None",
    "create_span raises",
    "create_span returns None",
    "create_span returns a str",
    "end raises",
    "add_attribute raises",
    "add_attributes raises",
    "add_event raises",
    "set_status raises",
    "is_recording raises",
    "propagate raises",
    "propagate writes bytes",
    "propagate writes an int",
    "propagate writes CR LF",
    "propagate writes a bytes name",
    "propagate writes Content-Length",
    "propagate writes Authorization",
    "propagate writes User-Agent",
    "activate raises",
    "activate returns None",
    "activation enter raises",
    "activation exit raises",
    "activation swallows exceptions",
)


class _Activation:
    def __init__(self, fault: str) -> None:
        self.fault = fault

    def __enter__(self) -> None:
        if self.fault == "activation enter raises":
            raise RuntimeError(f"enter {SECRET}")

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool:
        if self.fault == "activation exit raises":
            raise RuntimeError(f"exit {SECRET}")
        return self.fault == "activation swallows exceptions"


class HostileSpan(Span):
    def __init__(self, fault: str) -> None:
        self.fault = fault

    def _maybe_raise(self, operation: str) -> None:
        if self.fault == f"{operation} raises":
            raise RuntimeError(f"{operation} failed with Authorization: Bearer {SECRET}")

    def end(self, end_time: Optional[datetime] = None) -> None:
        self._maybe_raise("end")

    def add_attribute(self, name: str, value: AttributeValue) -> None:
        self._maybe_raise("add_attribute")

    def add_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        self._maybe_raise("add_attributes")

    def add_event(
        self,
        name_or_exception: Union[str, BaseException],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> None:
        self._maybe_raise("add_event")

    def set_status(self, status: SpanStatus, description: Optional[str] = None) -> None:
        self._maybe_raise("set_status")

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        self._maybe_raise("propagate")
        raw: Any = headers
        writes: dict[str, tuple[Any, Any]] = {
            "propagate writes bytes": ("traceparent", b"00-abc"),
            "propagate writes an int": ("traceparent", 42),
            "propagate writes CR LF": ("traceparent", "00-x\r\nX-Injected: 1"),
            "propagate writes a bytes name": (b"traceparent", "00-x"),
            "propagate writes Content-Length": ("Content-Length", "0"),
            "propagate writes Authorization": ("Authorization", f"Bearer {SECRET}"),
            "propagate writes User-Agent": ("User-Agent", "hijacked"),
        }
        name, value = writes.get(
            self.fault, ("traceparent", "00-" + "1" * 32 + "-" + "2" * 16 + "-01")
        )
        raw[name] = value

    @property
    def is_recording(self) -> bool:
        self._maybe_raise("is_recording")
        return True

    def activate(self, *, suppress_http_instrumentation: bool = False) -> ContextManager[None]:
        self._maybe_raise("activate")
        if self.fault == "activate returns None":
            none: Any = None
            return none  # type: ignore[no-any-return]
        return _Activation(self.fault)


class HostileTracer(Tracer):
    def __init__(self, fault: str) -> None:
        self.fault = fault

    def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
        if self.fault == "create_span raises":
            raise RuntimeError(f"create_span {SECRET}")
        wrong: Any = {"create_span returns None": None, "create_span returns a str": "span"}
        if self.fault in wrong:
            return wrong[self.fault]  # type: ignore[no-any-return]
        return HostileSpan(self.fault)


class HostileProvider(TracerProvider):
    """Misbehaves at ``fault``, one of ``FAULTS``; everything else works."""

    def __init__(self, fault: str) -> None:
        assert fault in FAULTS, fault
        self.fault = fault

    def create_tracer(
        self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
    ) -> Tracer:
        if self.fault == "create_tracer raises":
            raise RuntimeError(f"create_tracer {SECRET}")
        if self.fault == "create_tracer returns None":
            none: Any = None
            return none  # type: ignore[no-any-return]
        return HostileTracer(self.fault)


class _Span(Span):
    def __init__(
        self,
        propagate: Callable[[MutableMapping[str, str]], None],
        on_event: Callable[[Union[str, BaseException]], None],
        on_attributes: Callable[[Mapping[str, AttributeValue]], None],
    ) -> None:
        self._propagate = propagate
        self._on_event = on_event
        self._on_attributes = on_attributes

    def end(self, end_time: Optional[datetime] = None) -> None:
        pass

    def add_attribute(self, name: str, value: AttributeValue) -> None:
        pass

    def add_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        self._on_attributes(attributes)

    def add_event(
        self,
        name_or_exception: Union[str, BaseException],
        attributes: Optional[Mapping[str, AttributeValue]] = None,
    ) -> None:
        self._on_event(name_or_exception)

    def set_status(self, status: SpanStatus, description: Optional[str] = None) -> None:
        pass

    def propagate_to_http_headers(self, headers: MutableMapping[str, str]) -> None:
        self._propagate(headers)

    @property
    def is_recording(self) -> bool:
        return True


class _Tracer(Tracer):
    def __init__(self, provider: OneThingProvider) -> None:
        self._provider = provider

    def create_span(self, name: str, options: Optional[CreateSpanOptions] = None) -> Span:
        p = self._provider
        return _Span(p.propagate, p.on_event, p.on_attributes)


def _nothing(_: object) -> None:
    return None


def write_traceparent(headers: MutableMapping[str, str]) -> None:
    """What a propagator writes: one valid ``traceparent``."""
    headers["traceparent"] = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"


class OneThingProvider(TracerProvider):
    """Its spans propagate with ``propagate`` and see events and attributes through hooks."""

    def __init__(
        self,
        propagate: Callable[[MutableMapping[str, str]], None] = write_traceparent,
        on_event: Callable[[Union[str, BaseException]], None] = _nothing,
        on_attributes: Callable[[Mapping[str, AttributeValue]], None] = _nothing,
    ) -> None:
        self.propagate = propagate
        self.on_event = on_event
        self.on_attributes = on_attributes

    def create_tracer(
        self, name: str, version: Optional[str] = None, *, schema_url: Optional[str] = None
    ) -> Tracer:
        return _Tracer(self)
