"""W3C Trace Context Level 2: strict ``traceparent`` and ``tracestate`` values, parse and format.

``parse`` takes what an HTTP server hands over for one header name: ``None`` (absent), one
``str`` (one header line), or a sequence of ``str`` (every header line, in the order received,
not joined). It never raises: invalid input of any kind, any type, gives ``None``. It examines
at most ``MAX_HEADER_TEXT`` characters; more header text than that is invalid.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Optional, Union, cast

from azure_core_tracing.headers import TRACEPARENT as TRACEPARENT_HEADER
from azure_core_tracing.headers import TRACESTATE as TRACESTATE_HEADER

SAMPLED_FLAG = 0x01
"""trace-flags bit: the caller may have recorded trace data."""
RANDOM_TRACE_ID_FLAG = 0x02
"""trace-flags bit (Level 2): at least the right-most 7 bytes of the trace-id are random."""

MAX_HEADER_TEXT = 1024 * 1024
"""Most header text ``parse`` examines: the lengths of all lines plus one separator between each."""

HeaderLines = Union[str, Iterable[str], None]
"""One header line, every line of one header name in order, or None when the header is absent."""

_KNOWN_FLAGS = SAMPLED_FLAG | RANDOM_TRACE_ID_FLAG
_MAX_MEMBERS = 32
_TRUNCATION_LENGTH = 512  # with_entry removes whole entries until the header fits
_LARGE_ENTRY_LENGTH = 128  # entries longer than this are the first ones truncation removes
_TRACEPARENT_LENGTH = 55  # version 00: 2 + 1 + 32 + 1 + 16 + 1 + 2
_OWS = " \t"
# The grammars of the spec. [0-9a-f] and the like are ASCII ranges: no Unicode digit matches.
_TRACEPARENT_FIELDS = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_PARENT_ID = re.compile(r"[0-9a-f]{16}")
_KEY = re.compile(r"[a-z0-9][a-z0-9_\-*/@]{0,255}")
_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
_MAX_MEMBER_LENGTH = 256 + 1 + 256
_ZERO_TRACE_ID = "0" * 32
_ZERO_PARENT_ID = "0" * 16


def _header_lines(header: object, max_lines: int) -> Optional[list[str]]:
    """``header`` as a list of plain ``str`` lines, or None when it is not text, is larger
    than ``MAX_HEADER_TEXT`` or has more than ``max_lines`` lines."""
    if header is None:
        return []
    if type(header) in (list, tuple):  # the common case, counted without a Python loop
        items = cast("Sequence[object]", header)
        if len(items) > max_lines:  # max_lines is at most MAX_HEADER_TEXT
            return None
        if set(map(type, items)) <= {str}:
            text = cast("Sequence[str]", items)
            return list(text) if sum(map(len, text)) + len(text) <= MAX_HEADER_TEXT + 1 else None
    if isinstance(header, str):
        candidates: Iterable[object] = (header,)
    elif isinstance(header, (bytes, bytearray, memoryview, Mapping, Set)):  # not ordered lines
        return None
    else:
        candidates = cast("Iterable[object]", header)  # not iterable: TypeError, caught below
    lines: list[str] = []
    budget = MAX_HEADER_TEXT + 1  # every line pays one separator, the first one's is free
    try:
        for line in candidates:
            if not isinstance(line, str):
                return None
            # A str subclass may override anything; from here on we work on a plain copy.
            text = line if type(line) is str else str.__str__(line)
            budget -= len(text) + 1
            if budget < 0 or len(lines) == max_lines:
                return None
            lines.append(text)
    except Exception:  # a hostile iterable: the header is as good as invalid
        return None
    return lines


def _check_id(name: str, value: object, pattern: re.Pattern[str], zero: str) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if pattern.fullmatch(value) is None or value == zero:
        raise ValueError(
            f"{name} must be {len(zero)} lowercase hex characters, not all zero, got {value!r}"
        )


def _random_id(length: int) -> str:
    while True:
        value = secrets.token_hex(length // 2)
        if value != "0" * length:
            return value


@dataclass(frozen=True)
class TraceParent:
    """A ``traceparent`` value: trace-id, parent-id (32 and 16 lowercase hex) and trace-flags.

    Only the flags this spec level defines (``SAMPLED_FLAG``, ``RANDOM_TRACE_ID_FLAG``) exist.
    """

    trace_id: str
    parent_id: str
    trace_flags: int = 0

    def __post_init__(self) -> None:
        _check_id("trace_id", self.trace_id, _TRACE_ID, _ZERO_TRACE_ID)
        _check_id("parent_id", self.parent_id, _PARENT_ID, _ZERO_PARENT_ID)
        flags = self.trace_flags
        if not isinstance(flags, int) or isinstance(flags, bool):
            raise TypeError(f"trace_flags must be an int, got {type(flags).__name__}")
        if flags & ~_KNOWN_FLAGS:
            raise ValueError(
                f"trace_flags may hold only SAMPLED_FLAG and RANDOM_TRACE_ID_FLAG, got {flags!r}"
            )

    @property
    def sampled(self) -> bool:
        """Whether the caller may have recorded trace data."""
        return bool(self.trace_flags & SAMPLED_FLAG)

    @property
    def random_trace_id(self) -> bool:
        """Whether the trace-id's right-most 7 bytes are random (Level 2)."""
        return bool(self.trace_flags & RANDOM_TRACE_ID_FLAG)

    @classmethod
    def parse(cls, header: HeaderLines) -> Optional[TraceParent]:
        """The value of the ``traceparent`` header lines, or None if absent or invalid.

        Invalid: anything but exactly one line, a comma (several values), version ``ff``, a
        version ``00`` value that is not exactly 55 characters of lowercase hex and dashes, an
        all-zero id. A higher version is read by the forward-compatibility rules (its unknown
        fields and flags are dropped). Spaces and tabs around the value are ignored.
        """
        lines = _header_lines(header, 1)
        if not lines:
            return None
        value = lines[0].strip(_OWS)
        if len(value) < _TRACEPARENT_LENGTH:
            return None
        match = _TRACEPARENT_FIELDS.fullmatch(value, 0, _TRACEPARENT_LENGTH)
        if match is None:
            return None
        version, trace_id, parent_id, flags = match.groups()
        if version == "ff" or trace_id == _ZERO_TRACE_ID or parent_id == _ZERO_PARENT_ID:
            return None
        # Only a higher version may go on, and only after a dash. A comma means the header
        # holds several values (a comma-joined duplicate): a new trace starts.
        if len(value) > _TRACEPARENT_LENGTH and (
            version == "00" or value[_TRACEPARENT_LENGTH] != "-" or "," in value
        ):
            return None
        return cls(trace_id, parent_id, int(flags, 16) & _KNOWN_FLAGS)

    @classmethod
    def new_trace(cls, *, sampled: bool = False) -> TraceParent:
        """A new trace: random trace-id and parent-id, with the random-trace-id flag set."""
        flags = RANDOM_TRACE_ID_FLAG | (SAMPLED_FLAG if sampled else 0)
        return cls(_random_id(32), _random_id(16), flags)

    def child(
        self, parent_id: Optional[str] = None, *, sampled: Optional[bool] = None
    ) -> TraceParent:
        """The same trace under a new parent-id (random if not given), keeping the random flag.

        ``sampled`` changes the sampled flag; the spec allows that only with a new parent-id.
        """
        new_parent = _random_id(16) if parent_id is None else parent_id
        flags = self.trace_flags
        if sampled is not None:
            flags = (flags | SAMPLED_FLAG) if sampled else (flags & ~SAMPLED_FLAG)
        return TraceParent(self.trace_id, new_parent, flags)

    def format(self) -> str:
        """The header value, always version ``00``."""
        return f"00-{self.trace_id}-{self.parent_id}-{self.trace_flags:02x}"


