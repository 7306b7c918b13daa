"""``EnvFilter``: tracing-subscriber's ``EnvFilter`` directives, choosing what each layer shows.

A filter is a comma-separated list of directives::

    level                              # every target (a name, or 0 off .. 5 trace)
    target                             # every level of target
    target=level
    target[span{field=value,…}]=level  # inside a matching span; target, span, fields optional
    [span]=level   [{field}]=level   [{field=value}]=level

Targets are logger names or OpenTelemetry instrumentation scope names, written with ``::`` or
``.``; a target matches itself and its dotted children (``azure`` matches ``azure.core``, not
``azure_core``). Directives without a span or fields ("static") work as EnvFilter's: the one
with the longest matching target decides, and a target no directive matches is off. The others
("dynamic") match spans: a span whose name, target and attributes (exact values) match one
enables, at that directive's level, the span itself and everything inside it, at any depth:
child spans, span events and log records made while it is current. As in EnvFilter they only
ever enable: a record passes when a span it is in enables its level, or the static directives do.
"""

from __future__ import annotations

import logging
import math
import re
import sys
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Optional, Union

from opentelemetry import trace as otel_trace

if TYPE_CHECKING:
    from opentelemetry import context as otel_context
    from opentelemetry.sdk.trace import ReadableSpan

_TARGET = re.compile(r"[\w\-]+(?:(?:::|\.)[\w\-]+)*")
_NAME = re.compile(r"[^\[\]{}=,]+")  # a span or field name: what EnvFilter's parser allows
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(
    r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)", re.IGNORECASE
)
_REGEX_ONLY = "*+?()|^$\\"
_NUMBER_LEVEL = re.compile(r"\+?[0-9]+")
_CACHE_LIMIT = 4096  # targets are few in practice; a bound keeps a hostile stream of names cheap
_U64_MAX = 2**64 - 1
_I64_MIN = -(2**63)


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
# tracing's LevelFilter: 0 is off, 5 is trace.
_NUMBERS = (Level.OFF, Level.ERROR, Level.WARN, Level.INFO, Level.DEBUG, Level.TRACE)
_LOGGING_LEVELS = {
    Level.TRACE: 1,  # 0 would be NOTSET, which means "inherit" on a logger
    Level.DEBUG: logging.DEBUG,
    Level.INFO: logging.INFO,
    Level.WARN: logging.WARNING,
    Level.ERROR: logging.ERROR,
    Level.OFF: logging.CRITICAL + 1,
}
_LEVEL_HELP = "use trace, debug, info, warn, warning, error, off, or 0 (off) to 5 (trace)"

FieldValue = Union[bool, int, float, str]


@dataclass(frozen=True)
class _Field:
    """``name`` or ``name=value`` in a directive's braces."""

    name: str
    value: Optional[FieldValue]
    text: Optional[str]  # the value as written

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        if self.name not in attributes:
            return False
        if self.text is None:
            return True
        return _value_matches(self.value, attributes[self.name])

    def __str__(self) -> str:
        return self.name if self.text is None else f"{self.name}={self.text}"


@dataclass(frozen=True)
class _Dynamic:
    """A directive naming a span or fields: it matches spans."""

    target: Optional[str]
    span: Optional[str]
    fields: tuple[_Field, ...]
    level: Level

    def matches(self, span: object) -> bool:
        name = getattr(span, "name", None)
        if self.span is not None and name != self.span:
            return False
        if self.target is not None and not _under(_target_of(span), self.target):
            return False
        attributes = getattr(span, "attributes", None) or {}
        return all(field.matches(attributes) for field in self.fields)

    def __str__(self) -> str:
        fields = "{" + ",".join(map(str, self.fields)) + "}" if self.fields else ""
        return f"{self.target or ''}[{self.span or ''}{fields}]={self.level.name.lower()}"


