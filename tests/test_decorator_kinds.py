"""``@distributed_trace`` on every kind of callable, in both stacking orders.

A traced method finds its client through ``self``. Under the decorator, a def or async def
that takes ``self`` is traced and keeps its binding and signature; every other kind is refused
when decorating, with a ``TypeError`` that says what to do. Over the decorator, where it
cannot see the kind, the call returns or raises exactly what it would untraced, and is traced
wherever the client's factory can be found through ``self`` (or a classmethod's class).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, Callable, Optional

import pytest

from azure_core_tracing import Context, TracerProvider, TracingContextFactory, distributed_trace
from tests.recording import RecordingTracerProvider
from tests.support import options_for, wrong

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _untraced(func: Callable[..., Any]) -> Callable[..., Any]:
    return func


def _logged(func: Callable[..., Any]) -> Callable[..., Any]:
    """A sync functools.wraps-based decorator, as SDKs write them."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def _logged_async(func: Callable[..., Any]) -> Callable[..., Any]:
    """An async functools.wraps-based decorator."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await func(*args, **kwargs)

    return wrapper


def _widgets(trace: Decorator, provider: Optional[TracerProvider] = None) -> Any:
    """One class holding every kind, each built with ``trace`` (the decorator, or nothing)."""

    class Widgets:
        # A class attribute: instances find it through self, classmethods through cls.
        _tracing_factory = TracingContextFactory(options_for(provider), "Svc", "1.0")

        def __init__(self) -> None:
            self.seen: list[Optional[Context]] = []
            self.runs: list[object] = []

        # Under the decorator.
        @trace
        def get(self, name: str, *, context: Optional[Context] = None) -> str:
            """Get a widget."""
            self.seen.append(context)
            return name.upper()

        @trace
        async def get_async(self, name: str, *, context: Optional[Context] = None) -> str:
            self.seen.append(context)
            await asyncio.sleep(0)
            return name.lower()

        @trace
        def positional(self, context: Optional[Context] = None, /, n: int = 1) -> int:
            self.seen.append(context)
            return n

        add_one = trace(lambda self, n: n + 1)

        @trace
        @_logged
        def logged(self, n: int, *, context: Optional[Context] = None) -> int:
            self.seen.append(context)
            return n * 3

        @trace
        @_logged_async
        async def logged_async(self, n: int, *, context: Optional[Context] = None) -> int:
            self.seen.append(context)
            return n * 4

        @trace
        @trace
        def twice(self, n: int, *, context: Optional[Context] = None) -> int:
            self.seen.append(context)
            return -n

        @trace
        def fail(self, *, context: Optional[Context] = None) -> None:
            raise LookupError("the method's own error")

        # Over the decorator.
        @_logged
        @trace
        def outer_logged(self, n: int, *, context: Optional[Context] = None) -> int:
            self.seen.append(context)
            return n + 10

        @_logged_async
        @trace
        async def outer_logged_async(self, n: int, *, context: Optional[Context] = None) -> int:
            self.seen.append(context)
            return n + 20

        @classmethod
        @trace
        def create(cls, name: str, *, context: Optional[Context] = None) -> str:
            return f"{cls.__name__}:{name}"

        @property
        @trace
        def size(self) -> int:
            self.runs.append("size")
            return 3

        @functools.cached_property
        @trace
        def settings(self) -> dict[str, int]:
            self.runs.append("settings")
            return {"retries": 3}

        # The cache holds its instances alive: a class and its instances last one test.
        @functools.cache  # noqa: B019
        @trace
        def cached(self, n: int, *, context: Optional[Context] = None) -> int:
            self.runs.append(n)
            self.seen.append(context)
            return n * n

        @functools.singledispatchmethod
        @trace
        def describe(self, value: object) -> str:
            return "object"

        @describe.register
        @trace
        def _(self, value: int) -> str:
            return "int"

        @trace
        def scale(self, factor: int, n: int, *, context: Optional[Context] = None) -> int:
            self.seen.append(context)
            return factor * n

        double = functools.partialmethod(scale, 2)

        @staticmethod
        @trace
        def static(n: int = 0, context: Optional[Context] = None) -> tuple[int, bool]:
            return n, context is None

        @staticmethod
        @trace
        def static_context_first(context: Optional[Context] = None, n: int = 0) -> int:
            return n

        @staticmethod
        @trace
        def static_required(n: int, m: int) -> int:
            return n + m

    return Widgets


# Each call, and the spans it makes traced. A nested traced call makes no span of its own.
CALLS: list[tuple[str, Callable[[Any, Any], object], list[str]]] = [
    ("a method", lambda w, cls: w.get("a"), ["get"]),
    ("a method called through the class", lambda w, cls: cls.get(w, "b"), ["get"]),
    ("a bound method passed on", lambda w, cls: list(map(w.get, ["c", "d"])), ["get", "get"]),
    ("an async def method", lambda w, cls: asyncio.run(w.get_async("E")), ["get_async"]),
    ("a positional-only context", lambda w, cls: w.positional(None, n=5), ["positional"]),
    ("a lambda", lambda w, cls: w.add_one(1), ["<lambda>"]),
    ("over a wraps-based decorator", lambda w, cls: w.logged(2), ["logged"]),
    ("over an async one", lambda w, cls: asyncio.run(w.logged_async(2)), ["logged_async"]),
    ("over itself", lambda w, cls: w.twice(2), ["twice"]),
    ("under a wraps-based decorator", lambda w, cls: w.outer_logged(1), ["outer_logged"]),
    (
        "under an async one",
        lambda w, cls: asyncio.run(w.outer_logged_async(1)),
        ["outer_logged_async"],
    ),
    ("a classmethod over it, by class", lambda w, cls: cls.create("x"), ["create"]),
    ("a classmethod over it, by instance", lambda w, cls: w.create("y"), ["create"]),
    ("a property over it", lambda w, cls: (w.size, w.size, w.runs), ["size", "size"]),
    ("a cached_property over it", lambda w, cls: (w.settings, w.settings, w.runs), ["settings"]),
    (
        "an lru_cache over it",
        lambda w, cls: (w.cached(2), w.cached(2), w.cached(n=3), w.runs),
        ["cached", "cached"],
    ),
    (
        "a singledispatchmethod over it",
        lambda w, cls: (w.describe("s"), w.describe(1)),
        ["describe", "_"],
    ),
    ("a partialmethod over it", lambda w, cls: w.double(4), ["scale"]),
    (
        "a partial over it, self given",
        lambda w, cls: functools.partial(cls.scale, w, 3)(2),
        ["scale"],
    ),
    ("a staticmethod over it", lambda w, cls: (cls.static(1), w.static(2)), []),
    (
        "a staticmethod over it, by keyword or with no arguments",
        lambda w, cls: (cls.static(n=1), cls.static()),
        [],
    ),
    (
        "a staticmethod over it, with a context first",
        lambda w, cls: (cls.static_context_first(Context(), 1), cls.static_context_first(n=2)),
        [],
    ),
]

# The same calls where the method raises: traced, it raises exactly the same.
RAISING: list[tuple[str, Callable[[Any, Any], object]]] = [
    ("the method's own error", lambda w, cls: w.fail()),
    ("no self through the class", lambda w, cls: cls.get(name="a")),
    ("a staticmethod over it, an argument missing", lambda w, cls: cls.static_required(1)),
    ("a staticmethod over it, none given", lambda w, cls: cls.static_required()),
    (
        "a staticmethod over it, a keyword too many",
        lambda w, cls: cls.static_required(n=1, m=2, k=3),
    ),
    ("a partial over it, self no client", lambda w, cls: functools.partial(cls.scale, None, 3)(2)),
]


def _outcome(call: Callable[[], object]) -> tuple[str, object]:
    try:
        return "returned", call()
    except Exception as error:
        return "raised", (type(error), error.args)


@pytest.mark.parametrize(("label", "call", "spans"), CALLS, ids=[c[0] for c in CALLS])
def test_every_kind_returns_what_it_returns_untraced_and_makes_its_spans(
    label: str,
    call: Callable[[Any, Any], object],
    spans: list[str],
    recorder: RecordingTracerProvider,
) -> None:
    untraced_class = _widgets(_untraced)
    traced_class = _widgets(distributed_trace, recorder)
    untraced, traced = untraced_class(), traced_class()
    assert _outcome(lambda: call(traced, traced_class)) == _outcome(
        lambda: call(untraced, untraced_class)
    )
    assert [span.name.rsplit(".", 1)[-1] for span in recorder.finished] == spans
    # Where a method declares ``context``, traced it receives the new one, untraced None.
    assert len(traced.seen) == len(untraced.seen)
    assert all(context is not None for context in traced.seen)
    assert all(context is None for context in untraced.seen)


@pytest.mark.parametrize(("label", "call"), RAISING, ids=[c[0] for c in RAISING])
def test_every_kind_raises_what_it_raises_untraced(
    label: str, call: Callable[[Any, Any], object], recorder: RecordingTracerProvider
) -> None:
    untraced = _widgets(_untraced)
    traced = _widgets(distributed_trace, recorder)
    expected = _outcome(lambda: call(untraced(), untraced))
    assert expected[0] == "raised"
    assert _outcome(lambda: call(traced(), traced)) == expected


# Every attribute is read through the class and through an instance, traced and untraced.
ACCEPTED = [
    "get",
    "get_async",
    "positional",
    "add_one",
    "logged",
    "logged_async",
    "twice",
    "outer_logged",
    "outer_logged_async",
    "create",
    "scale",
    "static",
    "static_context_first",
    "static_required",
]


@pytest.mark.parametrize("attribute", ACCEPTED)
def test_every_accepted_kind_keeps_its_binding_signature_and_names(attribute: str) -> None:
    untraced_class = _widgets(_untraced)
    traced_class = _widgets(distributed_trace)
    for untraced, traced in (
        (getattr(untraced_class, attribute), getattr(traced_class, attribute)),
        (getattr(untraced_class(), attribute), getattr(traced_class(), attribute)),
    ):
        assert type(traced) is type(untraced)  # a method binds, a staticmethod does not
        assert inspect.signature(traced) == inspect.signature(untraced)
        assert traced.__name__ == untraced.__name__
        assert traced.__qualname__ == untraced.__qualname__
        assert traced.__doc__ == untraced.__doc__
        assert inspect.iscoroutinefunction(traced) == inspect.iscoroutinefunction(untraced)
        assert inspect.iscoroutinefunction(traced) == attribute.endswith("_async")
        assert inspect.unwrap(traced).__code__ is inspect.unwrap(untraced).__code__


def test_a_classmethod_over_the_decorator_without_a_class_factory_runs_untraced_naming_the_class(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Instances:
        def __init__(self, provider: TracerProvider) -> None:
            self._tracing_factory = TracingContextFactory(options_for(provider), "Svc", "1.0")

        @classmethod
        @distributed_trace
        def create(cls, *, context: Optional[Context] = None) -> Optional[Context]:
            return context

    recorder = RecordingTracerProvider()
    mine = Context()
    with caplog.at_level(logging.WARNING, logger="azure_core_tracing"):
        assert Instances.create(context=mine) is mine
        assert Instances(recorder).create() is None
    assert recorder.finished == []
    (warning,) = [r.getMessage() for r in caplog.records if "_tracing_factory" in r.getMessage()]
    assert "Instances" in warning
    assert "the class has no _tracing_factory" in warning


def _method(self: object, n: int) -> int:
    return n


def _getter(self: object) -> int:
    return 1


def _generator(self: object) -> Iterator[int]:
    yield 1


async def _async_generator(self: object) -> AsyncIterator[int]:
    yield 1


async def _coroutine(self: object) -> int:
    return 1


class _CallableInstance:
    def __call__(self, n: int) -> int:
        return n


class _Plain:
    def method(self, n: int) -> int:
        return n


# What is refused when decorating, what the message names, and what it says to do.
REFUSED: list[tuple[str, Callable[[], object], str, str]] = [
    ("a staticmethod", lambda: staticmethod(_method), "staticmethod", "make it a method"),
    ("a classmethod", lambda: classmethod(_method), "classmethod", "@classmethod above"),
    ("a property", lambda: property(_getter), "property", "@property above"),
    (
        "a cached_property",
        lambda: functools.cached_property(_getter),
        "cached_property",
        "@functools.cached_property above",
    ),
    (
        "a singledispatchmethod",
        lambda: functools.singledispatchmethod(_method),
        "singledispatchmethod",
        "@functools.singledispatchmethod above",
    ),
    (
        "a partialmethod",
        lambda: functools.partialmethod(_method, 1),
        "partialmethod",
        "partialmethod(distributed_trace(f)",
    ),
    ("an lru_cache", lambda: functools.lru_cache(maxsize=8)(_method), "lru_cache", "cache above"),
    ("a cache", lambda: functools.cache(_method), "cache", "cache above"),
    ("a partial", lambda: functools.partial(_method, None), "partial", "partialmethod"),
    ("a bound method", lambda: _Plain().method, "bound method", "in its class"),
    ("a class", lambda: _Plain, "class", "decorate its methods"),
    ("a callable instance", _CallableInstance, "_CallableInstance", "__call__"),
    ("a builtin", lambda: len, "builtin", "a def method that calls it"),
    ("a builtin method", lambda: [].append, "builtin", "a def method that calls it"),
    ("a C method", lambda: str.upper, "builtin", "a def method that calls it"),
    ("a C slot", lambda: object.__repr__, "builtin", "a def method that calls it"),
    ("a C classmethod", lambda: dict.__dict__["fromkeys"], "builtin", "a def method that calls it"),
    ("a lambda without self", lambda: lambda: None, "<lambda> must take self", "self first"),
    ("a generator", lambda: _generator, "generator", "consumes it"),
    ("an async generator", lambda: _async_generator, "generator", "consumes it"),
    ("a generator under a decorator", lambda: _logged(_generator), "generator", "consumes it"),
    (
        "an async def under a sync decorator",
        lambda: _logged(_coroutine),
        "returns the coroutine unawaited",
        "right above the async def",
    ),
]


@pytest.mark.parametrize(
    ("label", "target", "names", "instead"), REFUSED, ids=[c[0] for c in REFUSED]
)
def test_every_other_kind_is_refused_when_decorating_saying_what_to_do(
    label: str, target: Callable[[], object], names: str, instead: str
) -> None:
    with pytest.raises(TypeError) as caught:
        distributed_trace(wrong(target()))
    assert type(caught.value) is TypeError
    assert names in str(caught.value)
    assert instead in str(caught.value)
