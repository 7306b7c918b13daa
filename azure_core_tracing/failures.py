"""Reporting of failures inside tracing: logged once, never raised into the application."""

from __future__ import annotations

import logging
import threading
from typing import Callable

_LOGGER = logging.getLogger("azure_core_tracing")
_reported: set[tuple[int, str]] = set()
_owners: list[object] = []  # keeps owners alive so their id() is never reused for another
_lock = threading.Lock()


def report_tracing_failure(owner: object, operation: str, error: BaseException) -> None:
    """Log ``error`` at WARNING on ``azure_core_tracing``, once per ``owner`` and ``operation``."""
    key = (id(owner), operation)
    with _lock:
        if key in _reported:
            return
        _reported.add(key)
        _owners.append(owner)
    _LOGGER.warning(
        "Tracing failed in %s of %s (%s: %s); the call goes on untraced. "
        "This warning is logged once for this provider and operation.",
        operation,
        type(owner).__name__,
        type(error).__name__,
        error,
    )


def call_guarded(
    owner: object, operation: str, action: Callable[..., object], *args: object
) -> bool:
    """Run ``action(*args)``; on an exception report it for ``owner`` and return False."""
    try:
        action(*args)
    except Exception as error:
        report_tracing_failure(owner, operation, error)
        return False
    return True