class EnvFilter:
    """Parsed directives; ``enabled(target, level, span)`` answers whether a record passes."""

    __slots__ = ("_cache", "_default", "_dynamics", "_live", "_scopes", "_targets", "directives")

    def __init__(self, directives: str) -> None:
        if not isinstance(directives, str):
            raise TypeError(f"directives must be a str, got {type(directives).__name__}")
        default: Optional[Level] = None
        targets: dict[str, Level] = {}
        dynamics: dict[tuple[Optional[str], Optional[str], tuple[_Field, ...]], _Dynamic] = {}
        for item in _split(directives):
            parsed = _parse_directive(item, directives)
            if isinstance(parsed, _Dynamic):
                dynamics[(parsed.target, parsed.span, parsed.fields)] = parsed  # the last wins
            elif parsed[0] is None:
                default = parsed[1]
            else:
                targets[parsed[0]] = parsed[1]
        if default is None and not targets and not dynamics:
            raise ValueError(f"filter {directives!r} has no directive")
        self.directives = directives
        """The text the filter was parsed from."""
        self._default = Level.OFF if default is None else default
        self._targets = targets
        self._dynamics = tuple(dynamics.values())
        self._cache: dict[str, Level] = {}
        # A span -> the most verbose level its ancestors' dynamic directives enable, for the
        # live span and for each snapshot the SDK makes of it at its end (found by its ids while
        # the live span exists). Weak: an entry lives as long as its span, nothing to remove.
        self._scopes: weakref.WeakKeyDictionary[object, Level] = weakref.WeakKeyDictionary()
        self._live: weakref.WeakValueDictionary[tuple[int, int], Any] = (
            weakref.WeakValueDictionary()
        )

    def threshold(self, target: str) -> Level:
        """The least severe level the static directives enable for ``target`` (``OFF``: none)."""
        found = self._cache.get(target)
        if found is None:
            found = self._lookup(target)
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[target] = found
        return found

    def enabled(self, target: str, level: Level, span: Optional[object] = None) -> bool:
        """Whether a record of ``level`` from ``target`` passes; ``span`` is the OpenTelemetry
        span it happens in (for a span's own record, the span itself), or ``None``."""
        if level == Level.OFF:
            return False
        if span is not None and self._dynamics and level >= self._scope(span):
            return True
        return level >= self.threshold(target)

    def span_started(
        self, span: object, parent_context: Optional[otel_context.Context] = None
    ) -> None:
        """Note what ``span``'s ancestors enable inside it; a span processor's ``on_start`` calls
        this (and the answer for its descendants is wrong if none does)."""
        if not self._dynamics:
            return
        parent = otel_trace.get_current_span(parent_context)
        inherited = self._scope(parent) if parent is not otel_trace.INVALID_SPAN else Level.OFF
        if inherited != Level.OFF and _weak(span):
            self._scopes[span] = inherited
            ids = _ids(span)
            if ids is not None:
                self._live[ids] = span

    @property
    def has_span_directives(self) -> bool:
        """Whether any directive names a span or a field (then records need their span)."""
        return bool(self._dynamics)

    @property
    def most_verbose(self) -> Level:
        """The least severe level any directive enables (``Level.OFF`` if none)."""
        return min([self._default, *self._targets.values(), *(d.level for d in self._dynamics)])

    def _scope(self, span: object) -> Level:
        """The most verbose level enabled inside ``span``: its own match or its ancestors'."""
        found = self._inherited(span)
        for directive in self._dynamics:
            if directive.level < found and directive.matches(span):
                found = directive.level
        return found

    def _inherited(self, span: object) -> Level:
        if not _weak(span):
            return Level.OFF
        found = self._scopes.get(span)
        if found is None:
            ids = _ids(span)
            live = self._live.get(ids) if ids is not None else None
            found = self._scopes.get(live, Level.OFF) if live is not None else Level.OFF
            if found != Level.OFF:  # a snapshot of a live span: it keeps the answer itself
                self._scopes[span] = found
        return found

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

    def __str__(self) -> str:
        """The directives in one canonical spelling, which parses to the same filter."""
        others = bool(self._targets or self._dynamics)
        items = [] if self._default == Level.OFF and others else [_level_text(self._default)]
        items += [f"{target}={_level_text(level)}" for target, level in self._targets.items()]
        items += [str(directive) for directive in self._dynamics]
        return ",".join(items)

    def __repr__(self) -> str:
        return f"EnvFilter({self.directives!r})"


def span_target(span: ReadableSpan) -> str:
    """A span's target: the name of its instrumentation scope ("" when it has none)."""
    scope = span.instrumentation_scope
    return scope.name if scope is not None else ""


def _target_of(span: object) -> str:
    scope = getattr(span, "instrumentation_scope", None)
    name = getattr(scope, "name", None)
    return name.replace("::", ".") if isinstance(name, str) else ""


def _under(target: str, directive_target: str) -> bool:
    return target == directive_target or target.startswith(directive_target + ".")


def _ids(span: object) -> Optional[tuple[int, int]]:
    context = getattr(span, "context", None)
    trace_id, span_id = getattr(context, "trace_id", 0), getattr(context, "span_id", 0)
    return (trace_id, span_id) if span_id else None


def _weak(span: object) -> bool:
    return hasattr(type(span), "__weakref__")


def _level_text(level: Level) -> str:
    return level.name.lower()


