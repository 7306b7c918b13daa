"""The immutable ``Context`` chain: values, deadlines and cancellation for one operation."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime, timezone
from typing import Any, ClassVar, Optional

from azure_core_tracing.tracing import TracerProvider, check_tracer_provider

_NO_KEY = object()


class OperationCancelledError(Exception):
    """The operation's context was cancelled or its deadline passed."""


class Context:
    """An immutable node in a chain of contexts; ``with_*`` methods return a new child.

    Cancellation is the one thing that changes: ``cancel()`` marks this node, and every
    context derived from it sees that, while its parent does not.
    """

    __slots__ = ("_cancelled", "_deadline", "_key", "_parent", "_value")

    application_context: ClassVar[Context]
    """The process-wide root context; it holds the application's tracer provider."""

    def __init__(self) -> None:
        self._parent: Optional[Context] = None
        self._key: object = _NO_KEY
        self._value: Any = None
        self._deadline: Optional[datetime] = None
        self._cancelled = False

    def _child(self, key: object, value: Any, deadline: Optional[datetime]) -> Context:
        child = Context.__new__(Context)
        child._parent = self
        child._key = key
        child._value = value
        child._deadline = deadline
        child._cancelled = False
        return child

    def with_value(self, key: Hashable, value: Any) -> Context:
        """Return a child context in which ``key`` maps to ``value``."""
        if key is None:
            raise ValueError("key must not be None")
        return self._child(key, value, self._deadline)

    def get_value(self, key: Hashable, default: Any = None) -> Any:
        """Return the value nearest to this node for ``key``, or ``default``."""
        node: Optional[Context] = self
        while node is not None:
            node_key = node._key
            if node_key is key or (node_key is not _NO_KEY and node_key == key):
                return node._value
            node = node._parent
        return default

    def with_deadline(self, deadline: datetime) -> Context:
        """Return a child context that is cancelled once ``deadline`` (timezone-aware) passes."""
        if not isinstance(deadline, datetime):
            raise TypeError(f"deadline must be a datetime, got {type(deadline).__name__}")
        if deadline.tzinfo is None or deadline.utcoffset() is None:
            raise ValueError(
                "deadline must be timezone-aware (for example datetime.now(timezone.utc))"
            )
        earliest = deadline if self._deadline is None else min(deadline, self._deadline)
        return self._child(_NO_KEY, None, earliest)

    @property
    def deadline(self) -> Optional[datetime]:
        """The earliest deadline on the chain, or None."""
        return self._deadline

    def cancel(self) -> None:
        """Cancel this context and every context derived from it, never its parent."""
        self._cancelled = True

    def is_cancelled(self) -> bool:
        """Whether this context or an ancestor was cancelled, or the deadline has passed."""
        if self._deadline is not None and self._deadline <= datetime.now(timezone.utc):
            return True
        node: Optional[Context] = self
        while node is not None:
            if node._cancelled:
                return True
            node = node._parent
        return False

    def throw_if_cancelled(self) -> None:
        """Raise ``OperationCancelledError`` if ``is_cancelled()``."""
        if self.is_cancelled():
            raise OperationCancelledError(
                "the operation's context was cancelled or its deadline passed"
            )

    def set_tracer_provider(self, provider: Optional[TracerProvider]) -> None:
        """Set the application-wide tracer provider (None clears it); application context only."""
        raise TypeError(
            "set_tracer_provider is only available on the application context: "
            "use Context.application_context.set_tracer_provider(provider)"
        )

    def get_tracer_provider(self) -> Optional[TracerProvider]:
        """Return the application-wide tracer provider, or None."""
        return Context.application_context.get_tracer_provider()


class _ApplicationContext(Context):
    __slots__ = ("_lock", "_provider")

    def __init__(self) -> None:
        super().__init__()
        self._provider: Optional[TracerProvider] = None
        self._lock = threading.Lock()

    def set_tracer_provider(self, provider: Optional[TracerProvider]) -> None:
        check_tracer_provider(provider, "provider")
        with self._lock:
            self._provider = provider

    def get_tracer_provider(self) -> Optional[TracerProvider]:
        return self._provider


Context.application_context = _ApplicationContext()


def check_context(context: object, *, optional: bool = False) -> Optional[Context]:
    """Return ``context`` if it is a ``Context`` (or None, when ``optional``); else
    ``TypeError`` naming it."""
    if isinstance(context, Context) or (optional and context is None):
        return context
    allowed = (
        "an azure_core_tracing.Context or None" if optional else "an azure_core_tracing.Context"
    )
    raise TypeError(f"context must be {allowed}, got {type(context).__name__}")