def _is_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


def _is_value(value: str) -> bool:
    return _VALUE.fullmatch(value) is not None


def _check_entry(key: object, value: object) -> tuple[str, str]:
    if not isinstance(key, str):
        raise TypeError(f"tracestate key must be a str, got {type(key).__name__}")
    if not isinstance(value, str):
        raise TypeError(f"tracestate value for {key!r} must be a str, got {type(value).__name__}")
    if not _is_key(key):
        raise ValueError(
            "tracestate key must start with a-z or 0-9 and go on with up to 255 of "
            f"a-z 0-9 _ - * / @, got {key!r}"
        )
    if not _is_value(value):
        raise ValueError(
            "tracestate value must be 1 to 256 printable ASCII characters without ',' or '=' "
            f"and must not end with a space, got {value!r} for key {key!r}"
        )
    return key, value


def _entry_length(entry: tuple[str, str]) -> int:
    return len(entry[0]) + 1 + len(entry[1])


def _truncated(
    first: tuple[str, str], rest: list[tuple[str, str]], max_length: int = _TRUNCATION_LENGTH
) -> list[tuple[str, str]]:
    """``rest`` with whole entries removed so that ``first`` and ``rest`` fit the spec's limits:
    at most 32 members, then ``max_length`` characters (entries over 128 first, then from the
    right)."""
    rest = rest[: _MAX_MEMBERS - 1]
    length = _entry_length(first) + sum(_entry_length(entry) + 1 for entry in rest)
    while rest and length > max_length:
        large = [i for i, e in enumerate(rest) if _entry_length(e) > _LARGE_ENTRY_LENGTH]
        index = large[-1] if large else len(rest) - 1
        length -= _entry_length(rest.pop(index)) + 1
    return rest