def _split(text: str) -> list[str]:
    """Items between commas, except commas inside ``{…}`` (a directive's field list)."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append(text[start:index])
            start = index + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def _parse_level(text: str) -> Optional[Level]:
    if _NUMBER_LEVEL.fullmatch(text):
        number = int(text) if len(text) <= 20 else len(_NUMBERS)  # int() refuses huge texts
        return _NUMBERS[number] if number < len(_NUMBERS) else None
    return _NAMES.get(text.lower())


def _parse_directive(item: str, text: str) -> Union[_Dynamic, tuple[Optional[str], Level]]:
    def invalid(why: str) -> ValueError:
        return ValueError(f"invalid filter directive {item!r} in {text!r}: {why}")

    head, equals, level_text = item, "", ""
    close = item.rfind("]")
    cut = item.find("=", close + 1) if close >= 0 else item.find("=")
    if cut >= 0:
        head, equals, level_text = item[:cut], "=", item[cut + 1 :]
    head = head.strip()
    if equals:
        level = _parse_level(level_text.strip())
        if level is None:
            raise invalid(f"unknown level {level_text.strip()!r} ({_LEVEL_HELP})")
    elif "[" not in head:
        alone = _parse_level(head)
        if alone is not None:
            return None, alone
        if _INTEGER.fullmatch(head):  # EnvFilter takes "6" for a target; here it is a mistake
            raise invalid(f"unknown level {head!r} ({_LEVEL_HELP})")
        level = Level.TRACE  # a target alone enables every level
    else:
        level = Level.TRACE  # a target alone enables every level
    target, bracket, rest = head.partition("[")
    target = target.strip()
    if target and not _TARGET.fullmatch(target):
        raise invalid(
            "a target is a logger or instrumentation scope name: word characters and '-', "
            "joined by '.' or '::'"
        )
    target_name = target.replace("::", ".") if target else None
    if not bracket:
        if target_name is None:
            raise invalid("it names no target, span or level")
        return target_name, level
    return _parse_span(target_name, rest, level, invalid)


def _parse_span(target: Optional[str], rest: str, level: Level, invalid: Any) -> _Dynamic:
    if not rest.endswith("]"):
        raise invalid("a span part is '[name]', '[name{fields}]' or '[{fields}]'")
    inside = rest[:-1]
    span, brace, fields_text = inside.partition("{")
    fields: tuple[_Field, ...] = ()
    if brace:
        if not fields_text.endswith("}"):
            raise invalid("the fields of a span are written '{name=value,...}'")
        fields = tuple(_parse_field(part, invalid) for part in fields_text[:-1].split(","))
        if not fields:
            raise invalid("'{}' names no field")
    elif "}" in span:
        raise invalid("a '}' without its '{'")
    if span and not _NAME.fullmatch(span):
        raise invalid(f"span name {span!r} holds one of '[]{{}}=,'")
    if not span and not fields:
        raise invalid("'[]' names neither a span nor a field")
    names = [field.name for field in fields]
    if len(set(names)) != len(names):
        raise invalid("a field is named twice")
    return _Dynamic(target, span or None, tuple(sorted(fields, key=str)), level)


def _parse_field(part: str, invalid: Any) -> _Field:
    name, equals, value = part.partition("=")
    if not _NAME.fullmatch(name) or name != name.strip():
        raise invalid(f"field name {name!r} is empty, padded or holds one of '[]{{}}=,'")
    if not equals:
        return _Field(name, None, None)
    if not value or any(char in value for char in "[]{}="):
        raise invalid(f"field value {value!r} is empty or holds one of '[]{{}}='")
    parsed = _field_value(value)
    if isinstance(parsed, str) and any(char in value for char in _REGEX_ONLY):
        # EnvFilter reads such a value as a regular expression; here values match exactly,
        # and a pattern taken as plain text would silently match nothing it was meant to.
        raise invalid(
            f"field value {value!r} looks like a regular expression: values match exactly "
            f"here, and may not hold any of {_REGEX_ONLY!r}"
        )
    return _Field(name, parsed, value)


def _field_value(text: str) -> FieldValue:
    """As EnvFilter reads a value: a bool, an integer, a float, else text compared exactly."""
    if text in ("true", "false"):
        return text == "true"
    if _INTEGER.fullmatch(text) and len(text) <= 40:  # int() refuses very long texts
        number = int(text)
        if _I64_MIN <= number <= _U64_MAX:
            return number
        return float(number)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def _value_matches(expected: Optional[FieldValue], actual: object) -> bool:
    if isinstance(expected, bool):
        return isinstance(actual, bool) and actual is expected
    if isinstance(actual, bool):
        return False
    if isinstance(expected, int):
        return isinstance(actual, int) and actual == expected
    if isinstance(expected, float):
        if not isinstance(actual, float):
            return False
        if math.isnan(expected):
            return math.isnan(actual)
        return abs(actual - expected) < sys.float_info.epsilon  # EnvFilter's comparison
    return isinstance(actual, str) and actual == expected
