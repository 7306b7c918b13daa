"""``distributed_trace``: one span per call of a service client's public method."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable
from typing import Any, Callable, Optional, TypeVar, cast, overload

from azure_core_tracing.context import Context
from azure_core_tracing.factory import ContextAndSpan, TracingContextFactory
from azure_core_tracing.failures import call_guarded, report_tracing_failure
from azure_core_tracing.tracing import SpanKind, SpanStatus

F = TypeVar("F", bound=Callable[..., Any])

_CONTEXT = "context"


class _ContextSlot:
    """Where a method takes its ``context`` argument, worked out once at decoration time."""

    __slots__ = ("accepts", "index")

    def __init__(self, func: Callable[..., Any]) -> None:
        self.index: Optional[int] = None
        self.accepts = False
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        params = list(inspect.signature(func).parameters.values())
        for position, param in enumerate(params):
            if param.name == _CONTEXT:
                self.accepts = param.kind != inspect.Parameter.POSITIONAL_ONLY
                if param.kind in positional:
                    self.index = position - 1  # the wrapper receives ``self`` apart
            elif param.kind == inspect.Parameter.VAR_KEYWORD:
                self.accepts = True

    def take(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[Context]:
        """Return the caller's context, wherever it was passed."""
        if _CONTEXT in kwargs:
            return cast(Optional[Context], kwargs[_CONTEXT])
        if self.index is not None and len(args) > self.index:
            return cast(Optional[Context], args[self.index])
        return None

    def put(
        self, context: Context, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        """Pass ``context`` where the caller passed theirs (by keyword if they passed none)."""
        if self.index is not None and len(args) > self.index and _CONTEXT not in kwargs:
            return (*args[: self.index], context, *args[self.index + 1 :])
        if self.accepts:
            kwargs[_CONTEXT] = context
        return args


def _start(
    owner: object, name: str, kind: SpanKind, slot: _ContextSlot, args: Any, kwargs: Any
) -> tuple[Optional[ContextAndSpan], tuple[Any, ...]]:
    """The span for one call and the arguments to call with; no span when tracing is off."""
    factory = getattr(owner, "_tracing_factory", None)
    if not isinstance(factory, TracingContextFactory):
        report_tracing_failure(
            type(owner),
            name,
            AttributeError("the instance has no _tracing_factory (a TracingContextFactory)"),
        )
        return None, args
    if not factory.is_tracing_enabled:
        return None, args  # the method gets the caller's own context, untouched
    scope = factory.create_span(name, slot.take(args, kwargs), kind=kind)
    return scope, slot.put(scope.context, args, kwargs)


def _succeeded(scope: ContextAndSpan) -> None:
    call_guarded(scope.provider, "set_status", scope.span.set_status, SpanStatus.OK)


def _decorate(func: F, name: Optional[str], kind: SpanKind) -> F:
    span_name = name or func.__qualname__
    slot = _ContextSlot(func)

    if inspect.iscoroutinefunction(func):
        coroutine = cast(Callable[..., Awaitable[Any]], func)

        @functools.wraps(func)
        async def traced_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            scope, args = _start(self, span_name, kind, slot, args, kwargs)
            if scope is None:
                return await coroutine(self, *args, **kwargs)
            with scope:
                result = await coroutine(self, *args, **kwargs)
                _succeeded(scope)
                return result

        return cast(F, traced_async)

    @functools.wraps(func)
    def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        scope, args = _start(self, span_name, kind, slot, args, kwargs)
        if scope is None:
            return func(self, *args, **kwargs)
        with scope:
            result = func(self, *args, **kwargs)
            _succeeded(scope)
            return result

    return cast(F, traced)


@overload
def distributed_trace(func: F) -> F: ...


@overload
def distributed_trace(
    *, name: Optional[str] = None, kind: SpanKind = SpanKind.INTERNAL
) -> Callable[[F], F]: ...


def distributed_trace(
    func: Optional[F] = None, *, name: Optional[str] = None, kind: SpanKind = SpanKind.INTERNAL
) -> Any:
    """Trace a service client method through ``self._tracing_factory``, one span per call.

    The span is named ``name`` or the method's ``__qualname__``; the caller's ``context``
    argument is its parent and the method receives the new context in its place.
    """
    if not isinstance(kind, SpanKind):
        raise TypeError(f"kind must be a SpanKind, got {kind!r}")
    if func is not None:
        return _decorate(func, name, kind)
    return lambda f: _decorate(f, name, kind)
