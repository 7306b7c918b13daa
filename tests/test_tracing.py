from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

import pytest

from azure_core_tracing import (
    AttributeSet,
    AttributeValue,
    CreateSpanOptions,
    Link,
    NoOpSpan,
    NoOpTracerProvider,
    Span,
    SpanKind,
    SpanStatus,
)


def test_attribute_set_accepts_every_allowed_type() -> None:
    attrs = AttributeSet()
    attrs.add_attribute("b", True)
    attrs.add_attribute("i", 3)
    attrs.add_attribute("f", 1.5)
    attrs.add_attribute("s", "x")
    attrs["ints"] = [1, 2]
    attrs["strs"] = ("a", "b")
    attrs["empty"] = []
    assert dict(attrs) == {
        "b": True,
        "i": 3,
        "f": 1.5,
        "s": "x",
        "ints": [1, 2],
        "strs": ("a", "b"),
        "empty": [],
    }
    del attrs["b"]
    assert "b" not in attrs and len(attrs) == 6


@pytest.mark.parametrize("value", [None, b"bytes", {"a": 1}, object(), [1, "x"], [[1]], [None]])
def test_attribute_set_rejects_invalid_values_naming_the_attribute(value: object) -> None:
    attrs = AttributeSet()
    with pytest.raises(TypeError, match=r"'my\.attr'"):
        attrs.add_attribute("my.attr", value)  # type: ignore[arg-type]
    assert "my.attr" not in attrs


def test_attribute_set_rejects_empty_or_non_string_names() -> None:
    with pytest.raises(TypeError, match="attribute name"):
        AttributeSet({"": 1})
    with pytest.raises(TypeError, match="attribute name"):
        AttributeSet().add_attribute(3, 1)  # type: ignore[arg-type]


def test_bool_and_int_do_not_mix_in_one_sequence() -> None:
    with pytest.raises(TypeError, match="one type"):
        AttributeSet({"mixed": [True, 1]})


def test_noop_provider_gives_spans_that_keep_nothing_but_still_validate() -> None:
    tracer = NoOpTracerProvider().create_tracer("pkg", "1.0")
    span = tracer.create_span("op", CreateSpanOptions(kind=SpanKind.CLIENT))
    assert isinstance(span, NoOpSpan)
    assert span.is_recording is False
    headers: dict[str, str] = {}
    span.propagate_to_http_headers(headers)
    assert headers == {}
    span.add_event(ValueError("boom"))
    span.end()
    span.end()
    with pytest.raises(TypeError, match="'bad'"):
        span.add_attribute("bad", object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        span.set_status("OK")  # type: ignore[arg-type]
    span.set_status(SpanStatus.OK)
    with span.activate():
        pass
    assert isinstance(tracer.create_attribute_set(), AttributeSet)


@dataclass(frozen=True)
class _GeneratedOptions:
    """CreateSpanOptions as ``@dataclass(frozen=True)`` would generate it."""

    kind: SpanKind = SpanKind.INTERNAL
    attributes: Optional[Mapping[str, AttributeValue]] = None
    parent_span: Optional[Span] = None
    links: tuple[Link, ...] = ()
    start_time: Optional[datetime] = None
    root: bool = False


def test_create_span_options_behave_as_a_generated_dataclass() -> None:
    """``CreateSpanOptions`` writes its own ``__init__`` (every traced call builds two), and it
    keeps the generated one's defaults, positional order, keywords, repr, equality,
    frozenness, ``dataclasses.replace`` and its TypeErrors."""
    cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((), {}),
        ((SpanKind.CLIENT,), {}),
        ((SpanKind.SERVER, {"a": 1}, None, ()), {}),
        ((), {"links": (), "kind": SpanKind.PRODUCER, "attributes": {"b": "x"}}),
        ((SpanKind.CLIENT, None, None, (), datetime(2024, 1, 2, tzinfo=timezone.utc)), {}),
        ((SpanKind.CLIENT, None, None, (), None, True), {}),
        ((), {"root": True, "kind": SpanKind.SERVER}),
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
        CreateSpanOptions(SpanKind.CLIENT, None, None, (), None, False, "extra")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        CreateSpanOptions(kinds=SpanKind.CLIENT)  # type: ignore[call-arg]


def test_create_span_options_refuses_a_start_time_that_is_not_an_aware_datetime() -> None:
    with pytest.raises(TypeError, match="start_time must be a datetime or None, got float"):
        CreateSpanOptions(start_time=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="start_time must be timezone-aware"):
        CreateSpanOptions(start_time=datetime(2024, 1, 1))
    moment = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert CreateSpanOptions(start_time=moment).start_time is moment


@pytest.mark.parametrize("root", [1, 0, "yes", None])
def test_create_span_options_refuses_a_root_that_is_not_a_bool(root: object) -> None:
    with pytest.raises(TypeError, match=f"root must be a bool, got {type(root).__name__}"):
        CreateSpanOptions(root=root)  # type: ignore[arg-type]
