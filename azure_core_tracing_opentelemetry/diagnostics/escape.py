"""One event, one line: the escaping every diagnostics layer applies to the text it writes.

A record's text (a message, a traceback, a span, event or logger name, a field value) may hold
anything. Written raw, a line feed or a Unicode line separator would start what looks like a
record of its own, and an ESC or a backspace would work on the terminal that shows it. So
``one_line`` writes each of these as a Python escape: the backslash itself as ``\\\\``, tab,
CR and LF as ``\\t``, ``\\r``, ``\\n``, the other C0 and C1 controls and DEL as ``\\xNN``,
U+2028, U+2029 and lone surrogates (which no UTF-8 reader accepts) as ``\\uNNNN``. Nothing else
changes, and ``text.encode("latin-1", "backslashreplace").decode("unicode_escape")`` (or the
shell's ``printf '%b'``) gives the original back. ``one_field`` escapes every kind of space too,
for text that sits between spaces on a line.
"""

from __future__ import annotations

import re

_UNSAFE = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"  # Cc, Zl, Zp and Cs: what one_line escapes
_CONTROL = re.compile(f"[{_UNSAFE}]")
_ESCAPED = re.compile(f"[\\\\{_UNSAFE}]")
_NAMED = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_SPACE = re.compile(r"\s")  # what str.split() splits on: the space, NBSP, U+3000…


def one_line(text: str) -> str:
    """``text`` with backslashes, controls, line separators and lone surrogates escaped."""
    # Most text has none of them: isprintable() is one pass in C and false for all of them.
    if text.isprintable() and "\\" not in text:
        return text
    return _ESCAPED.sub(_escape, text)


def one_field(text: str) -> str:
    """``one_line(text)`` with every whitespace character escaped as well (a space as ``\\x20``).

    For a field between spaces, so that no reader, splitting on spaces or on any Unicode
    whitespace as ``str.split()`` does, sees it end early or the next field start.
    """
    # isprintable() is false for every whitespace character but the space itself.
    if text.isprintable() and "\\" not in text and " " not in text:
        return text
    return _SPACE.sub(_escape, one_line(text))


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character ``one_line`` escapes, other than the backslash."""
    return _CONTROL.search(text) is not None


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
