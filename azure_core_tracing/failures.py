"""Reporting of failures inside tracing: logged once, never raised into the application.

The registry of what was reported holds no provider alive: an owner that can be weakly
referenced leaves it when it is collected, and the few that cannot share a bounded table.
"""

from __future__ import annotations

import logging
import threading
import traceback
import weakref
from collections import OrderedDict
from typing import Union

_LOGGER = logging.getLogger("azure_core_tracing")
_MAX_STRONG_OWNERS = 256

# Re-entrant: a collection while the lock is held can run a finalizer that traces, and fails.
_lock = threading.RLock()
_reported: dict[int, set[str]] = {}  # id(owner) -> operations; the entry dies with the owner
_strong: OrderedDict[tuple[int, str], object] = OrderedDict()  # for owners without weakrefs


def _forget(owner_id: int) -> None:
    # No lock: a collection can run this while the lock is held; one dict.pop is atomic.
    _reported.pop(owner_id, None)


def _first_report(owner: object, operation: str) -> bool:
    owner_id = id(owner)
    with _lock:
        operations = _reported.get(owner_id)
        if operations is not None:
            if operation in operations:
                return False
            operations.add(operation)
            return True
        key = (owner_id, operation)
        if key in _strong:
            return False
        try:
            weakref.finalize(owner, _forget, owner_id)
        except TypeError:  # not weakly referenceable: kept alive, in a bounded table
            _strong[key] = owner
            while len(_strong) > _MAX_STRONG_OWNERS:
                _strong.popitem(last=False)
            return True
        _reported[owner_id] = {operation}
        return True


def describe_owner(owner: object) -> str:
    """``module.Class`` of a provider, or of the class itself when ``owner`` is a class."""
    cls = owner if isinstance(owner, type) else type(owner)
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(problem: Union[BaseException, str]) -> str:
    if isinstance(problem, str):
        return problem
    where = ""
    frames = traceback.extract_tb(problem.__traceback__) if problem.__traceback__ else []
    if frames:
        last = frames[-1]
        where = f" at {last.filename}:{last.lineno} in {last.name}"
    # The type and the place only: a provider's message can hold header values or URLs.
    return f"{type(problem).__module__}.{type(problem).__qualname__} raised{where}"


def report_tracing_failure(
    owner: object,
    operation: str,
    problem: Union[BaseException, str],
    consequence: str = "the call goes on untraced",
) -> None:
    """Log at WARNING on ``azure_core_tracing``, once per ``owner`` and ``operation``.

    ``problem`` is the exception raised, or a sentence saying what was wrong with a value
    returned; an exception's message is never logged."""
    if not _first_report(owner, operation):
        return
    _LOGGER.warning(
        "Tracing failed in %s of %s (%s); %s. "
        "This warning is logged once for this provider and operation.",
        operation,
        describe_owner(owner),
        _describe(problem),
        consequence,
    )
