"""The transport boundary: ``HttpTransport`` and ``AsyncHttpTransport``, the errors they raise,
the policy that calls them, and what every transport shares (deadline-bounded timeouts, and
failures translated into errors that hold no secret)."""

from __future__ import annotations

import os
import socket
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from typing import Literal, Optional, Union

from azure_core_tracing.checks import type_name
from azure_core_tracing.context import Context, OperationCancelledError
from azure_core_tracing.http.messages import RawResponse, Request
from azure_core_tracing.http.policy import AsyncNextPolicy, NextPolicy, PipelinePolicy
from azure_core_tracing.http.sanitizer import HttpSanitizer

# A body is read this much at a time when it is streamed.
STREAM_CHUNK_SIZE = 64 * 1024
_MAX_CAUSES = 16  # how deep the search for the operating system's reason goes
_SUBCLASSES: dict[type[BaseException], Optional[type[BaseException]]] = {}

FailureKind = Literal["timeout", "connection", "other"]


class TransportError(Exception):
    """Sending a request failed below HTTP; ``__cause__`` is a redacted copy of the original."""


class TransportConnectionError(TransportError, ConnectionError):
    """The connection could not be made or was lost."""


class TransportTimeoutError(TransportError, TimeoutError):
    """Connecting or reading took longer than the timeout (or the context's deadline)."""


class RedactedError(Exception):
    """Stands in for a transport failure whose type cannot carry a redacted message."""


class HttpTransport(ABC):
    """Moves bytes for ``HttpPipeline``: the one method between what to send and how."""

    @abstractmethod
    def send(self, request: Request, context: Context) -> RawResponse:
        """Send ``request`` and return the response, raising ``TransportError`` on failure.

        The context's deadline bounds the time spent."""

    def close(self) -> None:
        """Release pooled connections; the default has none."""
        return


class AsyncHttpTransport(ABC):
    """Moves bytes for ``AsyncHttpPipeline``: the one method between what to send and how."""

    @abstractmethod
    async def send(self, request: Request, context: Context) -> RawResponse:
        """Send ``request`` and return the response, raising ``TransportError`` on failure.

        The context's deadline bounds the time spent."""

    async def close(self) -> None:
        """Release pooled connections; the default has none."""
        return


class TransportPolicy(PipelinePolicy):
    """The last policy: hands the request to the transport, sync or async as the pipeline."""

    def __init__(self, transport: Union[HttpTransport, AsyncHttpTransport]) -> None:
        if not isinstance(transport, (HttpTransport, AsyncHttpTransport)):
            raise TypeError(
                "transport must be an HttpTransport or AsyncHttpTransport, "
                f"got {type_name(transport)}"
            )
        self.transport = transport

    def chain(self, next_policy: NextPolicy) -> NextPolicy:
        if not isinstance(self.transport, HttpTransport):
            raise _wrong_kind(self.transport, "HttpPipeline")
        return _TransportLink(self.transport)

    def chain_async(self, next_policy: AsyncNextPolicy) -> AsyncNextPolicy:
        if not isinstance(self.transport, AsyncHttpTransport):
            raise _wrong_kind(self.transport, "AsyncHttpPipeline")
        return _AsyncTransportLink(self.transport)


def _wrong_kind(transport: object, pipeline: str) -> TypeError:
    expected = "AsyncHttpTransport" if pipeline.startswith("Async") else "HttpTransport"
    return TypeError(
        f"transport must be an {expected} for an {pipeline}, got {type_name(transport)}"
    )


def _checked(transport: object, response: object) -> RawResponse:
    if not isinstance(response, RawResponse):
        raise TypeError(
            f"{type_name(transport)}.send must return a RawResponse, got {type_name(response)}"
        )
    return response


class _TransportLink(NextPolicy):
    __slots__ = ("_transport",)

    def __init__(self, transport: HttpTransport) -> None:
        self._transport = transport

    def send(self, request: Request, context: Context) -> RawResponse:
        return _checked(self._transport, self._transport.send(request, context))


class _AsyncTransportLink(AsyncNextPolicy):
    __slots__ = ("_transport",)

    def __init__(self, transport: AsyncHttpTransport) -> None:
        self._transport = transport

    async def send(self, request: Request, context: Context) -> RawResponse:
        return _checked(self._transport, await self._transport.send(request, context))


