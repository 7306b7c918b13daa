"""``RequestHeaders``: a request's case-insensitive header table, each header checked as it
is set."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Optional

from azure_core_tracing.checks import check_header, type_name


class RequestHeaders(MutableMapping[str, str]):
    """Case-insensitive request headers; each name and value is checked as it is set.

    Its ``repr`` shows the names only: values may be secrets."""

    __slots__ = ("_store",)

    def __init__(self, headers: Optional[Mapping[str, str]] = None) -> None:
        self._store: dict[str, tuple[str, str]] = {}
        if headers is None:
            return
        if not isinstance(headers, Mapping):
            raise TypeError(f"headers must be a mapping of str to str, got {type_name(headers)}")
        for name, value in headers.items():
            self[name] = value

    def __setitem__(self, name: str, value: str) -> None:
        check_header(name, value)
        self._store[name.lower()] = (name, value)

    def __getitem__(self, name: str) -> str:
        if not isinstance(name, str):
            raise KeyError(name)
        return self._store[name.lower()][1]

    def __delitem__(self, name: str) -> None:
        if not isinstance(name, str):
            raise KeyError(name)
        del self._store[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._store

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:  # type: ignore[override]
        """The value of header ``name`` (any case), or ``default``."""
        entry = self._store.get(name.lower()) if isinstance(name, str) else None
        return default if entry is None else entry[1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def copy(self) -> RequestHeaders:
        """A copy, without checking again what was checked when set."""
        copy = RequestHeaders()
        copy._store = self._store.copy()
        return copy

    def as_dict(self) -> dict[str, str]:
        """A plain dict of name to value, as transports take it."""
        return dict(self._store.values())

    def __repr__(self) -> str:
        return f"<headers {', '.join(self)}>"
