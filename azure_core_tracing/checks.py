"""Argument checks shared by every layer; each raises ``TypeError`` or ``ValueError`` naming
the argument, and never repeats a value that could be secret (a URL, a header value)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Optional

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Latin-1 without control characters (HTAB allowed), and no leading white space: what
# requests and http.client accept without rewriting or rejecting the header.
_BAD_HEADER_VALUE = re.compile(r"[^\t\x20-\x7e\x80-\xff]|^[ \t]")


def type_name(value: object) -> str:
    """The name of ``value``'s type, for error messages that must not repeat the value."""
    return type(value).__name__


def check_name(value: object, argument: str) -> str:
    """Return ``value`` if it is a non-empty str that can be written as UTF-8."""
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a non-empty str, got {type_name(value)}")
    if not value:
        raise ValueError(f"{argument} must be a non-empty str, got ''")
    if not is_unicode(value):
        raise ValueError(
            f"{argument} must be text that can be written as UTF-8 (no lone surrogate)"
        )
    return value


def check_optional_str(value: object, argument: str) -> Optional[str]:
    """Return ``value`` if it is None or a str; else ``TypeError`` naming it."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{argument} must be a str or None, got {type_name(value)}")
    return value


def is_unicode(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (no lone surrogate, as ``os.fsdecode`` makes)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_bool(value: object, argument: str) -> bool:
    """Return ``value`` if it is a bool; else a ``TypeError`` naming it."""
    if not isinstance(value, bool):
        raise TypeError(f"{argument} must be a bool, got {type_name(value)}")
    return value


def check_seconds(value: object, argument: str, *, allow_zero: bool = True) -> float:
    """Return ``value`` as float seconds: a finite real number, at least (or above) zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{argument} must be a number of seconds, got {type_name(value)}")
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float
        seconds = math.inf
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise ValueError(f"{argument} must be a finite number of seconds, {bound}, got {value!r}")
    return seconds


def check_count(value: object, argument: str) -> int:
    """Return ``value`` if it is an int (not a bool) of 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{argument} must be an int, got {type_name(value)}")
    if value < 0:
        raise ValueError(f"{argument} must be 0 or more, got {value}")
    return value


def check_names(values: object, argument: str) -> frozenset[str]:
    """Return a set of names (str) as a frozenset; a lone str or a non-str item is an error."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{argument} must be a collection of str, got {type_name(values)}")
    names = frozenset(values)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must hold only str, got {type_name(name)}")
    return names


def check_status_codes(values: object, argument: str) -> frozenset[int]:
    """Return HTTP status codes (ints from 100 to 599) as a frozenset."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{argument} must be a collection of int, got {type_name(values)}")
    codes = frozenset(values)
    for code in codes:
        if isinstance(code, bool) or not isinstance(code, int):
            raise TypeError(f"{argument} must hold only int, got {type_name(code)}")
        if not 100 <= code <= 599:
            raise ValueError(f"{argument} must hold HTTP status codes (100 to 599), got {code}")
    return codes


def is_token(text: str) -> bool:
    """Whether ``text`` is an RFC 9110 token (an HTTP method or header name)."""
    return _TOKEN.fullmatch(text) is not None


def check_header(name: object, value: object) -> None:
    """Raise unless ``name: value`` can be sent as it is: str token name, clean Latin-1 value.

    The message names the header, never its value (which may be a secret)."""
    if not isinstance(name, str):
        raise TypeError(f"header names must be str, got {type_name(name)}")
    if not is_token(name):
        raise ValueError(f"header name {name!r} is not an HTTP token")
    if not isinstance(value, str):
        raise TypeError(f"header {name!r}: the value must be a str, got {type_name(value)}")
    if _BAD_HEADER_VALUE.search(value) is not None:
        raise ValueError(
            f"header {name!r}: the value must be Latin-1 text without control characters "
            "(CR, LF, NUL, ...) or leading white space"
        )