def transport_timeouts(context: Context, connect: float, read: float) -> tuple[float, float]:
    """The connect and read timeouts for one try, shortened to what is left of the deadline.

    Raises ``OperationCancelledError`` if the context is cancelled or its deadline passed."""
    context.throw_if_cancelled()
    deadline = context.deadline
    if deadline is None:
        return (connect, read)
    remaining = (deadline - datetime.now(timezone.utc)).total_seconds()
    if remaining <= 0:
        raise OperationCancelledError("the context's deadline passed before the request was sent")
    return (min(connect, remaining), min(read, remaining))


def transport_failure(
    request: Request, error: BaseException, kind: FailureKind, sanitizer: HttpSanitizer
) -> tuple[TransportError, BaseException]:
    """The library's own error for a transport's failure, and a redacted stand-in for the
    original to raise it ``from``: neither holds a secret of the URL. ``sanitizer`` is the
    calling client's (``HttpSanitizer.from_context``), so the error shows what its spans and
    log lines show.

    A transport raises them outside its ``except`` block, so the original is not kept as
    ``__context__`` either: ``raise failure from cause``."""
    where = f"{request.method} {sanitizer.sanitize_url(request.url)}"
    reason = _os_reason(error)
    detail = f"{type(error).__name__}{': ' + reason if reason else ''}"
    failure: TransportError
    if kind == "timeout":
        failure = TransportTimeoutError(f"{where}: timed out ({detail})")
    elif kind == "connection":
        failure = TransportConnectionError(f"{where}: connection failed ({detail})")
    else:
        failure = TransportError(f"{where}: request failed ({detail})")
    cause = _redacted_copy(
        error, f"{where}: {reason or 'failed'} (the original message can repeat the raw URL)"
    )
    return failure, cause


def _os_reason(error: BaseException) -> str:
    """The operating system's reason deep in the chain (``[Errno 111] Connection refused``).

    Only its number and text: the fixed strings of the OS, never a message with a URL."""
    seen: set[int] = set()
    pending: list[object] = [error]
    while pending and len(seen) < _MAX_CAUSES:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and isinstance(current.errno, int):
            # The system's own text for the number (asyncio's adds the address); a resolver
            # error's numbers are not errno's, so its own fixed text is kept.
            resolver = isinstance(current, socket.gaierror) or current.errno < 0
            text = current.strerror if resolver and isinstance(current.strerror, str) else None
            return f"[Errno {current.errno}] {text or os.strerror(current.errno)}"
        pending.extend((current.__cause__, current.__context__, getattr(current, "reason", None)))
        pending.extend(current.args)
    return ""


def _with_message(cls: type[BaseException], message: str) -> Optional[BaseException]:
    """An instance of ``cls`` whose ``str`` is ``message``, made without its ``__init__``."""
    try:
        copy = cls.__new__(cls)
        copy.args = (message,)
        return copy if str(copy) == message and message in repr(copy) else None
    except Exception:
        return None


def _message_subclass(cls: type[BaseException]) -> Optional[type[BaseException]]:
    """``cls`` with ``str`` showing its first argument: for a type that formats its own
    message from fields a redacted copy does not have (aiohttp's connection errors)."""
    subclass = _SUBCLASSES.get(cls)
    if subclass is None and cls not in _SUBCLASSES:
        try:
            subclass = type(
                cls.__name__,
                (cls,),
                {
                    "__str__": _first_argument,
                    "__repr__": _repr_with_message,
                    "__module__": cls.__module__,
                    "__slots__": (),
                },
            )
        except Exception:  # a final class, or a metaclass that refuses
            subclass = None
        _SUBCLASSES[cls] = subclass
    return subclass


def _first_argument(self: BaseException) -> str:
    return str(self.args[0]) if self.args else ""


def _repr_with_message(self: BaseException) -> str:
    return f"{type(self).__name__}({_first_argument(self)!r})"


def _redacted_copy(error: BaseException, message: str) -> BaseException:
    """An exception of ``error``'s type holding only ``message``, with no chain behind it."""
    cls = type(error)
    copy = _with_message(cls, message)
    if copy is None:
        subclass = _message_subclass(cls)
        copy = _with_message(subclass, message) if subclass is not None else None
    if copy is None:
        copy = RedactedError(f"{cls.__module__}.{cls.__qualname__}: {message}")
    for attribute in ("request", "response"):  # requests' exceptions carry both
        if hasattr(error, attribute):
            setattr(copy, attribute, None)
    copy.__traceback__ = error.__traceback__
    return copy
