"""``EnvFilter``: EnvFilter-style directives choosing which levels each target shows.

A directive is ``level``, ``target`` or ``target=level``; a filter is a comma-separated list of
them. Targets are logger names or OpenTelemetry instrumentation scope names, written with ``::``
or ``.``. A target matches itself and its dotted children (``azure`` matches ``azure.core`` but
not ``azure_core``), and the longest matching target wins; a target with no matching directive
uses the bare ``level`` directive, or is off when there is none.
"""

from __future__ import annotations

import logging
import re
from enum import IntEnum
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

_TARGET = re.compile(r"[\w\-]+(?:(?:::|\.)[\w\-]+)*")
_CACHE_LIMIT = 4096  # targets are few in practice; a bound keeps a hostile stream of names cheap


class Level(IntEnum):
    """Severity as KVP keys spell it, from the most verbose to ``OFF`` (nothing)."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4
    OFF = 5

    @classmethod
    def parse(cls, text: str) -> Level:
        """``trace``, ``debug``, ``info``, ``warn``/``warning``, ``error`` or ``off``, any case."""
        level = _NAMES.get(text.strip().lower()) if isinstance(text, str) else None
        if level is None:
            raise ValueError(
                f"unknown level {text!r}: use trace, debug, info, warn, warning, error or off"
            )
        return level

    @classmethod
    def from_logging(cls, levelno: int) -> Level:
        """The level of a ``logging`` record (CRITICAL is ERROR, below DEBUG is TRACE)."""
        if levelno >= logging.ERROR:
            return cls.ERROR
        if levelno >= logging.WARNING:
            return cls.WARN
        if levelno >= logging.INFO:
            return cls.INFO
        if levelno >= logging.DEBUG:
            return cls.DEBUG
        return cls.TRACE

    @property
    def logging_level(self) -> int:
        """The lowest ``logging`` level number that maps to this level."""
        return _LOGGING_LEVELS[self]


_NAMES = {
    "trace": Level.TRACE,
    "debug": Level.DEBUG,
    "info": Level.INFO,
    "warn": Level.WARN,
    "warning": Level.WARN,
    "error": Level.ERROR,
    "off": Level.OFF,
}
_LOGGING_LEVELS = {
    Level.TRACE: 1,  # 0 would be NOTSET, which means "inherit" on a logger
    Level.DEBUG: logging.DEBUG,
    Level.INFO: logging.INFO,
    Level.WARN: logging.WARNING,
    Level.ERROR: logging.ERROR,
    Level.OFF: logging.CRITICAL + 1,
}


class EnvFilter:
    """Parsed directives; ``enabled(target, level)`` answers from a per-target cache."""

    __slots__ = ("_cache", "_default", "_targets", "directives")

    def __init__(self, directives: str) -> None:
        if not isinstance(directives, str):
            raise TypeError(f"directives must be a str, got {type(directives).__name__}")
        default: Optional[Level] = None
        targets: dict[str, Level] = {}
        for item in (part.strip() for part in directives.split(",")):
            if not item:
                continue
            target, level = _parse_directive(item, directives)
            if target is None:
                default = level
            else:
                targets[target] = level
        if default is None and not targets:
            raise ValueError(f"filter {directives!r} has no directive")
        self.directives = directives
        """The text the filter was parsed from."""
        self._default = Level.OFF if default is None else default
        self._targets = targets
        self._cache: dict[str, Level] = {}

    def threshold(self, target: str) -> Level:
        """The least severe level enabled for ``target`` (``Level.OFF``: none)."""
        found = self._cache.get(target)
        if found is None:
            found = self._lookup(target)
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[target] = found
        return found

    def enabled(self, target: str, level: Level) -> bool:
        """Whether a record of ``level`` from ``target`` passes."""
        return level != Level.OFF and level >= self.threshold(target)

    @property
    def most_verbose(self) -> Level:
        """The least severe level any directive enables (``Level.OFF`` if none)."""
        return min([self._default, *self._targets.values()])

    def _lookup(self, target: str) -> Level:
        name = target.replace("::", ".")
        while True:
            level = self._targets.get(name)
            if level is not None:
                return level
            cut = name.rfind(".")
            if cut < 0:
                return self._default
            name = name[:cut]

    def __repr__(self) -> str:
        return f"EnvFilter({self.directives!r})"


def _parse_directive(item: str, text: str) -> tuple[Optional[str], Level]:
    target, equals, level_text = item.partition("=")
    target = target.strip()
    if not equals:
        if target.lower() in _NAMES:
            return None, _NAMES[target.lower()]
        level = Level.TRACE  # a target alone enables every level
    else:
        level_name = level_text.strip().lower()
        if level_name not in _NAMES:
            raise ValueError(
                f"invalid filter directive {item!r} in {text!r}: unknown level "
                f"{level_text.strip()!r} (use trace, debug, info, warn, warning, error or off)"
            )
        level = _NAMES[level_name]
    if not _TARGET.fullmatch(target):
        raise ValueError(
            f"invalid filter directive {item!r} in {text!r}: a target is a logger or "
            "instrumentation scope name: word characters and '-', joined by '.' or '::'"
        )
    return target.replace("::", "."), level


def span_target(span: ReadableSpan) -> str:
    """A span's target: the name of its instrumentation scope ("" when it has none)."""
    scope = span.instrumentation_scope
    return scope.name if scope is not None else ""