@dataclass(frozen=True)
class TraceState(Mapping[str, str]):
    """A ``tracestate`` value: an ordered mapping of at most 32 Level 2 keys to values.

    Equal when the entries and their order are equal.
    """

    entries: tuple[tuple[str, str], ...] = ()
    _values: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.entries, (str, bytes)) or not isinstance(self.entries, Iterable):
            raise TypeError(
                f"entries must be (key, value) pairs, got {type(self.entries).__name__}"
            )
        entries = tuple(self.entries)
        values: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, tuple) or len(entry) != 2:
                raise TypeError(f"entries must be (key, value) pairs, got {entry!r}")
            key, value = _check_entry(*entry)
            if key in values:
                raise ValueError(f"entries hold the key {key!r} twice")
            values[key] = value
        if len(values) > _MAX_MEMBERS:
            raise ValueError(f"entries may hold at most {_MAX_MEMBERS} members, got {len(values)}")
        object.__setattr__(self, "entries", entries)
        object.__setattr__(self, "_values", values)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @classmethod
    def parse(cls, header: HeaderLines) -> Optional[TraceState]:
        """The value of the ``tracestate`` header lines (joined in order), or None if invalid.

        Absent or empty headers give an empty ``TraceState``. Empty members are skipped and
        a repeated key keeps its first value. Invalid: a member that breaks the Level 2
        grammar, or more than 32 members; the whole header is then discarded.
        """
        lines = _header_lines(header, MAX_HEADER_TEXT)
        if lines is None:
            return None
        values: dict[str, str] = {}
        members = 0
        # filter(None, ...) drops empty lines and members in C: a flood of them stays cheap.
        for line in filter(None, lines):
            for raw in filter(None, line.split(",")):
                member = raw.strip(_OWS)
                if not member:
                    continue
                members += 1
                if members > _MAX_MEMBERS or len(member) > _MAX_MEMBER_LENGTH:
                    return None
                key, _, value = member.partition("=")
                if not _is_key(key) or not _is_value(value):
                    return None
                values.setdefault(key, value)
        return cls(tuple(values.items()))

    def with_entry(self, key: str, value: str) -> TraceState:
        """A copy with ``key`` set to ``value`` as the first entry, truncated per the spec.

        Truncation removes whole entries other than this one: beyond 32 members the
        right-most; beyond 512 characters those over 128 characters first, then from the right.
        """
        entry = _check_entry(key, value)
        rest = [pair for pair in self.entries if pair[0] != key]
        return TraceState((entry, *_truncated(entry, rest)))

    def without_entry(self, key: str) -> TraceState:
        """A copy without ``key`` (the same value if it is absent)."""
        if key not in self._values:
            return self
        return TraceState(tuple(pair for pair in self.entries if pair[0] != key))

    def format(self) -> str:
        """The header value: ``key=value`` entries joined by commas, without spaces."""
        return ",".join(f"{key}={value}" for key, value in self.entries)


__all__ = [
    "MAX_HEADER_TEXT",
    "RANDOM_TRACE_ID_FLAG",
    "SAMPLED_FLAG",
    "TRACEPARENT_HEADER",
    "TRACESTATE_HEADER",
    "HeaderLines",
    "TraceParent",
    "TraceState",
]
