"""``distributed_trace``: one span per call of a service client's public method."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Awaitable, Iterable
from typing import Any, Callable, Optional, Protocol, TypeVar, Union, cast, overload

from azure_core_tracing.checks import check_name, type_name
from azure_core_tracing.context import Context, check_context
from azure_core_tracing.factory import ContextAndSpan, TracingContextFactory, defer_call
from azure_core_tracing.failures import report_tracing_failure
from azure_core_tracing.paging import AsyncItemPaged, ItemPaged, fetch_through
from azure_core_tracing.tracing import NOOP_SPAN, Link, SpanKind, check_links

F = TypeVar("F", bound=Callable[..., Any])
Links = Union[tuple[Link, ...], Callable[..., Any]]

_CONTEXT = "context"
_T = TypeVar("_T")


class _Call(Protocol):
    """A traced call whose span is made when first needed (``factory.defer_call``)."""

    def enter(self, *, eager: bool) -> None: ...

    def exit(self, error: Optional[BaseException], *, paged: bool) -> None: ...

    def fetch(self, fetch: Callable[[], _T]) -> _T: ...

    async def fetch_async(self, fetch: Callable[[], Awaitable[_T]]) -> _T: ...


_OPERATION = "distributed_trace"


class _ContextSlot:
    """Where a method declares its ``context`` parameter, worked out once at decoration time.

    Only a declared ``context`` parameter is the operation's context: a ``**kwargs``
    catch-all is never handed one, and whatever it receives passes through untouched."""

    __slots__ = ("by_keyword", "index")

    def __init__(self, parameters: list[inspect.Parameter]) -> None:
        self.index: Optional[int] = None  # position among the arguments, ``self`` at 0
        self.by_keyword = False
        for position, param in enumerate(parameters[1:], 1):  # the first one is ``self``
            if param.name != _CONTEXT or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
                self.index = position
            self.by_keyword = param.kind != param.POSITIONAL_ONLY

    def take(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[Context]:
        """The caller's context, wherever it was passed; anything but a Context is an error."""
        if self.by_keyword and _CONTEXT in kwargs:
            context = kwargs[_CONTEXT]
        elif self.index is not None and len(args) > self.index:
            context = args[self.index]
        else:
            return None
        return check_context(context, optional=True)

    def put(
        self, context: Context, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        """Pass ``context`` where the caller passed theirs (by keyword if they passed none)."""
        if self.index is not None and len(args) > self.index and _CONTEXT not in kwargs:
            return (*args[: self.index], context, *args[self.index + 1 :])
        if self.by_keyword:
            kwargs[_CONTEXT] = context
        return args


def _owner_class(owner: object) -> type:
    """Whom a warning names: a classmethod's self is its class, not ``type``."""
    return owner if isinstance(owner, type) else type(owner)


def _factory_of(owner: object) -> Optional[TracingContextFactory]:
    try:
        factory = getattr(owner, "_tracing_factory", None)
    except Exception as error:  # a property that raises must not break the call
        report_tracing_failure(_owner_class(owner), _OPERATION, error)
        return None
    if isinstance(factory, TracingContextFactory):
        return factory
    report_tracing_failure(
        _owner_class(owner),
        _OPERATION,
        f"the {'class' if isinstance(owner, type) else 'instance'} has no _tracing_factory "
        "(a TracingContextFactory); its methods run untraced",
    )
    return None


def _links(links: Links, args: tuple[Any, ...], kwargs: Any) -> Optional[tuple[Link, ...]]:
    if not callable(links):
        return links
    try:  # the application's code, run for tracing: it must not break the call either
        return check_links(links(*args, **kwargs))
    except Exception as error:
        report_tracing_failure(
            _owner_class(args[0]), f"{_OPERATION} links", error, "the span goes on without links"
        )
        return None


def _start(
    name: str,
    kind: SpanKind,
    links: Links,
    slot: _ContextSlot,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[Optional[Union[ContextAndSpan, _Call]], tuple[Any, ...]]:
    """The call to trace and the arguments to call with; None when tracing is off.

    A ``_Call`` makes its span when first needed (so a method that returns a pager makes
    none); a ``ContextAndSpan`` is a nested call's. ``args`` are all the positional
    arguments, ``self`` first. A call without them (a ``@staticmethod`` over the decorator,
    or ``self`` passed by keyword) has no client to trace through and runs untraced, exactly
    as the method would."""
    parent = slot.take(args, kwargs)
    factory = _factory_of(args[0]) if args else None
    if factory is None or not factory.is_tracing_enabled:
        return None, args  # the method gets the caller's own arguments, untouched
    context = Context() if parent is None else parent
    checked = _links(links, args, kwargs)
    placed = defer_call(factory, name, context, kind, () if checked is None else checked)
    if isinstance(placed, ContextAndSpan):
        if placed.span is NOOP_SPAN:
            return None, args
        return placed, slot.put(placed.context, args, kwargs)
    context, call = placed
    return call, slot.put(context, args, kwargs)


# Whether each type a traced method returned is a pager (a dict lookup on every call, not two
# ABC isinstance checks; bounded, as classes can be made).
_PAGERS: dict[type, bool] = {}


def _pages(call: _Call, result: object) -> bool:
    """Whether ``result`` is a pager; if so, its page fetches are ``call``'s from now on."""
    returned = type(result)
    pager = _PAGERS.get(returned)
    if pager is None:
        mro = returned.__mro__  # a real subclass: one registered with the ABC fetches no pages
        pager = ItemPaged in mro or AsyncItemPaged in mro
        if len(_PAGERS) < 256:
            _PAGERS[returned] = pager
    if pager:
        fetch_through(cast(Union[ItemPaged[Any], AsyncItemPaged[Any]], result), call)
    return pager


_REFUSE = "distributed_trace decorates methods (a def or async def that takes self first)"
_LRU_CACHE_WRAPPER = type(functools.lru_cache(maxsize=None)(lambda: None))
_BUILTINS = (
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.MethodWrapperType,
    types.ClassMethodDescriptorType,
)
# The kinds that are no def, with what to do instead. A traced method finds its client through
# ``self``, and the decorator's wrapper binds to ``self`` as a def does: a kind that binds
# otherwise, or not at all, would change the call.
_KINDS: tuple[tuple[Union[type, tuple[type, ...]], str, str], ...] = (
    (
        staticmethod,
        "a staticmethod",
        "it has no self to find the client's _tracing_factory through; make it a method, "
        "or trace the methods that call it",
    ),
    (classmethod, "a classmethod", "put @classmethod above @distributed_trace"),
    (property, "a property", "put @property above @distributed_trace to trace the getter"),
    (
        functools.cached_property,
        "a functools.cached_property",
        "put @functools.cached_property above @distributed_trace",
    ),
    (
        functools.singledispatchmethod,
        "a functools.singledispatchmethod",
        "put @functools.singledispatchmethod above @distributed_trace",
    ),
    (
        functools.partialmethod,
        "a functools.partialmethod",
        "make the partialmethod of the traced method: partialmethod(distributed_trace(f), ...)",
    ),
    (
        _LRU_CACHE_WRAPPER,
        "a functools.lru_cache or functools.cache function",
        "put the cache above @distributed_trace, so it keys on the caller's arguments, not on "
        "the new context, and only the calls that run are traced",
    ),
    (
        functools.partial,
        "a functools.partial",
        "it has no self; trace the function it wraps, and fix a method's arguments with "
        "functools.partialmethod over the traced method",
    ),
    (
        types.MethodType,
        "a bound method",
        "it is bound to its self already; decorate the function in its class",
    ),
    (type, "a class", "decorate its methods"),
    (_BUILTINS, "a builtin", "trace a def method that calls it"),
)


def _check_kind(func: object) -> None:
    """Refuse, when decorating, every kind but a def or async def, saying what to do."""
    if inspect.isfunction(func):
        return
    for kinds, what, instead in _KINDS:
        if isinstance(func, kinds):
            raise TypeError(f"{_REFUSE}, got {what}: {instead}")
    if callable(func):
        raise TypeError(
            f"{_REFUSE}, got a {type_name(func)} instance: it has no self of its own; "
            "decorate its class's __call__ method, or a def that calls it"
        )
    raise TypeError(f"{_REFUSE}, got {type_name(func)}")


def _innermost(func: Callable[..., Any]) -> Callable[..., Any]:
    """The function under ``func``'s functools.wraps-based decorators."""
    try:
        return cast(Callable[..., Any], inspect.unwrap(func))
    except ValueError:  # a __wrapped__ cycle: only ``func`` itself can be read
        return func


def _check_runs_while_traced(func: Callable[..., Any]) -> None:
    """Refuse a function whose work would run after its span ended."""
    if inspect.iscoroutinefunction(func):
        return  # the wrapper awaits it: whatever it returns is done when the span ends
    inner = _innermost(func)
    if inspect.isgeneratorfunction(inner) or inspect.isasyncgenfunction(inner):
        raise TypeError(
            f"distributed_trace cannot trace the generator {func.__qualname__}: its span would "
            "end before the first item; trace the method that consumes it instead, or use "
            "TracingContextFactory.create_span where it is consumed"
        )
    if inspect.iscoroutinefunction(inner):
        raise TypeError(
            f"distributed_trace cannot trace {func.__qualname__}: a decorator under it is no "
            "async def, so it returns the coroutine unawaited and the span would end before "
            "the method runs; put @distributed_trace right above the async def, or make that "
            "decorator's wrapper async def"
        )


def _parameters(func: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        parameters = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # no signature to read: nothing to check
        return []
    if not parameters or parameters[0].kind not in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    ):
        raise TypeError(
            f"distributed_trace decorates methods: {func.__qualname__} must take self first "
            "(the client whose _tracing_factory traces the call)"
        )
    return parameters


def _decorate(func: F, name: Optional[str], kind: SpanKind, links: Links) -> F:
    _check_kind(func)
    _check_runs_while_traced(func)
    span_name = name or func.__qualname__
    slot = _ContextSlot(_parameters(func))

    # Both wrappers take ``self`` in ``*args``, so that a call without it (a @staticmethod
    # over the decorator) fails or succeeds exactly as the method itself would.
    if inspect.iscoroutinefunction(func):
        coroutine = cast(Callable[..., Awaitable[Any]], func)

        @functools.wraps(func)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            call, args = _start(span_name, kind, links, slot, args, kwargs)
            if call is None:
                return await coroutine(*args, **kwargs)
            if isinstance(call, ContextAndSpan):  # a nested call's
                with call:
                    return await coroutine(*args, **kwargs)
            # An async def's span is made and current from its start, as it always was.
            call.enter(eager=True)
            try:
                result = await coroutine(*args, **kwargs)
            except BaseException as error:
                call.exit(error, paged=False)
                raise
            paged = _PAGERS.get(type(result)) is not False and _pages(call, result)
            call.exit(None, paged=paged)
            return result

        return cast(F, traced_async)

    @functools.wraps(func)
    def traced(*args: Any, **kwargs: Any) -> Any:
        call, args = _start(span_name, kind, links, slot, args, kwargs)
        if call is None:
            return func(*args, **kwargs)
        if isinstance(call, ContextAndSpan):  # a nested call's
            with call:
                return func(*args, **kwargs)
        call.enter(eager=False)
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            call.exit(error, paged=False)
            raise
        # A type known to be no pager is answered here: every traced call asks.
        paged = _PAGERS.get(type(result)) is not False and _pages(call, result)
        call.exit(None, paged=paged)
        return result

    return cast(F, traced)


@overload
def distributed_trace(func: F) -> F: ...


@overload
def distributed_trace(
    *,
    name: Optional[str] = None,
    kind: SpanKind = SpanKind.INTERNAL,
    links: Optional[Union[Iterable[Optional[Link]], Callable[..., Any]]] = None,
) -> Callable[[F], F]: ...


def distributed_trace(
    func: Optional[F] = None,
    *,
    name: Optional[str] = None,
    kind: SpanKind = SpanKind.INTERNAL,
    links: Optional[Union[Iterable[Optional[Link]], Callable[..., Any]]] = None,
) -> Any:
    """Trace a service client method through ``self._tracing_factory``, one span per call.

    The span is named ``name`` or the method's ``__qualname__``; the caller's ``context``
    argument is its parent and the method receives the new context in its place. ``links``
    are ``Link`` values, or a function called with the method's arguments (``self``
    first) that returns them, such as the link to the trace a message argument carries.
    """
    if name is not None:
        check_name(name, "name")
    if not isinstance(kind, SpanKind):
        raise TypeError(f"kind must be a SpanKind, got {kind!r}")
    checked: Links = links if callable(links) else check_links(links)
    if func is not None:
        return _decorate(func, name, kind, checked)
    return lambda f: _decorate(f, name, kind, checked)
