"""Transport failures as the library's own errors, holding no secret: the message names the
method and the sanitized URL, and the cause is a copy of the original error's type with a
redacted message and no chain (its original message can repeat the raw URL)."""

from __future__ import annotations

import os
import socket
from typing import Literal, Optional

from azure_core_tracing.exceptions import (
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure_core_tracing.http.request import Request
from azure_core_tracing.http.sanitizer import HttpSanitizer

_MAX_CAUSES = 16  # how deep the search for the operating system's reason goes
_SUBCLASSES: dict[type[BaseException], Optional[type[BaseException]]] = {}

# Where the try failed: before the request reached the service, or after it was (or may have
# been) sent. A transport that cannot tell says "response": never claim a request unsent.
FailureKind = Literal["request", "request_timeout", "response", "response_timeout"]
_ERRORS: dict[str, tuple[type[ServiceRequestError | ServiceResponseError], str]] = {
    "request": (ServiceRequestError, "connection failed"),
    "request_timeout": (ServiceRequestTimeoutError, "connecting timed out"),
    "response": (ServiceResponseError, "reading the response failed"),
    "response_timeout": (ServiceResponseTimeoutError, "reading the response timed out"),
}


class RedactedError(Exception):
    """Stands in for a transport failure whose type cannot carry a redacted message."""


def transport_failure(
    request: Request, error: BaseException, kind: FailureKind, sanitizer: HttpSanitizer
) -> tuple[ServiceRequestError | ServiceResponseError, BaseException]:
    """The library's own error for a transport's failure, and a redacted stand-in for the
    original to raise it ``from``: neither holds a secret of the URL. ``sanitizer`` is the
    calling client's (``HttpSanitizer.from_context``), so the error shows what its spans and
    log lines show.

    ``kind`` picks ``ServiceRequestError``, ``ServiceResponseError`` or their timeouts.
    A transport raises them outside its ``except`` block, so the original is not kept as
    ``__context__`` either: ``raise failure from cause``."""
    where = f"{request.method} {sanitizer.sanitize_url(request.url)}"
    reason = _os_reason(error)
    detail = f"{type(error).__name__}{': ' + reason if reason else ''}"
    cause = _redacted_copy(
        error, f"{where}: {reason or 'failed'} (the original message can repeat the raw URL)"
    )
    kind_of_error, what = _ERRORS[kind]
    # inner_exception is the redacted copy too: the original can hold the raw URL.
    return kind_of_error(f"{where}: {what} ({detail})", error=cause), cause


def redacted_cause(error: BaseException, message: str) -> BaseException:
    """A stand-in for ``error`` that holds no secret: an exception of its type (or a
    ``RedactedError`` naming it) whose text is only ``message``, with no chain behind it and
    no ``request`` or ``response``; the one a ``TransportError`` is raised ``from``.

    Raise what it stands for outside the ``except`` block that caught ``error``, so the
    original is not kept as ``__context__`` either."""
    return _redacted_copy(error, message)


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
