"""``PropagationHeaders``: which header names a span's propagation may write.

The built-in allow-list (``headers.PROPAGATION_HEADERS`` and its prefixes) plus the names an
application adds with ``TelemetryOptions.propagation_headers``; the guard drops everything
else a propagator writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from azure_core_tracing.checks import is_token, type_name
from azure_core_tracing.headers import (
    PROPAGATION_HEADER_PREFIXES,
    PROPAGATION_HEADERS,
    REQUEST_OWN_HEADER_PREFIXES,
    REQUEST_OWN_HEADERS,
)


def check_propagation_headers(values: object, argument: str) -> frozenset[str]:
    """Return ``values`` (header names; one ending in ``*`` is a prefix) as a frozenset.

    Each must be an HTTP token (its prefix, for a ``*`` entry, non-empty) that names none of
    the request's own headers (``headers.REQUEST_OWN_HEADERS`` and prefixes)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{argument} must be a collection of str, got {type_name(values)}")
    entries = []
    for given in values:
        if not isinstance(given, str):
            raise TypeError(f"{argument} must hold only str, got {type_name(given)}")
        entries.append(str.__str__(given))  # a plain copy: a str subclass could change
    for entry in entries:
        name = entry[:-1] if entry.endswith("*") else entry
        if not name or not is_token(name) or "*" in name:
            raise ValueError(
                f"{argument} must hold header names (an HTTP token, or a non-empty prefix "
                f"ending in '*'), got {entry[:64]!r}"
            )
        if _names_request_own_header(name.lower(), prefix=name is not entry):
            raise ValueError(
                f"{argument}: {entry!r} would let propagation write one of the request's own "
                "headers (credentials, framing, content, conditions or x-ms-*), which tracing "
                "never sets"
            )
    return frozenset(entries)


def _names_request_own_header(lowered: str, *, prefix: bool) -> bool:
    if lowered in REQUEST_OWN_HEADERS or lowered.startswith(REQUEST_OWN_HEADER_PREFIXES):
        return True
    if not prefix:
        return False
    return any(name.startswith(lowered) for name in REQUEST_OWN_HEADERS) or any(
        own.startswith(lowered) for own in REQUEST_OWN_HEADER_PREFIXES
    )


class PropagationHeaders:
    """The header names propagation may write: the built-in ones and ``extra`` (checked
    as ``check_propagation_headers`` checks them), compared case-insensitively."""

    __slots__ = ("names", "prefixes")

    def __init__(self, extra: Iterable[str] = ()) -> None:
        entries = check_propagation_headers(extra, "extra")
        self.names: frozenset[str] = PROPAGATION_HEADERS | {
            e.lower() for e in entries if not e.endswith("*")
        }
        """The lower-case names allowed."""
        self.prefixes: tuple[str, ...] = PROPAGATION_HEADER_PREFIXES + tuple(
            sorted(e[:-1].lower() for e in entries if e.endswith("*"))
        )
        """The lower-case prefixes allowed."""

    def allows(self, name: str) -> bool:
        """Whether propagation may write the header ``name`` (any case; a ``str``)."""
        lowered = name.lower()
        return lowered in self.names or lowered.startswith(self.prefixes)


DEFAULT_PROPAGATION_HEADERS = PropagationHeaders()
"""The built-in allow-list alone."""
